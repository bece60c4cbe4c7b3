"""Importers of platform exports and capture logs (tests/fixtures/imports),
cross-checked against pandas reading the same files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vap

FX = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
START = 1_795_608_000_000  # 2026-11-25 20:00 in Shanghai
HOUR = 3_600_000


def test_formats_are_detected() -> None:
    assert vap.detect_source_format(FX / "compass_sessions.xlsx") == "compass_sessions"
    assert vap.detect_source_format(FX / "compass_trend_grouped.json") == "compass_trend"
    assert vap.detect_source_format(FX / "douyin_capture.jsonl") == "douyin_capture"
    assert vap.detect_source_format(FX / "tiktok_capture.jsonl") == "tiktok_capture"
    assert vap.detect_source_format(FX / "tiktok_shop_minutes_alt.json") == "tiktok_shop_minutes"


def test_session_list_matches_pandas_on_csv_and_xlsx() -> None:
    rows, report = vap.read_compass_sessions(FX / "compass_sessions.csv")
    xrows, _ = vap.read_compass_sessions(FX / "compass_sessions.xlsx")
    df = pd.read_csv(FX / "compass_sessions.csv", encoding="gb18030", thousands=",")
    xdf = pd.read_excel(FX / "compass_sessions.xlsx")
    assert len(rows) == len(df) == len(xrows) == len(xdf) == 3
    for r, x, (_, d), (_, xd) in zip(rows, xrows, df.iterrows(), xdf.iterrows()):
        assert r["facts"]["gmv"] == pytest.approx(float(d["直播间成交金额"]))
        assert x["facts"]["gmv"] == pytest.approx(float(str(xd["直播间成交金额"]).replace(",", "")))
        start = pd.Timestamp(d["直播开始时间"], tz="Asia/Shanghai")
        assert r["start_ms"] == x["start_ms"] == start.value // 1_000_000
    # "15.7万" and "12.3%" as numbers; unknown columns kept under their header.
    assert rows[2]["facts"]["exposure_viewers"] == 157_000
    assert rows[1]["facts"]["returning_fan_share"] == 0.274
    assert isinstance(rows[2]["facts"]["直播间名称"], str)
    used = {f["field"]: f["used"] for f in report["fields"]}
    assert used["直播间成交金额"] == "mapped" and used["直播间名称"] == "kept"


def test_read_compass_merges_and_checks_against_pandas() -> None:
    s = vap.read_compass(
        trend=FX / "compass_trend.json",
        orders=FX / "compass_orders.json",
        sessions=FX / "compass_sessions.xlsx",
        traffic=FX / "compass_traffic.json",
        room_id="acme",
    )
    meta = s.session
    assert (meta["start_ms"], meta["end_ms"]) == (START, START + 2 * HOUR)
    assert meta["id"] == "2026-11-25-2000"
    # pandas: paid orders once each.
    items = pd.DataFrame(
        json.loads((FX / "compass_orders.json").read_text())["data"]["live_order_stream"]
    )
    paid = items[items.order_status == 3].drop_duplicates("order_id")
    orders = s.to_pandas("orders")
    assert len(orders) == len(paid)
    assert orders["amount"].sum() == pytest.approx(paid["pay_amount"].sum())
    assert set(orders["id"]) == set(paid["order_id"])
    # pandas: the trend's pay_amt per minute, the duplicate point dropped.
    pts = pd.DataFrame(json.loads((FX / "compass_trend.json").read_text())["data"]["trends"])
    pts["horizontal"] = pts["horizontal"].astype("int64")
    pts["vertical"] = pts["vertical"].astype(str).str.replace(",", "").astype(float)
    pay = pts[pts.point_name == "pay_amt"].drop_duplicates(["horizontal"])
    metrics = s.to_pandas("metrics")
    assert metrics[metrics.metric == "gmv"]["value"].sum() == pytest.approx(pay["vertical"].sum())
    online = pts[pts.point_name == "online_user_cnt"]
    assert metrics[metrics.metric == "online_viewers"]["value"].max() == online["vertical"].max()
    rep = s.source_report
    assert rep is not None and rep["checks"] and all(c["agrees"] for c in rep["checks"])
    assert any(f["field"] == "gpm" and f["used"] == "ignored" for f in rep["fields"])
    assert meta["facts"]["viewers"] == 30101
    assert any(k.startswith("traffic.付费流量.") for k in meta["facts"])
    # The session goes through the store like any other, facts kept.
    assert s.summary()["gmv"]["gross"] == pytest.approx(paid["pay_amount"].sum())


def test_capture_log_counts_gaps_and_duplicates(tmp_path: Path) -> None:
    s = vap.read_capture_log(FX / "douyin_capture.jsonl")
    lines = [
        json.loads(x)
        for x in (FX / "douyin_capture.jsonl").read_text().splitlines()
        if x.startswith("{")
    ]
    df = pd.DataFrame(
        {"method": [x["method"] for x in lines], "id": [x["common"]["msgId"] for x in lines]}
    )
    chats = df[df.method == "WebcastChatMessage"]["id"].nunique()
    assert s.num_rows("comments") == chats
    rep = s.source_report
    assert rep is not None
    assert rep["duplicates"] == len(df) - df["id"].nunique()
    assert len(rep["gaps"]) == 1 and s.session["gaps"] == rep["gaps"]
    assert s.session["end_ms"] == START + 2 * HOUR
    store = vap.Store(tmp_path / "store")
    store.import_session(s)
    back = store.load(s.room["id"], s.session["id"])
    assert back.session["gaps"] == rep["gaps"]


def test_tiktok_shop_shapes_agree() -> None:
    a = vap.read_tiktok_shop(
        minutes=FX / "tiktok_shop_minutes.json",
        session=FX / "tiktok_shop_session.json",
        timezone="UTC",
    )
    b = vap.read_tiktok_shop(minutes=FX / "tiktok_shop_minutes_alt.json", timezone="UTC")
    ga = a.to_pandas("metrics").query("metric == 'gmv'")["value"].sum()
    gb = b.to_pandas("metrics").query("metric == 'gmv'")["value"].sum()
    assert ga == pytest.approx(gb) and ga > 0
    assert a.session["facts"]["gmv"] == pytest.approx(ga, abs=0.01)


def test_bad_input_names_file_row_and_field(tmp_path: Path) -> None:
    p = tmp_path / "orders.json"
    p.write_text(
        json.dumps(
            {
                "data": {
                    "live_order_stream": [
                        {"order_id": "1", "order_status": 3, "order_ts": "soon", "product_id": "p"},
                        {
                            "order_id": "2",
                            "order_status": 3,
                            "order_ts": 1795608001,
                            "product_id": "p",
                            "item_num": -1,
                        },
                    ]
                }
            }
        )
    )
    with pytest.raises(vap.ValidationError) as e:
        vap.read_sources(p)
    got = [(q["row"], q["field"]) for q in e.value.problems]
    assert got == [(1, "order_ts"), (2, "item_num")]
    with pytest.raises(vap.InvalidArgumentError, match="unknown source format"):
        vap.read_sources((p, "compass_orderz"))
    with pytest.raises(vap.InvalidArgumentError, match="timezone"):
        vap.read_sources(p, timezone="Mars/Base")
    other = tmp_path / "x.json"
    other.write_text('{"hello": 1}')
    with pytest.raises(vap.FormatError):
        vap.read_sources(other)
    with pytest.raises(vap.VapIOError):
        vap.read_sources(tmp_path / "missing.json")


def test_a_workbook_claiming_a_huge_sheet_is_refused_not_allocated(tmp_path: Path) -> None:
    # One cell at the last row and column Excel allows: a dense grid of it
    # would need ~1.7e10 cells. vap reads cell by cell and refuses it.
    import zipfile

    src = zipfile.ZipFile(FX / "compass_sessions.xlsx")
    out = tmp_path / "huge.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</sheetData>",
                    b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>',
                )
            z.writestr(item, data)
    with pytest.raises(vap.ValidationError, match="more than a session list holds"):
        vap.read_compass_sessions(out)


def test_read_capture_log_reads_only_capture_logs() -> None:
    with pytest.raises(vap.FormatError, match="compass_trend"):
        vap.read_capture_log(FX / "compass_trend.json")


def test_tiktok_shop_session_xlsx_reads_as_its_json(tmp_path: Path) -> None:
    import openpyxl

    stats = json.loads((FX / "tiktok_shop_session.json").read_text())["data"]["stats"]
    headers = {
        "gmv": "GMV",
        "sku_orders": "SKU orders",
        "customers": "Customers",
        "click_to_order_rate": "Click-to-order rate",
        "acu": "ACU",
        "pcu": "PCU",
        "viewers": "Viewers",
        "views": "Views",
        "avg_viewing_duration": "Avg. viewing duration",
        "comments": "Comments",
        "new_followers": "New followers",
        "product_impressions": "Product impressions",
        "product_clicks": "Product clicks",
        "click_through_rate": "Click-through rate",
    }
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["LIVE name", *headers.values()])
    ws.append(["Winter sale", *(stats[k] for k in headers)])
    path = tmp_path / "live_performance.xlsx"
    wb.save(path)
    assert vap.detect_source_format(path) == "tiktok_shop_session"
    minutes = FX / "tiktok_shop_minutes.json"
    a = vap.read_tiktok_shop(minutes=minutes, session=FX / "tiktok_shop_session.json")
    b = vap.read_tiktok_shop(minutes=minutes, session=path)
    fa, fb = a.session["facts"], b.session["facts"]
    for k, v in fa.items():
        assert fb[k] == pytest.approx(v), k
    assert fb["LIVE name"] == "Winter sale"


def test_source_clocks_are_reported_and_gaps_blank_the_timeline() -> None:
    s = vap.read_sources(FX / "compass_trend.json", FX / "douyin_capture.jsonl")
    (o,) = s.source_report["offsets"]
    assert (o["source"], o["reference"], o["applied"]) == ("douyin_capture", "compass", False)
    assert o["offset_ms"] is not None and o["z"] >= 4
    assert abs(o["offset_ms"]) <= 5000
    moved = vap.read_sources(
        FX / "compass_trend.json", FX / "douyin_capture.jsonl", apply_offsets=True
    )
    assert moved.source_report["offsets"][0]["applied"]
    with pytest.raises(vap.InvalidArgumentError, match="max_offset"):
        vap.read_sources(FX / "douyin_capture.jsonl", max_offset="1s")
    # the capture's gap: its streams are missing bins, not zeros
    (gap,) = [g for g in s.session["gaps"] if g["source"] == "douyin_capture"]
    assert "comments" in gap["streams"]
    tl = s.timeline("10s")
    t, comments = tl.time_ms, tl.column("comments")
    inside = (t >= gap["start_ms"]) & (t + 10_000 <= gap["end_ms"])
    assert inside.sum() > 0 and np.isnan(comments[inside]).all()
    assert tl.missing("comments")[inside].all()
    assert np.isfinite(comments[~inside]).sum() > 0.9 * (~inside).sum()
