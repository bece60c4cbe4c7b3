"""vap.spark on a real PySpark in local mode: every result equals the
single-machine calls on the same sessions."""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import vap
import vap.spark as vs

# PySpark 4.x warns that it does not yet support pandas 3 (vap.spark itself
# moves Arrow, not pandas, through Spark).
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning"
)

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is a test dependency (pip install '.[test]')"
)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("vap-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield s
    s.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("spark") / "store"
    st = vap.Store(path)
    for seed in (5, 6, 7):
        st.import_session(vap.simulate(seed=seed, hours=0.75).data)
    return st


def _key(t: pa.Table) -> pa.Table:
    return t.sort_by([("room", "ascending"), ("session", "ascending")])


def _collect(df) -> pa.Table:
    return df.toArrow()


def test_sessions_lists_the_store(spark, store):
    got = _collect(vs.sessions(spark, store.root)).to_pylist()
    want = store.sessions()
    assert sorted((r["room"], r["session"]) for r in got) == sorted(
        (r["room_id"], r["session_id"]) for r in want
    )
    by = {r["session"]: r for r in got}
    for w in want:
        assert by[w["session_id"]]["start"].timestamp() * 1000 == w["start_ms"]


def test_timelines_equal_the_single_machine_timelines(spark, store):
    sessions = vs.sessions(spark, store.root)
    got = _collect(vs.timelines(sessions, store.root, step="1min"))
    n = 0
    for info in store.sessions():
        room, sid = info["room_id"], info["session_id"]
        tl = store.load(room, sid).timeline(step="1min").to_pandas()
        mine = got.filter(pc.equal(got["session"], sid)).to_pandas()
        assert set(mine["room"]) == {room}
        wide = mine.pivot(index="time", columns="column", values="value")
        assert sorted(wide.columns) == sorted(tl.columns)
        wide = wide[tl.columns]
        assert list(wide.index.tz_convert("UTC")) == list(tl.index.tz_convert("UTC"))
        a, b = wide.to_numpy(dtype=float), tl.to_numpy(dtype=float)
        assert np.array_equal(a, b, equal_nan=True)
        n += a.size
    assert got.num_rows == n > 0


def test_moments_equal_the_single_machine_moments(spark, store):
    got = _collect(vs.moments(vs.sessions(spark, store.root), store.root, threshold=3.0))
    total = 0
    for info in store.sessions():
        ms = store.load(info["room_id"], info["session_id"]).moments(threshold=3.0)
        rows = [r for r in got.to_pylist() if r["session"] == info["session_id"]]
        # one task per session: the session's moments keep their ranked order
        assert [
            (r["metric"], r["start"].timestamp() * 1000, r["kind"], r["driver"]) for r in rows
        ] == [(m.metric, m.start_ms, m.kind, m.driver) for m in ms]
        assert [r["magnitude"] for r in rows] == [m.magnitude for m in ms]
        assert [[v["metric"] for v in r["moved"]] for r in rows] == [
            [v.metric for v in m.moved] for m in ms
        ]
        total += len(ms)
    assert total > 0


def test_attribution_totals_per_session_and_with_a_room_model(spark, store):
    sessions = vs.sessions(spark, store.root)
    got = _collect(vs.attribution_totals(sessions, store.root, bootstrap=20, folds=3)).to_pylist()
    for info in store.sessions():
        s = store.load(info["room_id"], info["session_id"])
        want = s.attribute(bootstrap=20, folds=3).decomposition.totals()
        rows = [r for r in got if r["session"] == info["session_id"]]
        assert [(r["part"], r["value"], r["low"], r["high"]) for r in rows] == [
            (p.name, p.value, p.low, p.high) for p in want
        ]
    room = store.rooms()[0]["id"]
    model = store.fit_room_model(room, bootstrap=20).model
    got = _collect(vs.attribution_totals(sessions, store.root, model=model)).to_pylist()
    for info in store.sessions(room):
        s = store.load(room, info["session_id"])
        want = model.apply(s.attribution_timeline()).totals()
        rows = [r for r in got if r["session"] == info["session_id"]]
        assert [(r["part"], r["value"]) for r in rows] == [(p.name, p.value) for p in want]
    with pytest.raises(TypeError, match="only apply without a model"):
        vs.attribution_totals(sessions, store.root, model=model, bootstrap=5)


def test_replay_tables_equal_the_single_machine_replays(spark, store):
    sessions = vs.sessions(spark, store.root)
    got = _collect(vs.replay_table(sessions, store.root, "products", top=3))
    for info in store.sessions():
        want = store.replay(info["room_id"], info["session_id"], top=3).table("products")
        mine = got.filter(pc.equal(got["session"], info["session_id"])).drop_columns(
            ["room", "session"]
        )
        assert mine.num_rows == want.num_rows > 0
        assert mine.column_names == want.column_names
        for c in want.column_names:
            assert mine[c].to_pylist() == want[c].cast(mine.schema.field(c).type).to_pylist(), c
    with pytest.raises(ValueError, match="unknown table 'nope'"):
        vs.replay_table(sessions, store.root, "nope")


def test_bad_options_fail_on_the_driver_and_a_bad_session_names_itself(spark, store):
    sessions = vs.sessions(spark, store.root)
    with pytest.raises(vap.VapError, match="treshold"):
        vs.moments(sessions, store.root, treshold=3)
    with pytest.raises(ValueError, match="lacks"):
        vs.moments(sessions.select("room"), store.root)
    room = store.rooms()[0]["id"]
    ghost = spark.createDataFrame([(room, "no-such-session")], "room string, session string")
    with pytest.raises(Exception, match="no-such-session"):
        vs.moments(ghost, store.root).collect()


def test_a_room_model_fitted_across_the_cluster_equals_the_single_machine_fit(spark, store):
    room = store.rooms()[0]["id"]
    sessions = vs.sessions(spark, store.root, room=room)
    fit = vs.fit_room_model(sessions, store.root, form="exposure", bootstrap=20, name="spark")
    # the same statistics reach the same fit on one machine, exactly
    local = store.fit_room_model_by_sessions(room, form="exposure", bootstrap=20)
    assert fit.model.to_json() == local.model.to_json()
    # and the stacked room's fit, to rounding
    stacked = store.fit_room_model(room, form="exposure", bootstrap=20)
    assert [c.name for c in fit.coefficients] == [c.name for c in stacked.coefficients]
    np.testing.assert_allclose(
        [c.value for c in fit.coefficients],
        [c.value for c in stacked.coefficients],
        rtol=1e-7,
        atol=1e-9 * max(abs(c.value) for c in stacked.coefficients),
    )
    assert fit.penalty == stacked.penalty
    # saved from the driver, under its name
    assert store.room_model(room, "spark").to_json() == fit.model.to_json()
    with pytest.raises(ValueError, match="one room"):
        vs.fit_room_model(sessions.filter("false"), store.root)


def test_nested_fields_take_the_types_spark_reads():
    from vap.spark import _spark_types

    inner = pa.struct([pa.field("at", pa.timestamp("ms")), pa.field("n", pa.uint8())])
    schema = pa.schema(
        [
            pa.field("xs", pa.list_(inner)),
            pa.field("tag", pa.dictionary(pa.int8(), pa.string())),
            pa.field("when", pa.timestamp("ms", tz="Asia/Shanghai")),
        ]
    )
    got = pa.schema(_spark_types(schema))
    want_inner = pa.struct(
        [pa.field("at", pa.timestamp("us", tz="UTC")), pa.field("n", pa.int64())]
    )
    assert got.field("xs").type == pa.list_(want_inner)
    assert got.field("tag").type == pa.string()
    assert got.field("when").type == pa.timestamp("us", tz="Asia/Shanghai")
