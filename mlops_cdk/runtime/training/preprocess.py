"""Preprocess (SageMaker Processing): clean the input CSVs and split them into train and test.

Reads every ``*.csv`` under ``--input`` (header required; the feature and label columns, any
order, other columns ignored), drops rows with a missing, non-numeric or non-finite value or a
label other than 0/1, and splits the rest, stratified by label and seeded, into:

- ``<train-out>/train.csv`` and ``<test-out>/test.csv``: features in model-input order, then the
  label (header ``<features...>,<label>``);
- ``<features-out>/train.csv``: the training split's features only, i.e. the endpoint's request
  columns: what the drift baseline (``python -m mlops_runtime.drift baseline``) is built from.

Usage: ``python -m mlops_runtime.training.preprocess [--input DIR] [--train-out DIR]
[--test-out DIR] [--features-out DIR] [--features a,b,...] [--label churn] [--test-fraction 0.2]
[--seed N]``; defaults are the MLPipeline processing paths under /opt/ml/processing.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .common import (
    PROCESSING_DATA,
    PROCESSING_FEATURES,
    PROCESSING_TEST,
    PROCESSING_TRAIN,
    DataError,
    csv_files,
    read_table,
    run_job,
    write_table,
)
from .demo_data import FEATURE_NAMES, LABEL, SEED

MIN_ROWS = 50


def split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test), stratified by label, each sorted; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        cut = round(len(rows) * test_fraction)
        test.append(rows[:cut])
        train.append(rows[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def preprocess(
    input_dir: Path,
    train_out: Path,
    test_out: Path,
    features_out: Path,
    *,
    features: Sequence[str] = FEATURE_NAMES,
    label: str = LABEL,
    test_fraction: float = 0.2,
    seed: int = SEED,
) -> dict[str, Any]:
    """Clean, split and write; returns the summary that is logged."""
    columns = (*features, label)
    table = read_table(csv_files(input_dir), columns, strict=False)
    valid = np.isin(table.column(label), (0.0, 1.0))
    rows = table.values[valid]
    dropped = table.dropped + int((~valid).sum())
    y = rows[:, -1]
    if len(rows) < MIN_ROWS or len(np.unique(y)) < 2:
        raise DataError(
            f"{len(rows)} usable rows under {input_dir} ({dropped} dropped); need at least "
            f"{MIN_ROWS} with both labels"
        )
    train, test = split(y, test_fraction, seed)
    write_table(train_out / "train.csv", columns, rows[train])
    write_table(test_out / "test.csv", columns, rows[test])
    write_table(features_out / "train.csv", features, rows[train][:, :-1])
    return {
        "rows": len(rows) + dropped,
        "dropped": dropped,
        "train": len(train),
        "test": len(test),
        "positive_rate": round(float(y.mean()), 4),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m mlops_runtime.training.preprocess")
    parser.add_argument("--input", type=Path, default=PROCESSING_DATA)
    parser.add_argument("--train-out", type=Path, default=PROCESSING_TRAIN)
    parser.add_argument("--test-out", type=Path, default=PROCESSING_TEST)
    parser.add_argument("--features-out", type=Path, default=PROCESSING_FEATURES)
    parser.add_argument("--features", default=",".join(FEATURE_NAMES), help="model-input order")
    parser.add_argument("--label", default=LABEL)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    if not 0 < args.test_fraction < 1:
        parser.error("--test-fraction must be between 0 and 1")
    features = [name.strip() for name in args.features.split(",") if name.strip()]
    if not features or args.label in features or len(set(features)) != len(features):
        parser.error("--features must be distinct column names other than --label")
    return run_job(
        "preprocess",
        lambda: preprocess(
            args.input,
            args.train_out,
            args.test_out,
            args.features_out,
            features=features,
            label=args.label,
            test_fraction=args.test_fraction,
            seed=args.seed,
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
