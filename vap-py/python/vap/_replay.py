"""The replays (``vap_core::replay``): plain dataclasses built from the core's
JSON, every table as Arrow / pandas / polars from the core's own object."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

from . import _options, _plot, _vap
from ._attribute import Interval, MomentAds
from ._attribute import Part as Estimate

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.figure
    import pandas
    import polars
    import pyarrow

REPLAY_TABLES: tuple[str, ...] = tuple(_vap.replay_tables())
"""The names of a replay's tables (``Replay.table(name)``)."""

ROLES: tuple[str, ...] = ("operator", "anchor", "field_control")
"""The roles a replay can be viewed as (``Replay.view(role)``)."""


def _build(cls: Any, data: Any) -> Any:
    """``data`` (JSON) as an instance of dataclass ``cls``, nested dataclasses
    (also in lists and optionals) built from their own hints."""
    if data is None or not dataclasses.is_dataclass(cls):
        return data
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _value(hints[f.name], data[f.name])
    return cls(**kwargs)


def _value(hint: Any, v: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if v is None:
        return None
    if origin is Union or origin is types.UnionType:
        inner = [a for a in args if a is not type(None)]
        return _value(inner[0], v) if len(inner) == 1 else v
    if origin is list and args:
        return [_value(args[0], x) for x in v]
    if dataclasses.is_dataclass(hint):
        return _build(hint, v)
    return v


@dataclass(frozen=True)
class History:
    """A figure in the room's own history: the median and top quartile of the
    stored sessions before this one (``None`` when fewer than ``min_history``)."""

    sessions: int
    median: float | None
    top_quartile: float | None
    percentile: float | None
    enough: bool


@dataclass(frozen=True)
class Figure:
    """One figure, with where it comes from (``source``: ``"raw"``,
    ``"derived"``, ``"model"``) and why it is missing (``value is None``)."""

    key: str
    label: str
    label_en: str
    unit: str
    value: float | None
    source: str
    from_: str = field(default="", metadata={"json": "from"})  # "from" in the JSON
    low: float | None = None
    high: float | None = None
    missing: str | None = None
    history: History | None = None


@dataclass(frozen=True)
class QualityNote:
    """A note on the data: a gap an importer found (a capture's reconnect), a
    silent stream, a hole, a truncated stream, the
    clock, orders outside the session, a GMV mismatch."""

    stream: str
    kind: str
    start_ms: int | None
    end_ms: int | None
    expected: float | None
    message: str


@dataclass(frozen=True)
class Quality:
    """Data quality, to read before any figure."""

    notes: list[QualityNote]
    transcript_offset_ms: float | None
    transcript_offset_status: str | None
    orders_outside: int


@dataclass(frozen=True)
class RecordingPosition:
    """Where an instant is in the session's recordings."""

    recording: int
    path: str
    position_ms: int


@dataclass(frozen=True)
class MomentReplay:
    """A top moment with its causes (``parts``, ``unexplained`` last), its
    place in the recording, and the speech and comments around it."""

    rank: int
    metric: str
    kind: str
    driver: str
    start_ms: int
    end_ms: int
    magnitude: float
    score: float
    share: float
    target: str | None
    excess: float | None
    parts: list[Estimate]
    recording: RecordingPosition | None
    product_in_focus: str | None
    promotions: list[str]
    transcript: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    comments_in_context: int
    questions_in_context: int
    data_gap: str | None
    #: The ads inside the moment where the session has ad spend.
    ads: MomentAds | None = None


@dataclass(frozen=True)
class PhraseStat:
    """How one of the anchor's phrases went with orders (``weak``: too few uses)."""

    phrase: str
    group: str
    uses: int
    orders_after: float
    lift: float | None
    low: float | None
    high: float | None
    weak: bool


@dataclass(frozen=True)
class QuestionStats:
    """Questions asked and answered; ``by_kind`` maps a kind to (asked, answered)."""

    asked: int
    answered: int
    share: float | None
    median_latency_s: float | None
    by_kind: dict[str, list[int]]


@dataclass(frozen=True)
class ExplainReplay:
    """One explain segment of a product, with its carryover."""

    start_ms: int
    end_ms: int
    minutes: float
    gmv: float
    orders: float
    clicks: float | None
    conversion: float | None
    carry_end_ms: int
    carry_gmv: float
    carry_orders: float
    gmv_per_minute: float | None


@dataclass(frozen=True)
class ProductReplay:
    """The product replay (商品复盘) of one product."""

    product_id: str
    name: str
    price: float
    segments: list[ExplainReplay]
    explain_minutes: float
    gmv: float
    orders: float
    gmv_per_explain_minute: Figure
    contribution: Estimate | None
    phrases: list[PhraseStat]
    questions: QuestionStats


@dataclass(frozen=True)
class ShiftReplay:
    """One shift of an anchor, with 单小时 GMV, GPM, UV value and the effect."""

    role: str
    start_ms: int
    end_ms: int
    hours: float
    gmv: float
    orders: float
    views: float | None
    gmv_per_hour: float | None
    gpm: float | None
    uv_value: float | None
    effect: Estimate | None


@dataclass(frozen=True)
class AnchorReplay:
    """The anchor replay (主播复盘) of one anchor; ``effect`` is the model's,
    against the reference anchor, with its interval."""

    anchor_id: str
    name: str
    shifts: list[ShiftReplay]
    host_hours: float
    gmv_per_hour: Figure
    gpm: Figure
    uv_value: Figure
    effect: Figure
    phrases: list[PhraseStat]
    questions: QuestionStats


@dataclass(frozen=True)
class PromotionReplay:
    """A promotion with what happened while it ran."""

    id: str
    kind: str
    label: str | None
    product_id: str | None
    start_ms: int
    end_ms: int
    minutes_in: float
    minutes: float
    gmv: float
    orders: float
    contribution: Estimate | None


@dataclass(frozen=True)
class Answer:
    """The anchor's answer to a question."""

    ts_ms: int
    latency_ms: int
    text: str
    speaker: str | None
    explicit: bool = False  # the utterance says it answers ("这位宝宝问")


@dataclass(frozen=True)
class Question:
    """A viewer's question: its kind, product (and how it was linked), answer."""

    ts_ms: int
    viewer_id: str
    text: str
    kind: str
    product_id: str | None
    linked_by: str | None
    answer: Answer | None


@dataclass(frozen=True)
class Backlog:
    """Unanswered questions about one product and kind piling up."""

    product_id: str | None
    kind: str
    start_ms: int
    end_ms: int
    unanswered: int
    viewers: int


@dataclass(frozen=True)
class Questions:
    """The questions section (every question: ``Replay.table("questions")``)."""

    stats: QuestionStats
    backlogs: list[Backlog]
    unanswered: list[Question]


@dataclass(frozen=True)
class AdsSummary:
    """The session's ads: spend, paid entries (and their share), paid entries
    per yuan, the paid share of viewers, the delivery half-life, the part of
    baseline + traffic the paid viewers account for, their predicted GMV and
    the return on ad spend, with intervals."""

    spend: float
    paid_entries: float | None
    paid_entries_share: float | None
    entries_per_yuan: Interval | None
    paid_viewers_share: float
    carryover_ms: int
    paid_traffic: float | None
    paid_gmv: Interval | None
    roi: Interval | None
    notes: list[str]


@dataclass(frozen=True)
class ModelSummary:
    """The attribution model's session totals and fit."""

    target: str
    totals: list[Estimate]
    r2: float | None
    holdout_r2: float | None
    warnings: list[str]
    #: The parts over time on the curves' grid (``Replay.curves["time_ms"]``):
    #: one ``{"name", "unit", "source", "values"}`` per part (baseline,
    #: traffic, each factor, ``unexplained``); each step's parts add up to the
    #: target's actual value. As a table: ``Replay.to_pandas("contributions")``.
    over_time: list[dict[str, Any]]
    #: Paid and natural traffic where the session has ad spend.
    ads: AdsSummary | None = None


@dataclass(frozen=True)
class ClipEntry:
    """One clip of ``Replay.clips``: the moment (session clock, ms since the
    epoch), the file (relative to the clips folder), where it was cut in the
    recording (ms) and its first instant on the session clock."""

    rank: int
    metric: str
    kind: str
    moment_start_ms: int
    moment_end_ms: int
    top_part: str | None
    file: str
    recording: str
    start_ms: float
    end_ms: float
    session_start_ms: int
    exact: bool


def _fix_figures(data: Any) -> Any:
    """Figures carry a ``from`` key (a Python keyword): renamed ``from_``."""
    if isinstance(data, list):
        return [_fix_figures(x) for x in data]
    if isinstance(data, dict):
        if "label_en" in data and "from" in data:
            d = dict(data)
            d["from_"] = d.pop("from")
            data = d
        return {k: _fix_figures(v) for k, v in data.items()}
    return data


class Replay:
    """A session replay (直播复盘) with its product and anchor replays: plain
    dataclasses (``headline``, ``quality``, ``moments``, ``products``,
    ``anchors``, ``promotions``, ``questions``, ``model``), every table as
    Arrow / pandas / polars (``table``, ``to_pandas``, ``to_polars``;
    ``vap.REPLAY_TABLES``), one role's view (``view``), files
    (``write_tables``), the report (``to_html``, ``write_html``) and its
    curves as a matplotlib figure (``plot``). Build it with
    ``Session.replay`` or ``Store.replay``."""

    def __init__(self, native: _vap.Replay):
        self._native = native
        d = _fix_figures(json.loads(native.to_json()))
        self._json = d
        self.room_id: str = d["room_id"]
        self.session_id: str = d["session_id"]
        self.title: str | None = d["title"]
        self.start_ms: int = d["start_ms"]
        self.end_ms: int = d["end_ms"]
        self.timezone: str = d["timezone"]
        self.history_sessions: list[str] = d["history_sessions"]
        self.quality: Quality = _build(Quality, d["quality"])
        self.headline: list[Figure] = [_build(Figure, f) for f in d["headline"]]
        self.curves: dict[str, Any] = d["curves"]
        self.model: ModelSummary | None = _build(ModelSummary, d["model"])
        self.model_error: str | None = d["model_error"]
        self.moments: list[MomentReplay] = [_build(MomentReplay, m) for m in d["moments"]]
        self.products: list[ProductReplay] = [_build(ProductReplay, p) for p in d["products"]]
        self.anchors: list[AnchorReplay] = [_build(AnchorReplay, a) for a in d["anchors"]]
        self.promotions: list[PromotionReplay] = [
            _build(PromotionReplay, p) for p in d["promotions"]
        ]
        self.questions: Questions = _build(Questions, d["questions"])
        from ._plan import review_of

        #: The session against its run-sheet (``None`` without one), valued
        #: with this replay's model; the items also as ``table("plan")``.
        self.plan = review_of(d.get("plan"), native.table("plan") if d.get("plan") else None)
        #: Why the run-sheet could not be compared, if so.
        self.plan_error: str | None = d.get("plan_error")

    def figure(self, key: str) -> Figure | None:
        """The headline figure with ``key`` (``"gmv_gross"``, ``"gpm"``, ...)."""
        return next((f for f in self.headline if f.key == key), None)

    def view(self, role: str) -> dict[str, Any]:
        """The replay as one role reads it (``"operator"``, ``"anchor"``,
        ``"field_control"``): the session's identity and that role's sections,
        as plain data."""
        return json.loads(self._native.view_json(role))

    def table(self, name: str) -> pyarrow.Table:
        """Table ``name`` (one of ``vap.REPLAY_TABLES``) as a pyarrow Table
        (``*_ms`` columns as UTC timestamps, missing values null)."""
        import pyarrow as pa

        return pa.table(self._native.table(name))

    def to_pandas(self, name: str) -> pandas.DataFrame:
        """Table ``name`` as pandas."""
        return self.table(name).to_pandas()

    def to_polars(self, name: str) -> polars.DataFrame:
        """Table ``name`` as polars."""
        import polars as pl

        return pl.from_arrow(self.table(name))  # type: ignore[return-value]

    def write_tables(self, directory: Any, format: str) -> list[str]:
        """Writes every table into ``directory`` as ``<name>.parquet`` or
        ``<name>.csv`` (``format``: ``"parquet"`` or ``"csv"``), each file
        written aside and renamed."""
        return [str(p) for p in self._native.write_tables(directory, format)]

    def to_dict(self) -> dict[str, Any]:
        """The replay as plain data (the core's JSON)."""
        return json.loads(self._native.to_json())

    def to_html(self, **options: Any) -> str:
        """The report (直播复盘报告) as one self-contained HTML document: no
        script, nothing fetched, charts drawn as SVG from the data. Data
        quality first, then the operator's, the anchor's and the field
        controller's sections (``#operator``, ``#anchor``, ``#field-control``).
        Options: ``lang`` (``"zh"``, default, or ``"en"``), ``curves``,
        ``video_beside``, ``context_lines``, ``list_questions``, ``fragment``
        (a ``<div>`` to place inside another page); defaults:
        ``vap.option_defaults("report")``."""
        return self._native.html(_options.dumps(options))

    def write_html(self, path: Any, **options: Any) -> str:
        """Writes the report to ``path`` (whole or not at all) and returns the
        path. A moment's recording becomes a ``<video>`` seeking to its second
        when the file sits beside the report. Options as ``to_html``."""
        self._native.write_html(path, _options.dumps(options))
        return str(path)

    def clips(self, out_dir: Any, **options: Any) -> list[ClipEntry]:
        """Cuts the top moments out of their recordings into ``out_dir``: one
        clip per moment (``moment-RANK.mp4``), from ``before`` its start to
        ``after`` its end, and a manifest ``clips.json`` (written last).
        Options: ``top`` (default every moment of the replay), ``before`` /
        ``after`` (default ``"10s"``), ``max_length`` (``"3min"``), ``exact``
        (re-encode for frame-exact cuts; default a remux from the keyframe
        before), ``format`` (``"mp4"``), ``media_dir`` (where a relative
        recording path resolves; default the stored session's directory);
        defaults: ``vap.option_defaults("clips")``. A session without a
        recording raises ``vap.NotFoundError``.

        >>> for c in rep.clips("clips", top=3):  # doctest: +SKIP
        ...     print(c.rank, c.file, c.start_ms, c.end_ms)
        """
        rows = json.loads(self._native.clips(out_dir, _options.dumps(options)))
        return [ClipEntry(**r) for r in rows]

    def plot(
        self,
        curves: Sequence[str] | str | None = None,
        *,
        contributions: bool = True,
        lang: str | None = None,
        figsize: tuple[float, float] | None = None,
    ) -> matplotlib.figure.Figure:
        """The report's curves as a matplotlib figure (a
        ``matplotlib.figure.Figure``, not a ``vap.Figure``), for a notebook or
        a service that renders PNG / SVG / PDF. Needs matplotlib (optional:
        ``pip install vap[plot]``); raises ``ImportError`` saying so without it.

        One axes per curve, sharing the x axis, in local time in the
        session's time zone: each bin at its middle, gaps as breaks in the
        line (never zeros), promotions as orange bands, explain segments as
        lighter blue ones, every top moment as a dashed line labelled with
        its rank. With ``contributions`` and a fitted model, a last axes
        stacks the model's parts per step (``model.over_time``: positive
        parts up from zero, negative ones down; each step adds up to the
        target's actual value, drawn as a black line), with a legend.

        ``curves``: series names of ``curves["series"]`` (one name or a
        list); default: the report's (``vap.option_defaults("report")
        ["curves"]``); an unknown name raises ``vap.InvalidArgumentError``,
        as ``to_html`` does. ``lang``: ``None`` (English labels: matplotlib's
        default fonts have no Chinese glyphs), ``"en"`` or ``"zh"`` (the report's
        labels; set ``matplotlib.rcParams["font.sans-serif"]`` to a font with
        Chinese glyphs first, e.g. ``["Noto Sans CJK SC"]``). ``figsize``:
        inches, default by the number of axes. Nothing is shown and no
        pyplot state is touched: save it (``fig.savefig("s9.png")``) or let
        Jupyter display the returned figure.

        >>> rep = vap.simulate(seed=11, hours=1.5).data.replay()  # doctest: +SKIP
        >>> fig = rep.plot(["order_gmv", "online_viewers"])       # doctest: +SKIP
        >>> fig.savefig("replay.png", dpi=150)                    # doctest: +SKIP
        """
        return _plot.plot_replay(self, curves, contributions, lang, figsize)

    def _repr_html_(self) -> str:
        """The report's sections, inline in Jupyter (style scoped to them)."""
        return self._native.html(_options.dumps({"fragment": True}))

    def __repr__(self) -> str:
        gmv = self.figure("gmv_gross")
        v = "—" if gmv is None or gmv.value is None else f"{gmv.value:,.0f}"
        return (
            f"<vap.Replay {self.room_id}/{self.session_id}: GMV {v}, "
            f"{len(self.moments)} moments, {len(self.quality.notes)} quality notes>"
        )


def question_kind(text: str) -> str | None:
    """The kind of question a comment asks (``"price"``, ``"stock_size"``,
    ``"usage"``, ``"shipping"``, ``"which_product"``, ``"other"``), or
    ``None`` when it is not a question."""
    return _vap.question_kind(text)
