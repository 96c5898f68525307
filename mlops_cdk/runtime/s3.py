"""The slice of the S3 client API the runtime uses, so tests can inject an in-memory fake."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit


class S3Client(Protocol):
    """Structural type of ``boto3.client("s3")`` as used here (keyword arguments only)."""

    def get_object(self, **kwargs: Any) -> Any:
        """``get_object(Bucket=..., Key=...)`` → ``{"Body": stream, "ContentLength": int, ...}``."""
        ...

    def put_object(self, **kwargs: Any) -> Any:
        """``put_object(Bucket=..., Key=..., Body=bytes, ContentType=str)``."""
        ...


S3ClientFactory = Callable[[], S3Client]


def boto3_client() -> S3Client:
    """The default factory: a boto3 S3 client (boto3 is imported only when S3 is used)."""
    import boto3  # only needed for s3:// models and S3 events

    client: S3Client = boto3.client("s3")
    return client


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` → ``("bucket", "key")``; raises ``ValueError`` otherwise."""
    parts = urlsplit(uri)
    key = parts.path.lstrip("/")
    if parts.scheme != "s3" or not parts.netloc or not key or key.endswith("/"):
        raise ValueError(f"expected s3://bucket/key of an object (got {uri!r})")
    return parts.netloc, key
