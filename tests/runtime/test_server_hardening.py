"""Issue #15: client mistakes get a 4xx (never a 500 or a dropped connection), stalled clients
are timed out, descriptor exhaustion does not spin, HTTP details (q=0, HTTP/1.0 keep-alive)."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import time
from collections.abc import Callable

import pytest

from .conftest import SAMPLE_ROW, Server, raw_exchange, request

ServerFactory = Callable[..., Server]
JSON_HEADERS = {"Content-Type": "application/json"}
DEEP = b"[" * 100_000 + b"]" * 100_000
LONG_INT = b"[" + b"1" * 5000 + b", 1, 1, 1, 1, 1, 1, 1]"


def post(body: bytes, extra: bytes = b"", content_type: bytes = b"application/json") -> bytes:
    """A complete POST /invocations request."""
    return (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body
    )


def error_code(reply_json: object) -> str:
    assert isinstance(reply_json, dict)
    code: str = reply_json["error"]["code"]
    return code


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (DEEP, "application/json", "nesting_too_deep"),  # item 1
        (b'{"instances": ' + DEEP + b"}", "application/jsonlines", "nesting_too_deep"),
        (LONG_INT, "application/json", "number_too_long"),  # item 2
        (b'"' + b"1" * 200_000 + b'",1,1,1,1,1,1,1\n', "text/csv", "csv_field_too_large"),  # 3
        (b"[1, 2, 3, 4, 5, 6, 7, true]", "application/json", "non_numeric_value"),  # item 4
        (b'{"instances": [[false, 2, 3, 4, 5, 6, 7, 8]]}', "application/json", "non_numeric_value"),
    ],
    ids=["deep-json", "deep-jsonlines", "long-integer", "long-csv-field", "true", "false"],
)
def test_hostile_bodies_are_named_400s(
    server: Server, body: bytes, content_type: str, code: str
) -> None:
    reply = request(server.port, "POST", "/invocations", body, {"Content-Type": content_type})
    assert reply.status == 400, reply.body[:300]
    assert error_code(reply.json) == code


def test_huge_content_length_is_413_not_a_dropped_connection(server: Server) -> None:  # item 5
    head = b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"
    response = raw_exchange(server.port, head)
    assert response.startswith(b"HTTP/1.1 413 "), response[:200]
    assert b'"payload_too_large"' in response
    assert request(server.port, "GET", "/ping").status == 200


def test_head_over_64_kib_in_one_write_is_431(server: Server) -> None:  # item 6
    body = json.dumps(SAMPLE_ROW).encode()
    padding = b"X-Padding: " + b"a" * (70 * 1024) + b"\r\n"
    response = raw_exchange(server.port, post(body, padding))
    assert response.startswith(b"HTTP/1.1 431 "), response[:200]
    assert b'"headers_too_large"' in response


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; fails if it is still open after ``limit``."""
    started = time.monotonic()
    sock.settimeout(limit)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            pytest.fail(f"still open after {limit} s; got {data[:100]!r}")
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - started


def test_stalled_reads_time_out(server_factory: ServerFactory) -> None:  # item 7
    server = server_factory(
        MLOPS_HEADER_TIMEOUT="1", MLOPS_BODY_TIMEOUT="1", MLOPS_KEEPALIVE_TIMEOUT="30"
    )
    body = json.dumps(SAMPLE_ROW).encode()
    stalls = {
        "partial-head": b"POST /invocations HTTP/1.1\r\nHost: x\r\n",
        "partial-body": post(body)[:-5],
        "tls-client-hello": bytes.fromhex("16030100f8010000f40303") + os.urandom(32),
        "bare-lf": b"GET /ping HTTP/1.1\nHost: x\n\n",
        "silent": b"",  # connected, never sends: the first request gets the header timeout
    }
    socks = {}
    for name, payload in stalls.items():
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(payload)
        socks[name] = sock
    keep_alive = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    keep_alive.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert keep_alive.recv(65536).startswith(b"HTTP/1.1 200 ")
    try:
        for name, sock in socks.items():
            data, _ = read_until_closed(sock, 4.0)
            if name not in ("tls-client-hello", "silent"):
                assert data.startswith((b"HTTP/1.1 408 ", b"HTTP/1.1 400 ")), (name, data[:100])
        # an idle keep-alive connection is not a stalled one: it gets the keep-alive timeout
        keep_alive.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        assert keep_alive.recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        keep_alive.close()
        for sock in socks.values():
            sock.close()
    assert b'"request_timeout"' in raw_exchange(server.port, stalls["partial-head"], timeout=4)
    assert request(server.port, "GET", "/ping").status == 200


def worker_pids(server: Server) -> list[int]:
    return [
        int(json.loads(line)["pid"])
        for line in server.logs().splitlines()
        if '"msg": "model loaded"' in line
    ]


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: PTH123, SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_running_out_of_descriptors_does_not_spin(server_factory: ServerFactory) -> None:  # 8
    server = server_factory()
    (pid,) = worker_pids(server)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (48, 48))
    held = []
    try:
        for _ in range(60):  # more than the worker can hold: the rest wait in the backlog
            held.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.3)
        lines_before = server.logs().count("accept failed")
        cpu_before = cpu_seconds(pid)
        time.sleep(1.0)
        spent = cpu_seconds(pid) - cpu_before
        failures = server.logs().count("accept failed") - lines_before
        assert failures <= 3, f"{failures} 'accept failed' lines in 1 s"
        assert spent < 0.25, f"worker used {spent:.2f} s of CPU in 1 s while out of descriptors"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while True:  # the worker recovers once descriptors are free again
        with contextlib.suppress(OSError):
            if request(server.port, "GET", "/ping", timeout=2).status == 200:
                break
        assert time.monotonic() < deadline, "no recovery after the descriptors were released"
        time.sleep(0.1)
    assert worker_pids(server) == [pid]  # not restarted


def test_q_zero_makes_a_type_unacceptable(server: Server) -> None:  # item 11
    headers = {"Content-Type": "text/csv", "Accept": "application/json;q=0, */*;q=0.1"}
    reply = request(server.port, "POST", "/invocations", b"1,2,3,4,5,6,7,8\n", headers)
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/csv"
    only_json = {"Content-Type": "text/csv", "Accept": "application/json;q=0"}
    assert (
        request(server.port, "POST", "/invocations", b"1,2,3,4,5,6,7,8\n", only_json).status == 406
    )


def test_http10_keep_alive_is_announced_and_kept(server: Server) -> None:  # item 12
    ping = b"GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        for _ in range(2):  # the second request proves the connection stayed open
            sock.sendall(ping)
            head = sock.recv(65536).split(b"\r\n\r\n")[0]
            assert head.startswith(b"HTTP/1.1 200 ")
            assert b"\r\nConnection: keep-alive" in head
