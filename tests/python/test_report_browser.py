"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``)
driven over the DevTools protocol on ``--remote-debugging-pipe`` with the
standard library only. Each page loads with no console message, no exception
and no request beyond the report and the recording beside it; the SVG charts
hold the curves and moment markers the replay has; a moment's ``<video>``
seeks to its second in a real recording made at test time
(tests/media/make_media.py); Chinese labels render in a CJK font; a full-page
screenshot is left where ``VAP_ARTIFACTS`` says (its path in the test summary).
html5lib, in strict mode, checks the markup as an HTML5 parser sees it.

Skipped only when /usr/bin/chromium is missing and ``VAP_REQUIRE_BROWSER`` is
not set (``make test`` sets it)."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urldefrag

import html5lib
import pytest

import vap

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
QUICK: dict[str, Any] = {"model": {"bootstrap": 20, "seed": 1}}
#: Every read from the browser gives up after this long: a hung browser fails
#: the test instead of hanging CI.
TIMEOUT_S = 30.0
#: The moment's second in the recording the report should seek to: not on a
#: whole second, so a player that ignores ``#t=`` or rounds it is caught.
POSITION_S = 6.5
RECORDING_S = 12


class BrowserError(RuntimeError):
    """The browser died, timed out or answered a command with an error."""


class Chromium:
    """Headless Chromium over ``--remote-debugging-pipe``: it reads commands on
    fd 3 and writes replies and events on fd 4, each one JSON object ended by
    a NUL byte. Flat sessions: a page's commands and events carry its
    ``sessionId``."""

    def __init__(self, profile: Path, timeout: float = TIMEOUT_S) -> None:
        self.timeout = timeout
        self.log = profile / "chromium.log"
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._buf = b""
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()
        # Chromium's ends, numbered 10 or above so that moving them onto 3
        # and 4 (bash does, as it execs chromium) overwrites neither.
        theirs = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_r, out_w)]
        os.close(cmd_r)
        os.close(out_w)
        a, b = theirs
        flags = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--mute-audio",
            "--hide-scrollbars",
            "--allow-file-access-from-files",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile / 'profile'}",
            "about:blank",
        ]
        shell = f'exec "$0" "$@" 3<&{a} 4>&{b} {a}<&- {b}>&-'
        try:
            with open(self.log, "wb") as log:
                self.proc = subprocess.Popen(
                    ["bash", "-c", shell, str(CHROMIUM), *flags],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=theirs,
                    start_new_session=True,
                )
        finally:
            for fd in theirs:
                os.close(fd)

    def close(self) -> None:
        """Ends the browser and every process it started (its own process group)."""
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(OSError, BrowserError):
                    self.send("Browser.close")
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            with contextlib.suppress(OSError, BrowserError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(OSError, BrowserError):
                self.proc.wait(5)
            for fd in (self._cmd_w, self._out_r):
                with contextlib.suppress(OSError, BrowserError):
                    os.close(fd)

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _read(self, deadline: float) -> dict[str, Any]:
        """The next message, waiting until `deadline` at most."""
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer from chromium in {self.timeout:.0f} s")
            ready, _, _ = select.select([self._out_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise BrowserError(
                    f"chromium closed the pipe (exit {self.proc.poll()}):\n{self._log_tail()}"
                )
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        msg: dict[str, Any] = json.loads(raw)
        return msg

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Sends a command and returns its result; events read meanwhile are kept."""
        i = next(self._ids)
        msg: dict[str, Any] = {"id": i, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == i:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, session: str, after: int) -> dict[str, Any]:
        """The first event `method` of `session` from index `after` on."""
        deadline = time.monotonic() + self.timeout
        seen = after
        while True:
            for e in self.events[seen:]:
                if e["method"] == method and e.get("sessionId") == session:
                    return e
            seen = len(self.events)
            msg = self._read(deadline)
            if "method" in msg:
                self.events.append(msg)


class Page:
    """One tab, with Runtime, Log, Network and Page events on (DOM and CSS
    for the fonts)."""

    def __init__(self, browser: Chromium) -> None:
        self.b = browser
        self.target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = browser.send("Target.attachToTarget", targetId=self.target, flatten=True)[
            "sessionId"
        ]
        self.start = len(browser.events)
        for domain in ("Runtime", "Log", "Network", "Page", "DOM", "CSS"):
            self.send(f"{domain}.enable")

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.b.send(method, self.session, **params)

    def goto(self, url: str) -> None:
        mark = len(self.b.events)
        nav = self.send("Page.navigate", url=url)
        assert not nav.get("errorText"), f"{url}: {nav['errorText']}"
        self.b.wait_for("Page.loadEventFired", self.session, mark)

    def eval(self, expression: str, awaited: bool = False) -> Any:
        r = self.send(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=awaited,
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise AssertionError(d.get("exception", {}).get("description") or d.get("text"))
        return r["result"].get("value")

    def problems(self, allowed: set[str]) -> list[str]:
        """Console errors and warnings, uncaught exceptions, logged errors and
        every request for anything but `allowed` (URLs, fragments aside) or a
        ``data:`` URI, since the page opened."""
        out = []
        for e in self.b.events[self.start :]:
            if e.get("sessionId") != self.session:
                continue
            p = e.get("params", {})
            m = e["method"]
            if m == "Runtime.consoleAPICalled" and p["type"] in ("error", "warning", "assert"):
                args = " ".join(str(a.get("value", a.get("description"))) for a in p["args"])
                out.append(f"console.{p['type']}: {args}")
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('exception', {}).get('description') or d['text']}")
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log ({p['entry']['source']}): {p['entry']['text']}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if not url.startswith("data:") and urldefrag(url).url not in allowed:
                    out.append(f"request: {url}")
            elif m == "Network.loadingFailed" and not p.get("canceled"):
                out.append(f"loading failed: {p.get('errorText')} ({p.get('type')})")
        return out

    def screenshot(self, path: Path, width: int = 1100) -> tuple[int, int]:
        """A full-page PNG `width` CSS pixels wide at one pixel per CSS pixel;
        the page's (width, height)."""

        def fit(height: int) -> None:
            self.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )

        fit(800)
        fit(self.eval("document.documentElement.scrollHeight"))
        # Measured again: the taller viewport can change the page's height.
        w, h = self.eval(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        shot = self.send(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return w, h

    def fonts(self, selector: str) -> list[str]:
        """The platform fonts Chromium drew the text of `selector` with."""
        root = self.send("DOM.getDocument", depth=0)["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, selector
        fonts = self.send("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
        return [f["familyName"] for f in fonts]

    def close(self) -> None:
        with contextlib.suppress(OSError, BrowserError):
            self.b.send("Target.closeTarget", targetId=self.target)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        if os.environ.get("VAP_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and VAP_REQUIRE_BROWSER is set: run `make setup`")
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium; `make setup` installs it)")
    b = Chromium(tmp_path_factory.mktemp("chromium"))
    try:
        yield b
    finally:
        b.close()


@pytest.fixture()
def page(browser: Chromium) -> Iterator[Page]:
    p = Page(browser)
    try:
        yield p
    finally:
        p.close()


def make_recording(out: Path, seconds: int) -> None:
    """A real recording (test pattern and speech) of `seconds`, small."""
    spec = out.with_name(out.name + ".json")
    spec.write_text(
        json.dumps(
            {
                "out": str(out),
                "duration": seconds,
                "size": "64x48",
                "parts": [{"at": POSITION_S, "text": "Try the shampoo today."}],
            }
        )
    )
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests/media/make_media.py"), str(spec)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, f"make_media failed: {r.stderr}"
    spec.unlink()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[vap.Replay, Path]:
    """The replay of a simulated room imported into a store with a real
    recording registered on it, starting `POSITION_S` before the top moment;
    and the recording's folder (where the report goes)."""
    room = vap.simulate(seed=11, hours=1.0)
    s = room.data.session
    moments = room.data.replay(**QUICK).moments
    assert moments, "the simulated room must have moments to mark"
    start = moments[0].start_ms
    folder = tmp_path_factory.mktemp("report")
    rec = folder / "recording.mp4"
    make_recording(rec, RECORDING_S)
    store = vap.Store(tmp_path_factory.mktemp("store"))
    store.import_session(room.data)
    store.register_recording(s["room_id"], s["id"], rec, int(start - POSITION_S * 1000))
    return store.replay(s["room_id"], s["id"], **QUICK), folder


def artifact_dir(tmp_path: Path) -> Path:
    d = Path(os.environ.get("VAP_ARTIFACTS") or tmp_path)
    d.mkdir(parents=True, exist_ok=True)
    return d


# ---------------------------------------------------------------- DOM reads

CHARTS_JS = """[...document.querySelectorAll('svg.chart')].map(c => ({
  chart: c.getAttribute('data-chart'),
  name: c.getAttribute('data-series-name'),
  width: c.getBoundingClientRect().width,
  height: c.getBoundingClientRect().height,
  series: [...c.querySelectorAll('path.series')].map(p => ({
    name: p.getAttribute('data-series'), length: p.getTotalLength()})),
  stacks: c.querySelectorAll('path.stack').length,
  markers: [...c.querySelectorAll('line.moment-marker')].map(m => ({
    rank: Number(m.getAttribute('data-rank')),
    href: m.closest('a') && m.closest('a').getAttribute('href'),
    drawn: m.getBoundingClientRect().height > 0})),
}))"""


def check_charts(p: Page, rep: vap.Replay) -> None:
    """The page's charts against the replay; the number of markers drawn."""
    charts = p.eval(CHARTS_JS)
    names = {s["name"] for s in rep.curves["series"]}
    curves = [c for c in vap.option_defaults("report")["curves"] if c in names]
    ranks = sorted(m.rank for m in rep.moments)
    assert ranks, "a report without moments checks no marker"
    curve_charts = [c for c in charts if c["chart"] == "curve"]
    assert [c["name"] for c in curve_charts] == curves
    over_time = getattr(rep.model, "over_time", None) or []
    stacked = [c for c in charts if c["chart"] == "stacked"]
    assert len(stacked) == (1 if over_time else 0)
    for c in curve_charts:
        assert c["width"] > 300 and c["height"] > 30, c
        assert [s["name"] for s in c["series"]] == [c["name"]]
        assert c["series"][0]["length"] > 0, c["name"]
    for c in stacked:
        assert c["stacks"] == len(over_time)
    for c in charts:
        marked = sorted(m["rank"] for m in c["markers"])
        if c["chart"] in ("curve", "stacked"):
            assert marked == ranks, c["chart"]
            for m in c["markers"]:
                assert m["drawn"] and m["href"] == f"#moment-{m['rank']}", m
        else:
            assert marked == [], c["chart"]
    # Every marker's link lands on its moment's article.
    targets = p.eval(
        "[...document.querySelectorAll('article.moment')].map(a => Number(a.dataset.rank))"
    )
    assert targets == [m.rank for m in rep.moments]
    total = p.eval("document.querySelectorAll('line.moment-marker').length")
    assert total == len(ranks) * (len(curves) + len(stacked))


def load(page: Page, report: Path, *also: Path) -> list[str]:
    page.goto(report.as_uri())
    return page.problems({report.as_uri(), *(p.as_uri() for p in also)})


# ---------------------------------------------------------------- tests

SEEK_JS = """(async () => {
  const v = document.querySelector('video.recording');
  const ready = new Promise((ok, fail) => {
    v.addEventListener('loadedmetadata', ok, {once: true});
    v.addEventListener('error', () => fail(new Error(
      'media error ' + (v.error && v.error.code) + ': ' + (v.error && v.error.message))),
      {once: true});
    setTimeout(() => fail(new Error('no loadedmetadata within 20 s')), 20000);
  });
  v.preload = 'auto';
  v.load();
  await ready;
  const at = v.currentTime;
  // Wait for the frame at that time, so that the screenshot shows it.
  if (v.readyState < 2 || v.seeking) {
    await new Promise(ok => { v.addEventListener('seeked', ok, {once: true});
                              v.addEventListener('loadeddata', ok, {once: true});
                              setTimeout(ok, 5000); });
  }
  return {at, duration: v.duration, width: v.videoWidth, height: v.videoHeight,
          seconds: Number(v.dataset.seconds), src: v.getAttribute('src')};
})()"""


def test_the_report_in_chromium(
    page: Page, recorded: tuple[vap.Replay, Path], record_property: Callable[[str, object], None]
) -> None:
    rep, folder = recorded
    rec = folder / "recording.mp4"
    report = folder / "report.html"
    rep.write_html(report)
    # (rank, second in the recording) of each moment the recording covers.
    covered = [
        (m.rank, m.recording.position_ms / 1000) for m in rep.moments if m.recording is not None
    ]
    assert covered, "the recording must cover a moment"
    problems = load(page, report, rec)
    assert problems == []
    assert page.eval("document.documentElement.lang") == "zh-CN"
    assert page.eval("document.title").startswith("直播复盘")
    check_charts(page, rep)
    # One <video> per moment in the recording, each at its second.
    videos = page.eval(
        "[...document.querySelectorAll('video.recording')].map(v => "
        "[v.getAttribute('src'), Number(v.dataset.seconds), v.closest('article').id])"
    )
    assert videos == [
        [f"recording.mp4#t={at:.1f}", round(at, 1), f"moment-{rank}"] for rank, at in covered
    ]
    assert covered[0] == (rep.moments[0].rank, POSITION_S)
    seek = page.eval(SEEK_JS, awaited=True)
    assert seek["seconds"] == POSITION_S
    assert abs(seek["at"] - seek["seconds"]) < 0.1, seek
    assert abs(seek["duration"] - RECORDING_S) < 0.5, seek
    assert (seek["width"], seek["height"]) == (64, 48), seek
    # Chinese labels drawn with a CJK font, not as boxes.
    fonts = page.fonts("h1")
    assert any("CJK" in f or "Noto Sans SC" in f for f in fonts), (
        f"h1 drawn with {fonts}: install fonts-noto-cjk"
    )
    # Loading the recording asked for nothing else and logged nothing.
    assert page.problems({report.as_uri(), rec.as_uri()}) == []
    shot = artifact_dir(folder) / "report-zh.png"
    width, height = page.screenshot(shot)
    record_property("artifact", str(shot))
    print(f"report screenshot: {shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (width, height)
    assert width == 1100 and height > 2000, (width, height)
    assert len(data) > 20_000


def test_the_english_report_in_chromium(
    page: Page, recorded: tuple[vap.Replay, Path], tmp_path: Path
) -> None:
    rep, _ = recorded
    report = tmp_path / "report-en.html"
    # No recording beside this one: positions as text, no <video>.
    rep.write_html(report, lang="en")
    assert load(page, report) == []
    assert page.eval("document.documentElement.lang") == "en"
    assert page.eval("document.title").startswith("Session replay")
    check_charts(page, rep)
    assert page.eval("document.querySelectorAll('video').length") == 0
    shown = page.eval(
        "[...document.querySelectorAll('p.recording')].map(p => Number(p.dataset.seconds))"
    )
    assert shown == [
        round(m.recording.position_ms / 1000, 1) for m in rep.moments if m.recording is not None
    ]


def test_the_fragment_inside_another_page(
    page: Page, recorded: tuple[vap.Replay, Path], tmp_path: Path
) -> None:
    rep, _ = recorded
    host = tmp_path / "host.html"
    host.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/><title>host</title>'
        '</head><body><h1 id="host">notebook</h1>'
        f"{rep.to_html(fragment=True)}</body></html>",
        encoding="utf-8",
    )
    assert load(page, host) == []
    check_charts(page, rep)
    assert page.eval("document.querySelectorAll('.vap-report').length") == 1
    # The report's style stays inside it: the host's h1 keeps the browser's
    # 2em, the report's own h1 is 1.5em.
    sizes = page.eval(
        "['#host', '.vap-report h1'].map(s => getComputedStyle(document.querySelector(s)).fontSize)"
    )
    assert sizes == ["32px", "24px"]


def test_the_markup_is_valid_html5(recorded: tuple[vap.Replay, Path]) -> None:
    rep, _ = recorded
    # strict=True: the first parse error raises.
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    for lang in ("zh", "en"):
        doc = parser.parse(rep.to_html(lang=lang, video_beside=True))
        assert parser.errors == []
        assert len(doc.findall(".//video")) == sum(m.recording is not None for m in rep.moments)
        frag = parser.parseFragment(rep.to_html(lang=lang, fragment=True))
        assert parser.errors == []
        assert [e.get("class") for e in frag] == ["vap-report"]
    # And it does reject what is not well-formed.
    with pytest.raises(html5lib.html5parser.ParseError):
        parser.parseFragment('<div class="vap-report"><svg><path></svg></div>')
