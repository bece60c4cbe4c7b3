"""The cross-binding agreement suite: one list of calls (tests/agreement/calls.json)
run from Python and from Node on the same seeded rooms must give the same
results and the same error codes. The Node side runs in a child process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AGREEMENT = ROOT / "tests" / "agreement"
sys.path.insert(0, str(AGREEMENT))

from compare import differences  # noqa: E402


def _python() -> dict:
    out = subprocess.run(
        [sys.executable, str(AGREEMENT / "run.py")], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def _node() -> dict:
    out = subprocess.run(
        ["node", str(AGREEMENT / "run.cjs")], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_python_and_node_agree_on_every_call():
    spec = json.loads((AGREEMENT / "calls.json").read_text(encoding="utf-8"))
    py, node = _python(), _node()
    names = [c["name"] for c in spec["calls"]]
    assert sorted(py) == sorted(node) == sorted(names)
    # The list exercises both results and refusals.
    assert sum("error" in v for v in py.values()) >= 12
    assert sum("ok" in v for v in py.values()) >= 18
    problems = [f"{n}: {d}" for n in names for d in differences(py[n], node[n])]
    assert problems == []


def test_refusals_are_invalid_arguments_in_both():
    py = _python()
    refused = {k for k, v in py.items() if "error" in v}
    # Options are refused as invalid arguments; a run-sheet's rows, being
    # data, as validation problems (naming row and field).
    data = {k for k in refused if k.startswith("plan:")}
    # and live events, being data, the same way
    data |= {k for k in refused if k.startswith("live:") and "refused together" in k}
    assert {py[k]["error"] for k in data if k.startswith("live:")} == {"VAP_VALIDATION"}
    assert py["playbook: min_sessions of 0 is refused"]["error"] == "VAP_INVALID_ARGUMENT"
    assert {py[k]["error"] for k in refused - data} == {"VAP_INVALID_ARGUMENT"}
    assert {py[k]["error"] for k in data} == {"VAP_VALIDATION"}
    assert len(data) == 3
    # The calls that must be refused are (a negative seed: Node used to wrap it).
    assert "simulate: a negative seed is refused" in refused
    assert "attribute: a negative time of day" in refused
    assert "timeline: an unknown option" in refused


def test_differences_finds_what_differs():
    assert differences({"a": [1.0, "x"]}, {"a": [1.0 + 1e-12, "x"]}) == []
    assert differences({"a": [1.0]}, {"a": [1.1]}) != []
    assert differences({"error": "VAP_IO"}, {"error": "VAP_FORMAT"}) != []
    assert differences({"a": 1}, {"b": 1}) != []
    # a field's name in either binding's case is the same field (Node's
    # results are camelCase, Python's snake_case)
    assert differences({"startMs": 1}, {"start_ms": 1}) == []
    assert differences({"startMs": 1}, {"end_ms": 1}) != []
