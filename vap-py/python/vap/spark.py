"""vap on Spark: one task per session, results as Spark DataFrames.

Sessions are independent, so a room's (or a brand's) history spreads over a
cluster by session: ``groupBy("room", "session").applyInArrow`` runs vap on
the executors, one group per stored session, and each group's result comes
back as Arrow. vap must be installed on the executors (``pip install`` there,
or the wheel shipped with ``spark-submit --archives``; see the README), and
the store's directory must be readable from them (a shared file system).

    from pyspark.sql import SparkSession
    import vap.spark as vs

    spark = SparkSession.builder.getOrCreate()
    sessions = vs.sessions(spark, "/data/vap-store", room="r1")
    vs.moments(sessions, "/data/vap-store", step="10s").show()
    vs.timelines(sessions, "/data/vap-store", step="1min")   # long: one row per bin and column
    vs.attribution_totals(sessions, "/data/vap-store")       # a model per session, or model=...
    vs.replay_table(sessions, "/data/vap-store", "products")
    fit = vs.fit_room_model(sessions, "/data/vap-store", name="m1")  # one room's model

``fit_room_model`` fits a room's model across the cluster: each session's
summary and then its statistics (its rows of the room's design, summed per
quarter block) are computed on the executors; only those reach the driver,
which searches the carryovers, cross-validates the penalty and bootstraps
from sums (``vap.RoomPlan``), so the room's history is never on one machine.

Every function checks its options on the driver (a bad option raises before
a job starts) and returns a lazy DataFrame with ``room`` and ``session`` in
front; a session whose computation fails fails the job with vap's error,
naming the session. Results equal the single-machine calls row for row
(tested in local mode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa

from . import _options

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

    from ._attribute import RoomFit, RoomModel

__all__ = [
    "sessions",
    "timelines",
    "moments",
    "attribution_totals",
    "replay_table",
    "fit_room_model",
]

_KEY = [pa.field("room", pa.string()), pa.field("session", pa.string())]

TIMELINE_SCHEMA = pa.schema(
    [
        *_KEY,
        pa.field("time", pa.timestamp("us", tz="UTC")),
        pa.field("column", pa.string()),
        pa.field("value", pa.float64()),
    ]
)
MOMENT_SCHEMA = pa.schema(
    [
        *_KEY,
        pa.field("metric", pa.string()),
        pa.field("start", pa.timestamp("us", tz="UTC")),
        pa.field("end", pa.timestamp("us", tz="UTC")),
        pa.field("kind", pa.string()),
        pa.field("driver", pa.string()),
        pa.field("magnitude", pa.float64()),
        pa.field("score", pa.float64()),
        pa.field("share", pa.float64()),
        pa.field("video_ms", pa.int64()),
        pa.field(
            "moved",
            pa.list_(
                pa.struct(
                    [
                        pa.field("metric", pa.string()),
                        pa.field("change", pa.float64()),
                        pa.field("score", pa.float64()),
                    ]
                )
            ),
        ),
    ]
)
TOTALS_SCHEMA = pa.schema(
    [
        *_KEY,
        pa.field("part", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("low", pa.float64()),
        pa.field("high", pa.float64()),
        pa.field("share", pa.float64()),
    ]
)


def sessions(spark: SparkSession, store: str, room: str | None = None) -> DataFrame:
    """The stored sessions (of ``room``, or all) as a DataFrame: ``room``,
    ``session``, ``start``, ``end`` (UTC), one row each: the input of the
    other functions (filter it as you like first)."""
    from . import Store

    rows = Store.open_read_only(store).sessions(room)
    t = pa.table(
        {
            "room": pa.array([r["room_id"] for r in rows], pa.string()),
            "session": pa.array([r["session_id"] for r in rows], pa.string()),
            "start": pa.array([r["start_ms"] * 1000 for r in rows], pa.timestamp("us", tz="UTC")),
            "end": pa.array([r["end_ms"] * 1000 for r in rows], pa.timestamp("us", tz="UTC")),
        }
    )
    return _frame(spark, t)


def timelines(sessions: DataFrame, store: str, step: Any = None, **options: Any) -> DataFrame:
    """Each session's ``Session.timeline(step, **options)`` in long form:
    ``room``, ``session``, ``time``, ``column``, ``value`` (null where the
    timeline has no value), one row per bin and column (sessions differ in
    their columns: products, anchors)."""
    opts = _options.resolve("timeline", options, step=step)

    def one(s: Any) -> pa.Table:
        return _long(s.timeline(**opts).to_arrow())

    return _apply(sessions, store, one, TIMELINE_SCHEMA)


def moments(sessions: DataFrame, store: str, step: Any = None, **options: Any) -> DataFrame:
    """Each session's ``Session.moments(step, **options)``, in its ranked
    order: ``metric``, ``start``, ``end``, ``kind``, ``driver``,
    ``magnitude``, ``score``, ``share``, ``video_ms`` and ``moved`` (a list of
    ``{metric, change, score}``)."""
    opts = _options.resolve("moments", options, step=step)

    def one(s: Any) -> pa.Table:
        ms = s.moments(**opts)
        us = [m.start_ms * 1000 for m in ms], [m.end_ms * 1000 for m in ms]
        return pa.table(
            {
                "metric": [m.metric for m in ms],
                "start": pa.array(us[0], pa.timestamp("us", tz="UTC")),
                "end": pa.array(us[1], pa.timestamp("us", tz="UTC")),
                "kind": [m.kind for m in ms],
                "driver": [m.driver for m in ms],
                "magnitude": pa.array([m.magnitude for m in ms], pa.float64()),
                "score": pa.array([m.score for m in ms], pa.float64()),
                "share": pa.array([m.share for m in ms], pa.float64()),
                "video_ms": pa.array([m.video_ms for m in ms], pa.int64()),
                "moved": pa.array(
                    [
                        [
                            {"metric": v.metric, "change": v.change, "score": v.score}
                            for v in m.moved
                        ]
                        for m in ms
                    ],
                    MOMENT_SCHEMA.field("moved").type,
                ),
            }
        )

    return _apply(sessions, store, one, MOMENT_SCHEMA)


def attribution_totals(
    sessions: DataFrame,
    store: str,
    model: RoomModel | None = None,
    step: Any = None,
    *,
    timeline_options: dict[str, Any] | None = None,
    **options: Any,
) -> DataFrame:
    """Each session's attribution totals: ``part`` (``baseline``,
    ``traffic``, each factor, ``unexplained``), ``value``, the bootstrap
    interval ``low`` / ``high`` and ``share``. With ``model`` (a
    ``RoomModel`` fitted on the room, e.g. ``Store.fit_room_model``), the
    model is applied to every session (its step is the model's); without,
    a model is fitted per session (``Session.attribute(step,
    timeline_options=..., **options)``)."""
    tl_opts = _options.resolve("attribution_timeline", timeline_options, step=step)
    if model is not None:
        if options:
            raise TypeError(
                f"attribution_totals: options {sorted(options)} only apply without a model"
            )
        text = model.to_json()

        def one(s: Any) -> pa.Table:
            from ._attribute import RoomModel

            m = RoomModel.from_json(text)
            step_ms = m.to_dict()["step_ms"]
            return _parts(
                m.apply(s.attribution_timeline(**{**tl_opts, "step_ms": step_ms})).totals()
            )

    else:
        fit_opts = _options.resolve("attribute", options)

        def one(s: Any) -> pa.Table:
            from . import attribute

            return _parts(
                attribute(s.attribution_timeline(**tl_opts), **fit_opts).decomposition.totals()
            )

    return _apply(sessions, store, one, TOTALS_SCHEMA)


def replay_table(sessions: DataFrame, store: str, name: str, **options: Any) -> DataFrame:
    """Table ``name`` of each session's replay (``Store.replay(room, session,
    **options).table(name)``; ``vap.REPLAY_TABLES``), with ``room`` and
    ``session`` in front. Its schema is the replay's own, read from the first
    session on the driver."""
    from . import REPLAY_TABLES, Store

    if name not in REPLAY_TABLES:
        raise ValueError(
            f"replay_table: unknown table {name!r}; expected one of {', '.join(REPLAY_TABLES)}"
        )
    opts = _options.resolve("replay", options)
    first = sessions.select("room", "session").limit(1).collect()
    if not first:
        schema = pa.schema(_KEY)
    else:
        room, session = first[0]["room"], first[0]["session"]
        sample = Store.open_read_only(store).replay(room, session, **opts).table(name)
        schema = pa.schema([*_KEY, *_spark_types(sample.schema)])

    def compute(st: Any, room: str, session: str) -> pa.Table:
        return st.replay(room, session, **opts).table(name)

    return _apply(sessions, store, None, schema, compute=compute)


SUMMARY_SCHEMA = pa.schema([*_KEY, pa.field("summary", pa.string())])
GRAM_SCHEMA = pa.schema([*_KEY, pa.field("gram", pa.binary())])


def fit_room_model(
    sessions: DataFrame,
    store: str,
    step: Any = None,
    *,
    timeline_options: dict[str, Any] | None = None,
    name: str | None = None,
    **options: Any,
) -> RoomFit:
    """One room's model fitted across the cluster from per-session
    statistics (``vap.RoomPlan``): every session of ``sessions`` (one room)
    is summarised, then reduced to its statistics, on the executors; the
    driver plans and fits from them. The model ``Store.fit_room_model_by_sessions``
    gives (and, for the exposure and linear forms, ``Store.fit_room_model``);
    ``form="auto"`` is fitted as the exposure form, the log link is refused.
    ``step`` and ``timeline_options`` as ``Session.attribution_timeline``,
    other options as ``vap.attribute``; ``name`` saves the model in the
    store (from the driver). Returns a ``vap.RoomFit``; decompose the
    sessions with ``attribution_totals(sessions, store, model=fit.model)``."""
    from . import RoomPlan, Store

    tl_opts = _options.resolve("attribution_timeline", timeline_options, step=step)
    fit_opts = _options.resolve("attribute", options)
    rooms = sorted(r["room"] for r in sessions.select("room").distinct().collect())
    if len(rooms) != 1:
        raise ValueError(
            f"fit_room_model fits one room; the sessions are of {len(rooms)} rooms"
            + (f" ({', '.join(rooms)})" if rooms else "")
        )

    def summary(s: Any) -> pa.Table:
        from . import RoomPlan

        return pa.table(
            {"summary": [RoomPlan.summarise(s.attribution_timeline(**tl_opts), **fit_opts)]}
        )

    summaries = [r["summary"] for r in _apply(sessions, store, summary, SUMMARY_SCHEMA).collect()]
    plan = RoomPlan.from_summaries(summaries, **fit_opts)
    text = plan.to_json()

    def gram(s: Any) -> pa.Table:
        from . import RoomPlan

        p = RoomPlan.from_json(text)
        return pa.table(
            {"gram": pa.array([p.gram(s.attribution_timeline(**tl_opts))], pa.binary())}
        )

    grams = [bytes(r["gram"]) for r in _apply(sessions, store, gram, GRAM_SCHEMA).collect()]
    fit = plan.fit(grams, progress=False)
    if name is not None:
        fit.model.save(Store(store), name)
    return fit


# ---------------------------------------------------------------- plumbing


def _frame(spark: SparkSession, t: pa.Table) -> DataFrame:
    # Spark ≥ 4.0 (which applyInArrow needs too) takes Arrow tables as they are.
    return spark.createDataFrame(t)


def _apply(
    sessions: DataFrame, store: str, one: Any, schema: pa.Schema, compute: Any = None
) -> DataFrame:
    """``groupBy(room, session).applyInArrow``: ``one(session)`` (or
    ``compute(store, room, session)``) per group, cast to ``schema`` with the
    key in front."""
    from pyspark.sql.pandas.types import from_arrow_schema

    missing = {"room", "session"} - set(sessions.columns)
    if missing:
        raise ValueError(f"the sessions DataFrame lacks {sorted(missing)} (see vap.spark.sessions)")
    body = pa.schema([f for f in schema if f.name not in ("room", "session")])

    def per_group(keys: pa.Table) -> pa.Table:
        from . import Store

        room, session = keys.column("room")[0].as_py(), keys.column("session")[0].as_py()
        st = Store.open_read_only(store)
        try:
            out = compute(st, room, session) if compute else one(st.load(room, session))
        except Exception as e:
            msg = f"vap on session {room}/{session}: {e}"
            try:
                again = type(e)(msg)
            except Exception:  # an exception type with another constructor
                again = RuntimeError(msg)
            raise again from e
        out = out.select(body.names).cast(body)
        n = out.num_rows
        return pa.table(
            [pa.array([room] * n, pa.string()), pa.array([session] * n, pa.string()), *out.columns],
            schema=schema,
        )

    return (
        sessions.select("room", "session")
        .groupBy("room", "session")
        .applyInArrow(per_group, from_arrow_schema(schema))
    )


def _long(t: pa.Table) -> pa.Table:
    """A wide timeline (``time`` + columns) as ``time``, ``column``, ``value``."""
    import numpy as np

    cols = [c for c in t.column_names if c != "time"]
    n = t.num_rows
    time = t.column("time").cast(pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "time": pa.concat_arrays([time.combine_chunks()] * len(cols))
            if cols
            else time.slice(0, 0).combine_chunks(),
            "column": pa.array(np.repeat(np.array(cols, dtype=object), n), pa.string()),
            "value": pa.concat_arrays(
                [t.column(c).cast(pa.float64()).combine_chunks() for c in cols]
            )
            if cols
            else pa.array([], pa.float64()),
        }
    )


def _parts(parts: list[Any]) -> pa.Table:
    return pa.table(
        {
            "part": [p.name for p in parts],
            "value": pa.array([p.value for p in parts], pa.float64()),
            "low": pa.array([p.low for p in parts], pa.float64()),
            "high": pa.array([p.high for p in parts], pa.float64()),
            "share": pa.array([p.share for p in parts], pa.float64()),
        }
    )


def _spark_types(schema: pa.Schema) -> list[pa.Field]:
    """``schema``'s fields as Spark reads them: timestamps in µs (UTC), small
    integers widened, dictionaries decoded, inside lists and structs too."""
    return [pa.field(f.name, _spark_type(f.type)) for f in schema]


def _spark_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz=t.tz or "UTC")
    if pa.types.is_dictionary(t):
        return _spark_type(t.value_type)
    if pa.types.is_unsigned_integer(t) or (pa.types.is_integer(t) and t.bit_width < 32):
        return pa.int64()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_spark_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _spark_type(f.type)) for f in t])
    return t
