"""Compares the results of the two runners (used by test_agreement.py).

Object keys are compared by their letters and digits, ignoring case and
underscores: Node gives results with camelCase field names (``startMs``),
Python with snake_case ones (``start_ms``), for the same field of the same core
type; map keys that are data (factor names, question kinds) are written the
same way on both sides, so they compare as themselves."""

from __future__ import annotations

import math
from typing import Any


def key(k: str) -> str:
    """A field name as both bindings write it: ``start_ms`` and ``startMs``
    are both ``startms``."""
    return k.replace("_", "").lower()


def differences(a: Any, b: Any, path: str = "", rel: float = 1e-9) -> list[str]:
    """Where ``a`` and ``b`` differ: structure, strings and error codes
    exactly, numbers to ``rel`` (sums over columns run in different orders),
    object keys by :func:`key`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if a == b else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isclose(a, b, rel_tol=rel, abs_tol=1e-9):
            return []
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        ka = {key(k): v for k, v in a.items()}
        kb = {key(k): v for k, v in b.items()}
        if len(ka) != len(a) or len(kb) != len(b):
            return [f"{path}: keys that differ only in case or underscores"]
        if set(ka) != set(kb):
            return [f"{path}: keys {sorted(set(ka) ^ set(kb))} on one side only"]
        return [d for k in ka for d in differences(ka[k], kb[k], f"{path}.{k}", rel)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]", rel)
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
