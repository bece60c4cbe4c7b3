"""The ``vap`` console script: the core's command line (``vap --help``).

Import session directories, list a store, replay a session into its report
and clips, the room's report, transcribe: the same program as the Rust
``vap`` binary and Node's ``npx vap``, with the same exit codes.
"""

from __future__ import annotations

import signal
import sys

from . import _vap


def main(argv: list[str] | None = None) -> int:
    """Runs ``vap`` with ``argv`` (default ``sys.argv[1:]``); returns the exit
    code (0 done, 2 usage, 3 not found, 4 bad data, 5 I/O, 6 conflict, 1 a
    bug)."""
    args = sys.argv[1:] if argv is None else list(argv)
    # Ctrl-C stops at once: the store's writes are atomic and transcription
    # checkpoints every chunk, so nothing is left half done.
    if argv is None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    return _vap.cli(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
