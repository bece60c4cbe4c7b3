"""Side-by-side: the full 1-second timeline of the full-scale synthetic room
(12 h, ~2 M comments, ~200 k orders) made by vap, by pandas and by polars, in one
run; outputs compared (the script exits 1 if any column differs); medians of N
repeats and ratios printed.

Rules: every side starts from the same in-memory tables (pandas and polars
frames converted before timing; vap's own in-memory session); the peers use
vectorised library code (no Python loops over events; interval unions use one
numpy sweep shared by both peers); vap's time includes the Python call and
the copy of the result into a numpy matrix.

    .venv/bin/python benches/align_peers.py [hours|full] [repeats]

Semantics the peers reproduce (see ``vap_core::align``): flow samples spread
over ``(previous, ts]`` (exact per second here: the sim stamps whole seconds),
gauges carried forward for at most their staleness, events in closed-left
bins, interval fractions of the union, lexicon matches leftmost-longest over
one alternation of every phrase (longest first), a speech match placed by its
character position inside the utterance.
"""

from __future__ import annotations

import re
import statistics
import sys
import time

import numpy as np
import pandas as pd
import polars as pl

import vap

STEP = 1000


def median_time(fn, repeats):
    """Median wall time of `repeats` calls after one untimed warm-up call."""
    out, times = fn(), []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


# ---------------------------------------------------------------- shared setup


class Job:
    """What every side needs to know besides the tables: the grid and the lexicon."""

    def __init__(self, session: vap.Session):
        s = session.session
        self.start = s["start_ms"]
        self.n = -(-(s["end_ms"] - s["start_ms"]) // STEP)
        products = session.to_pandas("products")
        groups = {g: list(p) for g, p in vap.builtin_lexicon().items()}
        for pid, name, aliases in zip(products.id, products.name, products.aliases):
            groups[f"product:{pid}"] = [name, *list(aliases)]
        self.groups = sorted(groups)
        phrase_groups: dict[str, list[str]] = {}
        for g in self.groups:
            for p in groups[g]:
                phrase_groups.setdefault(vap.fold(p), [])
                if g not in phrase_groups[vap.fold(p)]:
                    phrase_groups[vap.fold(p)].append(g)
        self.phrase_groups = phrase_groups
        phrases = sorted(phrase_groups, key=lambda p: (-len(p), p))
        self.pattern = "|".join(re.sub(r"([\\.+*?()|\[\]{}^$#&\-~])", r"\\\1", p) for p in phrases)
        self.lexicon_map = pd.DataFrame(
            [(p, g) for p, gs in phrase_groups.items() for g in gs], columns=["phrase", "group"]
        )
        self.products = list(products.id)
        self.anchors = list(session.to_pandas("anchors").id)
        self.stale = {}


def union_fraction(starts: np.ndarray, ends: np.ndarray, start: int, n: int) -> np.ndarray:
    """Share of each 1 s bin covered by the union of [start, end) spans (numpy sweep)."""
    out = np.zeros(n)
    keep = ends > starts
    a, b = starts[keep].astype(np.int64), ends[keep].astype(np.int64)
    if len(a) == 0:
        return out
    order = np.lexsort((b, a))
    a, b = a[order], b[order]
    reach = np.maximum.accumulate(b)
    new = np.ones(len(a), dtype=bool)
    new[1:] = a[1:] > reach[:-1]
    gid = np.cumsum(new) - 1
    pa = a[new]
    pb = np.maximum.reduceat(b, np.flatnonzero(new))
    del gid
    lo, hi = start, start + n * STEP
    pa, pb = np.clip(pa, lo, hi), np.clip(pb, lo, hi)
    ok = pb > pa
    pa, pb = pa[ok], pb[ok]
    first = (pa - lo) // STEP
    last = -(-(pb - lo) // STEP)
    counts = last - first
    rep = np.repeat(np.arange(len(pa)), counts)
    bins = first[rep] + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    blo = lo + bins * STEP
    length = np.minimum(pb[rep], blo + STEP) - np.maximum(pa[rep], blo)
    np.add.at(out, bins, length / STEP)
    return np.clip(out, 0.0, 1.0)


def intervals(job: Job, shifts, segments, promotions, utterances, col):
    """Interval columns from plain numpy arrays (`col(frame, name)` reads one)."""
    out = {}
    for a in job.anchors:
        m = col(shifts, "anchor_id") == a
        out[f"anchor:{a}"] = union_fraction(
            col(shifts, "start_ms")[m], col(shifts, "end_ms")[m], job.start, job.n
        )
    ex = col(segments, "kind") == "explain"
    s0, s1, sp = (
        col(segments, "start_ms")[ex],
        col(segments, "end_ms")[ex],
        col(segments, "product_id")[ex],
    )
    out["explain:any"] = union_fraction(s0, s1, job.start, job.n)
    for p in job.products:
        out[f"explain:{p}"] = union_fraction(s0[sp == p], s1[sp == p], job.start, job.n)
    kinds = col(promotions, "kind")
    for k in sorted(set(kinds.tolist())):
        m = kinds == k
        out[f"promo:{k}"] = union_fraction(
            col(promotions, "start_ms")[m], col(promotions, "end_ms")[m], job.start, job.n
        )
    out["speech"] = union_fraction(
        col(utterances, "start_ms"), col(utterances, "end_ms"), job.start, job.n
    )
    return out


def rates(out):
    gmv, entries, orders = out["gmv"], out["entries"], out["orders"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["gpm"] = np.where(entries != 0, 1000.0 * gmv / entries, np.nan)
        out["conversion"] = np.where(entries != 0, orders / entries, np.nan)
        out["aov"] = np.where(orders != 0, gmv / orders, np.nan)


# ---------------------------------------------------------------------- pandas


def pandas_timeline(job: Job, t: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    n, start = job.n, job.start
    grid = pd.DataFrame({"t": start + np.arange(n, dtype=np.int64) * STEP})
    out: dict[str, np.ndarray] = {}
    m = t["metrics"]
    for name, g in m.groupby("metric", sort=False):
        g = g.sort_values(["ts_ms", "value"], kind="stable")
        gaps = g.ts_ms.diff()
        pos = np.sort(gaps[gaps > 0].to_numpy())
        if name == "online_viewers":
            stale = max(60_000, 3 * int(pos[len(pos) // 2]))
            j = pd.merge_asof(grid, g[["ts_ms", "value"]], left_on="t", right_on="ts_ms")
            out[name] = j.value.where(j.t - j.ts_ms < stale).to_numpy()
        else:
            prev = g.ts_ms.shift(1).fillna(g.ts_ms.iloc[0] - pos[len(pos) // 2])
            g = g.assign(prev=prev, rate=g.value * STEP / (g.ts_ms - prev))
            j = pd.merge_asof(
                grid.assign(end=grid.t + STEP),
                g[["ts_ms", "prev", "rate"]],
                left_on="end",
                right_on="ts_ms",
                direction="forward",
            )
            out[name] = j.rate.where(j.t >= j.prev, 0.0).fillna(0.0).to_numpy()
    o = t["orders"]
    o = o.assign(bin=(o.ts_ms - start) // STEP)
    o = o[(o.bin >= 0) & (o.bin < n)]
    paid, ref = o[o.status == "paid"], o[o.status == "refunded"]
    idx = pd.RangeIndex(n)
    agg = paid.groupby("bin").agg(
        orders=("id", "size"), quantity=("quantity", "sum"), order_gmv=("amount", "sum")
    )
    agg = agg.reindex(idx, fill_value=0)
    for c in agg.columns:
        out[c] = agg[c].to_numpy(dtype=float)
    ragg = (
        ref.groupby("bin")
        .agg(refunds=("id", "size"), refund_gmv=("amount", "sum"))
        .reindex(idx, fill_value=0)
    )
    for c in ragg.columns:
        out[c] = ragg[c].to_numpy(dtype=float)
    for what, table in (
        (
            "gmv",
            paid.pivot_table(index="bin", columns="product_id", values="amount", aggfunc="sum"),
        ),
        (
            "orders",
            paid.pivot_table(index="bin", columns="product_id", values="id", aggfunc="size"),
        ),
    ):
        table = table.reindex(index=idx, columns=job.products).fillna(0.0)
        for p in job.products:
            out[f"{what}:{p}"] = table[p].to_numpy(dtype=float)
    c = t["comments"]
    cbin = (c.ts_ms - start) // STEP
    inside = (cbin >= 0) & (cbin < n)
    out["comments"] = np.bincount(cbin[inside], minlength=n).astype(float)
    hits = c.text.str.lower().str.findall(job.pattern).explode().dropna().rename("phrase")
    hits = hits.to_frame().join(cbin.rename("bin")).rename_axis("row").reset_index()
    hits = hits.merge(job.lexicon_map, on="phrase")
    hits = hits[(hits.bin >= 0) & (hits.bin < n)]
    counts = (
        hits.groupby(["group", "bin"])
        .size()
        .unstack("group")
        .reindex(index=idx, columns=job.groups)
        .fillna(0)
    )
    for g in job.groups:
        out[f"comments:{g}"] = counts[g].to_numpy(dtype=float)
    qbins = hits[hits.group == "question"].drop_duplicates("row").bin
    out["questions"] = np.bincount(qbins, minlength=n).astype(float)
    # speech: match positions from the pieces between matches
    u = t["utterances"]
    folded = u.text.str.lower()
    matches = folded.str.findall(job.pattern).explode().dropna().rename("phrase").to_frame()
    matches["k"] = matches.groupby(level=0).cumcount()
    pieces = folded.str.split(job.pattern, regex=True).explode().str.len().rename("plen").to_frame()
    pieces["k"] = pieces.groupby(level=0).cumcount()
    mm = matches.reset_index().merge(pieces.reset_index(), on=["index", "k"])
    mm["mlen"] = mm.phrase.str.len()
    mm["before"] = mm.groupby("index").plen.cumsum() + mm.groupby("index").mlen.cumsum() - mm.mlen
    mm = mm.merge(
        u[["start_ms", "end_ms"]].assign(total=folded.str.len()), left_on="index", right_index=True
    )
    pos = ((mm.before + mm.mlen / 2.0) / mm.total.clip(lower=1)).clip(0.0, 1.0)
    at = np.floor(mm.start_ms.astype(float) + (mm.end_ms - mm.start_ms).astype(float) * pos)
    mm["bin"] = (at.astype(np.int64) - start) // STEP
    mm = mm[(mm.bin >= 0) & (mm.bin < n) & (at >= start)].merge(job.lexicon_map, on="phrase")
    sc = (
        mm.groupby(["group", "bin"])
        .size()
        .unstack("group")
        .reindex(index=idx, columns=job.groups)
        .fillna(0)
    )
    for g in job.groups:
        out[f"speech:{g}"] = sc[g].to_numpy(dtype=float)
    out.update(
        intervals(job, t["shifts"], t["segments"], t["promotions"], u, lambda f, c: f[c].to_numpy())
    )
    rates(out)
    return out


# ---------------------------------------------------------------------- polars


def polars_timeline(job: Job, t: dict[str, pl.DataFrame]) -> dict[str, np.ndarray]:
    n, start = job.n, job.start
    grid = pl.DataFrame({"t": start + np.arange(n, dtype=np.int64) * STEP})
    bins = pl.DataFrame({"bin": np.arange(n, dtype=np.int64)})
    out: dict[str, np.ndarray] = {}
    for (name,), g in t["metrics"].partition_by("metric", as_dict=True).items():
        g = g.sort(["ts_ms", "value"])
        gaps = g["ts_ms"].diff()
        pos = np.sort(gaps.filter(gaps > 0).to_numpy())
        if name == "online_viewers":
            stale = max(60_000, 3 * int(pos[len(pos) // 2]))
            j = grid.join_asof(g.select("ts_ms", "value"), left_on="t", right_on="ts_ms")
            out[name] = (
                j.select(pl.when(pl.col("t") - pl.col("ts_ms") < stale).then(pl.col("value")))
                .to_series()
                .fill_null(np.nan)
                .to_numpy()
            )
        else:
            first = int(pos[len(pos) // 2])
            g = g.with_columns(
                prev=pl.col("ts_ms").shift(1).fill_null(pl.col("ts_ms").first() - first)
            )
            g = g.with_columns(rate=pl.col("value") * STEP / (pl.col("ts_ms") - pl.col("prev")))
            j = grid.with_columns(end=pl.col("t") + STEP).join_asof(
                g.select("ts_ms", "prev", "rate"),
                left_on="end",
                right_on="ts_ms",
                strategy="forward",
            )
            out[name] = (
                j.select(
                    pl.when(pl.col("t") >= pl.col("prev"))
                    .then(pl.col("rate"))
                    .otherwise(0.0)
                    .fill_null(0.0)
                )
                .to_series()
                .to_numpy()
            )
    o = (
        t["orders"]
        .with_columns(bin=(pl.col("ts_ms") - start) // STEP)
        .filter((pl.col("bin") >= 0) & (pl.col("bin") < n))
    )
    paid = o.filter(pl.col("status") == "paid")
    agg = bins.join(
        paid.group_by("bin").agg(
            orders=pl.len().cast(pl.Float64),
            quantity=pl.col("quantity").sum().cast(pl.Float64),
            order_gmv=pl.col("amount").sum(),
        ),
        on="bin",
        how="left",
    ).fill_null(0.0)
    ragg = bins.join(
        o.filter(pl.col("status") == "refunded")
        .group_by("bin")
        .agg(refunds=pl.len().cast(pl.Float64), refund_gmv=pl.col("amount").sum()),
        on="bin",
        how="left",
    ).fill_null(0.0)
    for c in ("orders", "quantity", "order_gmv"):
        out[c] = agg[c].to_numpy()
    for c in ("refunds", "refund_gmv"):
        out[c] = ragg[c].to_numpy()
    per = paid.group_by("bin", "product_id").agg(
        gmv=pl.col("amount").sum(), orders=pl.len().cast(pl.Float64)
    )
    for what in ("gmv", "orders"):
        wide = bins.join(per.pivot(on="product_id", index="bin", values=what), on="bin", how="left")
        for p in job.products:
            out[f"{what}:{p}"] = (
                wide[p].fill_null(0.0).to_numpy() if p in wide.columns else np.zeros(n)
            )
    lex = pl.from_pandas(job.lexicon_map)
    c = (
        t["comments"]
        .with_columns(bin=(pl.col("ts_ms") - start) // STEP)
        .filter((pl.col("bin") >= 0) & (pl.col("bin") < n))
        .with_row_index("row")
    )
    out["comments"] = (
        bins.join(c.group_by("bin").len(), on="bin", how="left")["len"]
        .fill_null(0)
        .cast(pl.Float64)
        .to_numpy()
    )
    hits = (
        c.select(
            "row", "bin", phrase=pl.col("text").str.to_lowercase().str.extract_all(job.pattern)
        )
        .explode("phrase")
        .drop_nulls("phrase")
        .join(lex, on="phrase")
    )
    wide = bins.join(
        hits.group_by("bin", "group").len().pivot(on="group", index="bin", values="len"),
        on="bin",
        how="left",
    )
    for g in job.groups:
        out[f"comments:{g}"] = (
            wide[g].fill_null(0).cast(pl.Float64).to_numpy() if g in wide.columns else np.zeros(n)
        )
    q = hits.filter(pl.col("group") == "question").unique("row").group_by("bin").len()
    out["questions"] = (
        bins.join(q, on="bin", how="left")["len"].fill_null(0).cast(pl.Float64).to_numpy()
    )
    u = t["utterances"].with_row_index("row").with_columns(folded=pl.col("text").str.to_lowercase())
    matches = (
        u.select("row", phrase=pl.col("folded").str.extract_all(job.pattern))
        .explode("phrase")
        .drop_nulls("phrase")
        .with_columns(k=pl.int_range(pl.len()).over("row"))
    )
    pieces = (
        u.select(
            "row", piece=pl.col("folded").str.replace_all(job.pattern, "\x00").str.split("\x00")
        )
        .explode("piece")
        .with_columns(k=pl.int_range(pl.len()).over("row"), plen=pl.col("piece").str.len_chars())
    )
    mm = (
        matches.join(pieces, on=["row", "k"])
        .with_columns(mlen=pl.col("phrase").str.len_chars())
        .with_columns(
            before=pl.col("plen").cum_sum().over("row")
            + pl.col("mlen").cum_sum().over("row")
            - pl.col("mlen")
        )
        .join(
            u.select("row", "start_ms", "end_ms", total=pl.col("folded").str.len_chars()), on="row"
        )
        .with_columns(
            pos=(
                (pl.col("before") + pl.col("mlen") / 2.0) / pl.col("total").clip(lower_bound=1)
            ).clip(0.0, 1.0)
        )
        .with_columns(
            at=(
                pl.col("start_ms").cast(pl.Float64)
                + (pl.col("end_ms") - pl.col("start_ms")).cast(pl.Float64) * pl.col("pos")
            ).floor()
        )
        .with_columns(bin=(pl.col("at").cast(pl.Int64) - start) // STEP)
        .filter((pl.col("bin") >= 0) & (pl.col("bin") < n) & (pl.col("at") >= start))
        .join(lex, on="phrase")
    )
    wide = bins.join(
        mm.group_by("bin", "group").len().pivot(on="group", index="bin", values="len"),
        on="bin",
        how="left",
    )
    for g in job.groups:
        out[f"speech:{g}"] = (
            wide[g].fill_null(0).cast(pl.Float64).to_numpy() if g in wide.columns else np.zeros(n)
        )
    out.update(
        intervals(
            job,
            t["shifts"],
            t["segments"],
            t["promotions"],
            t["utterances"],
            lambda f, c: f[c].to_numpy(),
        )
    )
    rates(out)
    return out


# ------------------------------------------------------------------------ main


def compare(name: str, vap_cols: dict[str, np.ndarray], peer: dict[str, np.ndarray]) -> list[str]:
    bad = []
    for col, v in vap_cols.items():
        if col not in peer:
            bad.append(f"{name} lacks column {col}")
            continue
        p = np.asarray(peer[col], dtype=float)
        if p.shape != v.shape or not np.allclose(v, p, rtol=1e-9, atol=1e-9, equal_nan=True):
            diff = (
                np.flatnonzero(~np.isclose(v, p, rtol=1e-9, atol=1e-9, equal_nan=True))
                if p.shape == v.shape
                else []
            )
            bad.append(f"{name} differs on {col} at {len(diff)} bins (first {list(diff[:3])})")
    return bad


def main() -> None:
    arg = sys.argv[1] if len(sys.argv) > 1 else "full"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if arg == "full":
        room = vap.simulate(
            seed=1, hours=12, entries_per_second=130, comment_rate=0.002, base_conversion=0.0001
        )
    else:
        room = vap.simulate(seed=1, hours=float(arg))
    s = room.data
    names = ["metrics", "orders", "comments", "utterances", "shifts", "segments", "promotions"]
    pd_t = {}
    for name in names:
        df = s.table(name).to_pandas()
        for c in ("ts_ms", "start_ms", "end_ms"):
            if c in df:
                df[c] = df[c].astype("datetime64[ms, UTC]").astype("int64")
        pd_t[name] = df
    pl_t = {k: pl.from_pandas(v) for k, v in pd_t.items()}
    job = Job(s)
    rows = {k: len(v) for k, v in pd_t.items()}
    print(
        f"session: {job.n} bins; rows {rows}; {len(job.phrase_groups)} phrases in {len(job.groups)} groups"
    )

    t_vap, tl = median_time(lambda: s.timeline("1s"), repeats)
    t_vap_np, mat = median_time(lambda: s.timeline("1s").to_numpy(), repeats)
    vap_cols = {c: mat[:, j] for j, c in enumerate(tl.columns)}
    t_pd, pd_out = median_time(lambda: pandas_timeline(job, pd_t), repeats)
    t_pl, pl_out = median_time(lambda: polars_timeline(job, pl_t), repeats)
    problems = compare("pandas", vap_cols, pd_out) + compare("polars", vap_cols, pl_out)
    print(f"columns: {len(vap_cols)} (all compared: {'ok' if not problems else 'DIFFER'})")
    print(f"{'side':<28}{'median s':>10}{'vs vap':>10}")
    for label, tt in (
        ("vap timeline()", t_vap),
        ("vap timeline().to_numpy()", t_vap_np),
        ("pandas", t_pd),
        ("polars", t_pl),
    ):
        print(f"{label:<28}{tt:>10.3f}{tt / t_vap_np:>9.1f}x")
    for p in problems[:30]:
        print("  " + p)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
