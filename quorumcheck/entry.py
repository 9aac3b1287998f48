"""The ``quorumcheck`` command's entry point, light enough to load before Ctrl-C can arrive.

Loading the command line (:mod:`quorumcheck.cli`) imports click, rich, networkx, Z3 and the explorer, which takes
a few tenths of a second. Ctrl-C during that time raised ``KeyboardInterrupt`` out of an import, and Python printed
its traceback, or inside a callback of the import machinery, where Python reported it and went on as if it had not
come. While the command line loads, Ctrl-C is only noted; once it has loaded, a noted Ctrl-C ends the command as
Ctrl-C does later: one line, exit 130.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

__all__ = ["run"]

EXIT_INTERRUPTED = 130


def run() -> None:
    """Load the command line and run it; Ctrl-C while it loads prints one line and exits 130."""
    noted: list[int] = []
    watch = signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not when Ctrl-C is ignored (a job)

    def note(signum: int, frame: Any) -> None:
        noted.append(signum)

    if watch:
        signal.signal(signal.SIGINT, note)
    try:
        from quorumcheck.cli import run as command
    finally:
        if watch:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if noted:
        try:
            sys.stderr.write("quorumcheck: interrupted (Ctrl-C)\n")
        except (OSError, ValueError):  # standard error closed: the exit code still says it
            pass
        sys.exit(EXIT_INTERRUPTED)
    command()
