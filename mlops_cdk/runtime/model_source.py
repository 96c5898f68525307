"""Put the model artifact where the predictor loads it: verify a local one, or download it once."""

from __future__ import annotations

import hashlib
import logging
import os
import tarfile
import tempfile
from pathlib import Path

from .errors import ModelLoadError
from .s3 import S3ClientFactory, boto3_client, parse_s3_uri
from .settings import Settings

_CHUNK = 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
log = logging.getLogger("mlops_runtime.model")


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_digest(actual: str, expected: str | None, what: str) -> None:
    if expected is not None and actual != expected:
        raise ModelLoadError(
            f"{what} failed verification: sha256 is {actual}, MLOPS_MODEL_SHA256 is {expected}"
        )


def download_model(settings: Settings, s3_client_factory: S3ClientFactory) -> Path:
    """Download ``MLOPS_MODEL_S3_URI`` into ``settings.download_dir`` once; returns the directory.

    The object is streamed to a temporary file, checked (size > 0, optional SHA-256), then moved
    into place atomically. Gzip archives are recognised by their content, not their key (CDK
    file assets keep only the last suffix, ``<hash>.gz``), and unpacked with tarfile's ``data``
    filter (no absolute paths, links out of the tree or device files).
    """
    uri = settings.model_s3_uri or ""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise ModelLoadError(f"MLOPS_MODEL_S3_URI: {exc}") from None
    target = settings.download_dir
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelLoadError(f"cannot create MLOPS_DOWNLOAD_DIR {target}: {exc}") from exc
    fd, tmp_name = tempfile.mkstemp(dir=target, prefix=".download-")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    size = 0
    head = b""
    archive = False
    try:
        response = s3_client_factory().get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        with os.fdopen(fd, "wb") as out:
            while chunk := body.read(_CHUNK):
                if len(head) < len(_GZIP_MAGIC):
                    head += chunk[: len(_GZIP_MAGIC)]
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if size == 0:
            raise ModelLoadError(f"{uri} is empty")
        _check_digest(digest.hexdigest(), settings.model_sha256, uri)
        archive = head.startswith(_GZIP_MAGIC)
        final = target / ("model.tar.gz" if archive else settings.model_file)
        tmp.replace(final)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"cannot download {settings.model_s3_uri}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    log.info(
        "model downloaded",
        extra={"uri": settings.model_s3_uri, "bytes": size, "sha256": digest.hexdigest()},
    )
    if archive:
        try:
            with tarfile.open(final, "r:gz") as tar:
                tar.extractall(target, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise ModelLoadError(f"cannot unpack {settings.model_s3_uri}: {exc}") from exc
        final.unlink()
    return target


def prepare_model(settings: Settings, s3_client_factory: S3ClientFactory = boto3_client) -> Path:
    """Make the model available at ``settings.model_location`` and verify it; returns that path.

    Local models are checked for presence, non-zero size and (if configured) SHA-256. Loading
    them (the last check) is the predictor's job.
    """
    if settings.model_s3_uri:
        return download_model(settings, s3_client_factory)
    location = settings.model_location
    if not location.is_dir():
        raise ModelLoadError(f"model directory {location} does not exist")
    model = location / settings.model_file
    if model.is_file():
        if model.stat().st_size == 0:
            raise ModelLoadError(f"model file {model} is empty")
        _check_digest(sha256_of(model), settings.model_sha256, str(model))
    elif settings.model_sha256 is not None:
        raise ModelLoadError(f"MLOPS_MODEL_SHA256 is set but {model} does not exist")
    return location
