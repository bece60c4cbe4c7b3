"""Change points against ruptures (Dynp exact, Pelt with min_size=1, jump=1),
and moments of truth on synthetic rooms."""

from __future__ import annotations

import numpy as np
import pytest
import ruptures as rpt

import vap


def signal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    cuts = np.sort(rng.choice(np.arange(5, n - 5), size=k, replace=False))
    levels = rng.normal(0, 4, size=k + 1)
    x = np.repeat(levels, np.diff(np.concatenate([[0], cuts, [n]])))
    return x + rng.normal(0, 1, size=n)


@pytest.mark.parametrize("seed", range(12))
def test_pelt_matches_ruptures_pelt_and_dynp(seed):
    rng = np.random.default_rng(seed)
    x = signal(rng, int(rng.integers(40, 200)), int(rng.integers(1, 5)))
    for pen in (2.0, 8.0, 25.0):
        ours = vap.pelt(x, cost="l2", penalty=pen, min_size=1)
        theirs = rpt.Pelt(model="l2", min_size=1, jump=1).fit(x).predict(pen=pen)
        assert ours.breakpoints == theirs
        if len(ours.breakpoints) > 1:
            exact = (
                rpt.Dynp(model="l2", min_size=1, jump=1)
                .fit(x)
                .predict(n_bkps=len(ours.breakpoints) - 1)
            )
            assert ours.breakpoints == exact
        assert vap.dynp(x, cost="l2", penalty=pen, min_size=1).breakpoints == ours.breakpoints


@pytest.mark.parametrize("min_size", [2, 5, 9])
def test_min_size_optimum_matches_ruptures_dynp(min_size):
    rng = np.random.default_rng(min_size)
    x = signal(rng, 120, 3)
    ours = vap.pelt(x, cost="l2", penalty=10.0, min_size=min_size)
    assert ours.breakpoints == vap.dynp(x, cost="l2", penalty=10.0, min_size=min_size).breakpoints
    exact = (
        rpt.Dynp(model="l2", min_size=min_size, jump=1)
        .fit(x)
        .predict(n_bkps=len(ours.breakpoints) - 1)
    )
    assert ours.breakpoints == exact
    assert np.diff([0, *ours.breakpoints]).min() >= min_size


def test_costs_and_penalties():
    rng = np.random.default_rng(3)
    counts = np.concatenate([rng.poisson(2, 200), rng.poisson(9, 200)])
    seg = vap.pelt(counts, cost="poisson")
    assert len(seg.breakpoints) == 2 and abs(seg.breakpoints[0] - 200) <= 3
    var = np.concatenate([rng.normal(0, 1, 300), rng.normal(0, 5, 300)])
    seg = vap.pelt(var, cost="normal")
    assert abs(seg.breakpoints[0] - 300) <= 10
    assert vap.binseg(var, cost="normal").penalized_cost >= seg.penalized_cost - 1e-9
    with pytest.raises(vap.InvalidArgumentError):
        vap.pelt([1.0, float("nan")])
    with pytest.raises(vap.InvalidArgumentError):
        vap.pelt([1.0, -1.0], cost="poisson")
    with pytest.raises(vap.InvalidArgumentError):
        vap.pelt([1.0, 2.0], cost="cauchy")
    with pytest.raises(vap.InvalidArgumentError):
        vap.pelt([1.0, 2.0], penalty="aic")


def test_moments_on_a_synthetic_room():
    room = vap.simulate(seed=4)
    moments = room.data.moments()
    assert len(moments) > 0
    shares = [m.share for m in moments]
    assert shares == sorted(shares, reverse=True)
    gmv = moments.top(3, metric="order_gmv")
    assert all(m.metric == "order_gmv" for m in gmv)
    assert [abs(m.magnitude) for m in gmv] == sorted((abs(m.magnitude) for m in gmv), reverse=True)
    df = moments.to_pandas()
    assert list(df.columns[:5]) == ["metric", "start", "end", "kind", "driver"]
    assert str(df.start.dt.tz) == "UTC"
    assert moments.to_polars().height == len(moments)
    for m in moments:
        assert len(m.baseline) == (m.end_ms - m.start_ms) // 30_000
        assert all(isinstance(s, vap.Moved) for s in m.moved)
    assert "moved" in df.columns
    # the viewer gauge is scanned: each planted stall is a traffic drop on it
    stalls = [p for p in room.truth["moments"] if p["cause"] == "stream_stall"]
    assert stalls
    for p in stalls:
        hit = [
            m
            for m in moments
            if m.metric == "online_viewers"
            and m.kind == "drop"
            and m.start_ms < p["end_ms"]
            and p["start_ms"] < m.end_ms
        ]
        assert hit and hit[0].driver == "traffic", p
        assert any(s.metric == "online_viewers" and s.change < -0.2 for s in hit[0].moved)
    # every planted flash sale is found, as conversion-driven, within a minute
    events = moments.events()
    for p in room.truth["moments"]:
        if p["cause"] != "flash_sale":
            continue
        near = [e for e in events if abs(e.start_ms - p["start_ms"]) <= 60_000]
        assert near and near[0].driver == "conversion" and near[0].kind == "peak", p
    with pytest.raises(vap.InvalidArgumentError):
        room.data.moments(threshold=-1)
    with pytest.raises(vap.NotFoundError):
        room.data.moments(metrics=["nope"])
