"""Clips from Python: ``vap.clip`` on a recording made at test time (an
ffmpeg test pattern with espeak-ng speech, tests/media/make_media.py),
checked with ffprobe and vap's own index and stills; ``Replay.clips`` on a
stored session with a registered recording, its manifest and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import vap

ROOT = Path(__file__).resolve().parents[2]
FRAME_MS = 40.0  # 25 fps
AAC_MS = 24.0  # one AAC frame at 44.1 / 48 kHz and under


def make(out: Path, seconds: int, gop: int) -> Path:
    spec = out.with_suffix(".json")
    spec.write_text(
        json.dumps(
            {
                "out": str(out),
                "duration": seconds,
                "gop": gop,
                "size": "96x64",
                "parts": [{"at": 1, "text": "three hundred units in forty seconds"}],
            }
        )
    )
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests/media/make_media.py"), str(spec)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    return out


def ffprobe_ms(path: Path) -> float:
    r = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(r.stdout.strip()) * 1000


@pytest.fixture(scope="module")
def src(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make(tmp_path_factory.mktemp("clips") / "src.mp4", 20, 50)  # keyframe every 2 s


def test_remux_from_the_keyframe_before(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "remux.mp4"
    c = vap.clip(src, 5_300, "9s", out)
    assert isinstance(c, vap.Clip) and not c.exact and c.path == str(out)
    assert c.requested_ms == (5_300, 9_000)
    assert c.start_ms == vap.VideoIndex(src).keyframe_before(5_300) == pytest.approx(4_000)
    assert c.end_ms == pytest.approx(9_000, abs=FRAME_MS)
    assert ffprobe_ms(out) == pytest.approx(c.duration_ms, abs=FRAME_MS + AAC_MS)
    info = vap.probe(out)
    assert info.has_video and info.has_audio
    # Copied, not re-encoded: the first frame is the source's keyframe.
    np.testing.assert_array_equal(vap.still_frame(out, 0).rgb, vap.still_frame(src, 4_000).rgb)


def test_exact_cut_on_the_frame(src: Path, tmp_path: Path) -> None:
    out = tmp_path / "exact.mp4"
    c = vap.clip(src, 5_300, 9_000, out, exact=True)
    assert c.exact
    assert 5_300 - FRAME_MS < c.start_ms <= 5_300
    assert ffprobe_ms(out) == pytest.approx(3_700, abs=FRAME_MS + AAC_MS)
    first = vap.still_frame(out, 0).rgb.astype(float)
    near = np.abs(first - vap.still_frame(src, 5_300).rgb).mean()
    far = np.abs(first - vap.still_frame(src, 4_000).rgb).mean()
    assert near < 6 and near * 3 < far, (near, far)


def test_clip_errors_are_typed_and_leave_nothing(src: Path, tmp_path: Path) -> None:
    with pytest.raises(vap.InvalidArgumentError):
        vap.clip(src, 9_000, 5_000, tmp_path / "a.mp4")
    with pytest.raises(vap.InvalidArgumentError, match="past the end"):
        vap.clip(src, "1min", "70s", tmp_path / "b.mp4")
    with pytest.raises(vap.VapIOError):
        vap.clip(tmp_path / "none.mp4", 0, 1_000, tmp_path / "c.mp4")
    assert list(tmp_path.iterdir()) == []


def test_the_top_moments_of_a_stored_session(src: Path, tmp_path: Path) -> None:
    room = vap.simulate(seed=5, hours=1.0)
    s = room.data.session
    quick = {"model": {"bootstrap": 10, "seed": 1}}
    rep = room.data.replay(**quick)
    with pytest.raises(vap.NotFoundError, match=s["id"]):
        rep.clips(tmp_path / "none")
    top = rep.moments[0]
    store = vap.Store(tmp_path / "store")
    store.import_session(room.data)
    # The 20 s recording starts 8 s before the top moment.
    store.register_recording(s["room_id"], s["id"], src, top.start_ms - 8_000)
    rep = store.replay(s["room_id"], s["id"], **quick)
    covered = [m for m in rep.moments if m.recording is not None]
    assert covered and covered[0].rank == top.rank
    out = tmp_path / "clips"
    got = rep.clips(out, top=1, before="3s", after="2s", max_length="6s")
    assert len(got) == 1 and isinstance(got[0], vap.ClipEntry)
    e = got[0]
    assert (e.rank, e.moment_start_ms, e.metric) == (top.rank, top.start_ms, top.metric)
    # 3 s before the moment is 5 s into the recording; the keyframe before is 4 s.
    assert e.start_ms == pytest.approx(4_000)
    assert e.end_ms == pytest.approx(min(5_000 + 6_000, 20_000), abs=FRAME_MS)
    assert e.session_start_ms == top.start_ms - 4_000
    assert ffprobe_ms(out / e.file) == pytest.approx(e.end_ms - e.start_ms, abs=FRAME_MS + AAC_MS)
    manifest = json.loads((out / "clips.json").read_text())
    assert manifest == [vars(x) for x in got]
    # Bad options: every problem at once.
    with pytest.raises(vap.InvalidArgumentError) as err:
        rep.clips(out, top=0, before=-1, format="m p4")
    for p in ("top must", "before is negative", "format 'm p4'"):
        assert p in str(err.value)
    assert vap.option_defaults("clips")["before_ms"] == 10_000
