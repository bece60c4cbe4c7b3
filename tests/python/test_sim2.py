"""The second, independent simulator (``tests/sim2/sim2.py``): deterministic,
loadable by vap, its truth consistent with its data, and a small robustness
run of vap on it (the full one is ``benches/robustness.py``)."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import vap

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


sim2 = _module("sim2", ROOT / "tests" / "sim2" / "sim2.py")
robustness = _module("robustness", ROOT / "benches" / "robustness.py")


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """A 2-hour room shared by the read-only tests."""
    return sim2.simulate(3, 2.0, tmp_path_factory.mktemp("sim2"))


@pytest.fixture(scope="module")
def session(room) -> vap.Session:
    return vap.load_dir(room.dir)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_deterministic_per_seed(tmp_path):
    a = sim2.simulate(5, 1.0, tmp_path / "a")
    b = sim2.simulate(5, 1.0, tmp_path / "b")
    files = sorted(p.name for p in a.dir.iterdir())
    assert files == sorted(p.name for p in b.dir.iterdir())
    assert "orders.csv" in files and "utterances.csv" in files
    for name in files:
        assert (a.dir / name).read_bytes() == (b.dir / name).read_bytes(), name
    assert a.truth == b.truth
    assert (tmp_path / "a" / "truth.json").read_bytes() == (
        tmp_path / "b" / "truth.json"
    ).read_bytes()
    c = sim2.simulate(6, 1.0, tmp_path / "c")
    assert (c.dir / "orders.csv").read_bytes() != (a.dir / "orders.csv").read_bytes()
    with pytest.raises(ValueError):
        sim2.simulate(-1, 1.0, tmp_path / "d")


def test_loads_in_vap_without_problems(room, session):
    assert session.load_report["warnings"] == []
    # Both counters differenced, no counter reset.
    assert sorted(session.load_report["differenced"]) == [["entries", 0], ["gmv", 0]]
    for name in vap.TABLE_NAMES:
        assert session.num_rows(name) > 0, name
    orders = _rows(room.dir / "orders.csv")
    assert session.num_rows("orders") == len(orders)
    paid = sum(float(o["amount"]) for o in orders if o["status"] == "paid")
    summary = session.summary()
    assert summary["gmv"]["gross"] == pytest.approx(paid)
    # The platform's cumulative GMV counter agrees with the orders.
    assert abs(summary["gmv_check"]["relative"]) < 1e-9
    # Every metric and stream reaches the timeline; nothing is missing.
    tl = session.attribution_timeline("10s")
    for col in ("entries", "online_viewers", "order_gmv", "explain:any", "speech:urgency"):
        assert col in tl.columns
        assert not tl.missing(col).any(), col
    assert tl["entries"].sum() == pytest.approx(room.series["entries"].sum())
    for col in ("promo:flash_sale", "promo:coupon", "promo:lucky_bag", "answers"):
        assert tl[col].sum() > 0, col


def test_lexicon_and_phrasings_are_vaps():
    builtin = vap.builtin_lexicon()
    assert sim2.builtin_groups() == {g: builtin[g] for g in sim2.builtin_groups()}
    fill = {"link": "3号链接", "name": "玻尿酸精华"}
    for kind, pool in sim2.QUESTIONS.items():
        for q in pool:
            assert vap.question_kind(q.format(**fill)) == kind, q
    for text in sim2.CHATTER + sim2.LUCKY_TALK + [t.format(**fill) for t in sim2.ORDER_TALK]:
        assert vap.question_kind(text) is None, text
    # What is misheard is no longer a phrase of the lexicon.
    for said, heard in sim2.MISHEARD.items():
        counts = vap.lexicon_count(builtin, heard)
        assert counts["urgency"] == counts["price"] == 0, (said, heard)


def test_truth_adds_up(room):
    t, s = room.truth, room.series
    factors = sum(f["gmv"] for f in t["factors"])
    assert t["baseline_gmv"] + t["traffic_gmv"] + factors == pytest.approx(
        t["expected_gmv"], rel=1e-9
    )
    per_second = s["base0"] + sum(s["contributions"].values())
    np.testing.assert_allclose(per_second, s["expected_gmv"], rtol=1e-9)
    assert room.factor_truth() == pytest.approx({f["name"]: f["gmv"] for f in t["factors"]})
    # Measured against another host the parts still add up (with the base
    # conversion of that host).
    other = next(a for a in t["anchor_ids"] if a != t["reference_anchor"])
    rebased = room.factor_truth(other)
    base = (s["base0"] * t["host_multipliers"][other]).sum()
    assert base + sum(rebased.values()) == pytest.approx(t["expected_gmv"], rel=1e-9)
    # The data follow the truth: orders and GMV within sampling error.
    orders = [o for o in _rows(room.dir / "orders.csv") if o["status"] == "paid"]
    expected = s["expected_orders"].sum()
    assert abs(len(orders) - expected) < 5 * np.sqrt(expected)
    gmv = sum(float(o["amount"]) for o in orders)
    assert gmv == pytest.approx(t["expected_gmv"], rel=0.05)
    # Every planted peak's own cause is its largest true part (this room).
    for m in t["moments"]:
        assert m["true_top"] == m["cause"], m["kind"]


def test_stalls_really_collapse_online(room, session):
    stalls = [m for m in room.truth["moments"] if m["kind"] == "stream_stall"]
    assert stalls
    tl = session.timeline("10s")
    times = tl.time_ms
    online = tl["online_viewers"]
    for m in stalls:
        assert m["online_min"] < 0.45 * m["online_before"]
        assert m["online_mean"] < 0.6 * m["online_before"]
        # Entries keep arriving: the gauge crashes, not the traffic.
        assert m["entries_per_s"] > 0.8 * m["entries_per_s_before"]
        # The gauge vap reads shows it too.
        during = online[(times >= m["start_ms"] + 30_000) & (times < m["end_ms"])]
        before = online[(times >= m["start_ms"] - 120_000) & (times < m["start_ms"])]
        assert during.mean() < 0.5 * before.mean()


def test_planted_offset_is_what_the_transcript_shows(room, session):
    t = room.truth
    assert 5_000 <= t["clock_offset_ms"] <= 15_000
    heard = _rows(room.dir / "utterances.csv")
    starts = np.array([int(u["start_ms"]) for u in heard])
    fold = vap.fold
    matched = 0
    for a in t["answers"]:
        i = int(np.argmin(np.abs(starts - (a["answer_ms"] + t["clock_offset_ms"]))))
        assert abs(starts[i] - a["answer_ms"] - t["clock_offset_ms"]) < 1_000
        matched += fold(heard[i]["text"]) == fold(a["text"])
    assert matched >= 0.9 * len(t["answers"])
    est = session.estimate_transcript_offset()
    assert est.determined
    assert abs(est.offset_ms - t["clock_offset_ms"]) < 3_000


def test_answers_are_realistic_and_found(room, session):
    answers = room.truth["answers"]
    assert len(answers) > 20
    delays = [a["delay_ms"] for a in answers]
    assert min(delays) >= 5_000 and max(delays) <= 50_000
    assert any(a["explain_over"] for a in answers)
    # vap finds each planted answer as one explicit answer.
    tl = session.estimate_transcript_offset().apply(session).attribution_timeline("10s")
    assert tl["answers"].sum() == pytest.approx(len(answers), rel=0.1)


def test_small_robustness_run():
    """Two 2-hour rooms of each simulator, bootstrap off: the figures are
    printed; the bounds are loose, recording what vap does now (the full run,
    seeds 0-9, is ``benches/robustness.py``; README)."""
    rooms = [robustness.run_sim1(seed, 2.0) for seed in (0, 1)]
    rooms += [robustness.run_sim2(seed, 2.0) for seed in (0, 1)]
    results = [robustness.evaluate(room, "default", 0) for room in rooms]
    print()
    print(robustness.markdown(results))
    summary = {s["sim"]: s for s in robustness.summary_rows(results)}
    print(json.dumps(summary, indent=1))
    one, two = summary["sim 1"], summary["sim 2"]
    # measured 0.23 and 0.29 (the defaults fixed to vap's own simulator gave
    # about 0.35 on the second one over ten 6-hour rooms)
    assert one["rel_pooled"] < 0.3
    assert two["rel_pooled"] < 0.4
    # the second simulator's stalls crash the viewer gauge only: each is a
    # traffic drop on online_viewers
    assert two["stalls"] > 0 and two["stalls_reported"] == two["stalls"]
    for s in (one, two):
        assert s["window_right"] >= 0.6 * s["peaks"]
        assert s["detected"] >= 0.75 * s["peaks"]
        assert s["undetermined"] == 0 and s["offset_max_s"] < 5.0


def test_the_log_link_recovers_the_urgency_that_multiplies():
    """Sim 2's urgency raises conversion by ``1 + κ·U``, linear in the phrases
    of the last minute and combined multiplicatively: under the log link vap
    searches the logarithmic curve for it and scores the candidates on the
    Poisson fit's terms. Three 6-hour rooms: its pooled total at 0.96 of the
    truth when measured (0.70 with linear columns chosen by the additive
    proxy)."""
    rooms = [robustness.run_sim2(seed, 6.0) for seed in (0, 1, 2)]
    results = [robustness.evaluate(r, "default", 0, {"form": "log_link"}) for r in rooms]
    est = sum(r.totals["speech:urgency"][0] for r in results)
    truth = sum(r.totals["speech:urgency"][1] for r in results)
    assert 0.85 < est / truth < 1.15, est / truth
    assert any("log" in r.chosen["speech:urgency"] for r in results), [r.chosen for r in results]
