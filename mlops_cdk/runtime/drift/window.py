"""The time window a run analyzes: ``[start, end)`` in UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

WINDOW_CHOICES = ("previous-hour", "previous-day", "all")


@dataclass(frozen=True)
class Window:
    """Half-open interval ``[start, end)``; ``None`` means unbounded on that side."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        """True when ``moment`` lies inside the window."""
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when ``[start, end)`` intersects the window."""
        if self.end is not None and start >= self.end:
            return False
        return self.start is None or end > self.start


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time (``Z`` allowed, spaces tolerated); naive times are UTC."""
    moment = datetime.fromisoformat(text.strip().replace(" ", ""))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def named_window(name: str, now: datetime) -> Window:
    """Resolve ``previous-hour`` / ``previous-day`` / ``all`` relative to ``now``."""
    if name == "all":
        return Window(None, None)
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if name == "previous-hour":
        return Window(hour - timedelta(hours=1), hour)
    if name == "previous-day":
        day = hour.replace(hour=0)
        return Window(day - timedelta(days=1), day)
    raise ValueError(f"window must be one of {', '.join(WINDOW_CHOICES)} (got {name!r})")
