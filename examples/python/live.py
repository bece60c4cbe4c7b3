"""A stored session replayed as if live: its events appended ten seconds of
stream at a time into a ``vap.LiveSession``, alerts printed as they fire.

Run with ``.venv/bin/python examples/python/live.py demo-store`` after
``make demo`` (the demo's store), or ``... live.py --simulate 1`` for a fresh
one-hour synthetic room. Options: ``--every 10s`` (stream per append),
``--speed 0`` (as fast as it computes; ``--speed 60`` plays a minute of
stream per second).
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

import vap


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("store", nargs="?", help="a vap store (its latest session is replayed)")
    p.add_argument(
        "--simulate", type=float, metavar="HOURS", help="replay a synthetic room instead"
    )
    p.add_argument("--every", default="10s", help="stream per append (default 10s)")
    p.add_argument(
        "--speed", type=float, default=0.0, help="stream seconds per wall second (0: no waiting)"
    )
    args = p.parse_args(argv)
    if args.store:
        store = vap.Store(args.store)
        info = store.sessions()[-1]
        session = store.load(info["room_id"], info["session_id"])
    else:
        session = vap.simulate(seed=42, hours=args.simulate or 1.0).data
    tz = session.session.get("timezone", "UTC")
    clock = lambda ms: pd.Timestamp(ms, unit="ms", tz="UTC").tz_convert(tz).strftime("%H:%M:%S")  # noqa: E731

    live = vap.LiveSession(session)

    @live.on_alert
    def show(a: vap.Alert) -> None:
        print(f"live: [{clock(a.at_ms)}] {a.kind:<28} {a.message_zh}")
        for q in a.questions[:3]:
            print(f"live:      ? {q}")

    batches = vap.live_feed(session, every=args.every)
    latencies = []
    started = time.perf_counter()
    first = None
    for batch in batches:
        t = time.perf_counter()
        u = live.append(batch)
        latencies.append((time.perf_counter() - t) * 1000)
        if args.speed > 0:
            first = first if first is not None else u.watermark_ms
            due = (u.watermark_ms - first) / 1000 / args.speed
            time.sleep(max(0.0, due - (time.perf_counter() - started)))
    latencies.sort()
    print(
        f"live: {len(batches)} appends of {args.every}; {len(live.timeline())} bins, "
        f"{len(live.moments())} moments, {len(live.alerts)} alerts; "
        f"update median {statistics.median(latencies):.1f} ms, "
        f"p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f} ms"
    )


if __name__ == "__main__":
    main()
