"""Argument errors at the boundary are ``vap.InvalidArgumentError``.

Arguments reach the native module through PyO3's conversions (an ``int`` into
an ``i64``) and pyarrow's (a DataFrame into Arrow). Those raise ``TypeError``,
``OverflowError`` or pyarrow's ``ArrowInvalid`` / ``ArrowTypeError`` before
vap's own checks run. Every public function and method of the package is
wrapped here so that such an error arrives as ``InvalidArgumentError`` (a
``ValueError`` and a ``TypeError``), with the original chained as its cause.
Errors vap raises itself pass through unchanged.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar

import pyarrow as pa

from . import _vap

F = TypeVar("F", bound=Callable[..., Any])

_CONVERSION: tuple[type[BaseException], ...] = (TypeError, OverflowError, pa.ArrowException)

# Dunder methods that take user arguments.
_DUNDERS = frozenset({"__init__", "__getitem__", "__call__", "__contains__"})


def arguments(f: F) -> F:
    """``f`` with conversion errors of its arguments raised as
    ``InvalidArgumentError``."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return f(*args, **kwargs)
        except _vap.VapError:
            raise
        except _CONVERSION as e:
            name = getattr(f, "__qualname__", getattr(f, "__name__", "vap"))
            raise _vap.InvalidArgumentError(f"{name}: {type(e).__name__}: {e}") from e

    wrapper.__vap_arguments__ = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def guard_class(cls: type) -> type:
    """Wraps every public method, static method, class method and property
    getter of ``cls`` with [`arguments`]."""
    for name, attr in list(vars(cls).items()):
        if name.startswith("__") and name not in _DUNDERS:
            continue
        if isinstance(attr, staticmethod):
            setattr(cls, name, staticmethod(arguments(attr.__func__)))
        elif isinstance(attr, classmethod):
            setattr(cls, name, classmethod(arguments(attr.__func__)))
        elif isinstance(attr, property) and attr.fget is not None:
            setattr(cls, name, property(arguments(attr.fget), attr.fset, attr.fdel, attr.__doc__))
        elif inspect.isfunction(attr) and not getattr(attr, "__vap_arguments__", False):
            setattr(cls, name, arguments(attr))
    return cls


def guard_namespace(namespace: dict[str, Any], names: list[str]) -> None:
    """Wraps the public functions and classes ``names`` of a module namespace."""
    for name in names:
        obj = namespace[name]
        if isinstance(obj, type):
            if issubclass(obj, BaseException) or not obj.__module__.startswith("vap"):
                continue
            guard_class(obj)
        elif (inspect.isfunction(obj) or inspect.isbuiltin(obj)) and not getattr(
            obj, "__vap_arguments__", False
        ):
            namespace[name] = arguments(obj)
