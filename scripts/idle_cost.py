"""Print each environment's idle cost by stack and resource kind, what is of unknown price, and
the unit prices of what scales with traffic. Usage: python scripts/idle_cost.py cdk.out"""

from __future__ import annotations

import sys
from pathlib import Path

from mlops_cdk.cost import estimate_assembly, format_estimate


def main(out_dir: str) -> int:
    estimates = estimate_assembly(Path(out_dir))
    if not estimates:
        print(f"no environments found in {out_dir}")
        return 1
    for stage, estimate in estimates.items():
        print("\n".join(format_estimate(stage, estimate)), end="\n\n")
    prices = next((e.prices for e in estimates.values() if e.prices), None)
    if prices is not None:
        print(f"prices: {prices.source}; checked {prices.checked}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cdk.out"))
