"""Moments of truth and change points (``vap_core::detect``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from . import _vap
from ._align import Duration, to_ms
from ._vap import InvalidArgumentError

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

PenaltyLike = Union[str, float]


@dataclass(frozen=True)
class Segmentation:
    """Change points: ``breakpoints`` are segment ends (the last is ``n``, as in
    ruptures); ``penalized_cost`` is the segment costs plus ``penalty`` per
    change point."""

    breakpoints: list[int]
    penalized_cost: float
    penalty: float


def _penalty(penalty: PenaltyLike) -> str:
    if isinstance(penalty, str):
        if penalty.lower() != "bic":
            raise InvalidArgumentError(f"penalty must be 'bic' or a number, got {penalty!r}")
        return json.dumps("bic")
    return json.dumps({"value": float(penalty)})


def _segment(method: str, x: Any, cost: str, penalty: PenaltyLike, min_size: int) -> Segmentation:
    values = np.asarray(x, dtype=float).ravel().tolist()
    out = _vap.segment(values, method, cost, _penalty(penalty), int(min_size))
    return Segmentation(**json.loads(out))


def pelt(
    x: Any, *, cost: str = "l2", penalty: PenaltyLike = "bic", min_size: int = 1
) -> Segmentation:
    """Exact PELT change points of a 1-D series. ``cost``: ``"l2"`` (mean
    shifts), ``"normal"`` (mean and variance), ``"poisson"`` (counts);
    ``penalty``: ``"bic"`` or a number per change point; ``min_size``: the
    shortest segment. Exact for every ``min_size`` (tested against ``dynp``)."""
    return _segment("pelt", x, cost, penalty, min_size)


def dynp(
    x: Any, *, cost: str = "l2", penalty: PenaltyLike = "bic", min_size: int = 1
) -> Segmentation:
    """The exact optimum by dynamic programming, O(n²): PELT's reference."""
    return _segment("dynp", x, cost, penalty, min_size)


def binseg(
    x: Any, *, cost: str = "l2", penalty: PenaltyLike = "bic", min_size: int = 1
) -> Segmentation:
    """Binary segmentation: greedy, fast, approximate."""
    return _segment("binseg", x, cost, penalty, min_size)


@dataclass(frozen=True)
class Moment:
    """A moment of truth found on one metric (see ``Session.moments``)."""

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
    session total, with DataFrame views."""

    def _json(self) -> str:
        return json.dumps([asdict(m) for m in self])

    def top(self, k: int = 10, metric: str | None = None) -> Moments:
        """The ``k`` largest: of one metric by absolute excess, or across metrics
        by share."""
        out = json.loads(_vap.top_moments(self._json(), int(k), metric))
        return Moments(Moment(**m) for m in out)

    def events(self, gap: Duration = "60s") -> list[Event]:
        """Moments of different metrics that overlap (or lie within ``gap``),
        grouped."""
        out = json.loads(_vap.moment_events(self._json(), to_ms(gap, "gap")))
        return [Event(**e) for e in out]

    def _rows(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in asdict(m).items() if k != "baseline"} for m in self]

    def to_pandas(self) -> pandas.DataFrame:
        """One row per moment (times as UTC timestamps; the baseline series left
        out: see ``Moment.baseline``)."""
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


def detect_options(
    step: Duration = "30s",
    *,
    metrics: Sequence[str] | None = None,
    window: Duration = "20min",
    threshold: float = 3.5,
    smooth: Duration = "150s",
    min_duration: Duration = "60s",
    merge_gap: Duration = "60s",
    detrend: bool = False,
    shifts: bool = False,
    penalty: PenaltyLike = "bic",
    min_segment: Duration = "10min",
    exposure_change: float = 0.1,
    rate_change: float = 0.25,
) -> str:
    """The JSON ``DetectOptions`` of the keyword arguments (see ``Session.moments``)."""
    o: dict[str, Any] = {
        "step_ms": to_ms(step, "step"),
        "window_ms": to_ms(window, "window"),
        "threshold": float(threshold),
        "smooth_ms": to_ms(smooth, "smooth"),
        "min_duration_ms": to_ms(min_duration, "min_duration"),
        "merge_gap_ms": to_ms(merge_gap, "merge_gap"),
        "detrend": bool(detrend),
        "shifts": bool(shifts),
        "penalty": json.loads(_penalty(penalty)),
        "min_segment_ms": to_ms(min_segment, "min_segment"),
        "exposure_change": float(exposure_change),
        "rate_change": float(rate_change),
    }
    if metrics is not None:
        o["metrics"] = [str(m) for m in metrics]
    return json.dumps(o)
