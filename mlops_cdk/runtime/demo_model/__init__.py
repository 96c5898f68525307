"""Demo churn model (package data): ``model.onnx`` and sample requests."""
