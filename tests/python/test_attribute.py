"""Attribution: estimators against statsmodels and scikit-learn (our oracles),
and the session / room workflow on synthetic rooms."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import ElasticNet, Ridge

import vap


def design(seed: int, n: int = 600, p: int = 4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) + rng.uniform(-1, 1, size=p)
    beta = rng.uniform(-2, 2, size=p)
    y = 3.0 + x @ beta + rng.normal(0, 1.5, size=n)
    cols = {"y": y, **{f"x{k}": x[:, k] for k in range(p)}}
    return vap.Timeline.from_columns(cols, step="1s"), x, y, beta


def fit_linear(tl, p, **kw):
    opts = dict(
        target="y",
        form="linear",
        exposure=None,
        factors=[f"x{k}" for k in range(p)],
        bootstrap=0,
    )
    opts.update(kw)
    return vap.attribute(tl, **opts)


def values(fit) -> np.ndarray:
    return np.array([c.value for c in fit.coefficients])


@pytest.mark.parametrize("seed", range(4))
def test_ols_coefficients_and_standard_errors_equal_statsmodels(seed):
    tl, x, y, _ = design(seed)
    fit = fit_linear(tl, x.shape[1], estimator="ols")
    ref = sm.OLS(y, sm.add_constant(x)).fit()
    assert [c.name for c in fit.coefficients] == ["base", "x0", "x1", "x2", "x3"]
    np.testing.assert_allclose(values(fit), ref.params, rtol=1e-8)
    se = np.array([c.std_error for c in fit.coefficients])
    np.testing.assert_allclose(se, ref.bse, rtol=1e-8)
    lo = np.array([c.ci_low for c in fit.coefficients])
    np.testing.assert_allclose(lo, ref.conf_int(0.05)[:, 0], rtol=1e-5)
    assert fit.diagnostics.r2 == pytest.approx(ref.rsquared, rel=1e-8)


@pytest.mark.parametrize("alpha", [0.5, 20.0, 400.0])
def test_ridge_equals_sklearn(alpha):
    tl, x, y, _ = design(7)
    ours = fit_linear(tl, 4, estimator="ridge", penalty=alpha, standardize=False)
    ref = Ridge(alpha=alpha, fit_intercept=True).fit(x, y)
    np.testing.assert_allclose(values(ours)[1:], ref.coef_, rtol=1e-8)
    assert values(ours)[0] == pytest.approx(ref.intercept_, rel=1e-8)
    # standardize=True penalises the coefficients of columns scaled to unit
    # root mean square after centring: sklearn on X / s gives β·s.
    std = fit_linear(tl, 4, estimator="ridge", penalty=alpha)
    s = x.std(axis=0)
    ref_s = Ridge(alpha=alpha, fit_intercept=True).fit(x / s, y)
    np.testing.assert_allclose(values(std)[1:] * s, ref_s.coef_, rtol=1e-8)


def test_positive_ridge_equals_sklearn_positive():
    tl, x, y, beta = design(3)
    assert (beta < 0).any() and (beta > 0).any()
    alpha = 5.0
    ours = fit_linear(
        tl,
        4,
        estimator="ridge",
        penalty=alpha,
        standardize=False,
        factors=[vap.Factor(f"x{k}", sign="positive") for k in range(4)],
    )
    ref = Ridge(alpha=alpha, positive=True, tol=1e-10).fit(x, y)
    np.testing.assert_allclose(values(ours)[1:], ref.coef_, atol=1e-5)
    assert values(ours)[0] == pytest.approx(ref.intercept_, abs=1e-5)
    assert (values(ours)[1:] >= 0).all() and (values(ours)[1:] == 0).any()


@pytest.mark.parametrize(("alpha", "l1_ratio"), [(0.05, 0.5), (0.3, 0.9), (0.01, 0.2)])
def test_elastic_net_equals_sklearn(alpha, l1_ratio):
    tl, x, y, _ = design(5)
    ours = fit_linear(
        tl, 4, estimator="elastic_net", penalty=alpha, l1_ratio=l1_ratio, standardize=False
    )
    ref = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12, max_iter=100_000).fit(x, y)
    np.testing.assert_allclose(values(ours)[1:], ref.coef_, rtol=1e-6, atol=1e-8)
    assert values(ours)[0] == pytest.approx(ref.intercept_, rel=1e-6)


def poisson_design(seed: int, n: int = 800):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.uniform(0, 2, n)])
    e = rng.uniform(200, 2000, n)
    beta = np.array([-7.0, 0.3, 0.5, -0.4])
    y = rng.poisson(e * np.exp(beta[0] + x @ beta[1:]))
    cols = {"y": y, "e": e, **{f"x{k}": x[:, k] for k in range(3)}}
    return vap.Timeline.from_columns(cols, step="1s"), x, y, e


def fit_poisson(tl, **kw):
    opts = dict(
        target="y",
        form="log_link",
        exposure="e",
        factors=["x0", "x1", "x2"],
        bootstrap=0,
    )
    opts.update(kw)
    return vap.attribute(tl, **opts)


@pytest.mark.parametrize("seed", range(3))
def test_poisson_glm_with_offset_equals_statsmodels(seed):
    tl, x, y, e = poisson_design(seed)
    ours = fit_poisson(tl, estimator="ols")
    ref = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson(), offset=np.log(e)).fit(
        tol=1e-12
    )
    np.testing.assert_allclose(values(ours), ref.params, rtol=1e-7)
    se = np.array([c.std_error for c in ours.coefficients])
    np.testing.assert_allclose(se, ref.bse, rtol=1e-5)


@pytest.mark.parametrize(("alpha", "l1_wt"), [(0.01, 0.0), (0.05, 0.0), (0.005, 0.5)])
def test_regularized_poisson_equals_statsmodels_fit_regularized(alpha, l1_wt):
    tl, x, y, e = poisson_design(11)
    est = "ridge" if l1_wt == 0 else "elastic_net"
    ours = fit_poisson(
        tl, estimator=est, penalty=alpha, l1_ratio=max(l1_wt, 0.5), standardize=False
    )
    model = sm.GLM(y, sm.add_constant(x), family=sm.families.Poisson(), offset=np.log(e))
    ref = model.fit_regularized(
        method="elastic_net",
        alpha=np.array([0, alpha, alpha, alpha]),
        L1_wt=l1_wt,
        cnvrg_tol=1e-10,
        maxiter=2000,
    )
    np.testing.assert_allclose(values(ours), ref.params, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def fitted():
    r = vap.simulate(seed=21, hours=2.0, entries_per_second=60.0)
    s = r.data
    s = s.estimate_transcript_offset().apply(s)
    return s, s.attribute("30s", bootstrap=30, seed=1)


def test_session_decomposition_sums_exactly(fitted):
    s, fit = fitted
    df = fit.decomposition.to_pandas()
    ok = df["prediction"].notna()
    parts = df.loc[ok, ["baseline", "traffic", *fit.decomposition.factors]].sum(axis=1)
    np.testing.assert_allclose(parts, df.loc[ok, "prediction"], rtol=1e-9)
    totals = fit.decomposition.totals()
    assert totals[-1].name == "unexplained"
    assert sum(p.value for p in totals) == pytest.approx(df.loc[ok, "actual"].sum(), rel=1e-9)
    assert all(p.low <= p.high for p in totals if p.low is not None)
    pl_df = fit.decomposition.to_polars()
    assert pl_df.height == len(fit.decomposition)
    summary = fit.summary()
    assert "explain:any" in summary.index and summary.loc["base", "role"] == "base"
    assert fit.diagnostics.n_bins > 200 and fit.diagnostics.r2 > 0.2
    assert {v[0] for v in fit.diagnostics.vif} <= set(fit.decomposition.factors)


def test_moments_split_into_parts_that_sum(fitted):
    s, fit = fitted
    moments = [m for m in s.moments() if m.metric == "order_gmv"]
    assert moments
    for a in fit.decomposition.moments(moments):
        assert sum(p.value for p in a.parts) == pytest.approx(a.excess, rel=1e-9, abs=1e-6)
        assert a.parts[-1].name == "unexplained"
        assert a.top is not None
    w = fit.decomposition.window(moments[0].start_ms, moments[0].end_ms)
    assert w.to_pandas().shape[0] == len(w.parts)
    anchors = fit.decomposition.totals_by_anchor(s)
    assert anchors and all(g.bins > 0 for g in anchors)
    shifts = fit.decomposition.totals_by_shift(s)
    assert len(shifts) >= len(anchors) and sum(g.bins for g in shifts) <= len(fit.decomposition)
    products = fit.decomposition.totals_by_product(s)
    assert len(products) > 3


def test_bootstrap_is_seeded_and_thread_invariant(fitted):
    s, fit = fitted
    tl = s.attribution_timeline("30s")
    n = vap.num_threads()
    try:
        vap.set_num_threads(1)
        a = vap.attribute(tl, bootstrap=30, seed=1)
        vap.set_num_threads(2)
        b = vap.attribute(tl, bootstrap=30, seed=1)
    finally:
        vap.set_num_threads(n)
    assert a.coefficients == b.coefficients == fit.coefficients


def test_room_model_saved_and_applied(store):
    sessions = []
    for k in range(4):
        r = vap.simulate(
            seed=60 + k,
            hours=1.0,
            entries_per_second=40.0,
            session_id=f"d{k}",
            start_ms=1_795_608_000_000 + k * 86_400_000,
        )
        s = r.data.estimate_transcript_offset().apply(r.data)
        sessions.append(s)
    for s in sessions[:3]:
        store.import_session(s)
    fit = store.fit_room_model("sim-room", "10s", name="gmv", bootstrap=10)
    assert store.models("sim-room") == ["gmv"]
    roles = [c.role for c in fit.coefficients]
    assert roles.count("session") == 2
    model = store.room_model("sim-room", "gmv")
    assert model.to_dict() == fit.model.to_dict()
    d = model.apply(sessions[3].attribution_timeline("10s"))
    df = d.to_pandas()
    ok = df["prediction"].notna()
    parts = df.loc[ok, ["baseline", "traffic", *d.factors]].sum(axis=1)
    np.testing.assert_allclose(parts, df.loc[ok, "prediction"], rtol=1e-9)
    again = vap.RoomModel.from_json(model.to_json())
    assert again.to_dict() == model.to_dict()
    with pytest.raises(vap.NotFoundError):
        store.room_model("sim-room", "nope")
    with pytest.raises(vap.InvalidArgumentError, match="10000 ms"):
        model.apply(sessions[3].attribution_timeline("30s"))


def test_bad_options_are_reported(fitted):
    s, _ = fitted
    tl = s.attribution_timeline("30s")
    with pytest.raises(vap.InvalidArgumentError, match="option 'form'"):
        vap.attribute(tl, form="tobit")
    with pytest.raises(vap.InvalidArgumentError) as e:
        vap.attribute(tl, target="nope", factors=["missing:col"])
    assert "'nope'" in str(e.value) and "'missing:col'" in str(e.value)
    defaults = vap.default_factors(tl)
    assert any(f.column == "answers" and f.carryover_kind == "hold" for f in defaults)
    assert any(f.column == "speech:urgency" and f.saturation == "auto" for f in defaults)
    assert not any(f.column == "speech:answer" for f in defaults), (
        "answered questions replace the phrase count"
    )
    tl.add_column("ad_spend", np.ones(len(tl)))
    assert "ad_spend" in tl.columns


def test_forms_are_chosen_and_confounded_factors_reported():
    """Choose, don't assume: a factor searched over adstock and hold, linear
    and S-shaped, gets the form that generated the target (a 60 s hold,
    linear), and the coefficient says so; a column that moves with it is
    reported as confounded, with the correlation, and warned."""
    rng = np.random.default_rng(3)
    n = 1500
    x = np.where(rng.random(n) < 0.08, rng.integers(1, 5, n), 0).astype(float)
    held = np.convolve(x, np.ones(6))[:n]  # the sum over the last 6 bins of 10 s
    y = 20 + 3 * held + rng.normal(0, 1, n)
    twin = x + rng.normal(0, 0.05, n)
    tl = vap.Timeline.from_columns({"y": y, "x": x, "twin": twin}, step="10s")
    base = dict(target="y", form="linear", exposure=None, bootstrap=0)
    auto = vap.Factor(
        "x", carryover=["0s", "30s", "60s", "120s"], carryover_kind="auto", saturation="auto"
    )
    fit = vap.attribute(tl, factors=[auto], **base)
    c = next(c for c in fit.coefficients if c.name == "x")
    assert (c.carryover_kind, c.half_life_ms, c.saturation) == ("hold", 60_000, None)
    assert fit.summary().loc["x", "carryover_kind"] == "hold"
    assert fit.diagnostics.confounded == []
    both = vap.attribute(tl, factors=["x", "twin"], **base)
    (pair,) = both.diagnostics.confounded
    assert isinstance(pair, vap.Confounded)
    assert (pair.a, pair.b) == ("x", "twin") and pair.correlation > 0.99
    assert any("x and twin move together" in w for w in both.diagnostics.warnings)
    with pytest.raises(vap.InvalidArgumentError, match="saturation"):
        vap.attribute(tl, factors=[{"column": "x", "saturation": "maybe"}], **base)


def test_the_form_is_chosen_by_cross_validation():
    """``form="auto"`` (the default) fits the exposure form where the
    factors add up on conversion and the log link where they multiply; both
    forms' cross-validated errors are reported and the lower one is fitted,
    with the same coefficients as asking for that form outright."""
    rng = np.random.default_rng(5)
    n = 1500
    e = rng.uniform(500, 3000, n)
    x1 = np.repeat(rng.random(n // 6 + 1) < 0.4, 6)[:n].astype(float)
    x2 = np.repeat(rng.random(n // 6 + 1) < 0.4, 6)[:n].astype(float)
    y_add = np.maximum(e * (0.01 + 0.02 * x1 + 0.02 * x2) + rng.normal(0, 2, n), 0)
    y_mul = rng.poisson(e * 0.01 * np.exp(1.2 * x1 + 1.2 * x2)).astype(float)
    tl = vap.Timeline.from_columns(
        {"y_add": y_add, "y_mul": y_mul, "e": e, "x1": x1, "x2": x2}, step="10s"
    )
    base = dict(exposure="e", factors=["x1", "x2"], bootstrap=0)
    assert vap.option_defaults("attribute")["form"] == "auto"
    for target, want, other in (
        ("y_add", "exposure", "log_link"),
        ("y_mul", "log_link", "exposure"),
    ):
        fit = vap.attribute(tl, target=target, **base)
        d = fit.diagnostics
        scores = dict(d.form_cv)
        assert d.form == want, scores
        assert set(scores) == {"exposure", "log_link"}
        assert scores[want] < scores[other]
        given = vap.attribute(tl, target=target, form=want, **base)
        assert given.diagnostics.form == want and given.diagnostics.form_cv == []
        np.testing.assert_allclose(values(fit), values(given), rtol=1e-9)
    # the log link's true coefficients are recovered by the chosen fit
    fit = vap.attribute(tl, target="y_mul", **base)
    np.testing.assert_allclose(values(fit)[-2:], [1.2, 1.2], atol=0.05)
    # a target the log link cannot take: the exposure form, one score
    tl.add_column("y_neg", y_add - 300.0)
    neg = vap.attribute(tl, target="y_neg", **base)
    assert neg.diagnostics.form == "exposure" and len(neg.diagnostics.form_cv) == 1


def test_a_multiplicative_linear_effect_gets_the_log_curve():
    """An effect that multiplies conversion by ``1 + κ·U`` (``U`` the phrases
    of the last minute) enters the log link as ``ln(1 + κ·U)``: with
    ``saturation="auto"`` the log link searches that curve and keeps it, and
    its total is right where the linear column's is not; the fit with the
    curve given equals statsmodels' Poisson GLM on the same column."""
    rng = np.random.default_rng(17)
    n = 2000
    e = rng.uniform(500, 3000, n)
    x = np.zeros(n)
    i = 0
    while i < n:
        i += int(rng.integers(30, 90))
        x[i : i + 12] = rng.integers(0, 5, size=len(x[i : i + 12]))
        i += 12
    u = np.convolve(x, np.ones(6))[:n]  # a 60 s hold of 10 s bins
    kappa = 8.0 / u.max()
    y = rng.poisson(e * 0.02 * (1 + kappa * u)).astype(float)
    truth = float(np.sum(e * 0.02 * kappa * u))
    tl = vap.Timeline.from_columns({"y": y, "e": e, "x": x}, step="10s")
    factor = dict(column="x", carryover=["0s", "30s", "60s", "120s"], carryover_kind="hold")
    base = dict(target="y", exposure="e", form="log_link", bootstrap=0)

    def total(fit):
        return next(p.value for p in fit.decomposition.totals() if p.name == "x")

    auto = vap.attribute(tl, factors=[vap.Factor(**factor, saturation="auto")], **base)
    linear = vap.attribute(tl, factors=[vap.Factor(**factor)], **base)
    (c,) = [c for c in auto.coefficients if c.name == "x"]
    assert c.saturation is not None and c.saturation[0] == "log", c
    assert c.half_life_ms == 60_000
    assert abs(total(auto) / truth - 1) < 0.05
    assert abs(total(linear) / truth - 1) > 2 * abs(total(auto) / truth - 1)
    # the exposure form does not search it
    exp_fit = vap.attribute(
        tl, factors=[vap.Factor(**factor, saturation="auto")], **{**base, "form": "exposure"}
    )
    (ce,) = [c for c in exp_fit.coefficients if c.name == "x"]
    assert ce.saturation is None or ce.saturation[0] != "log"
    # given outright: ln(1 + U / (k · max x)), against statsmodels
    k = c.saturation[1]
    given = vap.attribute(
        tl,
        factors=[vap.Factor("x", carryover="60s", carryover_kind="hold", saturation=("log", k))],
        estimator="ols",
        **base,
    )
    col = np.log1p(u / (k * x.max()))
    ref = sm.GLM(y, sm.add_constant(col), family=sm.families.Poisson(), offset=np.log(e)).fit()
    np.testing.assert_allclose(values(given), ref.params, rtol=1e-6)
    assert [c.saturation for c in given.coefficients if c.name == "x"] == [("log", k)]
    for bad in (("log", 0.0), ("exp", 1.0)):
        with pytest.raises(vap.InvalidArgumentError, match="log"):
            vap.attribute(tl, factors=[vap.Factor("x", saturation=bad)], **base)
