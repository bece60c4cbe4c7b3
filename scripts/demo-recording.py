"""Makes the demo room's recordings: for each top moment of the bundled
session (seed 42, 4 h, what `make demo` imports), a short ffmpeg test
pattern around it with the anchor's lines of that stretch spoken by
espeak-ng at their times, and `demo-recordings.json` saying where each file
sits on the session clock. `make demo` registers them on the session, so the
report's videos and stills have something to show.

Usage: python scripts/demo-recording.py DIR [--seed 42] [--hours 4] [--before 60] [--length 150]

Writes DIR/demo-recording-RANK.mp4 and DIR/demo-recordings.json. Short and
small on purpose (320x180 at 10 fps, AAC speech; a few hundred kB each).
Needs vap (the venv), espeak-ng and ffmpeg. Skips if the JSON exists.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import vap


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--before", type=float, default=60.0, help="seconds before each moment")
    ap.add_argument("--length", type=float, default=150.0, help="seconds per recording")
    a = ap.parse_args()
    index = a.dir / "demo-recordings.json"
    if index.exists():
        print(f"{index} exists: kept")
        return 0
    room = vap.simulate(seed=a.seed, hours=a.hours, session_id=f"demo-{a.seed}")
    s = room.data.session
    # The moments do not depend on the model: a replay without one finds them.
    moments = room.data.replay(attribute=False).moments
    offset_ms = int(room.truth.get("clock_offset_ms", 0))
    u = room.data.table("utterances")
    said = [
        (int(t.timestamp() * 1000) - offset_ms, str(x))
        for t, x in zip(u["start_ms"].to_pylist(), u["text"].to_pylist())
    ]
    out = []
    a.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for m in moments:
            start = max(s["start_ms"], m.start_ms - int(a.before * 1000))
            end = min(s["end_ms"], start + int(a.length * 1000))
            secs = (end - start) / 1000
            lines, next_at = [], 1.0
            for t, text in said:
                at = (t - start) / 1000
                if next_at <= at < secs - 4:
                    lines.append((at, text))
                    next_at = at + 6
            inputs, chains = [], []
            for k, (at, text) in enumerate(lines):
                wav = os.path.join(tmp, f"{m.rank}-{k}.wav")
                subprocess.run(
                    ["espeak-ng", "-v", "cmn", "-s", "170", "-w", wav, text],
                    check=True,
                    capture_output=True,
                )
                inputs += ["-i", wav]
                ms = int(at * 1000)
                chains.append(f"[{k + 2}:a]aresample=22050,adelay={ms}|{ms}[s{k}]")
            mix = "".join(f"[s{k}]" for k in range(len(lines)))
            graph = ";".join(
                chains + [f"[1:a]{mix}amix=inputs={len(lines) + 1}:duration=first:normalize=0[a]"]
            )
            name = f"demo-recording-{m.rank}.mp4"
            part = a.dir / f".{name}.part.mp4"
            cmd = [
                "ffmpeg", "-y", "-v", "error",
                "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=10:duration={secs}",
                "-f", "lavfi", "-i", f"anullsrc=r=22050:cl=mono:d={secs}",
                *inputs,
                "-filter_complex", graph,
                "-map", "0:v", "-map", "[a]",
                "-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "20",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-ac", "1",
                "-movflags", "+faststart", "-t", str(secs), str(part),
            ]  # fmt: skip
            subprocess.run(cmd, check=True)
            part.rename(a.dir / name)
            out.append(
                {
                    "file": name,
                    "session_id": s["id"],
                    "offset_ms": start,
                    "rank": m.rank,
                    "lines": len(lines),
                }
            )
    tmp_index = index.with_name(".demo-recordings.json.part")
    tmp_index.write_text(json.dumps(out, indent=1))
    tmp_index.rename(index)
    print(f"{len(out)} demo recordings in {a.dir} ({index.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
