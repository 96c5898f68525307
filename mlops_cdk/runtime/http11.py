"""Minimal HTTP/1.1 framing: parse a request head, build responses. No I/O here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from email.utils import formatdate

from .errors import BadRequestError, LengthRequiredError, PayloadTooLargeError

REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_CLOSE = "Connection: close\r\n"
_KEEP_ALIVE = "Connection: keep-alive\r\n"  # HTTP/1.0 clients close unless told otherwise
#: Longer Content-Length values are over any body limit; int() of thousands of digits raises.
MAX_LENGTH_DIGITS = 18
_WANTED = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "content-type",
        "accept",
        "expect",
        "x-amzn-sagemaker-target-model",
    }
)


@dataclass(slots=True)
class RequestHead:
    """Parsed request line and the headers the server acts on (names lower-cased)."""

    method: str
    path: str
    keep_alive: bool
    content_length: int
    headers: dict[str, str] = field(default_factory=dict)
    http10: bool = False
    query: str = ""

    @property
    def expects_continue(self) -> bool:
        """Client sent ``Expect: 100-continue`` and waits for the go-ahead."""
        return self.headers.get("expect", "").lower() == "100-continue"


def parse_head(raw: bytes) -> RequestHead:
    """Parse bytes up to (excluding) the blank line ending the head.

    Raises ``BadRequestError`` for malformed heads, ``LengthRequiredError`` for chunked or
    length-less POST bodies and ``PayloadTooLargeError`` for a ``Content-Length`` too long to be
    a number. After any of them the connection must be closed.
    """
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequestError(f"malformed request line {lines[0][:80]!r}", code="bad_request_line")
    method, target, version = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequestError(f"malformed header line {line[:80]!r}", code="bad_header")
        key = name.lower()
        if key in _WANTED:
            value = value.strip()
            if key in headers and key == "content-length" and headers[key] != value:
                raise BadRequestError("conflicting Content-Length headers", code="bad_header")
            headers[key] = value
    if "transfer-encoding" in headers:
        raise LengthRequiredError(
            "chunked (Transfer-Encoding) request bodies are not supported; send Content-Length"
        )
    raw_length = headers.get("content-length")
    if raw_length is None:
        if method in ("POST", "PUT", "PATCH"):
            raise LengthRequiredError(f"{method} needs a Content-Length header")
        length = 0
    elif raw_length.isdigit() and raw_length.isascii():
        digits = raw_length.lstrip("0")
        if len(digits) > MAX_LENGTH_DIGITS:
            raise PayloadTooLargeError(
                f"Content-Length has {len(digits)} digits; no body limit is that large"
            )
        length = int(digits or "0")
    else:
        raise BadRequestError(f"invalid Content-Length {raw_length[:40]!r}", code="bad_header")
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    path, _, query = target.partition("?")
    return RequestHead(method, path, keep_alive, length, headers, version == "HTTP/1.0", query)


class DateCache:
    """``Date`` header value, reformatted at most once per second."""

    __slots__ = ("_second", "value")

    def __init__(self) -> None:
        self._second = -1
        self.value = ""
        self.refresh()

    def refresh(self) -> None:
        """Recompute if the wall-clock second changed."""
        now = int(time.time())
        if now != self._second:
            self._second = now
            self.value = formatdate(now, usegmt=True)


def build_response(
    status: int,
    body: bytes,
    content_type: str,
    *,
    keep_alive: bool,
    date: str,
    request_id: str,
    extra: str = "",
    http10: bool = False,
) -> bytes:
    """Serialize a complete response (``extra`` is pre-formatted ``Name: value\\r\\n`` lines).

    ``Connection: close`` when not keeping the connection; ``Connection: keep-alive`` when
    keeping an HTTP/1.0 client's.
    """
    connection = (_KEEP_ALIVE if http10 else "") if keep_alive else _CLOSE
    return (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        f"Date: {date}\r\nX-Request-Id: {request_id}\r\n"
        f"{connection}{extra}\r\n"
    ).encode("latin-1") + body
