"""Accept balancing: every worker's open-connection count in shared memory.

Keep-alive connections live long, so whichever worker accepts a connection serves it for its
whole life. With a shared listening socket, a burst of new connections can all land on one
worker. Each worker publishes its count here; a worker holding more connections than the least
loaded one briefly defers accepting, so the others pick the next connection up.
"""

from __future__ import annotations

import mmap

_WORD = 8


def shared_counts(workers: int) -> mmap.mmap:
    """Anonymous shared memory (inherited across fork) with one zeroed counter per worker."""
    return mmap.mmap(-1, _WORD * workers)


class LoadBoard:
    """One worker's view of the shared counters; ``slot`` is the counter it owns."""

    def __init__(self, buffer: mmap.mmap, slot: int) -> None:
        self._counts = memoryview(buffer).cast("q")
        self.slot = slot

    def publish(self, connections: int) -> None:
        """Record this worker's current number of open connections."""
        self._counts[self.slot] = connections

    def should_defer(self, connections: int) -> bool:
        """True if another worker currently holds fewer connections than this one."""
        return connections > min(self._counts)

    def counts(self) -> list[int]:
        """All workers' counts (for tests and diagnostics)."""
        return list(self._counts)


def reset_slot(buffer: mmap.mmap, slot: int) -> None:
    """Zero a dead worker's counter before its replacement starts."""
    memoryview(buffer).cast("q")[slot] = 0
