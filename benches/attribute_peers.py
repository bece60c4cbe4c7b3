"""Side-by-side: one attribution fit on a 12-hour session at 1 s (43,200 bins ×
~100 factors): ridge, penalty cross-validated over 30 values × 5 blocked folds,
then 200 moving-block bootstrap replicates at the chosen penalty, done by vap,
by scikit-learn (``Ridge`` per fold and penalty, ``Ridge`` per replicate) and
by statsmodels (``OLS.fit_regularized(L1_wt=0)``, the same) in one run.

All three get the same design (the linear form: intercept unpenalised, no
standardisation, so each solves ``‖y − Xb‖² + λ‖b‖²``), the same folds (vap's
rule: units of a quarter block, contiguous folds of units, a gap of units left
out either side), the same penalties and the same block bootstrap scheme (the
peers draw their blocks with numpy, so their replicates are other draws of the
same scheme). The script checks that the cross-validation curves, the chosen
penalty and the coefficients agree (exits 1 otherwise) and that the bootstrap
standard errors agree within sampling error; it prints medians of N repeats
and ratios. statsmodels is timed on a tenth of the work and scaled (marked ~)
when the whole would exceed the time-out.

    .venv/bin/python benches/attribute_peers.py [hours] [repeats] [timeout_s]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import statsmodels.api as sm
from sklearn.linear_model import Ridge

import vap

BLOCK_MS, GAP_MS, FOLDS, BOOT = 600_000, 300_000, 5, 200


def timeline(hours: float) -> vap.Timeline:
    r = vap.simulate(
        seed=0,
        hours=hours,
        entries_per_second=130.0,
        comment_rate=0.002,
        base_conversion=0.0001,
    )
    s = r.data.estimate_transcript_offset().apply(r.data)
    return s.attribution_timeline("1s")


def wide_factors(tl: vap.Timeline) -> list[str]:
    prefixes = ("explain:", "promo:", "speech:", "comments:", "host:")
    cols = [c for c in tl.columns if c.startswith(prefixes) and c != "host:a1"]
    m = tl.to_numpy(cols)
    return [c for c, v in zip(cols, m.T) if np.ptp(v) > 0]


def folds(n: int, step_ms: int) -> tuple[list[range], list[tuple[np.ndarray, np.ndarray]]]:
    u = max(1, BLOCK_MS // 4 // step_ms)
    units = [range(s, min(s + u, n)) for s in range(0, n, u)]
    nu = len(units)
    gap = -(-(GAP_MS // step_ms) // u)
    out = []
    for k in range(FOLDS):
        a, b = k * nu // FOLDS, (k + 1) * nu // FOLDS
        test = np.arange(units[a].start, units[b - 1].stop)
        lo, hi = max(0, a - gap), min(nu, b + gap)
        excl = np.arange(units[lo].start, units[hi - 1].stop)
        train = np.setdiff1d(np.arange(n), excl)
        out.append((train, test))
    return units, out


def block_rows(units: list[range], rng: np.random.Generator) -> np.ndarray:
    nu = len(units)
    starts = np.arange(0, nu - 3)
    picked: list[int] = []
    while len(picked) < nu:
        k = int(rng.choice(starts))
        picked.extend(range(k, k + 4))
    return np.concatenate([np.arange(units[k].start, units[k].stop) for k in picked])


def sklearn_job(x, y, cv_folds, penalties, units, seed=0):
    err = np.zeros(len(penalties))
    for train, test in cv_folds:
        for j, a in enumerate(penalties):
            m = Ridge(alpha=a).fit(x[train], y[train])
            r = y[test] - m.predict(x[test])
            err[j] += r @ r
    err /= sum(len(t) for _, t in cv_folds)
    best = penalties[int(np.argmin(err))]
    final = Ridge(alpha=best).fit(x, y)
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(BOOT):
        rows = block_rows(units, rng)
        reps.append(Ridge(alpha=best).fit(x[rows], y[rows]).coef_)
    return (
        err,
        best,
        np.concatenate([[final.intercept_], final.coef_]),
        np.std(reps, axis=0, ddof=1),
    )


def statsmodels_fit(x1, y, alpha):
    n = len(y)
    w = np.full(x1.shape[1], alpha / n)
    w[0] = 0.0  # the intercept unpenalised
    return sm.OLS(y, x1).fit_regularized(alpha=w, L1_wt=0.0).params


def statsmodels_job(x1, y, cv_folds, penalties, units, fraction=1.0, seed=0):
    """The same work with statsmodels; `fraction` < 1 does that share of it."""
    n_fits = max(1, int(round(len(cv_folds) * len(penalties) * fraction)))
    k = 0
    for train, test in cv_folds:
        for a in penalties:
            if k >= n_fits:
                break
            b = statsmodels_fit(x1[train], y[train], a)
            r = y[test] - x1[test] @ b
            _ = r @ r
            k += 1
    rng = np.random.default_rng(seed)
    for _ in range(max(1, int(round(BOOT * fraction)))):
        rows = block_rows(units, rng)
        statsmodels_fit(x1[rows], y[rows], penalties[0])


def median_time(f, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> int:
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 12.0
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
    tl = timeline(hours)
    factors = wide_factors(tl)
    opts = dict(
        target="order_gmv",
        form="linear",
        exposure=None,
        factors=factors,
        standardize=False,
        bootstrap=BOOT,
        seed=0,
    )
    first = vap.attribute(tl, **opts)
    penalties = [c["penalty"] for c in first.cv]
    opts["penalties"] = penalties
    fit = vap.attribute(tl, **opts)
    x = tl.to_numpy(factors)
    y = tl.to_numpy(["order_gmv"])[:, 0]
    n, p = x.shape
    units, cv_folds = folds(n, tl.step_ms)
    print(
        f"{hours:g} h at 1 s: {n} bins × {p} factors, {len(penalties)} penalties × {FOLDS} folds, {BOOT} bootstrap replicates"
    )

    t_vap = median_time(lambda: vap.attribute(tl, **opts), repeats)
    t0 = time.perf_counter()
    err, best, coef, boot_sd = sklearn_job(x, y, cv_folds, penalties, units)
    t_sk = time.perf_counter() - t0
    if repeats > 1:
        t_sk = statistics.median(
            [t_sk]
            + [
                median_time(lambda: sklearn_job(x, y, cv_folds, penalties, units), 1)
                for _ in range(repeats - 1)
            ]
        )

    # ---- agreement
    ok = True
    vap_err = np.array([c["error"] for c in fit.cv])
    if not np.allclose(vap_err, err, rtol=1e-6):
        print("cross-validation curves differ:", np.max(np.abs(vap_err / err - 1)))
        ok = False
    if fit.penalty != best:
        print(f"chosen penalty differs: vap {fit.penalty} vs scikit-learn {best}")
        ok = False
    vc = np.array([c.value for c in fit.coefficients])
    rel = np.max(np.abs(vc - coef)) / np.max(np.abs(coef))
    if rel > 1e-6:
        print(f"coefficients differ from scikit-learn: {rel:.2e}")
        ok = False
    x1 = np.column_stack([np.ones(n), x])
    sm_coef = statsmodels_fit(x1, y, best)
    rel_sm = np.max(np.abs(vc - sm_coef)) / np.max(np.abs(sm_coef))
    if rel_sm > 1e-6:
        print(f"coefficients differ from statsmodels: {rel_sm:.2e}")
        ok = False
    vap_sd = np.array([c.boot_se for c in fit.coefficients[1:]])
    ratio = float(np.median(vap_sd / boot_sd))
    if not 0.8 < ratio < 1.25:
        print(f"bootstrap standard errors differ: median ratio {ratio:.2f}")
        ok = False

    # ---- statsmodels, scaled when the whole job would not fit the time-out
    t1 = time.perf_counter()
    statsmodels_job(x1, y, cv_folds, penalties, units, fraction=0.1)
    t_tenth = time.perf_counter() - t1
    if t_tenth * 10 <= timeout:
        t1 = time.perf_counter()
        statsmodels_job(x1, y, cv_folds, penalties, units)
        t_sm, mark = time.perf_counter() - t1, ""
    else:
        t_sm, mark = t_tenth * 10, "~"

    print()
    print("| the whole job (CV 30 × 5, 200 replicates) | median | vap is |")
    print("|---|---:|---:|")
    print(f"| vap `attribute` (ridge) | {t_vap:.2f} s | 1× |")
    print(
        f"| scikit-learn `Ridge` per fold, penalty, replicate | {t_sk:.2f} s | {t_sk / t_vap:.1f}× faster |"
    )
    print(
        f"| statsmodels `OLS.fit_regularized` | {mark}{t_sm:.1f} s | {mark}{t_sm / t_vap:.0f}× faster |"
    )
    print()
    print(
        f"agreement: CV curve max rel. diff {np.max(np.abs(vap_err / err - 1)):.1e}, penalty {'same' if fit.penalty == best else 'DIFFERENT'}, "
        f"coefficients vs scikit-learn {rel:.1e}, vs statsmodels {rel_sm:.1e}, bootstrap SE ratio (median) {ratio:.2f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
