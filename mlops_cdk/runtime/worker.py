"""One worker process: an asyncio HTTP/1.1 keep-alive server on the inherited listening socket.

The model loads in a background thread (``/ping`` answers 503 until it is ready); requests are
handled inline on the event loop with no I/O besides the socket: no per-request logging or
timers (one 1 s tick per worker), a cached ``Date`` header and request ids from a counter.
In multi-model mode (``MLOPS_MULTI_MODEL``) there is no single model: ``/ping`` answers 200 at
once and the ``/models`` routes of :mod:`.multi_model` serve the models SageMaker loads.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import math
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable

from .balance import LoadBoard
from .codecs import JSON
from .errors import (
    HeadersTooLargeError,
    InferenceError,
    MethodNotAllowedError,
    ModelNotReadyError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    error_body,
)
from .http11 import CONTINUE, DateCache, RequestHead, build_response, parse_head
from .inference import invoke
from .multi_model import MultiModelHandler
from .predictor import Predictor, load_predictor
from .settings import Settings

EXIT_MODEL_LOAD_FAILED = 78  # EX_CONFIG: the supervisor stops instead of respawning
MAX_HEAD_BYTES = 64 * 1024
LINGER_SECONDS = 5.0
ACCEPT_DEFER_SECONDS = 0.001
MAX_ACCEPT_DEFERRALS = 5  # then accept anyway: never stall a new connection for long
#: Out of descriptors (or kernel memory): stop accepting for a while instead of spinning.
_ACCEPT_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPT_BACKOFF_SECONDS = (0.05, 1.0)  # first pause, longest pause (doubling in between)
ACCEPT_LOG_INTERVAL = 10.0  # at most one "accept failed" line per interval
#: On SIGTERM, idle connections get this long to send one more request (served with
#: Connection: close) before they are closed; a busy keep-alive client's next request is never
#: cut off in flight, and connections accepted from the backlog are read before being judged.
DRAIN_IDLE_GRACE = 1.0
log = logging.getLogger("mlops_runtime.worker")

# Phases of a connection; each has its own deadline (see Connection.deadline). LINGER: an error
# was sent and what still arrives is discarded until the linger timer closes the connection.
IDLE, HEAD, BODY, WRITE, LINGER = "idle", "head", "body", "write", "linger"


class Connection(asyncio.Protocol):
    """One client connection: frames requests (Content-Length bodies, pipelining) and replies."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.head: RequestHead | None = None
        self.phase = HEAD
        self.deadline = 0.0  # loop time by which the current phase must end
        self.requests = 0
        self.closed = False
        self.discarding = False

    @property
    def idle(self) -> bool:
        """No request is partly received (safe to close on shutdown or on a timeout)."""
        return self.head is None and not self.buf and self.phase in (IDLE, HEAD)

    def _enter(self, phase: str, timeout: float) -> None:
        self.phase = phase
        self.deadline = self.worker.loop.time() + timeout

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register with the worker."""
        assert isinstance(transport, asyncio.Transport)  # noqa: S101 - asyncio guarantees it
        self.transport = transport
        # Like nginx: the first request must start arriving within the header timeout.
        self._enter(HEAD, self.worker.idle_timeout(self.worker.settings.header_timeout))
        self.worker.connections.add(self)
        self.worker.publish_load()

    def connection_lost(self, exc: Exception | None) -> None:
        """Unregister; may complete a graceful shutdown."""
        self.closed = True
        self.worker.connections.discard(self)
        self.worker.publish_load()
        self.worker.maybe_done()

    def pause_writing(self) -> None:
        """Client is not reading its responses: stop reading its requests (body timeout)."""
        if self.transport is not None:
            self.transport.pause_reading()
            self._enter(WRITE, self.worker.settings.body_timeout)

    def resume_writing(self) -> None:
        """Client caught up."""
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()
            self.phase = IDLE
            self._settle()

    def timed_out(self) -> None:
        """The current phase passed its deadline: 408 for a partial request, else close."""
        if self.phase == WRITE and self.transport is not None:
            self.closed = True
            self.transport.abort()  # the client stopped reading: nothing more can be sent
        elif self.phase in (HEAD, BODY) and not self.idle:
            self._fail(RequestTimeoutError(f"request {self.phase} not received in time"))
        else:
            self.close()  # nothing was sent (or all was answered): close without a reply

    def _settle(self) -> None:
        """Enter the phase the buffer is in after handling data (deadlines start here)."""
        if self.phase == WRITE:
            return  # stays until the client reads (resume_writing)
        if self.head is not None:
            if self.phase != BODY:
                self._enter(BODY, self.worker.settings.body_timeout)
        elif self.buf or not self.requests:
            if self.phase != HEAD:
                self._enter(HEAD, self.worker.settings.header_timeout)
        else:
            self._enter(IDLE, self.worker.idle_timeout(self.worker.settings.keepalive_timeout))

    def close(self) -> None:
        """Close after flushing anything already written."""
        if not self.closed and self.transport is not None:
            self.closed = True
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        """Buffer and handle every complete request in the buffer."""
        if self.closed or self.discarding:
            return
        self.buf += data
        buf = self.buf
        limit = self.worker.settings.max_body_bytes
        while not (self.closed or self.discarding):
            head = self.head
            if head is None:
                while buf.startswith(b"\r\n"):  # tolerate blank lines between requests
                    del buf[:2]
                end = buf.find(b"\r\n\r\n")
                if end > MAX_HEAD_BYTES or (end < 0 and len(buf) > MAX_HEAD_BYTES):
                    self._fail(HeadersTooLargeError("request head is over 64 KiB"))
                    return
                if end < 0:
                    self._settle()
                    return
                raw = bytes(buf[:end])
                del buf[: end + 4]
                try:
                    head = parse_head(raw)
                except InferenceError as exc:
                    self._fail(exc)
                    return
                if head.content_length > limit:
                    self._fail(
                        PayloadTooLargeError(
                            f"body is {head.content_length} bytes; the limit is {limit} "
                            "(MLOPS_MAX_BODY_BYTES)"
                        ),
                        method=head.method,
                    )
                    return
                self.head = head
                if head.expects_continue and len(buf) < head.content_length:
                    self._write(CONTINUE)
            length = head.content_length
            if len(buf) < length:
                self._settle()
                return
            body = bytes(buf[:length])
            del buf[:length]
            self.head = None
            self.requests += 1
            self.phase = IDLE  # a pipelined next request gets its own head deadline
            self._dispatch(head, body)

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        keep_alive: bool,
        request_id: str,
        method: str = "POST",
        extra: str = "",
        http10: bool = False,
    ) -> None:
        keep_alive = keep_alive and not self.worker.stop_requested  # SIGTERM may be news
        response = build_response(
            status,
            body,
            content_type,
            keep_alive=keep_alive,
            date=self.worker.date.value,
            request_id=request_id,
            extra=extra,
            http10=http10,
        )
        if method == "HEAD":
            response = response[: len(response) - len(body)]
        self._write(response)
        if not keep_alive:
            self.close()

    def _fail(self, exc: InferenceError, method: str = "POST") -> None:
        """Reply with a framing-level error, then close (the stream cannot be resynchronized).

        The client may still be sending a body we will not read; closing with unread data would
        reset the connection before it reads our reply. So: half-close, discard what still
        arrives for up to ``LINGER_SECONDS``, then close.
        """
        rid = self.worker.next_request_id()
        log.debug("rejected request", extra={"request_id": rid, "status": exc.status})
        response = build_response(
            exc.status,
            b"" if method == "HEAD" else exc.body(rid),
            JSON,
            keep_alive=False,
            date=self.worker.date.value,
            request_id=rid,
        )
        self._write(response)
        self.head = None
        self.buf.clear()
        self.discarding = True
        self.phase, self.deadline = LINGER, math.inf  # the linger timer closes it
        if self.transport is not None and self.transport.can_write_eof():
            self.transport.write_eof()
        self.worker.loop.call_later(LINGER_SECONDS, self.close)

    def _dispatch(self, head: RequestHead, body: bytes) -> None:
        worker = self.worker
        rid = worker.next_request_id()
        keep_alive = head.keep_alive
        path, method, http10 = head.path, head.method, head.http10
        try:
            models = worker.models
            if models is not None and (path == "/models" or path.startswith("/models/")):
                status, payload, content_type, extra = models.handle(
                    method, path, head.query, head.headers, body
                )
                self._send(
                    status,
                    payload,
                    content_type,
                    keep_alive=keep_alive,
                    request_id=rid,
                    method=method,
                    extra=extra,
                    http10=http10,
                )
            elif path == "/invocations" and models is not None:
                if method != "POST":
                    raise MethodNotAllowedError("use POST /invocations", allow="POST")
                status, payload, content_type, extra = models.invoke_target(head.headers, body)
                self._send(
                    status,
                    payload,
                    content_type,
                    keep_alive=keep_alive,
                    request_id=rid,
                    extra=extra,
                    http10=http10,
                )
            elif path == "/invocations":
                if method != "POST":
                    raise MethodNotAllowedError("use POST /invocations", allow="POST")
                predictor = worker.predictor
                if predictor is None:
                    raise ModelNotReadyError("the model is still loading; retry shortly")
                headers = head.headers
                payload, content_type = invoke(
                    predictor,
                    body,
                    headers.get("content-type"),
                    headers.get("accept"),
                    worker.settings.limits,
                )
                self._send(
                    200, payload, content_type, keep_alive=keep_alive, request_id=rid, http10=http10
                )
            elif path == "/ping":
                if method not in ("GET", "HEAD"):
                    raise MethodNotAllowedError("use GET /ping", allow="GET, HEAD")
                if worker.predictor is None and worker.models is None:
                    raise ModelNotReadyError("the model is still loading")
                self._send(
                    200,
                    b"",
                    "text/plain",
                    keep_alive=keep_alive,
                    request_id=rid,
                    method=method,
                    http10=http10,
                )
            elif path == "/execution-parameters":
                if method not in ("GET", "HEAD"):
                    raise MethodNotAllowedError("use GET /execution-parameters", allow="GET, HEAD")
                self._send(
                    200,
                    worker.execution_parameters,
                    JSON,
                    keep_alive=keep_alive,
                    request_id=rid,
                    method=method,
                    http10=http10,
                )
            else:
                raise NotFoundError(f"no route {path!r}; use POST /invocations or GET /ping")
        except InferenceError as exc:
            extra = f"Allow: {exc.allow}\r\n" if isinstance(exc, MethodNotAllowedError) else ""
            log.debug("rejected request", extra={"request_id": rid, "status": exc.status})
            self._send(
                exc.status,
                exc.body(rid),
                JSON,
                keep_alive=keep_alive,
                request_id=rid,
                method=method,
                extra=extra,
                http10=http10,
            )
        except Exception:
            log.exception("request failed", extra={"request_id": rid, "path": path})
            body = error_body(
                "internal_error", "unexpected server error; see the logs for request_id", rid
            )
            self._send(
                500, body, JSON, keep_alive=keep_alive, request_id=rid, method=method, http10=http10
            )


class Worker:
    """Event loop, listener, connections and the model of one worker process."""

    def __init__(
        self,
        settings: Settings,
        listener: socket.socket,
        ready_fd: int,
        loader: Callable[[Settings], Predictor] = load_predictor,
        board: LoadBoard | None = None,
        models: MultiModelHandler | None = None,
    ) -> None:
        self.settings = settings
        self.board = board
        self.models = models  # multi-model mode: the /models routes, no single model
        self.listener = listener
        self.ready_fd = ready_fd
        self.loader = loader
        self.predictor: Predictor | None = None
        self.connections: set[Connection] = set()
        self.closing = False  # shutdown has begun (no more accepts)
        self.stop_requested = False  # SIGTERM/SIGINT seen, possibly mid-request
        self.exit_code = 0
        self.date = DateCache()
        self.loop = asyncio.new_event_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        self.execution_parameters = json.dumps(
            {
                "MaxConcurrentTransforms": settings.workers,
                "BatchStrategy": "MULTI_RECORD",
                "MaxPayloadInMB": max(1, min(100, settings.max_body_bytes // (1024 * 1024))),
            }
        ).encode()
        self._parent = os.getppid()
        self._id_prefix = f"{os.getpid():x}{secrets.token_hex(3)}"
        self._counter = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._deferrals = 0
        self._accept_backoff = 0.0
        self._accept_failures = 0
        self._accept_logged_at = -ACCEPT_LOG_INTERVAL

    def next_request_id(self) -> str:
        """Unique per process lifetime, cheap (no syscalls)."""
        self._counter += 1
        return f"{self._id_prefix}-{self._counter:x}"

    def idle_timeout(self, timeout: float) -> float:
        """``timeout`` for a connection with nothing to answer; shorter once draining."""
        return min(timeout, DRAIN_IDLE_GRACE) if self.closing else timeout

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT and drain; returns the process exit code."""
        loop = self.loop
        asyncio.set_event_loop(loop)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        loop.add_reader(self.listener.fileno(), self._accept_one)
        if self.models is None:
            threading.Thread(target=self._load, name="model-loader", daemon=True).start()
        loop.call_later(1.0, self._tick)
        try:
            loop.run_until_complete(self.done)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)  # already draining: later signals are moot
            loop.close()
        log.info("worker stopped", extra={"exit_code": self.exit_code})
        return self.exit_code

    def _on_signal(self, signum: int, frame: object) -> None:
        """Runs between bytecodes, even inside a request: its response will say close."""
        self.stop_requested = True
        self._call_soon(self.begin_shutdown)  # also wakes the selector

    def _load(self) -> None:
        """Wait for the supervisor's go-ahead (pipe EOF), then load the model."""
        try:
            while os.read(self.ready_fd, 64):
                pass
            started = time.perf_counter()
            predictor = self.loader(self.settings)
            seconds = round(time.perf_counter() - started, 3)
        except Exception:
            log.exception("model failed to load")
            self._call_soon(self._load_failed)
            return
        log.info("model loaded", extra={"seconds": seconds, "n_features": predictor.n_features})
        self._call_soon(self._set_predictor, predictor)

    def _call_soon(self, callback: Callable[..., None], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed: the worker is exiting anyway
            self.loop.call_soon_threadsafe(callback, *args)

    def _set_predictor(self, predictor: Predictor) -> None:
        self.predictor = predictor

    def _load_failed(self) -> None:
        self.exit_code = EXIT_MODEL_LOAD_FAILED
        self.begin_shutdown()

    def publish_load(self) -> None:
        """Share this worker's connection count with the others."""
        if self.board is not None:
            self.board.publish(len(self.connections))

    def _accept_one(self) -> None:
        """Accept one connection per wake-up; defer briefly if another worker has fewer."""
        if (
            self.board is not None
            and self._deferrals < MAX_ACCEPT_DEFERRALS
            and self.board.should_defer(len(self.connections))
        ):
            self._deferrals += 1
            self._pause_accepting(ACCEPT_DEFER_SECONDS)
            return
        self._deferrals = 0
        self._accept()

    def _accept(self) -> bool:
        """Accept one waiting connection; False if none is waiting or none can be accepted."""
        try:
            sock, _ = self.listener.accept()
        except (BlockingIOError, InterruptedError):
            return False  # another worker won the race, or the backlog is empty
        except OSError as exc:
            self._accept_failed(exc)
            return False
        self._accept_backoff = 0.0
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self.loop.create_task(self._attach(sock))
        self._tasks.add(task)  # keep a reference until the connection is set up
        task.add_done_callback(self._attached)
        return True

    def _accept_failed(self, exc: OSError) -> None:
        """Log at most once per interval; when out of descriptors, back off instead of spinning."""
        self._accept_failures += 1
        now = self.loop.time()
        if now - self._accept_logged_at >= ACCEPT_LOG_INTERVAL:
            self._accept_logged_at = now
            log.warning(
                "accept failed",
                extra={
                    "error": str(exc),
                    "failures": self._accept_failures,
                    "connections": len(self.connections),
                },
            )
            self._accept_failures = 0
        if exc.errno in _ACCEPT_EXHAUSTED and not self.closing:
            first, longest = ACCEPT_BACKOFF_SECONDS
            self._accept_backoff = min(longest, max(first, self._accept_backoff * 2))
            self._pause_accepting(self._accept_backoff)

    def _pause_accepting(self, seconds: float) -> None:
        self.loop.remove_reader(self.listener.fileno())
        self.loop.call_later(seconds, self._resume_accepting)

    def _resume_accepting(self) -> None:
        if not self.closing:
            self.loop.add_reader(self.listener.fileno(), self._accept_one)

    async def _attach(self, sock: socket.socket) -> None:
        await self.loop.connect_accepted_socket(lambda: Connection(self), sock)

    def _attached(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("connection setup failed", extra={"error": str(task.exception())})
        self.maybe_done()

    def _tick(self) -> None:
        """Once a second: refresh Date, time out connections past their deadline, watch the
        parent (one timer per worker, not one per connection)."""
        self.date.refresh()
        now = self.loop.time()
        for conn in [c for c in self.connections if c.deadline <= now]:
            conn.timed_out()
        if os.getppid() != self._parent:
            log.warning("supervisor is gone; shutting down")
            self.begin_shutdown()
        self.loop.call_later(1.0, self._tick)

    def begin_shutdown(self) -> None:
        """Stop accepting, but first take every connection already queued for this worker;
        requests already sent are answered (with ``Connection: close``), idle connections are
        closed by the tick once idle for ``DRAIN_IDLE_GRACE``."""
        self.stop_requested = True
        if self.closing:
            return
        self.closing = True
        fd = self.listener.fileno()
        self.loop.remove_reader(fd)
        while self._accept():  # the listen backlog: accepted connections are served, not reset
            pass
        self.listener.close()
        deadline = self.loop.time() + DRAIN_IDLE_GRACE
        for conn in self.connections:
            if conn.idle:
                conn.deadline = min(conn.deadline, deadline)
        self.loop.call_later(self.settings.graceful_timeout, self._force_close)
        self.maybe_done()

    def _force_close(self) -> None:
        for conn in list(self.connections):
            if conn.transport is not None:
                conn.transport.abort()
        self.connections.clear()
        self.maybe_done()

    def maybe_done(self) -> None:
        """Finish the loop once shutting down and no connection is left or being set up."""
        if self.closing and not self.connections and not self._tasks and not self.done.done():
            self.done.set_result(None)
