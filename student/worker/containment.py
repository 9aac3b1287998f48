"""One handler call under a time limit, whatever it does turned into a finding (beside the student's code).

:func:`call_contained` runs one call under interval timers (CPU time, and a
wall-clock backstop) that raise :class:`HandlerTimeout` inside it, and turns
anything it raises into a :class:`HandlerFailure`: a finding about the
student's code, reported with the schedule that triggered it. It is the
worker's first line; the trusted side's deadline
(:mod:`quorumcheck.student.trusted.workers`) is the one that cannot be
evaded: a call that outlives it gets its worker killed.

Examples
--------
>>> def loop_forever():
...     while True:
...         pass
>>> failure = call_contained(loop_forever, (), time_limit=0.05)
>>> failure.kind
'timeout'
>>> call_contained(lambda: {}["missing"], ()).text
"KeyError: 'missing' at <doctest ...>:1 in <lambda>"
>>> call_contained(print, ("fine",), quiet=True) is None
True
"""

from __future__ import annotations

import contextlib
import errno
import gc
import io
import os
import resource
import signal
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quorumcheck.student.wire import WALL_EXTENSIONS, wall_clock_limit

__all__ = ["HandlerFailure", "HandlerTimeout", "call_contained", "collector_paused", "new_call", "time_limit"]

_ROOT = Path(__file__).resolve().parent.parent.parent
_OUR_DIRECTORIES = tuple(str(_ROOT / part) + os.sep for part in ("models", "explorer", "invariants", "quorumcheck",
                                                                  "render", "student"))
_LIBRARIES = tuple(sorted({os.path.realpath(path) + os.sep for key, path in sysconfig.get_paths().items()
                           if key in ("stdlib", "platstdlib", "purelib", "platlib")}))
"""Where the standard library and installed packages live: a frame there is not the submission's own line."""


class HandlerTimeout(BaseException):
    """Raised inside a handler that exceeds its time limit.

    A ``BaseException``, so that a handler's ``except Exception:`` does not swallow it.

    Attributes
    ----------
    limit : float
        The CPU time limit (seconds).
    wall : float or None
        ``None`` when the call used up its CPU time; else the wall-clock backstop
        (:func:`~quorumcheck.student.wire.wall_clock_limit`) that ran out first:
        the call slept, waited for something, or looped on a machine that gave it
        less than half a core.
    used : float
        The CPU time the call used by then.
    """

    def __init__(self, limit: float, wall: float | None = None, used: float | None = None,
                 blocked: bool = True) -> None:
        self.limit, self.wall, self.used = limit, wall, limit if used is None else used
        self.blocked = blocked
        super().__init__(self.how())

    def how(self) -> str:
        """How the call ended, as the end of a sentence (``used 1 s of CPU time without returning (...)``)."""
        if self.wall is None:
            return f"used {self.limit:g} s of CPU time without returning (an infinite loop?)"
        if not self.blocked:
            return (f"did not return within {self.wall:g} s, using {self.used:.2g} s of CPU time and never waiting "
                    "for anything: it waited its turn for a processor all along (the machine was overloaded; run "
                    "fewer checks at once)")
        if self.used < self.limit / 2:
            return (f"did not return within {self.wall:g} s, using almost no CPU time (sleeping, or waiting for "
                    "something?)")
        return f"did not return within {self.wall:g} s, using {self.used:.1f} s of CPU time (an infinite loop?)"


_extensions_left = WALL_EXTENSIONS
"""What is left of this handler call's extra backstops (:data:`~quorumcheck.student.wire.WALL_EXTENSIONS`),
shared by its runs and the reading of its node's state; :func:`new_call` resets it."""


def new_call() -> None:
    """A new handler call begins: it may have :data:`~quorumcheck.student.wire.WALL_EXTENSIONS` extra backstops
    (:func:`time_limit`)."""
    global _extensions_left
    _extensions_left = WALL_EXTENSIONS


def _voluntary_switches() -> int:
    """How often this thread has given up the processor of its own accord (slept, or blocked on something)."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw


@dataclass(frozen=True)
class HandlerFailure:
    """A handler call that did not complete normally: a finding, reported with its schedule.

    Attributes
    ----------
    kind : str
        ``"exception"``, ``"timeout"`` or ``"memory"``.
    text : str
        One line: the exception and where in the student's code it was raised.
    """

    kind: str
    text: str

    @property
    def verb(self) -> str:
        """How the call ended, as the end of a sentence: ``raised KeyError: 'x' at raft.py:3 in on_message``."""
        return f"raised {self.text}" if self.kind == "exception" else self.text


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`HandlerTimeout` inside the block once it has used ``seconds`` of CPU time, or
    :func:`~quorumcheck.student.wire.wall_clock_limit` of wall-clock time.

    CPU time (``signal.setitimer(ITIMER_PROF)``, this process's user and system time) is what a loop
    spends and what a loaded machine does not stretch: a quick call that waits its turn for the CPU
    is not charged for the wait. The wall-clock timer (``ITIMER_REAL``) stops a call that sleeps or
    blocks. When it runs out on a call that has not blocked once (no voluntary context switch: it was
    runnable all along, and waited for a processor), the machine is overloaded rather than the call
    stuck, and it gets another backstop, up to the call's
    :data:`~quorumcheck.student.wire.WALL_EXTENSIONS` (:func:`new_call`); if it still has not returned, the
    finding says that it never waited for anything. Outside the main thread (where signals cannot be used) the
    block runs without a limit here, and only the trusted side's deadline stops it. Timers the caller had set (the time limit
    of a search running the handlers in-process) are set again afterwards, less the time the block
    took; one that ran out meanwhile fires at once.

    Examples
    --------
    >>> import time
    >>> with time_limit(1.0):
    ...     time.sleep(0.01)
    >>> try:
    ...     with time_limit(0.02):
    ...         while True:
    ...             pass
    ... except HandlerTimeout as e:
    ...     print(e)
    used 0.02 s of CPU time without returning (an infinite loop?)
    >>> try:
    ...     with time_limit(0.01):  # the backstop: 2 * 0.01 + 1 s of sleep
    ...         time.sleep(5)
    ... except HandlerTimeout as e:
    ...     print(e)
    did not return within 1.02 s, using almost no CPU time (sleeping, or waiting for something?)
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    wall = wall_clock_limit(seconds)
    fired: HandlerTimeout | None = None
    cpu_at_start = time.process_time()
    switches_at_start = _voluntary_switches()
    extended = 0

    def timeout(cpu: bool) -> HandlerTimeout:
        if cpu:
            return HandlerTimeout(seconds)
        return HandlerTimeout(seconds, wall * (1 + extended), time.process_time() - cpu_at_start,
                              blocked=_voluntary_switches() != switches_at_start)

    def alarm(signum: int, frame: Any) -> None:
        nonlocal fired, extended
        global _extensions_left
        if (fired is None and signum == signal.SIGALRM and _extensions_left > 0
                and _voluntary_switches() == switches_at_start):
            _extensions_left -= 1
            extended += 1  # runnable all along: the machine is busy, not the call stuck
            signal.setitimer(signal.ITIMER_REAL, wall)
            return
        fired = fired or timeout(signum == signal.SIGPROF)
        signal.setitimer(signal.ITIMER_REAL, 0.05)  # keep raising if the handler swallows it
        raise fired

    timers = ((signal.SIGPROF, signal.ITIMER_PROF, seconds), (signal.SIGALRM, signal.ITIMER_REAL, wall))
    previous = [signal.signal(signum, alarm) for signum, _, _ in timers]
    outer = [signal.setitimer(which, limit) for _, which, limit in timers]
    started = time.monotonic()
    try:
        yield
        if fired is not None:  # the handler caught HandlerTimeout with a bare except and returned
            raise fired
    finally:
        for _, which, _ in timers:  # both off before either handler goes: neither can fire in between
            signal.setitimer(which, 0)
        elapsed = time.monotonic() - started
        for (signum, which, _), handler, (left, interval) in zip(timers, previous, outer):
            signal.signal(signum, handler)
            if left > 0:  # the caller's own timer (an in-process search's time limit) runs on from where it was
                # (a single thread uses at most the wall-clock time as CPU time: a CPU timer fires no later than due)
                signal.setitimer(which, max(left - elapsed, 1e-6), interval)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause CPython's cyclic collector inside the block (it runs again after it, outside any time limit).

    A collection pass reads the whole heap of the process, and in-process (``isolate=False``) that heap is the
    search's: a pass over a few million of our objects takes over a second, which a time limit around the block
    would charge to the student's code.

    >>> with collector_paused():
    ...     gc.isenabled()
    False
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


QUIET = True
"""Whether :func:`call_contained` discards what a call prints by default; a worker process sets it False
(:mod:`quorumcheck.student.worker.serve`), since there the output goes to descriptors the trusted side
captures apart from its own."""


def call_contained(
    function: Callable[..., Any], args: tuple[Any, ...], *, time_limit: float | None = 1.0, quiet: bool | None = None,
    interruptible: bool = False,
) -> HandlerFailure | None:
    """Call ``function(*args)`` under a time limit; ``None`` if it returned, else what went wrong.

    Parameters
    ----------
    time_limit : float, optional
        Seconds before the call is interrupted (``None``: no limit).
    quiet : bool, optional
        Discard what the call prints (its output is not part of its behaviour). By default, :data:`QUIET`:
        in quorumcheck's own process (``--no-isolate``) prints would mix into its output and are discarded;
        a worker's standard output and error are the student's, captured apart and shown after the report.
    interruptible : bool, default False
        Let ``KeyboardInterrupt`` through (in-process, where it is the user's
        Ctrl-C); in a worker it is one more exception the student raised.

    Notes
    -----
    CPython's cyclic collector is paused for the call. Its passes read the
    whole heap of the process, and in-process (``isolate=False``) that heap is
    the search's: a full pass over a few million of our objects took 1.4 s
    inside a one-line handler, which the time limit then charged to the
    student ("did not return within 1 s"), and the determinism check called
    their deterministic code non-deterministic. The collector runs again
    after the call, outside its time.
    """
    sink = io.StringIO()
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(collector_paused())
            if QUIET if quiet is None else quiet:
                stack.enter_context(contextlib.redirect_stdout(sink))
                stack.enter_context(contextlib.redirect_stderr(sink))
            stack.enter_context(_limit(time_limit))
            function(*args)
    except HandlerTimeout as e:
        return HandlerFailure("timeout", e.how() + _where(e.__traceback__))
    except KeyboardInterrupt:
        if interruptible:
            raise
        return HandlerFailure("exception", "KeyboardInterrupt" + _where(None))
    except MemoryError:
        return HandlerFailure("memory", "MemoryError: ran out of memory" + _where(None))
    except RecursionError as e:
        return HandlerFailure("exception", _exception_text(e))
    except BaseException as e:  # noqa: BLE001 - anything a student handler raises is a finding
        if interruptible and is_search_limit(e):
            raise
        return HandlerFailure("exception", _exception_text(e))
    return None


def is_search_limit(e: BaseException) -> bool:
    """Whether ``e`` is the search's own time or memory limit, raised into a call that runs in its process
    (``--no-isolate``): the run's limit, to pass on, not an exception of the student's code."""
    from quorumcheck.explorer.search import TimeLimitReached  # the explorer imports the models, which import this

    return isinstance(e, TimeLimitReached)


_limit = time_limit  # call_contained's parameter shadows the name

MESSAGE_LIMIT = 300
"""The most characters of an exception's message a finding keeps (a finding's line holds 600)."""


WRITES_FORBIDDEN = False
"""Set in the zygote of the fresh processes, which may write no file (student/worker/fresh.py)."""


def _exception_text(e: BaseException) -> str:
    try:
        message = str(e)
    except Exception:  # noqa: BLE001 - an exception whose __str__ raises
        message = ""
    if len(message) > MESSAGE_LIMIT:  # a finding about the code, not an answer too large to send
        message = f"{message[:MESSAGE_LIMIT]}... ({len(message):,} characters)"
    text = f"{type(e).__name__}: {message}" if message else type(e).__name__
    if WRITES_FORBIDDEN and isinstance(e, PermissionError) and str(e.filename).startswith("/proc/"):
        return text + _where(e.__traceback__) + (
            "; nothing in /proc may be read (each handler call runs in a fresh process, and what /proc shows of the "
            "worker that starts them grows with the calls before)")
    if not QUIET and isinstance(e, PermissionError) and e.errno == errno.EPERM and e.filename is None:
        return text + _where(e.__traceback__) + (
            "; the worker's sandbox refused that system call (a handler may not make a pipe, a socket or a process, "
            "act on another process, change a file's times, mode or owner, or make perf events, namespaces or "
            "mounts): keep to the node's own state and out.send()")
    if WRITES_FORBIDDEN and isinstance(e, PermissionError) and e.filename is not None:
        return text + _where(e.__traceback__) + (
            "; no file may be written (each handler call runs in a fresh process that imports the submission anew, "
            "and a file would carry state from one call to the next): keep state in self, print() what you want to "
            "see")
    if not QUIET and isinstance(e, PermissionError) and e.filename is not None:
        return text + _where(e.__traceback__) + (
            "; a worker runs as an unprivileged user in a sandbox: it may read the interpreter's files and the "
            "submission's folder, and write files only in its working directory (open them by a relative name)")
    return text + _where(e.__traceback__)


def _where(tb: Any) -> str:
    """`` at FILE:LINE in FUNCTION`` for the innermost frame of student code in the traceback.

    The submission's own frames come first: an error raised inside the standard library or an installed package
    (logging opening its file, say) is placed at the student's line that called it, and at the library's line
    only when no frame of the submission is in the traceback.
    """
    if tb is None:
        return ""
    found = own = None
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if not name.startswith(_OUR_DIRECTORIES) and "/contextlib.py" not in name and not name.startswith("<frozen"):
            found = frame
            if not os.path.realpath(name).startswith(_LIBRARIES):
                own = frame
    found = own or found
    if found is None:
        return ""
    return f" at {Path(found.filename).name}:{found.lineno} in {found.name}"
