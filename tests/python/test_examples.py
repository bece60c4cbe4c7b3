"""The Python examples run: the script and every code cell of the notebook."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def test_quickstart_script_runs(capsys):
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "gross GMV" in out and "comments from" in out


def test_notebook_cells_run_in_order():
    nb = json.loads((EXAMPLES / "quickstart.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) >= 5
    namespace: dict = {}
    for cell in code:
        exec(compile("".join(cell["source"]), "quickstart.ipynb", "exec"), namespace)
    assert namespace["summary"]["gmv"]["gross"] > 0
    assert namespace["questions"].height > 0


def test_live_example_replays_a_session_and_prints_alerts(capsys):
    runpy.run_path(str(EXAMPLES / "live.py"), run_name="not_main")["main"](["--simulate", "0.5"])
    out = capsys.readouterr().out
    assert "alerts; update median" in out and "live: [" in out
