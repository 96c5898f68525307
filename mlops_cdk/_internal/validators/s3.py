"""S3 object keys, key prefixes and ``s3://`` URIs: one validator for every place that takes one.

Rules (Amazon S3 user guide, "Naming Amazon S3 objects",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html, and "General purpose
bucket naming rules", read 2026-12): a key is at most 1,024 bytes of UTF-8. This library adds:
no leading ``/`` (S3 would keep it as an empty first path segment, which nobody means), no
``s3://`` URI where a key is expected (the bucket is given separately), and for *prefixes* the
characters our constructs can embed safely (letters, digits and ``. _ = - /``; no Step Functions
intrinsic-string escapes ``{}\\`` and no Choice-rule wildcard ``*``). A prefix is a "folder":
given with or without its trailing ``/``, it is normalised to end in ``/``.
"""

from __future__ import annotations

import re
from typing import Literal

MAX_KEY_BYTES = 1024
# Key prefixes our constructs accept: letters, digits and . _ = - / (hive-style partitions such as
# date=2026-01-01/ included). S3's safe key characters minus those that need escaping in Step
# Functions intrinsic strings ('{}\) or act as wildcards in its Choice rules (*).
_PREFIX = re.compile(r"[A-Za-z0-9._=-][A-Za-z0-9._=/-]*")
_URI = re.compile(r"s3://(?P<bucket>[^/]*)(?:/(?P<key>.*))?", re.DOTALL)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")

PREFIX_MEANING = (
    "a key prefix made of letters, digits and . _ = - / without a leading /, such as "
    "'scoring/input/' (the trailing / may be left out)"
)
S3_URI_MEANING = "an s3://<bucket>/<key> URI"


def _key_rules(value: str, what: str) -> str | None:
    if value.lower().startswith("s3://"):
        return (
            f"{what}, not an s3:// URI (the bucket is given separately: pass "
            f"{value.split('/', 3)[-1]!r})"
        )
    if value.startswith("/"):
        return f"{what} without a leading / (such as {value.lstrip('/')!r})"
    size = len(value.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        return f"{what} of at most {MAX_KEY_BYTES} bytes in UTF-8 ({size} bytes given)"
    return None


KeyKind = Literal["key", "prefix", "key or prefix"]


def s3_key_problem(key: str, *, kind: KeyKind = "key") -> str | None:
    """What ``key`` must be (after "must be"), or ``None``.

    :param kind: ``key`` for an object key, ``prefix`` for a folder (see :func:`normalise_prefix`),
        ``key or prefix`` where either is accepted (a model artifact object or folder).
    """
    if not isinstance(key, str) or not key:
        return "a non-empty S3 " + kind
    if kind == "prefix":
        return prefix_problem(key)
    return _key_rules(key, "an S3 " + kind)


def prefix_problem(prefix: str) -> str | None:
    """What a key prefix must be (after "must be"), or ``None``; the trailing ``/`` is optional."""
    if not isinstance(prefix, str) or not prefix:
        return PREFIX_MEANING
    problem = _key_rules(prefix, "a key prefix")
    if problem is not None:
        return problem
    if _PREFIX.fullmatch(prefix) is None or "//" in prefix:
        return PREFIX_MEANING
    return None


def normalise_prefix(prefix: str) -> str:
    """``prefix`` ending in exactly one ``/`` (``"capture"`` -> ``"capture/"``)."""
    return prefix if prefix.endswith("/") else prefix + "/"


def s3_uri_problem(uri: str, *, require_key: bool = True) -> str | None:
    """What an ``s3://bucket/key`` URI must be (after "must be"), or ``None``."""
    match = _URI.fullmatch(uri) if isinstance(uri, str) else None
    if match is None:
        return S3_URI_MEANING
    if _BUCKET.fullmatch(match["bucket"]) is None or ".." in match["bucket"]:
        return (
            f"{S3_URI_MEANING} whose bucket is 3-63 lowercase letters, digits, . and - "
            f"({match['bucket']!r} is not a bucket name)"
        )
    key = match["key"]
    if not key:
        return f"{S3_URI_MEANING} with a key" if require_key else None
    problem = _key_rules(key, "an s3:// URI whose key is a key")
    return problem
