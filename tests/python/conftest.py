from __future__ import annotations

import pytest

import vap


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Lists the files tests left for people to look at (``record_property(
    "artifact", path)``: the report's screenshot), so CI's log names them."""
    paths = dict.fromkeys(
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == "artifact"
    )
    if paths:
        terminalreporter.write_sep("-", "artifacts")
        for path in paths:
            terminalreporter.write_line(path)


@pytest.fixture(scope="session")
def room() -> vap.SimRoom:
    """A small synthetic room shared by read-only tests."""
    return vap.simulate(seed=11, hours=2.0)


@pytest.fixture()
def store(tmp_path) -> vap.Store:
    return vap.Store(tmp_path / "store")


def manifest(start: int = 1_795_608_000_000, hours: float = 1.0, **metrics: str) -> dict:
    return {
        "vap_format": 1,
        "room": {"id": "acme", "name": "ACME 旗舰店", "platform": "douyin"},
        "session": {
            "id": "s1",
            "start_ms": start,
            "end_ms": start + int(hours * 3_600_000),
            "timezone": "Asia/Shanghai",
        },
        "metrics": [{"name": k, "kind": v, "unit": ""} for k, v in metrics.items()],
    }
