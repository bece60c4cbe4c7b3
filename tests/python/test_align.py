"""Timelines against the oracles: pandas (resample, merge_asof, ewm) and polars
(group_by_dynamic, join_asof) on hypothesis-generated inputs with timestamps on
bin edges, empty bins, gauges that start after the grid, duplicate timestamps
and events outside the grid."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vap
from conftest import manifest

T0 = 1_795_608_000_000  # 2026-11-25 08:00 UTC, a whole minute
STEPS = [1000, 5000, 10_000, 60_000]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def grids(draw):
    step = draw(st.sampled_from(STEPS))
    n = draw(st.integers(1, 10))
    return step, n


def times(step: int, n: int, min_size: int = 0, max_size: int = 30):
    """Offsets from T0 (ms): anywhere around the grid, often exactly on a bin edge."""
    anywhere = st.integers(-2 * step, (n + 2) * step)
    edge = st.integers(-1, n + 1).map(lambda k: k * step)
    return st.lists(st.one_of(anywhere, edge), min_size=min_size, max_size=max_size)


def session(orders=(), comments=(), likes=(), viewers=(), segments=(), hours=1.0):
    tables = {
        "products": pd.DataFrame(
            {"id": ["p1", "p2"], "name": ["小黑瓶", "面霜"], "price": [1.0, 2.0]}
        )
    }
    if orders:
        tables["orders"] = pd.DataFrame(
            {
                "id": [f"o{i}" for i in range(len(orders))],
                "ts_ms": [T0 + t for t, _ in orders],
                "product_id": ["p1"] * len(orders),
                "quantity": [1] * len(orders),
                "amount": [float(a) for _, a in orders],
                "status": ["paid"] * len(orders),
            }
        )
    if comments:
        tables["comments"] = pd.DataFrame(
            {
                "ts_ms": [T0 + t for t in comments],
                "viewer_id": ["u"] * len(comments),
                "text": ["多少钱?"] * len(comments),
            }
        )
    rows = [("likes", T0 + t, float(v)) for t, v in likes]
    rows += [("online_viewers", T0 + t, float(v)) for t, v in viewers]
    if rows:
        tables["metrics"] = pd.DataFrame(rows, columns=["metric", "ts_ms", "value"])
    if segments:
        tables["segments"] = pd.DataFrame(
            {
                "product_id": [p for p, _, _ in segments],
                "kind": ["explain"] * len(segments),
                "start_ms": [T0 + a for _, a, _ in segments],
                "end_ms": [T0 + b for _, _, b in segments],
            }
        )
    return vap.from_tables(
        manifest(start=T0, hours=hours, likes="flow", online_viewers="gauge"), tables
    )


def pandas_sum(ts, values, step, n):
    grid = pd.date_range(pd.Timestamp(T0, unit="ms", tz="UTC"), periods=n, freq=f"{step}ms")
    if len(ts) == 0:
        return np.zeros(n)
    s = pd.Series(
        np.asarray(values, dtype=float),
        index=pd.to_datetime(np.asarray(ts, dtype="int64") + T0, unit="ms", utc=True),
    )
    r = s.resample(f"{step}ms", origin=grid[0], closed="left", label="left").sum()
    return r.reindex(grid, fill_value=0.0).to_numpy()


def polars_sum(ts, values, step, n):
    grid = pl.DataFrame(
        {"time": pl.Series([T0 + k * step for k in range(n)]).cast(pl.Datetime("ms"))}
    )
    df = pl.DataFrame(
        {
            "time": pl.Series(np.asarray(ts, dtype="int64") + T0, dtype=pl.Int64).cast(
                pl.Datetime("ms")
            ),
            "v": pl.Series(np.asarray(values, dtype=float), dtype=pl.Float64),
        }
    ).sort("time")
    g = df.group_by_dynamic(
        "time", every=f"{step}ms", closed="left", label="left", start_by="window"
    ).agg(pl.col("v").sum())
    return grid.join(g, on="time", how="left").fill_null(0.0)["v"].to_numpy()


def timeline(s, step, n, **kw):
    return s.timeline(step, start=T0, end=T0 + n * step, **kw)


@SETTINGS
@given(data=st.data(), g=grids())
def test_events_and_point_flows_match_pandas_and_polars(data, g):
    step, n = g
    order_ts = data.draw(times(step, n))
    amounts = data.draw(
        st.lists(st.integers(0, 500), min_size=len(order_ts), max_size=len(order_ts))
    )
    comment_ts = data.draw(times(step, n))
    like_ts = data.draw(times(step, n))
    likes = data.draw(st.lists(st.integers(0, 99), min_size=len(like_ts), max_size=len(like_ts)))
    s = session(
        orders=list(zip(order_ts, amounts)),
        comments=comment_ts,
        likes=list(zip(like_ts, likes)),
        viewers=[(0, 1)],
    )
    tl = timeline(s, step, n, flow="point")
    cases = [
        ("orders", order_ts, [1] * len(order_ts)),
        ("order_gmv", order_ts, amounts),
        ("comments", comment_ts, [1] * len(comment_ts)),
        ("questions", comment_ts, [1] * len(comment_ts)),
        ("likes", like_ts, likes),
    ]
    for name, ts, values in cases:
        got = tl[name]
        np.testing.assert_allclose(got, pandas_sum(ts, values, step, n), err_msg=name)
        np.testing.assert_allclose(got, polars_sum(ts, values, step, n), err_msg=name)


def pandas_gauge(ts, values, step, n, stale):
    """LOCF signal, each observation valid for `stale` ms, time-weighted per bin:
    pieces between breakpoints, each piece's value by merge_asof."""
    if len(ts) == 0:
        return np.full(n, np.nan)
    obs = (
        pd.DataFrame({"t": np.asarray(ts, dtype="int64"), "v": np.asarray(values, dtype=float)})
        .sort_values(["t", "v"], kind="stable")
        .drop_duplicates("t", keep="last")
    )
    edges = np.arange(n + 1, dtype="int64") * step
    bp = np.unique(np.concatenate([obs.t, obs.t + stale, edges]))
    bp = bp[(bp >= 0) & (bp <= n * step)]
    pieces = pd.DataFrame({"a": bp[:-1], "b": bp[1:]})
    pieces = pd.merge_asof(pieces, obs.rename(columns={"t": "ts"}), left_on="a", right_on="ts")
    pieces = pieces[(pieces.a - pieces.ts < stale) & pieces.v.notna()]
    pieces = pieces.assign(
        w=(pieces.b - pieces.a).astype(float), bin=pieces.a // step, wv=lambda d: d.w * d.v
    )
    agg = pieces.groupby("bin")[["wv", "w"]].sum()
    out = (agg.wv / agg.w).reindex(range(n))
    return out.to_numpy()


def polars_gauge(ts, values, step, n, stale):
    if len(ts) == 0:
        return np.full(n, np.nan)
    obs = (
        pl.DataFrame({"ts": np.asarray(ts, dtype="int64"), "v": np.asarray(values, dtype=float)})
        .sort(["ts", "v"])
        .unique("ts", keep="last", maintain_order=True)
    )
    edges = np.arange(n + 1, dtype="int64") * step
    bp = np.unique(np.concatenate([obs["ts"].to_numpy(), obs["ts"].to_numpy() + stale, edges]))
    bp = bp[(bp >= 0) & (bp <= n * step)]
    pieces = pl.DataFrame({"a": bp[:-1], "b": bp[1:]}).join_asof(
        obs, left_on="a", right_on="ts", strategy="backward"
    )
    agg = (
        pieces.filter((pl.col("a") - pl.col("ts")) < stale)
        .with_columns(w=(pl.col("b") - pl.col("a")).cast(pl.Float64), bin=pl.col("a") // step)
        .group_by("bin")
        .agg(((pl.col("w") * pl.col("v")).sum() / pl.col("w").sum()).alias("mean"))
    )
    grid = pl.DataFrame({"bin": np.arange(n, dtype="int64")})
    return grid.join(agg, on="bin", how="left")["mean"].to_numpy()


@SETTINGS
@given(data=st.data(), g=grids(), stale_bins=st.sampled_from([0.5, 1, 2.5, 4]))
def test_gauges_match_a_pandas_and_polars_locf_integral(data, g, stale_bins):
    step, n = g
    stale = int(stale_bins * step)
    ts = data.draw(times(step, n, min_size=1))
    values = data.draw(st.lists(st.integers(0, 1000), min_size=len(ts), max_size=len(ts)))
    s = session(viewers=list(zip(ts, values)), orders=[(0, 1)])
    tl = timeline(s, step, n, gauge_max_staleness=stale)
    got = tl["online_viewers"]
    want = pandas_gauge(ts, values, step, n, stale)
    np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(
        got, polars_gauge(ts, values, step, n, stale), rtol=1e-9, equal_nan=True
    )
    assert (tl.missing("online_viewers") == np.isnan(want)).all()
    ok = ~np.isnan(got)
    assert (got[ok] >= min(values) - 1e-9).all() and (got[ok] <= max(values) + 1e-9).all()


def test_gauge_that_starts_after_the_grid_is_missing_not_zero():
    s = session(viewers=[(125_000, 50), (130_000, 60)], orders=[(0, 1)])
    tl = timeline(s, 60_000, 3, gauge_max_staleness="60s")
    v, m = tl["online_viewers"], tl.missing("online_viewers")
    assert np.isnan(v[0]) and np.isnan(v[1]) and m[0] and m[1] and not m[2]
    # the mean over the part of the bin where the signal is known (from 125 s)
    assert v[2] == pytest.approx((5_000 * 50 + 50_000 * 60) / 55_000)
    t = tl.to_arrow()
    assert t.column("online_viewers").null_count == 2
    assert t.column("online_viewers:missing").to_pylist() == [True, True, False]
    assert tl.to_polars()["online_viewers"].null_count() == 2
    df = tl.to_pandas()
    assert df["online_viewers"].isna().sum() == 2
    assert {c["name"]: c["kind"] for c in df.attrs["vap"]["columns"]}["online_viewers"] == "gauge"


@SETTINGS
@given(data=st.data(), g=grids())
def test_interval_fractions_are_the_covered_share_of_each_bin(data, g):
    step, n = g
    starts = data.draw(times(step, n, min_size=1, max_size=6))
    lengths = data.draw(
        st.lists(st.integers(1, 3 * step), min_size=len(starts), max_size=len(starts))
    )
    segs = [("p1", a, a + b) for a, b in zip(starts, lengths)]
    s = session(segments=segs, orders=[(0, 1)])
    tl = timeline(s, step, n)
    # oracle: the union per millisecond with numpy
    covered = np.zeros(n * step, dtype=bool)
    for _, a, b in segs:
        covered[max(a, 0) : max(min(b, n * step), 0)] = True
    want = covered.reshape(n, step).mean(axis=1)
    for col in ("explain:p1", "explain:any"):
        np.testing.assert_allclose(tl[col], want, atol=1e-12)
    assert (tl["explain:p2"] == 0).all()
    assert tl["explain:p1"].sum() * step == pytest.approx(covered.sum())


def test_default_spread_puts_platform_minutes_in_their_bins(room):
    tl = room.data.timeline("1min")
    m = room.data.to_pandas("metrics")
    gmv = m[m.metric == "gmv"].set_index("ts_ms")["value"]
    # a per-minute sample stamped at the minute's end describes the minute before
    want = gmv.resample("1min", closed="right", label="left").sum().to_numpy()
    np.testing.assert_allclose(tl["gmv"], want[: len(tl)], rtol=1e-9)
    # conservation on the 1 s grid too
    assert tl["entries"].sum() == pytest.approx(m[m.metric == "entries"].value.sum())
    fine = room.data.timeline("1s")
    assert fine["entries"].sum() == pytest.approx(m[m.metric == "entries"].value.sum())


def test_rates_are_masked_where_the_denominator_is_zero(room):
    tl = room.data.timeline("10s")
    gmv, entries, orders = tl["gmv"], tl["entries"], tl["orders"]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(
            tl["gpm"], np.where(entries > 0, 1000 * gmv / entries, np.nan), equal_nan=True
        )
        np.testing.assert_allclose(
            tl["aov"], np.where(orders > 0, gmv / orders, np.nan), equal_nan=True
        )
    assert (tl.missing("aov") == (orders == 0)).all()


def test_outputs_agree_with_each_other(room):
    tl = room.data.timeline("30s")
    mat = tl.to_numpy()
    assert mat.shape == (len(tl), len(tl.columns))
    df = tl.to_pandas()
    pdf = tl.to_polars()
    for j, name in enumerate(tl.columns[:40]):
        np.testing.assert_array_equal(mat[:, j], tl[name])
        np.testing.assert_array_equal(df[name].to_numpy(), tl[name])
        np.testing.assert_array_equal(pdf[name].fill_null(np.nan).to_numpy(), tl[name])
    assert isinstance(df.index, pd.DatetimeIndex) and str(df.index.tz) == "UTC"
    assert tl.time[0] == np.datetime64(room.data.session["start_ms"], "ms")
    field = tl.to_arrow().schema.field("gmv")
    assert field.metadata[b"vap.kind"] == b"flow" and field.metadata[b"vap.unit"] == b"yuan"
    kinds = {c["name"]: c["kind"] for c in tl.column_info}
    assert kinds["explain:any"] == "interval" and kinds["speech:urgency"] == "lexicon"


def test_the_matrix_reads_the_timeline_in_place_and_outlives_it(room):
    tl = room.data.timeline("1min")
    mat = tl.to_numpy()
    again = tl.to_numpy()
    # No copy: two matrices of one timeline share its memory, read-only.
    assert np.shares_memory(mat, again) and not mat.flags.writeable
    before = mat.copy()
    width = mat.shape[1]
    # Changing the timeline while a matrix lives changes a copy of it.
    tl.add_column("mine", np.arange(len(tl), dtype=float))
    tl.derive("gmv", "lag", bins=1)
    np.testing.assert_array_equal(mat, before)
    assert tl.to_numpy().shape[1] == width + 2 and not np.shares_memory(mat, tl.to_numpy())
    np.testing.assert_array_equal(tl.to_numpy()[:, :width], before)
    # A copy shares the values until one of them changes.
    other = tl.copy()
    assert np.shares_memory(other.to_numpy(), tl.to_numpy())
    other.add_column("theirs", np.zeros(len(tl)))
    assert "theirs" not in tl.columns and not np.shares_memory(other.to_numpy(), tl.to_numpy())
    # The matrix holds the timeline's memory after the timeline is gone.
    del tl, other, again
    gc.collect()
    np.testing.assert_array_equal(mat, before)


def test_lexicon_matching_folds_script_width_and_case():
    assert vap.fold("限時秒殺 ＬＡＳＴ Chance") == "限时秒杀 last chance"
    lex = {"urgency": ["限时", "last chance"], "price": ["到手价"]}
    assert vap.lexicon_count(lex, "限時! LAST CHANCE, 到手價, 限时") == {"price": 1, "urgency": 3}
    assert "urgency" in vap.builtin_lexicon()
    s = vap.simulate(seed=2, hours=0.5, clock_offset_ms=0)
    tl = s.data.timeline("1min", lexicon=lex)
    assert "speech:urgency" in tl.columns and "speech:question" not in tl.columns
    texts = s.data.to_pandas("utterances").text
    want = sum(vap.lexicon_count(lex, t)["urgency"] for t in texts)
    assert tl["speech:urgency"].sum() == want
    with pytest.raises(vap.InvalidArgumentError):
        s.data.timeline("1min", lexicon={"bad": [""]})


def test_transforms_match_pandas(room):
    tl = room.data.timeline("10s")
    x = pd.Series(tl["orders"])
    name = tl.lag("orders", 3)
    np.testing.assert_array_equal(tl[name], x.shift(3).to_numpy())
    assert tl.missing(name)[:3].all() and not tl.missing(name)[3:].any()
    np.testing.assert_array_equal(tl[tl.lead("orders", 2)], x.shift(-2).to_numpy())
    half = 6.0
    lam = 0.5 ** (1 / half)
    got = tl[tl.adstock("orders", half, normalize=True, name="ad")]
    np.testing.assert_allclose(got, x.ewm(alpha=1 - lam, adjust=False).mean(), rtol=1e-10)
    w = np.diff(1 - np.exp(-((np.arange(0, 22) / 5.0) ** 2.0)))
    w /= w.sum()
    got = tl[tl.weibull("orders", 2.0, 5.0, 20)]
    np.testing.assert_allclose(got, np.convolve(x, w)[: len(x)], rtol=1e-10, atol=1e-12)
    got = tl[tl.hill("orders", 2.0, 0.5)]
    k = 0.5 * x.max()
    np.testing.assert_allclose(got, x**2 / (x**2 + k**2), rtol=1e-12)
    with pytest.raises(vap.AlreadyExistsError):
        tl.lag("orders", 3)
    with pytest.raises(vap.NotFoundError):
        tl.lag("nope")
    with pytest.raises(vap.InvalidArgumentError):
        tl.adstock("orders", -1)
    with pytest.raises(vap.InvalidArgumentError):
        tl.adstock(name, 3)  # a lag has missing bins


def test_transcript_offset_is_estimated_and_applied_explicitly():
    errors = []
    for seed in range(3):
        r = vap.simulate(seed=seed, hours=2)
        est = r.data.estimate_transcript_offset()
        assert est.determined, est
        err = est.offset_ms - r.truth["clock_offset_ms"]
        assert abs(err) <= est.step_ms
        errors.append(err)
        fixed = est.apply(r.data)
        before = r.data.to_pandas("utterances").start_ms
        after = fixed.to_pandas("utterances").start_ms
        assert ((before - after).dt.total_seconds() * 1000 == round(est.offset_ms)).all()
    noise = np.random.default_rng(0).random((2, 4000))
    est = vap.estimate_offset(noise[0], noise[1], step="1s")
    assert est.status == "undetermined" and est.offset_ms is None
    with pytest.raises(vap.InvalidArgumentError):
        est.apply(r.data)
    x = (np.random.default_rng(1).random(4000) < 0.05).astype(float)
    est = vap.estimate_offset(list(x), list(np.roll(x, 3)), step=1000)
    assert est.determined and est.lag_bins == 3
    est = vap.estimate_offset([x], [np.roll(x, -4)], step="2s")
    assert est.determined and est.lag_bins == -4 and est.offset_ms == pytest.approx(-8000, abs=1000)


def test_room_view_from_sessions_and_store(store):
    sessions = [
        vap.simulate(
            seed=30 + k,
            hours=0.5,
            products=20 + 5 * k,
            session_id=f"s{k}",
            start_ms=1_795_608_000_000 + k * 86_400_000,
        ).data
        for k in range(3)
    ]
    tl = vap.room_timeline(sessions, "10s")
    assert len(tl) == sum(len(s.timeline("10s")) for s in sessions)
    assert [sp["session_id"] for sp in tl.spans] == ["s0", "s1", "s2"]
    df = tl.to_pandas()
    assert list(df.index.names) == ["session_id", "time"]
    single = sessions[1].timeline("10s")
    np.testing.assert_array_equal(df.loc["s1"]["orders"].to_numpy(), single["orders"])
    only_last = [
        c
        for c in tl.columns
        if c.startswith("orders:") and c not in sessions[0].timeline("10s").columns
    ]
    assert only_last and (df.loc["s0"][only_last[0]] == 0).all()
    for s in sessions:
        store.import_session(s)
    st_tl = store.room_timeline(sessions[0].room["id"], "10s")
    assert st_tl.columns == tl.columns
    np.testing.assert_array_equal(st_tl.to_numpy(), tl.to_numpy())


@st.composite
def asof_frames(draw):
    n_left = draw(st.integers(0, 15))
    n_right = draw(st.integers(0, 15))
    t = st.integers(0, 40)
    key = st.sampled_from(["a", "b", "c"])

    def frame(n, with_v):
        cols = {
            "t": pd.Series(draw(st.lists(t, min_size=n, max_size=n)), dtype="int64"),
            "k": pd.Series(draw(st.lists(key, min_size=n, max_size=n)), dtype="str"),
        }
        if with_v:
            cols["v"] = pd.Series(np.arange(n, dtype=float))
        return pd.DataFrame(cols)

    left = frame(n_left, False)
    right = frame(n_right, True)
    return left, right


@settings(max_examples=150, deadline=None)
@given(
    frames=asof_frames(),
    direction=st.sampled_from(["backward", "forward", "nearest"]),
    tolerance=st.one_of(st.none(), st.integers(0, 10)),
    exact=st.booleans(),
    use_by=st.booleans(),
)
def test_merge_asof_matches_pandas(frames, direction, tolerance, exact, use_by):
    left, right = frames
    left = left.sort_values("t", kind="stable").reset_index(drop=True)
    right = right.sort_values("t", kind="stable").reset_index(drop=True)
    left["t"] = pd.to_datetime(T0 + left.t, unit="ms", utc=True)
    right["t"] = pd.to_datetime(T0 + right.t, unit="ms", utc=True)
    kw = dict(direction=direction, allow_exact_matches=exact)
    want = pd.merge_asof(
        left,
        right,
        on="t",
        by="k" if use_by else None,
        tolerance=None if tolerance is None else pd.Timedelta(milliseconds=tolerance),
        suffixes=("", "_right"),
        **kw,
    )
    got = vap.merge_asof(left, right, on="t", by="k" if use_by else None, tolerance=tolerance, **kw)
    assert isinstance(got, pd.DataFrame)
    np.testing.assert_array_equal(got["v"].to_numpy(dtype=float), want["v"].to_numpy(dtype=float))


@settings(max_examples=100, deadline=None)
@given(
    frames=asof_frames(),
    direction=st.sampled_from(["backward", "forward"]),
    tolerance=st.one_of(st.none(), st.integers(0, 10)),
)
def test_join_asof_matches_polars(frames, direction, tolerance):
    left, right = frames
    right = right.drop_duplicates(["t", "k"])  # polars' pick among equal keys is unspecified
    lf = pl.from_pandas(left).sort("t")
    rf = pl.from_pandas(right).sort("t")
    want = lf.join_asof(rf, on="t", by="k", strategy=direction, tolerance=tolerance)
    got = vap.merge_asof(lf, rf, on="t", by="k", direction=direction, tolerance=tolerance)
    assert isinstance(got, pl.DataFrame)
    np.testing.assert_array_equal(
        got["v"].fill_null(np.nan).to_numpy(), want["v"].fill_null(np.nan).to_numpy()
    )


def test_merge_asof_errors_are_typed():
    left = pa.table({"t": [1, None]})
    right = pa.table({"t": [1], "v": [1.0]})
    with pytest.raises(vap.InvalidArgumentError, match="null keys at rows 2"):
        vap.merge_asof(left, right, on="t")
    with pytest.raises(vap.InvalidArgumentError, match="no column 'x'"):
        vap.merge_asof(right, right, on="x")
    with pytest.raises(vap.InvalidArgumentError):
        vap.merge_asof(right, right, on="t", direction="sideways")
    with pytest.raises(vap.InvalidArgumentError):
        vap.merge_asof(pa.table({"t": [1.5]}), right, on="t")


def test_bad_timeline_options_are_typed(room):
    with pytest.raises(vap.InvalidArgumentError):
        room.data.timeline(0)
    with pytest.raises(vap.InvalidArgumentError):
        room.data.timeline("fortnightly")
    with pytest.raises(vap.InvalidArgumentError):
        room.data.timeline("1s", flow="smeared")
    with pytest.raises(vap.InvalidArgumentError):
        room.data.timeline("1s", start="2026-11-25T10:00:00Z", end="2026-11-25T09:00:00Z")
    # An unknown option is refused by the core, naming it (a ValueError).
    with pytest.raises(vap.InvalidArgumentError, match="colour") as e:
        room.data.timeline("1s", colour="blue")
    assert isinstance(e.value, ValueError)
    # A typo'd value names its option too.
    with pytest.raises(vap.InvalidArgumentError, match="per_product"):
        room.data.timeline("1s", per_product="yes")


def test_timeline_is_the_same_on_one_and_two_threads(room):
    try:
        vap.set_num_threads(1)
        one = room.data.timeline("10s").to_numpy()
        vap.set_num_threads(2)
        two = room.data.timeline("10s").to_numpy()
    finally:
        vap.set_num_threads(0)
    np.testing.assert_array_equal(one, two)
