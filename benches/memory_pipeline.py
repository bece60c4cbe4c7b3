"""Peak resident memory of the whole pipeline on the full-scale 12-hour room
(2 M comments): simulate, import into a store, load it back, the full
1-second timeline, the attribution fit (10 s bins, default options). Each
prefix of the pipeline runs in a fresh interpreter under ``/usr/bin/time -v``
and its "Maximum resident set size" is reported, so each row says what the
stages up to it cost together. A stage's inputs are dropped once the next
stage has what it needs, as a script would.

    .venv/bin/python benches/memory_pipeline.py [repeats]
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile

STAGES = [
    (
        "simulate",
        "room = vap.simulate(seed=1, hours=12, entries_per_second=130, comment_rate=0.002,"
        " base_conversion=0.0001)\n"
        'rid, sid = room.data.room["id"], room.data.session["id"]\n',
    ),
    (
        "+ import",
        "store = vap.Store(TMP)\nstore.import_session(room.data)\ndel room\n",
    ),
    ("+ load", "s = store.load(rid, sid)\n"),
    ("+ full timeline (1 s)", "tl = s.timeline('1s')\ndel tl\n"),
    ("+ attribution (10 s)", "a = s.attribute('10s')\n"),
]


def peak_mb(code: str) -> float:
    out = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    if m is None:
        raise RuntimeError(out.stderr)
    return int(m.group(1)) / 1024


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    base = peak_mb("import vap")
    print(f"interpreter with vap imported: {base:.0f} MB")
    print(f"{'stages':<28}{'peak MB (median)':>18}")
    code = "import vap\n"
    for name, stage in STAGES:
        code += stage
        peaks = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as tmp:
                peaks.append(peak_mb(f"TMP = {tmp!r}\n" + code))
        print(f"{name:<28}{statistics.median(peaks):>18.0f}")


if __name__ == "__main__":
    main()
