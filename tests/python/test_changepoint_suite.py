"""vap.pelt's default penalty on a generated suite of realistic series (issue
16): at least as good as ruptures' and R changepoint's defaults in TCPDBench's
F1 and covering, better than reporting no change, and few change points on a
pure smooth trend. The generator, metrics and references are in
``cp_suite.py``; ``benches/changepoint_suite.py`` runs the full comparison.

``default`` runs ``vap.pelt(x)``; ``recommended`` passes the penalty the bench
recommends (``cp_suite.recommended_penalty``, min_size 5) as numbers, showing
that the assertions hold once the Rust default computes it."""

from __future__ import annotations

from collections.abc import Callable

import cp_suite as cs
import numpy as np
import pytest

import vap

SEED = 100
COUNT = 90  # 10 series per family
TOLERANCE = 0.02  # on 12 suites of this size the recommended penalty's worst gap was 0.014


def default(x: np.ndarray) -> list[int]:
    return vap.pelt(x).breakpoints[:-1]


def recommended(x: np.ndarray) -> list[int]:
    pen = cs.recommended_penalty(x)
    return vap.pelt(x, penalty=pen, min_size=cs.RECOMMENDED_MIN_SIZE).breakpoints[:-1]


DETECTORS: dict[str, Callable[[np.ndarray], list[int]]] = {
    "default": default,
    "recommended": recommended,
}


def scores(series: list[cs.Series], detect: Callable[[np.ndarray], list[int]]):
    f1, cover = [], []
    for s in series:
        cps = detect(s.x)
        f1.append(cs.f_measure(s.cps, cps))
        cover.append(cs.covering(s.cps, cps, len(s.x)))
    return float(np.mean(f1)), float(np.mean(cover))


@pytest.fixture(scope="module")
def suite() -> list[cs.Series]:
    return cs.generate(SEED, COUNT, cs.FAMILIES)


@pytest.fixture(scope="module")
def references(suite) -> dict[str, tuple[float, float]]:
    return {
        "ruptures": scores(suite, cs.ruptures_default),
        "R MBIC": scores(suite, cs.r_changepoint_mbic),
        "no change": scores(suite, lambda x: []),
    }


def test_metrics_follow_tcpdbench():
    # 0 is in both sets; each annotated point matches one prediction within 5
    assert cs.f_measure([10, 20], [10, 21, 40]) == pytest.approx(2 * 0.75 / 1.75)
    assert cs.f_measure([], []) == 1.0
    assert cs.f_measure([50], []) == pytest.approx(2 * 0.5 / 1.5)
    assert cs.f_measure([50], [44]) == pytest.approx(0.5)  # 6 points off: a miss
    assert cs.f_measure([50], [45, 55]) == pytest.approx(2 * (2 / 3) / (1 + 2 / 3))
    # covering: Σ |A|·max Jaccard(A, P) / n
    assert cs.covering([50], [50], 100) == 1.0
    assert cs.covering([50], [], 100) == pytest.approx(0.5)
    assert cs.covering([], [25], 100) == pytest.approx(0.75)
    assert cs.covering([50], [40], 100) == pytest.approx((50 * 40 / 50 + 50 * 50 / 60) / 100)


def test_generator_is_seeded_and_realistic(suite):
    again = cs.make_series(SEED, 7, cs.FAMILIES[7])
    assert np.array_equal(again.x, suite[7].x) and again.cps == suite[7].cps
    assert {s.family for s in suite} == set(cs.FAMILIES)
    lengths = [len(s.x) for s in suite]
    assert 50 <= min(lengths) and max(lengths) <= 1000
    without = sum(not s.cps for s in suite) / len(suite)
    assert 0.2 <= without <= 0.5
    assert max(len(s.cps) for s in suite) <= 6
    for s in suite:
        assert all(0 < c < len(s.x) for c in s.cps)
        assert np.isfinite(s.x).all()


@pytest.mark.parametrize("name", DETECTORS)
def test_matches_ruptures_and_r_defaults(name, suite, references):
    f1, cover = scores(suite, DETECTORS[name])
    table = {**references, name: (f1, cover)}
    report = ", ".join(f"{k}: F1 {a:.3f} cover {b:.3f}" for k, (a, b) in table.items())
    for ref in ("ruptures", "R MBIC"):
        assert f1 >= references[ref][0] - TOLERANCE, report
        assert cover >= references[ref][1] - TOLERANCE, report
    zero_f1, zero_cover = references["no change"]
    assert f1 > zero_f1 + 0.05 and cover > zero_cover + 0.05, report


@pytest.mark.parametrize("name", DETECTORS)
def test_a_pure_smooth_trend_gets_a_handful(name):
    x = cs.smooth_trend(816, 0)
    assert len(DETECTORS[name](x)) <= 5
