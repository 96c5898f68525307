"""Write the demo churn model's drift baseline (statistics.json, constraints.json).

The training data is the same synthetic customers ``make_demo_model.py`` trains on (same seed,
same generator, rounded to cents as requests carry them); the baseline is built by the drift
job's own ``baseline`` command, exactly as users are told to build theirs. Deterministic:
re-running reproduces the checked-in files byte for byte.

Usage: ``python scripts/make_demo_baseline.py [--out DIR]``
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from pathlib import Path

import numpy as np

from mlops_cdk.runtime.drift.cli import main as drift_main
from mlops_cdk.runtime.training.demo_data import FEATURES, SEED, make_data

DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent / "mlops_cdk" / "runtime" / "demo_model" / "baseline"
)


def write_training_csv(path: Path) -> Path:
    """The demo model's synthetic training features as a CSV with a header."""
    x, _ = make_data(np.random.default_rng(SEED))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([name for name, *_ in FEATURES])
        writer.writerows([f"{value:.2f}" for value in row] for row in x)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        train = write_training_csv(Path(tmp) / "train.csv")
        return drift_main(["baseline", "--train", str(train), "--out", str(args.out)])


if __name__ == "__main__":
    raise SystemExit(main())
