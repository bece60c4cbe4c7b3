"""The replays from Python: figures cross-checked with pandas and numpy on the
session's own tables, history from the store, tables as pandas / polars /
files, subtitles, questions against the labelled sample, errors typed."""

from __future__ import annotations

import csv
import math
import pathlib

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

import vap

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"
QUICK = {"model": {"bootstrap": 20, "seed": 1}}


@pytest.fixture(scope="module")
def room() -> vap.SimRoom:
    return vap.simulate(seed=11, hours=1.5)


@pytest.fixture(scope="module")
def rep(room: vap.SimRoom) -> vap.Replay:
    return room.data.replay(**QUICK)


def _ms(col: pd.Series) -> pd.Series:
    """Times as ms since the epoch, whatever unit the column holds."""
    if col.dtype.kind == "M":
        return (col - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    return col


def test_headline_matches_pandas(room: vap.SimRoom, rep: vap.Replay) -> None:
    s = room.data
    orders = s.to_pandas("orders")
    paid = orders[orders.status == "paid"]
    refunds = orders[orders.status == "refunded"]
    info = s.session
    metrics = s.to_pandas("metrics")
    t = _ms(metrics.ts_ms)
    inside = (t >= info["start_ms"]) & (t < info["end_ms"])
    views = metrics[(metrics.metric == "entries") & inside].value.sum()
    fig = {f.key: f for f in rep.headline}
    assert fig["gmv_gross"].value == pytest.approx(paid.amount.sum(), rel=1e-12)
    assert fig["gmv_net"].value == pytest.approx(
        paid.amount.sum() - refunds.amount.sum(), rel=1e-12
    )
    assert fig["items_sold"].value == paid.quantity.sum()
    assert fig["buyers"].value == paid.viewer_id.nunique()
    assert fig["views"].value == pytest.approx(views, rel=1e-12)
    assert fig["gpm"].value == pytest.approx(1000 * paid.amount.sum() / views, rel=1e-12)
    comments = s.to_pandas("comments")
    assert fig["comments"].value == len(comments)
    assert fig["interaction_rate"].value == pytest.approx(comments.viewer_id.nunique() / views)
    assert fig["gmv_gross"].source == "raw" and fig["gpm"].source == "derived"
    assert fig["gmv_gross"].from_.startswith("orders")
    # Missing, not zero, with the reason.
    assert fig["exposures"].value is None and "exposure" in fig["exposures"].missing
    for f in rep.headline:
        assert (f.value is None) == (f.missing is not None), f.key
        assert f.history is not None and not f.history.enough


def test_products_and_anchors_match_pandas(room: vap.SimRoom, rep: vap.Replay) -> None:
    s = room.data
    orders = s.to_pandas("orders")
    paid = orders[orders.status == "paid"].copy()
    paid["t"] = _ms(paid.ts_ms)
    segs = s.to_pandas("segments")
    for c in ("start_ms", "end_ms"):
        segs[c] = _ms(segs[c])
    explains = segs[segs.kind == "explain"]
    for p in rep.products[:5]:
        mine = explains[explains.product_id == p.product_id]
        gmv = sum(
            paid[(paid.product_id == p.product_id) & (paid.t >= a) & (paid.t < b)].amount.sum()
            for a, b in zip(mine.start_ms, mine.end_ms)
        )
        minutes = (
            mine.end_ms - mine.start_ms
        ).sum() / 60_000  # segments of one product do not overlap
        assert p.explain_minutes == pytest.approx(minutes)
        if minutes > 0:
            assert p.gmv_per_explain_minute.value == pytest.approx(gmv / minutes)
        assert p.gmv == pytest.approx(paid[paid.product_id == p.product_id].amount.sum())
    shifts = s.to_pandas("shifts")
    for c in ("start_ms", "end_ms"):
        shifts[c] = _ms(shifts[c])
    for a in rep.anchors:
        host = shifts[(shifts.anchor_id == a.anchor_id) & (shifts.role == "host")]
        hours = (host.end_ms - host.start_ms).sum() / 3_600_000
        gmv = sum(
            paid[(paid.t >= x) & (paid.t < y)].amount.sum()
            for x, y in zip(host.start_ms, host.end_ms)
        )
        if hours > 0:
            assert a.gmv_per_hour.value == pytest.approx(gmv / hours)
        assert a.effect.source == "model"
    # The reference anchor's effect is missing, the others carry an interval.
    with_effect = [a for a in rep.anchors if a.effect.value is not None]
    for a in with_effect:
        assert a.effect.low is not None and a.effect.low <= a.effect.high


def test_moments_split_into_parts_that_add_up(rep: vap.Replay) -> None:
    assert rep.model is not None, rep.model_error
    assert 0 < len(rep.moments) <= 5
    for m in rep.moments:
        if m.excess is not None:
            assert math.isclose(sum(p.value for p in m.parts), m.excess, rel_tol=1e-9, abs_tol=1e-6)
            assert m.parts[-1].name == "unexplained"
        for u in m.transcript:
            assert u["end_ms"] > m.start_ms - 60_000 and u["start_ms"] < m.end_ms + 60_000
    parts = rep.to_pandas("moment_parts")
    assert set(parts["rank"]) == {m.rank for m in rep.moments if m.parts}


def test_history_from_the_store_matches_numpy(tmp_path: pathlib.Path) -> None:
    store = vap.Store(tmp_path / "store")
    day = 86_400_000
    for k in range(6):
        r = vap.simulate(
            seed=30 + k, hours=0.5, start_ms=1_764_072_000_000 + k * day, session_id=f"s{k}"
        )
        store.import_session(r.data)
    rep = store.replay("sim-room", "s5", attribute=False)
    assert rep.history_sessions == [f"s{k}" for k in range(5)]
    past = [store.load("sim-room", f"s{k}").gmv()["gross"] for k in range(5)]
    h = rep.figure("gmv_gross").history
    assert h.enough and h.sessions == 5
    assert h.median == pytest.approx(np.percentile(past, 50))
    assert h.top_quartile == pytest.approx(np.percentile(past, 75))
    short = store.replay("sim-room", "s2", attribute=False)
    assert not short.figure("gmv_gross").history.enough
    assert short.model is None and short.model_error
    # The same comparison from sessions in memory.
    s5 = store.load("sim-room", "s5")
    mem = s5.replay(history=[store.load("sim-room", f"s{k}") for k in range(5)], attribute=False)
    assert mem.figure("gmv_gross").history == h
    room = store.room_replay("sim-room", attribute=False)
    assert len(room["sessions"]) == 6 and room["products"]


def test_tables_as_pandas_polars_and_files(rep: vap.Replay, tmp_path: pathlib.Path) -> None:
    assert set(vap.REPLAY_TABLES) >= {"headline", "moments", "products", "anchors", "questions"}
    for name in vap.REPLAY_TABLES:
        df = rep.to_pandas(name)
        assert isinstance(df, pd.DataFrame)
        assert isinstance(rep.to_polars(name), pl.DataFrame)
    head = rep.to_pandas("headline")
    assert list(head.key) == [f.key for f in rep.headline]
    q = rep.to_pandas("questions")
    assert q.latency_ms.dropna().ge(0).all(), "latency is a duration in ms"
    assert str(q.ts_ms.dtype).startswith("datetime64")
    assert len(q) == rep.questions.stats.asked
    paths = rep.write_tables(tmp_path / "pq", "parquet")
    assert len(paths) == len(vap.REPLAY_TABLES)
    back = pq.read_table(tmp_path / "pq" / "products.parquet").to_pandas()
    pd.testing.assert_frame_equal(back, rep.to_pandas("products"))
    rep.write_tables(tmp_path / "csv", "csv")
    text = pd.read_csv(tmp_path / "csv" / "headline.csv")
    assert list(text.key) == list(head.key)
    with pytest.raises(vap.InvalidArgumentError, match="unknown replay table"):
        rep.table("nope")
    with pytest.raises(vap.InvalidArgumentError, match="csv"):
        rep.write_tables(tmp_path / "x", "xlsx")


def test_roles_see_their_sections(rep: vap.Replay) -> None:
    op, an, fc = (rep.view(r) for r in vap.ROLES)
    assert "headline" in op and "anchors" not in op
    assert "anchors" in an and "questions" in an and "headline" not in an
    assert "promotions" in fc and "products" in fc and "questions" not in fc
    assert all("quality" in v for v in (op, an, fc))
    with pytest.raises(vap.InvalidArgumentError, match="role"):
        rep.view("boss")


def test_subtitles_on_the_recording_clock(room: vap.SimRoom) -> None:
    s = room.data
    with pytest.raises(vap.InvalidArgumentError, match="recording"):
        s.subtitles()
    start = s.session["start_ms"]
    manifest = {
        "vap_format": 1,
        "room": s.room,
        "session": {
            **s.session,
            "recordings": [{"path": "rec.mp4", "offset_ms": start, "duration_ms": 600_000}],
        },
        "metrics": s.metrics,
    }
    with_rec = vap.from_tables(manifest, {n: s.table(n) for n in vap.TABLE_NAMES})
    srt = with_rec.subtitles()
    utt = s.to_pandas("utterances")
    st = _ms(utt.start_ms)
    assert srt.count(" --> ") == int((((st - start) >= 0) & ((st - start) < 600_000)).sum())
    vtt = with_rec.subtitles(stream="comments", format="vtt", offset=2000)
    assert vtt.startswith("WEBVTT")
    with pytest.raises(vap.InvalidArgumentError) as e:
        with_rec.subtitles(stream="video", comment_duration=0)
    assert "stream" in str(e.value)


def _labelled(name: str) -> list[dict[str, str]]:
    with open(FIXTURES / "questions" / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    "name,floor", [("labelled.csv", 0.9), ("dev.csv", 0.9), ("heldout.csv", 0.85)]
)
def test_questions_precision_and_recall(name: str, floor: float) -> None:
    rows = _labelled(name)
    got = np.array([vap.question_kind(r["text"]) is not None for r in rows])
    want = np.array([r["is_question"] == "1" for r in rows])
    tp = int((got & want).sum())
    precision = tp / got.sum()
    recall = tp / want.sum()
    assert precision >= floor and recall >= floor, (precision, recall)
    # The same figures as scikit-learn's.
    from sklearn.metrics import precision_score, recall_score

    assert precision == pytest.approx(precision_score(want, got))
    assert recall == pytest.approx(recall_score(want, got))


def test_questions_table_and_backlog(room: vap.SimRoom) -> None:
    q = room.data.questions().to_pandas()
    assert {"kind", "product_id", "linked_by", "latency_ms"} <= set(q.columns)
    assert set(q.kind) <= {"price", "stock_size", "usage", "shipping", "which_product", "other"}
    answered = q.latency_ms.notna()
    assert answered.any() and (q.latency_ms[answered] <= 180_000).all()


def test_bad_options_are_listed_together(room: vap.SimRoom) -> None:
    with pytest.raises(vap.InvalidArgumentError) as e:
        room.data.replay(follow="0s", min_history=0)
    assert "follow" in str(e.value) and "min_history" in str(e.value)
    with pytest.raises(vap.InvalidArgumentError, match="tpo"):
        room.data.replay(tpo=3)
    assert vap.option_defaults("replay")["top"] == 5
