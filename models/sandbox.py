"""Containment of untrusted code: time limits, failures as findings, a memory-bounded child process.

quorumcheck runs student handlers it has never seen. None of them may hang,
crash or exhaust quorumcheck itself:

* :func:`call_contained` runs one handler call under a time limit (a
  ``SIGALRM`` interval timer raising :class:`HandlerTimeout` inside the
  handler, in the main thread) and turns anything it raises into a
  :class:`HandlerFailure` -- a finding to report with the schedule that
  triggered it, not an error of quorumcheck;
* :func:`run_in_child` runs a whole check in a forked child process whose
  address space is limited with ``RLIMIT_AS``, with a hard wall-clock limit
  after which the child is killed; a child that dies (``os._exit``, a
  segfault) is reported, never propagated.

Errors of quorumcheck's own contract (:class:`~quorumcheck.errors.QuorumcheckError`)
raised inside a handler call are raised again, not reported as findings.

Examples
--------
>>> def loop_forever():
...     while True:
...         pass
>>> failure = call_contained(loop_forever, (), time_limit=0.05)
>>> failure.property, failure.kind
('handlers-terminate', 'timeout')
>>> call_contained(lambda: {}["missing"], ()).text
"KeyError: 'missing' at <doctest ...>:1 in <lambda>"
>>> call_contained(print, ("fine",), quiet=True) is None
True
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import pickle
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quorumcheck.errors import QuorumcheckError

__all__ = [
    "CONTAINMENT_PROPERTIES",
    "ChildFailed",
    "HandlerFailure",
    "HandlerTimeout",
    "call_contained",
    "run_in_child",
    "time_limit",
]

CONTAINMENT_PROPERTIES = {
    "handlers-do-not-crash": "no handler raises an exception",
    "handlers-terminate": "every handler call returns within the time limit",
    "handlers-are-deterministic": "a handler run twice on the same node state and input does the same",
    "handlers-within-memory": "no handler runs out of memory",
}
"""The properties every student run checks, whatever the protocol, with their descriptions."""

_ROOT = Path(__file__).resolve().parent.parent
_OUR_DIRECTORIES = tuple(str(_ROOT / part) + os.sep for part in ("models", "explorer", "invariants", "quorumcheck",
                                                                  "render"))


class HandlerTimeout(BaseException):
    """Raised inside a handler that exceeds its time limit.

    A ``BaseException``, so that a handler's ``except Exception:`` does not swallow it.
    """


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
    def property(self) -> str:
        """The containment property this failure violates."""
        return {"timeout": "handlers-terminate", "memory": "handlers-within-memory"}.get(
            self.kind, "handlers-do-not-crash")


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`HandlerTimeout` inside the block if it runs longer than ``seconds``.

    Uses ``signal.setitimer(ITIMER_REAL)``; outside the main thread (where
    signals cannot be used) the block runs without a limit, and only the
    child process's wall-clock limit (:func:`run_in_child`) stops it.

    Examples
    --------
    >>> import time
    >>> with time_limit(1.0):
    ...     time.sleep(0.01)
    >>> try:
    ...     with time_limit(0.02):
    ...         time.sleep(5)
    ... except HandlerTimeout:
    ...     print("stopped")
    stopped
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def alarm(signum: int, frame: Any) -> None:
        nonlocal fired
        fired = True
        signal.setitimer(signal.ITIMER_REAL, 0.05)  # keep raising if the handler swallows it
        raise HandlerTimeout(f"the call did not return within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
        if fired:  # the handler caught HandlerTimeout with a bare except and returned
            raise HandlerTimeout(f"the call did not return within {seconds:g} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_contained(
    function: Callable[..., Any], args: tuple[Any, ...], *, time_limit: float | None = 1.0, quiet: bool = True,
) -> HandlerFailure | None:
    """Call ``function(*args)`` under a time limit; ``None`` if it returned, else what went wrong.

    Parameters
    ----------
    time_limit : float, optional
        Seconds before the call is interrupted (``None``: no limit).
    quiet : bool, default True
        Discard what the call prints (library code never prints, and student
        code often does); its output is not part of its behaviour.

    Raises
    ------
    QuorumcheckError
        Raised inside the call by quorumcheck itself (a message that cannot be
        snapshotted): an error of the code's contract, not a finding.
    KeyboardInterrupt
        Passed through: the user stops the run.
    """
    sink = io.StringIO()
    try:
        with contextlib.ExitStack() as stack:
            if quiet:
                stack.enter_context(contextlib.redirect_stdout(sink))
                stack.enter_context(contextlib.redirect_stderr(sink))
            stack.enter_context(_limit(time_limit))
            function(*args)
    except HandlerTimeout as e:
        return HandlerFailure("timeout", f"did not return within {time_limit:g} s (an infinite loop?)"
                              + _where(e.__traceback__))
    except QuorumcheckError:
        raise
    except KeyboardInterrupt:
        raise
    except MemoryError:
        return HandlerFailure("memory", "MemoryError: ran out of memory" + _where(None))
    except BaseException as e:  # noqa: BLE001 - anything a student handler raises is a finding
        return HandlerFailure("exception", _exception_text(e))
    return None


_limit = time_limit  # call_contained's parameter shadows the name


def _exception_text(e: BaseException) -> str:
    text = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
    return text + _where(e.__traceback__)


def _where(tb: Any) -> str:
    """`` at FILE:LINE in FUNCTION`` for the innermost frame of student code in the traceback."""
    if tb is None:
        return ""
    found = None
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if not name.startswith(_OUR_DIRECTORIES) and "/contextlib.py" not in name and not name.startswith("<frozen"):
            found = frame
    if found is None:
        return ""
    return f" at {Path(found.filename).name}:{found.lineno} in {found.name}"


# -- the child process --------------------------------------------------------------------------------
class ChildFailed(QuorumcheckError):
    """The child process running a check died or was killed, with why (``reason``)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def run_in_child(
    function: Callable[[], Any], *, memory_mb: int | None = 2048, wall_seconds: float | None = None,
) -> Any:
    """Run ``function()`` in a forked child process and return its (pickled) result.

    Parameters
    ----------
    memory_mb : int, optional
        Address space the child may add to what it inherits (``RLIMIT_AS``);
        a ``MemoryError`` inside a handler is then a finding, and one in the
        search ends the run.
    wall_seconds : float, optional
        Kill the child after this many seconds (it normally stops itself
        earlier, at its own timeout).

    Returns
    -------
    object
        What ``function`` returned. An exception it raised is raised again here.

    Raises
    ------
    ChildFailed
        The child died without an answer (``reason`` ``"died"``: killed by a
        signal or ``os._exit``), was killed at the wall-clock limit (``"killed"``),
        or ran out of memory outside a handler (``"memory"``).

    Examples
    --------
    >>> run_in_child(lambda: sum(range(10)))
    45
    >>> import os
    >>> try:
    ...     run_in_child(lambda: os._exit(7))
    ... except ChildFailed as e:
    ...     print(e.reason, e)
    died the student code ended the check's process (exit status 7: os._exit, or a crash in C code?) before it could answer
    """
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        receive.close()
        try:
            if memory_mb is not None:
                _limit_memory(memory_mb)
            payload: tuple[str, Any] = ("ok", function())
        except MemoryError:
            payload = ("memory", None)
        except BaseException as e:  # noqa: BLE001 - sent back to the parent and raised there
            payload = ("raised", e)
        try:
            data = pickle.dumps(payload)
        except Exception as e:  # noqa: BLE001 - an unpicklable answer is reported, not lost
            data = pickle.dumps(("raised", RuntimeError(f"the check's result could not be sent back: {e}")))
        send.send_bytes(data)
        send.close()
        os._exit(0)

    process = context.Process(target=child, daemon=True)
    process.start()
    send.close()
    started = time.monotonic()
    data = None
    try:
        while True:
            remaining = None if wall_seconds is None else wall_seconds - (time.monotonic() - started)
            if remaining is not None and remaining <= 0:
                break
            if receive.poll(0.2 if remaining is None else min(0.2, remaining)):
                try:
                    data = receive.recv_bytes()
                except EOFError:
                    pass
                break
            if not process.is_alive() and not receive.poll(0):
                break
    finally:
        if data is None and process.is_alive():
            process.kill()
        process.join(5)
        receive.close()
    if data is None:
        if wall_seconds is not None and time.monotonic() - started >= wall_seconds:
            raise ChildFailed(f"the check did not finish within {wall_seconds:g} s and was stopped "
                              "(student code that ignores its time limit?)", "killed")
        code = process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        raise ChildFailed(f"the student code ended the check's process ({how}: os._exit, or a crash in C code?) "
                          "before it could answer", "died")
    status, value = pickle.loads(data)
    if status == "ok":
        return value
    if status == "memory":
        raise ChildFailed(f"the check ran out of memory (limit {memory_mb} MiB above the start)", "memory")
    raise value


def _limit_memory(megabytes: int) -> None:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        current = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        current = 0
    limit = current + megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
