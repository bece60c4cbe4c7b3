"""``Replay.plot``: the report's curves and contributions as a matplotlib
figure, checked artist by artist against the replay's own data with numpy
(headless, Agg), and its errors: unknown curves typed as the report's, and a
missing matplotlib named with the pip line that installs it."""

from __future__ import annotations

import datetime as dt
import pathlib
import sys
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib.dates as mdates
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import vap

QUICK: dict[str, Any] = {"model": {"bootstrap": 20, "seed": 1}}
TABLES = (
    "anchors",
    "shifts",
    "products",
    "segments",
    "promotions",
    "comments",
    "orders",
    "utterances",
    "metrics",
)


@pytest.fixture(scope="module")
def rep() -> vap.Replay:
    return vap.simulate(seed=11, hours=1.5).data.replay(**QUICK)


@pytest.fixture(scope="module")
def gappy() -> vap.Replay:
    """The same room with every metric sample between minutes 30 and 45
    dropped: ``online_viewers`` has a hole, and the model's parts over time
    are missing there."""
    s = vap.simulate(seed=11, hours=1.5).data
    tables = {n: s.table(n) for n in TABLES}
    t0 = s.session["start_ms"]
    ts = pc.cast(tables["metrics"].column("ts_ms"), pa.int64())
    keep = pc.or_(pc.less(ts, t0 + 30 * 60_000), pc.greater_equal(ts, t0 + 45 * 60_000))
    tables["metrics"] = tables["metrics"].filter(keep)
    manifest = {"room": s.room, "session": s.session, "metrics": s.metrics}
    return vap.from_tables(manifest, tables).replay(**QUICK)


@pytest.fixture(scope="module")
def fig(rep: vap.Replay) -> Figure:
    return rep.plot()


@pytest.fixture(scope="module")
def gap_fig(gappy: vap.Replay) -> Figure:
    return gappy.plot(["order_gmv", "online_viewers"])


def _nan(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], float)


def _local(ms: int, timezone: str) -> dt.datetime:
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (epoch + dt.timedelta(milliseconds=ms)).astimezone(ZoneInfo(timezone))


def _ms(num: float) -> int:
    """A matplotlib date number as epoch ms."""
    return round(mdates.num2date(num).timestamp() * 1000)


def _gid(artists, prefix: str) -> list:
    return [a for a in artists if (a.get_gid() or "").startswith(prefix)]


def _series_axes(figure: Figure) -> list:
    return [ax for ax in figure.axes if _gid(ax.lines, "series-")]


def _parts_axes(figure: Figure):
    found = [ax for ax in figure.axes if _gid(ax.collections, "part-")]
    assert len(found) <= 1
    return found[0] if found else None


def _bars(ax) -> dict[str, list[tuple[int, float, float]]]:
    """Each part's rectangles as (centre in epoch ms, bottom, top)."""
    out: dict[str, list[tuple[int, float, float]]] = {}
    for coll in _gid(ax.collections, "part-"):
        rows = []
        for path in coll.get_paths():
            xs, ys = path.vertices[:, 0], path.vertices[:, 1]
            rows.append((_ms((xs.min() + xs.max()) / 2), ys.min(), ys.max()))
        out[coll.get_gid().removeprefix("part-")] = rows
    return out


@pytest.mark.parametrize("which", ["rep", "gappy"])
def test_each_curve_is_the_replays_values_at_bin_middles(
    which: str, request: pytest.FixtureRequest
) -> None:
    r: vap.Replay = request.getfixturevalue(which)
    figure: Figure = request.getfixturevalue("fig" if which == "rep" else "gap_fig")
    wanted = vap.option_defaults("report")["curves"] if which == "rep" else None
    wanted = wanted or ["order_gmv", "online_viewers"]
    axes = _series_axes(figure)
    assert [_gid(ax.lines, "series-")[0].get_gid() for ax in axes] == [
        f"series-{n}" for n in wanted
    ]
    series = {s["name"]: s for s in r.curves["series"]}
    step = r.curves["step_ms"]
    zone = ZoneInfo(r.timezone)
    gaps = 0
    for ax, name in zip(axes, wanted):
        (line,) = _gid(ax.lines, "series-")
        expected = _nan(series[name]["values"])
        y = np.asarray(line.get_ydata(), float)
        np.testing.assert_array_equal(y, expected)  # NaN where the replay has None
        gaps += int(np.isnan(y).sum())
        x = list(line.get_xdata())
        assert x == [_local(t + step // 2, r.timezone) for t in r.curves["time_ms"]]
        # Local datetimes in the session's zone, not UTC nor raw epoch ms.
        assert all(isinstance(v, dt.datetime) and v.tzinfo == zone for v in x)
        assert {v.utcoffset() for v in x} == {dt.timedelta(hours=8)}
        assert series[name]["source"] in ax.get_title(loc="left")
    if which == "gappy":
        assert gaps >= 10  # the hole is drawn as a break, not as zeros


@pytest.mark.parametrize("which", ["rep", "gappy"])
def test_moments_promotions_and_explain_segments_are_marked(
    which: str, request: pytest.FixtureRequest
) -> None:
    r: vap.Replay = request.getfixturevalue(which)
    figure: Figure = request.getfixturevalue("fig" if which == "rep" else "gap_fig")
    assert r.moments and r.promotions
    segments = [s for p in r.products for s in p.segments]
    ranks = sorted(m.rank for m in r.moments)
    for ax in figure.axes:
        lines = _gid(ax.lines, "moment-")
        assert len(lines) == len(r.moments)
        at = {
            int(line.get_gid().removeprefix("moment-")): _ms(line.get_xdata()[0]) for line in lines
        }
        assert at == {m.rank: m.start_ms for m in r.moments}
        labelled = [int(x) for t in _gid(ax.texts, "moment-label") for x in t.get_text().split("·")]
        assert sorted(labelled) == ranks
    for ax in _series_axes(figure):
        for gid, spans in (("promotion", r.promotions), ("explain", segments)):
            bands = _gid(ax.patches, gid)
            assert len(bands) == len(spans)
            drawn = []
            for band in bands:
                xs = band.get_patch_transform().transform(band.get_path().vertices)[:, 0]
                drawn.append((_ms(xs.min()), _ms(xs.max())))
            assert sorted(drawn) == sorted((s.start_ms, s.end_ms) for s in spans)
    parts_ax = _parts_axes(figure)
    if parts_ax is not None:
        assert not _gid(parts_ax.patches, "promotion") and not _gid(parts_ax.patches, "explain")


@pytest.mark.parametrize("which", ["rep", "gappy"])
def test_stacked_contributions_add_up(which: str, request: pytest.FixtureRequest) -> None:
    r: vap.Replay = request.getfixturevalue(which)
    figure: Figure = request.getfixturevalue("fig" if which == "rep" else "gap_fig")
    model = r.model
    assert model is not None
    ax = _parts_axes(figure)
    assert ax is not None
    bars = _bars(ax)
    assert list(bars) == [p["name"] for p in model.over_time]
    time_ms = r.curves["time_ms"]
    step = r.curves["step_ms"]
    index = {t + step // 2: i for i, t in enumerate(time_ms)}
    n = len(time_ms)
    per_step = np.zeros(n)
    pos_top, neg_bottom = np.zeros(n), np.zeros(n)
    has = np.zeros(n, bool)
    totals = {t.name: t.value for t in model.totals}
    for part in model.over_time:
        rows = bars[part["name"]]
        values = _nan(part["values"])
        assert len(rows) == int(np.isfinite(values).sum())
        heights = np.zeros(n)
        for centre, bottom, top in rows:
            i = index[centre]  # each rectangle sits on its step's middle
            v = values[i]
            # Positive parts stacked up from zero, negative ones down.
            if v >= 0:
                assert bottom == pytest.approx(pos_top[i]) and top - bottom == pytest.approx(v)
                pos_top[i] = top
            else:
                assert top == pytest.approx(neg_bottom[i]) and bottom - top == pytest.approx(v)
                neg_bottom[i] = bottom
            heights[i] = v
            has[i] = True
        per_step += heights
        # Over time, each part sums to its session total.
        assert heights.sum() == pytest.approx(totals[part["name"]], rel=1e-9, abs=1e-6)
    target = _nan(next(s for s in r.curves["series"] if s["name"] == model.target)["values"])
    known = has & np.isfinite(target)
    assert known.sum() > n // 2
    np.testing.assert_allclose(per_step[known], target[known], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(pos_top + neg_bottom, per_step, rtol=1e-9, atol=1e-6)
    (actual,) = _gid(ax.lines, "actual-")
    np.testing.assert_array_equal(np.asarray(actual.get_ydata(), float), target)
    box = ax.get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert all(p["name"] in legend for p in model.over_time)
    if which == "gappy":
        # Steps the model could not fit have no bars; the actual value is
        # still drawn there.
        assert (~has & np.isfinite(target)).sum() >= 10


def test_the_time_axis_is_local_time(rep: vap.Replay, fig: Figure) -> None:
    FigureCanvasAgg(fig).draw()
    zone = ZoneInfo(rep.timezone)
    bottom = fig.axes[-1]
    lo, hi = bottom.get_xlim()
    assert (_ms(lo), _ms(hi)) == (rep.start_ms, rep.end_ms)
    shown = [
        (tick, label.get_text())
        for tick, label in zip(bottom.get_xticks(), bottom.get_xticklabels())
        if lo <= tick <= hi
    ]
    assert len(shown) >= 3
    for tick, text in shown:
        assert text == mdates.num2date(tick, tz=zone).strftime("%H:%M")
    # The session starts at 20:00 in Shanghai (12:00 UTC).
    assert _local(rep.start_ms, rep.timezone).hour == 20
    assert shown[0][1] == "20:00"
    assert bottom.get_xlabel() == f"{_local(rep.start_ms, rep.timezone):%Y-%m-%d} · {rep.timezone}"


def test_it_saves_as_png_without_pyplot(fig: Figure, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "replay.png"
    fig.savefig(out, dpi=60)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000
    if "matplotlib.pyplot" in sys.modules:  # no figure left in pyplot's registry
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_choices(rep: vap.Replay) -> None:
    one = rep.plot("gpm", contributions=False, figsize=(6, 3))
    assert len(one.axes) == 1 and _gid(one.axes[0].lines, "series-gpm")
    assert tuple(one.get_size_inches()) == (6, 3)
    both = rep.plot(["orders", "conversion"])
    assert len(both.axes) == 3 and _parts_axes(both) is not None
    # No model, no contributions axes.
    unfitted = vap.simulate(seed=11, hours=1.5).data.replay(attribute=False)
    assert unfitted.model is None
    plain = unfitted.plot()
    assert _parts_axes(plain) is None
    assert len(plain.axes) == len(vap.option_defaults("report")["curves"])


def test_chinese_labels_are_the_reports(rep: vap.Replay) -> None:
    figure = rep.plot(["order_gmv"], lang="zh")
    assert figure.axes[0].get_title(loc="left") == "成交金额 (订单) · 数据"
    assert figure.axes[-1].get_title(loc="left") == "各因素贡献随时间 · 模型"
    box = figure.axes[-1].get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert "基线" in legend and "未解释" in legend
    english = rep.plot(["order_gmv"])
    assert english.axes[0].get_title(loc="left") == "GMV (orders) · raw"
    assert english.axes[-1].get_title(loc="left") == "contributions over time · model"


def test_unknown_curves_are_refused_as_the_report_refuses_them(rep: vap.Replay) -> None:
    with pytest.raises(vap.InvalidArgumentError) as e:
        rep.plot(["order_gmv", "gmv_per_hour"])
    assert isinstance(e.value, ValueError)
    assert "'gmv_per_hour'" in str(e.value)
    for name in (s["name"] for s in rep.curves["series"]):
        assert name in str(e.value)  # it lists the replay's curves
    with pytest.raises(vap.InvalidArgumentError) as same:
        rep.to_html(curves=["order_gmv", "gmv_per_hour"])
    assert str(same.value) == str(e.value)
    with pytest.raises(vap.InvalidArgumentError, match="twice"):
        rep.plot(["gpm", "gpm"])
    with pytest.raises(vap.InvalidArgumentError, match="lang"):
        rep.plot(lang="fr")


def test_without_matplotlib_it_says_how_to_install_it(
    rep: vap.Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError) as e:
        rep.plot()
    assert "pip install matplotlib" in str(e.value)
    assert "pip install vap[plot]" in str(e.value)
    assert e.value.name == "matplotlib"


def test_timeline_plot_draws_each_column_on_local_times_with_its_moments():
    s = vap.simulate(seed=11, hours=1.5).data
    tl = s.timeline("1min")
    ms = s.moments()
    fig = tl.plot(["orders", "online_viewers"], moments=ms)
    FigureCanvasAgg(fig).draw()
    axes = fig.axes
    assert len(axes) == 2
    tz = ZoneInfo(s.session["timezone"])
    for ax, name in zip(axes, ["orders", "online_viewers"]):
        (line,) = [ln for ln in ax.get_lines() if ln.get_gid() == f"series-{name}"]
        y = np.asarray(line.get_ydata(), dtype=float)
        np.testing.assert_array_equal(y, tl.column(name))
        x = [mdates.num2date(v, tz) for v in mdates.date2num(line.get_xdata())]
        first = dt.datetime.fromtimestamp(int(tl.time_ms[0]) / 1000, tz)
        assert abs((x[0] - first).total_seconds()) < 1
        shaded = [p for p in ax.patches if (p.get_gid() or "").startswith("moment-")]
        assert len(shaded) == sum(m.metric == name for m in ms)
    assert "Asia/Shanghai" in axes[-1].get_xlabel()
    default = tl.plot()
    assert [a.get_ylabel() for a in default.axes] == [
        "order_gmv",
        "orders",
        "online_viewers",
        "gpm",
    ]
    with pytest.raises(vap.NotFoundError, match="nope"):
        tl.plot(["orders", "nope"])
