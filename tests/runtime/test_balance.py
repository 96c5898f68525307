"""The shared connection counters used to balance accepts across workers."""

from __future__ import annotations

import os

from mlops_runtime.balance import LoadBoard, reset_slot, shared_counts


def test_defer_only_when_another_worker_has_fewer() -> None:
    buffer = shared_counts(3)
    boards = [LoadBoard(buffer, slot) for slot in range(3)]
    assert not boards[0].should_defer(0)
    boards[0].publish(2)
    boards[1].publish(2)
    boards[2].publish(1)
    assert boards[0].should_defer(2)
    assert not boards[2].should_defer(1)
    reset_slot(buffer, 0)
    assert boards[1].counts() == [0, 2, 1]


def test_counts_are_shared_across_fork() -> None:
    buffer = shared_counts(2)
    pid = os.fork()
    if pid == 0:  # child: publish and leave without running pytest's teardown
        LoadBoard(buffer, 1).publish(7)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert LoadBoard(buffer, 0).counts() == [0, 7]
