"""vap's media layer end to end on real files made at test time: espeak-ng
speech placed at known times, muxed with an ffmpeg test pattern
(tests/media/make_media.py), transcribed with a real Whisper model (`make
models`). Compared with the ffmpeg command line where it can be."""

from __future__ import annotations

import glob
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import vap

ROOT = Path(__file__).resolve().parents[2]
ROOM, SESSION = "media-room", "s1"
START = 1_700_000_000_000
#: The shop recording starts this long after the session (its true offset).
TRUE_OFFSET_S = 20.0
#: Session-clock seconds of each explain segment; the anchor names the
#: product 2 s and 10 s into it.
SHOP = [
    ("perfume", 30.0),
    ("cream", 55.0),
    ("shampoo", 80.0),
    ("lipstick", 105.0),
    ("sunscreen", 130.0),
    ("perfume", 150.0),
]
SAY = {
    "perfume": "This perfume smells fresh.",
    "cream": "The face cream is on sale now.",
    "shampoo": "Try the shampoo today.",
    "lipstick": "Look at this red lipstick.",
    "sunscreen": "This sunscreen protects your skin.",
}
PRODUCT_WORDS = ["perfume", "cream", "shampoo", "lipstick", "sunscreen"]


# ---------------------------------------------------------------- fixtures


def model_path(name: str) -> Path:
    d = Path(os.environ.get("VAP_MODEL_DIR") or ROOT / "models")
    p = d / name
    if not p.is_file():
        pytest.fail(f"{p} is missing: run `make models` (scripts/whisper-model.py) first")
    return p


@pytest.fixture(scope="session")
def tiny_en() -> Path:
    return model_path("ggml-tiny.en.bin")


def make(dir: Path, name: str, spec: dict) -> tuple[Path, list[dict]]:
    out = dir / name
    sp = dir / f"{name}.json"
    sp.write_text(json.dumps({**spec, "out": str(out)}))
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests/media/make_media.py"), str(sp)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, f"make_media failed: {r.stderr}"
    return out, json.loads(r.stdout)["parts"]


class Media:
    def __init__(self, dir: Path):
        self.dir = dir
        # 30 s: English sentences at 2, 6 and 11 s (the last across the 12 s
        # join of the chunked run), a warbling tone 20-28 s.
        self.short, self.short_parts = make(
            dir,
            "short.mp4",
            {
                "duration": 30,
                "tone": [[20, 28]],
                "parts": [
                    {"at": 2, "text": "Welcome to the live room."},
                    {"at": 6, "text": "Try the shampoo today."},
                    {"at": 11, "text": "The face cream is on sale now."},
                ],
            },
        )
        # 150 s of product talk, placed on the recording's own clock.
        parts = [
            {"at": s + d - TRUE_OFFSET_S, "text": SAY[p]} for p, s in SHOP for d in (2.0, 10.0)
        ]
        self.shop, self.shop_parts = make(dir, "shop.mp4", {"duration": 150, "parts": parts})
        self.video_only, _ = make(dir, "video_only.mp4", {"duration": 5, "audio": False})
        self.audio_only, _ = make(
            dir,
            "audio_only.m4a",
            {"duration": 5, "video": False, "parts": [{"at": 1, "text": "hello"}]},
        )
        self.corrupt = dir / "corrupt.mp4"
        rng = np.random.default_rng(7)
        self.corrupt.write_bytes(
            b"\0\0\0\x20ftypisom" + rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes()
        )
        self.truncated = dir / "truncated.mp4"
        data = self.short.read_bytes()
        self.truncated.write_bytes(data[: len(data) // 3])


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Media:
    return Media(tmp_path_factory.mktemp("media"))


def ffmpeg(*args: str) -> bytes:
    r = subprocess.run(["ffmpeg", "-v", "error", *args], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout


def shop_store(path: Path) -> vap.Store:
    """A store holding a 200 s session whose products are explained at SHOP."""
    store = vap.Store(path)
    manifest = {
        "room": {"id": ROOM, "name": "Media room"},
        "session": {"id": SESSION, "start_ms": START, "end_ms": START + 200_000},
    }
    names = {
        "perfume": "fresh perfume",
        "cream": "face cream",
        "shampoo": "herbal shampoo",
        "lipstick": "red lipstick",
        "sunscreen": "daily sunscreen",
    }
    ts = pa.timestamp("ms", tz="UTC")
    tables = {
        "anchors": pa.table({"id": ["amy", "bo"], "name": ["Amy", "Bo"]}),
        "shifts": pa.table(
            {
                "anchor_id": ["amy", "bo", "bo"],
                "role": ["host", "host", "field_control"],
                "start_ms": pa.array([START, START + 100_000, START], ts),
                "end_ms": pa.array([START + 100_000, START + 200_000, START + 100_000], ts),
            }
        ),
        "products": pa.table(
            {
                "id": list(names),
                "name": list(names.values()),
                "price": [99.0] * 5,
                "category": ["beauty"] * 5,
                "aliases": [[k] for k in names],
            }
        ),
        "segments": pa.table(
            {
                "product_id": [p for p, _ in SHOP],
                "kind": ["explain"] * len(SHOP),
                "start_ms": pa.array([START + int(s * 1000) for _, s in SHOP], ts),
                "end_ms": pa.array([START + int(s * 1000) + 15_000 for _, s in SHOP], ts),
            }
        ),
    }
    store.import_tables(manifest, tables)
    return store


def checkpoints(store: vap.Store) -> list[str]:
    return glob.glob(
        os.path.join(store.root, "rooms", ROOM, "sessions", SESSION, "work", "asr", "*.json")
    )


# ---------------------------------------------------------------- probe and audio


def test_probe_reports_duration_and_streams(media):
    info = vap.probe(media.short)
    assert isinstance(info, vap.RecordingInfo)
    assert abs(info.duration_ms - 30_000) <= 100
    assert info.has_audio and info.has_video
    assert info.size_bytes == media.short.stat().st_size
    (a,) = [s for s in info.streams if s.kind == "audio"]
    assert isinstance(a, vap.StreamInfo)
    assert (a.codec, a.sample_rate, a.channels) == ("aac", 22_050, 1)
    (v,) = [s for s in info.streams if s.kind == "video"]
    assert (v.codec, v.width, v.height) == ("h264", 160, 120)
    assert v.frame_rate == pytest.approx(25.0)
    assert v.sample_rate is None and a.width is None
    only_video = vap.probe(media.video_only)
    assert only_video.has_video and not only_video.has_audio
    assert not vap.probe(media.audio_only).has_video


def test_decoded_audio_matches_the_ffmpeg_command_line(media):
    x = vap.decode_audio(media.short)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(len(x) - 30 * vap.AUDIO_SAMPLE_RATE) <= 1_600
    y = np.frombuffer(
        ffmpeg("-i", str(media.short), "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"),
        dtype="<f4",
    )
    assert abs(len(x) - len(y)) <= 1_600, (len(x), len(y))  # within 0.1 s
    m = min(len(x), len(y))
    r = np.corrcoef(x[:m], y[:m])[0, 1]
    assert r > 0.99, f"correlation with ffmpeg's output {r}"
    # Speech where it was placed: loud inside, quiet in the 0.5 s before.
    env = np.sqrt(np.mean(x[: len(x) // 1600 * 1600].reshape(-1, 1600).astype(float) ** 2, 1))
    for p in media.short_parts:
        i = int(p["at"] * 10)
        assert env[i + 1 : int(p["end"] * 10)].max() > 0.05, p
        assert env[i - 5 : i].max() < 0.005, p
    # Writable, owned by the caller.
    x[0] = 1.0


def test_windows_and_streams_give_the_same_samples_as_one_read(media):
    whole = vap.decode_audio(media.short)
    for start, end in [(4_000, 6_000), ("4s", "6s")]:
        w = vap.decode_audio(media.short, start, end)
        assert len(w) == 32_000
        assert np.abs(w - whole[64_000:96_000]).max() < 0.02
    import datetime as dt

    w = vap.decode_audio(media.short, start=dt.timedelta(seconds=25))
    assert abs(len(w) - (len(whole) - 25 * 16_000)) <= 160
    assert np.abs(w[:16_000] - whole[400_000:416_000]).max() < 0.02
    with pytest.raises(vap.InvalidArgumentError, match="before start"):
        vap.decode_audio(media.short, 5, 1)
    with pytest.raises(vap.InvalidArgumentError, match="start"):
        vap.decode_audio(media.short, "soon")

    # Small reads through AudioStream: the same samples as one read.
    with vap.AudioStream(media.short) as s:
        assert s.duration_ms == pytest.approx(30_000, abs=100)
        assert s.position_ms == 0
        parts = []
        while len(b := s.read(777)) > 0:
            parts.append(b)
        assert np.array_equal(np.concatenate(parts), whole)
        assert s.position_ms == pytest.approx(len(whole) / 16)
        s.seek("4s")
        assert s.position_ms == 4_000
        assert np.abs(s.read_until(6_000) - whole[64_000:96_000]).max() < 0.02
        s.seek(29_000)
        blocks = list(s)  # one-second blocks to the end
        assert all(len(b) == 16_000 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 16_000
        tail = np.concatenate(blocks)
        m = len(whole) - 29 * 16_000
        assert abs(len(tail) - m) <= 16  # the resampler's flush: within a ms
        assert np.abs(tail[: m - 16] - whole[29 * 16_000 : -16]).max() < 0.02
    assert s.closed
    with pytest.raises(vap.InvalidArgumentError, match="closed"):
        s.read(10)

    # Chunked streaming, concatenated, is decode_audio.
    chunks = list(vap.audio_chunks(media.short, chunk="7s"))
    assert [t for t, _ in chunks] == [0, 7_000, 14_000, 21_000, 28_000]
    assert all(len(c) == 7 * 16_000 for _, c in chunks[:-1])
    assert np.array_equal(np.concatenate([c for _, c in chunks]), whole)
    windowed = list(vap.audio_chunks(media.short, chunk=1_500, start="3s", end=8_000))
    assert [t for t, _ in windowed] == [3_000, 4_500, 6_000, 7_500]
    assert np.array_equal(
        np.concatenate([c for _, c in windowed]), vap.decode_audio(media.short, 3_000, 8_000)
    )
    # The default chunk is the core's 30 s.
    default = list(vap.audio_chunks(media.short))
    assert default[0][0] == 0 and len(default[0][1]) == min(len(whole), 30 * 16_000)
    assert np.array_equal(np.concatenate([c for _, c in default]), whole)
    assert [t for t, _ in vap.audio_chunks(media.short, start="25s")] == [25_000]
    # Arguments are checked when called, before any chunk is read.
    for kw in [{"chunk": 0}, {"chunk": -5}, {"start": 5, "end": 1}]:
        with pytest.raises(vap.InvalidArgumentError):
            vap.audio_chunks(media.short, **kw)
    with pytest.raises(vap.FormatError, match="no audio"):
        vap.audio_chunks(media.video_only)
    with pytest.raises(vap.VapIOError):
        vap.audio_chunks(media.dir / "nope.mp4")


# ---------------------------------------------------------------- transcription


@pytest.fixture(scope="session")
def short_run(media, tiny_en):
    """The short file transcribed in 12 s chunks in a thread, while this one
    counts how often it gets to run (the GIL must be free meanwhile)."""
    calls: list[vap.Progress] = []
    out: dict = {}

    def work():
        try:
            out["t"] = vap.transcribe(
                media.short,
                tiny_en,
                language="en",
                offset_ms=1_000_000,
                chunk="12s",
                overlap="2s",
                threads=2,
                progress=calls.append,
            )
        except BaseException as e:  # reported by the tests
            out["error"] = e

    th = threading.Thread(target=work)
    spins = 0
    t0 = time.perf_counter()
    th.start()
    while th.is_alive():
        spins += 1
        time.sleep(0.001)
    th.join()
    if "error" in out:
        raise out["error"]
    return out["t"], calls, spins, time.perf_counter() - t0


def test_the_transcript_does_not_depend_on_lanes_or_threads(media, tiny_en):
    """Lanes decode voiced windows side by side (the short file's 30 s chunk
    has four): one lane on one thread, the default on two threads and more
    lanes than threads give the same utterances; the temperature fallback is
    an option and still hears the words."""

    def run(**kw):
        t = vap.transcribe(
            media.short, tiny_en, language="en", chunk="30s", overlap="2s", progress=False, **kw
        )
        return [(u.start_ms, u.end_ms, u.text) for u in t.utterances]

    one = run(threads=1, lanes=1)
    assert len(one) == 3, one
    assert run(threads=2) == one
    assert run(threads=2, lanes=5) == one
    text = " ".join(u[2].lower() for u in run(threads=2, temperature_fallback=True))
    for w in ("welcome", "shampoo", "face cream", "sale"):
        assert w in text, text
    assert vap.option_defaults("transcribe")["lanes"] == 0
    assert vap.option_defaults("transcribe")["temperature_fallback"] is False


def test_english_speech_is_transcribed_at_the_right_times(media, short_run):
    t, calls, _, _ = short_run
    assert isinstance(t, vap.Transcript)
    text = t.text.lower()
    for w in ["welcome", "live room", "shampoo", "face cream", "sale"]:
        assert w in text, (w, text)
    # Times on the given clock, within 1.5 s of the placement.
    for p, needle in zip(media.short_parts, ["welcome", "shampoo", "cream"]):
        (u,) = [u for u in t.utterances if needle in u.text.lower()]
        assert isinstance(u, vap.Utterance)
        assert abs((u.start_ms - 1_000_000) / 1000 - p["at"]) < 1.5, (needle, u, p)
        assert u.end_ms > u.start_ms
        assert u.speaker is None and u.confidence > 0.2
    # Nothing in the tone or the silences; no duplicate across the 12 s join.
    assert len(t.utterances) == 3, t.utterances
    assert t.languages == ["en"]
    s = t.stats
    assert isinstance(s, vap.TranscriptStats)
    assert (s.chunks, s.chunks_resumed, s.chunks_transcribed) == (3, 0, 3)
    assert s.real_time_factor > 0 and s.model_seconds > 0
    # A Progress per chunk, in order.
    assert [c.done for c in calls] == [1, 2, 3]
    assert all(isinstance(c, vap.Progress) and c.total == 3 for c in calls)
    assert [c.position_ms for c in calls] == [0, 12_000, 24_000]
    assert calls[-1].audio_done_ms == calls[-1].audio_total_ms == s.audio_ms
    assert not any(c.resumed for c in calls)


@pytest.mark.parametrize("quant", ["q8_0", "q5_1"])
def test_quantised_models_hear_the_same_words(media, short_run, quant):
    """The models `scripts/whisper-model.py --quant` writes (setup makes
    them) load and transcribe the short file as the f16 model does: the same
    product words, the same utterances within a second."""
    t = vap.transcribe(
        media.short,
        model_path(f"ggml-tiny.en-{quant}.bin"),
        language="en",
        offset_ms=1_000_000,
        chunk="12s",
        overlap="2s",
        threads=2,
    )
    f16, _, _, _ = short_run
    text = t.text.lower()
    for w in ["welcome", "shampoo", "face cream", "sale"]:
        assert w in text, (quant, w, text)
    assert len(t.utterances) == len(f16.utterances), t.utterances
    for a, b in zip(t.utterances, f16.utterances):
        assert abs(a.start_ms - b.start_ms) <= 1000, (a, b)


def test_the_gil_is_free_while_the_model_runs(short_run):
    _, _, spins, seconds = short_run
    # Held throughout the model's work, the counting loop would have run a
    # handful of times; free, about once a millisecond.
    assert seconds > 1.0
    assert spins > 50, (spins, seconds)


def test_transcript_tables(short_run, tiny_en):
    t, _, _, _ = short_run
    cols = ["start_ms", "end_ms", "text", "speaker", "confidence"]
    table = t.to_arrow()
    assert table.column_names == cols and table.num_rows == 3
    assert table.schema.field("start_ms").type == pa.timestamp("ms", tz="UTC")
    df = t.to_pandas()
    assert list(df.columns) == cols
    assert str(df["start_ms"].dtype) == "datetime64[ms, UTC]"
    assert df["start_ms"].iloc[0] == pd.Timestamp(t.utterances[0].start_ms, unit="ms", tz="UTC")
    pdf = t.to_polars()
    assert isinstance(pdf, pl.DataFrame) and pdf.columns == cols
    assert pdf["text"].to_list() == [u.text for u in t.utterances]
    assert "3 utterances" in repr(t)


def test_a_signal_stops_a_transcription_without_a_callback(media, tiny_en):
    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted()

    old = signal.signal(signal.SIGINT, handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(Interrupted) as e:
            # One chunk: the signal is seen after it, and still stops the run.
            vap.transcribe(media.audio_only, tiny_en, language="en", threads=2, progress=False)
        # The core's reason comes along as a note.
        notes = getattr(e.value, "__notes__", [])
        assert any("stopped by the progress callback" in n for n in notes), notes
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)


def test_progress_true_is_a_tqdm_bar_when_tqdm_is_there(capsys, monkeypatch):
    from vap import _media

    p = {
        "done": 1,
        "total": 2,
        "recording": 0,
        "position_ms": 0,
        "audio_done_ms": 20_000,
        "audio_total_ms": 30_000,
        "resumed": True,
        "segments": 2,
    }
    with _media.progress_callback(True, "rec.mp4") as tick:
        assert tick is not None
        tick(json.dumps(p))
    err = capsys.readouterr().err
    assert "rec.mp4" in err and "chunk 1/2 (checkpoint)" in err and "20.0/30.0" in err, err
    seen = []
    with _media.progress_callback(seen.append, "x") as call:
        call(json.dumps(p))
    assert seen == [vap.Progress(**p)]
    for off in (False, None):
        with _media.progress_callback(off, "x") as none:
            assert none is None
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # not installed
    with _media.progress_callback(True, "x") as none:
        assert none is None
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- the store


def test_store_registers_transcribes_and_recovers_a_planted_offset(media, tiny_en, tmp_path):
    store = shop_store(tmp_path / "store")
    # Registered at the session's start (the default): 20 s early.
    rec = store.register_recording(ROOM, SESSION, media.shop)
    assert isinstance(rec, vap.Recording)
    assert rec.offset_ms == START
    assert rec.path == str(media.shop.resolve())
    assert abs(rec.duration_ms - 150_000) < 100 and len(rec.sha256) == 64
    assert store.load(ROOM, SESSION).recordings == [rec]
    with pytest.raises(vap.AlreadyExistsError, match="registered already"):
        store.register_recording(ROOM, SESSION, media.shop, START)

    seen: list[vap.Progress] = []
    t = store.transcribe(
        ROOM, SESSION, tiny_en, language="en", chunk="60s", threads=2, progress=seen.append
    )
    assert t.stats.chunks == 3 == len(seen)
    text = t.text.lower()
    for w in PRODUCT_WORDS:
        assert w in text, (w, text)
    stored = store.load(ROOM, SESSION)
    assert t.to_arrow().equals(stored.table("utterances"))
    assert checkpoints(store) == []  # dropped with the commit
    # Speakers from the shifts (the host wins over field control).
    assert all(u.speaker is not None for u in t.utterances)
    assert t.utterances[0].speaker == "amy" and t.utterances[-1].speaker == "bo"

    # A 200 s session: search ±30 s in 2 s bins (the defaults need 280 s).
    est = store.estimate_recording_offset(ROOM, SESSION, 0, max_lag=30_000, step=2_000)
    assert isinstance(est, vap.ClockOffset) and est.determined, est
    # The transcript runs 20 s early: the estimate is -20 s, within 3 s.
    assert abs(est.offset_ms + TRUE_OFFSET_S * 1000) < 3_000, est
    fixed = rec.offset_ms - round(est.offset_ms)
    after = store.set_recording_offset(ROOM, SESSION, 0, fixed)
    assert isinstance(after, vap.Session)
    assert after.recordings[0].offset_ms == fixed
    moved = [u["start_ms"] for u in after.to_dict()["utterances"]]
    before = [u["start_ms"] for u in stored.to_dict()["utterances"]]
    assert moved == [b + fixed - START for b in before]
    # On the platform clock now: the first perfume mention inside its segment.
    utts = after.to_dict()["utterances"]
    first = next(u for u in utts if "perfume" in u["text"].lower())
    seg = after.to_dict()["segments"][0]
    assert seg["start_ms"] - 1_500 <= first["start_ms"] < seg["end_ms"], (first, seg)

    # A session instant maps to the recording and position; stills from it.
    loc = after.locate(first["start_ms"])
    assert loc == vap.Located(0, rec.path, first["start_ms"] - fixed)
    assert after.locate(fixed - 1) is None
    assert after.locate(fixed + 150_000) is None
    still = store.still(ROOM, SESSION, first["start_ms"], max_width=80)
    assert (still.recording, still.position_ms) == (0, loc.position_ms)
    assert (still.width, still.height) == (80, 60)
    direct = vap.still_frame(media.shop, loc.position_ms, max_width=80)
    assert still.png == direct.png
    assert np.array_equal(still.rgb, direct.rgb)
    with pytest.raises(vap.NotFoundError, match="covers"):
        store.still(ROOM, SESSION, fixed - 1)
    with pytest.raises(vap.NotFoundError, match="recording 3"):
        store.set_recording_offset(ROOM, SESSION, 3, START)
    # The prompt Store.transcribe used.
    prompt = after.initial_prompt("en")
    assert prompt.startswith("Products: ") and "fresh perfume, perfume" in prompt, prompt


def test_a_killed_transcription_resumes_with_only_the_chunks_left(media, tiny_en, tmp_path):
    store = shop_store(tmp_path / "store")
    store.register_recording(ROOM, SESSION, media.shop, START + 20_000)
    code = (
        "import sys, vap\n"
        "vap.Store(sys.argv[1]).transcribe('media-room', 's1', sys.argv[2], language='en',"
        " chunk='20s', overlap='2s', threads=2, progress=False)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, store.root, str(tiny_en)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        t0 = time.monotonic()
        while len(checkpoints(store)) < 2:
            assert proc.poll() is None, f"finished before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() - t0 < 120, "no checkpoint after 2 min"
            time.sleep(0.02)
        proc.kill()  # SIGKILL: no unwinding, no clean-up
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    saved = len(checkpoints(store))
    assert 2 <= saved < 8, saved
    # The session itself is untouched until the end.
    assert store.load(ROOM, SESSION).num_rows("utterances") == 0

    seen: list[vap.Progress] = []
    t = store.transcribe(
        ROOM,
        SESSION,
        tiny_en,
        language="en",
        chunk="20s",
        overlap="2s",
        threads=2,
        progress=seen.append,
    )
    s = t.stats
    assert s.chunks == 8, "150 s in 20 s chunks: 7 x 20 + 10"
    assert s.chunks_resumed == saved
    assert s.chunks_transcribed == s.chunks - saved
    assert sum(p.resumed for p in seen) == saved
    # Only the chunks left were decoded (their audio plus one overlap).
    left_ms = 150_000 - saved * 20_000
    assert left_ms <= s.decoded_ms <= left_ms + 2_100, (s.decoded_ms, left_ms)
    text = " ".join(u["text"] for u in store.load(ROOM, SESSION).to_dict()["utterances"]).lower()
    for w in PRODUCT_WORDS:
        assert w in text, (w, text)
    assert checkpoints(store) == []


def test_an_exception_from_the_progress_callback_stops_and_keeps_the_checkpoints(
    media, tiny_en, tmp_path
):
    store = shop_store(tmp_path / "store")
    store.register_recording(ROOM, SESSION, media.short)
    opts = dict(language="en", chunk="10s", overlap="1s", threads=2)

    class Stop(Exception):
        pass

    def stop(p: vap.Progress) -> None:
        raise Stop(f"stop after chunk {p.done}")

    with pytest.raises(Stop, match="stop after chunk 1") as e:
        store.transcribe(ROOM, SESSION, tiny_en, progress=stop, **opts)
    notes = getattr(e.value, "__notes__", [])
    assert any("1 of 3 chunks are checkpointed" in n for n in notes), notes
    assert len(checkpoints(store)) == 1
    assert store.load(ROOM, SESSION).num_rows("utterances") == 0
    # The same call continues; the bar (progress=True) is harmless.
    t = store.transcribe(ROOM, SESSION, tiny_en, progress=True, **opts)
    assert (t.stats.chunks_resumed, t.stats.chunks_transcribed) == (1, 2)
    assert "welcome" in t.text.lower() and "cream" in t.text.lower()
    assert checkpoints(store) == []


# ---------------------------------------------------------------- errors


def test_bad_files_and_models_give_clean_errors(media, tiny_en, tmp_path):
    missing = media.dir / "nope.mp4"
    for call in (
        lambda: vap.probe(missing),
        lambda: vap.decode_audio(missing),
        lambda: vap.AudioStream(missing),
        lambda: vap.VideoIndex(missing),
        lambda: vap.still_frame(missing, 0),
        lambda: vap.transcribe(missing, tiny_en, language="en", progress=False),
    ):
        with pytest.raises(vap.VapIOError, match="nope.mp4") as e:
            call()
        assert e.value.code == "VAP_IO"
    with pytest.raises(vap.FormatError, match="video_only.mp4.*no audio"):
        vap.decode_audio(media.video_only)
    with pytest.raises(vap.FormatError, match="no audio"):
        vap.transcribe(media.video_only, tiny_en, language="en", progress=False)
    with pytest.raises(vap.FormatError, match="audio_only.m4a.*no video"):
        vap.VideoIndex(media.audio_only)
    with pytest.raises(vap.FormatError, match="no video"):
        vap.still_frame(media.audio_only, 0)
    with pytest.raises(vap.FormatError, match="corrupt.mp4"):
        vap.probe(media.corrupt)
    with pytest.raises(vap.FormatError, match="truncated.mp4"):
        vap.decode_audio(media.truncated)
    with pytest.raises(vap.InvalidArgumentError, match="before the start"):
        vap.still_frame(media.short, -5)

    def run(model, **kw):
        kw = {"language": "en", "progress": False, **kw}
        return vap.transcribe(media.short, model, **kw)

    with pytest.raises(vap.VapIOError, match="no-model.bin"):
        run(tmp_path / "no-model.bin")
    junk = tmp_path / "junk-model.bin"
    junk.write_bytes(bytes([7]) * 4096)
    with pytest.raises(vap.FormatError, match="junk-model.bin.*ggml"):
        run(junk)
    cut = tmp_path / "cut-model.bin"
    data = tiny_en.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(vap.FormatError, match="cut-model.bin"):
        run(cut)
    with pytest.raises(vap.InvalidArgumentError, match="English-only"):
        run(tiny_en, language="zh")
    with pytest.raises(vap.InvalidArgumentError, match="unknown language 'xx'"):
        run(tiny_en, language="xx")
    with pytest.raises(vap.InvalidArgumentError, match="unknown field `beam`"):
        run(tiny_en, beam=3)
    with pytest.raises(vap.ValidationError) as e:
        run(tiny_en, chunk="1s", overlap=-1, beam_size=0, lanes=17)
    assert sorted(p["field"] for p in e.value.problems) == [
        "beam_size",
        "chunk_ms",
        "lanes",
        "overlap_ms",
    ]
    with pytest.raises(vap.InvalidArgumentError, match="progress"):
        run(tiny_en, progress="yes")

    # A session: no recordings yet; a missing file is not registered.
    store = shop_store(tmp_path / "store")
    with pytest.raises(vap.InvalidArgumentError, match="no recordings"):
        store.transcribe(ROOM, SESSION, tiny_en, language="en", progress=False)
    with pytest.raises(vap.VapIOError, match="nope.mp4"):
        store.register_recording(ROOM, SESSION, missing)
    with pytest.raises(vap.NotFoundError):
        store.register_recording(ROOM, "no-such-session", media.short)
    assert store.load(ROOM, SESSION).recordings == []


# ---------------------------------------------------------------- video


def ffmpeg_rgb(path: Path, seconds: float | None = None) -> bytes:
    seek = [] if seconds is None else ["-ss", f"{seconds:.3f}"]
    return ffmpeg(
        "-i", str(path), *seek, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"
    )


def test_video_index_maps_positions_to_frames(media):
    idx = vap.VideoIndex(media.short)
    assert len(idx) == 750, "30 s at 25 fps"
    assert idx.frames_ms.dtype == np.float64 and idx.frames_ms.shape == (750,)
    assert np.allclose(idx.frames_ms, np.arange(750) * 40.0)
    assert len(idx.keyframes_ms) == 30, "a keyframe a second (-g 25)"
    assert np.allclose(idx.keyframes_ms, np.arange(30) * 1000.0)
    assert idx.size == (160, 120)
    assert idx.frame_at(1_019) == 1_000.0
    assert idx.frame_at(1_041.0) == 1_040.0
    assert idx.frame_at("2s") == 2_000.0
    assert idx.keyframe_before(2_500) == 2_000.0
    assert idx.frame_at(-1.0) is None
    assert idx.end_ms == pytest.approx(29_960.0)


def test_stills_match_ffmpeg(media, tmp_path):
    idx = vap.VideoIndex(media.short)
    for at in [0, 7_345, 29_990]:
        still = vap.still_frame(media.short, at)
        assert isinstance(still, vap.Still)
        assert (still.width, still.height) == (160, 120)
        assert still.frame_ms == pytest.approx(idx.frame_at(at))
        assert still._repr_png_() == still.png
        assert still.png[:8] == b"\x89PNG\r\n\x1a\n" and still.png[12:16] == b"IHDR"
        # The PNG decoded by ffmpeg (independent of vap) against ffmpeg's own
        # frame at that time.
        png = tmp_path / f"still-{at}.png"
        still.save(png)
        ours = np.frombuffer(ffmpeg_rgb(png), dtype=np.uint8)
        theirs = np.frombuffer(ffmpeg_rgb(media.short, still.frame_ms / 1000), dtype=np.uint8)
        assert ours.shape == theirs.shape == (160 * 120 * 3,)
        mad = np.abs(ours.astype(int) - theirs.astype(int)).mean()
        assert mad < 3.0, f"at {at}: mean abs pixel difference {mad}"
        # The pixels come from the core as an array: the same ones as the PNG.
        assert still.rgb.dtype == np.uint8 and still.rgb.shape == (120, 160, 3)
        assert np.array_equal(still.rgb, ours.reshape(120, 160, 3))
        assert not still.rgb.flags.writeable
        copy = still.to_numpy()
        assert np.array_equal(copy, still.rgb) and copy.flags.writeable
        assert (still.recording, still.position_ms) == (None, None)
    small = vap.still_frame(media.short, "1s", max_width=80)
    assert (small.width, small.height) == (80, 60)
    assert small.rgb.shape == small.to_numpy().shape == (60, 80, 3)
    with pytest.raises(vap.InvalidArgumentError, match="max_width"):
        vap.still_frame(media.short, "1s", max_width=0)
    # No PNG decoder in Python any more: the pixels are the core's.
    assert not hasattr(vap._media, "_png_rgb")


# ---------------------------------------------------------------- whisper.cpp's log


def test_whisper_log_goes_to_logging_stderr_or_nowhere(media, tiny_en, caplog, capfd):
    def load_model():  # loads the model fully, then refuses the language
        with pytest.raises(vap.InvalidArgumentError, match="English-only"):
            vap.transcribe(media.short, tiny_en, language="zh", progress=False)

    try:
        caplog.set_level(logging.DEBUG, logger="vap.whisper")
        vap.set_whisper_log("logging")
        load_model()
        records = [r for r in caplog.records if r.name == "vap.whisper"]
        assert any("whisper" in r.getMessage() for r in records), records
        assert {r.levelno for r in records} <= {
            logging.DEBUG,
            logging.INFO,
            logging.WARNING,
            logging.ERROR,
        }
        assert any(r.levelno == logging.INFO for r in records)

        capfd.readouterr()
        vap.set_whisper_log("stderr", level="info")
        load_model()
        err = capfd.readouterr().err
        assert "whisper: " in err, err

        caplog.clear()
        vap.set_whisper_log("silent")
        load_model()
        assert "whisper: " not in capfd.readouterr().err
        assert not [r for r in caplog.records if r.name == "vap.whisper"]
        with pytest.raises(vap.InvalidArgumentError, match="mode"):
            vap.set_whisper_log("loud")
        with pytest.raises(vap.InvalidArgumentError, match="level"):
            vap.set_whisper_log("stderr", level="chatty")
    finally:
        vap.set_whisper_log("silent")
