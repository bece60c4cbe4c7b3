"""Synthetic rooms: determinism across seeds and thread counts, ground truth."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import vap


def _tables(s: vap.Session) -> dict[str, bytes]:
    return {t: json.dumps(s.table(t).to_pylist(), default=str).encode() for t in vap.table_names()}


def test_same_seed_same_room_on_one_and_two_threads():
    vap.set_num_threads(1)
    assert vap.num_threads() == 1
    a = vap.simulate(seed=5, hours=1.0)
    vap.set_num_threads(2)
    assert vap.num_threads() == 2
    b = vap.simulate(seed=5, hours=1.0)
    vap.set_num_threads(0)
    assert _tables(a.data) == _tables(b.data)  # bitwise-equal serialisations
    assert a.data.to_dict() == b.data.to_dict()
    assert a.truth == b.truth


def test_different_seeds_differ():
    a = vap.simulate(seed=1, hours=0.5)
    b = vap.simulate(seed=2, hours=0.5)
    assert _tables(a.data)["orders"] != _tables(b.data)["orders"]


def test_room_shape_and_truth(room: vap.SimRoom):
    d = room.data
    s = d.summary()
    assert 2 <= s["anchors"] <= 4
    assert s["products"] == 30
    assert s["comments"] > 1000 and s["gmv"]["paid_orders"] > 100
    roles = set(d.to_pandas("shifts")["role"])
    assert {"host", "field_control"} <= roles
    comments = d.to_pandas("comments")["text"]
    assert comments.str.contains("多少钱").any() and comments.str.contains("how much").any()
    t = room.truth
    assert abs(t["clock_offset_ms"]) <= 30_000
    names = {f["name"] for f in t["factors"]}
    assert {"explain", "flash_sale", "pitch", "answer", "coupon"} <= names
    assert {m["cause"] for m in t["moments"]} >= {"flash_sale", "pitch_burst", "traffic_wave"}
    # Expected GMV (baseline + factors) is close to the realised gross GMV.
    expected = t["baseline_gmv"] + sum(f["gmv"] for f in t["factors"])
    assert s["gmv"]["gross"] == pytest.approx(expected, rel=0.1)


def test_planted_clock_offset_is_applied_to_the_transcript():
    r = vap.simulate(seed=3, hours=0.5, clock_offset_ms=12_000)
    assert r.truth["clock_offset_ms"] == 12_000
    u = r.data.to_pandas("utterances")
    start = pd.Timestamp(r.data.session["start_ms"], unit="ms", tz="UTC")
    # The first utterance starts at a whole platform second plus the offset.
    first = (u["start_ms"].iloc[0] - start).total_seconds() * 1000
    assert first % 1000 == 0 and first >= 12_000


def test_bad_config_raises_typed_error():
    with pytest.raises(vap.InvalidArgumentError) as e:
        vap.simulate(hours=-1, anchors=0)
    assert "hours" in str(e.value) and "anchors" in str(e.value)
    assert e.value.code == "VAP_INVALID_ARGUMENT"


def test_thread_count_is_bounded():
    with pytest.raises(vap.InvalidArgumentError, match="maximum"):
        vap.set_num_threads(100_000)
    # PyO3's OverflowError arrives as an InvalidArgumentError (caused by it).
    with pytest.raises(vap.InvalidArgumentError) as e:
        vap.set_num_threads(-1)
    assert isinstance(e.value.__cause__, OverflowError)


def _thp_mode() -> str | None:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return None


@pytest.mark.skipif(
    _thp_mode() != "madvise",
    reason="huge pages are granted on request only where the system's mode is madvise",
)
def test_the_module_does_not_ask_for_huge_pages():
    # A fresh interpreter: the module turns mimalloc's transparent huge pages
    # off when it loads (README, Building notes); where the system grants
    # them only on request, none are then mapped.
    import os
    import subprocess
    import sys

    code = (
        "import vap\n"
        "r = vap.simulate(seed=1, hours=6)\n"
        "print([l.split()[1] for l in open('/proc/self/smaps_rollup') if l.startswith('AnonHugePages')][0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "MIMALLOC_ALLOW_THP"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) == 0
