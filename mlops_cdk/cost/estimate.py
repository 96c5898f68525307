"""What an environment costs while nobody calls it, read from its CloudFormation templates.

Every resource type falls in one of three groups:

* **fixed** - billed by the hour or month whether or not it is called (endpoint instances at
  their idle count, Fargate tasks, provisioned concurrency, NAT gateways, interface endpoints,
  load balancers, KMS keys, alarms, dashboards, secrets). These make the idle estimate.
* **free at idle** - costs nothing until used (roles, security groups, buckets, functions...);
  what scales with traffic is listed apart with its unit price.
* **unknown** - a type this module does not know, or a rate the price list lacks: reported as
  unknown, never as zero.

The idle count of a scalable resource is its Application Auto Scaling minimum when it has a
scalable target, otherwise its initial or desired count; a SageMaker variant under managed
instance scaling idles at its MinInstanceCount (an inference-component host at zero only while
none of its components keeps a copy, else at least one instance).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_cdk.cost.prices import PriceList
from mlops_cdk.cost.rules import RULES, Fixed, TemplateIndex, Usage, is_free


@dataclass(frozen=True, kw_only=True)
class Line:
    """One idle cost of one stack: ``quantity`` units of ``rate`` a month."""

    stack: str
    kind: str
    rate: str
    quantity: float
    unit: str
    unit_usd: float | None
    resources: tuple[str, ...]

    @property
    def monthly_usd(self) -> float | None:
        """The monthly cost, or ``None`` when the rate is unknown."""
        return None if self.unit_usd is None else self.quantity * self.unit_usd


@dataclass(frozen=True, kw_only=True)
class UsagePrice:
    """A traffic-dependent cost and its unit price (``None``: not in the price list)."""

    kind: str
    rate: str | None
    unit: str
    unit_usd: float | None
    note: str


@dataclass(frozen=True, kw_only=True)
class UnknownResource:
    """A resource whose type the estimator does not know how to price."""

    stack: str
    logical_id: str
    type: str


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """The idle cost of a set of stacks (one environment) and its traffic-dependent prices."""

    region: str | None
    prices: PriceList | None
    lines: tuple[Line, ...]
    usage: tuple[UsagePrice, ...]
    unknown_resources: tuple[UnknownResource, ...]

    @property
    def priced(self) -> bool:
        """Whether the region has a price list at all."""
        return self.prices is not None

    @property
    def total_usd(self) -> float:
        """The idle cost a month, over the lines with a known rate."""
        return sum(line.monthly_usd or 0.0 for line in self.lines)

    @property
    def unknown_lines(self) -> tuple[Line, ...]:
        """Idle lines whose rate is not in the price list."""
        return tuple(line for line in self.lines if line.unit_usd is None)

    @property
    def complete(self) -> bool:
        """True when every idle cost has a known price."""
        return self.priced and not self.unknown_lines and not self.unknown_resources

    def by_kind(self) -> dict[str, float]:
        """Known idle cost a month per kind of resource, largest first."""
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.kind] = totals.get(line.kind, 0.0) + (line.monthly_usd or 0.0)
        return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))

    def biggest(self, count: int = 3) -> list[tuple[str, float]]:
        """The ``count`` largest kinds of idle cost."""
        return [item for item in self.by_kind().items() if item[1] > 0][:count]


# --- the estimate -----------------------------------------------------------------------------


def estimate(
    stacks: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    region: str | None,
    prices: PriceList | None,
) -> Estimate:
    """The idle cost of ``stacks`` (pairs of stack name and template) in ``region``.

    ``prices`` is the region's price list (:func:`~mlops_cdk.cost.prices.load_prices`); without
    one every line is reported with an unknown price.
    """
    hours = prices.hours_per_month if prices else 730.0
    grouped: dict[tuple[str, str, str, bool], list[Fixed]] = {}
    usage: dict[tuple[str, str | None], Usage] = {}
    unknown: list[UnknownResource] = []
    for stack, document in stacks:
        template = TemplateIndex(document.get("Resources", {}))
        for logical_id, resource in template.resources.items():
            type_name = resource.get("Type", "")
            rule = RULES.get(type_name)
            if rule is None:
                if not is_free(type_name):
                    unknown.append(
                        UnknownResource(stack=stack, logical_id=logical_id, type=type_name)
                    )
                continue
            for item in rule(template, logical_id, resource.get("Properties", {})):
                if isinstance(item, Fixed):
                    grouped.setdefault((stack, item.kind, item.rate, item.hourly), []).append(item)
                else:
                    usage.setdefault((item.kind, item.rate), item)
    lines = []
    for (stack, kind, key, hourly), items in grouped.items():
        rate = prices.rate(key) if prices else None
        quantity = sum(item.quantity for item in items) * (hours if hourly else 1)
        lines.append(
            Line(
                stack=stack,
                kind=kind,
                rate=key,
                quantity=quantity,
                unit=rate.unit if rate else "unit (rate unknown)",
                unit_usd=rate.usd if rate else None,
                resources=tuple(item.resource for item in items),
            )
        )
    prices_of_usage = []
    for (kind, usage_key), item in sorted(usage.items(), key=lambda entry: entry[0][0]):
        usage_rate = prices.rate(usage_key) if prices and usage_key else None
        prices_of_usage.append(
            UsagePrice(
                kind=kind,
                rate=usage_key,
                unit=usage_rate.unit if usage_rate else "",
                unit_usd=usage_rate.usd if usage_rate else None,
                note=item.note,
            )
        )
    return Estimate(
        region=region,
        prices=prices,
        lines=tuple(lines),
        usage=tuple(prices_of_usage),
        unknown_resources=tuple(unknown),
    )
