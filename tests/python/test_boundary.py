"""The Python boundary: panics become exceptions, every native name is exported."""

from __future__ import annotations

import pytest

import vap
from vap import _vap


def test_rust_panic_becomes_internal_error():
    with pytest.raises(vap.InternalError, match="boom") as e:
        vap._panic_for_tests("boom")
    assert e.value.code == "VAP_INTERNAL"
    assert isinstance(e.value, vap.VapError)
    # The interpreter and the library keep working afterwards.
    assert vap.simulate(seed=1, hours=0.1).data.num_rows("orders") > 0


def test_exception_hierarchy():
    for name in [
        "ValidationError",
        "FormatError",
        "VapIOError",
        "NotFoundError",
        "AlreadyExistsError",
        "VersionError",
        "InvalidArgumentError",
        "InternalError",
    ]:
        cls = getattr(vap, name)
        assert issubclass(cls, vap.VapError) and issubclass(cls, Exception)


def test_every_native_symbol_is_reexported():
    native = {n for n in dir(_vap) if not n.startswith("__")}
    wrapped_by_python = {
        "Session",
        "Store",
        "simulate",
        "load_dir",
        "from_tables",
        "_panic_for_tests",
        # wrapped by vap.Timeline, vap.room_timeline, vap.estimate_offset,
        # vap.merge_asof, vap.builtin_lexicon, vap.lexicon_count
        "Timeline",
        "room_timeline",
        "estimate_offset",
        "asof_join",
        "builtin_lexicon_json",
        "lexicon_count",
        "parse_duration_ms",  # behind every duration argument
        # wrapped by vap.pelt / dynp / binseg and vap.Moments
        "segment",
        "moment_events",
        "top_moments",
        # wrapped by vap.Attribution / Decomposition / RoomModel, vap.attribute,
        # vap.default_factors, Session / Store.attribution_timeline,
        # vap.attribution_timeline, vap.Timeline.from_columns
        "default_factors_json",
        "store_attribution_timeline",
        "timeline_from_columns",
        # wrapped by vap.probe (vap.decode_audio, AudioStream, VideoIndex,
        # transcribe, still_frame and set_whisper_log keep their names)
        "probe_json",
    }
    missing = sorted(n for n in native - wrapped_by_python if not hasattr(vap, n))
    assert missing == []
    assert set(vap.__all__) <= set(dir(vap))


def test_io_error_names_the_path(tmp_path):
    with pytest.raises(vap.VapIOError, match="manifest.json"):
        vap.load_dir(tmp_path / "missing")
