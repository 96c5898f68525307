"""Capture reader: payload encodings, time-window selection, malformed input."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import TextIO

import pytest

from mlops_cdk.runtime.drift.capture import (
    LocalFileSource,
    ReadStats,
    hour_of_path,
    iter_records,
)
from mlops_cdk.runtime.drift.payload import PayloadError, decode_payload
from mlops_cdk.runtime.drift.window import Window, named_window, parse_time

from .drift_fixtures import HOUR, capture_line, hour_dir

ALL = Window(None, None)


def records_of(root: Path, window: Window = ALL) -> list[object]:
    return list(iter_records(LocalFileSource(root), window))


def write_lines(root: Path, hour: datetime, lines: list[str], name: str = "f.jsonl") -> Path:
    path = hour_dir(root, hour) / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_payload_with_several_records(tmp_path: Path) -> None:
    write_lines(tmp_path, HOUR, [capture_line("1,2,a\n3,4,b\n", HOUR)])
    assert records_of(tmp_path) == [["1", "2", "a"], ["3", "4", "b"]]


def test_quoted_csv_fields_keep_their_commas() -> None:
    entry = {"data": '1,"x, y",3', "encoding": "CSV"}
    assert list(decode_payload(entry)) == [["1", "x, y", "3"]]


def test_base64_csv_and_base64_json(tmp_path: Path) -> None:
    lines = [
        capture_line("5,6,c", HOUR, encoding="BASE64"),
        capture_line(
            json.dumps({"instances": [[7, 8.5, "d"]]}),
            HOUR,
            encoding="BASE64",
            content_type="application/json",
        ),
    ]
    write_lines(tmp_path, HOUR, lines)
    assert records_of(tmp_path) == [["5", "6", "c"], [7.0, 8.5, "d"]]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"instances": [[1, 2], [3, 4]]}, [[1.0, 2.0], [3.0, 4.0]]),
        ({"instances": [{"features": [1, None]}]}, [[1.0, None]]),
        ([[1, "x"], [2, "y"]], [[1.0, "x"], [2.0, "y"]]),
        ([1, 2, 3], [[1.0, 2.0, 3.0]]),
        ({"age": 30, "color": "red", "vip": True}, [{"age": 30.0, "color": "red", "vip": "true"}]),
        ([{"age": 1}, {"age": 2}], [{"age": 1.0}, {"age": 2.0}]),
        ({"data": 5, "age": 3}, [{"data": 5.0, "age": 3.0}]),
        ({"inputs": [[1, 2]], "parameters": {}}, [[1.0, 2.0]]),
    ],
    ids=[
        "instances-rows",
        "instances-features",
        "mixed-rows",
        "one-flat-row",
        "one-record",
        "record-list",
        "record-with-data-key",
        "tf-serving-inputs",
    ],
)
def test_json_payload_shapes(document: object, expected: list[object]) -> None:
    entry = {"data": json.dumps(document), "encoding": "JSON"}
    assert list(decode_payload(entry)) == expected


def test_json_lines_payload() -> None:
    entry = {"data": '{"a": 1}\n{"a": 2}\n', "encoding": "JSON"}
    assert list(decode_payload(entry)) == [{"a": 1.0}, {"a": 2.0}]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"data": "%%%", "encoding": "BASE64"}, "BASE64"),
        ({"data": "1", "encoding": "XML"}, "unsupported"),
        ({"encoding": "CSV"}, "no 'data'"),
        ({"data": "{bad\n{worse", "encoding": "JSON"}, "invalid JSON"),
    ],
    ids=[
        "bad-base64",
        "unsupported-encoding",
        "no-data",
        "invalid-json",
    ],
)
def test_bad_payloads_raise(entry: dict[str, object], message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        list(decode_payload(entry))


class CountingSource:
    """In-memory capture files that remember which were opened."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.opened: list[str] = []

    def list_files(self) -> Iterable[str]:
        return list(self.files)

    def open_text(self, path: str) -> TextIO:
        self.opened.append(path)
        return StringIO(self.files[path])


def test_window_skips_hour_folders_without_opening_them() -> None:
    def folder(hour: datetime) -> str:
        return f"ep/AllTraffic/{hour:%Y/%m/%d/%H}/f.jsonl"

    before, inside, after = HOUR - timedelta(hours=1), HOUR, HOUR + timedelta(hours=1)
    source = CountingSource(
        {
            folder(before): capture_line("1", before) + "\n",
            folder(inside): capture_line("2", inside + timedelta(minutes=59)) + "\n",
            folder(after): capture_line("3", after) + "\n",
        }
    )
    stats = ReadStats()
    window = Window(HOUR, HOUR + timedelta(hours=1))
    assert list(iter_records(source, window, stats)) == [["2"]]
    assert source.opened == [folder(inside)]
    assert (stats.files_listed, stats.files_read, stats.records) == (3, 1, 1)


def test_inference_time_filters_events_inside_a_file(tmp_path: Path) -> None:
    # Capture files are named by arrival, so a file can hold events from a neighbouring hour.
    lines = [
        capture_line("early", HOUR - timedelta(seconds=1)),
        capture_line("in", HOUR),
        capture_line("late", HOUR + timedelta(hours=1)),
    ]
    write_lines(tmp_path, HOUR, lines)
    assert records_of(tmp_path, Window(HOUR, HOUR + timedelta(hours=1))) == [["in"]]


def test_files_without_hour_folders_are_filtered_by_event_time(tmp_path: Path) -> None:
    (tmp_path / "loose.jsonl").write_text(
        capture_line("old", HOUR - timedelta(days=1)) + "\n" + capture_line("new", HOUR) + "\n"
    )
    assert records_of(tmp_path, Window(HOUR, None)) == [["new"]]


def test_malformed_events_are_skipped_and_reported(tmp_path: Path) -> None:
    good = capture_line("1,2", HOUR)
    write_lines(tmp_path, HOUR, [good, "not json", '{"captureData": {}}', "", good])
    stats = ReadStats()
    assert list(iter_records(LocalFileSource(tmp_path), ALL, stats)) == [["1", "2"]] * 2
    assert stats.events_skipped == 2
    assert stats.errors[0].endswith("f.jsonl:2: Expecting value: line 1 column 1 (char 0)")


def test_capture_index_selects_output(tmp_path: Path) -> None:
    write_lines(tmp_path, HOUR, [capture_line("1,2", HOUR)])
    got = list(iter_records(LocalFileSource(tmp_path), ALL, capture_index="endpointOutput"))
    assert got == [["0.5"]]


def test_missing_capture_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        records_of(tmp_path / "nope")


def test_hour_of_path() -> None:
    assert hour_of_path("ep/v/2026/11/21/05/x.jsonl") == HOUR
    assert hour_of_path("2026/11/21/05/x.jsonl") == HOUR
    assert hour_of_path("ep/v/2026/13/21/05/x.jsonl") is None
    assert hour_of_path("ep/x.jsonl") is None


def test_named_windows_and_time_parsing() -> None:
    now = datetime(2026, 11, 21, 6, 7, 8, tzinfo=UTC)
    assert named_window("previous-hour", now) == Window(HOUR, HOUR + timedelta(hours=1))
    day = datetime(2026, 11, 21, tzinfo=UTC)
    assert named_window("previous-day", now) == Window(day - timedelta(days=1), day)
    assert named_window("all", now) == ALL
    with pytest.raises(ValueError, match="window must be one of"):
        named_window("weekly", now)
    assert parse_time("2026-11-21T05:00:00Z") == HOUR
    assert parse_time("2026-11-21T05: 00: 00Z") == HOUR  # as printed in AWS's BYOC example
    assert parse_time("2026-11-21T06:00:00+01:00") == HOUR
    assert parse_time("2026-11-21T05:00:00") == HOUR


@pytest.mark.parametrize(
    "line",
    [
        "[1, 2, 3]",
        json.dumps({"captureData": {"endpointInput": "1,2"}, "eventMetadata": {}}),
        json.dumps({"captureData": {"endpointInput": {"data": "1,2"}}, "eventMetadata": "x"}),
        capture_line("[" * 100_000 + "]" * 100_000, HOUR, encoding="JSON"),
        capture_line('"' + "x" * 200_000 + '",2', HOUR),
        capture_line("[" + "1" * 5000 + "]", HOUR, encoding="JSON"),
    ],
    ids=[
        "not-an-object",
        "input-is-a-string",
        "metadata-is-a-string",
        "deep",
        "long-field",
        "long-int",
    ],
)
def test_each_malformed_event_is_skipped_alone(tmp_path: Path, line: str) -> None:  # item 15
    good = capture_line("1,2", HOUR)
    write_lines(tmp_path, HOUR, [good, line, good])
    stats = ReadStats()
    assert list(iter_records(LocalFileSource(tmp_path), ALL, stats)) == [["1", "2"]] * 2
    assert stats.events_skipped == 1
    assert stats.errors[0].split(": ", 1)[0].endswith("f.jsonl:2")
