"""Timelines, transforms, clock offsets and as-of joins (``vap_core::align``)."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pyarrow as pa

from . import _vap
from ._options import dumps, resolve
from ._vap import InvalidArgumentError

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

    from . import Session

Duration = Union[int, str, _dt.timedelta]
Instant = Union[int, str, _dt.datetime]


def to_ms(value: Duration, what: str = "duration") -> int:
    """A duration in ms: an int (ms), a ``timedelta`` (or pandas ``Timedelta``),
    or a string such as ``"500ms"``, ``"1s"``, ``"10s"``, ``"1min"``, ``"2h"``
    (read by the core)."""
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{what}: expected a duration, got {value!r}")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, _dt.timedelta):
        return round(value.total_seconds() * 1000)
    if isinstance(value, str):
        try:
            return _vap.parse_duration_ms(value)
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{what}: {e}") from None
    raise InvalidArgumentError(
        f"{what}: expected ms, a timedelta or a string like '10s' / '1min', got {value!r}"
    )


def to_instant_ms(value: Instant, what: str = "time") -> int:
    """An instant in ms since the epoch: an int (ms), a ``datetime`` (naive = UTC)
    or an ISO 8601 string (read by the core)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, _dt.datetime):
        value = value.isoformat()
    if isinstance(value, str):
        try:
            return _vap.parse_instant_ms(value)
        except InvalidArgumentError as e:
            raise InvalidArgumentError(f"{what}: {e}") from None
    raise InvalidArgumentError(f"{what}: expected ms, a datetime or an ISO string, got {value!r}")


def align_options(step: Duration | None = None, **options: Any) -> str:
    """The ``AlignOptions`` of the keyword arguments, checked by the core and
    whole (defaults filled), as JSON (see ``Session.timeline``;
    ``vap.option_defaults("timeline")``)."""
    return json.dumps(resolve("timeline", options, step=step))


class Timeline:
    """Every stream of a session (or of a room's sessions) on one regular grid.

    Rows are bins ``[t, t + step)``; columns are ``float64`` with metadata
    (``column_info``: kind, source, unit). A missing bin is NaN and flagged by
    ``missing(name)`` (and by a ``<name>:missing`` column in the tables), never a
    silent zero. Build one with ``Session.timeline`` or ``vap.room_timeline``.
    """

    __slots__ = ("_inner",)

    def __init__(self, inner: _vap.Timeline):
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return self._inner.names()

    @property
    def column_info(self) -> list[dict[str, Any]]:
        """Per column: ``name, kind, source, unit, has_missing``."""
        return json.loads(self._inner.columns_json())

    @property
    def step_ms(self) -> int:
        """Bin width in ms."""
        return self._inner.step_ms()

    @property
    def spans(self) -> list[dict[str, Any]]:
        """The sessions in the timeline: ``room_id, session_id, grid, rows,
        timezone`` (the session's, for display)."""
        return json.loads(self._inner.spans_json())

    @property
    def time(self) -> np.ndarray:
        """Bin starts as ``datetime64[ms]`` (UTC)."""
        return np.frombuffer(self._inner.time_bytes(), dtype="<i8").astype("datetime64[ms]")

    @property
    def time_ms(self) -> np.ndarray:
        """Bin starts in ms since the epoch (``int64``)."""
        return np.frombuffer(self._inner.time_bytes(), dtype="<i8").copy()

    def to_numpy(self, columns: Sequence[str] | None = None) -> np.ndarray:
        """A ``(rows, columns)`` ``float64`` matrix (Fortran order, read-only: copy it
        to write), NaN where missing. All columns: a view of the timeline's own
        memory, no copy (the matrix keeps it alive; while it lives, a change to the
        timeline, ``add_column`` or ``derive``, goes to a copy of it); named
        columns: a copy of them."""
        names = None if columns is None else list(columns)
        ncols = len(self.columns) if names is None else len(names)
        flat = pa.array(self._inner.matrix(names)).to_numpy(zero_copy_only=True)
        return flat.reshape((ncols, len(self))).T

    def column(self, name: str) -> np.ndarray:
        """One column as a 1-D ``float64`` array."""
        return self.to_numpy([name])[:, 0]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.column(name)

    def missing(self, name: str) -> np.ndarray:
        """The missing-bin mask of a column (``True`` = missing)."""
        m = self._inner.missing_bytes(name)
        if m is None:
            return np.zeros(len(self), dtype=bool)
        return np.frombuffer(m, dtype=np.uint8).astype(bool)

    def plot(
        self,
        columns: Sequence[str] | str | None = None,
        *,
        moments: Sequence[Any] | None = None,
        figsize: tuple[float, float] | None = None,
    ) -> Any:
        """The columns as a matplotlib figure, one panel each on a shared axis of
        local times (the session's zone): by default GMV, orders, online viewers
        and GPM where present. ``moments`` (``Session.moments()``) are shaded on
        their metric's panel. Each line's ``gid`` is ``series-<name>``, each
        shaded moment's ``moment-<rank>``. Needs matplotlib (``pip install
        'vap[plot]'``)."""
        from ._plot import plot_timeline

        return plot_timeline(self, columns, moments, figsize)

    #: Columns shown by ``_repr_html_`` (the rest are counted).
    REPR_COLUMNS = 8

    def _repr_html_(self) -> str:
        """The timeline in Jupyter: both ends of it, its first columns, times in
        each session's time zone."""
        from . import _display

        spans = self.spans
        names = self.columns[: self.REPR_COLUMNS]
        idx, cut = _display.edges(len(self))
        times = self.time_ms
        values = self.to_numpy(names) if names else None

        def tz_of(i: int) -> tuple[str, str | None]:
            for s in spans:
                if s["rows"]["start"] <= i < s["rows"]["end"]:
                    return s["session_id"], s.get("timezone")
            return "", None

        keyed = len(spans) > 1
        rows = []
        for i in idx:
            sid, tz = tz_of(i)
            row: list = [_display.local(int(times[i]), tz)]
            if keyed:
                row.append(sid)
            row += (
                [_display.number(float(values[i, j])) for j in range(len(names))]
                if values is not None
                else []
            )
            rows.append(row)
        more = len(self.columns) - len(names)
        notes = [
            f"{len(self) - len(idx)} rows not shown" if cut else "",
            f"{more} more columns" if more else "",
        ]
        note = "; ".join(n for n in notes if n) + (" (.to_pandas() has all)" if cut or more else "")
        return _display.table(
            f"vap.Timeline: {len(self)} bins of {_display.duration(self.step_ms)} × {len(self.columns)} columns",
            ["time", *(["session"] if keyed else []), *names],
            rows,
            note or None,
        )

    def to_arrow(self) -> pa.Table:
        """``pyarrow.Table``: ``time`` (timestamp[ms, UTC]), ``room_id`` /
        ``session_id`` for a room view, the columns (null where missing, metadata
        in each field), then the ``<name>:missing`` masks."""
        return pa.table(self._inner.to_arrow())

    def to_pandas(self) -> pandas.DataFrame:
        """pandas DataFrame indexed by ``time`` (by ``session_id, time`` for a room
        view), NaN where missing; ``df.attrs["vap"]`` holds the column metadata."""
        df = self.to_arrow().to_pandas()
        keys = ["session_id", "time"] if self._inner.is_keyed() else ["time"]
        df = df.set_index(keys)
        df.attrs["vap"] = {
            "step_ms": self.step_ms,
            "columns": self.column_info,
            "spans": self.spans,
        }
        return df

    def to_polars(self) -> polars.DataFrame:
        """polars DataFrame (null where missing)."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    # ---- transforms
    def derive(self, source: str, kind: str, *, name: str | None = None, **params: Any) -> str:
        """Adds a column made from ``source`` by a transform (``lag``, ``lead``,
        ``adstock``, ``weibull``, ``hill``; see the methods of the same names),
        session by session. Returns the new column's name."""
        given = {k: v for k, v in params.items() if v is not None}
        return self._inner.derive(source, dumps(given, kind=kind), name)

    def lag(self, source: str, bins: int | None = None, *, name: str | None = None) -> str:
        """``y[t] = x[t - bins]`` (one bin by default); the first bins are missing."""
        return self.derive(source, "lag", bins=bins, name=name)

    def lead(self, source: str, bins: int | None = None, *, name: str | None = None) -> str:
        """``y[t] = x[t + bins]`` (one bin by default); the last bins are missing."""
        return self.derive(source, "lead", bins=bins, name=name)

    def adstock(
        self,
        source: str,
        half_life_bins: float,
        *,
        normalize: bool = False,
        name: str | None = None,
    ) -> str:
        """Geometric carryover ``y[t] = x[t] + λ·y[t-1]``, ``λ = 0.5 ** (1 / half_life_bins)``."""
        return self.derive(
            source, "adstock", half_life_bins=half_life_bins, normalize=normalize, name=name
        )

    def weibull(
        self,
        source: str,
        shape: float,
        scale_bins: float,
        max_lag_bins: int,
        *,
        name: str | None = None,
    ) -> str:
        """Delayed carryover with discrete Weibull weights (sum 1)."""
        return self.derive(
            source,
            "weibull",
            shape=shape,
            scale_bins=scale_bins,
            max_lag_bins=max_lag_bins,
            name=name,
        )

    def hill(self, source: str, slope: float, inflexion: float, *, name: str | None = None) -> str:
        """Hill saturation ``x^s / (x^s + (inflexion·max x)^s)``."""
        return self.derive(source, "hill", slope=slope, inflexion=inflexion, name=name)

    def copy(self) -> Timeline:
        """An independent copy."""
        return Timeline(self._inner.copy())

    def add_column(self, name: str, values: Any, **options: Any) -> None:
        """Appends a column of your own (one value per bin; NaN = missing), e.g.
        ad spend to use as a factor. Options ``kind`` (``"flow"``, ``"gauge"``,
        ``"count"``, ``"sum"``, ``"interval"``, ...) and ``unit`` (defaults:
        ``vap.option_defaults("column")``)."""
        v = np.asarray(values, dtype=float).ravel()
        self._inner.add_column(name, v.tolist(), dumps(options))

    @staticmethod
    def from_columns(columns: Mapping[str, Any], **options: Any) -> Timeline:
        """A one-session timeline (room and session ``"custom"``) of your own
        columns on the grid ``start + k·step``: for modelling data that did not
        come from a session (a DataFrame's columns work). Options ``step``,
        ``start``, ``kind`` (defaults: ``vap.option_defaults("columns")``)."""
        cols = [(str(k), np.asarray(v, dtype=float).ravel().tolist()) for k, v in columns.items()]
        return Timeline(_vap.timeline_from_columns(cols, dumps(options)))

    def __repr__(self) -> str:
        return (
            f"<vap.Timeline {len(self)} bins x {len(self.columns)} columns, step {self.step_ms} ms>"
        )


@dataclass(frozen=True)
class ClockOffset:
    """An estimated clock offset between two streams.

    ``offset_ms`` is how far the other stream's clock reads ahead of the
    reference (for a transcript: ``utterance time = platform time + offset``);
    ``None`` when ``status == "undetermined"``. Nothing is shifted until
    ``apply`` is called.
    """

    status: str
    offset_ms: float | None
    lag_bins: int
    sub_bin: float
    correlation: float
    z: float
    confidence: float
    step_ms: int
    max_lag_ms: int
    channels: int
    reason: str

    @property
    def determined(self) -> bool:
        """Whether the offset could be told."""
        return self.status == "determined"

    def apply(self, session: Session) -> Session:
        """A copy of ``session`` with its transcript moved onto the platform clock.
        Raises ``vap.InvalidArgumentError`` when the offset is undetermined."""
        from . import Session as _Session

        return _Session(session._inner.apply_offset(json.dumps(self.__dict__)))


def estimate_offset(reference: Any, other: Any, *, step: Duration, **options: Any) -> ClockOffset:
    """Clock offset between two binned streams by cross-correlation.

    ``reference`` and ``other`` are 1-D arrays on the same grid of ``step``, or
    lists of such arrays (paired channels). Options ``max_lag``,
    ``min_confidence``, ``null_draws``, ``seed`` (defaults:
    ``vap.option_defaults("offset")``). Returns a ``ClockOffset``; on noise its
    status is ``"undetermined"``.
    """
    refs = _channels(reference)
    others = _channels(other)
    if len(refs) != len(others):
        raise InvalidArgumentError(f"{len(refs)} reference channels but {len(others)} other")
    pairs = list(zip(refs, others))
    out = _vap.estimate_offset(pairs, to_ms(step, "step"), dumps(options, step=step))
    return ClockOffset(**json.loads(out))


def _channels(x: Any) -> list[list[float]]:
    """One series (1-D) or paired channels (2-D, or a list of 1-D series)."""
    try:
        arr = np.asarray(x, dtype=float)
    except ValueError:  # ragged: a list of series of different lengths
        return [np.asarray(c, dtype=float).ravel().tolist() for c in x]
    if arr.ndim == 1:
        return [arr.tolist()]
    if arr.ndim == 2:
        return [row.tolist() for row in arr]
    raise InvalidArgumentError(f"expected a 1-D series or a list of series, got {arr.ndim}-D")


def merge_asof(left: Any, right: Any, *, on: str, **options: Any) -> Any:
    """As-of join with pandas ``merge_asof`` / polars ``join_asof`` semantics.

    For each left row, the right row with the last key at or before it
    (``direction="backward"``), the first at or after (``"forward"``) or the
    closer (``"nearest"``, backward on a tie), within ``tolerance`` (inclusive;
    ms or a duration for timestamp keys, key units for integer keys) and equal
    ``by`` keys (one name or a list); ``allow_exact_matches``, ``suffix``
    (defaults: ``vap.option_defaults("asof")``). Returns the type of ``left``
    (pandas, polars or ``pyarrow.Table``).
    """
    from . import _arrow

    opts = dumps(options, on=on)
    out = pa.table(_vap.asof_join(_arrow(left), _arrow(right), opts))
    module = type(left).__module__
    if module.startswith("pandas"):
        return out.to_pandas()
    if module.startswith("polars"):
        import polars as pl

        return pl.from_arrow(out)
    return out


def fold(text: str) -> str:
    """Text as the lexicon matches it: NFKC, lower case, Simplified Chinese."""
    return _vap.fold(text)


def builtin_lexicon() -> dict[str, list[str]]:
    """vap's built-in phrase groups (urgency, price, question, answer)."""
    return json.loads(_vap.builtin_lexicon_json())["groups"]


def lexicon_count(lexicon: Mapping[str, Sequence[str]], text: str) -> dict[str, int]:
    """Matches per group of ``lexicon`` in one text (a quick way to test a lexicon)."""
    return json.loads(_vap.lexicon_count(dumps(lexicon), text))
