"""Rich display in Jupyter (``_repr_html_``): well-formed HTML, every time a
local date and time in the session's zone, never epoch milliseconds."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

import vap


class _Cells(HTMLParser):
    """The table cells of a page, row by row, and whether tags balance."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.stack: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def cells(html: str) -> list[list[str]]:
    p = _Cells()
    p.feed(html)
    p.close()
    assert p.stack == []
    return p.rows


def local(ms: int, tz: str) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S %Z")


@pytest.fixture(scope="module")
def room():
    return vap.simulate(seed=7, hours=1.0)


def test_session_shows_its_span_in_its_own_zone(room):
    s = room.data
    info = s.session
    assert info["timezone"] == "Asia/Shanghai"
    html = s._repr_html_()
    rows = dict(r for r in cells(html) if len(r) == 2)
    assert rows["start"] == local(info["start_ms"], "Asia/Shanghai")
    assert rows["start"].endswith("CST") and rows["start"].startswith("2026-11-25 20:")
    assert rows["orders rows"] == f"{s.num_rows('orders'):,}"
    assert str(info["start_ms"]) not in html


def test_timeline_shows_both_ends_with_local_times(room):
    tl = room.data.timeline("1min")
    assert tl.spans[0]["timezone"] == "Asia/Shanghai"
    rows = cells(tl._repr_html_())
    header, body = rows[0], rows[1:]
    assert header[:3] == ["time", *tl.columns[:2]]
    assert len(header) == 1 + tl.REPR_COLUMNS
    assert len(body) == 10
    t = tl.time_ms
    assert [r[0] for r in body] == [local(int(v), "Asia/Shanghai") for v in [*t[:5], *t[-5:]]]
    assert body[0][1] == vap._display.number(float(tl.column(tl.columns[0])[0]))
    html = tl._repr_html_()
    assert f"{len(tl.columns) - tl.REPR_COLUMNS} more columns" in html
    assert str(int(t[0])) not in html


def test_room_timeline_names_each_rows_session(room, tmp_path):
    other = vap.simulate(seed=8, hours=0.5).data
    tl = vap.room_timeline([room.data, other], "5min")
    rows = cells(tl._repr_html_())
    assert rows[0][:2] == ["time", "session"]
    assert rows[1][1] == "sim-7" and rows[-1][1] == "sim-8"


def test_moments_and_their_top_keep_the_zone(room):
    ms = room.data.moments()
    assert ms.timezone == "Asia/Shanghai"
    body = cells(ms._repr_html_())[1:]
    assert len(body) == min(len(ms), 10)
    assert body[0][:2] == [ms[0].metric, local(ms[0].start_ms, "Asia/Shanghai")]
    top = ms.top(2)
    assert top.timezone == "Asia/Shanghai"
    assert len(cells(top._repr_html_())) == 1 + len(top)


def test_attribution_lists_every_total_and_coefficient(room):
    fit = room.data.attribute("10s", bootstrap=20)
    rows = cells(fit._repr_html_())
    names = [r[0] for r in rows]
    for p in fit.decomposition.totals():
        assert p.name in names
    for c in fit.coefficients:
        assert c.name in names
    assert f"R² {fit.diagnostics.r2:.3f}" in fit._repr_html_()
    assert len(cells(fit.decomposition._repr_html_())) == 1 + len(fit.decomposition.totals())


def test_text_is_escaped():
    html = vap._display.table("<b>x</b>", ["<i>"], [["<script>alert(1)</script>"]])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert cells(html)[1] == ["<script>alert(1)</script>"]


def test_unknown_zone_falls_back_to_labelled_utc():
    assert vap._display.local(0, "Nowhere/Else") == "1970-01-01 00:00:00 UTC"
    assert vap._display.local(None, "UTC") == "—"


def test_missing_shares_show_as_a_dash():
    assert vap._display.percent(None) == "—" and vap._display.percent(float("nan")) == "—"
    assert (
        vap._display.percent(0.125) == "12.5%"
        and vap._display.percent(-0.62, signed=True) == "-62%"
    )
    m = vap.Moment(
        metric="orders",
        start_ms=0,
        end_ms=60_000,
        kind="peak",
        driver="traffic",
        magnitude=3.0,
        score=4.0,
        share=None,  # a session whose total is zero
        baseline=[],
        video_ms=None,
        moved=[{"metric": "entries", "change": None, "score": 1.0}],
    )
    rows = cells(vap.Moments([m])._repr_html_())
    assert rows[1][6] == "—" and rows[1][7] == "entries —"
