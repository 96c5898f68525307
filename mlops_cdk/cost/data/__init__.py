"""Package data: the dated AWS price snapshot of the idle-cost estimate (see prices.json)."""
