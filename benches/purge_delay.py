"""mimalloc's purge delay, side by side: for each delay (ms), the peak
resident memory of the 12-hour pipeline in one process (simulate, import,
drop the simulated session, load, full 1 s timeline, attribution at 10 s) and
the median time of the full timeline called in a loop (its columns freed and
allocated again each call). The bindings set 100 ms unless
``MIMALLOC_PURGE_DELAY`` is set, which is how each delay is tried here.

    .venv/bin/python benches/purge_delay.py [delay_ms ...]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

PIPELINE = """
import tempfile, vap
room = vap.simulate(seed=1, hours=12, entries_per_second=130, comment_rate=0.002,
                    base_conversion=0.0001)
rid, sid = room.data.room["id"], room.data.session["id"]
store = vap.Store(tempfile.mkdtemp())
store.import_session(room.data)
del room
s = store.load(rid, sid)
tl = s.timeline("1s")
del tl
a = s.attribute("10s")
"""

LOOP = """
import statistics, time, vap
s = vap.simulate(seed=1, hours=12, entries_per_second=130, comment_rate=0.002,
                 base_conversion=0.0001).data
for _ in range(3):
    s.timeline("1s")
ts = []
for _ in range(15):
    t = time.perf_counter()
    s.timeline("1s")
    ts.append(time.perf_counter() - t)
print(statistics.median(ts))
"""


def run(code: str, delay: str, timed: bool) -> str:
    env = {**os.environ, "MIMALLOC_PURGE_DELAY": delay}
    cmd = [sys.executable, "-c", code]
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    if timed:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
        if m is None:
            raise RuntimeError(out.stderr)
        return f"{int(m.group(1)) / 1024:.0f}"
    return f"{float(out.stdout):.4f}"


def main() -> None:
    delays = sys.argv[1:] or ["10", "50", "100", "200", "1000"]
    print(f"{'purge delay ms':<16}{'pipeline peak MB':>18}{'timeline s (median)':>22}")
    for d in delays:
        print(f"{d:<16}{run(PIPELINE, d, True):>18}{run(LOOP, d, False):>22}")


if __name__ == "__main__":
    main()
