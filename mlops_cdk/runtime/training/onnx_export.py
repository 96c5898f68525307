"""Export a fitted scikit-learn binary classifier to ONNX in the runtime's serving contract.

The contract (:class:`mlops_runtime.predictor.OnnxPredictor`, the demo model): one input
``features`` float32 ``[N, F]`` and, as the first (here the only) output, the positive-class
probability ``churn_probability`` float32 ``[N, 1]``. skl2onnx emits ``label`` and
``probabilities [N, 2]``; we slice column 1 and drop what no output needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT_NAME = "features"
OUTPUT_NAME = "churn_probability"
#: Conservative opsets: onnxruntime has supported these for years.
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
PRODUCER = "mlops-cdk/mlops_runtime.training"


def _prune(graph: onnx.GraphProto) -> None:
    """Remove nodes (and initializers) that no graph output depends on."""
    needed = {output.name for output in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def to_serving_onnx(classifier: Any, feature_names: Sequence[str]) -> onnx.ModelProto:
    """``classifier`` (a fitted binary classifier skl2onnx converts) in the serving contract.

    Raises ``ValueError`` if the converted graph has no ``[N, 2]`` probabilities output.
    """
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    n = len(feature_names)
    model: onnx.ModelProto = to_onnx(
        classifier,
        initial_types=[(INPUT_NAME, FloatTensorType([None, n]))],
        options={"zipmap": False},
        target_opset=TARGET_OPSET,
    )
    graph = model.graph
    probabilities = next((o.name for o in graph.output if o.name == "probabilities"), None)
    if probabilities is None:
        raise ValueError(f"no 'probabilities' output in {[o.name for o in graph.output]}")
    graph.initializer.extend(
        numpy_helper.from_array(np.array([value], dtype=np.int64), name=f"positive_{name}")
        for name, value in (("start", 1), ("end", 2), ("axis", 1))
    )
    graph.node.append(
        helper.make_node(
            "Slice",
            [probabilities, "positive_start", "positive_end", "positive_axis"],
            [OUTPUT_NAME],
            name="PositiveClass",
        )
    )
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, 1]))
    _prune(graph)
    model.producer_name = PRODUCER
    model.doc_string = "Churn probability. Features: " + ", ".join(feature_names)
    onnx.checker.check_model(model, full_check=True)
    return model
