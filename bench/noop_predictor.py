"""A predictor without inference: the serving stack's ceiling (``bench.serving --ceiling``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class NoopPredictor:
    """Eight features in, one zero per row out; loads nothing."""

    n_features: int | None = 8
    input_names = ["features"]  # noqa: RUF012 - matches the Predictor protocol's shape

    def load(self, model_dir: Path) -> None:
        """Nothing to load."""

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """One zero per row."""
        return np.zeros((batch.shape[0], 1), dtype=np.float32)
