"""The embedded store: import, list, load, replace, delete; readable by pyarrow,
polars and DuckDB directly; bad ids and newer stores refused."""

from __future__ import annotations

import json
import os

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

import vap
from conftest import manifest


def test_import_list_load_delete(store, room):
    store.import_session(room.data)
    assert [r["id"] for r in store.rooms()] == ["sim-room"]
    (info,) = store.sessions()
    assert info["session_id"] == "sim-11"
    assert info["rows"]["orders"] == room.data.num_rows("orders")
    back = store.load("sim-room", "sim-11")
    assert back.to_dict() == room.data.to_dict()
    assert store.contains("sim-room", "sim-11")
    store.delete("sim-room", "sim-11")
    assert store.sessions() == []
    assert not store.contains("sim-room", "sim-11")
    with pytest.raises(vap.NotFoundError):
        store.load("sim-room", "sim-11")


def test_reimport_refused_unless_replace(store):
    a = vap.simulate(seed=1, hours=0.5, session_id="day1")
    b = vap.simulate(seed=2, hours=0.5, session_id="day1")
    store.import_session(a.data)
    with pytest.raises(vap.AlreadyExistsError) as e:
        store.import_session(b.data)
    assert e.value.code == "VAP_ALREADY_EXISTS"
    assert store.load("sim-room", "day1").to_dict() == a.data.to_dict()
    store.import_session(b.data, replace=True)
    assert store.load("sim-room", "day1").to_dict() == b.data.to_dict()


def test_store_is_readable_by_pyarrow_polars_and_duckdb(store):
    rooms = [vap.simulate(seed=s, hours=0.5, session_id=f"s{s}") for s in (1, 2, 3)]
    for r in rooms:
        store.import_session(r.data)
    pattern = os.path.join(store.root, "rooms", "*", "sessions", "*", "orders.parquet")
    total = sum(r.data.num_rows("orders") for r in rooms)
    lazy = pl.scan_parquet(pattern).group_by("session_id").agg(pl.len()).collect()
    assert dict(lazy.iter_rows()) == {
        f"s{s}": r.data.num_rows("orders") for s, r in zip((1, 2, 3), rooms)
    }
    files = sorted(
        os.path.join(dp, f)
        for dp, _, fs in os.walk(store.root)
        for f in fs
        if f == "orders.parquet"
    )
    table = ds.dataset(files, format="parquet").to_table()
    assert table.num_rows == total
    assert table.schema.field("ts_ms").type == pa.timestamp("ms", tz="UTC")
    gross = duckdb.sql(
        f"select sum(amount) from read_parquet('{pattern}') where status = 'paid'"
    ).fetchall()[0][0]
    assert gross == pytest.approx(sum(r.data.gmv()["gross"] for r in rooms))


def test_ids_cannot_escape_the_store(store, tmp_path):
    with pytest.raises(vap.InvalidArgumentError, match="session_id"):
        vap.simulate(seed=1, hours=0.5, session_id="../../escape")
    m = manifest()
    m["session"]["id"] = "../../escape"
    with pytest.raises(vap.ValidationError) as e:
        vap.from_tables(m, {})
    assert [(p["field"]) for p in e.value.problems] == ["session.id"]
    for room, sess in [("..", "x"), ("a/b", "x"), ("ok", "../x"), ("ok", "")]:
        with pytest.raises(vap.InvalidArgumentError):
            store.load(room, sess)
    assert not (tmp_path / "escape").exists()


def test_newer_store_is_refused(tmp_path):
    root = tmp_path / "future"
    vap.Store(root)
    meta = json.loads((root / "vap-store.json").read_text())
    meta["version"] += 1
    (root / "vap-store.json").write_text(json.dumps(meta))
    with pytest.raises(vap.VersionError, match="newer"):
        vap.Store(root)


def test_non_store_directory_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "precious.txt").write_text("keep me")
    with pytest.raises(vap.InvalidArgumentError):
        vap.Store(tmp_path / "x")


def test_replace_one_table_atomically(store, room):
    store.import_session(room.data)
    derived = pl.DataFrame({"minute": [0, 1, 2], "gmv": [1.0, 2.0, 3.0]})
    store.replace_table("sim-room", "sim-11", "timeline_1m", derived)
    assert store.read_table("sim-room", "sim-11", "timeline_1m").to_pydict() == derived.to_dict(
        as_series=False
    )
    assert store.sessions()[0]["derived"] == ["timeline_1m"]
    # A core table is validated against the rest of the session.
    utt = room.data.table("utterances").slice(0, 10)
    store.replace_table("sim-room", "sim-11", "utterances", utt)
    assert store.load("sim-room", "sim-11").num_rows("utterances") == 10
    bad = room.data.to_pandas("orders").head(3)
    bad.loc[1, "product_id"] = "unknown"
    with pytest.raises(vap.ValidationError) as e:
        store.replace_table("sim-room", "sim-11", "orders", bad)
    assert [(p["row"], p["field"]) for p in e.value.problems] == [(2, "product_id")]
    assert store.load("sim-room", "sim-11").num_rows("orders") == room.data.num_rows("orders")


def test_import_dir_registers_recordings(store, room, tmp_path):
    d = tmp_path / "sess"
    room.data.write_dir(d, format="jsonl")
    (d / "rec.mp4").write_bytes(b"\x00fake video" * 1000)
    m = json.loads((d / "manifest.json").read_text())
    m["session"]["recordings"] = [{"path": "rec.mp4", "offset_ms": -1500}]
    (d / "manifest.json").write_text(json.dumps(m))
    store.import_dir(d, copy_recordings=True)
    (rec,) = store.load("sim-room", "sim-11").session["recordings"]
    assert rec["size_bytes"] == 11_000 and len(rec["sha256"]) == 64
    assert rec["offset_ms"] == -1500
    assert rec["path"].startswith("media/")
    sess_dir = os.path.join(store.root, "rooms", "sim-room", "sessions", "sim-11")
    assert os.path.getsize(os.path.join(sess_dir, rec["path"])) == 11_000


# ---------------------------------------------------------------- reliability


def _two_sessions(store):
    store.import_session(vap.simulate(seed=1, hours=0.2, session_id="a").data)
    store.import_session(vap.simulate(seed=2, hours=0.2, session_id="b").data)
    return os.path.join(store.root, "rooms", "sim-room", "sessions")


def test_check_reports_every_damaged_file_and_listing_goes_on(store):
    sessions = _two_sessions(store)
    report = store.check()
    assert report["damaged"] == [] and report["sessions"] == 2 and report["files"] > 10
    for name in ["orders.parquet", "comments.parquet"]:
        with open(os.path.join(sessions, "a", name), "r+b") as f:
            f.truncate(100)
    report = store.check()
    damaged = sorted(os.path.basename(d["path"]) for d in report["damaged"])
    assert damaged == ["comments.parquet", "orders.parquet"], report
    assert {d["session_id"] for d in report["damaged"]} == {"a"}
    # Listing still works, and says what is wrong with the damaged session.
    infos = {s["session_id"]: s for s in store.sessions()}
    assert infos["b"]["damage"] == []
    assert len(infos["a"]["damage"]) == 2
    with pytest.raises(vap.ValidationError) as e:  # every damaged file at once
        store.load("sim-room", "a")
    assert len(e.value.problems) == 2
    with pytest.raises(vap.FormatError):
        store.read_table("sim-room", "a", "orders")
    assert store.load("sim-room", "b").num_rows("orders") > 0
    # pyarrow agrees the file is unreadable.
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(os.path.join(sessions, "a", "orders.parquet"))


def test_a_torn_journal_is_recovered_as_nothing_committed(store):
    _two_sessions(store)
    journal = os.path.join(store.root, ".journal")
    os.makedirs(journal)
    open(os.path.join(journal, "12-1.json"), "wb").close()  # zero bytes
    again = vap.Store(store.root)
    notes = "\n".join(again.recovered)
    assert "nothing had been committed" in notes
    assert not os.path.exists(journal)
    assert again.load("sim-room", "a").num_rows("orders") > 0
    assert vap.Store(store.root).recovered == []


def test_read_only_store(store, tmp_path):
    _two_sessions(store)
    ro = vap.Store.open_read_only(store.root)
    assert ro.read_only and not store.read_only
    assert len(ro.sessions()) == 2
    assert ro.check()["damaged"] == []
    with pytest.raises(vap.VapIOError, match="without write access"):
        ro.import_session(vap.simulate(seed=3, hours=0.1, session_id="c").data)
    with pytest.raises(vap.NotFoundError):
        vap.Store.open_read_only(tmp_path / "nothing-here")


def test_deceptive_ids_are_refused(store):
    for bad in ["a\u202eb", "zero\u200bwidth", "CON", "nul.txt", "trailing."]:
        with pytest.raises(vap.InvalidArgumentError):
            store.load("sim-room", bad)


def test_replace_table_refuses_types_parquet_cannot_store(store):
    _two_sessions(store)
    t = pa.table({"gap": pa.array([(1, 2, 3)], type=pa.month_day_nano_interval())})
    with pytest.raises(vap.InvalidArgumentError, match="gap"):
        store.replace_table("sim-room", "a", "iv", t)
    u = pa.UnionArray.from_sparse(pa.array([0], type=pa.int8()), [pa.array([1])])
    with pytest.raises(vap.InvalidArgumentError):
        store.replace_table("sim-room", "a", "un", pa.table({"u": u}))
    assert store.sessions("sim-room")[0]["derived"] == []
