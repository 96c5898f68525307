"""MLPipeline's standard graph, run locally: each step is the real module in a subprocess, with
SageMaker's paths mapped under one folder, and the model packed the way SageMaker packs
``/opt/ml/model`` into ``model.tar.gz``.

Usage: ``python -m mlops_runtime.training.local --workdir DIR [--rows 4000] [--data DIR]``
(without ``--data`` the demo data is generated). Layout under ``DIR``:

- ``input/data/``: the pipeline's ``InputDataUrl`` (``/opt/ml/processing/input/data``);
- ``train/``, ``test/``, ``features/``: preprocess's outputs (``/opt/ml/processing/<name>``);
- ``training/input/data/train/``, ``training/input/config/``, ``training/model/``,
  ``training/output/``: the training job's ``/opt/ml/...``;
- ``model/model.tar.gz``: the training job's ``S3ModelArtifacts`` (packed by
  :meth:`LocalPipeline.package_model` as SageMaker packs ``/opt/ml/model``);
- ``evaluation/evaluation.json``: evaluate's output; ``baseline/``: the drift baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: ``mlops_runtime`` in the images, ``mlops_cdk.runtime`` from a checkout.
RUNTIME_PACKAGE = (__package__ or "mlops_runtime.training").rpartition(".")[0]


class StepFailedError(RuntimeError):
    """A step exited non-zero; the message carries its last output lines."""


class LocalPipeline:
    """The standard graph's steps under ``root`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        package: str = RUNTIME_PACKAGE,
        env: Mapping[str, str] | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.root = root
        self.package = package
        self.env = dict(env) if env is not None else None
        self.timeout = timeout
        self.data = root / "input" / "data"
        self.train_split = root / "train"
        self.test_split = root / "test"
        self.features = root / "features"
        self.channel = root / "training" / "input" / "data" / "train"
        self.config = root / "training" / "input" / "config"
        self.model_dir = root / "training" / "model"
        self.training_output = root / "training" / "output"
        self.artifact = root / "model" / "model.tar.gz"
        self.evaluation = root / "evaluation"
        self.baseline = root / "baseline"

    def run(self, module: str, *args: str | Path, env: Mapping[str, str] | None = None) -> str:
        """``python -m <package>.<module> args...`` (``env`` added to the environment); returns
        its output, raises ``StepFailedError``."""
        base = self.env if self.env is not None else os.environ
        done = subprocess.run(  # noqa: S603 - our own modules, argument list
            [sys.executable, "-m", f"{self.package}.{module}", *map(str, args)],
            env={**base, **(env or {})},
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            tail = "\n".join(output.strip().splitlines()[-5:])
            raise StepFailedError(f"{module} exited {done.returncode}:\n{tail}")
        return output

    def demo_data(self, rows: int, seed: int | None = None) -> Path:
        """Generate the demo CSV into the input folder."""
        out = self.data / "churn.csv"
        extra = ["--seed", str(seed)] if seed is not None else []
        self.run("training.demo_data", "--out", out, "--rows", str(rows), *extra)
        return out

    def preprocess(self) -> None:
        """The Preprocess step."""
        self.run(
            "training.preprocess", "--input", self.data, "--train-out", self.train_split,
            "--test-out", self.test_split, "--features-out", self.features,
        )  # fmt: skip

    def train(self, hyperparameters: Mapping[str, str] | None = None) -> None:
        """The Train step: the pipeline copies the train split into the channel and writes
        hyperparameters.json (string values, as CreateTrainingJob passes them)."""
        shutil.rmtree(self.channel, ignore_errors=True)
        shutil.copytree(self.train_split, self.channel)
        self.config.mkdir(parents=True, exist_ok=True)
        (self.config / "hyperparameters.json").write_text(json.dumps(hyperparameters or {}))
        self.training_output.mkdir(parents=True, exist_ok=True)
        env = {
            "SM_CHANNEL_TRAIN": str(self.channel),
            "SM_MODEL_DIR": str(self.model_dir),
            "SM_INPUT_CONFIG_DIR": str(self.config),
            "SM_OUTPUT_DIR": str(self.training_output),
        }
        self.run("training.train", env=env)

    def package_model(self) -> Path:
        """``model.tar.gz`` of the model directory's contents, as SageMaker uploads it."""
        self.artifact.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(self.artifact, "w:gz") as tar:
            for path in sorted(self.model_dir.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=path.relative_to(self.model_dir).as_posix())
        return self.artifact

    def evaluate(self) -> dict[str, Any]:
        """The Evaluate step; returns evaluation.json."""
        self.run(
            "training.evaluate", "--model", self.artifact.parent, "--test", self.test_split,
            "--out", self.evaluation,
        )  # fmt: skip
        report: dict[str, Any] = json.loads((self.evaluation / "evaluation.json").read_text())
        return report

    def drift_baseline(self) -> Path:
        """The DriftBaseline step, on the training split's features."""
        self.run(
            "drift", "baseline", "--train", self.features / "train.csv", "--out", self.baseline
        )
        return self.baseline

    def run_all(self, rows: int | None = 4000) -> dict[str, Any]:
        """Every step in graph order (demo data first when ``rows``); returns evaluation.json."""
        if rows:
            self.demo_data(rows)
        self.preprocess()
        self.train()
        self.package_model()
        report = self.evaluate()
        self.drift_baseline()
        return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the whole graph locally and print the gate metrics."""
    parser = argparse.ArgumentParser(prog=f"python -m {RUNTIME_PACKAGE}.training.local")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=4000, help="demo rows (without --data)")
    parser.add_argument("--data", type=Path, default=None, help="folder of input CSVs")
    args = parser.parse_args(argv)
    pipeline = LocalPipeline(args.workdir)
    if args.data is not None:
        shutil.copytree(args.data, pipeline.data, dirs_exist_ok=True)
    try:
        report = pipeline.run_all(None if args.data is not None else args.rows)
    except StepFailedError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps({"model": str(pipeline.artifact), "metrics": report["metrics"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
