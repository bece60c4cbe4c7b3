"""Store load of the full-scale 12-hour session (2 M comments, the room of
``benches/memory_pipeline.py``): ``Store.load`` as installed, the first load
in the process, then the median and fastest of ``repeats`` loads after one
import (each session dropped before the next load).

    .venv/bin/python benches/store_load.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time

import vap


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    room = vap.simulate(
        seed=1, hours=12, entries_per_second=130, comment_rate=0.002, base_conversion=0.0001
    )
    rid, sid = room.data.room["id"], room.data.session["id"]
    print(f"session: 12 h, {room.data.num_rows('comments')} comments")
    with tempfile.TemporaryDirectory() as tmp:
        store = vap.Store(tmp)
        store.import_session(room.data)
        del room
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            s = store.load(rid, sid)
            times.append(time.perf_counter() - t)
            del s
    print(
        f"store.load: first {times[0]:.3f} s, median {statistics.median(times):.3f} s, "
        f"fastest {min(times):.3f} s"
    )


if __name__ == "__main__":
    main()
