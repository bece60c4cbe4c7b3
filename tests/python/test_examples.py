"""The Python examples run: the script and every code cell of the notebook."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


def test_quickstart_script_runs(capsys):
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "gross GMV" in out and "comments from" in out


def test_notebook_executes_in_a_kernel(tmp_path):
    """The notebook runs top to bottom in a real Jupyter kernel (nbclient), as
    a user would run it; a cell that raises fails the test."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 15
    assert all(not c.outputs for c in code), "commit the notebook without outputs"
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # rich display: the session, the timeline, the moments, the replay's report
    for caption in (
        "vap.Session sim-room/sim-7",
        "vap.Timeline:",
        "vap.Moments:",
        "vap.Attribution of",
    ):
        assert any(caption in h for h in html), caption
    assert any("CST" in h for h in html)  # times in the session's zone (Asia/Shanghai)
    assert any('id="operator"' in h or "operator" in h for h in html)
    last = code[-1].outputs
    assert last and "text/html" in last[0]["data"]


def test_live_example_replays_a_session_and_prints_alerts(capsys):
    runpy.run_path(str(EXAMPLES / "live.py"), run_name="not_main")["main"](["--simulate", "0.5"])
    out = capsys.readouterr().out
    assert "alerts; update median" in out and "live: [" in out
