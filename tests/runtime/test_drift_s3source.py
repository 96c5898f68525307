"""Capture read straight from S3: only the window's hour folders are listed and opened."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from mlops_cdk.runtime.drift.capture import ReadStats, iter_records
from mlops_cdk.runtime.drift.cli import main
from mlops_cdk.runtime.drift.jsonlog import JsonLogger
from mlops_cdk.runtime.drift.s3source import S3FileSource, parse_prefix_uri, window_hours
from mlops_cdk.runtime.drift.window import Window, named_window

from .drift_fixtures import HOUR, NOW, FakeCloudWatch, capture_line, make_baseline, training_rows

BUCKET = "capture-bucket"
PREFIX = "data-capture/churn-prod/"


class ListingS3:
    """``list_objects_v2`` (with delimiter and pagination) and ``get_object`` over a dict."""

    def __init__(self, objects: dict[str, str], page_size: int = 2) -> None:
        self.objects = objects
        self.page_size = page_size
        self.listed: list[tuple[str, str | None]] = []
        self.opened: list[str] = []

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["Bucket"] == BUCKET
        prefix, delimiter = kwargs["Prefix"], kwargs.get("Delimiter")
        if "ContinuationToken" not in kwargs:
            self.listed.append((prefix, delimiter))
        keys = sorted(k for k in self.objects if k.startswith(prefix))
        if delimiter:
            folders = sorted(
                {prefix + k[len(prefix) :].split(delimiter)[0] + delimiter for k in keys}
            )
            return {"CommonPrefixes": [{"Prefix": f} for f in folders], "IsTruncated": False}
        start = int(kwargs.get("ContinuationToken", "0"))
        page = keys[start : start + self.page_size]
        more = start + self.page_size < len(keys)
        answer: dict[str, Any] = {"Contents": [{"Key": k} for k in page], "IsTruncated": more}
        if more:
            answer["NextContinuationToken"] = str(start + self.page_size)
        return answer

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        self.opened.append(kwargs["Key"])
        return {"Body": io.BytesIO(self.objects[kwargs["Key"]].encode())}


def key(variant: str, hour_offset: int, name: str) -> str:
    hour = HOUR + timedelta(hours=hour_offset)
    return f"{PREFIX}{variant}/{hour:%Y/%m/%d/%H}/{name}.jsonl"


def events(hour_offset: int, count: int) -> str:
    moment = HOUR + timedelta(hours=hour_offset, minutes=5)
    return "\n".join(capture_line(f"{30 + i},{1000 + i},red", moment) for i in range(count)) + "\n"


@pytest.fixture
def s3() -> ListingS3:
    return ListingS3(
        {
            key("AllTraffic", -30, "old"): events(-30, 5),
            key("AllTraffic", -1, "before"): events(-1, 2),
            key("AllTraffic", 0, "a"): events(0, 3),
            key("AllTraffic", 0, "b"): events(0, 1),
            key("AllTraffic", 0, "c"): events(0, 1),
            key("Challenger", 0, "a"): events(0, 2),
            key("AllTraffic", 1, "after"): events(1, 4),
            f"{PREFIX}AllTraffic/{HOUR:%Y/%m/%d/%H}/notes.txt": "not capture",
        }
    )


def test_lists_only_the_window_hours_of_every_variant(s3: ListingS3) -> None:
    window = named_window("previous-hour", NOW)
    source = S3FileSource(s3, f"s3://{BUCKET}/{PREFIX}", window)
    stats = ReadStats()
    records = list(iter_records(source, window, stats))
    assert len(records) == 3 + 1 + 1 + 2
    hour = f"{HOUR:%Y/%m/%d/%H}/"
    assert s3.listed == [
        (PREFIX, "/"),
        (f"{PREFIX}AllTraffic/{hour}", None),
        (f"{PREFIX}Challenger/{hour}", None),
    ]
    # Nothing outside the window was opened, and the .txt file was not even returned.
    assert sorted(s3.opened) == sorted(
        [key("AllTraffic", 0, n) for n in "abc"] + [key("Challenger", 0, "a")]
    )


def test_unbounded_window_lists_the_whole_prefix(s3: ListingS3) -> None:
    window = Window(None, None)
    records = list(iter_records(S3FileSource(s3, f"s3://{BUCKET}/{PREFIX}", window), window))
    assert len(records) == 5 + 2 + 3 + 1 + 1 + 2 + 4


def test_window_hours_and_uri_parsing() -> None:
    window = Window(HOUR + timedelta(minutes=30), HOUR + timedelta(hours=2))
    assert window_hours(window) == [HOUR, HOUR + timedelta(hours=1)]
    assert window_hours(Window(HOUR, None)) is None
    assert parse_prefix_uri("s3://b/p/q") == ("b", "p/q/")
    assert parse_prefix_uri("s3://b") == ("b", "")
    with pytest.raises(ValueError, match="s3://bucket/prefix/"):
        parse_prefix_uri("/local/path")
    with pytest.raises(ValueError, match="more than"):
        window_hours(Window(HOUR, HOUR + timedelta(days=40)))


def test_cli_reads_s3_capture_with_drift_now_and_baseline_folders(
    s3: ListingS3, tmp_path: Path
) -> None:
    (tmp_path / "base").mkdir()
    statistics, constraints = make_baseline(tmp_path / "base", training_rows(2000, seed=3))
    # Processing inputs download each baseline object into its own folder under its key name.
    for path, folder in ((statistics, "statistics"), (constraints, "constraints")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "0123abcd.json").write_text(path.read_text())
    out = tmp_path / "out"
    cloudwatch = FakeCloudWatch()
    log = io.StringIO()
    code = main(
        ["analyze", "--out", str(out)],
        env={
            "dataset_source": f"s3://{BUCKET}/{PREFIX}",
            "baseline_statistics": str(tmp_path / "statistics"),
            "baseline_constraints": str(tmp_path / "constraints"),
            "sagemaker_endpoint_name": "churn-prod",
            "sagemaker_monitoring_schedule_name": "churn-drift",
            "DRIFT_NOW": (HOUR + timedelta(hours=1, minutes=20)).isoformat(),
        },
        logger=JsonLogger(log),
        client_factory=lambda: cloudwatch,
        s3_factory=lambda: s3,
    )
    assert code == 0, log.getvalue()
    report = json.loads((out / "drift_report.json").read_text())
    assert report["records_analyzed"] == 7
    assert report["files_read"] == 4
    # DRIFT_NOW (the scheduled time) anchors the window, not the clock.
    assert report["window_start"] == f"{HOUR:%Y-%m-%dT%H}:00:00Z"
    sent = {d["MetricName"]: d["Value"] for call in cloudwatch.calls for d in call["MetricData"]}
    assert sent["drift_job_records_analyzed"] == 7


def test_cli_rejects_an_ambiguous_baseline_folder(tmp_path: Path, s3: ListingS3) -> None:
    (tmp_path / "stats").mkdir()
    for name in ("a.json", "b.json"):
        (tmp_path / "stats" / name).write_text("{}")
    log = io.StringIO()
    code = main(
        ["analyze", "--capture", f"s3://{BUCKET}/{PREFIX}", "--now", NOW.isoformat()],
        env={
            "baseline_statistics": str(tmp_path / "stats"),
            "baseline_constraints": str(tmp_path / "stats"),
            "sagemaker_endpoint_name": "e",
            "sagemaker_monitoring_schedule_name": "s",
            "output_path": str(tmp_path / "out"),
        },
        logger=JsonLogger(log),
        client_factory=FakeCloudWatch,
        s3_factory=lambda: s3,
    )
    assert code == 1
    assert "exactly one .json file (found 2)" in log.getvalue()
