"""What preprocess, train and evaluate share: SageMaker paths, CSV tables, the job runner."""

from __future__ import annotations

import csv
import logging
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelLoadError
from ..jsonlog import configure_logging

log = logging.getLogger("mlops_runtime.training")

# SageMaker Processing: where the standard MLPipeline graph mounts inputs and collects outputs.
PROCESSING = Path("/opt/ml/processing")
PROCESSING_DATA = PROCESSING / "input" / "data"
PROCESSING_TRAIN = PROCESSING / "train"
PROCESSING_TEST = PROCESSING / "test"
PROCESSING_FEATURES = PROCESSING / "features"
PROCESSING_MODEL = PROCESSING / "model"
PROCESSING_EVALUATION = PROCESSING / "evaluation"
# SageMaker Training (container contract; the SM_* names are the training toolkit's).
TRAINING_CHANNEL = Path("/opt/ml/input/data/train")
TRAINING_CONFIG = Path("/opt/ml/input/config")
TRAINING_MODEL = Path("/opt/ml/model")
TRAINING_OUTPUT = Path("/opt/ml/output")

#: The model's files: the ONNX graph the runtime serves, and its feature order.
MODEL_FILE = "model.onnx"
FEATURES_FILE = "features.json"


class DataError(ValueError):
    """Input data that a step cannot use (the message names the file and what is wrong)."""


def path_from(flag: Path | None, environ: Mapping[str, str], name: str, default: Path) -> Path:
    """A flag wins, then environment variable ``name``, then the SageMaker default."""
    if flag is not None:
        return flag
    return Path(environ[name]) if environ.get(name) else default


def csv_files(folder: Path) -> list[Path]:
    """Every ``*.csv`` under ``folder`` (recursively, sorted); at least one."""
    if not folder.is_dir():
        raise DataError(f"input folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    if not files:
        raise DataError(f"no *.csv file under {folder}")
    return files


@dataclass(frozen=True)
class Table:
    """Numeric rows read from CSV files, columns in ``columns`` order."""

    columns: tuple[str, ...]
    values: np.ndarray
    dropped: int = 0

    def column(self, name: str) -> np.ndarray:
        """One column by name."""
        return self.values[:, self.columns.index(name)]

    def without(self, name: str) -> tuple[tuple[str, ...], np.ndarray]:
        """All other columns (names, values), in order."""
        keep = [i for i, c in enumerate(self.columns) if c != name]
        return tuple(self.columns[i] for i in keep), self.values[:, keep]


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_table(
    files: Sequence[Path], columns: Sequence[str] | None = None, *, strict: bool = True
) -> Table:
    """Read CSV files with a header into one float64 table.

    ``columns``: the columns to keep, in this order (each file must have them; others are
    ignored); default: the first file's header, which every file must then match. A row with a
    missing, non-numeric or non-finite value raises ``DataError`` (``strict``) or is dropped
    and counted.
    """
    rows: list[list[float]] = []
    dropped = 0
    wanted: tuple[str, ...] | None = tuple(columns) if columns is not None else None
    for path in files:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            if wanted is None:
                wanted = tuple(header)
            missing = [name for name in wanted if name not in header]
            if missing or (columns is None and tuple(header) != wanted):
                raise DataError(
                    f"{path}: header {','.join(header)!r} does not have the columns "
                    f"{','.join(wanted)!r}"
                    + (f" (missing {', '.join(missing)})" if missing else "")
                )
            index = [header.index(name) for name in wanted]
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                try:
                    rows.append([_number(row[i]) for i in index])
                except (ValueError, IndexError):
                    if strict:
                        raise DataError(f"{path}:{line}: not a complete numeric row") from None
                    dropped += 1
    if wanted is None:
        raise DataError("no input files")
    values = np.array(rows, dtype=np.float64).reshape(len(rows), len(wanted))
    return Table(wanted, values, dropped)


def write_table(path: Path, columns: Sequence[str], values: np.ndarray) -> Path:
    """A CSV with a header; whole numbers without a decimal point, others to 10 digits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, values, fmt="%.10g", delimiter=",", header=",".join(columns), comments="")
    return path


def binary_labels(table: Table, label: str) -> np.ndarray:
    """The label column as 0/1 integers (anything else is a ``DataError``)."""
    if label not in table.columns:
        raise DataError(f"no label column {label!r} in {', '.join(table.columns)}")
    y = table.column(label)
    if not np.isin(y, (0.0, 1.0)).all():
        raise DataError(f"label {label!r} must be 0 or 1")
    return y.astype(np.int64)


def run_job(
    name: str,
    job: Callable[[], Mapping[str, Any]],
    *,
    failure_file: Path | None = None,
    environ: Mapping[str, str] = os.environ,
) -> int:
    """Run a step with JSON logs: ``<name>_complete`` with the step's summary and exit 0, or
    ``<name>_failed`` and exit 1 (the reason also goes to ``failure_file``, SageMaker's place
    for a training job's failure reason, when its folder exists)."""
    configure_logging(environ.get("MLOPS_LOG_LEVEL", "INFO"))
    try:
        summary = job()
    except Exception as exc:
        expected = isinstance(exc, DataError | ModelLoadError | OSError)
        log.error(f"{name}_failed", extra={"error": str(exc)}, exc_info=not expected)
        if failure_file is not None and failure_file.parent.is_dir():
            failure_file.write_text(f"{name} failed: {exc}\n", encoding="utf-8")
        return 1
    log.info(f"{name}_complete", extra=dict(summary))
    return 0
