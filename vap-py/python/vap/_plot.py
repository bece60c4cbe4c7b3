"""``Replay.plot``: the report's curves and stacked contributions as a
matplotlib figure (matplotlib is optional: ``pip install vap[plot]``).

What is drawn, and in which order, is the report's (``vap_core::report``):
the curves are checked and resolved by the core (``curves``, ``lang``: the
report options), and the labels of curves and parts are read from the
report's own charts, so the figure and the HTML report name things the same
way (the few words of the legend and the source tags are restated below). Each artist carries a
``gid`` saying what it draws (``series-<name>``, ``promotion``, ``explain``,
``moment-<rank>``, ``part-<name>``, ``actual-<target>``), as the report's SVG
carries classes.
"""

from __future__ import annotations

import datetime as _dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import _options

if TYPE_CHECKING:  # pragma: no cover
    import matplotlib.axes
    import matplotlib.figure

    from ._replay import Replay

_SVG = "{http://www.w3.org/2000/svg}"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

#: The legend's words for what the report explains in a sentence under its
#: curves ("orange bands: promotions; blue bands: explain segments; dashed
#: lines: top moments").
_WORDS = {
    "en": {"promotion": "promotion", "explain": "explain segment", "moment": "moment"},
    "zh": {"promotion": "促销", "explain": "商品讲解", "moment": "关键时刻"},
}
_ACTUAL = {"en": "actual", "zh": "实际"}
#: Where a figure comes from, as the report tags it (``source_tag``).
_SOURCES = {
    "en": {"raw": "raw", "derived": "derived", "model": "model"},
    "zh": {"raw": "数据", "derived": "推算", "model": "模型"},
}

#: Part colours: ``baseline`` and ``unexplained`` in greys, the others in
#: turn (matplotlib's tab10 without its grey, then tab20's light shades).
_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
    "#aec7e8",
    "#ffbb78",
    "#98df8a",
    "#ff9896",
    "#c5b0d5",
)
_GREYS = {"baseline": "#d0d0d0", "unexplained": "#707070"}

_MISSING = (
    "Replay.plot needs matplotlib, an optional dependency of vap: "
    "pip install matplotlib (or pip install vap[plot])"
)


def _when(ms: int, tz: _dt.tzinfo) -> _dt.datetime:
    """Epoch milliseconds as a local datetime in ``tz`` (exact to the ms)."""
    return (_EPOCH + _dt.timedelta(milliseconds=ms)).astimezone(tz)


def _zone(name: str) -> _dt.tzinfo:
    """The session's time zone; UTC when it is not known here, as the report
    does."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return _dt.timezone.utc


def _labels(page: str) -> tuple[list[str], dict[str, str], str | None]:
    """From the report's fragment: the curves it draws (in order), the label of
    each curve and model part, and the title of the contributions chart.
    Empty where the markup cannot be read (names are used as labels then)."""
    try:
        root = ET.fromstring(page)
    except ET.ParseError:
        return [], {}, None
    curves: list[str] = []
    labels: dict[str, str] = {}
    stacked_title: str | None = None
    for svg in root.iter(f"{_SVG}svg"):
        chart = svg.get("data-chart")
        if chart == "curve":
            name = svg.get("data-series-name") or ""
            curves.append(name)
            labels[name] = svg.get("aria-label") or name
        elif chart == "stacked":
            stacked_title = svg.get("aria-label")
            for path in svg.iter(f"{_SVG}path"):
                part = path.get("data-part")
                title = path.find(f"{_SVG}title")
                if part is not None and title is not None and title.text:
                    labels.setdefault(part, title.text)
    return curves, labels, stacked_title


def _values(values: Sequence[float | None]) -> list[float]:
    """A curve's values with gaps as NaN (matplotlib breaks a line there)."""
    return [float("nan") if v is None else float(v) for v in values]


def plot_replay(
    rep: Replay,
    curves: Sequence[str] | str | None,
    contributions: bool,
    lang: str | None,
    figsize: tuple[float, float] | None,
) -> matplotlib.figure.Figure:
    """See ``Replay.plot``."""
    try:
        import matplotlib.dates as mdates
        from matplotlib.collections import PolyCollection
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
    except ImportError as e:
        raise ImportError(_MISSING, name="matplotlib") from e

    if isinstance(curves, str):
        curves = [curves]
    # The core checks lang and curves (duplicates, none, unknown to this
    # replay) as it does for the report, and gives its labels.
    given = None if curves is None else list(curves)
    # Not the report's Chinese by default: matplotlib's fonts lack the glyphs.
    lang = "en" if lang is None else lang
    resolved = _options.resolve("report", lang=lang, curves=given)
    names: list[str] = list(resolved["curves"])
    # Only the labels are read: no stills decoded.
    page = rep._native.html(
        _options.dumps(None, fragment=True, lang=lang, curves=names, stills=False)
    )
    drawn, labels, stacked_title = _labels(page)
    names = drawn or names
    words = _WORDS.get(resolved["lang"], _WORDS["en"])
    actual = _ACTUAL.get(resolved["lang"], _ACTUAL["en"])
    tags = _SOURCES.get(resolved["lang"], _SOURCES["en"])

    tz = _zone(rep.timezone)
    step = int(rep.curves["step_ms"])
    starts: list[int] = [int(t) for t in rep.curves["time_ms"]]
    mids = [_when(t + step // 2, tz) for t in starts]
    series = {s["name"]: s for s in rep.curves["series"]}
    model = rep.model
    parts = model.over_time if (contributions and model is not None) else []
    rows = len(names) + (1 if parts else 0)
    if figsize is None:
        figsize = (11.0, 2.2 * len(names) + (3.4 if parts else 0.0) + 0.6)

    fig = Figure(figsize=figsize, constrained_layout=True)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    title = rep.title or rep.session_id
    fig.suptitle(f"{title} · {rep.room_id}/{rep.session_id}", fontsize="medium")

    moments = sorted(rep.moments, key=lambda m: m.rank)
    by_start: dict[int, list[int]] = {}
    for m in moments:
        by_start.setdefault(m.start_ms, []).append(m.rank)

    def mark_moments(ax: matplotlib.axes.Axes) -> None:
        # ``date2num``: matplotlib's own date numbers (from the aware
        # datetimes) where its type hints want a float.
        for m in moments:
            ax.axvline(
                mdates.date2num(_when(m.start_ms, tz)),
                color="0.25",
                linestyle="--",
                linewidth=0.8,
                gid=f"moment-{m.rank}",
            )
        # Moments that start together (GMV and orders peaking at once)
        # share one label.
        for start, ranks in by_start.items():
            ax.text(
                mdates.date2num(_when(start, tz)),
                0.97,
                "·".join(str(r) for r in ranks),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize="x-small",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                gid="moment-label",
            )

    for ax, name in zip(axes, names):
        s = series[name]
        for p in rep.promotions:
            ax.axvspan(
                _when(p.start_ms, tz),
                _when(p.end_ms, tz),
                color="tab:orange",
                alpha=0.22,
                linewidth=0,
                gid="promotion",
            )
        for product in rep.products:
            for seg in product.segments:
                ax.axvspan(
                    _when(seg.start_ms, tz),
                    _when(seg.end_ms, tz),
                    color="tab:blue",
                    alpha=0.08,
                    linewidth=0,
                    gid="explain",
                )
        ax.plot(mids, _values(s["values"]), color="C0", linewidth=1.3, gid=f"series-{name}")
        mark_moments(ax)
        source = str(s["source"])
        ax.set_title(f"{labels.get(name, name)} · {tags.get(source, source)}", loc="left")
        ax.set_ylabel(s["unit"])

    if parts and model is not None:
        ax = axes[-1]
        target = series.get(model.target)
        if target is not None:
            ax.plot(
                mids,
                _values(target["values"]),
                color="black",
                linewidth=0.8,
                label=f"{labels.get(model.target, model.target)} ({actual})",
                gid=f"actual-{model.target}",
            )
            ax.set_ylabel(target["unit"])
        # One collection of rectangles per part, as the report draws one
        # path per part: a long session has thousands of bars, and one
        # ``bar`` patch each is slow to build and to draw.
        ax.xaxis.update_units(mids)
        centres = [float(x) for x in mdates.date2num(mids)]
        half = step * 0.45 / 86_400_000  # days, matplotlib's date unit
        up = [0.0] * len(starts)
        down = [0.0] * len(starts)
        others = iter(_PALETTE * (1 + len(parts) // len(_PALETTE)))
        for part in parts:
            boxes: list[list[tuple[float, float]]] = []
            for i, v in enumerate(part["values"][: len(starts)]):
                if v is None:
                    continue
                if v >= 0:
                    lo, hi = up[i], up[i] + v
                    up[i] = hi
                else:
                    lo, hi = down[i] + v, down[i]
                    down[i] = lo
                a, b = centres[i] - half, centres[i] + half
                boxes.append([(a, lo), (a, hi), (b, hi), (b, lo)])
            name = part["name"]
            ax.add_collection(
                PolyCollection(
                    boxes,
                    facecolors=_GREYS.get(name) or next(others),
                    edgecolors="none",
                    linewidths=0,
                    label=labels.get(name, name),
                    gid=f"part-{name}",
                )
            )
        ax.autoscale_view()
        ax.axhline(0.0, color="0.3", linewidth=0.6, gid="zero")
        mark_moments(ax)
        ax.set_title(
            f"{stacked_title or 'contributions over time'} · {tags['model']}",
            loc="left",
        )
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.005, 1.0),
            fontsize="x-small",
            frameon=False,
        )

    # What the bands and dashed lines are, once, beside the first chart.
    if names:
        axes[0].legend(
            handles=[
                Patch(color="tab:orange", alpha=0.22, label=words["promotion"]),
                Patch(color="tab:blue", alpha=0.08, label=words["explain"]),
                Line2D([], [], color="0.25", linestyle="--", linewidth=0.8, label=words["moment"]),
            ],
            loc="upper left",
            bbox_to_anchor=(1.005, 1.0),
            fontsize="x-small",
            frameon=False,
        )

    bottom = axes[-1]
    locator = mdates.AutoDateLocator(tz=tz)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
    first, last = _when(rep.start_ms, tz), _when(rep.end_ms, tz)
    bottom.set_xlim(first, last)
    # The last instant inside [start, end) names the last day.
    final = _when(max(rep.start_ms, rep.end_ms - 1), tz)
    days = f"{first:%Y-%m-%d}"
    if final.date() != first.date():
        days += f" – {final:%Y-%m-%d}"
    bottom.set_xlabel(f"{days} · {rep.timezone}")
    return fig


#: The columns ``Timeline.plot`` draws when none are named (those present).
DEFAULT_TIMELINE_COLUMNS = ("order_gmv", "orders", "online_viewers", "gpm")


def plot_timeline(
    tl: Any,
    columns: Sequence[str] | str | None,
    moments: Sequence[Any] | None,
    figsize: tuple[float, float] | None,
) -> matplotlib.figure.Figure:
    """See ``Timeline.plot``."""
    try:
        import matplotlib.dates as mdates
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            _MISSING.replace("Replay.plot", "Timeline.plot"), name="matplotlib"
        ) from e

    if columns is None:
        names = [c for c in DEFAULT_TIMELINE_COLUMNS if c in tl.columns] or tl.columns[:4]
    else:
        names = [columns] if isinstance(columns, str) else list(columns)
    if not names:
        raise ValueError(
            "Timeline.plot: no columns to draw (name some, or build a timeline with columns)"
        )
    values = tl.to_numpy(names)  # unknown names: the core's error, listing them
    spans = tl.spans
    tz = _zone(spans[0].get("timezone", "UTC")) if spans else _dt.timezone.utc
    when = [_when(int(t), tz) for t in tl.time_ms]
    fig = Figure(figsize=figsize or (10, 1.8 * max(1, len(names)) + 0.6))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, j, name in zip(axes, range(len(names)), names):
        (line,) = ax.plot(when, values[:, j], lw=1.0)
        line.set_gid(f"series-{name}")
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        for k, m in enumerate(moments or []):
            if m.metric == name or len(names) == 1:
                span = ax.axvspan(
                    _when(m.start_ms, tz), _when(m.end_ms, tz), color="#d62728", alpha=0.15, lw=0
                )
                span.set_gid(f"moment-{k}")
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=tz))
    axes[-1].set_xlabel(f"local time ({getattr(tz, 'key', 'UTC')})")
    fig.align_ylabels(axes)
    fig.tight_layout()
    return fig
