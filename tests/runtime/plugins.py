"""Custom predictors loaded by the server through ``MLOPS_PREDICTOR`` in tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from mlops_runtime.predictor import OnnxPredictor


class SlowPredictor(OnnxPredictor):
    """The ONNX predictor with delays from MLOPS_TEST_LOAD_DELAY / MLOPS_TEST_PREDICT_DELAY."""

    def __init__(self) -> None:
        super().__init__()
        self.predict_delay = float(os.environ.get("MLOPS_TEST_PREDICT_DELAY", "0"))

    def load(self, model_dir: Path) -> None:
        """Sleep, then load."""
        time.sleep(float(os.environ.get("MLOPS_TEST_LOAD_DELAY", "0")))
        super().load(model_dir)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Sleep, then predict."""
        time.sleep(self.predict_delay)
        scores: np.ndarray = super().predict(batch)
        return scores


class ExplodingPredictor(OnnxPredictor):
    """Fails unexpectedly when a row's first value is 666."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Raise on the magic value."""
        if batch[0, 0] == 666:
            raise RuntimeError("boom: secret internal detail")
        scores: np.ndarray = super().predict(batch)
        return scores


class NotAPredictor:
    """Lacks the protocol's methods."""
