"""Compares the results of the two runners (used by test_agreement.py)."""

from __future__ import annotations

import math
from typing import Any


def differences(a: Any, b: Any, path: str = "", rel: float = 1e-9) -> list[str]:
    """Where ``a`` and ``b`` differ: structure, strings and error codes
    exactly, numbers to ``rel`` (sums over columns run in different orders)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if a == b else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if math.isclose(a, b, rel_tol=rel, abs_tol=1e-9):
            return []
        return [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))} on one side only"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}.{k}", rel)]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)}"]
        return [
            d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]", rel)
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]
