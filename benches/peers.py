"""Side-by-side: vap loading a session directory vs pandas / polars / pyarrow
reading the same files, in one run, medians of N repeats, ratios printed.

vap does more than the peers here: it parses times, normalises text (NFKC),
validates every row and every cross-table reference and sorts; the peers only
parse. The ratio is the price of that work.

The contenders take turns within each repeat (vap, then each peer, then vap
again ...), so that a slow spell of the shared machine falls on all of them
rather than on whichever ran then; each is warmed up once, untimed.

    .venv/bin/python benches/peers.py [hours] [repeats]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow.parquet as pq

import vap


def median_times(fns: dict, repeats: int) -> dict:
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
            if fmt == "csv":
                peers = {
                    "pandas.read_csv": lambda files=files: [pd.read_csv(f) for f in files],
                    "polars.read_csv": lambda files=files: [pl.read_csv(f) for f in files],
                }
            else:
                peers = {
                    "pyarrow.parquet.read_table": lambda files=files: [
                        pq.read_table(f) for f in files
                    ],
                    "polars.read_parquet": lambda files=files: [pl.read_parquet(f) for f in files],
                    "pandas.read_parquet": lambda files=files: [pd.read_parquet(f) for f in files],
                }
            t = median_times({"vap": lambda d=d: vap.load_dir(d), **peers}, repeats)
            for name in peers:
                rows.append((fmt, name, t["vap"], t[name]))
    print(f"{'format':8} {'peer':28} {'vap (s)':>9} {'peer (s)':>9} {'vap/peer':>9}")
    for fmt, name, t_vap, t_peer in rows:
        print(f"{fmt:8} {name:28} {t_vap:9.3f} {t_peer:9.3f} {t_vap / t_peer:9.2f}")


if __name__ == "__main__":
    main()
