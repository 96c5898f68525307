"""An in-memory stand-in for the boto3 S3 client calls the runtime makes."""

from __future__ import annotations

import io
from typing import Any


class NoSuchKeyError(Exception):
    """Like botocore's NoSuchKey ClientError."""


class FakeS3:
    """``get_object`` / ``put_object`` over a dict of ``(bucket, key) -> (bytes, content type)``."""

    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, str]] = {
            k: (v, "binary/octet-stream") for k, v in (objects or {}).items()
        }
        self.calls: list[tuple[str, str, str]] = []

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        """Return the stored object with a streaming-like Body."""
        bucket, key = kwargs["Bucket"], kwargs["Key"]
        self.calls.append(("get_object", bucket, key))
        if (bucket, key) not in self.objects:
            raise NoSuchKeyError(f"s3://{bucket}/{key}")
        data, content_type = self.objects[(bucket, key)]
        return {"Body": io.BytesIO(data), "ContentLength": len(data), "ContentType": content_type}

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        """Store bytes."""
        bucket, key, body = kwargs["Bucket"], kwargs["Key"], kwargs["Body"]
        self.calls.append(("put_object", bucket, key))
        self.objects[(bucket, key)] = (bytes(body), kwargs.get("ContentType", ""))
        return {"ETag": '"fake"'}
