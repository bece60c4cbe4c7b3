"""Side-by-side: vap loading a session directory vs pandas / polars / pyarrow
reading the same files, in one run, medians of N repeats, ratios printed.

vap does more than the peers here: it parses times, normalises text (NFKC),
validates every row and every cross-table reference and sorts; the peers only
parse. The ratio is the price of that work.

Three ways of loading, each a line per peer:

- ``script``: each contender once in a fresh interpreter (vap, pandas, polars
  and pyarrow imported, nothing loaded before), the median over ``repeats``
  interpreters: what a script that loads one session gets.
- ``repeated``: each contender ``repeats`` times back to back in this process
  after one untimed call (a service loading session after session).
- ``in turn``: the contenders take turns within each repeat (vap, then each
  peer, then vap again ...), so that a slow spell of the shared machine falls
  on all of them; between two of its turns each contender's freed memory may
  have gone back to the system (vap's allocator gives it back after 100 ms).

Every result is dropped inside its timing, vap's and the peers' alike.

    .venv/bin/python benches/peers.py [hours] [repeats]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.parquet as pq

import vap

# Each contender as code over `d` (the directory) and `files` (its tables'
# files), for this process and for a fresh interpreter alike.
CODE = {
    "vap": "vap.load_dir(d)",
    "pandas.read_csv": "[pd.read_csv(f) for f in files]",
    "polars.read_csv": "[pl.read_csv(f) for f in files]",
    "pyarrow.parquet.read_table": "[pq.read_table(f) for f in files]",
    "polars.read_parquet": "[pl.read_parquet(f) for f in files]",
    "pandas.read_parquet": "[pd.read_parquet(f) for f in files]",
}
PEERS = {
    "csv": ["pandas.read_csv", "polars.read_csv"],
    "parquet": ["pyarrow.parquet.read_table", "polars.read_parquet", "pandas.read_parquet"],
}
FRESH = """
import sys, time
from pathlib import Path
import pandas as pd, polars as pl, pyarrow.parquet as pq, vap
d = Path(sys.argv[1])
files = sorted(d.glob("*." + sys.argv[2]))
t = time.perf_counter()
{code}
print(time.perf_counter() - t)
"""


def in_turn(fns: dict, repeats: int) -> dict:
    """The median time of each of `fns`, run in turn within every repeat
    after one untimed call each."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def repeated(fns: dict, repeats: int) -> dict:
    """The median time of each of `fns`, `repeats` calls back to back after
    one untimed call."""
    out = {}
    for name, fn in fns.items():
        fn()
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        out[name] = statistics.median(times)
    return out


def script(names: list, d: Path, fmt: str, repeats: int) -> dict:
    """The median time of each contender's one load in a fresh interpreter."""
    out = {}
    for name in names:
        code = FRESH.format(code=CODE[name])
        times = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code, str(d), fmt],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            for _ in range(repeats)
        ]
        out[name] = statistics.median(times)
    return out


def main() -> None:
    hours = float(sys.argv[1]) if len(sys.argv) > 1 else 4.0
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    room = vap.simulate(seed=1, hours=hours)
    n = {t: room.data.num_rows(t) for t in vap.table_names()}
    print(
        f"session: {hours} h, {n['comments']} comments, {n['orders']} orders, {sum(n.values())} rows"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ["csv", "parquet"]:
            d = Path(tmp) / fmt
            room.data.write_dir(d, format=fmt)
            files = sorted(d.glob(f"*.{fmt}"))
            names = ["vap", *PEERS[fmt]]
            scope = {"vap": vap, "pd": pd, "pl": pl, "pq": pq, "d": d, "files": files}
            fns = {name: eval(f"lambda: {CODE[name]}", scope) for name in names}  # noqa: S307
            for mode, t in [
                ("script", script(names, d, fmt, repeats)),
                ("repeated", repeated(fns, repeats)),
                ("in turn", in_turn(fns, repeats)),
            ]:
                for name in PEERS[fmt]:
                    rows.append((fmt, mode, name, t["vap"], t[name]))
    print(f"{'format':8} {'mode':9} {'peer':28} {'vap (s)':>9} {'peer (s)':>9} {'vap/peer':>9}")
    for fmt, mode, name, t_vap, t_peer in rows:
        print(f"{fmt:8} {mode:9} {name:28} {t_vap:9.3f} {t_peer:9.3f} {t_vap / t_peer:9.2f}")


if __name__ == "__main__":
    main()
