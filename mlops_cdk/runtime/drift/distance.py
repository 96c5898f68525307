"""Distribution distances and their asymptotic p-values, numpy and stdlib only."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .kll import FloatArray, KllSketch

#: Two-sample KS critical coefficient c(alpha) used by Deequ's "robust" L-infinity distance
#: (alpha ~= 0.003; Knuth TAOCP vol. 2, eq. 15), the analyzer behind Model Monitor.
ROBUST_C_ALPHA = 1.8
PSI_EPSILON = 1e-4
PSI_BINS = 10


def ks_distance(baseline: KllSketch, current: KllSketch) -> float:
    """Kolmogorov-Smirnov distance ``sup |F_b - F_c|`` between two sketched distributions."""
    base_values, _ = baseline.weighted_items()
    cur_values, _ = current.weighted_items()
    if base_values.size == 0 or cur_values.size == 0:
        return 0.0
    points = np.union1d(base_values, cur_values)
    return float(np.max(np.abs(baseline.cdf(points) - current.cdf(points))))


def robust_distance(distance: float, n: int, m: int, c_alpha: float = ROBUST_C_ALPHA) -> float:
    """Deequ's ``linf_robust``: the distance minus the KS critical value for sizes n and m."""
    if n <= 0 or m <= 0:
        return 0.0
    return max(0.0, distance - c_alpha * math.sqrt((n + m) / (n * m)))


def ks_pvalue(distance: float, n: int, m: int) -> float:
    """Asymptotic two-sample KS p-value (Kolmogorov distribution, Stephens' correction)."""
    if n <= 0 or m <= 0:
        return 1.0
    effective = math.sqrt(n * m / (n + m))
    lam = (effective + 0.12 + 0.11 / effective) * distance
    if lam < 1e-3:
        return 1.0
    total = sum(
        (1.0 if j % 2 else -1.0) * math.exp(-2.0 * j * j * lam * lam) for j in range(1, 101)
    )
    return min(1.0, max(0.0, 2.0 * total))


def psi(expected: FloatArray, actual: FloatArray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index ``sum((a - e) * ln(a / e))`` over bin fractions."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), epsilon)
    a = np.maximum(np.asarray(actual, dtype=np.float64), epsilon)
    return float(np.sum((a - e) * np.log(a / e)))


def sketch_psi(baseline: KllSketch, current: KllSketch, bins: int = PSI_BINS) -> float:
    """PSI over the baseline's quantile bins (deciles by default), both sides from sketches."""
    if baseline.weight == 0 or current.weight == 0:
        return 0.0
    edges = np.unique(baseline.quantiles([i / bins for i in range(1, bins)]))
    base_cdf = np.concatenate(([0.0], baseline.cdf(edges), [1.0]))
    cur_cdf = np.concatenate(([0.0], current.cdf(edges), [1.0]))
    return psi(np.diff(base_cdf), np.diff(cur_cdf))


def linf_distance(baseline: Mapping[str, int], current: Mapping[str, int]) -> float:
    """L-infinity distance between two categorical frequency tables."""
    n = sum(baseline.values())
    m = sum(current.values())
    if n == 0 or m == 0:
        return 0.0
    keys = set(baseline) | set(current)
    return max(abs(baseline.get(key, 0) / n - current.get(key, 0) / m) for key in keys)


def _regroup(expected: dict[str, float], observed: dict[str, float]) -> None:
    """Merge the smallest expected categories until the chi-square rules of thumb hold.

    2 categories: every expected count >= 10 (Cochran); more: at most 20 % below 5 (Yates).
    """
    while len(expected) >= 2:
        if len(expected) == 2:
            too_small = sum(value < 10 for value in expected.values())
            allowed = 0
        else:
            too_small = sum(value < 5 for value in expected.values())
            allowed = int(0.2 * len(expected))
        if too_small <= allowed:
            return
        smallest = min(expected, key=expected.__getitem__)
        moved_e, moved_o = expected.pop(smallest), observed.pop(smallest, 0.0)
        second = min(expected, key=expected.__getitem__)
        expected[second] += moved_e
        observed[second] = observed.get(second, 0.0) + moved_o


def chi_square(baseline: Mapping[str, int], current: Mapping[str, int]) -> tuple[float, int]:
    """Goodness-of-fit statistic of ``current`` against ``baseline`` proportions, and its dof.

    Categories unseen in the baseline are left out (the categorical values check covers them).
    Returns ``(nan, 0)`` when fewer than two categories remain.
    """
    base_total = sum(baseline.values())
    observed = {key: float(current.get(key, 0)) for key in baseline}
    sample_total = sum(observed.values())
    if base_total == 0 or sample_total == 0:
        return math.nan, 0
    expected = {key: count / base_total * sample_total for key, count in baseline.items()}
    _regroup(expected, observed)
    if len(expected) < 2:
        return math.nan, 0
    statistic = sum((observed[key] - e) ** 2 / e for key, e in expected.items() if e > 0)
    return statistic, len(expected) - 1


def chi_square_pvalue(statistic: float, dof: int) -> float:
    """Upper tail ``P(X >= statistic)`` of the chi-square distribution with ``dof`` degrees."""
    if dof <= 0 or math.isnan(statistic):
        return math.nan
    if statistic <= 0:
        return 1.0
    return _gamma_q(dof / 2.0, statistic / 2.0)


def _gamma_q(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) (series / Lentz continued fraction)."""
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        denom = a
        for _ in range(1000):
            denom += 1.0
            term *= x / denom
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
