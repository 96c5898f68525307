"""Synthetic customers for the demo churn problem (the data the demo model was trained on).

Deterministic for a seed: ``scripts/make_demo_model.py`` trains the checked-in demo model on
``make_data(np.random.default_rng(SEED))``. ``shift`` moves feature means by a number of standard
deviations while the churn relationship stays the same (covariate drift, for drift rehearsals).

Usage: ``python -m mlops_runtime.training.demo_data --out data.csv [--rows 4000] [--seed N]
[--shift tenure_months=-1 ...]`` writes the CSV a pipeline's input prefix would hold: a header
(the 8 features, then ``churn``), features rounded to cents, labels 0/1.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

SEED = 20261121
N_SAMPLES = 4000
LABEL = "churn"

#: Feature order of the model input ``features`` (float32 [N, 8]), with the synthetic
#: distribution (mean, std) and the "true" standardized effect on churn used to label data.
FEATURES: tuple[tuple[str, float, float, float], ...] = (
    ("tenure_months", 30.0, 18.0, -1.2),
    ("monthly_charges", 70.0, 25.0, 0.8),
    ("support_calls", 2.0, 1.5, 0.9),
    ("contract_months_remaining", 8.0, 6.0, -1.0),
    ("num_products", 2.5, 1.2, -0.5),
    ("late_payments", 1.0, 1.0, 0.7),
    ("data_usage_gb", 15.0, 8.0, -0.2),
    ("satisfaction_score", 3.5, 1.0, -0.9),
)
FEATURE_NAMES: tuple[str, ...] = tuple(f[0] for f in FEATURES)


def make_data(
    rng: np.random.Generator, n: int = N_SAMPLES, shift: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic customers (raw units, clipped at 0) and churn labels from a noisy logistic.

    ``shift`` maps feature names to mean shifts in standard deviations (unknown names raise).
    """
    unknown = sorted(set(shift or {}) - set(FEATURE_NAMES))
    if unknown:
        raise ValueError(f"unknown features in shift: {', '.join(unknown)}")
    means = np.array([f[1] for f in FEATURES])
    stds = np.array([f[2] for f in FEATURES])
    effects = np.array([f[3] for f in FEATURES])
    offsets = np.array([(shift or {}).get(name, 0.0) for name in FEATURE_NAMES]) * stds
    x = np.clip(rng.normal(means + offsets, stds, size=(n, len(FEATURES))), 0.0, None)
    logits = ((x - means) / stds) @ effects - 0.8 + rng.normal(0.0, 0.5, n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype(np.float64)
    return x, y


def write_csv(
    path: Path, n: int = N_SAMPLES, seed: int = SEED, shift: Mapping[str, float] | None = None
) -> Path:
    """Write ``n`` customers as a CSV with a header: features in cents, then the 0/1 label."""
    x, y = make_data(np.random.default_rng(seed), n, shift)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join((*FEATURE_NAMES, LABEL))]
    lines += [
        ",".join([*(f"{v:.2f}" for v in row), str(int(label))])
        for row, label in zip(x, y, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _parse_shift(items: Sequence[str]) -> dict[str, float]:
    shift = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"--shift takes feature=sigmas (got {item!r})")
        shift[name] = float(value)
    return shift


def main(argv: Sequence[str] | None = None) -> int:
    """Write the demo CSV."""
    parser = argparse.ArgumentParser(prog="python -m mlops_runtime.training.demo_data")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--rows", type=int, default=N_SAMPLES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--shift", action="append", default=[], metavar="FEATURE=SIGMAS", help="mean shift"
    )
    args = parser.parse_args(argv)
    try:
        write_csv(args.out, args.rows, args.seed, _parse_shift(args.shift))
    except (ValueError, argparse.ArgumentTypeError) as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
