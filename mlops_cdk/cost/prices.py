"""AWS list prices for the idle-cost estimate, read from the checked-in ``data/prices.json``.

The file is a dated snapshot of AWS's published price list (``scripts/update_prices.py``
regenerates it). A region that the file does not cover has no :class:`PriceList`: the
estimate then says so instead of guessing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

DATA_FILE = "prices.json"


@dataclass(frozen=True, kw_only=True)
class Rate:
    """One price: ``usd`` per ``unit``, as AWS bills it under ``service`` / ``usage_type``."""

    usd: float
    unit: str
    service: str
    usage_type: str
    operation: str | None = None


@dataclass(frozen=True, kw_only=True)
class PriceList:
    """The rates of one region, with where and when they were read."""

    region: str
    location: str
    checked: str
    source: str
    hours_per_month: float
    rates: dict[str, Rate]

    def rate(self, key: str) -> Rate | None:
        """The rate named ``key`` (e.g. ``fargate.vcpu``), or ``None`` when it is not listed."""
        return self.rates.get(key)


def _read(document: dict[str, Any], region: str) -> PriceList | None:
    entry = document["regions"].get(region)
    if entry is None:
        return None
    return PriceList(
        region=region,
        location=entry["location"],
        checked=document["checked"],
        source=document["source"],
        hours_per_month=float(document["hours_per_month"]),
        rates={key: Rate(**value) for key, value in entry["rates"].items()},
    )


@cache
def _packaged() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("data", DATA_FILE).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def load_prices(region: str, document: dict[str, Any] | None = None) -> PriceList | None:
    """The price list of ``region`` from the packaged snapshot (or from ``document``, a parsed
    file of the same shape); ``None`` when the region has no prices."""
    return _read(_packaged() if document is None else document, region)


def priced_regions() -> tuple[str, ...]:
    """Regions the packaged snapshot has prices for."""
    return tuple(sorted(_packaged()["regions"]))
