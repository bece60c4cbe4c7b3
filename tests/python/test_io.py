"""Session directories and in-memory tables: round trips, validation, encodings,
normalisation, pseudonymisation; numbers cross-checked with pandas and polars."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import vap
from conftest import manifest

T0 = 1_795_608_000_000


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_write_and_load_round_trip(room, tmp_path, fmt):
    room.data.write_dir(tmp_path / fmt, format=fmt)
    back = vap.load_dir(tmp_path / fmt)
    assert back.to_dict() == room.data.to_dict()
    assert back.load_report["sorted"] == []


def test_gb18030_csv_is_detected(room, tmp_path):
    room.data.write_dir(tmp_path / "gb", format="csv", encoding="gb18030")
    raw = (tmp_path / "gb" / "products.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    back = vap.load_dir(tmp_path / "gb")
    assert back.to_dict() == room.data.to_dict()
    assert ["products.csv", "gb18030"] in back.load_report["files"]


def test_gmv_matches_pandas_and_polars(room):
    s = room.data.summary()
    orders = room.data.to_pandas("orders")
    paid = orders.loc[orders.status == "paid", "amount"].sum()
    refunded = orders.loc[orders.status == "refunded", "amount"].sum()
    assert s["gmv"]["gross"] == pytest.approx(paid)
    assert s["gmv"]["net"] == pytest.approx(paid - refunded)
    by_product = (
        room.data.to_polars("orders")
        .filter(pl.col("status") == "paid")
        .group_by("product_id")
        .agg(pl.col("amount").sum())
        .sort(["amount", "product_id"], descending=[True, False])
    )
    head = by_product.head(5)
    assert [p for p, _, _ in s["top_products"]] == head["product_id"].to_list()
    assert [v for _, _, v in s["top_products"]] == pytest.approx(head["amount"].to_list())
    metrics = room.data.to_pandas("metrics")
    entries = metrics.loc[metrics.metric == "entries", "value"].sum()
    assert s["entries"] == pytest.approx(entries)
    assert s["gpm"] == pytest.approx(1000 * paid / entries)
    assert s["gmv_check"]["relative"] < 1e-6


def _write(dir_, name, text, encoding="utf-8"):
    (dir_ / name).write_bytes(text.encode(encoding))


def _session_dir(tmp_path, **metrics):
    d = tmp_path / "sess"
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps(manifest(**metrics)), encoding="utf-8")
    _write(
        d, "products.csv", "id,name,price,category,aliases\np1,小黑瓶,199,美妆,1号链接|小黑瓶同款\n"
    )
    _write(d, "anchors.csv", "id,name\na1,小美\n")
    return d


def test_every_problem_is_listed_with_file_row_and_field(tmp_path):
    d = _session_dir(tmp_path)
    _write(
        d,
        "orders.csv",
        "id,ts_ms,product_id,quantity,amount,status\n"
        f"o1,{T0 + 1000},p1,1,199,paid\n"
        f"o2,not-a-time,p1,1,-5,paid\n"
        f"o3,{T0 + 2000},p1,1,NaN,paid\n"
        f"o1,{T0 + 3000},p1,1,199,paid\n"
        f"o4,{T0 + 86_400_000},p1,1,10,paid\n"
        f"o5,{T0 + 4000},p9,1,10,paid\n",
    )
    _write(d, "shifts.csv", f"anchor_id,role,start_ms,end_ms\na2,host,{T0 + 5000},{T0}\n")
    with pytest.raises(vap.ValidationError) as e:
        vap.load_dir(d)
    got = {(p["file"], p["row"], p["field"]) for p in e.value.problems}
    assert got == {
        ("orders.csv", 2, "ts_ms"),
        ("orders.csv", 2, "amount"),
        ("orders.csv", 3, "amount"),
        ("orders.csv", 4, "id"),
        ("orders.csv", 5, "ts_ms"),
        ("orders.csv", 6, "product_id"),
        ("shifts.csv", 1, "anchor_id"),
        ("shifts.csv", 1, "end_ms"),
    }
    assert e.value.code == "VAP_VALIDATION"
    assert "orders.csv, row 2, field 'ts_ms'" in str(e.value)


def test_unsorted_input_is_sorted_and_times_parse(tmp_path):
    d = _session_dir(tmp_path)
    _write(
        d,
        "comments.csv",
        "ts_ms,viewer_id,text\n"
        f"{T0 + 5000},u1,ｈｏｗ　ｍｕｃｈ？\n"
        "2026-11-25T20:00:01+08:00,u2,多少钱\n",
    )
    s = vap.load_dir(d)
    c = s.to_pandas("comments")
    assert list(c["text"]) == ["多少钱", "how much?"]  # sorted, NFKC-normalised
    assert c["ts_ms"].iloc[0] == pd.Timestamp("2026-11-25T12:00:01Z")
    assert s.load_report["sorted"] == ["comments"]


def test_cumulative_metric_is_differenced_like_pandas_with_reset(tmp_path):
    d = _session_dir(tmp_path, likes="cumulative", online_viewers="gauge")
    values = [5, 9, 9, 20, 3, 8]  # a reset between 20 and 3
    rows = "".join(f"likes,{T0 + 10_000 * i},{v}\n" for i, v in enumerate(values))
    rows += f"online_viewers,{T0},100\n"
    _write(d, "metrics.csv", "metric,ts_ms,value\n" + rows)
    s = vap.load_dir(d)
    m = s.to_pandas("metrics")
    got = m.loc[m.metric == "likes", "value"].to_numpy()
    series = pd.Series(values, dtype=float)
    expected = series.diff().fillna(0.0)  # the first sample is the baseline
    expected = expected.where(expected >= 0, series)  # a reset counts from zero
    np.testing.assert_array_equal(got, expected.to_numpy())
    assert {x["name"]: x["kind"] for x in s.metrics} == {"likes": "flow", "online_viewers": "gauge"}
    assert s.load_report["differenced"] == [["likes", 1]]


def test_undeclared_metric_and_bad_manifest(tmp_path):
    d = _session_dir(tmp_path)
    _write(d, "metrics.csv", f"metric,ts_ms,value\nfoo,{T0},1\nfoo,{T0 + 1},2\n")
    with pytest.raises(vap.ValidationError) as e:
        vap.load_dir(d)
    assert [(p["row"], p["field"]) for p in e.value.problems] == [(1, "metric")]
    m = manifest()
    m["vap_format"] = 99
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(vap.VersionError):
        vap.load_dir(d)
    (d / "manifest.json").write_text("{not json")
    with pytest.raises(vap.FormatError):
        vap.load_dir(d)


def test_pseudonymised_viewer_ids(tmp_path, room):
    room.data.write_dir(tmp_path / "d", format="parquet")
    a = vap.load_dir(tmp_path / "d", pseudonymize_key="k1").to_pandas("comments")
    b = vap.load_dir(tmp_path / "d", pseudonymize_key=b"k1").to_pandas("comments")
    c = vap.load_dir(tmp_path / "d", pseudonymize_key="k2").to_pandas("comments")
    orig = room.data.to_pandas("comments")
    assert (a.viewer_id == b.viewer_id).all()
    assert (a.viewer_id != c.viewer_id).all()
    assert not set(a.viewer_id) & set(orig.viewer_id)
    # Pseudonymisation keeps the identity structure: same viewer, same pseudonym.
    assert a.viewer_id.nunique() == orig.viewer_id.nunique()


def _orders_frame():
    return pd.DataFrame(
        {
            "id": ["o2", "o1", "o1"],
            "ts_ms": pd.to_datetime([T0 + 2000, T0 + 1000, T0 + 9000], unit="ms", utc=True),
            "product_id": ["p1", "p1", "p1"],
            "quantity": [1, 2, 2],
            "amount": [199.0, 398.0, 398.0],
            "status": ["paid", "paid", "refunded"],
        }
    )


@pytest.mark.parametrize("kind", ["pandas", "polars", "pyarrow"])
def test_from_tables_accepts_any_arrow_producer(kind):
    orders = _orders_frame()
    products = pd.DataFrame({"id": ["p1"], "name": ["小黑瓶"], "price": [199.0]})
    conv = {
        "pandas": lambda df: df,
        "polars": pl.from_pandas,
        "pyarrow": lambda df: pa.Table.from_pandas(df, preserve_index=False),
    }[kind]
    s = vap.from_tables(manifest(), {"orders": conv(orders), "products": conv(products)})
    got = s.to_pandas("orders")
    assert list(got["id"]) == ["o1", "o2", "o1"]  # sorted by time
    assert s.gmv() == {
        "gross": 597.0,
        "refunds": 398.0,
        "net": 199.0,
        "paid_orders": 2,
        "refund_orders": 1,
    }


def test_from_tables_reports_every_bad_row():
    orders = _orders_frame()
    orders.loc[0, "amount"] = -1.0
    orders.loc[1, "product_id"] = "nope"
    with pytest.raises(vap.ValidationError) as e:
        vap.from_tables(
            manifest(),
            {
                "orders": orders,
                "products": pd.DataFrame({"id": ["p1"], "name": ["x"], "price": [1.0]}),
            },
        )
    assert {(p["file"], p["row"], p["field"]) for p in e.value.problems} == {
        ("orders", 1, "amount"),
        ("orders", 2, "product_id"),
    }
    with pytest.raises(vap.InvalidArgumentError):
        vap.from_tables(manifest(), {"bogus": orders})


def test_from_tables_reports_unreadable_columns_with_every_other_problem():
    """A column vap cannot read and a bad row elsewhere: one error lists both
    (the core merges them, as for Node's fromTables)."""
    orders = _orders_frame()
    orders.loc[0, "amount"] = -1.0
    table = pa.Table.from_pandas(orders, preserve_index=False).append_column(
        "note", pa.array([b"x"] * len(orders), pa.binary())
    )
    products = pd.DataFrame({"id": ["p1"], "name": ["x"], "price": [1.0]})
    with pytest.raises(vap.ValidationError) as e:
        vap.from_tables(manifest(), {"orders": table, "products": products})
    got = [(p["file"], p["row"], p["field"]) for p in e.value.problems]
    assert got == [("orders", None, "note"), ("orders", 1, "amount")]
    assert "unsupported column type" in e.value.problems[0]["message"]
    assert str(e.value).startswith("2 problem(s)")


def test_categorical_and_decimal_columns(tmp_path):
    """pandas category / polars Categorical (Arrow dictionaries) and decimals load."""
    import decimal

    n = 50_000
    orders = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(n)],
            "ts_ms": pd.to_datetime([T0 + i for i in range(n)], unit="ms", utc=True),
            "product_id": pd.Categorical(["p1"] * n),
            "quantity": [1] * n,
            "amount": [decimal.Decimal("19.90")] * n,
            "status": pd.Categorical(["paid"] * (n - 1) + ["refunded"]),
        }
    )
    products = pl.DataFrame({"id": ["p1"], "name": ["x"], "price": [19.9]}).with_columns(
        pl.col("id").cast(pl.Categorical)
    )
    table = pa.Table.from_pandas(orders, preserve_index=False)
    assert pa.types.is_dictionary(table.schema.field("status").type)
    assert pa.types.is_decimal(table.schema.field("amount").type)
    s = vap.from_tables(manifest(), {"orders": table, "products": products})
    assert s.gmv()["gross"] == pytest.approx(19.9 * (n - 1))
    assert s.gmv()["refund_orders"] == 1


def test_times_before_2000_are_rejected_as_likely_seconds(tmp_path):
    d = _session_dir(tmp_path)
    _write(d, "comments.csv", f"ts_ms,viewer_id,text\n{T0 // 1000},u1,hi\n")
    with pytest.raises(vap.ValidationError, match="seconds instead of milliseconds"):
        vap.load_dir(d)


def test_commenters_match_pandas(room):
    c = room.data.to_pandas("comments")
    expected = (
        c.groupby("viewer_id")
        .agg(comments=("text", "size"), first=("ts_ms", "min"))
        .sort_index()
        .reset_index()
    )
    got = room.data.commenters().to_pandas()
    assert list(got["id"]) == list(expected["viewer_id"])
    assert list(got["comments"]) == list(expected["comments"])
    assert list(got["first_ms"]) == [int(t.timestamp() * 1000) for t in expected["first"]]
    assert room.data.summary()["commenters"] == len(got)


# ---------------------------------------------------------------- hostile directories


def _sim_dir(tmp_path, name="sess"):
    d = tmp_path / name
    vap.simulate(seed=4, hours=0.1).data.write_dir(d, format="csv")
    return d


def _set_table(d, table, path):
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    m.setdefault("tables", {})[table] = path
    (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


def test_a_fifo_as_a_table_is_refused_without_blocking(tmp_path):
    d = _sim_dir(tmp_path)
    (d / "comments.csv").unlink()
    os.mkfifo(d / "c.fifo")
    _set_table(d, "comments", "c.fifo")
    with pytest.raises(vap.ValidationError) as e:
        vap.load_dir(d)
    assert "c.fifo" in str(e.value) and "not a regular file" in str(e.value)


def test_table_paths_outside_the_directory_are_refused(tmp_path):
    d = _sim_dir(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "orders.csv").write_bytes((d / "orders.csv").read_bytes())
    for path in ["../other/orders.csv", str(tmp_path / "other" / "orders.csv"), "/dev/zero"]:
        _set_table(d, "orders", path)
        with pytest.raises(vap.ValidationError) as e:
            vap.load_dir(d)
        problems = e.value.problems
        assert any(p["field"] == "tables.orders" for p in problems), problems
    # A directory where the orders should be is reported, not skipped.
    d2 = _sim_dir(tmp_path, "sess2")
    (d2 / "orders.csv").unlink()
    (d2 / "orders.csv").mkdir()
    with pytest.raises(vap.ValidationError, match="orders.csv"):
        vap.load_dir(d2)


def test_latin1_nul_bytes_and_duplicate_columns_are_refused(tmp_path):
    d = _sim_dir(tmp_path)
    (d / "products.csv").write_bytes("id,name,price\np01,Crème brûlée,9.9\n".encode("latin-1"))
    with pytest.raises(vap.ValidationError) as e:
        vap.load_dir(d)
    assert "Latin-1" in str(e.value) and "GB18030" in str(e.value)
    # What pandas makes of the same bytes with the encoding named: the text.
    import io

    assert (
        pd.read_csv(io.BytesIO((d / "products.csv").read_bytes()), encoding="latin-1")["name"][0]
        == "Crème brûlée"
    )
    d = _sim_dir(tmp_path, "nul")
    (d / "comments.csv").write_bytes(b"\0" * 64)
    with pytest.raises(vap.ValidationError, match="comments.csv"):
        vap.load_dir(d)
    d = _sim_dir(tmp_path, "dup")
    lines = (d / "orders.csv").read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",amount"] + [line + ",1" for line in lines[1:]]
    (d / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(vap.ValidationError, match="amount"):
        vap.load_dir(d)


def test_manifest_typo_is_refused_with_a_suggestion(tmp_path):
    d = _sim_dir(tmp_path)
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    m["session"]["timzone"] = m["session"].pop("timezone")
    (d / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(vap.VapError) as e:
        vap.load_dir(d)
    assert "did you mean `timezone`" in str(e.value)


def test_huge_amounts_are_refused_and_an_unpaid_refund_is_a_warning(tmp_path):
    d = _sim_dir(tmp_path)
    orders = pd.read_csv(d / "orders.csv", dtype=str, keep_default_na=False)
    big = orders.copy()
    big.loc[1, "amount"] = "1e308"
    big.to_csv(d / "orders.csv", index=False)
    with pytest.raises(vap.ValidationError) as e:
        vap.load_dir(d)
    assert any(p["row"] == 2 and p["field"] == "amount" for p in e.value.problems)
    refund = orders.copy()
    refund.loc[0, "id"] = "refund-only"
    refund.loc[0, "status"] = "refunded"
    refund.to_csv(d / "orders.csv", index=False)
    s = vap.load_dir(d)
    (w,) = [w for w in s.load_report["warnings"] if "refund-only" in w["message"]]
    assert w["file"] == "orders.csv" and w["row"] == 1 and w["field"] == "id"


def test_a_timeline_too_large_is_refused_naming_its_size():
    room = vap.simulate(seed=1, hours=12)
    with pytest.raises(vap.InvalidArgumentError, match="GB"):
        room.data.timeline("1ms")


def test_a_large_csv_with_quoted_line_feeds_reads_like_pandas_on_any_thread_count(tmp_path):
    # 60,000 comments (over 1 MiB, so read in pieces on two threads) written
    # by pandas with Windows line ends, a third of them quoted with commas,
    # doubled quotes and line feeds: one and two threads give the same
    # session, its texts are pandas' own reading of the file with whitespace
    # collapsed, and the same table from pandas' Parquet loads the same.
    d = _session_dir(tmp_path)
    n = 60_000
    texts = [f'第{i}条,"好"\n下一行 ok' if i % 3 == 0 else f"评论 {i}" for i in range(n)]
    df = pd.DataFrame(
        {
            "ts_ms": T0 + np.arange(n, dtype=np.int64) * 50,
            "viewer_id": [f"v{i % 977}" for i in range(n)],
            "text": texts,
        }
    )
    df.to_csv(d / "comments.csv", index=False, lineterminator="\r\n")
    assert (d / "comments.csv").stat().st_size > 1 << 20
    loaded = {}
    try:
        for threads in (1, 2):
            vap.set_num_threads(threads)
            loaded[threads] = vap.load_dir(d).to_pandas("comments")
    finally:
        vap.set_num_threads(0)
    pd.testing.assert_frame_equal(loaded[1], loaded[2])
    back = pd.read_csv(d / "comments.csv", keep_default_na=False)
    expect = [" ".join(t.split()) for t in back["text"]]
    assert list(loaded[1]["text"]) == expect
    assert list(loaded[1]["viewer_id"]) == list(back["viewer_id"])
    assert loaded[1]["text"].iloc[0] == '第0条,"好" 下一行 ok'
    (d / "comments.csv").unlink()
    df.to_parquet(d / "comments.parquet", index=False)
    pd.testing.assert_frame_equal(vap.load_dir(d).to_pandas("comments"), loaded[1])
