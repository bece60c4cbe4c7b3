"""Rich display in Jupyter: small HTML tables for sessions, timelines,
moments and attribution results (``_repr_html_``), with every time shown as
a local date and time in the session's time zone, never as epoch ms."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from ._plot import _when, _zone

#: Rows shown at each end of a long table.
EDGE_ROWS = 5

_STYLE = (
    "<style>.vap-repr table{border-collapse:collapse;font-size:12px}"
    ".vap-repr th,.vap-repr td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    ".vap-repr th:first-child,.vap-repr td:first-child{text-align:left}"
    ".vap-repr caption{text-align:left;font-weight:600;padding:4px 0}</style>"
)


def local(ms: int | None, tz: str | None) -> str:
    """Epoch ms as ``2026-11-25 20:00:05 CST`` in zone ``tz`` (UTC, labelled,
    when the zone is not known here: the report's and ``Replay.plot``'s rule)."""
    if ms is None:
        return "—"
    return _when(ms, _zone(tz or "UTC")).strftime("%Y-%m-%d %H:%M:%S %Z")


def duration(ms: int) -> str:
    """``3 h 05 min`` / ``12 min 30 s``."""
    s = int(ms // 1000)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h} h {m:02d} min" if h else f"{m} min {sec:02d} s"


#: Significant digits of small numbers in the tables.
DIGITS = 3


def number(v: Any) -> str:
    """A value for a table cell: thousands separated, small ones to
    ``DIGITS`` significant digits, ``—`` for missing."""
    if v is None:
        return "—"
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:,.{DIGITS}g}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def percent(v: float | None, signed: bool = False) -> str:
    """A share as ``12.5%`` (``+12%`` when ``signed``), ``—`` for missing."""
    if v is None or v != v:
        return "—"
    return f"{v:+.0%}" if signed else f"{v:.1%}"


def table(
    caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]], note: str | None = None
) -> str:
    """A captioned HTML table; every cell escaped."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    foot = f"<p>{html.escape(note)}</p>" if note else ""
    return (
        f'<div class="vap-repr">{_STYLE}<table><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}</div>"
    )


def edges(n: int) -> tuple[list[int], bool]:
    """Row indices to show of ``n`` (both ends of a long table) and whether
    rows were left out."""
    if n <= 2 * EDGE_ROWS:
        return list(range(n)), False
    return [*range(EDGE_ROWS), *range(n - EDGE_ROWS, n)], True
