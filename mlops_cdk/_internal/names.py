"""Physical names built at run time (SageMaker job names: ``<prefix>-<run-time suffix>``), with
margin by construction: a generated prefix is cut, and kept unique by a short hash of the whole,
so that prefix and suffix stay ``NAME_MARGIN`` characters under the limit whatever the stack
and construct names are. CDK-free."""

from __future__ import annotations

import hashlib
import re

# SageMaker job names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}.
JOB_NAME_LIMIT = 63
# Characters a generated name leaves unused: room for a longer suffix or a renamed stack.
NAME_MARGIN = 8
# States.UUID(): 36 characters (8-4-4-4-12 hex digits and hyphens).
UUID_LENGTH = 36
HASH_LENGTH = 6


def job_name_budget(suffix_length: int) -> int:
    """The longest generated prefix for a ``<prefix>-<suffix>`` job name with margin."""
    return JOB_NAME_LIMIT - NAME_MARGIN - 1 - suffix_length


def generated_prefix(text: str, suffix_length: int, *, fallback: str = "job") -> str:
    """``text`` in job-name characters (runs of anything else become ``-``), at most
    :func:`job_name_budget` long: a longer one keeps its start and ends in a hash of the whole,
    so two long names that share a start still differ."""
    budget = job_name_budget(suffix_length)
    cleaned = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-") or fallback
    if len(cleaned) <= budget:
        return cleaned
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:HASH_LENGTH]
    head = cleaned[: budget - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}" if head else digest
