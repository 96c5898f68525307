"""The ``baseline`` command: statistics.json + constraints.json from a training CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .accumulators import FeatureAccumulator
from .constraints import Constraints, MonitoringConfig, suggest_constraints
from .payload import Record
from .profile import DatasetProfile, Profiler, statistics_document
from .schema import CONSTRAINTS_FILE, STATISTICS_FILE


@dataclass(frozen=True)
class BaselineResult:
    """What the baseline command produced."""

    profile: DatasetProfile
    statistics: dict[str, object]
    constraints: Constraints


def _rows(path: Path, header: bool, delimiter: str) -> tuple[list[str], Iterator[Record]]:
    handle = path.open(newline="", encoding="utf-8")
    reader = csv.reader(handle, delimiter=delimiter)
    first = next(reader, None)
    if first is None:
        handle.close()
        raise ValueError(f"{path} is empty")
    names = [name.strip() for name in first] if header else [f"_c{i}" for i in range(len(first))]

    def rows() -> Iterator[Record]:
        with handle:
            if not header:
                yield list(first)
            for row in reader:
                if row:
                    yield list(row)

    return names, rows()


def build_baseline(
    train: Path,
    *,
    header: bool = True,
    delimiter: str = ",",
    config: MonitoringConfig | None = None,
) -> BaselineResult:
    """Profile a CSV in one streaming pass and suggest constraints."""
    names, rows = _rows(train, header, delimiter)
    if len(set(names)) != len(names):
        raise ValueError(f"{train}: duplicate column names in header")
    profile = Profiler([FeatureAccumulator(name) for name in names]).add_all(rows)
    return BaselineResult(
        profile=profile,
        statistics=statistics_document(profile),
        constraints=suggest_constraints(profile, config),
    )


def write_baseline(result: BaselineResult, out: Path) -> tuple[Path, Path]:
    """Write statistics.json and constraints.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    statistics = out / STATISTICS_FILE
    constraints = out / CONSTRAINTS_FILE
    statistics.write_text(json.dumps(result.statistics, indent=2) + "\n", encoding="utf-8")
    constraints.write_text(
        json.dumps(result.constraints.to_json(), indent=2) + "\n", encoding="utf-8"
    )
    return statistics, constraints
