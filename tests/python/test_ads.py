"""Paid and natural traffic: the second stage against statsmodels' robust
regression, recovery of planted ad spend, the placebo, and the replay's view."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

import vap


@pytest.fixture(scope="module")
def ads_room():
    return vap.simulate(
        seed=4, hours=3, entries_per_second=40, ad_spend_per_hour=60_000, entries_per_yuan=0.5
    )


@pytest.fixture(scope="module")
def ads_fit(ads_room):
    tl = ads_room.data.attribution_timeline()
    return tl, vap.attribute(tl, bootstrap=40, seed=3)


def carried(spend: np.ndarray, step_ms: float, half_life_ms: float) -> np.ndarray:
    keep = 0.5 ** (step_ms / half_life_ms) if half_life_ms > 0 else 0.0
    out = np.zeros_like(spend)
    a = 0.0
    for i, x in enumerate(np.nan_to_num(spend)):
        a = keep * a + (1 - keep) * x
        out[i] = a
    return out


def test_entries_on_spend_equal_statsmodels_rlm(ads_fit):
    tl, fit = ads_fit
    paid = fit.paid
    assert isinstance(paid, vap.PaidTraffic) and paid.entries is not None
    entries = tl.column("entries")
    spend = tl.column("ad_spend")
    step = float(tl.step_ms)
    a = carried(spend, step, paid.entries.carryover_ms)
    ok = np.isfinite(entries) & np.isfinite(spend)
    t = np.arange(len(entries), dtype=float)
    x = np.column_stack([np.ones(ok.sum()), t[ok], a[ok]])
    rlm = sm.RLM(entries[ok], x, M=sm.robust.norms.HuberT(t=1.345)).fit(tol=1e-12, maxiter=200)
    assert paid.entries.per_yuan.value == pytest.approx(rlm.params[2], rel=1e-4)
    # the paid entries are θ times the carried spend
    assert paid.entries.paid == pytest.approx(rlm.params[2] * a[ok].sum(), rel=1e-4)
    # the half-life is the cross-validation's minimum, the plausible set holds it
    cv = {c["carryover_ms"]: c["cv_error"] for c in paid.entries.cv}
    assert paid.entries.carryover_ms == min(cv, key=cv.get)
    assert paid.entries.carryover_ms in paid.entries.plausible_ms


def test_planted_spend_is_recovered(ads_room, ads_fit):
    _, fit = ads_fit
    truth = ads_room.truth["ads"]
    paid = fit.paid
    assert paid.spend == pytest.approx(truth["spend"], rel=1e-9)
    assert paid.entries.per_yuan.value == pytest.approx(truth["entries_per_yuan"], rel=0.25)
    assert paid.entries.paid == pytest.approx(truth["paid_entries"], rel=0.25)
    roi = paid.roi
    assert roi.low <= roi.value <= roi.high
    assert roi.value == pytest.approx(truth["paid_gmv"] / truth["spend"], rel=0.35)
    assert paid.paid_gmv.value == pytest.approx(roi.value * paid.spend, rel=1e-9)
    # the per-bin series: paid GMV a share of the prediction, summing to the total
    df = paid.to_pandas()
    assert len(df) == len(fit.decomposition)
    assert {"spend", "paid_entries", "paid_viewers", "paid_gmv", "paid_traffic"} <= set(df.columns)
    assert df["paid_gmv"].sum() == pytest.approx(paid.paid_gmv.value, rel=1e-9)
    assert df["spend"].sum() == pytest.approx(paid.spend, rel=1e-9)
    assert (df["paid_viewers"] <= df["viewers"] + 1e-9).mean() > 0.99


def test_spend_that_brings_nobody_is_not_credited():
    placebo = vap.simulate(
        seed=4, hours=3, entries_per_second=40, ad_spend_per_hour=60_000, entries_per_yuan=0.0
    )
    fit = vap.attribute(placebo.data.attribution_timeline(), bootstrap=40, seed=3)
    assert placebo.truth["ads"]["paid_entries"] == 0
    assert fit.paid.roi.value < 0.3
    assert fit.paid.roi.low < 0.1


def test_without_spend_or_when_off_there_is_no_split(ads_room):
    plain = vap.simulate(seed=4, hours=1, entries_per_second=40)
    assert plain.truth["ads"] is None
    assert vap.attribute(plain.data.attribution_timeline(), bootstrap=0).paid is None
    tl = ads_room.data.attribution_timeline()
    assert vap.attribute(tl, bootstrap=0, ads={"enabled": False}).paid is None
    with pytest.raises(vap.InvalidArgumentError, match="ads.spend"):
        vap.attribute(tl, ads={"spend": ""})
    with pytest.raises(vap.InvalidArgumentError, match="ads.carryover_ms"):
        vap.attribute(tl, ads={"carryover": []})


def test_the_replay_shows_the_ads(ads_room, ads_fit):
    rep = ads_room.data.replay(model={"bootstrap": 30})
    ads = rep.model.ads
    assert isinstance(ads, vap.AdsSummary)
    assert ads.spend == pytest.approx(ads_room.truth["ads"]["spend"])
    assert isinstance(ads.roi, vap.Interval) and ads.roi.low <= ads.roi.value <= ads.roi.high
    assert ads.paid_entries > 0 and 0 < ads.paid_viewers_share < 1
    spent = [m for m in rep.moments if m.ads is not None and m.ads.spend > 0]
    assert rep.moments and all(isinstance(m.ads, vap.MomentAds) for m in rep.moments)
    assert spent, "some moment ran during a campaign"
    for m in spent:
        roi = m.ads.roi
        assert isinstance(roi, vap.Interval) and math.isfinite(roi.value)
        assert roi.low <= roi.value <= roi.high and 0 <= m.ads.paid_share <= 1
    html = rep.to_html()
    assert "付费流量与自然流量" in html and "ROI" in html
