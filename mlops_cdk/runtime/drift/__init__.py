"""Drift job: a self-contained replacement for Model Monitor's data-quality and model-quality
analyses, on one or several Processing hosts.

It reads SageMaker data-capture files, compares each feature with a baseline
(``statistics.json`` / ``constraints.json`` in Model Monitor's format) or merges predictions
with ground-truth labels and scores them, writes ``constraint_violations.json`` and publishes
the same CloudWatch metrics.
Dependencies: the standard library and numpy (boto3 only when publishing metrics).
"""
