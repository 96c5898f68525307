"""Typed errors of the inference contract; each maps to one HTTP status and a JSON body."""

from __future__ import annotations

import json


class InferenceError(Exception):
    """A request the runtime refuses, with the HTTP status and a stable machine-readable code."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def body(self, request_id: str) -> bytes:
        """The JSON error body: ``{"error": {"code", "message", "request_id"}}``."""
        return error_body(self.code, self.message, request_id)


class BadRequestError(InferenceError):
    """Malformed or invalid input (400)."""


class NotFoundError(InferenceError):
    """Unknown path (404)."""

    status = 404
    code = "not_found"


class MethodNotAllowedError(InferenceError):
    """Known path, wrong method (405); ``allow`` lists the accepted methods."""

    status = 405
    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: str) -> None:
        super().__init__(message)
        self.allow = allow


class NotAcceptableError(InferenceError):
    """No supported response content type in ``Accept`` (406)."""

    status = 406
    code = "not_acceptable"


class ConflictError(InferenceError):
    """The resource already exists, e.g. a model that is already loaded (409)."""

    status = 409
    code = "conflict"


class LengthRequiredError(InferenceError):
    """Body without ``Content-Length`` (chunked bodies are not supported) (411)."""

    status = 411
    code = "length_required"


class RequestTimeoutError(InferenceError):
    """The request head or body did not arrive within its timeout (408)."""

    status = 408
    code = "request_timeout"


class PayloadTooLargeError(InferenceError):
    """Body larger than the configured limit (413)."""

    status = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(InferenceError):
    """Request ``Content-Type`` the codecs cannot parse (415)."""

    status = 415
    code = "unsupported_media_type"


class HeadersTooLargeError(InferenceError):
    """Request line plus headers over the limit (431)."""

    status = 431
    code = "headers_too_large"


class InsufficientStorageError(InferenceError):
    """Not enough memory to load a model (507, as the multi-model contract asks)."""

    status = 507
    code = "insufficient_memory"


class ModelNotReadyError(InferenceError):
    """The model is still loading (503)."""

    status = 503
    code = "model_not_ready"


class ModelLoadError(RuntimeError):
    """The model artifact is missing, corrupt, fails verification or cannot be loaded."""


def error_body(code: str, message: str, request_id: str) -> bytes:
    """Serialize an error as the runtime's JSON error body."""
    payload = {"error": {"code": code, "message": message, "request_id": request_id}}
    return json.dumps(payload).encode()
