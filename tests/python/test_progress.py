"""Progress and Ctrl-C for long calls: room-wide fits, the bootstrap,
imports of many files (``vap_core::job``)."""

from __future__ import annotations

import _thread
import time

import pytest

import vap


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    st = vap.Store(tmp_path_factory.mktemp("progress") / "store")
    for seed in (1, 2, 3):
        st.import_session(vap.simulate(seed=seed, hours=0.5).data)
    return st


def test_a_room_fit_reports_sessions_then_replicates(store):
    seen: list[tuple[str, int, int]] = []
    fit = store.fit_room_model("sim-room", bootstrap=50, progress=lambda *s: seen.append(s))
    quiet = store.fit_room_model("sim-room", bootstrap=50, progress=False)
    assert [c.value for c in fit.coefficients] == [c.value for c in quiet.coefficients]
    assert ("sessions", 3, 3) in seen and ("bootstrap", 50, 50) in seen
    stages = [s for s, _, _ in seen]
    assert stages.index("bootstrap") > stages.index("sessions")
    for stage in ("sessions", "bootstrap"):
        done = [d for s, d, _ in seen if s == stage]
        assert done == sorted(done) and done[-1] == max(done)


def test_an_exception_from_progress_stops_the_fit_and_saves_nothing(store):
    class Stop(Exception):
        pass

    def progress(stage, done, total):
        if stage == "bootstrap":
            raise Stop(f"enough at {done}")

    with pytest.raises(Stop) as e:
        store.fit_room_model("sim-room", name="stopped", progress=progress)
    assert any("cancelled" in n for n in getattr(e.value, "__notes__", []))
    with pytest.raises(vap.NotFoundError):
        vap.RoomModel.load(store, "sim-room", "stopped")


def test_ctrl_c_stops_a_fit_cleanly(store):
    calls, fired = [], []

    def progress(stage, done, total):
        calls.append((stage, done))
        if stage == "bootstrap" and not fired:
            fired.append(done)
            _thread.interrupt_main()  # what Ctrl-C does: a SIGINT for the main thread
            time.sleep(0.3)  # (the GIL released) the waiting thread sees it within 50 ms

    with pytest.raises(KeyboardInterrupt) as e:
        store.fit_room_model("sim-room", name="interrupted", bootstrap=2000, progress=progress)
    notes = getattr(e.value, "__notes__", [])
    assert any("cancelled: stopped after" in n and "bootstrap" in n for n in notes), notes
    assert max(d for s, d in calls if s == "bootstrap") < 2000
    with pytest.raises(vap.NotFoundError):
        vap.RoomModel.load(store, "sim-room", "interrupted")
    # and vap works on afterwards
    assert store.fit_room_model("sim-room", bootstrap=10, progress=False).coefficients


def test_ctrl_c_stops_the_carryover_search_of_a_fit_without_bootstrap(store):
    calls, fired = [], []

    def progress(stage, done, total):
        calls.append((stage, done, total))
        if stage.startswith("search") and not fired:
            fired.append(done)
            _thread.interrupt_main()
            time.sleep(0.3)

    with pytest.raises(KeyboardInterrupt) as e:
        store.fit_room_model("sim-room", bootstrap=0, progress=progress)
    notes = getattr(e.value, "__notes__", [])
    assert any("cancelled" in n and "search" in n for n in notes), notes
    assert all(s != "bootstrap" for s, _, _ in calls)
    # unstopped, the search reports every candidate it scores
    seen = []
    fit = store.fit_room_model("sim-room", bootstrap=0, progress=lambda *a: seen.append(a))
    form = fit.diagnostics.form.replace("_", " ")
    # the log link searches twice (the second on the Poisson fit's terms)
    stages = [f"search ({form})"] + ([f"search ({form}, Poisson)"] if form == "log link" else [])
    lasts = [[a for a in seen if a[0] == s][-1] for s in stages]
    assert all(done == total for _, done, total in lasts)
    assert sum(total for _, _, total in lasts) == fit.diagnostics.candidates


def test_the_bootstrap_of_one_session_and_an_import_report_too(store, tmp_path):
    s = store.load("sim-room", store.sessions()[0]["session_id"])
    seen = []
    vap.attribute(s.attribution_timeline(), bootstrap=30, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("bootstrap", 30, 30)
    seen.clear()
    store.room_replay("sim-room", progress=lambda *a: seen.append(a))
    assert ("sessions", 3, 3) in seen
    with pytest.raises(TypeError, match="progress"):
        vap.attribute(s.attribution_timeline(), progress="yes")


def test_a_bar_is_drawn_with_tqdm(store, capsys, monkeypatch):
    import vap._progress as p

    monkeypatch.setattr(p, "BAR_DELAY", 0.0)
    store.fit_room_model("sim-room", bootstrap=40, progress=True)
    err = capsys.readouterr().err
    # one bar per stage, each with its total (tqdm clears them at the end)
    assert "sim-room · sessions" in err and "/3 " in err
    assert "sim-room · bootstrap" in err and "/40 " in err


def test_an_import_of_many_files_reports_each_file():
    from pathlib import Path

    fx = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
    files = [fx / "compass_trend.json", fx / "compass_orders.json", fx / "compass_traffic.json"]
    seen = []
    s = vap.read_sources(*files, progress=lambda *a: seen.append(a))
    assert seen[-1] == ("files", 3, 3)
    assert s.num_rows("orders") == vap.read_sources(*files, progress=False).num_rows("orders")
