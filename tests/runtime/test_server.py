"""The HTTP contract of the model server, exercised on a real 2-worker server process."""

from __future__ import annotations

import http.client
import json
import socket
import time

import numpy as np
import pytest

from .conftest import DEMO_MODEL_DIR, SAMPLE_ROW, Server, raw_exchange, request

JSON_HEADERS = {"Content-Type": "application/json"}


def expected(rows: list[list[float]]) -> np.ndarray:
    """Reference scores computed with onnxruntime directly."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(DEMO_MODEL_DIR / "model.onnx"))
    scores: np.ndarray = session.run(None, {"features": np.array(rows, dtype=np.float32)})[0]
    return scores.reshape(-1)


def test_ping_is_ok_once_loaded(server: Server) -> None:
    reply = request(server.port, "GET", "/ping")
    assert reply.status == 200
    assert request(server.port, "HEAD", "/ping").status == 200


def test_json_instances(server: Server) -> None:
    rows = [SAMPLE_ROW, [1.0] * 8]
    body = json.dumps({"instances": rows}).encode()
    reply = request(server.port, "POST", "/invocations", body, JSON_HEADERS)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert isinstance(reply.json, dict)
    np.testing.assert_allclose(reply.json["predictions"], expected(rows), rtol=1e-6)


@pytest.mark.parametrize(
    ("body", "rows"),
    [
        (json.dumps(SAMPLE_ROW), 1),  # a single row
        (json.dumps([SAMPLE_ROW] * 3), 3),  # a bare list of rows
        ("\n".join(json.dumps(SAMPLE_ROW) for _ in range(4)) + "\n", 4),  # JSON lines
        (json.dumps({"instances": [{"features": SAMPLE_ROW}]}), 1),
    ],
    ids=["single-row", "bare-list", "json-lines", "features-objects"],
)
def test_json_shapes(server: Server, body: str, rows: int) -> None:
    reply = request(server.port, "POST", "/invocations", body.encode(), JSON_HEADERS)
    assert reply.status == 200, reply.body
    assert isinstance(reply.json, dict)
    np.testing.assert_allclose(reply.json["predictions"], expected([SAMPLE_ROW] * rows), rtol=1e-6)


def test_csv_multi_record_in_csv_out(server: Server) -> None:
    rows = [SAMPLE_ROW, [0.0] * 8, [5.0] * 8]
    body = "".join(",".join(map(str, r)) + "\n" for r in rows).encode()
    reply = request(
        server.port,
        "POST",
        "/invocations",
        body,
        {"Content-Type": "text/csv; charset=utf-8", "Accept": "text/csv"},
    )
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/csv"
    values = [float(line) for line in reply.body.decode().splitlines()]
    np.testing.assert_allclose(values, expected(rows), rtol=1e-6)


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("*/*", "application/json"),
        ("application/jsonlines", "application/jsonlines"),
        ("text/html;q=0.9, text/*;q=0.5", "text/csv"),
    ],
    ids=[
        "any",
        "jsonlines",
        "text-wildcard-csv",
    ],
)
def test_accept_negotiation(server: Server, accept: str, content_type: str) -> None:
    headers = {"Content-Type": "text/csv", "Accept": accept}
    body = b"1,2,3,4,5,6,7,8\n8,7,6,5,4,3,2,1\n"
    reply = request(server.port, "POST", "/invocations", body, headers)
    assert reply.status == 200
    assert reply.headers["content-type"] == content_type
    scores = expected([[1, 2, 3, 4, 5, 6, 7, 8], [8, 7, 6, 5, 4, 3, 2, 1]])
    if content_type == "application/json":
        assert isinstance(reply.json, dict)
        values = reply.json["predictions"]
    else:  # one value per line for both CSV and JSON lines
        values = [json.loads(line) for line in reply.body.decode().splitlines()]
    np.testing.assert_allclose(values, scores, rtol=1e-6)


def test_unsupported_accept_is_406(server: Server) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/xml"}
    reply = request(server.port, "POST", "/invocations", json.dumps(SAMPLE_ROW).encode(), headers)
    assert reply.status == 406
    assert isinstance(reply.json, dict)
    assert reply.json["error"]["code"] == "not_acceptable"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"instances": [[1, 2', "application/json", 400, "malformed_json"),
        (b"[1, 2, 3]", "application/json", 400, "wrong_feature_count"),
        (b"1,2,3,4,5,6,7,8\n1,2,3\n", "text/csv", 400, "ragged_rows"),
        (b"a,b,c,d,e,f,g,h\n", "text/csv", 400, "non_numeric_value"),
        (b'[[1, 2, 3, 4, 5, 6, 7, "x"]]', "application/json", 400, "non_numeric_value"),
        (b"[1, 2, 3, 4, 5, 6, 7, NaN]", "application/json", 400, "non_finite_value"),
        (b"", "application/json", 400, "empty_body"),
        (b"1,2,3,4,5,6,7,8", "image/png", 415, "unsupported_media_type"),
    ],
    ids=[
        "malformed-json",
        "wrong-feature-count",
        "ragged-csv",
        "non-numeric-csv",
        "non-numeric-json",
        "nan-json",
        "empty-body",
        "unsupported-media-type",
    ],
)
def test_bad_input_is_a_named_4xx(
    server: Server, body: bytes, content_type: str, status: int, code: str
) -> None:
    reply = request(server.port, "POST", "/invocations", body, {"Content-Type": content_type})
    assert reply.status == status
    assert isinstance(reply.json, dict)
    error = reply.json["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["request_id"] == reply.headers["x-request-id"]
    # the worker survived: the next request on the same server still works
    assert request(server.port, "GET", "/ping").status == 200


def test_oversized_body_is_413_before_it_is_read(server: Server) -> None:
    head = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
        b"Content-Length: 6291457\r\n\r\n"
    )
    response = raw_exchange(server.port, head)
    assert response.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in response
    assert b'"payload_too_large"' in response


def test_client_still_sending_an_oversized_body_gets_the_413(server: Server) -> None:
    """The server drains what it will not read, so the client sees the reply, not a reset."""
    reply = request(
        server.port, "POST", "/invocations", b"1" * 20_000_000, {"Content-Type": "text/csv"}, 10
    )
    assert reply.status == 413
    assert isinstance(reply.json, dict)
    assert "the limit is 6291456" in reply.json["error"]["message"]


def test_body_at_the_limit_is_read(server: Server) -> None:
    row = ",".join(map(str, SAMPLE_ROW)) + "\n"
    count = 6 * 1024 * 1024 // len(row)
    body = (row * count).encode()
    assert len(body) <= 6 * 1024 * 1024
    headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
    reply = request(server.port, "POST", "/invocations", body, headers, timeout=30)
    assert reply.status == 200
    assert len(reply.body.splitlines()) == count


def test_unknown_path_404_and_wrong_method_405(server: Server) -> None:
    assert request(server.port, "GET", "/nope").status == 404
    reply = request(server.port, "GET", "/invocations")
    assert reply.status == 405
    assert reply.headers["allow"] == "POST"
    assert request(server.port, "POST", "/ping", b"").status == 405


def test_chunked_body_is_rejected_with_411(server: Server) -> None:
    payload = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: text/csv\r\n\r\n5\r\n1,2,3\r\n0\r\n\r\n"
    )
    response = raw_exchange(server.port, payload)
    assert response.startswith(b"HTTP/1.1 411 ")
    assert b"chunked" in response


def test_malformed_request_line_is_400(server: Server) -> None:
    response = raw_exchange(server.port, b"GARBAGE\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 ")


def test_keep_alive_and_connection_close(server: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    body = json.dumps(SAMPLE_ROW).encode()
    conn.connect()
    first_socket = conn.sock
    for _ in range(3):  # several requests over one connection
        conn.request("POST", "/invocations", body, JSON_HEADERS)
        response = conn.getresponse()
        assert response.status == 200
        assert response.getheader("connection") is None
        response.read()
        assert conn.sock is first_socket  # not reconnected
    conn.request("POST", "/invocations", body, {**JSON_HEADERS, "Connection": "close"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("connection") == "close"
    response.read()
    assert conn.sock is None  # http.client saw the close
    conn.close()


def test_pipelined_requests_and_http10(server: Server) -> None:
    body = json.dumps(SAMPLE_ROW).encode()
    one = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    last = b"GET /ping HTTP/1.0\r\n\r\n"  # HTTP/1.0 without keep-alive: server closes after it
    response = raw_exchange(server.port, one + one + last)
    assert response.count(b"HTTP/1.1 200 OK") == 3
    assert response.count(b'"predictions"') == 2


def test_expect_100_continue(server: Server) -> None:
    body = json.dumps(SAMPLE_ROW).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        assert sock.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 OK")


def test_execution_parameters_for_batch_transform(server: Server) -> None:
    reply = request(server.port, "GET", "/execution-parameters")
    assert reply.status == 200
    assert reply.json == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 6,
    }


def test_keep_alive_connections_are_spread_over_workers(server: Server) -> None:
    """Bursts of connections must not pile onto one worker (they stay there for life)."""
    body = json.dumps(SAMPLE_ROW).encode()
    request_bytes = (
        b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    for _ in range(5):
        socks = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(8)]
        workers: list[str] = []
        try:
            for sock in socks:
                sock.sendall(request_bytes)
            for sock in socks:
                head = sock.recv(65536).split(b"\r\n\r\n")[0].decode()
                request_id = next(
                    line.split(": ")[1]
                    for line in head.split("\r\n")
                    if line.startswith("X-Request-Id")
                )
                workers.append(request_id.split("-")[0])  # the id's prefix names the worker
        finally:
            for sock in socks:
                sock.close()
        counts = sorted(workers.count(w) for w in set(workers))
        assert len(counts) == 2
        assert counts[0] >= 3, counts  # 4/4 or 5/3, never 6/2 or worse
        time.sleep(0.1)  # let the workers see the closes
