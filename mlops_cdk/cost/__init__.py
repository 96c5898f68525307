"""Idle-cost estimate of synthesized environments, priced with AWS's public list prices.

CDK-free: it reads CloudFormation templates (JSON) and a dated price file, so ``app.py`` (the
``cost_ceiling_usd`` check), ``scripts/synth_summary.py`` and tests all use the same code.
Imports nothing from ``constructs``, ``stacks`` or ``config``.
"""

from mlops_cdk.cost.assembly import StackTemplate, read_assembly
from mlops_cdk.cost.estimate import Estimate, Line, UnknownResource, UsagePrice, estimate
from mlops_cdk.cost.prices import PriceList, Rate, load_prices, priced_regions
from mlops_cdk.cost.report import ceiling_problem, estimate_assembly, format_estimate, summary

__all__ = [
    "Estimate",
    "Line",
    "PriceList",
    "Rate",
    "StackTemplate",
    "UnknownResource",
    "UsagePrice",
    "ceiling_problem",
    "estimate",
    "estimate_assembly",
    "format_estimate",
    "load_prices",
    "priced_regions",
    "read_assembly",
    "summary",
]
