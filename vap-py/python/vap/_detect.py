"""Moments of truth and change points (``vap_core::detect``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _vap
from ._align import Duration
from ._options import dumps, resolve

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

PenaltyLike = Union[str, float]
"""A penalty: ``"robust"`` (the default), ``"bic"`` or a number per change point."""


@dataclass(frozen=True)
class Segmentation:
    """Change points: ``breakpoints`` are segment ends (the last is ``n``, as in
    ruptures); ``penalized_cost`` is the segment costs plus ``penalty`` per
    change point."""

    breakpoints: list[int]
    penalized_cost: float
    penalty: float


def _segment(method: str, x: Any, options: dict[str, Any]) -> Segmentation:
    values = np.asarray(x, dtype=float).ravel().tolist()
    out = _vap.segment(values, dumps(options, method=method))
    return Segmentation(**json.loads(out))


def pelt(x: Any, **options: Any) -> Segmentation:
    """Exact PELT change points of a 1-D series. Options: ``cost`` (``"l2"``:
    mean shifts; ``"normal"``: mean and variance; ``"poisson"``: counts),
    ``penalty`` (``"robust"``: 4·ln n × a long-run noise variance that survives
    trends, autocorrelation and outliers; ``"bic"``; or a number per change
    point), ``min_size`` (the shortest segment; a shorter series is one
    segment; ``"normal"`` needs at least 2 points); defaults: ``vap.option_defaults("segment")``. Exact for every
    ``min_size`` (tested against ``dynp``)."""
    return _segment("pelt", x, options)


def dynp(x: Any, **options: Any) -> Segmentation:
    """The exact optimum by dynamic programming, O(n²): PELT's reference.
    Options as ``pelt``."""
    return _segment("dynp", x, options)


def binseg(x: Any, **options: Any) -> Segmentation:
    """Binary segmentation: greedy, fast, approximate. Options as ``pelt``."""
    return _segment("binseg", x, options)


@dataclass(frozen=True)
class Moved:
    """A stream that moved in a moment: its relative change against the
    baseline (``-0.62``: 62 % below) and its largest robust z-score."""

    metric: str
    change: float
    score: float


@dataclass(frozen=True)
class Moment:
    """A moment of truth found on one metric (see ``Session.moments``).
    ``moved``: the streams that moved with it (online viewers, entries,
    orders, GMV, product clicks, comments), the strongest first."""

    metric: str
    start_ms: int
    end_ms: int
    kind: str  # "peak", "drop" or "shift"
    driver: str  # "traffic", "conversion", "both" or "unclear"
    magnitude: float  # excess over the baseline, in the metric's units
    score: float
    share: float  # |magnitude| as a share of the metric's session total
    baseline: list[float]
    video_ms: int | None
    moved: list[Moved] = field(default_factory=list)

    def __post_init__(self) -> None:
        moved = [Moved(**m) if isinstance(m, dict) else m for m in self.moved]
        object.__setattr__(self, "moved", moved)


@dataclass(frozen=True)
class Event:
    """Overlapping moments of several metrics: what an operator calls one moment.
    ``members`` index the moments it groups; kind and driver are its strongest
    member's."""

    start_ms: int
    end_ms: int
    kind: str
    driver: str
    members: list[int]


class Moments(list):  # type: ignore[type-arg]
    """A list of ``Moment``s, ranked across metrics by share of the metric's
    session total, with DataFrame views. ``timezone``: the session's, for
    display (``None`` when not known: UTC is shown)."""

    timezone: str | None = None

    def _json(self) -> str:
        return json.dumps([asdict(m) for m in self])

    def top(self, k: int | None = None, metric: str | None = None) -> Moments:
        """The ``k`` largest: of one ``metric`` by absolute excess, or across
        metrics by share (defaults: ``vap.option_defaults("top")``)."""
        out = json.loads(_vap.top_moments(self._json(), dumps(k=k, metric=metric)))
        top = Moments(Moment(**m) for m in out)
        top.timezone = self.timezone
        return top

    def events(self, gap: Duration | None = None) -> list[Event]:
        """Moments of different metrics that overlap (or lie within ``gap``),
        grouped (default: ``vap.option_defaults("events")``)."""
        out = json.loads(_vap.moment_events(self._json(), dumps(gap=gap)))
        return [Event(**e) for e in out]

    def _rows(self) -> list[dict[str, Any]]:
        rows = []
        for m in self:
            row = {k: v for k, v in asdict(m).items() if k != "baseline"}
            row["moved"] = ", ".join(f"{s.metric} {s.change:+.0%}" for s in m.moved)
            rows.append(row)
        return rows

    def to_pandas(self) -> pandas.DataFrame:
        """One row per moment (times as UTC timestamps; the baseline series left
        out: see ``Moment.baseline``; ``moved`` as text, e.g.
        ``"online_viewers -62%, orders -40%"``)."""
        import pandas as pd

        cols = [f for f in Moment.__dataclass_fields__ if f != "baseline"]
        df = pd.DataFrame(self._rows(), columns=cols)
        for c in ("start_ms", "end_ms"):
            df[c] = pd.to_datetime(df[c], unit="ms", utc=True)
        return df.rename(columns={"start_ms": "start", "end_ms": "end"})

    def to_polars(self) -> polars.DataFrame:
        """One row per moment, as polars."""
        import polars as pl

        return pl.from_pandas(self.to_pandas())

    def _repr_html_(self) -> str:
        """The moments in Jupyter, times in the session's time zone."""
        from . import _display

        idx, cut = _display.edges(len(self))
        rows = []
        for i in idx:
            m = self[i]
            rows.append(
                (
                    m.metric,
                    _display.local(m.start_ms, self.timezone),
                    _display.duration(m.end_ms - m.start_ms),
                    m.kind,
                    m.driver,
                    _display.number(m.magnitude),
                    _display.percent(m.share),
                    ", ".join(
                        f"{v.metric} {_display.percent(v.change, signed=True)}" for v in m.moved
                    ),
                )
            )
        note = f"{len(self) - len(idx)} moments not shown (.to_pandas() has all)" if cut else None
        return _display.table(
            f"vap.Moments: {len(self)}",
            ["metric", "start", "length", "kind", "driver", "magnitude", "share", "moved"],
            rows,
            note,
        )


def detect_options(step: Duration | None = None, **options: Any) -> str:
    """The ``DetectOptions`` of the keyword arguments, checked by the core and
    whole (defaults filled), as JSON (see ``Session.moments``;
    ``vap.option_defaults("moments")``)."""
    return json.dumps(resolve("moments", options, step=step))
