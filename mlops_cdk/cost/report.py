"""Idle-cost estimates of a cloud assembly's environments, as text and as a ceiling check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlops_cdk.cost.assembly import read_assembly
from mlops_cdk.cost.estimate import Estimate, estimate
from mlops_cdk.cost.prices import PriceList, load_prices

PriceLoader = Callable[[str], PriceList | None]
# The delivery pipeline deploys its own copies of the environment stages (same templates).
PIPELINE_MARKER = "-delivery-"


def estimate_assembly(
    assembly: Path, *, price_loader: PriceLoader = load_prices
) -> dict[str, Estimate]:
    """One estimate per environment stage of the cloud assembly in ``assembly``, in order.

    Stacks outside stages (the delivery pipeline) and the pipeline's copies of the stages are
    left out: they are not an environment.
    """
    stages: dict[str, list[tuple[str, str | None, Path]]] = {}
    for stack in read_assembly(assembly):
        if stack.stage and PIPELINE_MARKER not in stack.stage:
            stages.setdefault(stack.stage, []).append((stack.name, stack.region, stack.path))
    estimates = {}
    for stage, stacks in stages.items():
        regions = {region for _, region, _ in stacks}
        region = regions.pop() if len(regions) == 1 else None
        templates = [(name, _load(path)) for name, _, path in stacks]
        prices = price_loader(region) if region else None
        estimates[stage] = estimate(templates, region=region, prices=prices)
    return estimates


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def money(value: float) -> str:
    """``$1,234.56``."""
    return f"${value:,.2f}"


def _unit_price(usd: float | None, unit: str) -> str:
    if usd is None:
        return "price unknown"
    if usd < 0.001:
        return f"{money(usd * 1_000_000)} per million {unit}s"
    return f"${usd:g} per {unit}"


def headline(estimate: Estimate) -> str:
    """``$123.45/month`` plus what is missing from it."""
    if not estimate.priced:
        return f"no prices for region {estimate.region or 'unknown'}: not estimated"
    text = f"{money(estimate.total_usd)}/month"
    unknown = len(estimate.unknown_lines) + len(estimate.unknown_resources)
    if unknown:
        text += f" + {unknown} item(s) of unknown price"
    return text


def format_estimate(stage: str, estimate: Estimate, *, traffic: bool = True) -> list[str]:
    """A stage's idle cost by stack and resource kind, its unknowns, and (with ``traffic``) the
    unit prices of what scales with traffic."""
    lines = [f"{stage}  idle {headline(estimate)}"]
    if not estimate.priced:
        return lines
    width = max((len(line.stack) for line in estimate.lines), default=10)
    for line in sorted(estimate.lines, key=lambda item: (item.stack, -(item.monthly_usd or 0))):
        cost = "unknown" if line.monthly_usd is None else money(line.monthly_usd)
        rate = "" if line.unit_usd is None else f" @ ${line.unit_usd:g}"
        lines.append(
            f"  {line.stack:<{width}}  {line.kind:<44} {cost:>10}  "
            f"{line.quantity:,.6g} {line.unit}{rate}"
        )
    for item in estimate.unknown_lines:
        lines.append(f"  unknown price: {item.kind} ({item.rate} is not in the price list)")
    for resource in estimate.unknown_resources:
        lines.append(
            f"  unknown price: {resource.stack}/{resource.logical_id} ({resource.type} is not "
            "priced by mlops_cdk.cost)"
        )
    if traffic and estimate.usage:
        lines.append("  scales with traffic (not in the idle figure):")
        for usage in estimate.usage:
            price = _unit_price(usage.unit_usd, usage.unit) if usage.rate else usage.note
            note = f" ({usage.note})" if usage.note and usage.rate else ""
            lines.append(f"    {usage.kind}: {price}{note}")
    return lines


def ceiling_problem(environment: str, estimate: Estimate, ceiling_usd: float) -> str | None:
    """A one-line error when the idle estimate of ``environment`` exceeds ``ceiling_usd``."""
    if not estimate.priced or estimate.total_usd <= ceiling_usd:
        return None
    items = ", ".join(f"{kind} {money(usd)}" for kind, usd in estimate.biggest(3))
    return (
        f"{environment}: idle cost estimate {money(estimate.total_usd)}/month exceeds the "
        f"ceiling {money(ceiling_usd)} (biggest: {items})"
    )


def summary(estimates: dict[str, Estimate]) -> list[str]:
    """One line per environment: the idle cost a month and its three biggest kinds."""
    if not estimates:
        return []
    prices = next((e.prices for e in estimates.values() if e.prices), None)
    basis = (
        f"{prices.location} list prices checked {prices.checked}, on-demand, no free tier"
        if prices
        else "no prices for these regions"
    )
    lines = [f"\nidle cost per month ({basis}; make cost for the detail):"]
    width = max(len(stage) for stage in estimates)
    for stage, each in estimates.items():
        items = ", ".join(f"{kind} {money(usd)}" for kind, usd in each.biggest(4))
        lines.append(f"{stage:<{width}}  {headline(each):<14}  {items}")
    return lines
