"""Timing of the plan features as installed (Python call, medians of 3):
``Session.plan_vs_actual`` on a 4-hour room whose run-sheet has every
explain planned 5 minutes early (one counterfactual per deviation, the model
fit included), and ``vap.playbook`` on six 3-hour sessions of one room with
default options (200 bootstrap replicates).

    .venv/bin/python benches/plan_timing.py
"""

from __future__ import annotations

import statistics
import time

import vap


def median_of(f, runs: int = 3) -> tuple[float, list[float]]:
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), ts


def main() -> None:
    s = vap.simulate(seed=1, hours=4, entries_per_second=40).data
    t0 = s.session["start_ms"]
    rows = []
    for r in s.to_pandas("segments").itertuples():
        if r.kind == "explain":
            a = int(r.start_ms.timestamp() * 1000)
            b = int(r.end_ms.timestamp() * 1000)
            rows.append(
                {
                    "类型": "商品",
                    "开始时间": f"+{max(0, (a - t0) // 1000 - 300)}s",
                    "结束时间": f"+{max(1, (b - t0) // 1000 - 300)}s",
                    "商品": r.product_id,
                }
            )
    planned = s.with_plan(vap.read_run_sheet(rows))
    review = planned.plan_vs_actual()
    med, ts = median_of(planned.plan_vs_actual)
    print(
        f"plan_vs_actual, 4 h, {len(review.items)} items ({review.off_plan} off plan): "
        f"median {med:.2f} s ({', '.join(f'{x:.2f}' for x in ts)})"
    )
    history = [
        vap.simulate(
            seed=100 + k,
            hours=3,
            entries_per_second=40,
            anchors=3,
            products=20,
            session_id=f"day-{k}",
            start=1_795_608_000_000 + k * 86_400_000,
        ).data
        for k in range(6)
    ]
    med, ts = median_of(lambda: vap.playbook(history))
    print(
        f"playbook, 6 sessions x 3 h, default options: median {med:.2f} s "
        f"({', '.join(f'{x:.2f}' for x in ts)})"
    )


if __name__ == "__main__":
    main()
