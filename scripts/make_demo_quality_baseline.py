"""Write the demo model's model-quality baseline (Model Monitor's statistics.json and
constraints.json) to ``mlops_cdk/runtime/demo_model/quality_baseline/``.

The demo model scores held-out synthetic customers (``make_data`` with seed ``SEED + 1``, never
trained on) with the runtime's ONNX predictor; the files come from the same code the pipeline's
evaluate step uses (``training.evaluate.quality_baseline``: the test value, 0.05 worse, is each
constraint's threshold). Deterministic: re-running reproduces the files exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mlops_cdk.runtime.predictor import OnnxPredictor
from mlops_cdk.runtime.training.demo_data import SEED, make_data
from mlops_cdk.runtime.training.evaluate import DEFAULT_QUALITY_TOLERANCE, quality_baseline

DEMO_MODEL = Path(__file__).resolve().parent.parent / "mlops_cdk/runtime/demo_model"
OUT = DEMO_MODEL / "quality_baseline"


def documents() -> dict[str, dict[str, object]]:
    """File name -> JSON document."""
    x, y = make_data(np.random.default_rng(SEED + 1))
    predictor = OnnxPredictor()
    predictor.load(DEMO_MODEL)
    score = np.asarray(predictor.predict(x.astype(np.float32)), dtype=np.float64).reshape(-1)
    statistics, constraints = quality_baseline(y, score, 0.5, DEFAULT_QUALITY_TOLERANCE)
    return {"statistics.json": statistics, "constraints.json": constraints}


def render(document: dict[str, object]) -> str:
    """The file text."""
    return json.dumps(document, indent=1) + "\n"


def main() -> None:
    """Write both files."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (OUT / name).write_text(render(document), encoding="utf-8")
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
