"""The model server's supervisor: bind once, pre-fork workers, fetch the model, supervise.

``serve`` (SageMaker's container entrypoint) runs :func:`main`. The supervisor binds the
listening socket, forks ``MLOPS_WORKERS`` workers that share it, downloads/verifies the model
while the workers already answer ``/ping`` with 503, then lets them load it. SIGTERM/SIGINT →
workers drain in-flight requests and the process exits 0. In multi-model mode there is no model
to fetch: the supervisor creates the shared model registry before forking (see
:mod:`.multi_model`) and the workers serve at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Sequence

from .balance import LoadBoard, reset_slot, shared_counts
from .errors import ModelLoadError
from .jsonlog import configure_logging
from .model_source import prepare_model
from .multi_model import ModelRegistry, MultiModelHandler, default_cache_bytes
from .s3 import S3ClientFactory, boto3_client
from .settings import Settings
from .worker import EXIT_MODEL_LOAD_FAILED, Worker

log = logging.getLogger("mlops_runtime.server")
_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
_RESPAWN_WINDOW_S = 60.0


class Supervisor:
    """Owns the listening socket and the worker processes."""

    def __init__(
        self, settings: Settings, s3_client_factory: S3ClientFactory = boto3_client
    ) -> None:
        self.settings = settings
        self.s3_client_factory = s3_client_factory
        self.workers: dict[int, int] = {}  # pid -> slot on the load board
        self.counts = shared_counts(settings.workers)
        self.listener: socket.socket | None = None
        self.ready_r = -1
        self.ready_w: int | None = None
        self._old_mask: set[int | signal.Signals] = set()
        self._respawns: list[float] = []
        # Multi-model mode: the loaded-model table every worker shares (created before forking).
        self.registry = ModelRegistry() if settings.multi_model else None

    def run(self) -> int:
        """Serve until told to stop; returns the process exit code."""
        settings = self.settings
        try:
            listener = socket.create_server((settings.host, settings.port), backlog=2048)
        except OSError as exc:
            log.error("cannot listen", extra={"port": settings.port, "error": str(exc)})
            return 1
        listener.setblocking(False)
        self.listener = listener
        log.info(
            "listening",
            extra={
                "host": settings.host,
                "port": listener.getsockname()[1],
                "workers": settings.workers,
                "max_body_bytes": settings.max_body_bytes,
            },
        )
        self.ready_r, self.ready_w = os.pipe()
        signal.signal(signal.SIGCHLD, _noop)  # deliverable to sigtimedwait while blocked
        self._old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        for slot in range(settings.workers):
            self._spawn(slot)
        if settings.multi_model:
            log.info("multi-model mode", extra={"models_root": str(settings.models_root)})
            os.close(self.ready_w)
            self.ready_w = None
            return self._supervise()
        try:
            location = prepare_model(settings, self.s3_client_factory)
        except ModelLoadError as exc:
            log.error("model is not usable", extra={"error": str(exc)})
            return self._shutdown(1)
        except Exception:
            log.exception("model preparation failed")
            return self._shutdown(1)
        log.info("model ready for loading", extra={"path": str(location)})
        os.close(self.ready_w)  # EOF on the pipe = go-ahead for every worker, now and later
        self.ready_w = None
        return self._supervise()

    def _spawn(self, slot: int) -> None:
        assert self.listener is not None  # noqa: S101 - set in run()
        reset_slot(self.counts, slot)
        pid = os.fork()
        if pid:
            self.workers[pid] = slot
            return
        code = 1
        try:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old_mask)
            if self.ready_w is not None:
                os.close(self.ready_w)
            board = LoadBoard(self.counts, slot)
            models = None
            if self.registry is not None:
                cache_bytes = self.settings.model_cache_max_bytes or default_cache_bytes()
                budget = cache_bytes // self.settings.workers
                models = MultiModelHandler(self.settings, self.registry, budget)
            code = Worker(
                self.settings, self.listener, self.ready_r, board=board, models=models
            ).run()
        except BaseException:
            log.exception("worker crashed")
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _supervise(self) -> int:
        while True:
            info = signal.sigtimedwait(_SIGNALS, 1.0)
            if info is not None and info.si_signo in (signal.SIGTERM, signal.SIGINT):
                log.info("shutting down", extra={"signal": signal.Signals(info.si_signo).name})
                return self._shutdown(0)
            for pid, slot, code in self._reap():
                if code == EXIT_MODEL_LOAD_FAILED:
                    log.error(
                        "a worker could not load the model; stopping", extra={"worker_pid": pid}
                    )
                    return self._shutdown(1)
                log.warning("worker exited; restarting it", extra={"worker_pid": pid, "code": code})
                now = time.monotonic()
                self._respawns = [t for t in self._respawns if now - t < _RESPAWN_WINDOW_S]
                self._respawns.append(now)
                if len(self._respawns) > 5 * self.settings.workers:
                    log.error("workers keep crashing; stopping")
                    return self._shutdown(1)
                self._spawn(slot)

    def _reap(self) -> list[tuple[int, int, int]]:
        """(pid, slot, exit code) of every worker that exited."""
        exited: list[tuple[int, int, int]] = []
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            slot = self.workers.pop(pid, -1)
            exited.append((pid, slot, os.waitstatus_to_exitcode(status)))
        return exited

    def _shutdown(self, code: int) -> int:
        """SIGTERM every worker, wait for them to drain, SIGKILL stragglers.

        Our copy of the listening socket closes first: the socket (and the connections queued
        on it) lives on in the workers, and the last worker to close it accepts and serves
        whatever is queued before it does, so no queued connection is reset by our close.
        """
        if self.listener is not None:
            self.listener.close()
        for pid in self.workers:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.graceful_timeout + 5.0
        while self.workers and time.monotonic() < deadline:
            signal.sigtimedwait({signal.SIGCHLD}, 0.2)
            self._reap()
        for pid in self.workers:
            log.warning("worker did not stop in time; killing it", extra={"worker_pid": pid})
            _kill(pid, signal.SIGKILL)
        self._reap()
        if self.registry is not None:
            shutil.rmtree(self.registry.directory, ignore_errors=True)
        log.info("stopped", extra={"exit_code": code})
        return code


def _noop(signum: int, frame: object) -> None:
    """Placeholder handler so SIGCHLD is not discarded."""


def _kill(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``serve``; the only argument accepted is SageMaker's ``serve``."""
    args = list(sys.argv[1:] if argv is None else argv)
    configure_logging("INFO")
    if args not in ([], ["serve"]):
        log.error("usage: serve", extra={"args": args})
        return 2
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        log.error("invalid configuration", extra={"error": str(exc)})
        return 2
    configure_logging(settings.log_level)
    return Supervisor(settings).run()


if __name__ == "__main__":
    sys.exit(main())
