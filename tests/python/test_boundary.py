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
        "CancelledError",
    ]:
        cls = getattr(vap, name)
        assert issubclass(cls, vap.VapError) and issubclass(cls, Exception)

    # Each kind is also the builtin exception it means.
    builtin = {
        "ValidationError": ValueError,
        "FormatError": ValueError,
        "VapIOError": OSError,
        "NotFoundError": KeyError,
        "AlreadyExistsError": FileExistsError,
        "InvalidArgumentError": (ValueError, TypeError),
    }
    for name, base in builtin.items():
        for b in base if isinstance(base, tuple) else (base,):
            assert issubclass(getattr(vap, name), b), name
    assert not issubclass(vap.VersionError, (ValueError, OSError, KeyError))
    assert not issubclass(vap.InternalError, (ValueError, OSError, KeyError))
    # Named as vap shows them, each with its code.
    assert vap.VapError.__module__ == "vap" and vap.VapError.__name__ == "VapError"
    classes = [getattr(vap, n) for n in ["ValidationError", "FormatError", "VapIOError",
               "NotFoundError", "AlreadyExistsError", "VersionError",
               "InvalidArgumentError", "InternalError", "CancelledError"]]  # fmt: skip
    assert [c.code for c in classes] == list(vap.ERROR_CODES)
    # Raised from Python (the pure-Python layer does), an error has its code too.
    assert vap.InvalidArgumentError("x").code == "VAP_INVALID_ARGUMENT"


def test_error_codes_and_table_names_come_from_the_core():
    assert vap.ERROR_CODES == (
        "VAP_VALIDATION",
        "VAP_FORMAT",
        "VAP_IO",
        "VAP_NOT_FOUND",
        "VAP_ALREADY_EXISTS",
        "VAP_VERSION",
        "VAP_INVALID_ARGUMENT",
        "VAP_INTERNAL",
        "VAP_CANCELLED",
    )
    assert vap.ERROR_CODES is _vap.ERROR_CODES and vap.TABLE_NAMES is _vap.TABLE_NAMES
    assert list(vap.TABLE_NAMES) == vap.table_names()
    assert vap.TABLE_NAMES[0] == "anchors" and len(vap.TABLE_NAMES) == 9


def test_builtin_except_clauses_catch_vap_errors(tmp_path):
    import errno
    import pickle

    from conftest import manifest

    caught = []

    def expect(base, call):
        try:
            call()
        except base as e:
            assert isinstance(e, vap.VapError), type(e)
            assert e.code in vap.ERROR_CODES
            caught.append(e)
            return e
        raise AssertionError(f"{base.__name__} not raised")

    # A validation error and a bad argument are ValueErrors.
    bad = manifest()
    bad["session"]["end_ms"] = bad["session"]["start_ms"] - 1
    e = expect(ValueError, lambda: vap.from_tables(bad, {}))
    assert isinstance(e, vap.ValidationError) and e.problems
    e = expect(ValueError, lambda: vap.from_tables(manifest(), {"bogus": []}))
    assert isinstance(e, vap.InvalidArgumentError) and e.problems == []
    # A missing file is an OSError, with errno, strerror and filename set.
    e = expect(OSError, lambda: vap.load_dir(tmp_path / "missing"))
    assert isinstance(e, vap.VapIOError)
    assert e.errno == errno.ENOENT and e.filename.endswith("manifest.json")
    assert "(os error" not in e.strerror
    # Something that exists already is a FileExistsError.
    store = vap.Store(tmp_path / "store")
    sim = vap.simulate(seed=1, hours=0.1)
    store.import_session(sim.data)
    e = expect(FileExistsError, lambda: store.import_session(sim.data))
    assert isinstance(e, vap.AlreadyExistsError)
    # A lookup by id that finds nothing is a KeyError ...
    e = expect(KeyError, lambda: store.load("no-room", "no-session"))
    assert isinstance(e, vap.NotFoundError)
    # ... whose str() is the plain message (a KeyError's would be quoted).
    for e in caught:
        assert str(e) == e.args[0]
        assert not str(e).startswith(("'", "[Errno"))
    # They pickle (multiprocessing, Spark) as the same class and message.
    for e in caught:
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e)


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
        # transcribe, still_frame and set_whisper_log keep their names) and
        # vap.audio_chunks
        "probe_json",
        "AudioChunks",
        # wrapped by vap.clip and the console script (vap._cli.main)
        "clip_json",
        "cli",
        # wrapped by vap.option_defaults / vap.OPTION_SETS, every option
        # argument (vap._options), every instant argument, and
        # Store.fit_room_model
        "option_defaults_json",
        "resolve_options_json",
        "parse_instant_ms",
        "fit_room_model",
        # wrapped by vap.read_compass and vap.read_tiktok_shop
        "read_family",
        # wrapped by vap.read_run_sheet and vap.RunSheet.to_csv
        "read_run_sheet_bytes",
        "run_sheet_csv",
        # wrapped by vap.Playbook.to_html
        "playbook_html",
        # wrapped by vap.RoomPlan.summarise and vap.Store.fit_room_model_by_sessions
        "session_summary",
        "fit_room_model_by_sessions",
    }
    missing = sorted(n for n in native - wrapped_by_python if not hasattr(vap, n))
    assert missing == []
    assert set(vap.__all__) <= set(dir(vap))


def test_every_public_name_and_member_is_documented():
    """Wrapper coverage, the other half: what ``vap`` exports has a docstring,
    and so has every public method and property of its classes."""
    import inspect
    import typing

    missing = []
    for name in vap.__all__:
        obj = getattr(vap, name)
        if typing.get_origin(obj) is not None or not (inspect.isclass(obj) or callable(obj)):
            continue  # constants and type aliases
        if not (obj.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(obj) and not issubclass(obj, BaseException):
            for k, v in vars(obj).items():
                f = v.fget if isinstance(v, property) else v
                f = f.__func__ if isinstance(f, (staticmethod, classmethod)) else f
                if not k.startswith("_") and callable(f) and not (f.__doc__ or "").strip():
                    missing.append(f"{name}.{k}")
    assert missing == []


def test_io_error_names_the_path(tmp_path):
    with pytest.raises(vap.VapIOError, match="manifest.json"):
        vap.load_dir(tmp_path / "missing")


def test_argument_conversion_errors_are_invalid_argument_errors(tmp_path):
    # InvalidArgumentError is a ValueError and a TypeError: old except clauses hold.
    assert issubclass(vap.InvalidArgumentError, ValueError)
    assert issubclass(vap.InvalidArgumentError, TypeError)
    big = 2**70
    # An integer that does not fit: PyO3 would raise OverflowError.
    with pytest.raises(vap.InvalidArgumentError) as e:
        vap.set_num_threads(big)
    assert isinstance(e.value.__cause__, OverflowError)
    # ... in an option (crosses as JSON) and in a positional argument.
    room = vap.simulate(seed=3, hours=0.1)
    with pytest.raises(vap.InvalidArgumentError):
        room.data.timeline(big)
    with pytest.raises(vap.InvalidArgumentError):
        vap.simulate(seed=big, hours=0.1)
    with pytest.raises(vap.InvalidArgumentError):
        room.data.shift_transcript(big)
    # A wrong type where a number is wanted: PyO3 would raise TypeError.
    with pytest.raises(vap.InvalidArgumentError):
        vap.set_num_threads("four")
    # A DataFrame with a column Arrow cannot hold: pyarrow's ArrowInvalid /
    # ArrowTypeError become InvalidArgumentError naming the call.
    import pandas as pd

    man = {
        "vap_format": 1,
        "room": {"id": "r", "name": "R"},
        "session": {"id": "s", "start_ms": 1_795_608_000_000, "end_ms": 1_795_611_600_000},
    }
    bad = pd.DataFrame({"id": ["p1", "p2"], "name": ["a", "b"], "price": [1.0, object()]})
    with pytest.raises(vap.InvalidArgumentError) as e:
        vap.from_tables(man, {"products": bad})
    assert "from_tables" in str(e.value)
    store = vap.Store(tmp_path / "s")
    with pytest.raises(vap.InvalidArgumentError):
        store.import_tables(man, {"products": bad})
    # Errors vap raises itself pass through as they are.
    with pytest.raises(vap.NotFoundError):
        store.load("r", "s")
