"""Options belong to the core: Python passes what the user wrote and restates
no default; the core's grammar reads durations, instants and penalties."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pytest

import vap

PACKAGE = Path(vap.__file__).parent

# Keyword defaults the pure-Python layer may still have, each with its reason.
# Anything else (a duration, a threshold, a count, a mode) must come from the
# core.
ALLOWED = {
    ("to_ms", "what"): "a label for messages",
    ("to_instant_ms", "what"): "a label for messages",
    ("estimate_recording_offset", "index"): "which recording (positional), not an option",
    ("transcribe", "offset_ms"): "the clock of a file's transcript: position 0 is time 0",
    ("set_whisper_log", "mode"): "the log is silent until asked",
}


def _defaults():
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            a = node.args
            pairs = list(zip(a.args[len(a.args) - len(a.defaults) :], a.defaults))
            pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
            for arg, d in pairs:
                if isinstance(d, ast.Constant) and (d.value is None or isinstance(d.value, bool)):
                    continue
                yield path.name, node.name, arg.arg, ast.unparse(d)


def test_python_restates_no_default():
    found = [(f, fn, arg, d) for f, fn, arg, d in _defaults() if (fn, arg) not in ALLOWED]
    assert found == []


def test_the_guard_sees_a_default(tmp_path):
    tree = ast.parse('def moments(self, step="30s", *, threshold=3.5, x=None): ...')
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert [ast.unparse(d) for d in fn.args.defaults] == ["'30s'"]
    assert [ast.unparse(d) for d in fn.args.kw_defaults if d is not None] == ["3.5", "None"]


def test_defaults_come_from_the_core():
    assert set(vap.OPTION_SETS) >= {"timeline", "moments", "attribute", "simulate", "transcribe"}
    assert vap.option_defaults("moments")["step_ms"] == 30_000
    assert vap.option_defaults("attribution_timeline")["step_ms"] == 10_000
    assert vap.option_defaults("timeline")["step_ms"] == 1_000
    with pytest.raises(vap.InvalidArgumentError, match="unknown option set"):
        vap.option_defaults("nothing")
    # detect_options etc. return the options whole, as the core uses them.
    import json

    o = json.loads(vap.detect_options("1min", threshold=4))
    assert o["step_ms"] == 60_000 and o["threshold"] == 4
    assert o["window_ms"] == vap.option_defaults("moments")["window_ms"]


def test_the_forms_users_write(room=None):
    room = vap.simulate(seed=2, hours=0.5).data
    a = room.timeline(dt.timedelta(seconds=30)).to_numpy()
    b = room.timeline("30s").to_numpy()
    c = room.timeline(np.int64(30_000)).to_numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    start = dt.datetime.fromtimestamp(room.session["start_ms"] / 1000, tz=dt.timezone.utc)
    d = room.timeline("1min", start=start + dt.timedelta(minutes=5))
    e = room.timeline("1min", start=(start + dt.timedelta(minutes=5)).isoformat())
    assert d.time_ms[0] == e.time_ms[0] == room.session["start_ms"] + 300_000
    with pytest.raises(vap.InvalidArgumentError, match="option 'threshold'"):
        room.moments(threshold="high")
    with pytest.raises(ValueError, match="treshold"):
        room.moments(treshold=4)
    with pytest.raises(vap.InvalidArgumentError, match="given twice"):
        room.attribute("10s", timeline_options={"step": "20s"})


def test_exposure_none_means_no_exposure():
    room = vap.simulate(seed=3, hours=0.5).data
    fit = room.attribute(form="linear", exposure=None, bootstrap=0, folds=3)
    assert not any(c.role == "traffic" for c in fit.coefficients)
    assert fit.model.to_dict()["options"]["exposure"] is None
    # Not given: the core's default exposure, online viewers.
    fit = room.attribute(form="linear", bootstrap=0, folds=3)
    assert any(c.role == "traffic" for c in fit.coefficients)


def test_resolve_options_is_nodes_resolve_options():
    o = vap.resolve_options("timeline", step="1min", per_product=False)
    assert o["step_ms"] == 60_000 and o["per_product"] is False
    assert o["flow"] == vap.option_defaults("timeline")["flow"]
    assert vap.resolve_options("moments", {"threshold": 4})["threshold"] == 4
    with pytest.raises(vap.InvalidArgumentError, match="colour"):
        vap.resolve_options("timeline", colour="blue")
    with pytest.raises(vap.InvalidArgumentError):
        vap.resolve_options("nothing")
