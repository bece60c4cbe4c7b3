"""Makes test recordings at test time: espeak-ng speech placed at given times,
muxed with an ffmpeg test-pattern video, written as mp4 (or any container
ffmpeg picks from the extension).

Usage: python3 tests/media/make_media.py SPEC.json
SPEC: {"out": "rec.mp4", "duration": 60, "video": true, "audio": true,
       "rate": 22050, "tone": [[start, end], ...], "gop": 25 (frames, 25 fps), "bframes": 0,
       "parts": [{"at": 5.0, "text": "...", "voice": "en"}, ...],
       "flow": {"start": 1.0, "gap": 0.4, "voice": "en", "texts": ["...", ...]}}
"flow" fills the recording with the texts one after another (cycling), each
starting `gap` seconds after the previous one ends: continuous speech.
Prints JSON: {"out": ..., "duration": ..., "parts": [{"at", "end", "text"}]}
with each part's real start and end in seconds (speech as espeak made it).
Needs espeak-ng and ffmpeg on PATH. Only the standard library.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave


def speak(text: str, voice: str, rate: int, tmp: str) -> list[float]:
    path = os.path.join(tmp, "part.wav")
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", path, text],
        check=True,
        capture_output=True,
    )
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit("espeak-ng wrote an unexpected wav format")
        src_rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    x = [v / 32768.0 for v in struct.unpack(f"<{len(raw) // 2}h", raw)]
    if src_rate == rate:
        return x
    # Linear resampling is plenty for test speech.
    n = int(len(x) * rate / src_rate)
    out = []
    for i in range(n):
        p = i * src_rate / rate
        j = int(p)
        f = p - j
        a = x[j] if j < len(x) else 0.0
        b = x[j + 1] if j + 1 < len(x) else 0.0
        out.append(a + (b - a) * f)
    return out


def main() -> None:
    spec = json.load(open(sys.argv[1], encoding="utf-8"))
    rate = int(spec.get("rate", 22050))
    duration = float(spec["duration"])
    n = int(duration * rate)
    buf = [0.0] * n
    placed = []
    with tempfile.TemporaryDirectory() as tmp:
        for part in spec.get("parts", []):
            x = speak(part["text"], part.get("voice", "en"), rate, tmp)
            # Trim espeak's leading/trailing silence so "at" is where speech starts.
            nz = [i for i, v in enumerate(x) if abs(v) > 0.01]
            if nz:
                x = x[nz[0] : nz[-1] + 1]
            s = int(float(part["at"]) * rate)
            for i, v in enumerate(x):
                if s + i < n:
                    buf[s + i] += v * 0.8
            placed.append(
                {
                    "at": s / rate,
                    "end": min(n, s + len(x)) / rate,
                    "text": part["text"],
                }
            )
        flow = spec.get("flow")
        if flow:
            t = float(flow.get("start", 1.0))
            gap = float(flow.get("gap", 0.4))
            cache: dict[str, list[float]] = {}
            k = 0
            while True:
                text = flow["texts"][k % len(flow["texts"])]
                k += 1
                if text not in cache:
                    x = speak(text, flow.get("voice", "en"), rate, tmp)
                    nz = [i for i, v in enumerate(x) if abs(v) > 0.01]
                    cache[text] = x[nz[0] : nz[-1] + 1] if nz else x
                x = cache[text]
                s = int(t * rate)
                if s + len(x) >= n:
                    break
                for i, v in enumerate(x):
                    buf[s + i] += v * 0.8
                placed.append({"at": s / rate, "end": (s + len(x)) / rate, "text": text})
                t = (s + len(x)) / rate + gap
        for a, b in spec.get("tone", []):
            for i in range(int(a * rate), min(n, int(b * rate))):
                t = i / rate
                buf[i] += 0.3 * math.sin(2 * math.pi * 440 * t) * (
                    0.5 + 0.5 * math.sin(2 * math.pi * 2 * t)
                )
        wav = os.path.join(tmp, "speech.wav")
        with wave.open(wav, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            pcm = (max(-32768, min(32767, int(v * 32767))) for v in buf)
            w.writeframes(struct.pack(f"<{n}h", *pcm))
        out = spec["out"]
        cmd = ["ffmpeg", "-y", "-v", "error"]
        if spec.get("video", True):
            size = spec.get("size", "160x120")
            cmd += ["-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:duration={duration}"]
        if spec.get("audio", True):
            cmd += ["-i", wav]
        if spec.get("video", True):
            gop = str(spec.get("gop", 25))
            cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-g", gop, "-keyint_min", gop]
            cmd += ["-sc_threshold", "0", "-pix_fmt", "yuv420p"]
            if spec.get("bframes"):
                cmd += ["-x264-params", f"bframes={int(spec['bframes'])}"]
        if spec.get("audio", True):
            cmd += ["-c:a", "aac", "-b:a", "64k"]
        cmd += ["-t", str(duration), out]
        subprocess.run(cmd, check=True)
    json.dump({"out": out, "duration": duration, "parts": placed}, sys.stdout)


if __name__ == "__main__":
    main()
