"""Stream records from SageMaker data-capture JSON Lines files inside a time window.

Layout: ``<root>/[<endpoint>/<variant>/]yyyy/mm/dd/hh/<file>.jsonl``. Files whose hour
folder lies outside the window are skipped without being opened; inside a file each
event is filtered on ``eventMetadata.inferenceTime``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO, TypeVar

from ..limits import DEFAULT_LIMITS, ParseLimits, loads  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .payload import PayloadError, Record, decode_payload
from .shard import ALL, Shard
from .window import Window, parse_time

T = TypeVar("T")

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

    def merge(self, other: ReadStats, limit: int = 20) -> None:
        """Add another host's counters (the first ``limit`` error messages are kept)."""
        self.files_listed += other.files_listed
        self.files_read += other.files_read
        self.events_read += other.events_read
        self.events_in_window += other.events_in_window
        self.events_skipped += other.events_skipped
        self.records += other.records
        self.errors.extend(other.errors[: max(0, limit - len(self.errors))])

    def to_json(self) -> dict[str, object]:
        """The counters as a JSON object."""
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ReadStats:
        """Read :meth:`to_json`."""
        return cls(**{k: v for k, v in document.items() if k in cls.__dataclass_fields__})

    def error(self, message: str, limit: int = 20) -> None:
        """Remember the first few malformed-input messages."""
        self.events_skipped += 1
        if len(self.errors) < limit:
            self.errors.append(message)


def select_files(
    source: FileSource, window: Window, stats: ReadStats, shard: Shard = ALL
) -> list[str]:
    """This host's files whose hour folder overlaps the window (or that have no hour folder),
    sorted; ``files_listed`` counts this host's share only, so hosts' counts add up."""
    selected = []
    for path in source.list_files():
        if not shard.owns(path):
            continue
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
    shard: Shard = ALL,
) -> Iterator[Record]:
    """Yield each feature record captured inside ``window`` in this host's share of the files,
    one file at a time.

    A malformed event (bad JSON, wrong shape, over ``limits``) is skipped and counted in
    ``stats``; it never ends the read.
    """

    def records(event: Mapping[str, object]) -> list[Record]:
        capture = member(event, "captureData", "")
        if capture_index not in capture:
            raise PayloadError(f"captureData has no {capture_index}")
        return list(decode_payload(member(capture, capture_index, "captureData."), limits))

    return iter_events(source, window, records, stats, limits, shard)


def iter_events(
    source: FileSource,
    window: Window,
    extract: Callable[[Mapping[str, object]], list[T]],
    stats: ReadStats | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
    shard: Shard = ALL,
) -> Iterator[T]:
    """Yield what ``extract`` makes of each event captured inside ``window`` (events without
    ``eventMetadata.inferenceTime`` count as inside) in this host's share of the files.

    An event that is not a JSON object, or that ``extract`` rejects (``PayloadError``,
    ``ValueError``, ``KeyError``, ``TypeError``), is skipped and counted in ``stats``.
    """
    stats = stats if stats is not None else ReadStats()
    for path in select_files(source, window, stats, shard):
        stats.files_read += 1
        with source.open_text(path) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                stats.events_read += 1
                try:
                    event = loads(line, limits)
                    if not isinstance(event, Mapping):
                        raise PayloadError(
                            f"event is a JSON {type(event).__name__}, expected an object"
                        )
                    moment = member(event, "eventMetadata", "").get("inferenceTime")
                    if moment is not None and not window.contains(parse_time(str(moment))):
                        continue
                    items = extract(event)
                    stats.events_in_window += 1
                    for item in items:
                        stats.records += 1
                        yield item
                except (PayloadError, ValueError, KeyError, TypeError) as exc:
                    stats.error(f"{path}:{number}: {exc}")


def member(node: Mapping[str, object], key: str, where: str) -> Mapping[str, object]:
    """``node[key]`` as an object (missing or ``null`` → empty); anything else is malformed."""
    value = node.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where}{key} is {type(value).__name__}, expected an object")
    return value
