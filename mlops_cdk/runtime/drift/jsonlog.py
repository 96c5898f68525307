"""Structured log lines: one JSON object per line, for CloudWatch Logs Insights."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TextIO


def json_default(value: object) -> object:
    """JSON fallback: ISO-8601 for datetimes, ``str`` for anything else (paths, enums)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


class JsonLogger:
    """Writes ``{"ts", "level", "event", ...fields}`` lines to a stream (stderr by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def log(self, level: str, event: str, **fields: object) -> None:
        """Write one log line."""
        line = {"ts": datetime.now(UTC).isoformat(), "level": level, "event": event, **fields}
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write(json.dumps(line, default=json_default) + "\n")
        stream.flush()

    def info(self, event: str, **fields: object) -> None:
        """Log at INFO."""
        self.log("INFO", event, **fields)

    def warning(self, event: str, **fields: object) -> None:
        """Log at WARNING."""
        self.log("WARNING", event, **fields)

    def error(self, event: str, **fields: object) -> None:
        """Log at ERROR."""
        self.log("ERROR", event, **fields)
