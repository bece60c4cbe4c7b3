"""Progress bars for vap's long calls (room-wide fits, bootstrap, imports of
many files): ``progress=True`` shows a tqdm bar per stage once a call has
run for a second (nothing for quick calls), ``False`` / ``None`` shows
nothing, a function is called as ``progress(stage, done, total)``. Ctrl-C
stops any of these calls cleanly, with or without a bar: the call raises
``KeyboardInterrupt`` (noting where it stopped) and leaves nothing
half-written."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Union

#: ``True`` (a tqdm bar when tqdm is installed: ``pip install 'vap[progress]'``),
#: ``False`` / ``None`` (none) or a function ``(stage, done, total)``.
Progress = Union[bool, None, Callable[[str, int, int], Any]]

#: Seconds a call runs before its bar shows (quick calls show none).
BAR_DELAY = 1.0


@contextlib.contextmanager
def reporter(progress: Progress, desc: str) -> Iterator[Callable[[str, int, int], Any] | None]:
    """The native progress function for ``progress``; bars are closed when
    the call ends, however it ends."""
    if progress is None or progress is False:
        yield None
        return
    if callable(progress) and progress is not True:
        yield progress
        return
    if progress is not True:
        raise TypeError(
            f"progress: expected True, False, None or a function, got {type(progress).__name__}"
        )
    try:
        from tqdm.auto import tqdm
    except ImportError:  # no tqdm: no bar (Ctrl-C still works)
        yield None
        return
    bars: dict[str, Any] = {}

    def step(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total, desc=f"{desc} · {stage}", delay=BAR_DELAY, leave=False
            )
        bar.update(done - bar.n)

    try:
        yield step
    finally:
        for bar in bars.values():
            bar.close()
