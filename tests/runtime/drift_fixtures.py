"""Helpers for the drift-job tests: capture files, training CSVs, a fake CloudWatch client."""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from mlops_cdk.runtime.drift.baseline import build_baseline, write_baseline

HOUR = datetime(2026, 11, 21, 5, tzinfo=UTC)
NOW = HOUR + timedelta(hours=1, minutes=7)  # previous-hour window == [HOUR, HOUR + 1h)
FEATURES = ("age", "income", "color")
COLORS = ("red", "green", "blue")


def capture_line(
    data: str,
    moment: datetime,
    *,
    encoding: str = "CSV",
    content_type: str = "text/csv",
    event_id: str = "e",
) -> str:
    """One JSON line as SageMaker data capture writes it."""
    if encoding == "BASE64":
        data = base64.b64encode(data.encode()).decode()
    event = {
        "captureData": {
            "endpointInput": {
                "observedContentType": content_type,
                "mode": "INPUT",
                "data": data,
                "encoding": encoding,
            },
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": "0.5",
                "encoding": "CSV",
            },
        },
        "eventMetadata": {"eventId": event_id, "inferenceTime": moment.isoformat()},
        "eventVersion": "0",
    }
    return json.dumps(event)


def hour_dir(root: Path, hour: datetime, endpoint: str = "ep", variant: str = "AllTraffic") -> Path:
    """``<root>/<endpoint>/<variant>/yyyy/mm/dd/hh`` (created)."""
    path = root / endpoint / variant / hour.strftime("%Y/%m/%d/%H")
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_capture(
    root: Path, rows: Sequence[Sequence[object]], hour: datetime = HOUR, files: int = 2
) -> None:
    """Write CSV-encoded capture events (one record each) spread over ``files`` files."""
    folder = hour_dir(root, hour)
    per_file = max(1, -(-len(rows) // files))
    for index in range(0, len(rows), per_file):
        lines = []
        for offset, row in enumerate(rows[index : index + per_file]):
            moment = hour + timedelta(seconds=(index + offset) % 3600)
            data = ",".join("" if v is None else str(v) for v in row)
            lines.append(capture_line(data, moment, event_id=str(index + offset)))
        (folder / f"part-{index:06d}.jsonl").write_text("\n".join(lines) + "\n")


def training_rows(n: int, seed: int = 7) -> list[list[object]]:
    """age (Integral, >= 18), income (Fractional, ~N(50, 10)), color (3 categories)."""
    rng = np.random.default_rng(seed)
    ages = rng.integers(18, 80, n)
    incomes = rng.normal(50.0, 10.0, n)
    colors = rng.choice(COLORS, n, p=[0.5, 0.3, 0.2])
    return [
        [int(a), round(float(i), 4), str(c)] for a, i, c in zip(ages, incomes, colors, strict=True)
    ]


def write_csv(path: Path, header: Sequence[str] | None, rows: Iterable[Sequence[object]]) -> Path:
    """A CSV file with an optional header; ``None`` cells become empty fields."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        if header is not None:
            writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
    return path


def make_baseline(tmp: Path, rows: Sequence[Sequence[object]]) -> tuple[Path, Path]:
    """statistics.json and constraints.json built by our baseline command from ``rows``."""
    train = write_csv(tmp / "train.csv", FEATURES, rows)
    return write_baseline(build_baseline(train), tmp / "baseline")


def exact_ks(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float:
    """Two-sample KS distance computed by sorting (independent of the sketch)."""
    x, y = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    points = np.concatenate((x, y))
    fx = np.searchsorted(x, points, side="right") / x.size
    fy = np.searchsorted(y, points, side="right") / y.size
    return float(np.max(np.abs(fx - fy)))


@dataclass
class FakeCloudWatch:
    """Records every PutMetricData call."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def put_metric_data(self, *, Namespace: str, MetricData: list[dict[str, Any]]) -> object:  # noqa: N803
        self.calls.append({"Namespace": Namespace, "MetricData": list(MetricData)})
        return {}
