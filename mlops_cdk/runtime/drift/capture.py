"""Stream records from SageMaker data-capture JSON Lines files inside a time window.

Layout: ``<root>/[<endpoint>/<variant>/]yyyy/mm/dd/hh/<file>.jsonl``. Files whose hour
folder lies outside the window are skipped without being opened; inside a file each
event is filtered on ``eventMetadata.inferenceTime``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TextIO

from ..limits import DEFAULT_LIMITS, ParseLimits, loads  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .payload import PayloadError, Record, decode_payload
from .window import Window, parse_time

_HOUR_PATH = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$")


class FileSource(Protocol):
    """Lists and opens capture files (local disk in a Processing job; fakes in tests)."""

    def list_files(self) -> Iterable[str]:
        """Relative paths of all capture files, any order."""
        ...

    def open_text(self, path: str) -> TextIO:
        """Open one listed file for reading."""
        ...


class LocalFileSource:
    """Capture files under a local directory (a Processing job's input path)."""

    def __init__(self, root: str | Path, suffixes: tuple[str, ...] = (".jsonl",)) -> None:
        self.root = Path(root)
        self.suffixes = suffixes

    def list_files(self) -> Iterable[str]:
        """Relative POSIX paths of files with a capture suffix."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"capture directory {self.root} does not exist")
        for path in self.root.rglob("*"):
            if path.is_file() and path.name.endswith(self.suffixes):
                yield path.relative_to(self.root).as_posix()

    def open_text(self, path: str) -> TextIO:
        """Open a file relative to the root."""
        return (self.root / path).open(encoding="utf-8")


def hour_of_path(path: str) -> datetime | None:
    """The capture hour encoded in ``.../yyyy/mm/dd/hh/<file>``, if any."""
    match = _HOUR_PATH.search(path)
    if match is None:
        return None
    year, month, day, hour = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


@dataclass
class ReadStats:
    """Counters of one read, for logs and the job-level metric."""

    files_listed: int = 0
    files_read: int = 0
    events_read: int = 0
    events_in_window: int = 0
    events_skipped: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def skipped_share(self) -> float:
        """Skipped events over the events that counted (in the window, or malformed)."""
        considered = self.events_in_window + self.events_skipped
        return self.events_skipped / considered if considered else 0.0

    def error(self, message: str, limit: int = 20) -> None:
        """Remember the first few malformed-input messages."""
        self.events_skipped += 1
        if len(self.errors) < limit:
            self.errors.append(message)


def select_files(source: FileSource, window: Window, stats: ReadStats) -> list[str]:
    """Files whose hour folder overlaps the window (or that have no hour folder), sorted."""
    selected = []
    for path in source.list_files():
        stats.files_listed += 1
        hour = hour_of_path(path)
        if hour is None or window.overlaps(hour, hour + timedelta(hours=1)):
            selected.append(path)
    return sorted(selected)


def iter_records(
    source: FileSource,
    window: Window,
    stats: ReadStats | None = None,
    capture_index: str = "endpointInput",
    limits: ParseLimits = DEFAULT_LIMITS,
) -> Iterator[Record]:
    """Yield each feature record captured inside ``window``, one file at a time.

    A malformed event (bad JSON, wrong shape, over ``limits``) is skipped and counted in
    ``stats``; it never ends the read.
    """
    stats = stats if stats is not None else ReadStats()
    for path in select_files(source, window, stats):
        stats.files_read += 1
        with source.open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                stats.events_read += 1
                try:
                    records = _event_records(line, window, capture_index, limits)
                    if records is None:
                        continue
                    stats.events_in_window += 1
                    for record in records:
                        stats.records += 1
                        yield record
                except (PayloadError, ValueError, KeyError, TypeError) as exc:
                    stats.error(f"{path}:{number}: {exc}")


def _member(node: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    """``node[key]`` as an object (missing or ``null`` → empty); anything else is malformed."""
    value = node.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where}{key} is {type(value).__name__}, expected an object")
    return value


def _event_records(
    line: str, window: Window, capture_index: str, limits: ParseLimits
) -> list[Record] | None:
    event = loads(line, limits)
    if not isinstance(event, Mapping):
        raise PayloadError(f"event is a JSON {type(event).__name__}, expected an object")
    moment = _member(event, "eventMetadata", "").get("inferenceTime")
    if moment is not None and not window.contains(parse_time(str(moment))):
        return None
    capture = _member(event, "captureData", "")
    if capture_index not in capture:
        raise PayloadError(f"captureData has no {capture_index}")
    return list(decode_payload(_member(capture, capture_index, "captureData."), limits))
