"""vap: embeddable analytics for live-stream e-commerce review (复盘).

The engine is Rust (``vap-core``); this package converts and delegates. Tables
cross the boundary as Arrow: anything with ``__arrow_c_stream__`` (pandas,
polars, pyarrow) goes in, and tables come back as ``pyarrow.Table`` with
``to_pandas()`` / ``to_polars()`` helpers.

>>> import vap
>>> room = vap.simulate(seed=7, hours=0.5)
>>> store = vap.Store("demo-store")            # doctest: +SKIP
>>> store.import_session(room.data)            # doctest: +SKIP
>>> room.data.summary()["gmv"]["gross"] > 0
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa

from . import _boundary, _display, _media, _options, _progress, _vap
from ._align import (
    ClockOffset,
    Duration,
    Instant,
    Timeline,
    align_options,
    builtin_lexicon,
    estimate_offset,
    fold,
    lexicon_count,
    merge_asof,
    to_instant_ms,
)
from ._attribute import (
    Attribution,
    Coefficient,
    Confounded,
    Decomposition,
    Diagnostics,
    Factor,
    GroupTotals,
    Interval,
    MomentAds,
    MomentAttribution,
    PaidTraffic,
    Part,
    RoomFit,
    RoomModel,
    RoomPlan,
    SpendResponse,
    attribute,
    attribute_options,
    default_factors,
)
from ._detect import (
    Event,
    Moment,
    Moments,
    Moved,
    Segmentation,
    binseg,
    detect_options,
    dynp,
    pelt,
)
from ._live import (
    Alert,
    AlertFactor,
    CaptureFollower,
    LiveSession,
    LiveUpdate,
    live_feed,
    replay_live,
)
from ._media import (
    AudioStream,
    Clip,
    Located,
    Progress,
    Recording,
    RecordingInfo,
    Still,
    StreamInfo,
    Transcript,
    TranscriptStats,
    Utterance,
    VideoIndex,
    audio_chunks,
    clip,
    decode_audio,
    probe,
    set_whisper_log,
    still_frame,
    transcribe,
)
from ._options import OPTION_SETS, option_defaults
from ._options import resolve as resolve_options
from ._plan import (
    AnchorCategory,
    Deviation,
    Evidence,
    FlashTiming,
    PlanEffect,
    PlanReview,
    Playbook,
    ProductHistory,
    ProductPhrase,
    Recommendation,
    RunSheet,
    playbook,
    playbook_of,
    read_run_sheet,
    review_of,
)
from ._replay import (
    REPLAY_TABLES,
    ROLES,
    AdsSummary,
    AnchorReplay,
    ClipEntry,
    Estimate,
    Figure,
    MomentReplay,
    ProductReplay,
    Quality,
    QualityNote,
    Replay,
    question_kind,
)
from ._vap import (
    AUDIO_SAMPLE_RATE,
    ERROR_CODES,
    TABLE_NAMES,
    AlreadyExistsError,
    CancelledError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    ValidationError,
    VapError,
    VapIOError,
    VersionError,
    num_threads,
    replay_tables,
    set_num_threads,
    table_names,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

__version__: str = _vap.__version__

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "Alert",
    "AlertFactor",
    "CaptureFollower",
    "LiveSession",
    "LiveUpdate",
    "live_feed",
    "replay_live",
    "AnchorCategory",
    "Evidence",
    "FlashTiming",
    "Playbook",
    "ProductHistory",
    "ProductPhrase",
    "Recommendation",
    "playbook",
    "Deviation",
    "PlanEffect",
    "PlanReview",
    "RunSheet",
    "read_run_sheet",
    "REPLAY_TABLES",
    "ROLES",
    "AnchorReplay",
    "Estimate",
    "Figure",
    "MomentReplay",
    "ProductReplay",
    "Quality",
    "QualityNote",
    "Replay",
    "ClipEntry",
    "question_kind",
    "replay_tables",
    "OPTION_SETS",
    "option_defaults",
    "resolve_options",
    "align_options",
    "detect_options",
    "Duration",
    "AlreadyExistsError",
    "Attribution",
    "AdsSummary",
    "Interval",
    "MomentAds",
    "PaidTraffic",
    "SpendResponse",
    "Coefficient",
    "Decomposition",
    "Confounded",
    "Diagnostics",
    "Factor",
    "GroupTotals",
    "MomentAttribution",
    "Part",
    "RoomFit",
    "RoomModel",
    "RoomPlan",
    "attribute",
    "attribute_options",
    "attribution_timeline",
    "default_factors",
    "ClockOffset",
    "Event",
    "Moment",
    "Moments",
    "Moved",
    "Segmentation",
    "binseg",
    "dynp",
    "pelt",
    "Timeline",
    "builtin_lexicon",
    "estimate_offset",
    "fold",
    "lexicon_count",
    "merge_asof",
    "room_timeline",
    "AUDIO_SAMPLE_RATE",
    "ERROR_CODES",
    "TABLE_NAMES",
    "AudioStream",
    "Located",
    "Progress",
    "Recording",
    "RecordingInfo",
    "Still",
    "StreamInfo",
    "Transcript",
    "TranscriptStats",
    "Utterance",
    "VideoIndex",
    "audio_chunks",
    "decode_audio",
    "probe",
    "set_whisper_log",
    "still_frame",
    "clip",
    "Clip",
    "transcribe",
    "FormatError",
    "InternalError",
    "CancelledError",
    "InvalidArgumentError",
    "NotFoundError",
    "Session",
    "SimRoom",
    "Store",
    "ValidationError",
    "VapError",
    "VapIOError",
    "VersionError",
    "detect_source_format",
    "from_tables",
    "load_dir",
    "num_threads",
    "read_capture_log",
    "read_compass",
    "read_compass_sessions",
    "read_sources",
    "read_tiktok_shop",
    "set_num_threads",
    "simulate",
    "table_names",
]


class Session:
    """A validated session: room, session metadata and its tables.

    Tables: ``anchors, shifts, products, segments, promotions, comments, orders,
    utterances, metrics`` (see ``vap.table_names()``); times are
    ``timestamp[ms, tz=UTC]``.
    """

    __slots__ = ("_inner", "load_report", "source_report")

    def __init__(
        self,
        inner: _vap.Session,
        load_report: dict[str, Any] | None = None,
        source_report: dict[str, Any] | None = None,
    ):
        self._inner = inner
        #: What loading did: files and encodings, tables sorted, cumulative
        #: metrics differenced (with counter resets), and ``warnings``: accepted
        #: but suspicious rows (a refund with no payment in the session), each a
        #: problem dict naming file, row and field. ``None`` when not loaded.
        self.load_report = load_report
        #: What importing platform exports did (``vap.read_sources`` and the
        #: ``read_*`` importers): ``files`` with their formats, ``fields``
        #: (each source field ``mapped``, ``kept`` as a fact or ``ignored``,
        #: with its target and why), ``dropped`` rows with reasons,
        #: ``duplicates``, capture ``gaps``, ``checks`` of the platform's
        #: totals against the rows, ``notes``. ``None`` otherwise.
        self.source_report = source_report

    @property
    def room(self) -> dict[str, Any]:
        """The room: ``{"id", "name", "platform"}``."""
        return json.loads(self._inner.room_json())

    @property
    def session(self) -> dict[str, Any]:
        """The session: id, room_id, start_ms, end_ms, timezone, title, recordings."""
        return json.loads(self._inner.session_json())

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """Declared metric series (after loading: flow or gauge)."""
        return json.loads(self._inner.metrics_json())

    def table(self, name: str) -> pa.Table:
        """One table as a ``pyarrow.Table``."""
        return pa.table(self._inner.table(name))

    def to_pandas(self, name: str) -> pandas.DataFrame:
        """One table as a pandas DataFrame (times as ``datetime64[ms, UTC]``)."""
        return self.table(name).to_pandas()

    def to_polars(self, name: str) -> polars.DataFrame:
        """One table as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.table(name))  # type: ignore[return-value]

    def timeline(self, step: Any = None, **options: Any) -> Timeline:
        """Aligns every stream of the session on one grid of ``step`` (ms, a
        ``timedelta`` or ``"1s"``, ``"10s"``, ``"1min"``).

        Options: ``start``, ``end`` (a custom range), ``flow`` (``"spread"``: a
        flow sample's amount spread over the span since the previous sample,
        default; ``"point"``: counted at its timestamp), ``gauge_max_staleness``,
        ``per_product``, ``lexicon`` (``{group: [phrases]}``; default
        ``vap.builtin_lexicon()``), ``product_phrases``. Defaults:
        ``vap.option_defaults("timeline")``.
        """
        return Timeline(self._inner.timeline(_options.dumps(options, step=step)))

    def estimate_transcript_offset(self, **options: Any) -> ClockOffset:
        """The transcript's clock offset to the platform clock, from products
        explained on the platform vs named in the speech. Options ``max_lag``,
        ``step``, ``min_confidence``, ``null_draws``, ``seed`` (defaults:
        ``vap.option_defaults("offset")``). Never applied: call
        ``.apply(session)`` on the result."""
        out = self._inner.estimate_transcript_offset(_options.dumps(options))
        return ClockOffset(**json.loads(out))

    def moments(self, step: Any = None, **options: Any) -> Moments:
        """Moments of truth: peaks and drops of ``orders``, ``entries``, the
        online-viewer gauge, product clicks and comments (``metrics=``; GMV in
        yuan over the orders' bins) against a robust rolling baseline, each with
        its driver (traffic, conversion, both), the streams that moved, magnitude in the metric's units
        and share of the session total; ranked. Options: ``window``,
        ``threshold``, ``smooth``, ``min_duration``, ``merge_gap``, ``detrend``,
        ``shifts`` (PELT level shifts), ``penalty``, ``min_segment``,
        ``exposure_change``, ``rate_change``; defaults:
        ``vap.option_defaults("moments")``. ``.top(k)``, ``.events()``,
        ``.to_pandas()`` on the result."""
        out = json.loads(self._inner.moments_json(_options.dumps(options, step=step)))
        ms = Moments(Moment(**m) for m in out)
        ms.timezone = self.session.get("timezone")
        return ms

    def replay(self, history: Sequence[Any] | None = None, **options: Any) -> Replay:
        """The session replay (直播复盘) with its product and anchor replays:
        data quality first, headline figures (each raw, derived or model,
        missing with a reason where the data cannot support it) against the
        room's history, curves, the top moments with their causes, products,
        anchors, promotions, viewers' questions and their answers.
        ``history``: earlier sessions of the room (``Session``s, or their
        ``digest()``); ``Store.replay`` reads them from the store. Options:
        ``top``, ``context``, ``context_comments``, ``curve_step``,
        ``carryover``, ``follow``, ``min_support``, ``min_history``,
        ``list_questions``, ``backlog_window``, ``min_backlog``,
        ``backlog_share``, ``attribute``, and the nested sets ``moments``,
        ``timeline``, ``model``, ``questions``, ``quality``; defaults:
        ``vap.option_defaults("replay")``."""
        digests = [h.digest() if isinstance(h, Session) else h for h in history or []]
        native = self._inner.replay(_options.dumps(options), json.dumps(digests))
        return Replay(native)

    def digest(self, **options: Any) -> dict[str, Any]:
        """What this session contributes to a room's history (headline values,
        each product's explain minutes and GMV, each host's hours, GMV and
        views): pass it to another session's ``replay(history=...)``."""
        return json.loads(self._inner.digest_json(_options.dumps(options)))

    def questions(self, **options: Any) -> pa.Table:
        """Viewers' questions: detected in the comments (Chinese and English),
        typed, linked to a product, matched to the anchor's answer. Options
        ``answer_window``, ``focus_grace`` (``vap.option_defaults("questions")``)."""
        rows = json.loads(self._inner.questions_json(_options.dumps(options)))
        flat = [
            {
                **{k: v for k, v in q.items() if k != "answer"},
                "answer_ms": (q["answer"] or {}).get("ts_ms"),
                "latency_ms": (q["answer"] or {}).get("latency_ms"),
                "answer_text": (q["answer"] or {}).get("text"),
            }
            for q in rows
        ]
        return pa.Table.from_pylist(flat) if flat else pa.table({"ts_ms": pa.array([], pa.int64())})

    def subtitles(self, **options: Any) -> str:
        """The transcript or the comments (``stream``) as SRT or WebVTT
        (``format``) on a recording's clock (``recording``, default 0); comments
        moved by ``offset`` (the transcript's clock offset) first. Defaults:
        ``vap.option_defaults("subtitles")``."""
        return self._inner.subtitles(_options.dumps(options))

    def attribution_timeline(self, step: Any = None, **options: Any) -> Timeline:
        """The timeline attribution reads: ``timeline`` plus ``host:<anchor>``
        (host shifts only) and ``price_level`` (the listed price of what is in
        focus). Options as ``timeline``, the step 10 s by default
        (``vap.option_defaults("attribution_timeline")``)."""
        opts = _options.dumps(options, step=step)
        return Timeline(_vap.attribution_timeline([self._inner], opts))

    def attribute(
        self,
        step: Any = None,
        *,
        timeline_options: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> Attribution:
        """Fits the attribution model on this session's ``attribution_timeline``
        (``step``; ``timeline_options`` as ``timeline``). Options as
        ``vap.attribute``. Apply the transcript's clock offset first
        (``estimate_transcript_offset(...).apply(session)``): speech factors
        must be on the platform clock."""
        tl = self.attribution_timeline(**_options.merged(timeline_options, step=step))
        return attribute(tl, **options)

    @property
    def recordings(self) -> list[Recording]:
        """The recordings registered on the session, in order."""
        return _media._recordings(self.session)

    def locate(self, t: Instant) -> Located | None:
        """Where session instant ``t`` (ms since the epoch, a ``datetime`` or an
        ISO string) is in the recordings: the recording covering it (the first
        registered, when several do) and the position in it; ``None`` when no
        recording covers it."""
        out = self._inner.locate_json(to_instant_ms(t, "t"))
        return None if out is None else Located(**json.loads(out))

    def initial_prompt(self, language: str | None = None) -> str | None:
        """The prompt ``Store.transcribe`` primes Whisper with by default: the
        session's product names and aliases (``None`` without products);
        ``language`` as ``transcribe``'s."""
        return self._inner.initial_prompt(language)

    @property
    def plan(self) -> RunSheet | None:
        """The run-sheet attached to the session (``with_plan``), or ``None``."""
        p = json.loads(self._inner.session_json()).get("plan")
        return None if p is None else RunSheet(p)

    def with_plan(self, sheet: RunSheet | None) -> Session:
        """A copy with a run-sheet attached (``vap.read_run_sheet``; ``None``
        removes it). It is checked against this session now (an item ending
        before it starts is an error naming its row), kept with the session in
        directories and the store, and compared by ``replay`` and
        ``plan_vs_actual``."""
        if sheet is not None and not isinstance(sheet, RunSheet):
            raise TypeError(f"with_plan takes a vap.RunSheet or None, not {type(sheet).__name__}")
        native = self._inner.with_plan(None if sheet is None else sheet.to_json())
        return Session(native, self.load_report, self.source_report)

    def plan_vs_actual(self, **options: Any) -> PlanReview:
        """The session against its run-sheet: each planned shift, product slot
        and promotion matched with what ran (``on_plan``, ``late``,
        ``early``, ``longer``, ``shorter``, ``skipped``, ``added``), the
        planned talking points said or not, and what each deviation earned or
        cost according to the attribution model (with 95 % bootstrap
        intervals). Options ``tolerance`` (a start or length further off is a
        deviation), ``attribute`` (value the deviations), and the nested
        ``timeline`` and ``model``; defaults: ``vap.option_defaults("plan")``."""
        out, table = self._inner.plan_vs_actual(_options.dumps(options))
        review = review_of(json.loads(out), table)
        assert review is not None
        return review

    def shift_transcript(self, delta_ms: int) -> Session:
        """A copy with every utterance moved by ``delta_ms``."""
        return Session(self._inner.shift_transcript(int(delta_ms)))

    def num_rows(self, name: str) -> int:
        """Number of rows of a table."""
        return self._inner.num_rows(name)

    def summary(self) -> dict[str, Any]:
        """Session summary: GMV (gross/net), entries, GPM, peak viewers, top products."""
        return json.loads(self._inner.summary_json())

    def commenters(self) -> pa.Table:
        """Viewers who commented: id (possibly pseudonymised), comment count,
        time of the first comment (ms), sorted by id."""
        rows = json.loads(self._inner.commenters_json())
        return pa.Table.from_pylist(
            rows,
            schema=pa.schema(
                [("id", pa.string()), ("comments", pa.uint64()), ("first_ms", pa.int64())]
            ),
        )

    def gmv(self) -> dict[str, float]:
        """GMV from orders: gross (paid), refunds, net."""
        return json.loads(self._inner.gmv_json())

    def to_dict(self) -> dict[str, Any]:
        """The whole session as plain Python objects (times in ms)."""
        return json.loads(self._inner.to_json())

    def write_dir(
        self, path: PathLike, format: str | None = None, encoding: str | None = None
    ) -> None:
        """Writes a session directory (manifest + one file per table).

        ``format``: ``"csv"`` (the default), ``"jsonl"`` or ``"parquet"``;
        ``encoding``: ``"utf-8"`` (the default) or ``"gb18030"`` (CSV / JSON
        Lines). The defaults are the core's (``Format::default``,
        ``Encoding::default``).
        """
        self._inner.write_dir(os.fspath(path), format, encoding)

    def __repr__(self) -> str:
        s = self.session
        return f"<vap.Session {s['room_id']}/{s['id']} orders={self.num_rows('orders')}>"

    def _repr_html_(self) -> str:
        """The session in Jupyter: its span in its own time zone, GMV and row counts."""
        s, tz = self.session, self.session.get("timezone")
        gmv = self.gmv()
        rows: list[tuple[str, Any]] = [
            ("title", s.get("title") or "—"),
            ("start", _display.local(s["start_ms"], tz)),
            ("end", _display.local(s["end_ms"], tz)),
            ("length", _display.duration(s["end_ms"] - s["start_ms"])),
            ("GMV gross / net", f"{_display.number(gmv['gross'])} / {_display.number(gmv['net'])}"),
        ]
        rows += [(f"{n} rows", _display.number(self.num_rows(n))) for n in table_names()]
        return _display.table(f"vap.Session {s['room_id']}/{s['id']}", ["", ""], rows)


@dataclass(frozen=True)
class SimRoom:
    """A synthetic room: the session and its ground truth (see ``vap.simulate``)."""

    data: Session
    truth: dict[str, Any]


def simulate(seed: int | None = None, hours: float | None = None, **config: Any) -> SimRoom:
    """Generates a seeded synthetic room with its ground truth.

    Keyword options (``vap_core::sim::SimConfig``): ``seed, hours, start_ms,
    anchors, products, entries_per_second, mean_stay_s, comment_rate,
    base_conversion, clock_offset_ms, room_id, session_id, ad_spend_per_hour,
    entries_per_yuan, ad_half_life_s`` (ads off by default; with spend, the
    room records ``ad_spend`` per minute and ``truth["ads"]`` holds the paid
    entries and the paid viewers' GMV; defaults:
    ``vap.option_defaults("simulate")``). The same arguments give the same room
    on any number of threads.
    """
    inner, truth = _vap.simulate(_options.dumps(config, seed=seed, hours=hours))
    return SimRoom(Session(inner), json.loads(truth))


def load_dir(path: PathLike, **options: Any) -> Session:
    """Loads and validates a session directory (CSV, JSON Lines or Parquet tables).

    Options ``pseudonymize_key`` (str or bytes), ``outside_tolerance`` (also
    ``outside_tolerance_ms``; defaults: ``vap.option_defaults("load")``).
    Raises ``vap.ValidationError`` listing every problem (``.problems``).
    """
    inner, report = _vap.load_dir(os.fspath(path), _options.dumps(options))
    return Session(inner, json.loads(report))


def read_sources(
    *files: PathLike | tuple[PathLike, str | None],
    progress: _progress.Progress = True,
    **options: Any,
) -> Session:
    """Reads one session from platform exports and capture logs, as they are.

    Each file is a path (its format detected from the content:
    ``vap.detect_source_format``) or ``(path, format)`` with a format name:
    ``compass_sessions`` (the Compass session list, XLSX or CSV),
    ``compass_trend`` (the live dashboard's per-minute trend),
    ``compass_orders`` (its ``live_order_stream``), ``compass_traffic``
    (traffic sources), ``douyin_capture`` / ``tiktok_capture`` (JSON Lines
    of the capture tools), ``tiktok_shop_session`` / ``tiktok_shop_minutes``.
    The files are merged on one clock; the session's platform figures land in
    ``session["facts"]`` and capture gaps in ``session["gaps"]``; what became
    of every field and row is in ``.source_report``.

    Options (``vap.option_defaults("sources")``): ``room_id``, ``room_name``,
    ``session_id``, ``timezone`` (of local times in the files), ``start`` /
    ``end`` (also ``start_ms`` / ``end_ms``), ``capture_gap``,
    ``check_tolerance``, ``max_offset`` (largest clock offset between two
    sources searched, default 2 min) and ``apply_offsets`` (move a source whose
    offset against the platform's data is determined onto the platform's
    clock; default off: ``source_report["offsets"]`` reports them). Raises ``vap.ValidationError`` naming file, row and
    field for every problem, ``vap.FormatError`` for a file vap does not read.
    ``progress``: a bar over the files once the import has run a second
    (``False``: none; a function: ``(stage, done, total)``); Ctrl-C stops it.
    """
    items: list[tuple[str, str | None]] = []
    for f in files:
        if isinstance(f, tuple):
            path, fmt = f
            items.append((os.fspath(path), fmt))
        else:
            items.append((os.fspath(f), None))
    with _progress.reporter(progress, "read_sources") as cb:
        inner, report = _vap.read_sources(items, _options.dumps(options), cb)
    return Session(inner, None, json.loads(report))


def read_compass(
    trend: PathLike | None = None,
    orders: PathLike | None = None,
    sessions: PathLike | None = None,
    traffic: PathLike | None = None,
    **options: Any,
) -> Session:
    """One session from Douyin E-commerce Compass (抖音电商罗盘) exports: the
    live dashboard's per-minute ``trend`` JSON, its ``orders`` stream, the
    ``sessions`` list (XLSX or CSV; the row matching the session becomes its
    facts) and the ``traffic`` sources. Options as ``vap.read_sources``."""
    roles = {"trend": trend, "orders": orders, "sessions": sessions, "traffic": traffic}
    return _read_family("compass", roles, options)


def _read_family(family: str, roles: Mapping[str, Any], options: Mapping[str, Any]) -> Session:
    files = [(role, os.fspath(p)) for role, p in roles.items() if p is not None]
    inner, report = _vap.read_family(family, files, _options.dumps(options))
    return Session(inner, None, json.loads(report))


def read_capture_log(path: PathLike, **options: Any) -> Session:
    """One session from a live capture log (JSON Lines of a Douyin capture
    tool or of TikTokLive, detected; any other file is a ``vap.FormatError``).
    Options as ``vap.read_sources``."""
    inner, report = _vap.read_capture_log(os.fspath(path), _options.dumps(options))
    return Session(inner, None, json.loads(report))


def read_tiktok_shop(
    minutes: PathLike | None = None, session: PathLike | None = None, **options: Any
) -> Session:
    """One session from TikTok Shop LIVE analytics: the per-``minutes``
    performance (either shape) and the per-``session`` performance (facts).
    Options as ``vap.read_sources``."""
    return _read_family("tiktok_shop", {"minutes": minutes, "session": session}, options)


def read_compass_sessions(
    path: PathLike, **options: Any
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A Compass session list (XLSX or CSV, GB18030 or UTF-8): one dict per
    session (``row, label, start_ms, end_ms, facts``; known columns under
    vap's names such as ``gmv`` and ``viewers``, rates as ratios, unknown
    ones under their header) and the source report. Options as
    ``vap.read_sources`` (``timezone`` reads the local times)."""
    rows, report = _vap.read_compass_sessions(os.fspath(path), _options.dumps(options))
    return json.loads(rows), json.loads(report)


def detect_source_format(path: PathLike) -> str:
    """The format name of a platform export or capture log (see
    ``vap.read_sources``), detected from its content."""
    return _vap.detect_source_format(os.fspath(path))


def from_tables(manifest: Mapping[str, Any], tables: Mapping[str, Any], **options: Any) -> Session:
    """Builds a session from in-memory tables.

    ``manifest`` has the session directory manifest's shape (``room``, ``session``,
    ``metrics``); ``tables`` maps table names to pandas / polars DataFrames or
    pyarrow tables (anything with ``__arrow_c_stream__``); ``vap_format``
    defaults to this version. Options as ``load_dir``.
    """
    items = [(name, _arrow(t)) for name, t in tables.items()]
    inner, report = _vap.from_tables(
        json.dumps(_options.jsonable(manifest)), items, _options.dumps(options)
    )
    return Session(inner, json.loads(report))


def _arrow(obj: Any) -> Any:
    if hasattr(obj, "__arrow_c_stream__"):
        return obj
    if isinstance(obj, (list, dict)):
        return pa.Table.from_pylist(obj) if isinstance(obj, list) else pa.table(obj)
    raise InvalidArgumentError(
        f"expected a DataFrame or Arrow table (with __arrow_c_stream__), got {type(obj).__name__}"
    )


class Store:
    """The embedded store: rooms and sessions as Parquet files under one directory.

    ``polars.scan_parquet(f"{root}/rooms/*/sessions/*/orders.parquet")`` reads every
    order in the store; each file carries ``room_id`` and ``session_id`` columns.
    """

    __slots__ = ("_inner",)

    def __init__(self, path: PathLike):
        self._inner = _vap.Store(os.fspath(path))

    @classmethod
    def open_read_only(cls, path: PathLike) -> Store:
        """Opens an existing store for reading only: no lock file is created and
        nothing is recovered; writers raise ``vap.VapIOError``. A store on a
        read-only mount or without write permission opens this way by itself."""
        store = cls.__new__(cls)
        store._inner = _vap.Store.open_read_only(os.fspath(path))
        return store

    @property
    def root(self) -> str:
        """The store's directory."""
        return os.fspath(self._inner.root)

    @property
    def read_only(self) -> bool:
        """Whether this handle can only read (a read-only mount, no write
        permission, or ``Store.open_read_only``)."""
        return self._inner.read_only

    @property
    def recovered(self) -> list[str]:
        """What opening the store recovered from interrupted changes, one line
        each (a rolled-back replace, a torn journal, temporary files removed);
        empty when there was nothing to do."""
        return list(self._inner.recovered)

    def check(self) -> dict[str, Any]:
        """Reads every file of the store whole and reports each damaged one,
        without stopping at the first: ``{"files", "sessions", "damaged": [{"path",
        "room_id", "session_id", "problem"}]}``. Changes nothing."""
        return json.loads(self._inner.check_json())

    def rooms(self) -> list[dict[str, Any]]:
        """Rooms, sorted by id."""
        return json.loads(self._inner.rooms_json())

    def sessions(self, room: str | None = None) -> list[dict[str, Any]]:
        """Sessions (of one room, or all), with row counts and derived tables.
        A damaged session is listed with what is wrong in ``damage`` (empty for a
        sound one); one bad file never hides the others."""
        return json.loads(self._inner.sessions_json(room))

    def manifest(self, room: str, session: str) -> dict[str, Any]:
        """The stored manifest of a session."""
        return json.loads(self._inner.manifest_json(room, session))

    def import_session(self, session: Session, **options: Any) -> None:
        """Imports a session atomically; an existing one is replaced only with
        ``replace=True``; ``copy_recordings=True`` copies recordings into the
        store (defaults: ``vap.option_defaults("import")``)."""
        self._inner.import_session(session._inner, _options.dumps(options))

    def import_dir(self, path: PathLike, **options: Any) -> Session:
        """Loads a session directory and imports it; returns the session.
        Options: those of ``import_session`` and of ``vap.load_dir``."""
        inner = self._inner.import_dir(os.fspath(path), _options.dumps(options))
        return Session(inner)

    def import_tables(
        self, manifest: Mapping[str, Any], tables: Mapping[str, Any], **options: Any
    ) -> Session:
        """Builds a session from DataFrames (see ``vap.from_tables``) and imports
        it. Options as ``import_dir``."""
        items = [(name, _arrow(t)) for name, t in tables.items()]
        manifest_json = json.dumps(_options.jsonable(manifest))
        return Session(self._inner.import_tables(manifest_json, items, _options.dumps(options)))

    def load(self, room: str, session: str) -> Session:
        """Loads a stored session."""
        return Session(self._inner.load(room, session))

    def room_timeline(self, room: str, step: Any = None, **options: Any) -> Timeline:
        """The room view: every stored session of ``room`` aligned (in parallel)
        and stacked with a session key. Options as ``Session.timeline``."""
        return Timeline(self._inner.room_timeline(room, _options.dumps(options, step=step)))

    def attribution_timeline(
        self, room: str, step: Any = None, *, progress: _progress.Progress = True, **options: Any
    ) -> Timeline:
        """Every stored session of ``room`` as attribution timelines, stacked
        (the single-room model's input). Options as
        ``Session.attribution_timeline``; ``progress`` as ``fit_room_model``."""
        opts = _options.dumps(options, step=step)
        with _progress.reporter(progress, room) as cb:
            return Timeline(_vap.store_attribution_timeline(self._inner, room, opts, cb))

    def fit_room_model(
        self,
        room: str,
        step: Any = None,
        *,
        timeline_options: Mapping[str, Any] | None = None,
        progress: _progress.Progress = True,
        **options: Any,
    ) -> Attribution:
        """Fits the single-room model over every stored session of ``room``
        (session fixed effects) and, with ``name=``, saves it in the store.
        ``step`` and ``timeline_options`` as ``Session.attribution_timeline``;
        other options as ``vap.attribute``. ``progress``: a bar per stage
        (sessions read, bootstrap replicates) once the fit has run a second
        (``False``: none; a function: called ``(stage, done, total)``);
        Ctrl-C stops the fit cleanly (``KeyboardInterrupt``): a model is saved
        only by a fit that finished, and a Ctrl-C that comes after it finished
        still raises."""
        timeline = _options.merged(timeline_options, step=step)
        request = _options.dumps(options, timeline=timeline)
        with _progress.reporter(progress, room) as cb:
            return Attribution(_vap.fit_room_model(self._inner, room, request, cb))

    def fit_room_model_by_sessions(
        self,
        room: str,
        step: Any = None,
        *,
        timeline_options: Mapping[str, Any] | None = None,
        progress: _progress.Progress = True,
        **options: Any,
    ) -> RoomFit:
        """Fits the room's model from per-session statistics (``RoomPlan``):
        two passes over the stored sessions, one at a time, so that the
        room's stacked timeline is never built. Arguments as
        ``fit_room_model`` (``name=`` saves the model); the same model for the
        exposure and linear forms; ``form="auto"`` is fitted as the exposure
        form and the log link is refused."""
        timeline = _options.merged(timeline_options, step=step)
        request = _options.dumps(options, timeline=timeline)
        with _progress.reporter(progress, room) as cb:
            return RoomFit(_vap.fit_room_model_by_sessions(self._inner, room, request, cb))

    def replay(self, room: str, session: str, **options: Any) -> Replay:
        """The replay of a stored session against the room's earlier stored
        sessions (read one at a time). Options as ``Session.replay``."""
        return Replay(self._inner.replay(room, session, _options.dumps(options)))

    def playbook(
        self, room: str, *, progress: _progress.Progress = True, **options: Any
    ) -> Playbook:
        """The room's playbook from its stored sessions, read one at a time
        (options as ``vap.playbook``; ``progress`` as ``fit_room_model``)."""
        with _progress.reporter(progress, room) as cb:
            return playbook_of(
                json.loads(self._inner.playbook_json(room, _options.dumps(options), cb))
            )

    def room_replay(
        self, room: str, *, progress: _progress.Progress = True, **options: Any
    ) -> dict[str, Any]:
        """Products and anchors across a room's stored sessions: per session
        digests, each product's explain minutes and GMV, each anchor's hours,
        GMV per hour, GPM and effect from the room model (session fixed
        effects). Options as ``Session.replay``; ``progress`` as
        ``fit_room_model``."""
        with _progress.reporter(progress, room) as cb:
            return json.loads(self._inner.room_replay_json(room, _options.dumps(options), cb))

    def room_html(
        self, room: str, *, replay: Mapping[str, Any] | None = None, **options: Any
    ) -> str:
        """The room's report (every stored session against the room's median,
        products and anchors across sessions with the room model's anchor
        effects, and the room's playbook where it has enough sessions) as one
        self-contained HTML page. ``replay``: options of ``room_replay``;
        ``options``: the report's (``lang``, ``fragment``, ``playbook``;
        ``vap.option_defaults("report")``)."""
        return self._inner.room_html(
            room, None, _options.dumps(dict(replay or {})), _options.dumps(options)
        )

    def write_room_html(
        self, room: str, path: PathLike, *, replay: Mapping[str, Any] | None = None, **options: Any
    ) -> str:
        """Writes ``room_html`` to ``path`` (whole or not at all); returns the path."""
        self._inner.room_html(
            room, os.fspath(path), _options.dumps(dict(replay or {})), _options.dumps(options)
        )
        return os.fspath(path)

    def room_model(self, room: str, name: str) -> RoomModel:
        """A model saved with ``fit_room_model(..., name=)`` or ``RoomModel.save``."""
        return RoomModel.load(self, room, name)

    # ---- recordings
    def register_recording(
        self, room: str, session: str, path: PathLike, offset_ms: Instant | None = None
    ) -> Recording:
        """Registers a recording on a stored session: probes it (it must hold
        audio or video), records its absolute path, size, sha256, duration and
        ``offset_ms`` to the session clock (``session time = offset_ms +
        position``; ``None``: the session's start), atomically. The same file
        (by sha256) cannot be registered twice (``vap.AlreadyExistsError``).

        When the offset is not known, register at the session's start,
        ``transcribe``, then ``estimate_recording_offset`` and
        ``set_recording_offset``."""
        offset = None if offset_ms is None else to_instant_ms(offset_ms, "offset_ms")
        out = self._inner.register_recording(room, session, os.fspath(path), offset)
        return Recording(**json.loads(out))

    def transcribe(
        self,
        room: str,
        session: str,
        model: PathLike,
        *,
        progress: _media.ProgressArg = True,
        **options: Any,
    ) -> Transcript:
        """Transcribes every recording of a stored session and replaces its
        utterances with the result, atomically. Speakers are the anchors on
        shift; the prompt defaults to the session's products
        (``Session.initial_prompt``).

        Every chunk is checkpointed in the store as soon as it is done: after
        a crash, a kill or a stop (an exception from ``progress``, Ctrl-C), the
        same call continues with the chunks left (``stats.chunks_resumed``);
        ``resume=False`` starts over. Other arguments as ``vap.transcribe``."""
        opts = _media.transcribe_options(**options)
        with _media.progress_callback(progress, f"{room}/{session}") as cb:
            out = self._inner.transcribe(room, session, os.fspath(model), opts, cb)
        return Transcript._from_json(out)

    def estimate_recording_offset(
        self,
        room: str,
        session: str,
        index: int = 0,
        **options: Any,
    ) -> ClockOffset:
        """How far the transcript of recording ``index`` runs ahead of the
        platform clock, from products explained on the platform vs named in
        the utterances within the recording's span (as
        ``Session.estimate_transcript_offset``). Never applied: the corrected
        offset is ``recording.offset_ms - estimate.offset_ms``; set it with
        ``set_recording_offset``. A short session needs a smaller ``max_lag``
        and ``step`` (the defaults, ``vap.option_defaults("offset")``, need
        about 280 s of data)."""
        opts = _options.dumps(options)
        out = self._inner.estimate_recording_offset(room, session, int(index), opts)
        return ClockOffset(**json.loads(out))

    def set_recording_offset(
        self, room: str, session: str, index: int, offset_ms: Instant
    ) -> Session:
        """Sets the offset of recording ``index`` and moves the utterances
        transcribed from it by the same amount, in one atomic replacement;
        returns the session as stored."""
        inner = self._inner.set_recording_offset(
            room, session, int(index), to_instant_ms(offset_ms, "offset_ms")
        )
        return Session(inner)

    def still(self, room: str, session: str, t: Instant, max_width: int | None = None) -> Still:
        """The video frame shown at session instant ``t``, from the recording
        that covers it (``vap_core::media::still_at``: ``Session.locate``, the
        recording's file, then ``vap.still_frame``); ``vap.NotFoundError``
        when no recording covers ``t``."""
        return Still(self._inner.still(room, session, to_instant_ms(t, "t"), max_width))

    def models(self, room: str) -> list[str]:
        """Names of the models saved for ``room``."""
        return self._inner.models(room)

    def contains(self, room: str, session: str) -> bool:
        """Whether the session is in the store."""
        return self._inner.contains(room, session)

    def delete(self, room: str, session: str) -> None:
        """Deletes a session."""
        self._inner.delete(room, session)

    def read_table(self, room: str, session: str, name: str) -> pa.Table:
        """One table (core or derived) exactly as stored, as a ``pyarrow.Table``."""
        return pa.table(self._inner.read_table(room, session, name))

    def replace_table(self, room: str, session: str, name: str, table: Any) -> None:
        """Atomically replaces (or adds) one table of a stored session.

        Core tables are validated against the rest of the session; other names are
        derived tables stored as given.
        """
        self._inner.replace_table(room, session, name, _arrow(table))

    def __repr__(self) -> str:
        return f"<vap.Store {self.root!r}>"


def room_timeline(sessions: list[Session], step: Any = None, **options: Any) -> Timeline:
    """The room view of several sessions of one room: aligned in parallel and
    stacked with a session key. A column one session lacks is 0 there for
    counts, sums, intervals and phrase matches, and missing for metrics and
    rates. Options as ``Session.timeline``."""
    opts = _options.dumps(options, step=step)
    return Timeline(_vap.room_timeline([s._inner for s in sessions], opts))


def _panic_for_tests(message: str) -> None:
    """Panics inside Rust; the panic arrives as ``vap.InternalError``."""
    _vap._panic_for_tests(message)


def attribution_timeline(sessions: Sequence[Session], step: Any = None, **options: Any) -> Timeline:
    """Several sessions of one room as attribution timelines, stacked with a
    session key (the single-room model's input). Options as
    ``Session.attribution_timeline``."""
    opts = _options.dumps(options, step=step)
    return Timeline(_vap.attribution_timeline([s._inner for s in sessions], opts))


# Argument conversion errors (TypeError, OverflowError, pyarrow's ArrowInvalid)
# from every public function and method arrive as InvalidArgumentError.
_boundary.guard_namespace(globals(), __all__)
