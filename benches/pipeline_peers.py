"""Side-by-side: the whole Python-side pipeline on one synthetic room, done by
vap and by the equivalent pandas + scikit-learn + statsmodels + ruptures code,
in one run: per-stage medians, ratios and each side's peak memory.

Stages (vap / peers):

- **load** a session directory of CSV files: ``vap.load_dir`` (with all of its
  validation) / ``pandas.read_csv`` per table, sorted by time.
- **timeline** at 1 s, every stream: ``Session.timeline("1s").to_numpy()`` /
  the pandas timeline of ``align_peers.py`` (the same columns, checked equal
  there).
- **moments**: ``Session.moments()`` (robust rolling baseline on five streams,
  drivers, the streams that moved) / 30 s sums, a pandas rolling median and
  MAD z-score on the same five streams and ruptures' PELT (L2) on orders.
- **attribution** with cross-validation and bootstrap: ``vap.attribute`` on
  the 10 s attribution timeline (its default: both forms searched, 200
  replicates) / scikit-learn ``Ridge`` over 30 penalties × 5 blocked folds and
  200 block-bootstrap replicates, statsmodels OLS for the final table (the
  linear form only: less work than vap does).
- **replay**: ``Session.replay()`` (its own model fit, moments, products,
  anchors, questions, data quality) / pandas group-bys for products (GMV,
  orders, explain seconds), anchors (GMV during each host's shifts), questions
  (a regex on comments) and the orders around each moment: a subset of it.

Every figure is a median of N calls after an untimed warm-up call. Each side runs in its own process, so its peak resident memory (``ru_maxrss``)
is its own. Where a peer does less than vap (moments, attribution, replay),
the ratio flatters the peer.

    .venv/bin/python benches/pipeline_peers.py [hours] [repeats]
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ["load", "timeline", "moments", "attribution", "replay"]
MOMENT_METRICS = ["orders", "entries", "online_viewers", "product_clicks", "comments"]


def timed(fn, repeats: int):
    """Median wall time of `repeats` calls after one untimed warm-up call
    (imports, thread pools, first-touch page faults); the warm-up's result."""
    out, times = fn(), []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- vap


def vap_side(directory: str, repeats: int) -> dict:
    import vap

    out = {}
    out["load"], s = timed(lambda: vap.load_dir(directory), repeats)
    out["timeline"], _ = timed(lambda: s.timeline("1s").to_numpy(), repeats)
    out["moments"], ms = timed(lambda: s.moments(), repeats)
    tl = s.attribution_timeline()
    out["attribution"], fit = timed(lambda: vap.attribute(tl, bootstrap=200), repeats)
    out["replay"], rep = timed(lambda: s.replay(), repeats)
    out["_check"] = {
        "moments": len(ms),
        "coefficients": len(fit.coefficients),
        "products": rep.table("products").num_rows,
    }
    return out


# ---------------------------------------------------------------- peers


def peer_load(directory: str):
    import pandas as pd

    import vap

    t = {}
    for name in vap.table_names():
        df = pd.read_csv(os.path.join(directory, f"{name}.csv"))
        key = "ts_ms" if "ts_ms" in df else ("start_ms" if "start_ms" in df else None)
        if key is not None:
            df = df.sort_values(key, kind="stable").reset_index(drop=True)
        t[name] = df
    if "aliases" in t["products"]:
        t["products"]["aliases"] = t["products"]["aliases"].fillna("").str.split("|")
    return t


def peer_moments(cols: dict, step_s: int = 30, window: int = 40, threshold: float = 3.5):
    import numpy as np
    import pandas as pd
    import ruptures as rpt

    found = []
    for m in MOMENT_METRICS:
        if m not in cols:
            continue
        x = np.nan_to_num(cols[m])
        n = len(x) // step_s * step_s
        agg = x[:n].reshape(-1, step_s)
        v = pd.Series(agg.mean(axis=1) if m == "online_viewers" else agg.sum(axis=1))
        base = v.rolling(window, center=True, min_periods=5).median()
        mad = (v - base).abs().rolling(window, center=True, min_periods=5).median() * 1.4826
        z = (v - base) / mad.replace(0, np.nan)
        hot = (z.abs() > threshold).to_numpy()
        k = 0
        while k < len(hot):
            if hot[k]:
                e = k
                while e < len(hot) and hot[e]:
                    e += 1
                found.append((m, k, e, float((v - base)[k:e].sum())))
                k = e
            else:
                k += 1
    orders = np.nan_to_num(cols["orders"])
    n = len(orders) // step_s * step_s
    series = orders[:n].reshape(-1, step_s).sum(axis=1)
    sigma2 = np.var(np.diff(series)) / 2 or 1.0
    bkps = (
        rpt.Pelt(model="l2", min_size=20).fit(series).predict(pen=2 * sigma2 * np.log(len(series)))
    )
    return found, bkps


def peer_attribution(cols: dict, step_ms: int = 10_000):
    import numpy as np
    import statsmodels.api as sm
    from attribute_peers import folds, sklearn_job

    k = step_ms // 1000
    names = [c for c in cols if c.startswith(("explain:", "promo:", "speech:", "comments:"))]
    n = len(cols["order_gmv"]) // k * k

    def binned(c):
        return np.nan_to_num(cols[c][:n]).reshape(-1, k).mean(axis=1)

    x = np.column_stack([binned(c) for c in names])
    keep = np.ptp(x, axis=0) > 0
    x = x[:, keep]
    y = binned("order_gmv") * k
    units, cv = folds(len(y), step_ms)
    penalties = list(np.logspace(-3, 4, 30))
    err, best, coef, sd = sklearn_job(x, y, cv, penalties, units)
    final = sm.OLS(y, sm.add_constant(x)).fit()
    return coef, sd, final.conf_int()


def peer_replay(t: dict, cols: dict, moments: list):
    import pandas as pd

    orders = t["orders"]
    paid = orders[orders.status == "paid"]
    seg = t["segments"]
    explain = seg[seg.kind == "explain"].assign(seconds=lambda d: (d.end_ms - d.start_ms) / 1000)
    products = (
        paid.groupby("product_id")
        .agg(gmv=("amount", "sum"), orders=("id", "count"), items=("quantity", "sum"))
        .join(explain.groupby("product_id").seconds.sum(), how="outer")
        .fillna(0.0)
    )
    products["gmv_per_explain_min"] = products.gmv / (products.seconds / 60).where(
        products.seconds > 0
    )
    hosts = t["shifts"][t["shifts"].role == "host"].sort_values("start_ms")
    by_host = pd.merge_asof(paid.sort_values("ts_ms"), hosts, left_on="ts_ms", right_on="start_ms")
    by_host = by_host[by_host.ts_ms < by_host.end_ms]
    anchors = by_host.groupby("anchor_id").agg(gmv=("amount", "sum"), orders=("id", "count"))
    comments = t["comments"]
    questions = comments[
        comments.text.astype(str).str.contains(r"\?|？|多少|怎么|吗|how|what|which", regex=True)
    ]
    q_per_min = questions.groupby(questions.ts_ms // 60_000).size()
    start = int(cols["_start"])
    around = []
    for _m, a, e, _ in sorted(moments, key=lambda r: -abs(r[3]))[:5]:
        lo, hi = start + a * 30_000, start + e * 30_000
        w = paid[(paid.ts_ms >= lo) & (paid.ts_ms < hi)]
        around.append(w.groupby("product_id").amount.sum())
    return products, anchors, q_per_min, around


def peers_side(directory: str, repeats: int, job_path: str) -> dict:
    sys.path.insert(0, str(HERE))
    from align_peers import pandas_timeline

    with open(job_path, "rb") as f:
        job = pickle.load(f)
    out = {}
    out["load"], t = timed(lambda: peer_load(directory), repeats)
    out["timeline"], cols = timed(lambda: pandas_timeline(job, t), repeats)
    cols = dict(cols)
    cols["_start"] = job.start
    out["moments"], (found, _) = timed(lambda: peer_moments(cols), repeats)
    out["attribution"], _ = timed(lambda: peer_attribution(cols), repeats)
    out["replay"], _ = timed(lambda: peer_replay(t, cols, found), repeats)
    out["_check"] = {"moments": len(found)}
    return out


# ---------------------------------------------------------------- driver


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--side":
        side, directory, repeats = sys.argv[2], sys.argv[3], int(sys.argv[4])
        res = (
            vap_side(directory, repeats)
            if side == "vap"
            else peers_side(directory, repeats, sys.argv[5])
        )
        res["peak_mb"] = peak_mb()
        print(json.dumps(res))
        return
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sys.path.insert(0, str(HERE))
    from align_peers import Job

    import vap

    room = vap.simulate(seed=1, hours=hours)
    with tempfile.TemporaryDirectory() as tmp:
        directory = os.path.join(tmp, "session")
        room.data.write_dir(directory, "csv")
        job_path = os.path.join(tmp, "job.pickle")
        with open(job_path, "wb") as f:
            pickle.dump(Job(room.data), f)
        rows = {n: room.data.num_rows(n) for n in ("comments", "orders", "metrics")}
        print(f"{hours:g} h synthetic room (seed 1): {rows}; {repeats} repeats, medians")
        res = {}
        for side in ("vap", "peers"):
            cmd = [sys.executable, __file__, "--side", side, directory, str(repeats), job_path]
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if p.returncode != 0:
                sys.exit(f"{side} side failed:\n{p.stderr[-3000:]}")
            res[side] = json.loads(p.stdout.strip().splitlines()[-1])
    v, q = res["vap"], res["peers"]
    print()
    print("| stage | vap | pandas + scikit-learn + statsmodels + ruptures | vap is |")
    print("|---|---:|---:|---:|")
    for st in STAGES:
        print(f"| {st} | {v[st]:.3f} s | {q[st]:.3f} s | {q[st] / v[st]:.1f}× faster |")
    tv, tq = sum(v[s] for s in STAGES), sum(q[s] for s in STAGES)
    print(f"| **whole pipeline** | **{tv:.2f} s** | **{tq:.2f} s** | **{tq / tv:.1f}×** |")
    print(
        f"| peak resident memory | {v['peak_mb']:.0f} MB | {q['peak_mb']:.0f} MB | {q['peak_mb'] / v['peak_mb']:.1f}× less |"
    )
    print()
    print(f"vap: {v['_check']}; peers: {q['_check']}")


if __name__ == "__main__":
    main()
