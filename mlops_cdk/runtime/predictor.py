"""The predictor interface, the default ONNX implementation, and plug-in loading by dotted path."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ModelLoadError
from .settings import Settings


@runtime_checkable
class Predictor(Protocol):
    """What the server and the Lambda handler need from a model.

    Implementations are constructed without arguments, then ``load`` is called once per
    process. ``predict`` gets a float32 ``[rows, features]`` array and returns an array with one
    row per input row (1-D or 2-D).
    """

    @property
    def n_features(self) -> int | None:
        """Features per row the model expects, or ``None`` if it accepts any width."""
        ...

    @property
    def input_names(self) -> Sequence[str]:
        """Names of the model inputs (metadata)."""
        ...

    def load(self, model_dir: Path) -> None:
        """Load the model artifact from ``model_dir``."""
        ...

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Score a batch."""
        ...


class OnnxPredictor:
    """ONNX model with one float tensor input ``[N, F]``, scored with onnxruntime on CPU.

    One session per process, reused for every request. ``threads`` is onnxruntime's intra-op
    thread count (1 suits one worker process per core; 0 lets onnxruntime decide).
    """

    def __init__(self, *, model_file: str = "model.onnx", threads: int = 1) -> None:
        self._model_file = model_file
        self._threads = threads
        self._session: Any = None
        self._input_name = ""
        self._output_name = ""
        self._dtype: type[np.floating[Any]] = np.float32
        self._n_features: int | None = None

    @property
    def n_features(self) -> int | None:
        """Fixed feature count from the model's input shape, if it declares one."""
        return self._n_features

    @property
    def input_names(self) -> Sequence[str]:
        """The single input name (empty before ``load``)."""
        return [self._input_name] if self._input_name else []

    def _find_model(self, model_dir: Path) -> Path:
        path = model_dir / self._model_file
        if path.is_file():
            return path
        candidates = sorted(model_dir.glob("*.onnx")) if model_dir.is_dir() else []
        if len(candidates) == 1:
            return candidates[0]
        raise ModelLoadError(
            f"no ONNX model at {path}"
            + (
                f" (found {len(candidates)} *.onnx files; set MLOPS_MODEL_FILE)"
                if candidates
                else ""
            )
        )

    def load(self, model_dir: Path) -> None:
        """Create the onnxruntime session and read the input metadata."""
        import onnxruntime as ort  # heavy import: only where a model is loaded

        path = self._find_model(model_dir)
        if path.stat().st_size == 0:
            raise ModelLoadError(f"model file {path} is empty")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelLoadError(f"onnxruntime cannot load {path}: {exc}") from exc
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise ModelLoadError(
                f"{path} has {len(inputs)} inputs; OnnxPredictor needs exactly one "
                "(plug in a custom predictor with MLOPS_PREDICTOR)"
            )
        (model_input,) = inputs
        if model_input.type not in ("tensor(float)", "tensor(double)"):
            raise ModelLoadError(f"input {model_input.name!r} is {model_input.type}, need a float")
        shape = model_input.shape
        if len(shape) != 2:
            raise ModelLoadError(f"input {model_input.name!r} has shape {shape}, need [N, F]")
        self._dtype = np.float64 if model_input.type == "tensor(double)" else np.float32
        self._n_features = shape[1] if isinstance(shape[1], int) else None
        self._input_name = model_input.name
        self._output_name = session.get_outputs()[0].name
        self._session = session

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Run the session on ``batch`` and return the first output."""
        if batch.dtype != self._dtype:
            batch = batch.astype(self._dtype)
        result: np.ndarray = self._session.run([self._output_name], {self._input_name: batch})[0]
        return result


def import_object(dotted: str) -> Any:
    """Import ``package.module:attr`` or ``package.module.attr``."""
    module_name, sep, attr = dotted.partition(":")
    if not sep:
        module_name, _, attr = dotted.rpartition(".")
    if not module_name or not attr:
        raise ModelLoadError(
            f"MLOPS_PREDICTOR must look like 'package.module:Class' (got {dotted!r})"
        )
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ModelLoadError(f"cannot import predictor {dotted!r}: {exc}") from exc
    return obj


def create_predictor(settings: Settings) -> Predictor:
    """The configured predictor (``MLOPS_PREDICTOR``) or the ONNX default, not yet loaded."""
    if settings.predictor is None:
        return OnnxPredictor(model_file=settings.model_file, threads=settings.ort_threads)
    predictor = import_object(settings.predictor)()
    if not isinstance(predictor, Predictor):
        raise ModelLoadError(
            f"{settings.predictor} does not implement the Predictor protocol "
            "(n_features, input_names, load, predict)"
        )
    return predictor


def load_predictor(settings: Settings) -> Predictor:
    """Create the configured predictor and load it from ``settings.model_location``."""
    predictor = create_predictor(settings)
    predictor.load(settings.model_location)
    return predictor
