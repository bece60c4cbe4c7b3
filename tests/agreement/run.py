"""Runs tests/agreement/calls.json through the Python package; prints the
results as JSON (one entry per call: its result, or its error code)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

import vap

HERE = Path(__file__).parent


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _timeline(tl: vap.Timeline) -> dict[str, Any]:
    m = tl.to_numpy()
    return {
        "rows": len(tl),
        "step_ms": tl.step_ms,
        "start_ms": int(tl.time_ms[0]) if len(tl) else None,
        "columns": tl.columns,
        "sums": [float(np.nansum(m[:, j])) for j in range(m.shape[1])],
        "missing": [int(tl.missing(c).sum()) for c in tl.columns],
    }


def _moment(m: vap.Moment) -> dict[str, Any]:
    return {
        "metric": m.metric,
        "start_ms": m.start_ms,
        "end_ms": m.end_ms,
        "kind": m.kind,
        "driver": m.driver,
        "magnitude": m.magnitude,
        "share": m.share,
    }


def _replay(r: dict[str, Any]) -> dict[str, Any]:
    """The parts of a replay both bindings must agree on."""
    return {
        "headline": [[f["key"], f["value"], f["source"]] for f in r["headline"]],
        "quality": [[n["stream"], n["kind"], n["start_ms"]] for n in r["quality"]["notes"]],
        "moments": [
            [
                m["rank"],
                m["metric"],
                m["start_ms"],
                m["excess"],
                [[p["name"], p["value"]] for p in m["parts"]],
            ]
            for m in r["moments"]
        ],
        "products": [
            [
                p["product_id"],
                p["explain_minutes"],
                p["gmv"],
                (p["contribution"] or {}).get("value"),
            ]
            for p in r["products"]
        ],
        "anchors": [
            [a["anchor_id"], a["gmv_per_hour"]["value"], a["effect"]["value"]] for a in r["anchors"]
        ],
        "questions": r["questions"]["stats"],
        "model_error": r["model_error"],
    }


def run_call(call: dict[str, Any], rooms: dict[str, vap.Session], series: dict) -> Any:
    op = call["op"]
    o = call.get("options", {})
    if op == "simulate":
        r = vap.simulate(**o)
        s = r.data.summary()
        return {
            "session": s["session_id"],
            "start_ms": r.data.session["start_ms"],
            "orders": s["gmv"]["paid_orders"],
            "gmv": s["gmv"]["gross"],
            "comments": s["comments"],
        }
    if op == "read_sources":
        fx = HERE.parent / "fixtures" / "imports"
        got = vap.read_sources(*[(fx / f, fmt) for f, fmt in call["files"]], **o)
        rep = got.source_report or {}
        return {
            "session": [
                got.session["id"],
                got.session["room_id"],
                got.session["start_ms"],
                got.session["end_ms"],
            ],
            "rows": {
                t: got.num_rows(t)
                for t in ("comments", "orders", "segments", "products", "metrics")
            },
            "metrics": sorted((m["name"], m["kind"]) for m in got.metrics),
            "facts": got.session.get("facts", {}),
            "gaps": got.session.get("gaps", []),
            "report": {
                k: rep.get(k)
                for k in ("files", "fields", "dropped", "duplicates", "checks", "notes", "offsets")
            },
        }
    if op == "defaults":
        return {name: vap.option_defaults(name) for name in vap.OPTION_SETS}
    if op == "resolve":
        return vap.resolve_options(call["set"], **o)
    if op == "segment":
        f = {"pelt": vap.pelt, "dynp": vap.dynp, "binseg": vap.binseg}[call["method"]]
        seg = f(series[call["series"]], **o)
        return {"breakpoints": seg.breakpoints, "penalized_cost": seg.penalized_cost}
    if op == "question_kind":
        return [vap.question_kind(t) for t in call["texts"]]
    if op == "playbook":
        pb = vap.playbook([rooms[r] for r in call["rooms"]], **o).to_dict()
        return {
            "anchors": [
                [a["anchor_id"], a["category"], a["evidence"]["value"], a["evidence"]["weak"]]
                for a in pb["anchors"]
            ],
            "flash": pb["flash_sales"],
            "recommendations": [[r["kind"], r["weak"]] for r in pb["recommendations"]],
            "draft": pb["draft"]["items"],
        }
    if op == "room_plan":
        tls = [rooms[r].attribution_timeline(**call.get("timeline", {})) for r in call["rooms"]]
        plan = vap.RoomPlan.from_summaries([vap.RoomPlan.summarise(t, **o) for t in tls], **o)
        grams = [plan.gram(t) for t in tls]
        fit = plan.fit(grams, progress=False)
        return {
            "sessions": plan.sessions,
            "gram_bytes": [len(g) for g in grams],
            "penalty": fit.penalty,
            "coefficients": [[c.name, c.value, c.boot_low, c.boot_high] for c in fit.coefficients],
            "n_bins": fit.n_bins,
            "r2": fit.r2,
            "warnings": fit.warnings,
        }
    if op == "run_sheet_csv":
        return vap.read_run_sheet(call["sheet"]).to_csv()
    if op == "playbook_html":
        return vap.playbook([rooms[r] for r in call["rooms"]], **o).to_html(**call["report"])
    s = rooms[call["room"]]
    if op == "live":
        live = vap.LiveSession(s, **o)
        if "events" in call:
            live.append(call["events"])
        for batch in vap.live_feed(s, every=call["every"]):
            live.append(batch)
        return {
            "watermark": live.watermark_ms,
            "bins": len(live.timeline()),
            "orders": float(live.timeline().to_pandas()["orders"].sum()),
            "moments": [[m.metric, m.start_ms, m.end_ms, m.kind] for m in live.moments()],
            "alerts": [
                [a.kind, a.at_ms, a.start_ms, a.end_ms, a.metric, a.questions, [f.name for f in a.factors]]
                for a in live.alerts
            ],
        }
    if op == "plan":
        r = s.with_plan(vap.read_run_sheet(call["sheet"])).plan_vs_actual(**o)
        eff = lambda e: None if e is None else [e.value, e.low, e.high]  # noqa: E731
        return {
            "counts": [r.on_plan, r.off_plan, r.added],
            "items": [
                [d.kind, d.status, d.subject, d.planned, d.actual, d.start_delta_ms, eff(d.effect)]
                + [d.points_said, d.points_missed]
                for d in r.items
            ],
            "total": eff(r.effect_total),
        }
    if op == "replay":
        return _replay(s.replay(**o).to_dict())
    if op == "questions":
        t = s.questions(**o).to_pylist()
        return [[q["ts_ms"], q["kind"], q["product_id"], q["answer_ms"]] for q in t]
    if op == "subtitles":
        return s.subtitles(**o)
    if op == "report":
        return s.replay(**call.get("replay", {})).to_html(**o)
    if op == "timeline":
        return _timeline(s.timeline(**o))
    if op == "attribution_timeline":
        return _timeline(s.attribution_timeline(**o))
    if op == "moments":
        return [_moment(m) for m in s.moments(**o)]
    if op == "offset":
        c = s.estimate_transcript_offset(**o)
        return {"status": c.status, "offset_ms": c.offset_ms, "confidence": c.confidence}
    if op == "attribute":
        fit = s.attribute(timeline_options=call.get("timeline", {}), **o)
        return {
            "penalty": fit.penalty,
            "coefficients": [[c.name, c.value] for c in fit.coefficients],
            "totals": [[p.name, p.value, p.low, p.high] for p in fit.decomposition.totals()],
            "form": fit.diagnostics.form,
            "form_cv": [[f, v] for f, v in fit.diagnostics.form_cv],
            "confounded": [[c.a, c.b, c.correlation] for c in fit.diagnostics.confounded],
            "paid": None
            if fit.paid is None
            else {
                "spend": fit.paid.spend,
                "entries": [
                    fit.paid.entries.carryover_ms,
                    fit.paid.entries.per_yuan.value,
                    fit.paid.entries.paid,
                ],
                "viewers": [fit.paid.viewers.carryover_ms, fit.paid.viewers.paid],
                "paid_gmv": [
                    fit.paid.paid_gmv.value,
                    fit.paid.paid_gmv.low,
                    fit.paid.paid_gmv.high,
                ],
                "roi": [fit.paid.roi.value, fit.paid.roi.low, fit.paid.roi.high],
            },
        }
    raise ValueError(f"unknown op {op!r}")


def main() -> None:
    spec = json.loads((HERE / "calls.json").read_text(encoding="utf-8"))
    rooms = {k: vap.simulate(**v).data for k, v in spec["rooms"].items()}
    out = {}
    for call in spec["calls"]:
        try:
            out[call["name"]] = {"ok": _clean(run_call(call, rooms, spec["series"]))}
        except vap.VapError as e:
            out[call["name"]] = {"error": e.code}
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
