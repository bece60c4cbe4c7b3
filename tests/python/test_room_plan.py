"""The room model fitted from per-session statistics (``vap.RoomPlan``,
``Store.fit_room_model_by_sessions``): the stacked room's fit for the linear
forms, checked against numpy on the stacked design's predictions."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import vap


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    st = vap.Store(tmp_path_factory.mktemp("plan") / "store")
    for seed in (21, 22, 23):
        st.import_session(vap.simulate(seed=seed, hours=0.75).data)
    return st


def _room(store) -> str:
    return store.rooms()[0]["id"]


def _timelines(store, room):
    return [store.load(room, s["session_id"]).attribution_timeline() for s in store.sessions(room)]


@pytest.mark.parametrize("form", ["exposure", "linear"])
def test_the_fit_from_statistics_is_the_stacked_fit(store, form):
    room = _room(store)
    stacked = store.fit_room_model(room, form=form, bootstrap=30, progress=False)
    reduced = store.fit_room_model_by_sessions(room, form=form, bootstrap=30, progress=False)
    assert [c.name for c in reduced.coefficients] == [c.name for c in stacked.coefficients]
    scale = max(abs(c.value) for c in stacked.coefficients)
    np.testing.assert_allclose(
        [c.value for c in reduced.coefficients],
        [c.value for c in stacked.coefficients],
        rtol=1e-7,
        atol=1e-9 * scale,
    )
    assert reduced.penalty == stacked.penalty
    assert reduced.n_bins == stacked.diagnostics.n_bins
    assert reduced.candidates == stacked.diagnostics.candidates
    np.testing.assert_allclose(
        [c.boot_low for c in reduced.coefficients],
        [c.boot_low for c in stacked.coefficients],
        rtol=1e-6,
        atol=1e-8 * scale,
    )
    # R² from sums equals numpy's on the stacked timeline's predictions
    dec = reduced.model.apply(store.attribution_timeline(room, progress=False)).to_pandas()
    ok = dec["prediction"].notna() & dec["actual"].notna()
    y, p = dec["actual"][ok].to_numpy(), dec["prediction"][ok].to_numpy()
    r2 = 1 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2)
    assert reduced.r2 == pytest.approx(r2, abs=1e-9)
    assert ok.sum() == reduced.n_bins


def test_the_plan_by_hand_pickles_and_takes_sessions_in_any_order(store):
    room = _room(store)
    tls = _timelines(store, room)
    opts = {"form": "exposure", "bootstrap": 10}
    summaries = [vap.RoomPlan.summarise(t, **opts) for t in reversed(tls)]
    plan = pickle.loads(pickle.dumps(vap.RoomPlan.from_summaries(summaries, **opts)))
    assert plan.sessions == [s["session_id"] for s in store.sessions(room)]
    grams = [plan.gram(t) for t in tls]
    assert all(isinstance(g, bytes) and g.startswith(b"VAPGRAM1") for g in grams)
    one = plan.fit(grams, progress=False)
    other = plan.fit(grams[::-1], progress=False)
    assert one.model.to_json() == other.model.to_json()
    want = store.fit_room_model_by_sessions(room, progress=False, **opts)
    assert one.model.to_json() == want.model.to_json()
    assert "RoomFit" in one._repr_html_() and "R²" in one._repr_html_()
    assert list(one.summary().index) == [c.name for c in one.coefficients]


def test_forms_that_need_the_rows_and_bad_statistics_are_refused(store):
    room = _room(store)
    with pytest.raises(vap.InvalidArgumentError, match="log link"):
        store.fit_room_model_by_sessions(room, form="log_link", progress=False)
    auto = store.fit_room_model_by_sessions(room, bootstrap=0, progress=False)
    assert any("form 'auto'" in w for w in auto.warnings)
    tls = _timelines(store, room)
    summaries = [vap.RoomPlan.summarise(t) for t in tls]
    plan = vap.RoomPlan.from_summaries(summaries)
    g = plan.gram(tls[0])
    with pytest.raises(vap.InvalidArgumentError, match="is given twice") as e:
        plan.fit([g, g], progress=False)
    assert "no statistics for session" in str(e.value)
    with pytest.raises(vap.InvalidArgumentError, match="not vap session statistics"):
        plan.fit([g[:-5]], progress=False)
    with pytest.raises(vap.InvalidArgumentError, match="given twice"):
        vap.RoomPlan.from_summaries([summaries[0], summaries[0]])
    with pytest.raises(vap.VapError, match="treshold|unknown"):
        vap.RoomPlan.from_summaries(summaries, treshold=1)
    # statistics built under another plan (another target) are refused
    other = vap.RoomPlan.from_summaries(
        [vap.RoomPlan.summarise(t, target="orders") for t in tls], target="orders"
    )
    with pytest.raises(vap.InvalidArgumentError, match="built under another plan"):
        plan.fit([plan.gram(tls[0]), *[other.gram(t) for t in tls[1:]]], progress=False)
