"""Run-sheets (直播脚本 / SOP) and plan vs actual (``vap_core::plan``).

The reading, the matching and the valuation are the core's; this module
converts: files, DataFrames and lists of dicts in, dataclasses and Arrow out.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa

from . import _options, _vap
from ._replay import _build

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars


@dataclass(frozen=True)
class PlanEffect:
    """What a deviation earned (positive) or cost (negative) in the model's
    target: the session as it ran minus the session had the item gone as
    planned, everything else (traffic included) as it happened; ``low`` /
    ``high`` the 95 % bootstrap interval."""

    value: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Deviation:
    """One planned item against what happened (or one unplanned item).
    ``status``: ``on_plan``, ``late``, ``early``, ``longer``, ``shorter``,
    ``skipped``, ``added``; ``planned`` / ``actual``: ``[start_ms, end_ms]``;
    ``start_delta_ms`` = actual start − planned start, ``length_delta_ms`` =
    actual length − planned length; talking points said / not said during
    the actual explain."""

    kind: str
    status: str
    subject: str
    name: str
    planned: list[int] | None = None
    actual: list[int] | None = None
    start_delta_ms: int | None = None
    length_delta_ms: int | None = None
    effect: PlanEffect | None = None
    points_said: list[str] = field(default_factory=list)
    points_missed: list[str] = field(default_factory=list)
    row: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class PlanReview:
    """A session against its run-sheet (``Session.plan_vs_actual``, and
    ``Replay.plan``): counts, every item, what the deviations together
    earned or cost (``effect_total``), notes. ``table()`` / ``to_pandas()``
    / ``to_polars()``: the items as a table (the replay's ``plan`` table)."""

    source: str
    target: str | None
    on_plan: int
    off_plan: int
    added: int
    items: list[Deviation]
    effect_total: PlanEffect | None = None
    notes: list[str] = field(default_factory=list)
    _table: Any = field(default=None, repr=False, compare=False)

    def table(self) -> pa.Table:
        """The items as a ``pyarrow.Table`` (times as UTC timestamps, the
        deltas in ms, talking points joined with "; ")."""
        if self._table is None:
            raise ValueError("this review has no table; use Session.plan_vs_actual")
        return pa.table(self._table)

    def to_pandas(self) -> pandas.DataFrame:
        """The items as a pandas DataFrame."""
        return self.table().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """The items as a polars DataFrame."""
        import polars as pl

        return pl.from_arrow(self.table())  # type: ignore[return-value]


def review_of(data: Mapping[str, Any] | None, table: Any = None) -> PlanReview | None:
    """A review from its JSON form (and its items' Arrow table)."""
    if data is None:
        return None
    r = _build(PlanReview, data)
    return PlanReview(**{**r.__dict__, "_table": table})


class RunSheet:
    """A run-sheet (直播脚本): the planned host shifts, product slots (with
    talking points) and promotions of a session, as ``vap.read_run_sheet``
    read them. ``items`` are dicts as the core keeps them (times as
    ``{"clock": ms}``, ``{"offset": ms}`` or ``{"at": ms}``); ``to_csv()``
    writes the sheet in vap's own columns, which read back."""

    __slots__ = ("_json",)

    def __init__(self, data: Mapping[str, Any]):
        self._json = dict(data)

    @property
    def source(self) -> str:
        """Where it was read from."""
        return str(self._json.get("source", ""))

    @property
    def items(self) -> list[dict[str, Any]]:
        """The planned items, in the order read."""
        return list(self._json.get("items", []))

    @property
    def ignored(self) -> list[str]:
        """Columns of the file that were not read."""
        return list(self._json.get("ignored", []))

    def __len__(self) -> int:
        return len(self._json.get("items", []))

    def __repr__(self) -> str:
        return f"RunSheet({self.source!r}, {len(self)} items)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunSheet) and self._json == other._json

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """The sheet as the core keeps it (JSON-ready)."""
        return json.loads(self.to_json())

    def to_json(self) -> str:
        """The sheet as JSON text."""
        return json.dumps(self._json, ensure_ascii=False)

    def to_csv(self) -> str:
        """The sheet as CSV text in vap's columns (``kind``, ``start``,
        ``end``, ``duration``, ``anchor``, ``product``, ``promotion``,
        ``label``, ``talking_points``); ``vap.read_run_sheet`` reads it back."""
        return _vap.run_sheet_csv(self.to_json())

    def write(self, path: str | os.PathLike[str]) -> None:
        """Writes ``to_csv()`` (``.csv``) or ``to_json()`` (``.json``)."""
        p = os.fspath(path)
        text = self.to_json() if p.lower().endswith(".json") else self.to_csv()
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write(text)

    def to_pandas(self) -> pandas.DataFrame:
        """The items as a pandas DataFrame (one row per item)."""
        return pa.Table.from_pylist(self.items).to_pandas()


RunSheetSource = Union[str, "os.PathLike[str]", bytes, Sequence[Mapping[str, Any]], Any]


def _rows_of(source: Any) -> list[dict[str, Any]] | None:
    """Rows of a DataFrame (pandas, polars, pyarrow) or a list of dicts."""
    if isinstance(source, (list, tuple)):
        return [dict(r) for r in source]
    if hasattr(source, "__arrow_c_stream__") or hasattr(source, "to_dict"):
        table = pa.table(source) if hasattr(source, "__arrow_c_stream__") else None
        if table is None:
            return list(source.to_dict("records"))
        return table.to_pylist()
    return None


def _json_default(v: Any) -> Any:
    """Cells JSON cannot hold as they are: dates and times as ISO text,
    numpy scalars as numbers."""
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        return v.item()
    return str(v)


def _cell(v: Any) -> Any:
    """A DataFrame's missing cell (NaN, NaT, None) as JSON's null."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    try:
        import pandas as pd

        if v is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return v


def read_run_sheet(source: RunSheetSource, **options: Any) -> RunSheet:
    """Reads a run-sheet (直播脚本): a CSV (UTF-8 or GB18030), XLSX or JSON
    file, its bytes, a DataFrame (pandas, polars, pyarrow) or a list of dicts,
    with columns in English or Chinese (类型, 时间段 ``"20:00-20:15"``, 开始时间,
    结束时间, 时长, 主播, 商品, 活动, 话术, 备注). Times: ``"20:15"`` on the
    session's day, ``"+15min"`` from its start, or a date-time; rows without
    a ``kind`` column are slots (product, anchor, promotion). Every problem is
    reported at once (``vap.ValidationError``, each naming row and field).
    Options: ``timezone`` of date-times without an offset
    (``vap.option_defaults("run_sheet")``). Attach it with
    ``Session.with_plan``."""
    opts = _options.dumps(options)
    rows = None if isinstance(source, (str, bytes, os.PathLike)) else _rows_of(source)
    if rows is not None:
        rows = [{k: _cell(v) for k, v in r.items()} for r in rows]
        data = json.dumps(rows, ensure_ascii=False, default=_json_default).encode()
        return RunSheet(json.loads(_vap.read_run_sheet_bytes("rows.json", data, opts)))
    if isinstance(source, bytes):
        return RunSheet(json.loads(_vap.read_run_sheet_bytes("run-sheet", source, opts)))
    if isinstance(source, (str, os.PathLike)):
        return RunSheet(json.loads(_vap.read_run_sheet(os.fspath(source), opts)))
    raise TypeError(
        "read_run_sheet takes a path, bytes, a DataFrame or a list of dicts, "
        f"not {type(source).__name__}"
    )


@dataclass(frozen=True)
class Evidence:
    """What a room's history says about one effect: ``value`` in the model's
    target (yuan) per ``unit`` (``"hour"`` of exposure or ``"minute"``), a
    simultaneous 95 % interval over the bootstrap replicates (``low``,
    ``high``), the ``sessions`` and ``exposure`` behind it, and whether it is
    ``weak`` (``why_weak``)."""

    value: float
    unit: str
    sessions: int
    exposure: float
    weak: bool
    low: float | None = None
    high: float | None = None
    why_weak: str | None = None


@dataclass(frozen=True)
class AnchorCategory:
    """An anchor hosting a category against the other anchors on it, per
    hour (beyond the anchor's own effect and the category's)."""

    anchor_id: str
    anchor_name: str
    category: str
    evidence: Evidence


@dataclass(frozen=True)
class FlashTiming:
    """Flash sales starting before ``late_after_ms`` against those starting
    later, per minute running, and their difference (late − early)."""

    late_after_ms: int
    early: Evidence | None = None
    late: Evidence | None = None
    difference: Evidence | None = None
    median_minutes: float | None = None


@dataclass(frozen=True)
class ProductPhrase:
    """A phrase the anchor said while a product was explained, pooled over
    the history: ``uses``, ``sessions``, mean orders of the product in the
    ``follow`` window after a use, the ``lift`` against the product's order
    rate while explained (95 % interval ``low``, ``high``), ``weak`` below
    ``min_support`` uses."""

    phrase: str
    group: str
    uses: int
    sessions: int
    orders_after: float
    weak: bool
    lift: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ProductHistory:
    """A product across the history: sessions, median explain minutes and
    first-explain position, the model's explain contribution per minute, and
    the phrases that went with its orders."""

    product_id: str
    name: str
    category: str
    sessions: int
    explain_minutes: float
    position_minutes: float
    gmv_per_explain_minute: float
    weak: bool
    phrases: list[ProductPhrase] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    """One recommendation (``kind``: ``anchor_category``, ``flash_timing``,
    ``product_order``, ``not_enough_evidence``) in English and Chinese, with
    its evidence; ``weak`` ones say so."""

    kind: str
    text: str
    text_zh: str
    weak: bool
    evidence: Evidence | None = None


@dataclass(frozen=True)
class Playbook:
    """A room's playbook (``vap.playbook``, ``Store.playbook``): anchors ×
    categories best first, flash-sale timing, products, recommendations
    strongest first (or "not enough evidence"), and ``draft``, a run-sheet for
    the next session built from them (``draft.to_csv()`` reads back)."""

    room_id: str
    sessions: list[str]
    target: str
    anchors: list[AnchorCategory]
    flash_sales: FlashTiming
    products: list[ProductHistory]
    recommendations: list[Recommendation]
    draft: RunSheet
    notes: list[str] = field(default_factory=list)
    _json: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The playbook as the core returns it (JSON-ready)."""
        return json.loads(json.dumps(self._json))

    def to_html(self, **options: Any) -> str:
        """The playbook as one self-contained HTML page, recommendations
        first (report options ``lang``: ``"zh"`` or ``"en"``, ``fragment``
        to embed it in a page of your own)."""
        return _vap.playbook_html(json.dumps(self._json), _options.dumps(options))

    def to_pandas(self, what: str) -> pandas.DataFrame:
        """``"anchors"``, ``"products"`` or ``"recommendations"`` as a
        DataFrame (evidence flattened into columns)."""
        import pandas as pd

        rows = {
            "anchors": self.anchors,
            "products": self.products,
            "recommendations": self.recommendations,
        }
        if what not in rows:
            raise ValueError(f"what must be one of {sorted(rows)}, not {what!r}")
        out = []
        for r in rows[what]:
            d = {k: v for k, v in r.__dict__.items() if k != "evidence"}
            ev = getattr(r, "evidence", None)
            if ev is not None:
                d.update({f"evidence_{k}": v for k, v in ev.__dict__.items()})
            out.append(d)
        return pd.DataFrame(out)


def playbook_of(data: Mapping[str, Any]) -> Playbook:
    """A playbook from its JSON form."""
    d = dict(data)
    sheet = RunSheet(d.pop("draft"))
    pb = _build(Playbook, {**d, "draft": None})
    return Playbook(**{**pb.__dict__, "draft": sheet, "_json": dict(data)})


def playbook(sessions: Sequence[Any], **options: Any) -> Playbook:
    """A room's playbook from its history (at least two sessions of one
    room): which anchor should host which category (against the other
    anchors on it), whether flash sales pay more early or late, which
    products earn most per explain minute; every recommendation with its
    evidence (effect, simultaneous interval, sessions), weak where thin, and
    "not enough evidence" when nothing stands out; plus a draft run-sheet.
    Options ``min_sessions``, ``late_after``, and the nested ``timeline`` and
    ``model`` (``vap.option_defaults("playbook")``). ``Store.playbook`` reads a
    stored room one session at a time."""
    natives = [s._inner for s in sessions]
    return playbook_of(json.loads(_vap.playbook(natives, _options.dumps(options))))
