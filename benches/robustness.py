"""Robustness of vap's attribution and moments on two independent simulators.

sim 1 is vap's own (``vap.simulate`` at the settings of
``vap-core/tests/attribute_sim.rs``: 4 h, 130 entries/s); sim 2 is
``tests/sim2/sim2.py``, written from another specification (multiplicative
effects, a delayed gamma carryover of the pitch, heterogeneous explains,
answers held for a while, stalls that crash the online gauge, traffic bought
for flash sales). For every room it does what a user would: estimate the
transcript's clock offset and apply it, fit ``vap.attribute`` with the default
options on ``attribution_timeline("10s")``, run ``moments()`` with the default
options, and compares with the truth:

* per-factor session totals: ``Σ|estimate − truth| / Σ|truth|`` over the factor
  columns (a factor vap fits that has no effect in the simulator counts its
  whole estimate as error; the hosts are measured against vap's reference
  anchor, the truth re-based on it where the simulator's differs);
* cause first: the planted peak's cause is the top part (``baseline`` and
  ``unexplained`` aside) of ``decomposition.window(start, end)`` for every
  planted peak, and of ``decomposition.moment(m)`` for every detected GMV peak
  overlapping one (as ``attribute_sim.rs`` measures it);
* planted peaks detected: a ``peak`` moment on any metric within ±60 s;
* stalls reported: a ``drop`` moment on any metric with driver ``traffic``
  within ±60 s of a planted stall;
* the transcript offset's error.

``--variant`` fits other factor lists instead of vap's defaults, each built
from ``vap.default_factors(tl)`` (see ``VARIANTS``); several variants (a
comma-separated list, or ``all``) share each simulated room and print one
comparison table.

    .venv/bin/python benches/robustness.py                 # seeds 0-9, sim 1 at 4 h, sim 2 at 6 h
    .venv/bin/python benches/robustness.py --seeds 0-1 --hours2 2 --bootstrap 0 --verbose
    .venv/bin/python benches/robustness.py --variant old
    .venv/bin/python benches/robustness.py --variant all --bootstrap 0
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import vap

ROOT = Path(__file__).resolve().parents[1]
MARGIN_MS = 60_000
NOT_FACTORS = ("baseline", "traffic", "unexplained")


def load_sim2() -> Any:
    """The ``tests/sim2/sim2.py`` module (it is not a package)."""
    if "sim2" in sys.modules:
        return sys.modules["sim2"]
    spec = importlib.util.spec_from_file_location("sim2", ROOT / "tests" / "sim2" / "sim2.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sim2"] = mod
    spec.loader.exec_module(mod)
    return mod


# --- factor variants -----------------------------------------------------------

SPEECH = ("speech:urgency", "speech:price")
SPEECH_CARRYOVER = (0, 15_000, 30_000, 60_000, 120_000)
ANSWER_HOLDS = (30_000, 60_000, 90_000, 120_000)
S_CURVE = (3.0, 0.5)


def _is_event(f: vap.Factor) -> bool:
    return f.column == "explain:any" or f.column.startswith("promo:")


def _is_anchor(f: vap.Factor) -> bool:
    return f.column.startswith("host:")


def _is_answers(f: vap.Factor) -> bool:
    return f.column in ("answers", "speech:answer")


def _old(f: vap.Factor) -> vap.Factor:
    """The defaults before the shapes were searched: no carryover for events,
    urgency adstock with a fixed S curve, price adstock linear, answers held."""
    if _is_event(f):
        return dataclasses.replace(f, carryover=(0,), carryover_kind="adstock", saturation=None)
    if f.column == "speech:urgency":
        return dataclasses.replace(
            f, carryover=SPEECH_CARRYOVER, carryover_kind="adstock", saturation=S_CURVE
        )
    if f.column == "speech:price":
        return dataclasses.replace(
            f, carryover=SPEECH_CARRYOVER, carryover_kind="adstock", saturation=None
        )
    if _is_answers(f):
        return dataclasses.replace(
            f, carryover=ANSWER_HOLDS, carryover_kind="hold", saturation=None
        )
    return f


def _kind(kind: str) -> Callable[[vap.Factor], vap.Factor]:
    def edit(f: vap.Factor) -> vap.Factor:
        return f if _is_anchor(f) else dataclasses.replace(f, carryover_kind=kind)

    return edit


def _speech(**changes: Any) -> Callable[[vap.Factor], vap.Factor]:
    def edit(f: vap.Factor) -> vap.Factor:
        return dataclasses.replace(f, **changes) if f.column in SPEECH else f

    return edit


def _no_event_carryover(f: vap.Factor) -> vap.Factor:
    return dataclasses.replace(f, carryover=(0,)) if _is_event(f) else f


def _both(*edits: Callable[[vap.Factor], vap.Factor]) -> Callable[[vap.Factor], vap.Factor]:
    def edit(f: vap.Factor) -> vap.Factor:
        for e in edits:
            f = e(f)
        return f

    return edit


# name -> (what it changes, an edit of each default factor; None: vap's defaults as given)
VARIANTS: dict[str, tuple[str, Callable[[vap.Factor], vap.Factor] | None]] = {
    "default": ("vap's defaults as installed", None),
    "old": ("the defaults before shapes were searched", _old),
    "no_event_carryover": ("explain:any and promo:* without carryover", _no_event_carryover),
    "linear_speech": ("speech groups linear (kind auto)", _speech(saturation=None)),
    "s_speech": ("speech groups Hill(3, 0.5) fixed (kind auto)", _speech(saturation=S_CURVE)),
    "adstock_only": ("every carryover adstock", _kind("adstock")),
    "hold_only": ("every carryover hold", _kind("hold")),
    "hold_linear": (
        "every carryover hold, speech groups linear",
        _both(_kind("hold"), _speech(saturation=None)),
    ),
    "linear_answers": (
        "answers linear (the default before answers' saturation was searched)",
        lambda f: dataclasses.replace(f, saturation=None) if _is_answers(f) else f,
    ),
    "answer_holds_30s": (
        "answers held 30, 60, 90 or 120 s (the default before 10 s steps)",
        lambda f: dataclasses.replace(f, carryover=ANSWER_HOLDS) if _is_answers(f) else f,
    ),
    "answer_holds_30s_linear": (
        "answers linear, held 30, 60, 90 or 120 s (the answers' defaults before this release)",
        lambda f: (
            dataclasses.replace(f, carryover=ANSWER_HOLDS, saturation=None) if _is_answers(f) else f
        ),
    ),
    "hold_linear_no_event": (
        "hold_linear, explain:any and promo:* without carryover",
        _both(_kind("hold"), _speech(saturation=None), _no_event_carryover),
    ),
}


def variant_factors(name: str, tl: vap.Timeline) -> list[vap.Factor] | None:
    """The factors of a variant for a timeline (None: let ``attribute`` choose)."""
    edit = VARIANTS[name][1]
    if edit is None:
        return None
    out = [edit(f) for f in vap.default_factors(tl)]
    base = {f.name: f for f in vap.default_factors(tl)}
    assert all(base[f.name] == f for f in out if _is_anchor(f)), "anchors must stay"
    return out


@dataclass
class Planted:
    """A planted moment: its window, whether it is a peak, and its cause as a
    decomposition part name (``traffic`` or a factor column)."""

    kind: str
    start_ms: int
    end_ms: int
    peak: bool
    cause: str
    true_top: str | None = None  # the truth's own largest part by the same rule


@dataclass
class RoomResult:
    sim: str
    seed: int
    totals: dict[str, tuple[float, float]]  # factor -> (estimate, truth)
    reference: str
    r2: float | None
    peaks: int = 0
    window_right: int = 0
    truth_agrees: int = 0
    window_true_top: int = 0
    detected: int = 0
    moment_total: int = 0
    moment_right: int = 0
    stalls: int = 0
    stalls_reported: int = 0
    stalls_dropped: int = 0
    offset_error_s: float | None = None
    times: dict[str, float] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    variant: str = "default"
    chosen: dict[str, str] = field(default_factory=dict)  # factor -> the shape the search kept
    candidates: int = 0

    @property
    def error(self) -> float:
        return sum(abs(e - t) for e, t in self.totals.values())

    @property
    def truth(self) -> float:
        return sum(abs(t) for _, t in self.totals.values())


def _overlaps(m: Any, p: Planted, margin: int = MARGIN_MS) -> bool:
    return m.start_ms <= p.end_ms + margin and p.start_ms - margin <= m.end_ms


@dataclass
class Room:
    """A simulated room made ready to fit: the transcript offset estimated and
    applied, its attribution timeline and its moments (neither depends on the
    factors fitted)."""

    sim: str
    seed: int
    tl: vap.Timeline
    truth_of: Callable[[str], dict[str, float]]
    planted: list[Planted]
    moments: list[Any]
    offset_error_s: float | None
    times: dict[str, float]


def prepare(
    sim: str,
    seed: int,
    session: vap.Session,
    truth_of: Callable[[str], dict[str, float]],
    planted: list[Planted],
    offset_truth_ms: float,
    times: dict[str, float],
) -> Room:
    """What a user does before fitting (see the module docs)."""
    t = time.perf_counter()
    off = session.estimate_transcript_offset()
    if off.determined:
        session = off.apply(session)
    tl = session.attribution_timeline("10s")
    times["timeline"] = time.perf_counter() - t
    t = time.perf_counter()
    moments = list(session.moments())
    times["moments"] = time.perf_counter() - t
    err = abs(off.offset_ms - offset_truth_ms) / 1000.0 if off.determined else None
    return Room(sim, seed, tl, truth_of, planted, moments, err, times)


def evaluate(
    room: Room, variant: str, bootstrap: int | None, options: dict[str, Any] | None = None
) -> RoomResult:
    """Fits one room with a variant's factors and scores it (see the module docs)."""
    sim, seed, tl, planted, moments = room.sim, room.seed, room.tl, room.planted, room.moments
    times = dict(room.times)
    kw: dict[str, Any] = {}
    factors = variant_factors(variant, tl)
    if factors is not None:
        kw["factors"] = factors
    if bootstrap is not None:
        kw["bootstrap"] = bootstrap
    kw.update(options or {})
    t = time.perf_counter()
    fit = vap.attribute(tl, **kw)
    times["fit"] = time.perf_counter() - t
    fitted = {f.name for f in vap.default_factors(tl)}
    hosts = [c for c in tl.columns if c.startswith("host:")]
    refs = [h for h in hosts if h not in fitted]
    reference = refs[0].split(":", 1)[1] if refs else ""
    truth = room.truth_of(reference)
    est = {p.name: p.value for p in fit.decomposition.totals() if p.name not in NOT_FACTORS}
    totals = {k: (est.get(k, 0.0), truth.get(k, 0.0)) for k in sorted(set(est) | set(truth))}
    res = RoomResult(sim, seed, totals, reference, fit.diagnostics.r2, times=times, variant=variant)
    res.offset_error_s = room.offset_error_s
    res.candidates = fit.diagnostics.candidates
    for f in fit.model.to_dict()["factors"]:
        if not f["column"].startswith("host:"):
            sat = f["saturation"]
            if sat is None:
                shape = "lin"
            elif f.get("saturation_curve") == "log":
                shape = f"log{sat[1]:g}"
            else:
                shape = f"S{sat[0]:g},{sat[1]:g}"
            res.chosen[f["name"]] = f"{f['carryover_kind']} {f['half_life_ms'] // 1000}s {shape}"

    d = fit.decomposition
    for p in planted:
        if not p.peak:
            continue
        res.peaks += 1
        w = d.window(p.start_ms, p.end_ms)
        top = w.top.name if w.top else None
        res.truth_agrees += p.true_top == p.cause
        res.window_true_top += top == p.true_top
        if top == p.cause:
            res.window_right += 1
        else:
            parts = ", ".join(f"{q.name} {q.value:+.0f}" for q in w.parts[:4])
            res.misses.append(
                f"{sim} seed {seed}: {p.kind} at {p.start_ms} window top {top} ({parts}); "
                f"the truth's top {p.true_top}"
            )
        if any(m.kind == "peak" and _overlaps(m, p) for m in moments):
            res.detected += 1
        else:
            res.misses.append(f"{sim} seed {seed}: {p.kind} at {p.start_ms} not detected")
    for m in moments:
        if m.metric != d.target or m.kind != "peak":
            continue
        p = next((p for p in planted if p.peak and _overlaps(m, p, 0)), None)
        if p is None:
            continue
        res.moment_total += 1
        a = d.moment(m)
        if a.top is not None and a.top.name == p.cause:
            res.moment_right += 1
        else:
            top = a.top.name if a.top else None
            res.misses.append(f"{sim} seed {seed}: {p.kind} detected GMV moment top {top}")
    for p in planted:
        if p.peak:
            continue
        res.stalls += 1
        drops = [m for m in moments if m.kind == "drop" and _overlaps(m, p)]
        res.stalls_dropped += bool(drops)
        if any(m.driver == "traffic" for m in drops):
            res.stalls_reported += 1
        else:
            got = ", ".join(f"{m.metric}:{m.driver}" for m in drops) or "no drop"
            res.misses.append(f"{sim} seed {seed}: stall at {p.start_ms}: {got}")
    return res


# --- sim 1 ------------------------------------------------------------------

SIM1_COLUMNS = {
    "explain": "explain:any",
    "flash_sale": "promo:flash_sale",
    "coupon": "promo:coupon",
    "pitch": "speech:urgency",
    "answer": "answers",
}
SIM1_CAUSES = {
    "flash_sale": "promo:flash_sale",
    "pitch_burst": "speech:urgency",
    "traffic_wave": "traffic",
    "stream_stall": "traffic",
}


def sim1_truth(room: vap.SimRoom) -> Callable[[str], dict[str, float]]:
    """sim 1's factor truth by vap's column names, the hosts against a given
    reference anchor: sim 1 is additive in conversion with ``a1`` the
    reference, so host ``a`` against ``r`` adds ``(β_a − β_r) · online · m``
    while ``a`` hosts (``online · m = baseline / c0`` per second)."""
    tr = room.truth
    beta = {"a1": 0.0}
    out: dict[str, float] = {}
    for f in tr["factors"]:
        if f["name"].startswith("anchor:"):
            beta[f["name"].split(":", 1)[1]] = f["effect"]
        else:
            out[SIM1_COLUMNS[f["name"]]] = f["gmv"]
    exposure = np.asarray(tr["series"]["baseline"]) / tr["base_conversion"]
    t0, n = tr["series"]["start_ms"], len(exposure)
    shifts = room.data.to_pandas("shifts")
    hosting: dict[str, np.ndarray] = {a: np.zeros(n, dtype=bool) for a in beta}
    for row in shifts.itertuples():
        if row.role == "host":
            a = (row.start_ms.value // 1_000_000 - t0) // 1000
            b = (row.end_ms.value // 1_000_000 - t0) // 1000
            hosting.setdefault(row.anchor_id, np.zeros(n, dtype=bool))[max(0, a) : b] = True

    def truth_of(reference: str) -> dict[str, float]:
        res = dict(out)
        r = beta.get(reference, 0.0)
        for a, b in beta.items():
            if a != reference:
                res[f"host:{a}"] = float(((b - r) * exposure[hosting[a]]).sum())
        return res

    # With sim 1's own reference the re-based truth is sim 1's own.
    own = truth_of("a1")
    for f in tr["factors"]:
        if f["name"].startswith("anchor:"):
            col = f["name"].replace("anchor:", "host:")
            assert abs(own[col] - f["gmv"]) <= 1e-6 * max(1.0, abs(f["gmv"])), col
    return truth_of


def true_top(comps: dict[str, np.ndarray], t0: int, p: Planted) -> str:
    """The largest part in absolute value (as vap ranks them) of a planted
    window by vap's moment rule on per-second truth series from ``t0``: each
    component's sum over the window minus its length × its mean over 10 min
    either side."""
    n = len(next(iter(comps.values())))
    a, b = (p.start_ms - t0) // 1000, (p.end_ms - t0) // 1000
    ref = np.r_[max(0, a - 600) : a, b : min(n, b + 600)]
    parts = {k: v[a:b].sum() - (b - a) * v[ref].mean() for k, v in comps.items()}
    return max(parts, key=lambda k: abs(parts[k]))


def sim1_components(room: vap.SimRoom) -> dict[str, np.ndarray]:
    """sim 1's per-second truth as parts: traffic (``(online − e_ref) · c0 ·
    m``) and each factor (hosts against ``a1``); the baseline left out."""
    ser = room.truth["series"]
    base = np.asarray(ser["baseline"])
    online = np.asarray(ser["online"], dtype=float)
    e_ref = float(np.median(online))
    per_viewer = np.divide(base, online, out=np.zeros_like(base), where=online > 0)
    comps = {"traffic": per_viewer * (online - e_ref)}
    for f, v in zip(room.truth["factors"], ser["factors"]):
        name = f["name"]
        col = SIM1_COLUMNS.get(name, name.replace("anchor:", "host:"))
        comps[col] = np.asarray(v)
    return comps


def run_sim1(seed: int, hours: float) -> Room:
    times: dict[str, float] = {}
    t = time.perf_counter()
    room = vap.simulate(seed=seed, hours=hours, entries_per_second=130.0)
    times["simulate"] = time.perf_counter() - t
    planted = [
        Planted(m["cause"], m["start_ms"], m["end_ms"], m["peak"], SIM1_CAUSES[m["cause"]])
        for m in room.truth["moments"]
    ]
    comps = sim1_components(room)
    for p in planted:
        p.true_top = true_top(comps, room.truth["series"]["start_ms"], p)
    return prepare(
        "sim 1",
        seed,
        room.data,
        sim1_truth(room),
        planted,
        room.truth["clock_offset_ms"],
        times,
    )


# --- sim 2 ------------------------------------------------------------------


def run_sim2(seed: int, hours: float) -> Room:
    sim2 = load_sim2()
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="vap-sim2-") as tmp:
        t = time.perf_counter()
        room = sim2.simulate(seed, hours, tmp)
        times["simulate"] = time.perf_counter() - t
        t = time.perf_counter()
        session = vap.load_dir(room.dir)
        times["load"] = time.perf_counter() - t
    planted = [
        Planted(m["kind"], m["start_ms"], m["end_ms"], m["peak"], m["cause"], m["true_top"])
        for m in room.truth["moments"]
    ]
    return prepare(
        "sim 2",
        seed,
        session,
        room.factor_truth,
        planted,
        room.truth["clock_offset_ms"],
        times,
    )


# --- the tables ---------------------------------------------------------------


def _frac(a: int, b: int) -> str:
    return f"{a}/{b}" + (f" ({100 * a / b:.0f} %)" if b else "")


def summary_rows(results: list[RoomResult]) -> list[dict[str, Any]]:
    """One summary per simulator."""
    rows = []
    for sim in sorted({r.sim for r in results}):
        rs = [r for r in results if r.sim == sim]
        rel = [r.error / r.truth for r in rs if r.truth > 0]
        offs = [r.offset_error_s for r in rs if r.offset_error_s is not None]
        rows.append(
            {
                "sim": sim,
                "rooms": len(rs),
                "rel_median": statistics.median(rel),
                "rel_min": min(rel),
                "rel_max": max(rel),
                "rel_pooled": sum(r.error for r in rs) / sum(r.truth for r in rs),
                "window_right": sum(r.window_right for r in rs),
                "truth_agrees": sum(r.truth_agrees for r in rs),
                "window_true_top": sum(r.window_true_top for r in rs),
                "peaks": sum(r.peaks for r in rs),
                "moment_right": sum(r.moment_right for r in rs),
                "moment_total": sum(r.moment_total for r in rs),
                "detected": sum(r.detected for r in rs),
                "stalls_reported": sum(r.stalls_reported for r in rs),
                "stalls_dropped": sum(r.stalls_dropped for r in rs),
                "stalls": sum(r.stalls for r in rs),
                "offset_median_s": statistics.median(offs) if offs else float("nan"),
                "offset_max_s": max(offs) if offs else float("nan"),
                "undetermined": sum(r.offset_error_s is None for r in rs),
                "seconds_per_room": statistics.median(sum(r.times.values()) for r in rs),
            }
        )
    return rows


def factor_rows(results: list[RoomResult]) -> list[dict[str, Any]]:
    """Per simulator and factor: pooled estimate, truth and error."""
    rows = []
    for sim in sorted({r.sim for r in results}):
        rs = [r for r in results if r.sim == sim]
        total_err = sum(r.error for r in rs)
        total_truth = sum(r.truth for r in rs)
        names = sorted({k for r in rs for k in r.totals}, key=_factor_order)
        hosts = [k for k in names if k.startswith("host:")]
        groups = [(k, [k]) for k in names if not k.startswith("host:")]
        if hosts:
            groups.append(("host:* (all hosts)", hosts))
        for label, keys in groups:
            pairs = [r.totals[k] for r in rs for k in keys if k in r.totals]
            est = sum(e for e, _ in pairs)
            tru = sum(t for _, t in pairs)
            size = sum(abs(t) for _, t in pairs)
            err = sum(abs(e - t) for e, t in pairs)
            rows.append(
                {
                    "sim": sim,
                    "factor": label,
                    "truth": tru,
                    "estimate": est,
                    "ratio": est / tru if tru else float("nan"),
                    "rel": err / size if size else float("inf") if err else 0.0,
                    "share": err / total_truth,
                    "of_error": err / total_err if total_err else 0.0,
                }
            )
    return rows


def _factor_order(name: str) -> tuple[int, str]:
    order = [
        "explain:any",
        "promo:flash_sale",
        "promo:coupon",
        "promo:lucky_bag",
        "speech:urgency",
        "speech:price",
        "answers",
    ]
    return (order.index(name) if name in order else len(order), name)


def markdown(results: list[RoomResult]) -> str:
    out = [
        "| simulator | rooms | Σ\\|error\\|/Σ\\|truth\\| median (range) | pooled "
        "| cause first, planted peaks | cause first, detected GMV peaks "
        "| planted peaks detected | stalls reported (drop, driver traffic) "
        "| offset error median (max) | s per room |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summary_rows(results):
        und = f", {s['undetermined']} undetermined" if s["undetermined"] else ""
        out.append(
            f"| {s['sim']} | {s['rooms']} | {s['rel_median']:.3f} ({s['rel_min']:.3f}–{s['rel_max']:.3f}) "
            f"| {s['rel_pooled']:.3f} | {_frac(s['window_right'], s['peaks'])} "
            f"| {_frac(s['moment_right'], s['moment_total'])} | {_frac(s['detected'], s['peaks'])} "
            f"| {_frac(s['stalls_reported'], s['stalls'])}; a drop at all {s['stalls_dropped']} "
            f"| {s['offset_median_s']:.1f} s ({s['offset_max_s']:.1f} s){und} "
            f"| {s['seconds_per_room']:.1f} |"
        )
    out.append("")
    out.append(
        "The planted cause against the truth's own decomposition (the same window rule on "
        "the simulator's per-second expected GMV):"
    )
    out.append("")
    out.append(
        "| simulator | the truth's top part = the planted cause | vap's top = the truth's top |"
    )
    out.append("|---|---:|---:|")
    for s in summary_rows(results):
        out.append(
            f"| {s['sim']} | {_frac(s['truth_agrees'], s['peaks'])} "
            f"| {_frac(s['window_true_top'], s['peaks'])} |"
        )
    out += [
        "",
        "| simulator | factor | Σ truth | Σ estimate | estimate / truth "
        "| Σ\\|error\\|/Σ\\|truth\\| of the factor | error / Σ\\|truth\\| of all | share of the error |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in factor_rows(results):
        ratio = "—" if f["ratio"] != f["ratio"] else f"{f['ratio']:.2f}"
        rel = "—" if f["rel"] == float("inf") else f"{f['rel']:.2f}"
        out.append(
            f"| {f['sim']} | {f['factor']} | {f['truth']:,.0f} | {f['estimate']:,.0f} | {ratio} "
            f"| {rel} | {f['share']:.3f} | {100 * f['of_error']:.0f} % |"
        )
    return "\n".join(out)


RATIO_FACTORS = ("speech:urgency", "speech:price", "promo:flash_sale", "explain:any", "answers")


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.0f} %" if b else "—"


def comparison(results: list[RoomResult], variants: list[str]) -> str:
    """One row per variant: pooled and median error on each simulator, cause
    first, and the per-factor estimate / truth (pooled over the rooms)."""
    sims = sorted({r.sim for r in results})
    summ = {
        v: {s["sim"]: s for s in summary_rows([r for r in results if r.variant == v])}
        for v in variants
    }
    fac = {
        v: {(f["sim"], f["factor"]): f for f in factor_rows([r for r in results if r.variant == v])}
        for v in variants
    }
    fit_s = {
        v: {
            sim: sum(r.times["fit"] for r in results if r.variant == v and r.sim == sim)
            for sim in sims
        }
        for v in variants
    }
    labels = [s.replace("sim ", "sim") for s in sims]
    head = ["variant"]
    for lab in labels:
        head += [f"{lab} pooled", f"{lab} median"]
    head += ["mean pooled", "worst pooled"]
    head += ["cause first planted " + "/".join(labels), "cause first detected " + "/".join(labels)]
    head += ["fit s " + "/".join(labels)]
    out = ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    for v in variants:
        ss = [summ[v][sim] for sim in sims]
        pooled = [s["rel_pooled"] for s in ss]
        cells = [v]
        for s in ss:
            cells += [f"{s['rel_pooled']:.3f}", f"{s['rel_median']:.3f}"]
        cells += [f"{statistics.mean(pooled):.3f}", f"{max(pooled):.3f}"]
        cells.append(" / ".join(_pct(s["window_right"], s["peaks"]) for s in ss))
        cells.append(" / ".join(_pct(s["moment_right"], s["moment_total"]) for s in ss))
        cells.append(" / ".join(f"{fit_s[v][sim]:.2f}" for sim in sims))
        out.append("| " + " | ".join(cells) + " |")
    out += [
        "",
        "Estimate / truth of the factor's session totals pooled over the rooms, "
        + " / ".join(labels)
        + " (where the truth is 0, the pooled estimate in thousands, in brackets):",
        "",
        "| variant | " + " | ".join(RATIO_FACTORS) + " |",
        "|---" + "|---:" * len(RATIO_FACTORS) + "|",
    ]
    for v in variants:
        cells = [v]
        for name in RATIO_FACTORS:
            parts = []
            for sim in sims:
                f = fac[v].get((sim, name))
                if f is None:
                    parts.append("—")
                elif f["truth"] == 0:
                    parts.append(f"({f['estimate'] / 1000:+,.0f}k)")
                else:
                    parts.append(f"{f['ratio']:.2f}")
            cells.append(" / ".join(parts))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _variants(text: str) -> list[str]:
    names = list(VARIANTS) if text == "all" else [v.strip() for v in text.split(",")]
    for v in names:
        if v not in VARIANTS:
            raise SystemExit(f"unknown variant {v!r}; one of {', '.join(VARIANTS)} or all")
    return names


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b or a) + 1))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (default 0-9)")
    ap.add_argument("--hours1", type=float, default=4.0, help="sim 1 hours (default 4)")
    ap.add_argument("--hours2", type=float, default=6.0, help="sim 2 hours (default 6)")
    ap.add_argument(
        "--bootstrap", type=int, default=None, help="bootstrap replicates (default: vap's)"
    )
    ap.add_argument("--form", default=None, help="the model's form (default: vap's, auto)")
    ap.add_argument("--sims", default="1,2", help="which simulators (default 1,2)")
    ap.add_argument(
        "--variant",
        default="default",
        help="factor variant(s), comma-separated, or all: "
        + "; ".join(f"{k}: {d}" for k, (d, _) in VARIANTS.items()),
    )
    ap.add_argument("--verbose", action="store_true", help="per-room lines and every miss")
    ap.add_argument(
        "--opt",
        action="append",
        default=[],
        help="an attribute option as key=JSON value (repeatable), e.g. --opt 'estimator=\"ols\"'",
    )
    args = ap.parse_args(argv)
    options: dict[str, Any] = {} if args.form is None else {"form": args.form}
    for kv in args.opt:
        k, v = kv.split("=", 1)
        options[k] = json.loads(v)
    seeds = _seeds(args.seeds)
    sims = {s.strip() for s in args.sims.split(",")}
    variants = _variants(args.variant)
    print(
        f"vap {vap.__version__}: seeds {args.seeds}; sim 1 {args.hours1:g} h at 130 entries/s, "
        f"sim 2 {args.hours2:g} h; attribute defaults"
        + ("" if args.bootstrap is None else f" but bootstrap={args.bootstrap}")
        + "".join(f", {k}={v!r}" for k, v in options.items())
        + "; factors "
        + ", ".join(f"{v} ({VARIANTS[v][0]})" for v in variants)
    )
    start = time.perf_counter()
    results = []
    for name, run, hours in (("1", run_sim1, args.hours1), ("2", run_sim2, args.hours2)):
        if name not in sims:
            continue
        for seed in seeds:
            room = run(seed, hours)
            for v in variants:
                r = evaluate(room, v, args.bootstrap, options)
                results.append(r)
                if args.verbose:
                    parts = " ".join(f"{k}={e:.0f}/{t:.0f}" for k, (e, t) in r.totals.items())
                    timing = " ".join(f"{k} {s:.2f}s" for k, s in r.times.items())
                    chosen = "; ".join(f"{k} {c}" for k, c in r.chosen.items())
                    print(
                        f"{r.sim} seed {seed} {v}: Σ|err|/Σ|truth| {r.error / r.truth:.3f} "
                        f"R² {r.r2:.3f} ref {r.reference} · {parts} · {timing} · "
                        f"{r.candidates} candidates: {chosen}",
                        flush=True,
                    )
    wall = time.perf_counter() - start
    for v in variants:
        rs = [r for r in results if r.variant == v]
        if len(variants) == 1 or args.verbose:
            print(f"\n## {v}: {VARIANTS[v][0]}\n" if len(variants) > 1 else "")
            print(markdown(rs))
        misses = [m for r in rs for m in r.misses]
        if misses:
            print(
                f"\n{v}: {len(misses)} misses"
                + (":" if args.verbose else " (--verbose lists them)")
            )
            if args.verbose:
                for m in misses:
                    print("  " + m)
    print()
    print(comparison(results, variants))
    print(f"\nwall time {wall:.1f} s for {len(results)} fits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
