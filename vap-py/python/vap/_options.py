"""Options cross to ``vap_core`` as the user wrote them.

Every option set is owned by the Rust core (``vap_core::options``): its
defaults, the forms it reads (durations as ms or ``"10s"``, instants as ms, a
``datetime`` or ISO 8601, penalties as ``"robust"``, ``"bic"`` or a number) and its checks.
This module only turns Python values into JSON (``timedelta`` into ms,
``datetime`` into ISO 8601, NumPy scalars into numbers); it restates no
default. ``vap.option_defaults(name)`` shows the core's defaults.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any

from . import _vap

OPTION_SETS: tuple[str, ...] = tuple(_vap.OPTION_SETS)
"""The names of vap's option sets (``vap_core::OPTION_SETS``)."""


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types (no default added, nothing validated)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return round(value.total_seconds() * 1000)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return list(bytes(value))
    if hasattr(value, "_spec"):
        return jsonable(value._spec())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "tolist"):  # NumPy arrays and scalars
        return jsonable(value.tolist())
    if hasattr(value, "item") and callable(value.item):
        return jsonable(value.item())
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value  # json.dumps names what it cannot write


def dumps(options: Mapping[str, Any] | None = None, **given: Any) -> str:
    """The JSON of ``options`` plus the ``given`` keyword arguments that are
    not ``None`` (positional conveniences such as ``step``). ``None`` in
    ``options`` is passed on: the core reads it as "not given", or as "none"
    where that is its meaning (``exposure=None``)."""
    out = {k: v for k, v in given.items() if v is not None}
    for k, v in (options or {}).items():
        if k in out:
            raise _vap.InvalidArgumentError(f"option '{k}' given twice")
        out[k] = v
    try:
        return json.dumps(jsonable(out), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise _vap.InvalidArgumentError(f"options: {e}") from None


def option_defaults(name: str) -> dict[str, Any]:
    """The defaults of one of vap's option sets (``OPTION_SETS``), as the core
    holds them (durations in ms)."""
    return json.loads(_vap.option_defaults_json(name))


def resolve(name: str, options: Mapping[str, Any] | None = None, **given: Any) -> dict[str, Any]:
    """Options of the set ``name`` as written, checked by the core and whole
    (defaults filled, durations in ms)."""
    return json.loads(_vap.resolve_options_json(name, dumps(options, **given)))


def merged(options: Mapping[str, Any] | None, **given: Any) -> dict[str, Any]:
    """``options`` plus the ``given`` keyword arguments that are not ``None``;
    an option given both ways is refused."""
    out = dict(options or {})
    for k, v in given.items():
        if v is None:
            continue
        if k in out:
            raise _vap.InvalidArgumentError(f"option '{k}' given twice")
        out[k] = v
    return out
