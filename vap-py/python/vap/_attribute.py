"""Attribution: how much each factor moved the metric (``vap_core::attribute``).

The model, its estimators, penalties and decomposition rules are documented on
``vap.attribute`` and in the Rust crate docs (``vap_core::attribute``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa

from . import _vap
from ._align import Duration, Timeline, to_instant_ms
from ._detect import Moment
from ._options import dumps, resolve
from ._progress import Progress, reporter
from ._vap import InvalidArgumentError

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    import polars

    from . import Session, Store


@dataclass(frozen=True)
class Factor:
    """A factor: a timeline ``column`` and how it acts (``vap_core::attribute::FactorSpec``).

    ``name``: the name in results (default: the column). ``carryover``: one
    duration or several to search (half-lives of a geometric adstock, or hold
    windows with ``carryover_kind="hold"``; ``"auto"`` searches both); ``0`` or
    empty for none. ``saturation``: ``(slope, inflexion)`` of a Hill curve, the
    inflexion relative to the column maximum, ``("log", scale)`` for
    ``ln(1 + x / (scale · maximum))``, or ``"auto"`` (linear or S-shaped,
    searched; under the log link the logarithmic curve too). Every combination is a candidate; the blocked
    cross-validation keeps one per factor and the fitted model's ``factors``
    say which. ``sign``: ``"free"``, ``"positive"``,
    ``"negative"``. A field left ``None`` takes the core's default; the core
    checks every field."""

    column: str
    name: str | None = None
    carryover: Sequence[Duration] | Duration | None = None
    carryover_kind: str | None = None
    saturation: tuple[float, float] | tuple[str, float] | str | None = None
    sign: str | None = None

    def _spec(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


FactorLike = Union[Factor, str, Mapping[str, Any]]
"""A factor: a ``Factor``, a column name, or a dict of ``Factor``'s fields."""


def attribute_options(**options: Any) -> str:
    """The ``AttributeOptions`` of the keyword arguments, checked by the core
    and whole (defaults filled), as JSON (see ``vap.attribute``;
    ``vap.option_defaults("attribute")``)."""
    return json.dumps(resolve("attribute", options))


@dataclass(frozen=True)
class Coefficient:
    """A fitted coefficient: analytic standard error and interval for OLS and
    the unpenalised Poisson model, moving-block bootstrap ones always. For a
    factor, the form the cross-validation chose: ``half_life_ms``,
    ``carryover_kind`` (``"adstock"`` or ``"hold"``) and ``saturation``
    (``(slope, inflexion)`` of a Hill curve, ``("log", scale)`` of the
    logarithmic one, ``None`` when linear)."""

    name: str
    role: str  # base, traffic, control, session, factor
    half_life_ms: int
    value: float
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    boot_se: float | None
    boot_low: float | None
    boot_high: float | None
    carryover_kind: str | None = None
    saturation: tuple[float, float] | tuple[str, float] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.saturation, dict):
            object.__setattr__(self, "saturation", _saturation(self.saturation))


def _saturation(sat: Any) -> Any:
    """A saturation as the core writes it, in ``Factor``'s form: ``"auto"``,
    ``None``, ``(slope, inflexion)`` or ``("log", scale)``."""
    if sat is None or isinstance(sat, str):
        return sat
    if sat.get("curve") == "log":
        return ("log", sat["inflexion"])
    return (sat["slope"], sat["inflexion"])


@dataclass(frozen=True)
class Confounded:
    """Two factors the data cannot tell apart: their columns as fitted
    correlate at ``correlation`` (0.9 or more), so how their joint part splits
    between them is arbitrary; read their sum."""

    a: str
    b: str
    correlation: float


@dataclass(frozen=True)
class Diagnostics:
    """Fit diagnostics: in-sample and time-ordered holdout fit, collinearity
    (VIF per factor, condition number), residual autocorrelation, the pairs of
    factors the data cannot separate (``confounded``), the form fitted
    (``form``) and, with ``form="auto"``, each form's cross-validated mean
    squared error per bin (``form_cv``), warnings."""

    n_bins: int
    n_dropped: int
    n_coefficients: int
    r2: float | None
    nrmse: float | None
    holdout_r2: float | None
    holdout_nrmse: float | None
    holdout_mape: float | None
    vif: list[tuple[str, float]]
    condition_number: float | None
    durbin_watson: float | None
    residual_autocorrelation: float | None
    candidates: int
    confounded: list[Confounded] = field(default_factory=list)
    form: str = ""
    form_cv: list[tuple[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        pairs = [Confounded(**c) if isinstance(c, dict) else c for c in self.confounded]
        object.__setattr__(self, "confounded", pairs)
        object.__setattr__(self, "form_cv", [tuple(p) for p in self.form_cv])


@dataclass(frozen=True)
class Part:
    """A component's total (``baseline``, ``traffic``, a factor or
    ``unexplained``) with its bootstrap interval and share."""

    name: str
    value: float
    low: float | None
    high: float | None
    share: float | None


@dataclass(frozen=True)
class MomentAttribution:
    """A moment's excess split across traffic, the factors and the baseline's
    drift; ``parts`` are ranked (``unexplained`` last) and sum to ``excess``."""

    metric: str
    start_ms: int
    end_ms: int
    excess: float
    parts: list[Part]
    reference_ms: tuple[int, int]

    @property
    def top(self) -> Part | None:
        """The largest part other than ``unexplained`` and ``baseline``."""
        return next((p for p in self.parts if p.name not in ("unexplained", "baseline")), None)

    def to_pandas(self) -> pandas.DataFrame:
        """One row per part."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.parts])


@dataclass(frozen=True)
class GroupTotals:
    """Totals inside a group of windows (an anchor's shifts, a product's explains)."""

    label: str
    bins: int
    actual: float
    prediction: float
    parts: dict[str, float]


def _moment_attr(d: dict[str, Any]) -> MomentAttribution:
    d = dict(d)
    d["parts"] = [Part(**p) for p in d["parts"]]
    d["reference_ms"] = tuple(d["reference_ms"])
    return MomentAttribution(**d)


def _groups(rows: list[dict[str, Any]]) -> list[GroupTotals]:
    return [
        GroupTotals(
            label=r["label"],
            bins=r["bins"],
            actual=r["actual"],
            prediction=r["prediction"],
            parts={k: v for k, v in r["parts"]},
        )
        for r in rows
    ]


class Decomposition:
    """Per bin: ``baseline + traffic + Σ factors = prediction`` exactly."""

    __slots__ = ("_inner",)

    def __init__(self, inner: _vap.Decomposition):
        self._inner = inner

    def __len__(self) -> int:
        return len(self._inner)

    @property
    def target(self) -> str:
        """The explained column."""
        return self._inner.target()

    @property
    def factors(self) -> list[str]:
        """Factor names."""
        return self._inner.factors()

    def to_arrow(self) -> pa.Table:
        """``time``, ``session_id``, ``actual``, ``prediction``, ``baseline``,
        ``traffic``, one column per factor (null where a bin was not usable)."""
        return pa.table(self._inner.to_arrow())

    def to_pandas(self) -> pandas.DataFrame:
        """As pandas, indexed by ``time`` (UTC)."""
        return self.to_arrow().to_pandas().set_index("time")

    def to_polars(self) -> polars.DataFrame:
        """As polars."""
        import polars as pl

        return pl.from_arrow(self.to_arrow())  # type: ignore[return-value]

    def totals(self) -> list[Part]:
        """Session totals: baseline, traffic, every factor and the unexplained
        remainder (they sum to the actual total), with bootstrap intervals."""
        return [Part(**p) for p in json.loads(self._inner.totals_json())]

    def _repr_html_(self) -> str:
        """The session totals in Jupyter."""
        return _totals_html(f"vap.Decomposition of {self.target}: {len(self)} bins", self.totals())

    def totals_frame(self) -> pandas.DataFrame:
        """``totals()`` as a DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(p) for p in self.totals()])

    def totals_by(self, groups: Mapping[str, Sequence[tuple[Any, Any]]]) -> list[GroupTotals]:
        """Totals inside each group of ``(start, end)`` windows."""
        g = [
            [str(k), [[to_instant_ms(a, "start"), to_instant_ms(b, "end")] for a, b in v]]
            for k, v in groups.items()
        ]
        return _groups(json.loads(self._inner.totals_by_json(json.dumps(g))))

    def totals_by_anchor(self, sessions: Session | Sequence[Session]) -> list[GroupTotals]:
        """Totals over each anchor's host shifts."""
        return _groups(json.loads(self._inner.totals_by_anchor_json(_sessions(sessions))))

    def totals_by_shift(self, sessions: Session | Sequence[Session]) -> list[GroupTotals]:
        """Totals per host shift (labels ``"<anchor>@<start ms>"``), in time order."""
        return _groups(json.loads(self._inner.totals_by_shift_json(_sessions(sessions))))

    def totals_by_product(self, sessions: Session | Sequence[Session]) -> list[GroupTotals]:
        """Totals while each product is explained."""
        return _groups(json.loads(self._inner.totals_by_product_json(_sessions(sessions))))

    def moment(self, moment: Moment, window: Duration | None = None) -> MomentAttribution:
        """Splits a moment's excess (its ``magnitude``; the moment must be on
        this model's target) against the reference window ``window / 2`` either
        side (default: the detector's window, ``vap.option_defaults("split")``)."""
        if moment.metric != self.target:
            raise InvalidArgumentError(
                f"the moment is on {moment.metric!r}, the model on {self.target!r}"
            )
        return self.moments([moment], window)[0]

    def moments(
        self, moments: Sequence[Moment], window: Duration | None = None
    ) -> list[MomentAttribution]:
        """``moment`` for each of ``moments`` on this model's target (others are
        skipped)."""
        rows = json.dumps([asdict(m) for m in moments])
        out = json.loads(self._inner.moments_json(rows, dumps(window=window)))
        return [_moment_attr(m) for m in out]

    def window(self, start: Any, end: Any, **options: Any) -> MomentAttribution:
        """Splits the excess of ``[start, end)``: ``excess`` if given, else the
        actual total minus the reference window's mean per bin times the bins;
        ``window`` as in ``moment``."""
        out = self._inner.window_json(
            to_instant_ms(start, "start"), to_instant_ms(end, "end"), dumps(options)
        )
        return _moment_attr(json.loads(out))

    def __repr__(self) -> str:
        return (
            f"<vap.Decomposition of {self.target}: {len(self)} bins, {len(self.factors)} factors>"
        )


def _sessions(sessions: Session | Sequence[Session]) -> list[_vap.Session]:
    if hasattr(sessions, "_inner"):
        return [sessions._inner]  # type: ignore[union-attr]
    return [s._inner for s in sessions]  # type: ignore[union-attr]


class RoomModel:
    """A fitted single-room model: save it in the store, apply it to a new
    session of the room to decompose it without refitting."""

    __slots__ = ("_inner",)

    def __init__(self, inner: _vap.RoomModel):
        self._inner = inner

    def apply(self, timeline: Timeline) -> Decomposition:
        """Decomposes a timeline of the room (same step, from
        ``Session.attribution_timeline``) with the fitted coefficients. A new
        session gets the mean of the fitted sessions' effects."""
        return Decomposition(self._inner.apply(timeline._inner))

    def save(self, store: Store, name: str) -> None:
        """Saves the model as ``rooms/<room>/models/<name>.json``, atomically."""
        self._inner.save(store._inner, name)

    @staticmethod
    def load(store: Store, room: str, name: str) -> RoomModel:
        """Loads a saved model."""
        return RoomModel(_vap.RoomModel.load(store._inner, room, name))

    def to_json(self) -> str:
        """The model as JSON."""
        return self._inner.to_json()

    @staticmethod
    def from_json(text: str) -> RoomModel:
        """Reads a model from JSON (format and version checked)."""
        return RoomModel(_vap.RoomModel.from_json(text))

    def to_dict(self) -> dict[str, Any]:
        """The model as a dict."""
        return json.loads(self.to_json())

    def __repr__(self) -> str:
        d = self.to_dict()
        return f"<vap.RoomModel room={d['room_id']!r} sessions={len(d['sessions'])} target={d['options']['target']!r}>"


@dataclass(frozen=True)
class Interval:
    """A value with its bootstrap 95 % interval (``low``/``high`` NaN without
    replicates)."""

    value: float
    low: float
    high: float

    @staticmethod
    def of(d: Mapping[str, Any] | None) -> Interval | None:
        """The interval of the core's JSON form (``None`` for ``None``)."""
        return None if d is None else Interval(_num(d["value"]), _num(d["low"]), _num(d["high"]))


def _num(v: Any) -> float:
    return float("nan") if v is None else float(v)


@dataclass(frozen=True)
class SpendResponse:
    """How one column (viewers or entries) responds to the ad spend: the
    chosen carryover half-life, the half-lives the cross-validation cannot tell
    from it (the intervals span them), the rise per yuan spent per bin (for
    entries: paid entries per yuan), the paid total and share."""

    column: str
    carryover_ms: int
    plausible_ms: list[int]
    per_yuan: Interval
    cv: list[dict[str, float]]
    exit_rate: float | None
    paid: float
    share: float

    @staticmethod
    def of(d: Mapping[str, Any] | None) -> SpendResponse | None:
        """The response of the core's JSON form (``None`` for ``None``)."""
        if d is None:
            return None
        return SpendResponse(
            **{**d, "per_yuan": Interval.of(d["per_yuan"]), "share": _num(d["share"])}
        )


@dataclass(frozen=True)
class PaidTraffic:
    """Traffic split into paid and natural (``Attribution.paid``): the
    entries and the viewers modelled on the ad spend carried over, the part of
    the traffic the paid viewers account for, their predicted GMV and the
    return on ad spend with intervals; ``to_pandas()`` gives the per-bin series
    (see ``vap_core::attribute::PaidTraffic`` for the model)."""

    spend_column: str
    spend: float
    viewers: SpendResponse
    entries: SpendResponse | None
    paid_traffic: float | None
    paid_gmv: Interval | None
    roi: Interval | None
    notes: list[str]
    series: dict[str, list[float]]

    @staticmethod
    def of(d: Mapping[str, Any] | None) -> PaidTraffic | None:
        """The split of the core's JSON form (``None`` for ``None``)."""
        if d is None:
            return None
        return PaidTraffic(
            spend_column=d["spend_column"],
            spend=d["spend"],
            viewers=SpendResponse.of(d["viewers"]),  # type: ignore[arg-type]
            entries=SpendResponse.of(d["entries"]),
            paid_traffic=d["paid_traffic"],
            paid_gmv=Interval.of(d["paid_gmv"]),
            roi=Interval.of(d["roi"]),
            notes=list(d["notes"]),
            series={k: [_num(x) for x in v] for k, v in d["series"].items()},
        )

    def to_pandas(self) -> pandas.DataFrame:
        """The per-bin series (``spend``, ``viewers``, ``paid_viewers``,
        ``paid_entries``, ``paid_traffic``, ``paid_gmv``) indexed by the bin's
        start (UTC)."""
        import pandas as pd

        s = self.series
        n = len(s["time_ms"])
        cols = {k: v for k, v in s.items() if k != "time_ms" and len(v) == n}
        idx = pd.to_datetime(s["time_ms"], unit="ms", utc=True)
        return pd.DataFrame(cols, index=pd.Index(idx, name="time"))


@dataclass(frozen=True)
class MomentAds:
    """The ads inside a moment: spend, paid entries, mean paid viewers and
    their share, the part of the moment's traffic part the ads brought (against
    its reference window), the paid viewers' GMV and its return on the spend."""

    spend: float
    paid_entries: float | None
    paid_viewers: float
    paid_share: float
    paid_traffic: float | None
    paid_gmv: Interval | None
    roi: Interval | None


class _Fitted:
    """What every fitted model shows: its penalty and its coefficients as a
    DataFrame (from ``model`` and ``coefficients``)."""

    __slots__ = ()
    model: RoomModel
    coefficients: list[Coefficient]

    @property
    def penalty(self) -> float:
        """The penalty used (chosen by cross-validation unless fixed)."""
        return float(self.model.to_dict()["penalty"])

    def summary(self) -> pandas.DataFrame:
        """The coefficients as a DataFrame (one row each)."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.coefficients]).set_index("name")

    def _coefficients_html(self, caption: str) -> str:
        """The coefficients with their intervals, as an HTML table."""
        from . import _display

        return _display.table(
            caption,
            ["name", "value", "low", "high"],
            [
                (
                    c.name,
                    _display.number(c.value),
                    _display.number(c.ci_low),
                    _display.number(c.ci_high),
                )
                for c in self.coefficients
            ],
        )


class Attribution(_Fitted):
    """A fitted attribution model: coefficients, cross-validation curve,
    diagnostics, the decomposition of the fitted bins, the room model and,
    where the timeline has ad spend, the split of traffic into paid and
    natural (``paid``)."""

    __slots__ = ("_inner", "coefficients", "cv", "diagnostics", "decomposition", "model", "paid")

    def __init__(self, inner: _vap.Attribution):
        self._inner = inner
        self.coefficients = [Coefficient(**c) for c in json.loads(inner.coefficients_json())]
        self.cv: list[dict[str, float]] = json.loads(inner.cv_json())
        d = json.loads(inner.diagnostics_json())
        d["vif"] = [tuple(v) for v in d["vif"]]
        self.diagnostics = Diagnostics(**d)
        self.decomposition = Decomposition(inner.decomposition())
        self.model = RoomModel(inner.model())
        self.paid: PaidTraffic | None = PaidTraffic.of(json.loads(inner.paid_json()))

    def _repr_html_(self) -> str:
        """The fit in Jupyter: totals with their intervals, then the coefficients."""

        d = self.diagnostics
        head = _totals_html(
            f"vap.Attribution of {self.decomposition.target}: R² {d.r2:.3f}, penalty {self.penalty:.3g}",
            self.decomposition.totals(),
        )
        return head + self._coefficients_html("coefficients")

    def __repr__(self) -> str:
        return (
            f"<vap.Attribution of {self.decomposition.target}: {len(self.coefficients)} coefficients, "
            f"R² {self.diagnostics.r2:.3f}, penalty {self.penalty:.3g}>"
        )


class RoomFit(_Fitted):
    """A room model fitted from per-session statistics (``RoomPlan.fit``,
    ``Store.fit_room_model_by_sessions``, ``vap.spark.fit_room_model``): the
    model, its coefficients (bootstrap intervals), the penalty's
    cross-validation curve and what can be diagnosed from sums: usable bins,
    in-sample R², VIF per factor, condition number, candidates searched,
    warnings. Decompose each session with ``model.apply``."""

    __slots__ = (
        "candidates",
        "coefficients",
        "condition_number",
        "cv",
        "model",
        "n_bins",
        "n_dropped",
        "r2",
        "vif",
        "warnings",
    )

    def __init__(self, inner: _vap.RoomFit):
        d = json.loads(inner.fit_json())
        self.model = RoomModel(inner.model())
        self.coefficients = [Coefficient(**c) for c in d["coefficients"]]
        self.cv: list[dict[str, float]] = d["cv"]
        self.n_bins: int = d["n_bins"]
        self.n_dropped: int = d["n_dropped"]
        self.r2: float | None = d["r2"]
        self.vif = [tuple(v) for v in d["vif"]]
        self.condition_number: float | None = d["condition_number"]
        self.candidates: int = d["candidates"]
        self.warnings: list[str] = d["warnings"]

    def _repr_html_(self) -> str:
        """The fit in Jupyter: its coefficients with their (bootstrap) intervals."""
        from . import _display

        return self._coefficients_html(
            f"vap.RoomFit over {len(self.model.to_dict()['sessions'])} sessions: "
            f"{self.n_bins} bins, R² {_display.number(self.r2)}, penalty {self.penalty:.3g}"
        )

    def __repr__(self) -> str:
        return (
            f"<vap.RoomFit: {len(self.coefficients)} coefficients over {self.n_bins} bins, "
            f"penalty {self.penalty:.3g}>"
        )


class RoomPlan:
    """A room's model fitted from per-session statistics, so that the room's
    history is never in one place (``vap_core::attribute::RoomPlan``):

    1. ``RoomPlan.summarise(timeline, **options)`` on each session's
       attribution timeline (small JSON text);
    2. ``RoomPlan.from_summaries(summaries, **options)``: the sessions in
       order, the room's columns and factors, each factor's saturation scale
       and the price line;
    3. ``plan.gram(timeline)`` on each session: its rows of the room's design
       summed per quarter block (bytes, about ``8·p²`` per block);
    4. ``plan.fit(grams)``: the carryover search, cross-validated penalty,
       final fit and bootstrap from those sums: the model
       ``Store.fit_room_model`` gives, to rounding, for the exposure and
       linear forms. ``form="auto"`` is fitted as the exposure form (a warning
       says so); the log link needs the rows and is refused.

    Each step runs where the sessions are (``vap.spark.fit_room_model`` runs
    steps 1 and 3 on Spark's executors). A plan pickles (as its JSON)."""

    __slots__ = ("_inner",)

    def __init__(self, inner: _vap.RoomPlan):
        self._inner = inner

    @staticmethod
    def summarise(timeline: Timeline, **options: Any) -> str:
        """A session's summary (JSON text) for the plan, from its attribution
        timeline (``Session.attribution_timeline``); ``options`` as
        ``vap.attribute`` (the target)."""
        return _vap.session_summary(timeline._inner, dumps(options))

    @staticmethod
    def from_summaries(summaries: Sequence[str], **options: Any) -> RoomPlan:
        """Plans the room's fit from every session's summary (any order, each
        once) under the model's options (as ``vap.attribute``); every problem
        is listed in one ``InvalidArgumentError``."""
        return RoomPlan(_vap.RoomPlan.new(list(summaries), dumps(options)))

    def gram(self, timeline: Timeline) -> bytes:
        """One session's statistics (bytes) from its attribution timeline."""
        return self._inner.gram(timeline._inner)

    def fit(self, grams: Sequence[bytes], *, progress: Progress = True) -> RoomFit:
        """The room's model from every session's statistics (any order, each
        once). ``progress``: a bar over the carryover search and the bootstrap
        (as ``vap.attribute``)."""
        with reporter(progress, "room fit") as cb:
            return RoomFit(self._inner.fit([bytes(g) for g in grams], cb))

    def to_dict(self) -> dict[str, Any]:
        """The plan as a dict: ``sessions`` (in the room's order), ``options``,
        ``columns``, ``factors``, ``maxima``, ``price``, ``warnings``."""
        out: dict[str, Any] = json.loads(self.to_json())
        return out

    @property
    def sessions(self) -> list[str]:
        """The sessions, in the room's order (start, then id)."""
        return list(self.to_dict()["sessions"])

    def to_json(self) -> str:
        """The plan as JSON."""
        return self._inner.to_json()

    @staticmethod
    def from_json(text: str) -> RoomPlan:
        """Reads a plan from JSON (format and version checked)."""
        return RoomPlan(_vap.RoomPlan.from_json(text))

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (RoomPlan.from_json, (self.to_json(),))

    def __repr__(self) -> str:
        return f"<vap.RoomPlan of {len(self.sessions)} sessions>"


def attribute(timeline: Timeline, *, progress: Progress = True, **options: Any) -> Attribution:
    """Fits the single-room attribution model on a timeline.

    The target (default ``order_gmv``) is regressed on factors (default: product
    explains, promotions by kind, urgency / price / answer phrase groups, the
    anchors but the one on air the longest) with traffic as the exposure:

    * ``form="exposure"``: ``y = e·(β0 + Σβ·x)``, ``e`` the online viewers
      (× the expected order value of what is in focus for a target in yuan);
    * ``form="log_link"``: ``y ~ Poisson(e·exp(β0 + Σβ·x))``, factors that
      multiply;
    * ``form="linear"``: ``y = β0 + γ·e + Σβ·x``;
    * ``form="auto"`` (default): exposure or log link, whichever predicts
      the target better on the blocked cross-validation's folds (mean squared
      error per bin); ``diagnostics.form`` says which, ``diagnostics.form_cv``
      gives both scores.

    ``estimator``: ``"ridge"`` (``‖y − Zb‖² + λ·Σ(s·β)²``, scikit-learn's
    ``Ridge(alpha=λ)`` with ``standardize=False``), ``"elastic_net"``
    (scikit-learn's / linfa's ``ElasticNet`` scaling, ``l1_ratio``), ``"ols"``.
    The penalty is chosen by blocked time-series cross-validation (``folds``,
    ``gap``) unless ``penalty=`` is given; carryover durations are searched;
    ``bootstrap`` moving-block replicates (``block``, ``seed``) give intervals.
    Other options: ``exposure``, ``price_level``, ``factors`` (``Factor``s,
    column names or dicts), ``trend``, ``time_of_day``, ``session_effects``,
    ``intercept``, ``standardize``, ``penalties``, ``holdout``,
    ``max_candidates``. ``progress``: a bar over the bootstrap once the fit
    has run a second (``False``: none; a function: ``(stage, done,
    total)``); Ctrl-C stops the fit cleanly (``KeyboardInterrupt``).
    """
    with reporter(progress, "attribute") as cb:
        return Attribution(_vap.attribute(timeline._inner, dumps(options), cb))


def default_factors(timeline: Timeline) -> list[Factor]:
    """The factors ``attribute`` uses when none are given."""
    out = []
    for f in json.loads(_vap.default_factors_json(timeline._inner)):
        sat = f.get("saturation")
        out.append(
            Factor(
                column=f["column"],
                name=f["name"],
                carryover=tuple(f["carryover_ms"]) or None,
                carryover_kind=f["carryover_kind"],
                saturation=_saturation(sat),
                sign=f["sign"],
            )
        )
    return out


def _totals_html(caption: str, parts: list[Part]) -> str:
    from . import _display

    rows = [
        (
            p.name,
            _display.number(p.value),
            "—" if p.low is None else f"{_display.number(p.low)} … {_display.number(p.high)}",
            _display.percent(p.share),
        )
        for p in parts
    ]
    return _display.table(caption, ["part", "total", "interval", "share"], rows)
