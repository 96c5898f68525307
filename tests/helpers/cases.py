"""Readable ids for tables of parametrized cases, so a failure names its case."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_WORD = re.compile(r"[A-Za-z0-9]+")


def kebab(text: str, words: int = 8) -> str:
    """The first ``words`` words of ``text`` (a message or a regular expression) in kebab case:
    ``r"instance_type must be an ML instance type"`` -> ``instance-type-must-be-an-ml-...``."""
    unescaped = re.sub(r"\\(.)", r"\1", text)
    return "-".join(_WORD.findall(unescaped.lower())[:words]) or "case"


def case_ids(cases: Iterable[Sequence[object]], column: int = -1, words: int = 8) -> list[str]:
    """One id per case from its ``column`` (default: the last, usually the expected message),
    made unique with a ``-2``, ``-3`` ... suffix."""
    ids: list[str] = []
    seen: dict[str, int] = {}
    for case in cases:
        base = kebab(str(case[column]), words)
        seen[base] = seen.get(base, 0) + 1
        ids.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return ids
