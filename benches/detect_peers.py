"""Side-by-side: vap's change-point search vs ruptures on the same series, in
one run, on a size ladder (1 k, 5 k, 10 k, 43.2 k points: 43,200 is a 12-hour
session at 1 s). Medians of N repeats; ratios printed; each peer call has a
time-out, and a figure past it is extrapolated (quadratically from the last
size measured, marked "~"). Where both sides are exact (vap PELT, ruptures
Pelt with min_size=1 and jump=1, ruptures KernelCPD with the linear kernel,
which is the L2 cost) the script checks that the segmentations agree and exits
1 if they do not.

    .venv/bin/python benches/detect_peers.py [repeats] [timeout_s]
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import sys
import time

import numpy as np
import ruptures as rpt

import vap

SIZES = [1_000, 5_000, 10_000, 43_200]


def series(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = max(1, n // 500)
    levels = rng.uniform(-5, 5, size=k)
    return np.repeat(levels, -(-n // k))[:n] + rng.uniform(-1, 1, size=n)


def penalty(x: np.ndarray) -> float:
    # the BIC-style L2 penalty vap uses: 2 σ² ln n, σ² from the MAD of differences
    d = np.diff(x)
    sigma = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2)
    return float(2 * sigma**2 * np.log(len(x)))


def run_peer(name: str, x: np.ndarray, pen: float, out) -> None:
    t = time.perf_counter()
    if name == "ruptures Pelt":
        bk = rpt.Pelt(model="l2", min_size=1, jump=1).fit(x).predict(pen=pen)
    elif name == "ruptures Binseg":
        bk = rpt.Binseg(model="l2", min_size=1, jump=1).fit(x).predict(pen=pen)
    else:
        bk = rpt.KernelCPD(kernel="linear", min_size=1).fit(x).predict(pen=pen)
    out.put((time.perf_counter() - t, bk))


def timed_peer(name: str, x: np.ndarray, pen: float, timeout: float):
    q: mp.Queue = mp.Queue()
    p = mp.Process(target=run_peer, args=(name, x, pen, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.terminate()
        p.join()
        return None, None
    return q.get()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
    peers = ["ruptures Pelt", "ruptures Binseg", "ruptures KernelCPD"]
    last: dict[str, tuple[int, float]] = {}
    problems = []
    print(f"{'n':>7} {'side':<22}{'median s':>12}{'÷ vap pelt':>12}")
    for n in SIZES:
        x = series(n)
        pen = penalty(x)
        times = []
        ours = None
        for _ in range(repeats):
            t = time.perf_counter()
            ours = vap.pelt(x, cost="l2", penalty=pen)
            times.append(time.perf_counter() - t)
        t_vap = statistics.median(times)
        t_bin = statistics.median(
            [
                (lambda t0: (vap.binseg(x, penalty=pen), time.perf_counter() - t0)[1])(
                    time.perf_counter()
                )
                for _ in range(repeats)
            ]
        )
        print(f"{n:>7} {'vap pelt (exact)':<22}{t_vap:>12.4f}{1.0:>11.1f}x")
        print(f"{n:>7} {'vap binseg':<22}{t_bin:>12.4f}{t_bin / t_vap:>11.2f}x")
        for name in peers:
            if name in last and last[name][1] > timeout:
                m, tt = last[name]
                est = tt * (n / m) ** 2
                last[name] = (n, est)
                print(f"{n:>7} {name:<22}{'~' + format(est, '.1f'):>12}{est / t_vap:>10.0f}x~")
                continue
            t, bk = timed_peer(name, x, pen, timeout)
            if t is None:
                m, tt = last.get(name, (n, timeout))
                est = max(timeout, tt * (n / m) ** 2)
                last[name] = (n, est)
                print(f"{n:>7} {name:<22}{'~' + format(est, '.1f'):>12}{est / t_vap:>10.0f}x~")
                continue
            last[name] = (n, t)
            print(f"{n:>7} {name:<22}{t:>12.4f}{t / t_vap:>11.1f}x")
            if name != "ruptures Binseg" and bk != ours.breakpoints:
                problems.append(f"n={n}: {name} {bk[:6]}... vs vap {ours.breakpoints[:6]}...")
    for p in problems:
        print("DIFFER:", p)
    if problems:
        sys.exit(1)
    print("exact segmentations agree (vap PELT, ruptures Pelt, ruptures KernelCPD linear)")


if __name__ == "__main__":
    main()
