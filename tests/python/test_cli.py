"""The ``vap`` console script that ``pip install`` puts beside Python: the
core's command line end to end (import, sessions, replay with its report,
the room's report) and its exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vap
import vap._cli

BIN = shutil.which("vap", path=str(Path(sys.executable).parent))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert BIN, "the vap console script is not installed beside this Python"
    return subprocess.run([BIN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_console_script_is_installed() -> None:
    assert BIN is not None
    r = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"vap {vap.__version__}"


def test_import_replay_and_report(tmp_path: Path) -> None:
    for k in range(2):
        room = vap.simulate(
            seed=80 + k, hours=1.0, start_ms=1_764_072_000_000 + k * 86_400_000, session_id=f"s{k}"
        )
        room.data.write_dir(tmp_path / f"dir{k}")
    r = run("import", "dir0", "dir1", "--store", "st", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "imported sim-room/s1" in r.stdout
    r = run("import", "dir1", "--store", "st", cwd=tmp_path)
    assert r.returncode == 6 and "already exists" in r.stderr
    r = run("sessions", "st", "--json", cwd=tmp_path)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["session_id"] for x in rows] == ["s0", "s1"]
    # The same session as the store reads it.
    stored = vap.Store(tmp_path / "st").sessions()
    assert [s["session_id"] for s in stored] == ["s0", "s1"]
    r = run(
        "replay", "st", "sim-room", "s1", "--html", "s1.html", "--json", "s1.json",
        "--bootstrap", "10", cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "s1.json").read_text())
    assert rep["history_sessions"] == ["s0"]
    for m in rep["moments"]:
        assert f"#{m['rank']} " in r.stdout
    assert "直播复盘" in (tmp_path / "s1.html").read_text(encoding="utf-8")
    r = run("room", "st", "sim-room", "--html", "room.html", "--lang", "en", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "Room review" in (tmp_path / "room.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args, code, says",
    [
        (["replay", "nostore", "r", "s"], 3, "no vap store"),
        (["replay", "st"], 2, "Usage: vap replay"),
        (["replay", "st", "r", "s", "--lang", "fr"], 2, "--lang takes zh or en"),
        (["frobnicate"], 2, "no command 'frobnicate'"),
        (["import", "missing-dir", "--store", "st"], 3, "missing-dir"),
    ],
)
def test_exit_codes(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    r = run(*args, cwd=tmp_path)
    assert r.returncode == code, r.stderr
    assert says in r.stderr


def test_help_explains_each_command(tmp_path: Path) -> None:
    for cmd in ("import", "sessions", "replay", "room", "transcribe"):
        r = run(cmd, "--help", cwd=tmp_path)
        assert r.returncode == 0 and "Example:" in r.stdout and f"vap {cmd}" in r.stdout
    assert vap._cli.main(["--version"]) == 0
