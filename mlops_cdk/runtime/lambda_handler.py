"""AWS Lambda entry point (``mlops_runtime.lambda_handler.handler``), same contract as the server.

Events: API Gateway REST (v1) and HTTP API / function URL (v2) proxy events (``GET …/ping``,
``POST`` anything else = invocations), direct invocation (``{"instances": …}`` → ``{"predictions":
…}``), and new S3 objects, announced either as S3 ``ObjectCreated`` notifications (``Records[]``)
or as EventBridge ``Object Created`` events (``source: aws.s3``): the object is scored and the
result written under ``MLOPS_OUTPUT_PREFIX``; refused if that could overwrite or re-trigger on
input. The model is
loaded once per execution environment; under Lambda that happens at import (init phase, so
provisioned concurrency pre-warms it), elsewhere on first use.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from .codecs import CSV, JSON, JSONLINES, decode, encode, media_type
from .errors import (
    BadRequestError,
    InferenceError,
    MethodNotAllowedError,
    PayloadTooLargeError,
    error_body,
)
from .inference import invoke
from .jsonlog import configure_logging
from .model_source import prepare_model
from .predictor import Predictor, load_predictor
from .s3 import S3Client, S3ClientFactory, boto3_client
from .settings import Settings

log = logging.getLogger("mlops_runtime.lambda")
_SUFFIX_TYPES = {".csv": CSV, ".json": JSON, ".jsonl": JSONLINES, ".jsonlines": JSONLINES}


class S3LoopError(RuntimeError):
    """Writing the result could overwrite the input or re-trigger the function."""


class MalformedEventError(ValueError):
    """An event of a known kind lacks a field it must have (names the field)."""


def _field(node: Any, path: str, kind: str, prefix: str = "") -> Any:
    """``node[a][b]...`` for ``path`` ``"a.b"``; a missing or non-object level names the path."""
    for depth, key in enumerate(path.split(".")):
        if not isinstance(node, dict) or key not in node:
            where = ".".join(path.split(".")[: depth + 1])
            raise MalformedEventError(f"{kind} has no {prefix}{where}")
        node = node[key]
    return node


def _lower_keys(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _http_response(status: int, body: bytes, content_type: str, request_id: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_type, "X-Request-Id": request_id},
        "body": body.decode(),
        "isBase64Encoded": False,
    }


class LambdaApp:
    """Routes Lambda events to the predictor; collaborators are injected for tests."""

    def __init__(
        self,
        settings: Settings,
        *,
        predictor_loader: Callable[[Settings], Predictor] = load_predictor,
        s3_client_factory: S3ClientFactory = boto3_client,
    ) -> None:
        self.settings = settings
        self._loader = predictor_loader
        self._s3_factory = s3_client_factory
        self._predictor: Predictor | None = None
        self._s3: S3Client | None = None

    @property
    def predictor(self) -> Predictor:
        """The loaded predictor (fetches and loads the model on first use)."""
        if self._predictor is None:
            prepare_model(self.settings, self._s3_factory)
            self._predictor = self._loader(self.settings)
        return self._predictor

    @property
    def s3(self) -> S3Client:
        """The S3 client, created on first use."""
        if self._s3 is None:
            self._s3 = self._s3_factory()
        return self._s3

    def __call__(self, event: Any, context: Any) -> Any:
        """Dispatch on the event's shape."""
        request_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4().hex)
        if isinstance(event, dict):
            if "httpMethod" in event or event.get("version") == "2.0":
                return self.http(event, request_id)
            records = event.get("Records")
            if (
                isinstance(records, list)
                and records
                and isinstance(records[0], dict)
                and records[0].get("eventSource") == "aws:s3"
            ):
                return self.s3_event(records)
            if event.get("source") == "aws.s3" and isinstance(event.get("detail"), dict):
                return self.eventbridge_s3_event(event)
        return self.direct(event)

    # -- API Gateway / function URL ----------------------------------------------------------

    def http(self, event: dict[str, Any], request_id: str) -> dict[str, Any]:
        """API Gateway v1/v2 and function URL proxy events."""
        if "httpMethod" in event:
            method, path = str(event["httpMethod"]), str(event.get("path") or "/")
        else:
            method = str(_field(event, "requestContext.http.method", "HTTP API event"))
            path = str(event.get("rawPath") or "/")
        headers = _lower_keys(event.get("headers"))
        try:
            if path.rstrip("/").endswith("/ping") and method in ("GET", "HEAD"):
                self.predictor  # noqa: B018 - loads the model: healthy only when loadable
                return _http_response(200, b'{"status": "ok"}', JSON, request_id)
            if method != "POST":
                raise MethodNotAllowedError(
                    f"use POST for predictions, GET …/ping for health (got {method})",
                    allow="GET, POST",
                )
            body = self._http_body(event)
            payload, content_type = invoke(
                self.predictor,
                body,
                headers.get("content-type"),
                headers.get("accept"),
                self.settings.limits,
            )
            return _http_response(200, payload, content_type, request_id)
        except InferenceError as exc:
            log.info("rejected request", extra={"request_id": request_id, "status": exc.status})
            return _http_response(exc.status, exc.body(request_id), JSON, request_id)
        except Exception:
            log.exception("request failed", extra={"request_id": request_id})
            body = error_body(
                "internal_error", "unexpected error; see the logs for request_id", request_id
            )
            return _http_response(500, body, JSON, request_id)

    def _http_body(self, event: dict[str, Any]) -> bytes:
        raw = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                raise BadRequestError("body is not valid base64", code="invalid_encoding") from None
        else:
            body = raw.encode() if isinstance(raw, str) else bytes(raw)
        if len(body) > self.settings.max_body_bytes:
            raise PayloadTooLargeError(
                f"body is {len(body)} bytes; the limit is {self.settings.max_body_bytes}"
            )
        return body

    # -- direct invocation -------------------------------------------------------------------

    def direct(self, event: Any) -> dict[str, Any]:
        """``{"instances": rows}`` (or rows) → ``{"predictions": [...]}``; bad input raises."""
        body = json.dumps(event).encode()
        payload, _ = invoke(self.predictor, body, JSON, JSON, self.settings.limits)
        result: dict[str, Any] = json.loads(payload)
        return result

    # -- S3 ObjectCreated --------------------------------------------------------------------

    def output_location(self, bucket: str, key: str) -> tuple[str, str]:
        """Where the result of ``s3://bucket/key`` goes; raises ``S3LoopError`` if unsafe."""
        settings = self.settings
        out_prefix = settings.output_prefix
        if not out_prefix:
            raise S3LoopError("MLOPS_OUTPUT_PREFIX is not set; refusing to write next to the input")
        in_prefix = settings.input_prefix or ""
        out_bucket = settings.output_bucket or bucket
        if not key.startswith(in_prefix):
            raise S3LoopError(f"object {key!r} is outside MLOPS_INPUT_PREFIX {in_prefix!r}")
        out_key = out_prefix + key[len(in_prefix) :] + ".out"
        if out_bucket == bucket:
            if key.startswith(out_prefix):
                raise S3LoopError(
                    f"object {key!r} is under the output prefix {out_prefix!r}: refusing to "
                    "score our own output (recursive invocation loop)"
                )
            if out_key.startswith(in_prefix):
                raise S3LoopError(
                    f"output key {out_key!r} would sit under the input prefix {in_prefix!r} "
                    "(it would overwrite input or re-trigger this function); set "
                    "MLOPS_INPUT_PREFIX and an MLOPS_OUTPUT_PREFIX outside it"
                )
        return out_bucket, out_key

    def s3_event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Score each created object; results land at ``<output prefix><relative key>.out``."""
        located = []
        for index, record in enumerate(records):
            kind, prefix = "S3 notification", f"Records[{index}]."
            if not isinstance(record, dict):
                raise MalformedEventError(f"{kind} Records[{index}] is not an object")
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                log.info("ignoring S3 event", extra={"event_name": record.get("eventName")})
                continue
            bucket = str(_field(record, "s3.bucket.name", kind, prefix))
            # Notification keys are URL-encoded ("red flower.csv" arrives as "red+flower.csv").
            key = unquote_plus(str(_field(record, "s3.object.key", kind, prefix)))
            located.append((bucket, key))
        return {"results": [self.score_object(bucket, key) for bucket, key in located]}

    def eventbridge_s3_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """An EventBridge ``Object Created`` event from a bucket with EventBridge notifications on
        (``detail.bucket.name``, ``detail.object.key``; the key arrives as stored, not encoded).
        Other S3 event types (deletions, restores) are ignored."""
        if event.get("detail-type") != "Object Created":
            log.info("ignoring S3 event", extra={"event_name": event.get("detail-type")})
            return {"results": []}
        kind = "EventBridge Object Created event"
        bucket = str(_field(event, "detail.bucket.name", kind))
        key = str(_field(event, "detail.object.key", kind))
        return {"results": [self.score_object(bucket, key)]}

    def score_object(self, bucket: str, key: str) -> dict[str, Any]:
        """Score ``s3://bucket/key`` into ``<output prefix><relative key>.out``."""
        out_bucket, out_key = self.output_location(bucket, key)
        response = self.s3.get_object(Bucket=bucket, Key=key)
        size = int(response.get("ContentLength") or 0)
        if size > self.settings.max_object_bytes:
            raise PayloadTooLargeError(
                f"s3://{bucket}/{key} is {size} bytes; the limit is "
                f"{self.settings.max_object_bytes} (MLOPS_MAX_OBJECT_BYTES)"
            )
        body = response["Body"].read(self.settings.max_object_bytes + 1)
        if len(body) > self.settings.max_object_bytes:
            raise PayloadTooLargeError(f"s3://{bucket}/{key} is over the limit")
        suffix = os.path.splitext(key)[1].lower()  # noqa: PTH122 - an S3 key, not a path
        in_type = _SUFFIX_TYPES.get(suffix) or media_type(response.get("ContentType"))
        predictor = self.predictor
        batch = decode(body, in_type, predictor.n_features, self.settings.limits)
        out_type = CSV if in_type == CSV else JSONLINES
        payload = encode(predictor.predict(batch), out_type)
        self.s3.put_object(Bucket=out_bucket, Key=out_key, Body=payload, ContentType=out_type)
        log.info(
            "scored object",
            extra={"input": f"s3://{bucket}/{key}", "output": f"s3://{out_bucket}/{out_key}"},
        )
        return {
            "input": f"s3://{bucket}/{key}",
            "output": f"s3://{out_bucket}/{out_key}",
            "rows": int(batch.shape[0]),
        }


_APP: LambdaApp | None = None


def _default_app() -> LambdaApp:
    global _APP  # one app per execution environment
    if _APP is None:
        configure_logging(os.environ.get("MLOPS_LOG_LEVEL", "INFO"))
        app = LambdaApp(Settings.from_env())
        app.predictor  # noqa: B018 - load the model now, once per execution environment
        _APP = app
    return _APP


def handler(event: Any, context: Any) -> Any:
    """The Lambda handler."""
    return _default_app()(event, context)


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # init phase: pre-load (errors resurface later)
    try:
        _default_app()
    except Exception:
        log.exception("model failed to load during init; will retry on first invocation")
