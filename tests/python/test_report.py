"""The HTML report from Python: well-formed (parsed as XML and as HTML by the
standard library), self-contained, its charts drawn from the replay's own
curves (checked point by point with numpy), inline in Jupyter, written whole,
errors typed."""

from __future__ import annotations

import pathlib
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest

import vap

QUICK = {"model": {"bootstrap": 20, "seed": 1}}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def rep() -> vap.Replay:
    return vap.simulate(seed=11, hours=1.5).data.replay(**QUICK)


def _xml(page: str) -> ET.Element:
    return ET.fromstring(page.removeprefix("<!DOCTYPE html>\n"))


class _Strict(HTMLParser):
    """Tags opened and closed in order (void elements aside)."""

    VOID = {"meta", "br", "img", "input", "hr", "source", "track"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def test_the_report_parses_and_draws_the_replay(rep: vap.Replay) -> None:
    page = rep.to_html()
    assert page.startswith("<!DOCTYPE html>")
    p = _Strict()
    p.feed(page)
    assert p.errors == [] and p.stack == []
    root = _xml(page)
    for banned in ("<script", "<link", "@import", "url(", 'src="http', 'href="http'):
        assert banned not in page
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert ids.index("quality") < ids.index("operator") < ids.index("anchor")
    assert "field-control" in ids
    defaults = vap.option_defaults("report")
    charts = [e for e in root.iter(f"{SVG}svg") if e.get("data-chart") == "curve"]
    assert [c.get("data-series-name") for c in charts] == defaults["curves"]
    series = {s["name"]: s for s in rep.curves["series"]}
    for chart in charts:
        name = chart.get("data-series-name")
        paths = [e for e in chart.iter(f"{SVG}path") if e.get("class") == "series"]
        assert len(paths) == 1
        d = paths[0].get("d") or ""
        values = np.array([np.nan if v is None else v for v in series[name]["values"]], float)
        # One point per known value; a new stroke after each run of gaps.
        assert len(re.findall(r"[ML]", d)) == int(np.isfinite(values).sum())
        known = np.isfinite(values)
        runs = int(known[0]) + int(np.sum(known[1:] & ~known[:-1]))
        assert d.count("M") == runs
        markers = [e for e in chart.iter(f"{SVG}line") if e.get("class") == "moment-marker"]
        assert sorted(int(m.get("data-rank") or 0) for m in markers) == [
            m.rank for m in rep.moments
        ]
    arts = [e for e in root.iter("{http://www.w3.org/1999/xhtml}article")]
    assert [a.get("id") for a in arts] == [f"moment-{m.rank}" for m in rep.moments]
    # The headline rows are the replay's figures, missing ones shown as such.
    rows = [e for e in root.iter("{http://www.w3.org/1999/xhtml}tr") if e.get("data-key")]
    assert [r.get("data-key") for r in rows] == [f.key for f in rep.headline]
    for r, f in zip(rows, rep.headline):
        text = "".join(r.itertext())
        if f.value is None:
            assert "—" in text, f.key


def test_english_and_fragment(rep: vap.Replay) -> None:
    en = rep.to_html(lang="en")
    assert 'lang="en"' in en and "Session replay" in en
    frag = rep._repr_html_()
    assert frag.startswith('<div class="vap-report"') and "<html" not in frag
    _xml(frag)
    assert frag.count('class="moment-marker"') == en.count('class="moment-marker"')


def test_written_whole(rep: vap.Replay, tmp_path: pathlib.Path) -> None:
    out = tmp_path / "report.html"
    assert rep.write_html(out, lang="en") == str(out)
    # No recording beside it: the file is the report as text, nothing else left.
    assert out.read_text(encoding="utf-8") == rep.to_html(lang="en")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_bad_options_are_typed(rep: vap.Replay, tmp_path: pathlib.Path) -> None:
    with pytest.raises(vap.InvalidArgumentError, match="gmv_per_hour"):
        rep.to_html(curves=["gmv_per_hour"])
    with pytest.raises(vap.InvalidArgumentError, match="lang"):
        rep.to_html(lang="fr")
    with pytest.raises(OSError):
        rep.write_html(tmp_path / "missing" / "report.html")
    assert not (tmp_path / "missing").exists()


def test_the_room_report(tmp_path: pathlib.Path) -> None:
    store = vap.Store(tmp_path / "store")
    day = 86_400_000
    for k in range(3):
        room = vap.simulate(
            seed=60 + k,
            hours=1.5,
            anchors=3,
            start_ms=1_764_072_000_000 + k * day,
            session_id=f"s{k}",
        )
        store.import_session(room.data)
    rr = store.room_replay("sim-room", attribute=False)
    page = store.room_html("sim-room", replay={"attribute": False})
    p = _Strict()
    p.feed(page)
    assert p.errors == [] and p.stack == []
    root = _xml(page)
    rows = {
        t: len(root.findall(f".//{{http://www.w3.org/1999/xhtml}}tr[@data-{t}]"))
        for t in ("session", "product", "anchor")
    }
    assert rows == {
        "session": len(rr["sessions"]),
        "product": len(rr["products"]),
        "anchor": len(rr["anchors"]),
    }
    bars = root.findall(f".//{SVG}svg[@data-chart='session-gmv']/{SVG}rect")
    got = [float(b.get("data-value", "nan")) for b in bars]
    np.testing.assert_allclose(got, [d["headline"]["gmv_gross"] for d in rr["sessions"]])
    assert "直播间复盘" in page
    # three sessions: the room's playbook ends the report, unless asked not to
    assert root.find(".//{http://www.w3.org/1999/xhtml}section[@id='playbook']") is not None
    assert 'id="playbook-draft"' in page
    assert 'id="playbook"' not in store.room_html(
        "sim-room", replay={"attribute": False}, playbook=False
    )
    en = store.room_html("sim-room", replay={"attribute": False}, lang="en")
    assert "Room review" in en and "直播间复盘" not in en
    out = tmp_path / "room.html"
    assert store.write_room_html("sim-room", out, replay={"attribute": False}) == str(out)
    assert out.read_text(encoding="utf-8") == page
    with pytest.raises(vap.NotFoundError):
        store.room_html("no-room")
    with pytest.raises(vap.InvalidArgumentError):
        store.room_html("sim-room", lang="fr")
