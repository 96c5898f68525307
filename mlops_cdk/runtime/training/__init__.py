"""Training code for the demo churn problem: preprocess, train, evaluate (SageMaker job contracts).

Each step is a module run as ``python -m mlops_runtime.training.<step>`` in the training image
(``Dockerfile.training``), with SageMaker's paths as defaults and flags for local runs. The model
is scikit-learn exported to ONNX with the serving contract of :mod:`mlops_runtime.predictor`, so
the runtime image serves it as-is. Heavy imports (scikit-learn, skl2onnx, onnxruntime) happen
inside the steps that need them.
"""
