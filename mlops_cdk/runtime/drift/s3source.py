"""Capture files read straight from S3, listing only the hour folders of the window.

A Processing job whose input is a whole capture prefix downloads every file ever captured
before each run. This source instead lists ``<endpoint prefix><variant>/yyyy/mm/dd/hh/`` for
each hour that overlaps the window (variants found with one delimiter listing) and streams
each selected object, so a run reads one window's data whatever the history holds. An
unbounded window (``--window all``) lists the whole prefix.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO, cast
from urllib.parse import urlsplit

from .window import Window

ONE_HOUR = timedelta(hours=1)
# A day of hourly folders per variant is 24 listings; refuse windows that would list for ever.
MAX_HOURS = 24 * 31


class S3ListClient(Protocol):
    """The two boto3 ``s3`` client calls this source makes (keyword arguments only)."""

    def list_objects_v2(self, **kwargs: Any) -> Any:
        """``list_objects_v2(Bucket=, Prefix=, Delimiter=?, ContinuationToken=?)``."""
        ...

    def get_object(self, **kwargs: Any) -> Any:
        """``get_object(Bucket=, Key=)`` -> ``{"Body": stream, ...}``."""
        ...


S3ClientFactory = Callable[[], S3ListClient]


def boto3_s3_client() -> S3ListClient:
    """A boto3 S3 client (boto3 is imported only when capture is read from S3)."""
    import boto3

    return cast(S3ListClient, boto3.client("s3"))


def parse_prefix_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` -> ``("bucket", "some/prefix/")`` (a trailing / added)."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"expected an s3://bucket/prefix/ URI (got {uri!r})")
    prefix = parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return parts.netloc, prefix


def window_hours(window: Window) -> list[datetime] | None:
    """The UTC hours overlapping ``window``; ``None`` when the window is unbounded."""
    if window.start is None or window.end is None:
        return None
    hour = window.start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = []
    while hour < window.end:
        hours.append(hour)
        if len(hours) > MAX_HOURS:
            raise ValueError(
                f"window {window.start.isoformat()} to {window.end.isoformat()} spans more than "
                f"{MAX_HOURS} hours; analyze it in parts"
            )
        hour += ONE_HOUR
    return hours


class S3FileSource:
    """Capture files under ``s3://<bucket>/<prefix><endpoint>/`` inside ``window``.

    Paths returned by :meth:`list_files` are relative to the URI's prefix
    (``<variant>/yyyy/mm/dd/hh/<file>.jsonl``), as :class:`~.capture.LocalFileSource` returns
    them for a downloaded copy.
    """

    def __init__(
        self,
        client: S3ListClient,
        uri: str,
        window: Window,
        suffixes: tuple[str, ...] = (".jsonl",),
    ) -> None:
        self.client = client
        self.bucket, self.prefix = parse_prefix_uri(uri)
        self.window = window
        self.suffixes = suffixes
        self.listed_prefixes: list[str] = []

    def _pages(self, prefix: str, delimiter: str | None = None) -> Iterator[dict[str, Any]]:
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter is not None:
            request["Delimiter"] = delimiter
        while True:
            page = self.client.list_objects_v2(**request)
            yield page
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    def _variants(self) -> list[str]:
        found = []
        for page in self._pages(self.prefix, delimiter="/"):
            found += [entry["Prefix"] for entry in page.get("CommonPrefixes", [])]
        return sorted(found)

    def _keys(self, prefix: str) -> Iterator[str]:
        self.listed_prefixes.append(prefix)
        for page in self._pages(prefix):
            for entry in page.get("Contents", []):
                key = str(entry["Key"])
                if key.endswith(self.suffixes):
                    yield key[len(self.prefix) :]

    def list_files(self) -> Iterable[str]:
        """Keys (relative to the prefix) in the window's hour folders of every variant."""
        hours = window_hours(self.window)
        for variant in self._variants():
            if hours is None:
                yield from self._keys(variant)
                continue
            for hour in hours:
                yield from self._keys(variant + hour.strftime("%Y/%m/%d/%H/"))

    def open_text(self, path: str) -> TextIO:
        """Stream one object as UTF-8 text, line by line."""
        body = self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"]
        return cast(TextIO, codecs.getreader("utf-8")(body))
