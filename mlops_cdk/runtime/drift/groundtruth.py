"""Merge captured predictions with uploaded ground-truth labels, as Model Monitor's model-quality
monitor does (AWS docs, *Ingest Ground Truth labels and merge them with predictions*).

Ground truth is JSON Lines under ``<prefix>/yyyy/mm/dd/hh/`` (the capture's path format), one
record per line::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "aaaa-bbbb-cccc"}, "eventVersion": "0"}

A label's ``eventId`` is the capture's ``eventMetadata.inferenceId`` when the caller supplied
one, else the capture's ``eventId``. ``data`` holds one label per captured record (several when
one request carried several records, in the same order).

Predictions come from ``captureData.endpointOutput``: the runtime's JSON contract
``{"predictions": [...]}``, a JSON list, JSON Lines or CSV (one prediction per line). Each
prediction is a value, a list (attributes are indexes) or an object (attributes are keys):
``inference_attribute`` picks the predicted label, ``probability_attribute`` the probability;
for binary classification a probability at or above ``probability_threshold`` (default 0.5)
predicts the positive class ``1``, and a bare number is read as a probability (a 0/1 label
reads the same). Labels ``1``/``true`` are positive.

Labels are read from the window's start to the run's reference time (they arrive after the
predictions, see ``--label-delay-hours``), every host reading all of them (they are small: one id
and one label per record); each host joins them with its own share of the capture. Unmatched
predictions (no label) and unmatched labels (no prediction in the window) are counted, never
errors; with unique ids, ``labels_unmatched = labels - matched`` is exact across hosts.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..limits import DEFAULT_LIMITS, ParseLimits, csv_rows, loads  # noqa: TID252 - the image installs runtime/ as mlops_runtime
from .accumulators import category_key
from .capture import FileSource, ReadStats, iter_events, member
from .payload import PayloadError, decode_payload
from .quality import (
    Accumulator,
    BinaryQuality,
    MulticlassQuality,
    RegressionQuality,
    accumulator_from_json,
    new_accumulator,
)
from .shard import ALL, Shard
from .window import Window

DEFAULT_PROBABILITY_THRESHOLD = 0.5
_TRUE = frozenset({"1", "true"})


@dataclass(frozen=True, kw_only=True)
class PredictionSpec:
    """How to read a prediction (Model Monitor's ``inference_attribute``,
    ``probability_attribute``, ``probability_threshold_attribute``)."""

    problem_type: str
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float = DEFAULT_PROBABILITY_THRESHOLD


@dataclass
class MatchStats:
    """Counts of the merge (records, not events)."""

    labels: int = 0
    duplicate_labels: int = 0
    matched: int = 0
    predictions_unmatched: int = 0
    length_mismatches: int = 0
    unusable: int = 0

    @property
    def labels_unmatched(self) -> int:
        """Labels with no captured prediction in the window (exact for unique ids)."""
        return max(0, self.labels - self.matched)

    def merge(self, other: MatchStats) -> None:
        """Add another host's counts; every host read the same labels, so ``labels`` stays."""
        if self.labels != other.labels and self.labels and other.labels:
            raise ValueError(
                f"hosts read different ground truth ({self.labels} and {other.labels} labels)"
            )
        self.labels = max(self.labels, other.labels)
        self.duplicate_labels = max(self.duplicate_labels, other.duplicate_labels)
        self.matched += other.matched
        self.predictions_unmatched += other.predictions_unmatched
        self.length_mismatches += other.length_mismatches
        self.unusable += other.unusable

    def to_json(self) -> dict[str, int]:
        """The counts as a JSON object (with ``labels_unmatched``)."""
        return {**asdict(self), "labels_unmatched": self.labels_unmatched}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> MatchStats:
        """Read :meth:`to_json`."""
        return cls(**{k: int(v) for k, v in document.items() if k in cls.__dataclass_fields__})


@dataclass
class QualityPartial:
    """One host's model-quality accumulator and merge counts."""

    problem_type: str
    accumulator: Accumulator
    match: MatchStats = field(default_factory=MatchStats)

    def merge(self, other: QualityPartial) -> None:
        """Absorb another host's partial."""
        self.accumulator.merge(other.accumulator)  # type: ignore[arg-type]
        self.match.merge(other.match)

    def to_json(self) -> dict[str, object]:
        """The partial as a JSON object."""
        return {
            "problem_type": self.problem_type,
            "accumulator": self.accumulator.to_json(),
            "match": self.match.to_json(),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> QualityPartial:
        """Read :meth:`to_json`."""
        kind = str(document["problem_type"])
        return cls(
            kind,
            accumulator_from_json(kind, document["accumulator"]),
            MatchStats.from_json(document["match"]),
        )


def event_id(event: Mapping[str, object]) -> str:
    """``inferenceId`` when present, else ``eventId`` (how Model Monitor matches labels)."""
    metadata = member(event, "eventMetadata", "")
    identifier = metadata.get("inferenceId") or metadata.get("eventId")
    if not isinstance(identifier, str) or not identifier:
        raise PayloadError("eventMetadata has no inferenceId or eventId")
    return identifier


def _label_values(entry: Mapping[str, object], limits: ParseLimits) -> list[object]:
    values: list[object] = []
    for record in decode_payload(entry, limits):
        row = list(record.values()) if isinstance(record, dict) else record
        values.extend(row)
    return values


def read_labels(
    source: FileSource,
    window: Window,
    stats: ReadStats,
    match: MatchStats,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> dict[str, list[object]]:
    """Every ground-truth record in the window's hour folders: event id -> labels (a later
    duplicate of an id replaces the earlier one and is counted)."""

    def extract(event: Mapping[str, object]) -> list[tuple[str, list[object]]]:
        data = member(event, "groundTruthData", "")
        return [(event_id(event), _label_values(data, limits))]

    labels: dict[str, list[object]] = {}
    for identifier, values in iter_events(source, window, extract, stats, limits):
        previous = labels.get(identifier)
        if previous is not None:
            match.duplicate_labels += len(previous)
            match.labels -= len(previous)
        labels[identifier] = values
        match.labels += len(values)
    return labels


def _items(entry: Mapping[str, object], limits: ParseLimits) -> list[object]:
    """The predictions held in one ``endpointOutput`` entry."""
    data = entry.get("data")
    if not isinstance(data, str):
        raise PayloadError("endpointOutput has no 'data' string")
    encoding = str(entry.get("encoding", "CSV")).upper()
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise PayloadError(f"invalid BASE64 payload: {exc}") from exc
        encoding = "JSON" if "json" in str(entry.get("observedContentType", "")).lower() else "CSV"
    if encoding == "JSON":
        return _json_items(data, limits)
    if encoding != "CSV":
        raise PayloadError(f"unsupported capture encoding {encoding!r}")
    lines = [line for line in data.splitlines() if line.strip()]
    rows = csv_rows(lines, limits) if '"' in data else [line.split(",") for line in lines]
    return [row[0] if len(row) == 1 else list(row) for row in rows]


def _json_items(text: str, limits: ParseLimits) -> list[object]:
    try:
        documents = [loads(text, limits)]
    except json.JSONDecodeError:
        documents = [loads(line, limits) for line in text.splitlines() if line.strip()]
    items: list[object] = []
    for document in documents:
        if isinstance(document, Mapping):
            found = document.get("predictions")
            items.extend(found if isinstance(found, list) else [document])
        elif isinstance(document, list):
            items.extend(document)
        else:
            items.append(document)
    return items


def _attribute(item: object, name: str) -> object:
    if isinstance(item, Mapping):
        if name not in item:
            raise KeyError(f"prediction has no attribute {name!r}")
        return item[name]
    if isinstance(item, list):
        return item[int(name)]
    raise PayloadError(f"prediction {item!r} has no attribute {name!r}")


def _number(value: object) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"prediction {value!r} is not a finite number")
    return number


def _label(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return category_key(float(value))
    text = str(value).strip()
    try:
        return category_key(float(text))
    except ValueError:
        return text


def _positive(label: str) -> bool:
    return label.lower() in _TRUE


class Joiner:
    """Feeds matched pairs of one host into a model-quality accumulator."""

    def __init__(
        self, spec: PredictionSpec, labels: Mapping[str, list[object]], match: MatchStats
    ) -> None:
        self.spec = spec
        self.labels = labels
        self.partial = QualityPartial(spec.problem_type, new_accumulator(spec.problem_type), match)
        self._actual: list[float] = []
        self._predicted: list[float] = []

    def predictions(self, event: Mapping[str, object], limits: ParseLimits) -> list[object]:
        """The event's predictions (raises on a malformed output)."""
        capture = member(event, "captureData", "")
        if "endpointOutput" not in capture:
            raise PayloadError("captureData has no endpointOutput")
        return _items(member(capture, "endpointOutput", "captureData."), limits)

    def add_event(self, identifier: str, items: Sequence[object]) -> None:
        """Join one captured event's predictions with its labels."""
        match = self.partial.match
        labels = self.labels.get(identifier)
        if labels is None:
            match.predictions_unmatched += len(items)
            return
        if len(labels) != len(items):
            match.length_mismatches += 1
            match.predictions_unmatched += len(items)
            return
        for item, label in zip(items, labels, strict=True):
            try:
                self._add(item, label)
            except (KeyError, IndexError, TypeError, ValueError, PayloadError):
                match.unusable += 1
                continue
            match.matched += 1
        if len(self._actual) >= 8192:
            self._flush()

    def _add(self, item: object, label: object) -> None:
        spec, accumulator = self.spec, self.partial.accumulator
        if isinstance(accumulator, RegressionQuality):
            value = _attribute(item, spec.inference_attribute) if spec.inference_attribute else item
            predicted, actual = _number(value), _number(label)
            self._actual.append(actual)
            self._predicted.append(predicted)
            return
        if isinstance(accumulator, MulticlassQuality):
            value = _attribute(item, spec.inference_attribute) if spec.inference_attribute else item
            accumulator.add(_label(label), _label(value))
            return
        assert isinstance(accumulator, BinaryQuality)  # noqa: S101 - the third kind
        probability: float | None = None
        if spec.probability_attribute:
            probability = _number(_attribute(item, spec.probability_attribute))
        if spec.inference_attribute:
            predicted_label = _positive(_label(_attribute(item, spec.inference_attribute)))
        else:
            if probability is None:
                probability = _number(item)
            predicted_label = probability >= spec.probability_threshold
        score = probability if probability is not None else float(predicted_label)
        accumulator.add(_positive(_label(label)), predicted_label, score)

    def _flush(self) -> None:
        accumulator = self.partial.accumulator
        if isinstance(accumulator, RegressionQuality) and self._actual:
            accumulator.add_batch(np.array(self._actual), np.array(self._predicted))
        self._actual, self._predicted = [], []

    def finish(self) -> QualityPartial:
        """Flush and return the partial."""
        self._flush()
        return self.partial


def join_window(
    capture: FileSource,
    ground_truth: FileSource,
    *,
    spec: PredictionSpec,
    capture_window: Window,
    label_window: Window,
    capture_stats: ReadStats,
    label_stats: ReadStats,
    limits: ParseLimits = DEFAULT_LIMITS,
    shard: Shard = ALL,
) -> QualityPartial:
    """Read all labels in ``label_window`` and this host's share of the captures in
    ``capture_window``; return the host's partial."""
    match = MatchStats()
    labels = read_labels(ground_truth, label_window, label_stats, match, limits)
    joiner = Joiner(spec, labels, match)

    def extract(event: Mapping[str, object]) -> list[tuple[str, list[object]]]:
        return [(event_id(event), joiner.predictions(event, limits))]

    for identifier, items in iter_events(
        capture, capture_window, extract, capture_stats, limits, shard
    ):
        joiner.add_event(identifier, items)
    return joiner.finish()
