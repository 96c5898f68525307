"""Issue #15: SIGTERM serves what was already accepted or queued, and says Connection: close."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable

from .conftest import SAMPLE_ROW, Server

ServerFactory = Callable[..., Server]
BODY = json.dumps(SAMPLE_ROW).encode()
REQUEST = (
    b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and body), or whatever arrived before the server closed."""
    data = b""
    while b'"predictions"' not in data and b'"error"' not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def slow_server(factory: ServerFactory, delay: str) -> Server:
    return factory(
        MLOPS_PREDICTOR="tests.runtime.plugins:SlowPredictor", MLOPS_TEST_PREDICT_DELAY=delay
    )


def test_sigterm_serves_queued_and_accepted_connections(server_factory: ServerFactory) -> None:
    """Item 9: one busy worker; 11 more clients wait in the backlog when SIGTERM arrives."""
    server = slow_server(server_factory, "0.15")
    socks = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(12)]
    try:
        socks[0].sendall(REQUEST)  # the worker is now inside a 0.15 s prediction
        time.sleep(0.05)
        for sock in socks[1:]:
            sock.sendall(REQUEST)
        time.sleep(0.05)
        server.proc.send_signal(signal.SIGTERM)
        responses = [read_response(sock) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    served = [r for r in responses if r.startswith(b"HTTP/1.1 200 OK")]
    assert len(served) == 12, [r[:40] for r in responses]
    assert server.proc.wait(timeout=10) == 0


def test_responses_after_sigterm_say_connection_close(server_factory: ServerFactory) -> None:
    """Item 10: a request in flight when SIGTERM arrives is answered with Connection: close."""
    server = slow_server(server_factory, "0.5")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(REQUEST)  # keep-alive request, inside a 0.5 s prediction
        time.sleep(0.2)
        server.proc.send_signal(signal.SIGTERM)
        response = read_response(sock)
    head = response.split(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"\r\nConnection: close" in head
    assert server.proc.wait(timeout=10) == 0
