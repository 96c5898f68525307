"""Package data shared by the validators (``mlops_cdk/_internal/data/*.json``)."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> Any:
    """The parsed JSON file ``name`` from ``mlops_cdk._internal.data``."""
    text = resources.files("mlops_cdk._internal.data").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def suggestion(value: str, choices: Iterable[str], cutoff: float = 0.75) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    options = list(choices)
    folded = {c.lower(): c for c in options}
    if value.lower() in folded:
        return f" (did you mean {folded[value.lower()]!r}?)"
    close = difflib.get_close_matches(value, options, n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""
