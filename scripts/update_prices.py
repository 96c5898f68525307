"""Refresh mlops_cdk/cost/data/prices.json from the AWS Price List bulk API (needs network).

Every rate in the file names its service code and usage type (and, where a usage type is
shared, the operation); this script reads each service's regional offer file, takes the
on-demand price of the first tier for that usage type, rewrites the rate and the file's
``checked`` date, and reports rates it could not find (left unchanged, listed on stderr).

    python scripts/update_prices.py                         # refresh every region in the file
    python scripts/update_prices.py --add-region eu-central-1 EUC1 "EU (Frankfurt)"

``--add-region`` copies eu-west-1's rate keys, replaces the usage-type prefix ``EU-`` (and
``eu-west-1-``) with the new region's, and looks every rate up. Offer files are large (the
AmazonEC2 one is hundreds of MB); nothing in the test suite runs this script.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

PRICES = Path(__file__).resolve().parents[1] / "mlops_cdk" / "cost" / "data" / "prices.json"
OFFER = (
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{service}/current/{region}/index.json"
)
TEMPLATE_REGION, TEMPLATE_PREFIX = "eu-west-1", "EU-"


@cache
def offer(service: str, region: str) -> dict[str, Any]:
    """The on-demand offer file of ``service`` in ``region``."""
    url = OFFER.format(service=service, region=region)
    print(f"reading {url}", file=sys.stderr)
    with urllib.request.urlopen(url, timeout=600) as response:  # noqa: S310 - fixed https URL
        document: dict[str, Any] = json.load(response)
    return document


def lookup(rate: dict[str, Any], region: str) -> float | None:
    """The first-tier on-demand USD price of ``rate``'s usage type (and operation), if any."""
    document = offer(rate["service"], region)
    skus = [
        sku
        for sku, product in document["products"].items()
        if product["attributes"].get("usagetype") == rate["usage_type"]
        and rate.get("operation") in (None, product["attributes"].get("operation"))
    ]
    for sku in skus:
        for term in document["terms"].get("OnDemand", {}).get(sku, {}).values():
            dimensions = sorted(
                term["priceDimensions"].values(), key=lambda d: float(d.get("beginRange", 0))
            )
            if dimensions:
                return float(dimensions[0]["pricePerUnit"]["USD"])
    return None


def add_region(data: dict[str, Any], region: str, prefix: str, location: str) -> None:
    """Copy eu-west-1's rate keys to ``region`` with its usage-type prefix."""
    template = data["regions"][TEMPLATE_REGION]["rates"]
    rates = {}
    for key, rate in template.items():
        usage = rate["usage_type"]
        for old in (TEMPLATE_PREFIX, f"{TEMPLATE_REGION}-"):
            if usage.startswith(old):
                new = f"{region}-" if old.endswith(f"{TEMPLATE_REGION}-") else f"{prefix}-"
                usage = new + usage.removeprefix(old)
        rates[key] = {**rate, "usage_type": usage}
    data["regions"][region] = {"location": location, "rates": rates}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--add-region", nargs=3, metavar=("REGION", "PREFIX", "LOCATION"))
    args = parser.parse_args()
    data = json.loads(PRICES.read_text(encoding="utf-8"))
    if args.add_region:
        add_region(data, *args.add_region)
    missing = []
    for region, entry in data["regions"].items():
        for key, rate in entry["rates"].items():
            price = lookup(rate, region)
            if price is None:
                missing.append(f"{region} {key} ({rate['service']} {rate['usage_type']})")
            else:
                rate["usd"] = price
    data["checked"] = datetime.datetime.now(datetime.UTC).date().isoformat()
    data["method"] = "read from the AWS Price List bulk API by scripts/update_prices.py"
    PRICES.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    for line in missing:
        print(f"not found, left unchanged: {line}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
