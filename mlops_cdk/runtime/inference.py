"""The one inference contract shared by the HTTP server and the Lambda handler."""

from __future__ import annotations

import numpy as np

from .codecs import decode, encode, negotiate
from .limits import DEFAULT_LIMITS, ParseLimits
from .predictor import Predictor


class PredictorContractError(RuntimeError):
    """The predictor returned something that does not match its input (a 500, not a 4xx)."""


def invoke(
    predictor: Predictor,
    body: bytes,
    content_type: str | None,
    accept: str | None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> tuple[bytes, str]:
    """Decode ``body``, predict, encode per ``Accept``; returns ``(payload, media_type)``.

    Content negotiation runs first so a 406 costs no inference.
    """
    out_type = negotiate(accept)
    batch = decode(body, content_type, predictor.n_features, limits)
    predictions = np.asarray(predictor.predict(batch))
    if predictions.ndim == 0 or predictions.shape[0] != batch.shape[0]:
        raise PredictorContractError(
            f"predictor returned shape {predictions.shape} for {batch.shape[0]} rows"
        )
    return encode(predictions, out_type), out_type
