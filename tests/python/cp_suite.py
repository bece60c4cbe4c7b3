"""A seeded suite of realistic change-point series, the TCPDBench metrics, and
the reference detectors vap's default change-point penalty is judged against.

Shared by ``benches/changepoint_suite.py`` (the full comparison) and
``tests/python/test_changepoint_suite.py`` (a smaller suite as a test).

Each series is a piecewise-constant mean with 0-6 known changes (about a third
without any) plus, by family, a linear or smooth trend, seasonality, AR(1)
noise, Student-t tails, isolated outliers or Poisson counts; lengths 50-1000
(log-uniform), like the 30 annotated real series of TCPDBench (15-816 points).
Change points are the first index of each new segment, which is ruptures'
breakpoint list without its final ``n`` and TCPDBench's convention.

Metrics are those of TCPDBench (van den Burg & Williams 2020,
``analysis/scripts/metrics.py``) with one annotator: F1 with a margin of 5
points where index 0 counts as a change in both sets, and segmentation
covering.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FAMILIES = ("clean", "trend", "smooth", "seasonal", "ar", "heavy", "outliers", "counts", "mixed")
"""The kinds of series: iid Gaussian noise; a linear or smooth trend; a smooth,
nearly noiseless trend (population, CO2, price indices); seasonality; AR(1)
noise; Student-t (3 dof) noise; isolated outliers; Poisson counts; and a random
mix of trend, seasonality, AR(1) noise, heavy tails and outliers."""

_CHANGE_COUNTS = np.arange(7)
_CHANGE_WEIGHTS = np.array([1 / 3, 0.2, 0.16, 0.12, 0.08, 0.06, 0.05])
_CHANGE_WEIGHTS = _CHANGE_WEIGHTS / _CHANGE_WEIGHTS.sum()
_MIN_GAP = 8


@dataclass(frozen=True)
class Series:
    """One generated series and its known change points."""

    name: str
    family: str
    x: np.ndarray
    cps: tuple[int, ...]


def _change_points(rng: np.random.Generator, n: int) -> list[int]:
    k = int(rng.choice(_CHANGE_COUNTS, p=_CHANGE_WEIGHTS))
    k = min(k, n // _MIN_GAP - 1)
    for _ in range(1000):
        cps = np.sort(rng.choice(np.arange(_MIN_GAP, n - _MIN_GAP + 1), size=k, replace=False))
        if k == 0 or np.diff(np.concatenate([[0], cps, [n]])).min() >= _MIN_GAP:
            return [int(c) for c in cps]
    return []


def _levels(rng: np.random.Generator, n: int, cps: Sequence[int], scale: float) -> np.ndarray:
    """A piecewise-constant mean: jumps of log-uniform size in [1.5, 8]·scale,
    random sign."""
    sizes = np.exp(rng.uniform(math.log(1.5), math.log(8.0), size=len(cps))) * scale
    jumps = sizes * rng.choice([-1.0, 1.0], size=len(cps))
    lengths = np.diff(np.concatenate([[0], cps, [n]])).astype(int)
    return np.repeat(np.concatenate([[0.0], np.cumsum(jumps)]), lengths)


def _ar1(rng: np.random.Generator, n: int, phi: float, tails: bool = False) -> np.ndarray:
    """AR(1) noise of unit marginal variance; innovations Gaussian or Student
    t(3) scaled to unit variance."""
    e = rng.standard_t(3, size=n) / math.sqrt(3.0) if tails else rng.standard_normal(n)
    e *= math.sqrt(1.0 - phi * phi)
    out = np.empty(n)
    out[0] = e[0] / math.sqrt(1.0 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


def _trend(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """A linear or smooth (logistic, quadratic, long-period sine, smoothed random
    walk) trend whose range is about ``amplitude``."""
    u = np.linspace(0.0, 1.0, n)
    kind = rng.integers(5)
    if kind == 0:
        shape = u
    elif kind == 1:
        width = rng.uniform(0.08, 0.25)
        shape = 1.0 / (1.0 + np.exp(-(u - rng.uniform(0.3, 0.7)) / width))
    elif kind == 2:
        shape = (u - rng.uniform(-0.5, 1.5)) ** 2
    elif kind == 3:
        shape = np.sin(2 * math.pi * u / rng.uniform(1.0, 3.0) + rng.uniform(0, 2 * math.pi))
    else:
        walk = np.cumsum(rng.standard_normal(n))
        width = max(3, n // 8)
        kernel = np.ones(width) / width
        padded = np.concatenate([np.full(width, walk[0]), walk, np.full(width, walk[-1])])
        shape = np.convolve(padded, kernel, mode="same")[width:-width]
    span = shape.max() - shape.min()
    shape = (shape - shape.min()) / (span if span > 0 else 1.0)
    return amplitude * rng.choice([-1.0, 1.0]) * shape


def _seasonality(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """One or two seasonal components (periods 4, 7, 12, 24 or 52 that fit at
    least three times), each a sine or a repeated random profile."""
    periods = [p for p in (4, 7, 12, 24, 52) if 3 * p <= n]
    out = np.zeros(n)
    t = np.arange(n)
    for p in rng.choice(periods, size=min(len(periods), int(rng.integers(1, 3))), replace=False):
        if rng.random() < 0.5:
            comp = np.sin(2 * math.pi * t / p + rng.uniform(0, 2 * math.pi))
        else:
            profile = rng.standard_normal(int(p))
            profile -= profile.mean()
            profile /= np.abs(profile).max()
            comp = profile[t % p]
        out += amplitude * rng.uniform(0.5, 1.0) * comp
    return out


def _outliers(rng: np.random.Generator, x: np.ndarray, scale: float) -> np.ndarray:
    n = len(x)
    k = max(1, int(round(n * rng.uniform(0.005, 0.03))))
    idx = rng.choice(n, size=k, replace=False)
    x = x.copy()
    x[idx] += rng.choice([-1.0, 1.0], size=k) * rng.uniform(5, 15, size=k) * scale
    return x


def _counts(rng: np.random.Generator, n: int, cps: Sequence[int], seasonal: bool) -> np.ndarray:
    """Poisson counts: a base rate of 1-50, multiplied at each change by
    exp(±U(0.3, 1.2)), optionally with a multiplicative seasonality."""
    rate = math.exp(rng.uniform(math.log(1.0), math.log(50.0)))
    factors = np.exp(rng.choice([-1.0, 1.0], size=len(cps)) * rng.uniform(0.3, 1.2, size=len(cps)))
    rates = rate * np.concatenate([[1.0], np.cumprod(factors)])
    lengths = np.diff(np.concatenate([[0], cps, [n]])).astype(int)
    lam = np.repeat(rates, lengths)
    if seasonal:
        lam = lam * np.exp(0.5 * _seasonality(rng, n, 1.0))
    return rng.poisson(lam).astype(float)


def make_series(seed: int, index: int, family: str | None = None, n: int | None = None) -> Series:
    """The ``index``-th series of suite ``seed`` (the same whatever the suite
    size). ``family`` picks the kind (default: drawn from ``FAMILIES``),
    ``n`` the length (default: log-uniform in 50-1000)."""
    rng = np.random.default_rng([seed, index])
    fam = family if family is not None else str(rng.choice(FAMILIES))
    if n is None:
        n = int(round(math.exp(rng.uniform(math.log(50), math.log(1000)))))
    cps = _change_points(rng, n)
    if fam == "counts":
        x = _counts(rng, n, cps, seasonal=bool(rng.random() < 0.4))
        return Series(f"{seed}/{index}", fam, x, tuple(cps))
    if fam == "smooth":
        # a smooth trend of range A with noise A/10-A/1000 and AR(1) errors;
        # the annotated changes are visible against the trend (3-30 % of A)
        amplitude = 1.0
        noise = math.exp(rng.uniform(math.log(1e-3), math.log(1e-1)))
        x = _trend(rng, n, amplitude)
        if rng.random() < 0.3:
            x += _seasonality(rng, n, amplitude * rng.uniform(0.01, 0.05))
        x += noise * _ar1(rng, n, rng.uniform(0.0, 0.9))
        sizes = rng.uniform(0.03, 0.3, size=len(cps)) * rng.choice([-1.0, 1.0], size=len(cps))
        lengths = np.diff(np.concatenate([[0], cps, [n]])).astype(int)
        x += np.repeat(np.concatenate([[0.0], np.cumsum(sizes)]), lengths)
    else:
        mixed = fam == "mixed"
        trend = fam == "trend" or (mixed and rng.random() < 0.6)
        seasonal = fam == "seasonal" or (mixed and rng.random() < 0.5)
        ar = fam == "ar" or (mixed and rng.random() < 0.6)
        heavy = fam == "heavy" or (mixed and rng.random() < 0.3)
        outliers = fam == "outliers" or (mixed and rng.random() < 0.3)
        x = _levels(rng, n, cps, 1.0)
        if trend:
            x += _trend(rng, n, rng.uniform(2.0, 20.0))
        if seasonal:
            x += _seasonality(rng, n, rng.uniform(0.5, 3.0))
        x += _ar1(rng, n, rng.uniform(0.2, 0.8) if ar else 0.0, tails=heavy)
        if outliers:
            x = _outliers(rng, x, 1.0)
    # arbitrary units: real series come in dollars, degrees, passengers
    scale = 10.0 ** rng.uniform(-1.0, 3.0)
    x = x * scale + rng.uniform(-10.0, 10.0) * scale
    return Series(f"{seed}/{index}", fam, x, tuple(cps))


def generate(
    seed: int, count: int, families: Sequence[str] | None = None, n: int | None = None
) -> list[Series]:
    """``count`` series of suite ``seed``; with ``families``, the family of
    series ``i`` is ``families[i % len(families)]``."""
    return [
        make_series(seed, i, None if families is None else families[i % len(families)], n)
        for i in range(count)
    ]


def smooth_trend(n: int = 816, seed: int = 0) -> np.ndarray:
    """A pure smooth trend with no change: a logistic rise of 1000 units plus a
    gentle curvature, with AR(1) noise (φ = 0.6, marginal sd 5): a series
    annotators leave without a change."""
    rng = np.random.default_rng(seed)
    u = np.linspace(0.0, 1.0, n)
    x = 1000.0 / (1.0 + np.exp(-(u - 0.55) / 0.15)) + 200.0 * u**2
    return x + 5.0 * _ar1(rng, n, 0.6)


def live_counts(n: int = 43_200, seed: int = 0) -> tuple[np.ndarray, tuple[int, ...]]:
    """A live room's per-second counts: 12 hours at 1 s, Poisson around a rate
    with 12 level shifts, for timing (and a sanity check at that length)."""
    rng = np.random.default_rng(seed)
    cps = tuple(
        int(c) for c in np.sort(rng.choice(np.arange(600, n - 600, 600), 12, replace=False))
    )
    rates = np.exp(rng.uniform(math.log(2.0), math.log(40.0), size=len(cps) + 1))
    lam = np.repeat(rates, np.diff(np.concatenate([[0], cps, [n]])).astype(int))
    return rng.poisson(lam).astype(float), cps


# --- metrics (TCPDBench, one annotator) ---------------------------------------


def _true_positives(truth: set[int], pred: set[int], margin: int) -> set[int]:
    pred = set(pred)
    hits = set()
    for tau in truth:
        close = sorted((abs(tau - x), x) for x in pred if abs(tau - x) <= margin)
        if not close:
            continue
        hits.add(tau)
        pred.remove(close[0][1])
    return hits


def f_measure(truth: Sequence[int], pred: Sequence[int], margin: int = 5) -> float:
    """TCPDBench's F1: 0 is added to both sets; precision over the predicted
    set, recall over the annotated one, each matched point counted once."""
    t = {int(c) for c in truth} | {0}
    x = {int(c) for c in pred} | {0}
    precision = len(_true_positives(t, x, margin)) / len(x)
    recall = len(_true_positives(t, x, margin)) / len(t)
    return precision * recall / (0.5 * recall + 0.5 * precision)


def _bounds(cps: Sequence[int], n: int) -> np.ndarray:
    inner = sorted({int(c) for c in cps if 0 < c < n})
    return np.array([0, *inner, n])


def covering(truth: Sequence[int], pred: Sequence[int], n: int) -> float:
    """TCPDBench's segmentation covering of the annotated segmentation by the
    predicted one: Σ |A|·max_P Jaccard(A, P) / n."""
    tb, pb = _bounds(truth, n), _bounds(pred, n)
    p0, p1 = pb[:-1], pb[1:]
    total = 0.0
    for a, b in zip(tb[:-1], tb[1:]):
        inter = np.clip(np.minimum(b, p1) - np.maximum(a, p0), 0, None)
        union = (b - a) + (p1 - p0) - inter
        total += (b - a) * float(np.max(inter / union))
    return total / n


# --- noise scales and reference detectors -------------------------------------

MAD_TO_SD = 1.4826


def mad(v: np.ndarray) -> float:
    """Median absolute deviation from the median."""
    return float(np.median(np.abs(v - np.median(v))))


def diff_variance(x: np.ndarray, lag: int = 1) -> float:
    """vap's current noise variance (lag 1): ``(1.4826·MAD(Δ_lag x))² / 2``,
    falling back to the plain variance of the differences when the MAD is 0."""
    d = x[lag:] - x[:-lag]
    if len(d) == 0:
        return 0.0
    s = MAD_TO_SD * mad(d)
    return s * s / 2.0 if s > 0 else float(np.var(d)) / 2.0


def ar1_long_run_variance(x: np.ndarray, rho_max: float = 0.3) -> tuple[float, float]:
    """``(σ², ρ)``: the long-run noise variance under AR(1) errors, from lag-1
    and lag-2 differences, so robust to level shifts, trends and outliers.

    With ``s_k = 1.4826·MAD(x[t+k] − x[t])`` (both replaced by the standard
    deviations of the differences when either MAD is 0: counts with many
    equal values), ``ρ = clip(s₂²/s₁² − 1, 0, rho_max)`` (under AR(1),
    Var Δ₂ / Var Δ₁ = 1 + ρ), the marginal variance ``σₓ² = s₁² / (2(1 − ρ))``
    and the long-run variance ``σ² = σₓ²·(1 + ρ)/(1 − ρ)``. ``rho_max = 0``
    gives vap's current estimate ``s₁²/2``."""
    x = np.asarray(x, dtype=float)
    if len(x) < 3:
        return diff_variance(x), 0.0
    d1, d2 = x[1:] - x[:-1], x[2:] - x[:-2]
    s1, s2 = MAD_TO_SD * mad(d1), MAD_TO_SD * mad(d2)
    if s1 == 0 or s2 == 0:
        s1, s2 = float(np.std(d1)), float(np.std(d2))
    if s1 == 0:
        return 0.0, 0.0
    rho = min(max((s2 / s1) ** 2 - 1.0, 0.0), rho_max)
    var_x = s1 * s1 / (2.0 * (1.0 - rho))
    return var_x * (1.0 + rho) / (1.0 - rho), rho


def floored_penalty(
    x: np.ndarray, rho_max: float, floor: float, c: float, ar: tuple[float, float] | None = None
) -> float:
    """``c·ln(n)·max(σ²_AR(1), floor·(1.4826·MAD(x))²)``: the family of
    penalties the recommendation was tuned in (``ar``: a precomputed
    ``ar1_long_run_variance(x, rho_max)``)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n == 0:
        return 0.0
    var_lr = (ar if ar is not None else ar1_long_run_variance(x, rho_max))[0]
    spread = MAD_TO_SD * mad(x)
    return c * math.log(max(n, 2)) * max(var_lr, floor * spread * spread)


RECOMMENDED = {"rho_max": 0.3, "floor": 0.1, "c": 4.0}
"""The recommended default penalty's constants (``benches/changepoint_suite.py``)."""

RECOMMENDED_MIN_SIZE = 5
"""The recommended default minimum segment length."""


def recommended_penalty(x: np.ndarray) -> float:
    """The penalty recommended as vap's L2 default: ``4·ln(n)·σ²`` with
    ``σ² = max(σ²_AR(1) (ρ ≤ 0.3), 0.1·(1.4826·MAD(x))²)``."""
    return floored_penalty(x, **RECOMMENDED)


def ruptures_default(x: np.ndarray) -> list[int]:
    """ruptures as commonly run: ``Pelt(model="l2", min_size=2, jump=5)`` with
    ``pen = 2·σ̂²·ln n``, σ̂ the standard deviation of the series."""
    import ruptures as rpt

    x = np.asarray(x, dtype=float)
    pen = 2.0 * float(np.var(x)) * math.log(len(x))
    return rpt.Pelt(model="l2", min_size=2, jump=5).fit(x).predict(pen=pen)[:-1]


def r_changepoint_mbic(x: np.ndarray) -> list[int]:
    """R changepoint's ``cpt.mean(x, penalty="MBIC", method="PELT",
    minseglen=1)`` on ``x / σ̂`` with σ̂² = ``diff_variance(x)`` (cpt.mean's
    Normal cost assumes unit variance): segment cost ``Σ(z − z̄)² + ln(len)``
    (changepoint's ``mbic_mean``), penalty ``3·ln n`` (MBIC, ``diffparam + 2``),
    solved exactly by optimal partitioning (the optimum R's PELT targets)."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    var = diff_variance(x)
    z = (x - x.mean()) / math.sqrt(var) if var > 0 else x - x.mean()
    s1 = np.concatenate([[0.0], np.cumsum(z)])
    s2 = np.concatenate([[0.0], np.cumsum(z * z)])
    pen = 3.0 * math.log(n)
    f = np.empty(n + 1)
    f[0] = -pen
    last = np.zeros(n + 1, dtype=int)
    for t in range(1, n + 1):
        length = t - np.arange(t)
        seg = s2[t] - s2[:t] - (s1[t] - s1[:t]) ** 2 / length + np.log(length)
        v = f[:t] + seg
        j = int(np.argmin(v))
        f[t] = v[j] + pen
        last[t] = j
    out = []
    t = n
    while t > 0:
        t = int(last[t])
        if t > 0:
            out.append(t)
    return sorted(out)
