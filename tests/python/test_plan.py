"""Run-sheets (直播脚本) and plan vs actual from Python: reading every format
operators use (CSV in Chinese, XLSX with real time cells, JSON, DataFrames),
every problem reported, deviations checked against pandas on the session's
own tables, and a deviation's value checked against the same model applied
to a session rebuilt without the deviation."""

from __future__ import annotations

import datetime as dt
import json
import pathlib

import pandas as pd
import polars as pl
import pytest

import vap

QUICK = {"model": {"bootstrap": 20, "seed": 1}}


@pytest.fixture(scope="module")
def room() -> vap.SimRoom:
    return vap.simulate(seed=21, hours=1.5)


def _local(ms: int, tz: str = "Asia/Shanghai") -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(tz).strftime("%H:%M:%S")


def _as_it_ran(s: vap.Session) -> list[dict[str, object]]:
    """A run-sheet (rows, offsets from the start) that says what happened."""
    t0 = s.session["start_ms"]
    off = lambda ms: f"+{(ms - t0) // 1000}s"  # noqa: E731
    rows: list[dict[str, object]] = []
    for r in s.to_pandas("shifts").itertuples():
        if r.role == "host":
            rows.append(
                {
                    "类型": "主播",
                    "开始时间": off(_ms(r.start_ms)),
                    "结束时间": off(_ms(r.end_ms)),
                    "主播": r.anchor_id,
                }
            )
    for r in s.to_pandas("segments").itertuples():
        if r.kind == "explain":
            rows.append(
                {
                    "类型": "商品",
                    "开始时间": off(_ms(r.start_ms)),
                    "结束时间": off(_ms(r.end_ms)),
                    "商品": r.product_id,
                }
            )
    for r in s.to_pandas("promotions").itertuples():
        rows.append(
            {
                "类型": r.kind,
                "开始时间": off(_ms(r.start_ms)),
                "结束时间": off(_ms(r.end_ms)),
                "商品": r.product_id,
            }
        )
    return rows


def _ms(t: pd.Timestamp) -> int:
    return int(t.value // 1_000_000)


def test_a_chinese_csv_of_slots(room: vap.SimRoom, tmp_path: pathlib.Path) -> None:
    s = room.data
    products = s.to_pandas("products")
    anchors = s.to_pandas("anchors")
    start = s.session["start_ms"]
    csv = (
        "时间段,主播,商品,活动,时长(分钟),话术,场次\n"
        f"{_local(start)[:5]}-{_local(start + 600_000)[:5]},{anchors.name[0]},{products.name[0]},,,补水；到手价,1\n"
        f"{_local(start + 600_000)[:5]},{anchors.name[0]},{products.id[1]},秒杀,15,,1\n"
    )
    path = tmp_path / "脚本.csv"
    path.write_bytes(csv.encode("gb18030"))
    sheet = vap.read_run_sheet(path)
    assert sheet.ignored == ["场次"]
    kinds = sorted(i["kind"] for i in sheet.items)
    assert kinds == ["product", "product", "promotion", "shift", "shift"]
    first = next(i for i in sheet.items if i["kind"] == "product")
    assert first["talking_points"] == ["补水", "到手价"]
    assert first["start"] == {"clock": (start // 1000 % 86400 + 8 * 3600) % 86400 * 1000}
    planned = s.with_plan(sheet)
    assert planned.plan == sheet and s.plan is None
    # The CSV form reads back to the same plan on this session.
    back = vap.read_run_sheet(sheet.to_csv().encode())
    a = planned.plan_vs_actual(attribute=False)
    b = s.with_plan(back).plan_vs_actual(attribute=False)
    strip = lambda r: [(d.kind, d.status, d.subject, d.planned, d.actual) for d in r.items]  # noqa: E731
    assert strip(a) == strip(b)


def test_xlsx_with_time_cells_json_and_dataframes(
    room: vap.SimRoom, tmp_path: pathlib.Path
) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    s = room.data
    pid = s.to_pandas("products").id[2]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["类型", "开始时间", "时长", "商品", "话术"])
    ws.append(["讲解", dt.time(20, 5), 20, pid, "a;b"])
    ws.append(["优惠券", dt.time(20, 30), dt.time(0, 10), None, None])
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    sheet = vap.read_run_sheet(path)
    assert [i["kind"] for i in sheet.items] == ["product", "promotion"]
    assert sheet.items[0]["start"] == {"clock": (20 * 60 + 5) * 60_000}
    assert sheet.items[0]["duration_ms"] == 20 * 60_000
    assert sheet.items[1]["duration_ms"] == 10 * 60_000
    assert sheet.items[1]["promotion"] == "coupon"
    rows = [
        {
            "kind": "product",
            "start": "+5min",
            "duration": "20min",
            "product": pid,
            "talking_points": ["a", "b"],
        }
    ]
    from_list = vap.read_run_sheet(rows)
    from_pandas = vap.read_run_sheet(pd.DataFrame(rows).assign(talking_points="a; b"))
    from_polars = vap.read_run_sheet(
        pl.DataFrame(rows).with_columns(pl.lit("a;b").alias("talking_points"))
    )
    from_json = tmp_path / "plan.json"
    from_json.write_text(json.dumps({"items": rows}), encoding="utf-8")
    for other in (from_pandas, from_polars, vap.read_run_sheet(from_json)):
        assert other.items == from_list.items
    with pytest.raises(TypeError):
        vap.read_run_sheet(42)


def test_every_problem_at_once(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "kind,start,duration,anchor,product,promotion\n"
        "product,20:00,10,,,\n"
        "shift,soon,,a1,,\n"
        "teleport,20:40,5,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(vap.ValidationError) as e:
        vap.read_run_sheet(path)
    got = {(p["row"], p["field"]) for p in e.value.problems}
    assert got == {(1, "product"), (2, "start"), (3, "kind")}
    assert all(p["file"].endswith("bad.csv") for p in e.value.problems)
    with pytest.raises(vap.InvalidArgumentError):
        vap.read_run_sheet(path, timezone="Mars/Base")
    with pytest.raises(vap.InvalidArgumentError, match="no run-sheet"):
        vap.simulate(seed=1, hours=0.5).data.plan_vs_actual()


def test_deviations_against_pandas(room: vap.SimRoom) -> None:
    s = room.data
    rows = _as_it_ran(s)
    t0 = s.session["start_ms"]
    seg = s.to_pandas("segments")
    explains = seg[seg.kind == "explain"].reset_index(drop=True)
    # Planned 7 min earlier than it ran; one unplanned; one planned that never ran.
    moved = explains.iloc[2]
    for r in rows:
        if r["类型"] == "商品" and r["开始时间"] == f"+{(_ms(moved.start_ms) - t0) // 1000}s":
            r["开始时间"] = f"+{(_ms(moved.start_ms) - 420_000 - t0) // 1000}s"
            r["结束时间"] = f"+{(_ms(moved.end_ms) - 420_000 - t0) // 1000}s"
    dropped = explains.iloc[4]
    rows = [
        r
        for r in rows
        if not (
            r["类型"] == "商品" and r["开始时间"] == f"+{(_ms(dropped.start_ms) - t0) // 1000}s"
        )
    ]
    rows.append({"类型": "商品", "开始时间": "+1s", "结束时间": "+60s", "商品": "不存在的商品"})
    review = s.with_plan(vap.read_run_sheet(rows)).plan_vs_actual(attribute=False)
    by = lambda st: [d for d in review.items if d.status == st]  # noqa: E731
    (late,) = by("late")
    assert late.subject == moved.product_id
    assert late.start_delta_ms == 420_000
    assert late.actual == [_ms(moved.start_ms), _ms(moved.end_ms)]
    added = by("added")
    assert [d.subject for d in added] == [dropped.product_id]
    (skipped,) = by("skipped")
    assert "不存在的商品" in skipped.note
    n_host = int((s.to_pandas("shifts").role == "host").sum())
    n_promo = s.num_rows("promotions")
    assert review.on_plan == n_host + len(explains) - 2 + n_promo
    assert (review.on_plan, review.off_plan, review.added) == (len(by("on_plan")), 2, 1)
    df = review.to_pandas()
    assert list(df.status).count("late") == 1
    assert str(df.planned_start_ms.dtype).startswith("datetime64")
    assert df.start_delta_ms.dropna().astype(int).tolist().count(420_000) == 1
    assert review.effect_total is None and review.notes


def test_a_deviation_is_valued_as_the_model_values_the_rebuilt_session(
    tmp_path: pathlib.Path,
) -> None:
    """An unplanned flash sale's effect = the model's prediction of the session
    minus its prediction of the same session rebuilt without that flash sale
    (written, edited with pandas, loaded)."""
    s = vap.simulate(seed=21, hours=2.5).data
    promos = s.to_pandas("promotions")
    flash = promos[promos.kind == "flash_sale"].reset_index(drop=True)
    assert len(flash) >= 2
    extra = flash.iloc[-1]
    rows = [
        r
        for r in _as_it_ran(s)
        if not (
            r["类型"] == "flash_sale"
            and r["开始时间"] == f"+{(_ms(extra.start_ms) - s.session['start_ms']) // 1000}s"
        )
    ]
    review = s.with_plan(vap.read_run_sheet(rows)).plan_vs_actual(**QUICK)
    (added,) = [d for d in review.items if d.status == "added"]
    assert added.subject == f"flash_sale:{extra.product_id}"
    assert added.effect is not None and added.effect.low <= added.effect.value <= added.effect.high
    assert review.target == "order_gmv"
    # The same model, applied to the session rebuilt without the flash sale.
    fit = vap.attribute(s.attribution_timeline("10s"), bootstrap=20, seed=1)
    s.write_dir(tmp_path / "s")
    p = pd.read_csv(tmp_path / "s" / "promotions.csv")
    p = p[p.id != extra.id]
    p.to_csv(tmp_path / "s" / "promotions.csv", index=False)
    cf = vap.load_dir(tmp_path / "s")
    assert cf.num_rows("promotions") == len(promos) - 1
    actual = fit.model.apply(s.attribution_timeline("10s")).to_pandas().prediction.sum()
    without = fit.model.apply(cf.attribution_timeline("10s")).to_pandas().prediction.sum()
    assert added.effect.value == pytest.approx(actual - without, rel=1e-9, abs=1e-6)
    # The total of one deviation is that deviation.
    assert review.effect_total.value == pytest.approx(added.effect.value, rel=1e-12)


def test_the_replay_carries_the_plan_and_the_store_keeps_it(
    room: vap.SimRoom, tmp_path: pathlib.Path
) -> None:
    s = room.data
    rows = _as_it_ran(s)
    first = next(r for r in rows if r["类型"] == "商品")
    first["话术"] = "从来没说过的话; 也没说过"
    planned = s.with_plan(vap.read_run_sheet(rows))
    rep = planned.replay(**QUICK)
    assert rep.plan is not None and rep.plan_error is None
    assert rep.plan.off_plan == 0 and rep.plan.added == 0
    d = next(x for x in rep.plan.items if x.points_missed)
    assert d.points_missed == ["从来没说过的话", "也没说过"]
    assert rep.to_pandas("plan").shape[0] == len(rep.plan.items)
    assert "plan" in rep.view("field_control")
    assert 'id="plan"' in rep.to_html()
    assert s.replay(**QUICK).plan is None
    store = vap.Store(tmp_path / "store")
    store.import_session(planned)
    stored = store.replay(planned.room["id"], planned.session["id"], **QUICK)
    assert stored.plan is not None
    assert [x.status for x in stored.plan.items] == [x.status for x in rep.plan.items]
    assert planned.with_plan(None).plan is None
    with pytest.raises(TypeError):
        planned.with_plan(rows)  # type: ignore[arg-type]


def _history(planted: bool, n: int = 6) -> list[vap.Session]:
    extra = (
        {
            "anchor_category_effects": [{"anchor": "a2", "category": "美妆", "effect": 3.0}],
            "late_flash_effect": 6.0,
        }
        if planted
        else {}
    )
    return [
        vap.simulate(
            seed=100 + k,
            hours=3,
            entries_per_second=40,
            anchors=3,
            products=20,
            session_id=f"day-{k}",
            start=1_795_608_000_000 + k * 86_400_000,
            **extra,
        ).data
        for k in range(n)
    ]


def _overlap_hours(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Hours where an interval of ``a`` and one of ``b`` overlap (each side's
    intervals disjoint)."""
    total = 0
    for x in a.itertuples():
        for y in b.itertuples():
            lo, hi = max(_ms(x.start_ms), _ms(y.start_ms)), min(_ms(x.end_ms), _ms(y.end_ms))
            total += max(0, hi - lo)
    return total / 3_600_000


def test_the_playbook_finds_what_was_planted_and_the_store_agrees(tmp_path: pathlib.Path) -> None:
    h = _history(True)
    pb = vap.playbook(h, model={"bootstrap": 100})
    top = pb.anchors[0]
    assert (top.anchor_id, top.category, top.evidence.weak) == ("a2", "美妆", False)
    strong = [r for r in pb.recommendations if not r.weak]
    assert {r.kind for r in strong} == {"anchor_category", "flash_timing"}
    assert pb.flash_sales.difference.value > 0
    # The exposure is the hours a2 hosted while a 美妆 product was explained,
    # as pandas computes them from the session tables (10 s bins aside).
    hours = 0.0
    for s in h:
        cat = s.to_pandas("products").set_index("id").category
        seg = s.to_pandas("segments")
        seg = seg[(seg.kind == "explain") & (seg.product_id.map(cat) == "美妆")]
        sh = s.to_pandas("shifts")
        hours += _overlap_hours(sh[(sh.role == "host") & (sh.anchor_id == "a2")], seg)
    assert top.evidence.exposure == pytest.approx(hours, abs=len(h) * 40 * 10 / 3600)
    html = pb.to_html(lang="en")
    assert html.index('id="recommendations"') < html.index('id="anchors"')
    assert "should host 美妆" in html and "更适合讲 美妆" in pb.to_html()
    assert pb.to_dict()["anchors"][0]["anchor_id"] == "a2"
    # A phrase's uses: utterances (folded) within the product's explains that
    # contain it, counted with pandas.
    prod = next(p for p in pb.products if p.phrases)
    ph = prod.phrases[0]
    uses = 0
    for s in h:
        seg = s.to_pandas("segments")
        seg = seg[(seg.kind == "explain") & (seg.product_id == prod.product_id)]
        ut = s.to_pandas("utterances")
        inside = ut.start_ms.apply(
            lambda t, seg=seg: bool(((seg.start_ms <= t) & (t < seg.end_ms)).any())
        )
        folded = ut[inside].text.map(vap.fold)
        uses += int(folded.str.contains(vap.fold(ph.phrase), regex=False).sum())
    assert ph.uses == uses
    df = pb.to_pandas("anchors")
    assert list(df.columns[:3]) == ["anchor_id", "anchor_name", "category"]
    assert df.evidence_value.is_monotonic_decreasing
    # The draft reads back and hosts 美妆 with a2.
    draft = vap.read_run_sheet(pb.draft.to_csv().encode())
    assert len(draft) == len(pb.draft)
    # The same from a store, session by session.
    store = vap.Store(tmp_path / "store")
    for s in h:
        store.import_session(s)
    stored = store.playbook(h[0].room["id"], model={"bootstrap": 100})
    assert [a.evidence.value for a in stored.anchors] == pytest.approx(
        [a.evidence.value for a in pb.anchors], rel=1e-9
    )


def test_the_playbook_says_not_enough_evidence() -> None:
    pb = vap.playbook(_history(False), model={"bootstrap": 100})
    assert pb.recommendations[0].kind == "not_enough_evidence"
    assert "证据不足" in pb.recommendations[0].text_zh
    assert not [r for r in pb.recommendations if not r.weak]
    with pytest.raises(vap.InvalidArgumentError, match="at least 2"):
        vap.playbook(_history(False, 1))
