"""vap.pelt's default penalty against ruptures, R changepoint and "no change"
on a generated suite of realistic series (issue 16), in one run.

The suite (``tests/python/cp_suite.py``): piecewise-constant means with 0-6
known changes (a third without any) plus trends, seasonality, AR(1) noise,
Student-t tails, outliers or Poisson counts; 50-1000 points, like TCPDBench's
30 annotated real series. Metrics: TCPDBench's F1 (margin 5, index 0 counted
in both sets) and segmentation covering.

1. Tuning, on suite A (seed 1): penalties ``c·ln(n)·max(σ²_AR(1), β·(1.4826·
   MAD(x))²)`` over a grid of ρ cap, β, c and min_size; the pick is the best
   mean of (F1 + covering)/2 whose clean-series score stays >= 0.95, with
   min_size <= 5 (the generator never puts changes closer than 8 points, so a
   larger min_size would exploit it).
2. Report, on suite B (seed 2) and on one-family variants (seed 3): every
   method, overall and per family.
3. Pure trends (no change): how many change points each method returns.
4. 43,200 points (12 hours at 1 s): a live room's counts with 12 level
   shifts, and the shape of ``benches/detect.rs``'s series: the time of the
   noise estimate + vap.pelt, and what it finds. The installed vap may be a
   debug build (maturin's ``dev`` profile): times compare within the run.

    .venv/bin/python benches/changepoint_suite.py [--count 270] [--variant-count 60]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))

import cp_suite as cs  # noqa: E402

import vap  # noqa: E402

RHO_CAPS = (0.0, 0.3, 0.5, 0.8)
FLOORS = (0.0, 0.05, 0.1, 0.2)
CS = (2.0, 3.0, 4.0, 5.0, 6.0)
MIN_SIZES = (1, 2, 5)
CLEAN_FLOOR = 0.95


def vap_cps(x: np.ndarray, penalty: float, min_size: int) -> list[int]:
    return vap.pelt(x, penalty=penalty, min_size=min_size).breakpoints[:-1]


def running_median_variance(x: np.ndarray, width: int = 21) -> float:
    """σ² from the residuals of a running median: (1.4826·MAD(x − med_w(x)))²."""
    r = x - median_filter(x, size=width, mode="nearest")
    return (cs.MAD_TO_SD * cs.mad(r)) ** 2


METHODS: dict[str, Callable[[np.ndarray], list[int]]] = {
    "vap pelt default": lambda x: vap.pelt(x).breakpoints[:-1],
    "vap pelt bic, m=1 (before)": lambda x: vap.pelt(x, penalty="bic", min_size=1).breakpoints[:-1],
    "no change": lambda x: [],
    "ruptures Pelt l2, 2·var(x)·ln n": cs.ruptures_default,
    "R cpt.mean PELT MBIC": cs.r_changepoint_mbic,
    "cand: 3·ln n·σ²Δ1, m=1": lambda x: vap_cps(x, 3 * math.log(len(x)) * cs.diff_variance(x), 1),
    "cand: 4·ln n·σ²runmed21, m=5": lambda x: vap_cps(
        x, 4 * math.log(len(x)) * running_median_variance(x), 5
    ),
    "cand: 4·ln n·σ²AR(ρ≤.3), m=5": lambda x: vap_cps(x, cs.floored_penalty(x, 0.3, 0.0, 4.0), 5),
    "RECOMMENDED": lambda x: vap_cps(x, cs.recommended_penalty(x), cs.RECOMMENDED_MIN_SIZE),
}


# --- 1. tuning on suite A ------------------------------------------------------


def grid() -> list[tuple[float, float, float, int]]:
    return list(itertools.product(RHO_CAPS, FLOORS, CS, MIN_SIZES))


def tune_one(s: cs.Series) -> np.ndarray:
    """(F1, covering) of every grid point on one series."""
    n = len(s.x)
    ar = {r: cs.ar1_long_run_variance(s.x, r) for r in RHO_CAPS}
    seen: dict[tuple[float, int], tuple[float, float]] = {}
    out = []
    for rho, floor, c, m in grid():
        pen = cs.floored_penalty(s.x, rho, floor, c, ar=ar[rho])
        key = (round(pen, 12), m)
        if key not in seen:
            bk = vap_cps(s.x, pen, m)
            seen[key] = (cs.f_measure(s.cps, bk), cs.covering(s.cps, bk, n))
        out.append(seen[key])
    return np.array(out)


def tune(series: list[cs.Series], pool) -> tuple[float, float, float, int]:
    res = np.stack(pool.map(tune_one, series, chunksize=4))  # series × grid × 2
    score = res.mean(axis=2)
    overall = score.mean(axis=0)
    clean = np.array([s.family == "clean" for s in series])
    clean_score = score[clean].mean(axis=0)
    pts = grid()
    ok = [i for i, p in enumerate(pts) if clean_score[i] >= CLEAN_FLOOR and p[3] <= 5]
    order = sorted(ok, key=lambda i: -overall[i])
    print(f"\n1. Tuning on suite A ({len(series)} series, {len(pts)} penalties)")
    print("   penalty = c·ln(n)·max(σ²_AR(1) with ρ ≤ cap, β·(1.4826·MAD(x))²)")
    print(f"   {'ρ cap':>6}{'β':>6}{'c':>5}{'m':>4}{'F1':>8}{'cover':>8}{'score':>8}{'clean':>8}")
    for i in order[:12]:
        rho, floor, c, m = pts[i]
        f1, cov = res[:, i, 0].mean(), res[:, i, 1].mean()
        print(
            f"   {rho:>6.1f}{floor:>6.2f}{c:>5.0f}{m:>4}{f1:>8.3f}{cov:>8.3f}"
            f"{overall[i]:>8.3f}{clean_score[i]:>8.3f}"
        )
    best = pts[order[0]]
    print(f"   best of those with clean >= {CLEAN_FLOOR} and min_size <= 5: {best}")
    by_m = {m: max(overall[i] for i, p in enumerate(pts) if p[3] == m) for m in MIN_SIZES}
    print("   best score by min_size: " + ", ".join(f"{m}: {v:.3f}" for m, v in by_m.items()))
    return best


# --- 2. report -------------------------------------------------------------------


def evaluate_one(s: cs.Series) -> list[tuple[float, float, int]]:
    out = []
    for f in METHODS.values():
        bk = f(s.x)
        out.append((cs.f_measure(s.cps, bk), cs.covering(s.cps, bk, len(s.x)), len(bk)))
    return out


def report(title: str, series: list[cs.Series], pool) -> dict[str, tuple[float, float]]:
    res = np.array(pool.map(evaluate_one, series, chunksize=4))  # series × method × 3
    families = sorted({s.family for s in series}, key=cs.FAMILIES.index)
    fam = np.array([s.family for s in series])
    print(f"\n{title} ({len(series)} series; cells: F1 / covering)")
    head = f"   {'method':<32}{'F1':>7}{'cover':>7}{'cps/true':>9}"
    head += "".join(f"{f:>12}" for f in families)
    print(head)
    true_cps = sum(len(s.cps) for s in series)
    summary = {}
    for j, name in enumerate(METHODS):
        f1, cov = res[:, j, 0].mean(), res[:, j, 1].mean()
        summary[name] = (f1, cov)
        ratio = res[:, j, 2].sum() / max(true_cps, 1)
        cells = "".join(
            f"{res[fam == f, j, 0].mean():>6.2f}/{res[fam == f, j, 1].mean():.2f}" for f in families
        )
        print(f"   {name:<32}{f1:>7.3f}{cov:>7.3f}{ratio:>9.2f}{cells}")
    return summary


# --- 3. pure trends, 4. a live room ---------------------------------------------


def trends() -> None:
    rng = np.random.default_rng(5)
    n = 816
    u = np.linspace(0.0, 1.0, n)
    cases = {
        "test trend": cs.smooth_trend(n, 0),
        "ramp 20σ": 20 * u + rng.standard_normal(n),
        "logistic AR": 1000 / (1 + np.exp(-(u - 0.5) / 0.1)) + cs._ar1(rng, n, 0.6),
        "pop-like": 1e5 * (1 + u + 0.3 * u**2) + 10 * cs._ar1(rng, n, 0.9),
        "pop rounded": np.round(1e5 * (1 + u + 0.3 * u**2) / 100) * 100,
    }
    print(f"\n3. Pure trends, {n} points, no change: change points returned")
    print("   test trend: cp_suite.smooth_trend (logistic + quadratic, AR(.6) noise, sd 5);")
    print("   ramp 20σ: linear, iid noise; logistic AR: range 1000σ, AR(.6); pop-like:")
    print("   a smooth rise of 1.3e5 with AR(.9) noise of sd 10 (US-population-like);")
    print("   pop rounded: the same without noise, rounded to 100s")
    print(f"   {'method':<32}" + "".join(f"{k:>13}" for k in cases))
    for name, f in METHODS.items():
        print(f"   {name:<32}" + "".join(f"{len(f(x)):>13}" for x in cases.values()))


def rust_bench_signal(n: int = 43_200, seed: int = 1) -> tuple[np.ndarray, tuple[int, ...]]:
    """The shape of ``benches/detect.rs``'s series: a level U(-5, 5) redrawn
    every 1,000 points plus U(-1, 1) noise."""
    rng = np.random.default_rng(seed)
    levels = rng.uniform(-5.0, 5.0, size=-(-n // 1000))
    x = np.repeat(levels, 1000)[:n] + rng.uniform(-1.0, 1.0, size=n)
    return x, tuple(range(1000, n, 1000))


def live_room(repeats: int) -> None:
    series = {
        "live room": cs.live_counts(),
        "detect.rs signal": rust_bench_signal(),
    }
    print(f"\n4. 43,200 points (median of {repeats}): live room = Poisson counts with 12 level")
    print("   shifts (cp_suite.live_counts); detect.rs signal = 43 level shifts, uniform noise")
    print(
        f"   {'series':<18}{'method':<24}{'estimate ms':>12}{'pelt ms':>10}{'total ms':>10}"
        f"{'cps':>6}{'true':>6}{'F1':>7}{'cover':>7}"
    )
    for label, (x, cps) in series.items():
        n = len(x)
        totals = []
        for name, estimate, m in (
            ("vap pelt bic (before)", lambda x=x: "bic", 1),
            ("vap pelt default", lambda x=x: None, 5),
        ):
            te, tp, bk = [], [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                pen = estimate()
                t1 = time.perf_counter()
                seg = vap.pelt(x) if pen is None else vap.pelt(x, penalty=pen, min_size=m)
                t2 = time.perf_counter()
                te.append(t1 - t0)
                tp.append(t2 - t1)
                bk = seg.breakpoints[:-1]
            e, p = statistics.median(te) * 1e3, statistics.median(tp) * 1e3
            totals.append(e + p)
            print(
                f"   {label:<18}{name:<24}{e:>12.2f}{p:>10.1f}{e + p:>10.1f}{len(bk):>6}"
                f"{len(cps):>6}{cs.f_measure(cps, bk):>7.3f}{cs.covering(cps, bk, n):>7.3f}"
            )
        print(f"   {label:<18}default ÷ bic: {totals[1] / totals[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=270, help="series in suites A and B")
    ap.add_argument("--variant-count", type=int, default=60, help="series per variant")
    ap.add_argument("--repeats", type=int, default=5, help="timing repeats at 43,200 points")
    args = ap.parse_args()
    print(
        "RECOMMENDED: penalty = 4·ln(n)·max(σ²_LR, 0.1·(1.4826·MAD(x))²), min_size 5;\n"
        "  s_k = 1.4826·MAD(x[t+k] − x[t]), ρ = clip(s₂²/s₁² − 1, 0, 0.3),\n"
        "  σ²_LR = s₁²/(2(1 − ρ)) · (1 + ρ)/(1 − ρ)"
    )
    with Pool(2) as pool:
        best = tune(cs.generate(1, args.count, cs.FAMILIES), pool)
        rec = (
            cs.RECOMMENDED["rho_max"],
            cs.RECOMMENDED["floor"],
            cs.RECOMMENDED["c"],
            cs.RECOMMENDED_MIN_SIZE,
        )
        print(f"   RECOMMENDED {rec} is {'the' if best == rec else 'NOT the'} pick")
        report("2. Suite B (seed 2), all families", cs.generate(2, args.count, cs.FAMILIES), pool)
        variants = {
            "trending only (trend, smooth)": ("trend", "smooth"),
            "AR(1) only": ("ar",),
            "clean iid only": ("clean",),
            "heavy tails and outliers": ("heavy", "outliers"),
            "counts only": ("counts",),
            "seasonal only": ("seasonal",),
        }
        for title, fams in variants.items():
            report(f"2. Variant (seed 3): {title}", cs.generate(3, args.variant_count, fams), pool)
    trends()
    live_room(args.repeats)


if __name__ == "__main__":
    main()
