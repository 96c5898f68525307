"""Runtime settings read once from environment variables (see docs/runtime.md for the table)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .limits import DEFAULT_LIMITS, ParseLimits

DEFAULT_PORT = 8080
DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a container must listen on every interface


def _cpu_count() -> int:
    """CPUs this process may run on (respects cgroup cpusets), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer (got {raw!r})") from None
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum} (got {value})")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number (got {raw!r})") from None
    if not value > 0:
        raise ValueError(f"{name} must be > 0 (got {raw})")
    return value


def parse_limits(env: Mapping[str, str]) -> ParseLimits:
    """The parser bounds (``MLOPS_MAX_JSON_DEPTH``, ``..._INT_DIGITS``, ``..._CSV_FIELD``)."""
    default = ParseLimits()
    return ParseLimits(
        max_depth=_int(env, "MLOPS_MAX_JSON_DEPTH", default.max_depth, 2),
        max_int_digits=_int(env, "MLOPS_MAX_INT_DIGITS", default.max_int_digits, 1),
        max_csv_field=_int(env, "MLOPS_MAX_CSV_FIELD", default.max_csv_field, 1),
    )


def _opt(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server and the Lambda handler read from the environment."""

    host: str = ALL_INTERFACES
    port: int = DEFAULT_PORT
    workers: int = 1
    model_dir: Path = Path("/opt/ml/model")
    model_file: str = "model.onnx"
    model_s3_uri: str | None = None
    model_sha256: str | None = None
    download_dir: Path = Path(tempfile.gettempdir()) / "mlops-model"
    predictor: str | None = None
    ort_threads: int = 1
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_object_bytes: int = 64 * 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 75.0
    graceful_timeout: float = 30.0
    limits: ParseLimits = DEFAULT_LIMITS
    log_level: str = "INFO"
    input_prefix: str | None = None
    output_prefix: str | None = None
    output_bucket: str | None = None
    multi_model: bool = False
    models_root: Path = Path("/opt/ml/models")
    model_cache_max_bytes: int | None = None
    model_memory_factor: float = 3.0
    models_page_size: int = 100

    @property
    def model_location(self) -> Path:
        """Directory the predictor loads from (the download directory for ``s3://`` models)."""
        return self.download_dir if self.model_s3_uri else self.model_dir

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Parse settings; raises ``ValueError`` naming the variable on a bad value."""
        env = os.environ if env is None else env
        port_raw = env.get("SAGEMAKER_BIND_TO_PORT") or env.get("PORT") or str(DEFAULT_PORT)
        port = _int({"PORT": port_raw}, "PORT", DEFAULT_PORT, 0)
        if port > 65535:
            raise ValueError(f"port must be 0-65535 (got {port})")
        workers_raw = env.get("MLOPS_WORKERS") or env.get("SAGEMAKER_MODEL_SERVER_WORKERS") or ""
        sha = _opt(env, "MLOPS_MODEL_SHA256")
        if sha is not None and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            raise ValueError("MLOPS_MODEL_SHA256 must be 64 lowercase hex characters")
        s3_uri = _opt(env, "MLOPS_MODEL_S3_URI")
        if s3_uri is not None and not s3_uri.startswith("s3://"):
            raise ValueError(f"MLOPS_MODEL_S3_URI must start with s3:// (got {s3_uri!r})")
        level = env.get("MLOPS_LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"MLOPS_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {level})")
        download_dir = _opt(env, "MLOPS_DOWNLOAD_DIR")
        multi = env.get("MLOPS_MULTI_MODEL") or env.get("SAGEMAKER_MULTI_MODEL") or "false"
        if multi.strip().lower() not in {"true", "false", "1", "0"}:
            raise ValueError(f"MLOPS_MULTI_MODEL must be true or false (got {multi!r})")
        cache_bytes = _int(env, "MLOPS_MODEL_CACHE_MAX_BYTES", 0, 1)
        return cls(
            host=_opt(env, "MLOPS_BIND_HOST") or ALL_INTERFACES,
            port=port,
            workers=_int({"MLOPS_WORKERS": workers_raw}, "MLOPS_WORKERS", _cpu_count(), 1),
            model_dir=Path(
                env.get("MLOPS_MODEL_DIR") or env.get("SM_MODEL_DIR") or "/opt/ml/model"
            ),
            model_file=_opt(env, "MLOPS_MODEL_FILE") or "model.onnx",
            model_s3_uri=s3_uri,
            model_sha256=sha,
            download_dir=Path(download_dir) if download_dir else cls.download_dir,
            predictor=_opt(env, "MLOPS_PREDICTOR"),
            ort_threads=_int(env, "MLOPS_ORT_THREADS", 1, 0),
            max_body_bytes=_int(env, "MLOPS_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, 1),
            max_object_bytes=_int(env, "MLOPS_MAX_OBJECT_BYTES", cls.max_object_bytes, 1),
            header_timeout=_float(env, "MLOPS_HEADER_TIMEOUT", cls.header_timeout),
            body_timeout=_float(env, "MLOPS_BODY_TIMEOUT", cls.body_timeout),
            keepalive_timeout=_float(env, "MLOPS_KEEPALIVE_TIMEOUT", 75.0),
            graceful_timeout=_float(env, "MLOPS_GRACEFUL_TIMEOUT", 30.0),
            log_level=level,
            input_prefix=_opt(env, "MLOPS_INPUT_PREFIX"),
            output_prefix=_opt(env, "MLOPS_OUTPUT_PREFIX"),
            output_bucket=_opt(env, "MLOPS_OUTPUT_BUCKET"),
            limits=parse_limits(env),
            multi_model=multi.strip().lower() in {"true", "1"},
            models_root=Path(_opt(env, "MLOPS_MULTI_MODEL_ROOT") or "/opt/ml/models"),
            model_cache_max_bytes=cache_bytes or None,
            model_memory_factor=_float(env, "MLOPS_MODEL_MEMORY_FACTOR", 3.0),
            models_page_size=_int(env, "MLOPS_MODELS_PAGE_SIZE", 100, 1),
        )
