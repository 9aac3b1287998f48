"""Every handler call in a process of its own, which imports the submission anew: a fork of a worker that never ran it.

The trusted side asks a worker for thousands of handler calls, on the node
snapshots of every branch of the search. A call must depend on its snapshot
and event only: whatever the student's code keeps elsewhere (a module global
of a sub-package, an attribute of ``sys`` or of a function, an
``lru_cache``, a file) would carry over from one branch to another, and a
registry of leaders kept there hides a real double election from every
schedule. :class:`~quorumcheck.student.worker.calls.OutsideState` names such
state where it looks; this module makes sure none carries over wherever it
is.

The worker that serves the calls this way (a *zygote*, :class:`Zygote`)
never imports the submission. For the load, and then for each call, it
forks a child; the child confines itself, imports the submission, builds
the nodes, answers that one request and dies. Nothing of the submission's
ever runs in the zygote, so nothing it did at import or in a call can act
there later: not a patched function of quorumcheck's, a signal handler, an
``os.register_at_fork`` callback, a thread, a shared mapping, a descriptor
left open, nor code written into memory with ``ctypes``. (An earlier design
forked the copies from a worker that had imported the submission once; each
of those was a way for one call to reach the next through it, and code that
patched quorumcheck's own functions there was not contained at all.)

What a child may still share with the next is what the kernel keeps beyond
its life, and each child shuts that out before the submission runs:

* no file may be written (Landlock, applied by the zygote to itself and so to
  every child; the devices such as ``/dev/null`` excepted), and nothing in
  ``/proc`` read (:func:`~quorumcheck.student.trusted.sandbox.prepare_no_proc`);
* it may act on itself only (a seccomp filter,
  :func:`~quorumcheck.student.trusted.sandbox.prepare_call_confinement`): no
  limit, affinity, priority or signal of another process, no file's times or
  mode, no System V object, no question about the page cache;
* it starts no process or thread (its user may run two, ``RLIMIT_NPROC``: the
  zygote and itself), and it cannot trace or read the zygote
  (``PR_SET_DUMPABLE`` 0);
* quorumcheck's channel is ``/dev/null`` to it, and it gets one request line.

The cost is an import per call: a few milliseconds, most of it the
submission's own top level (its code is compiled once, in the zygote, and
each child checks that the source is still what was compiled).
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

from quorumcheck.student.trusted.sandbox import prepare_call_confinement, prepare_forbid_writes, prepare_no_proc
from quorumcheck.student.wire import MAX_LINE

__all__ = ["FreshCalls", "ForkRefused", "prepare_zygote"]

_PR_SET_DUMPABLE = 4
_PR_SET_PDEATHSIG = 1
_CHILD_OUTPUT_LIMIT = MAX_LINE + (1 << 20)
"""The longest answer line a child may write, newline included: the wire's and some (a longer one is cut)."""

_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
# The C library's fork: the zygote runs one thread and holds no lock of Python's when it forks, so the child needs
# none of os.fork's resetting (and no os.register_at_fork callback of any library's runs).
_c_fork = _libc.fork
_c_fork.restype = ctypes.c_int
_confine_call = prepare_call_confinement()
_forbid_writes = prepare_forbid_writes()
_no_proc: Callable[[], bool] = lambda: False  # noqa: E731 - set by prepare_zygote()
# The lines the zygote passes on go through these two buffers, made once (private memory, touched only as far as
# lines reach): nothing it allocates depends on what a child answers or on how large a request is, so what a child
# inherits of its memory says nothing of the calls before. Each child releases its copy of both first.
_REQUESTS = mmap.mmap(-1, MAX_LINE + (1 << 20), flags=mmap.MAP_PRIVATE)
_ANSWER = mmap.mmap(-1, _CHILD_OUTPUT_LIMIT, flags=mmap.MAP_PRIVATE)
_REQUESTS_VIEW, _ANSWER_VIEW = memoryview(_REQUESTS), memoryview(_ANSWER)
_NEWLINE = b"\n"


def prepare_zygote(submission: str, warm: Callable[[], None]) -> None:
    """Make this worker the zygote of the fresh processes, before any is forked: prepare the layer each child
    applies so that it reads nothing in ``/proc`` (keeping what it may read besides: the interpreter's paths, the
    submission's folder, the devices and the system's libraries), run ``warm`` (imports and caches every child would
    otherwise redo), forbid writing files from now on, and freeze this process's objects for the collector (a child
    copies few pages, and finds its own objects apart: ``gc.get_objects()`` leaves frozen ones out)."""
    global _no_proc
    _no_proc = prepare_no_proc([*sys.path, sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(submission)),
                                "/dev", "/etc", "/usr", "/lib", "/lib32", "/lib64", "/tmp"])
    warm()
    if _forbid_writes():
        from . import containment

        containment.WRITES_FORBIDDEN = True  # a PermissionError on a file then says why
    _prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    gc.collect()
    gc.freeze()


def _ruleset_fds() -> tuple[int, ...]:
    """The prepared Landlock rulesets' descriptors (open in the zygote; a child closes them once applied)."""
    return tuple(fd for fd in (getattr(_forbid_writes, "fd", None), getattr(_no_proc, "fd", None)) if fd is not None)


def _fill_to_line(fd: int, buffer: Any, view: Any, filled: int) -> tuple[int, int]:
    """Read from ``fd`` into ``buffer`` (``view`` of it; its first ``filled`` bytes are read already) until it
    holds a whole line, the input ends or the buffer is full: how much it holds, and where the first line ends
    (-1 if nowhere). Allocates nothing whose size depends on what is read."""
    end = buffer.find(_NEWLINE, 0, filled)
    size = len(buffer)
    while end < 0 and filled < size:
        got = os.readv(fd, [view[filled:]])
        if got == 0:
            break
        end = buffer.find(_NEWLINE, filled, filled + got)
        filled += got
    return filled, end


def _write_all(fd: int, data: Any) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FreshCalls:
    """Answer each request line in a fresh fork of this zygote (:func:`prepare_zygote`): the bytes of the child's
    answer line.

    The next child is forked as soon as an answer has been passed on, runs ``prepare`` (it imports the submission
    and starts the nodes) and then waits for its request: the fork and the import fall while the trusted side works
    on the answer. A child that ends without a whole answer (``os._exit``, a
    signal, running out of memory) ends this worker the same way, so the trusted side reports it as it reports a
    worker that died.

    Parameters
    ----------
    channel : tuple of int
        quorumcheck's own descriptors, which a child must not use (it gets ``/dev/null`` in their place).
    handle : callable
        Run in the child, confined: the reply (a dict) to one request line, given what ``prepare`` returned
        (``None`` in a child forked when the request had come: the first, which gets the load).
    send : callable
        Run in the child: write a reply to a descriptor as one line.
    prepare : callable, optional
        Run in a child forked ahead of its request, confined, before it reads the request.
    """

    def __init__(self, channel: tuple[int, ...], handle: Callable[[bytes, Any], dict[str, Any]],
                 send: Callable[[int, dict[str, Any]], None], prepare: Callable[[], Any] | None = None) -> None:
        self.channel = channel
        self.handle = handle
        self.send = send
        self.prepare = prepare
        self.waiting: tuple[int, int, int] | None = None
        """The child forked ahead: its pid, where its request goes, where its answer comes from."""

    def serve(self, requests: int, answers: int, pending: bytes, refused: Callable[[bytes], dict[str, Any]]) -> None:
        """Pass every request line from ``requests`` (after ``pending``, already read) to a fresh child, and its
        answer to ``answers``, until the requests end. ``refused`` makes the reply to a line no child could be
        forked for. The lines go through buffers made once."""
        filled = len(pending)
        _REQUESTS_VIEW[:filled] = pending
        while True:
            filled, end = _fill_to_line(requests, _REQUESTS, _REQUESTS_VIEW, filled)
            if end < 0:
                return  # the requests ended (or one is longer than any of quorumcheck's)
            try:
                data = self.run(_REQUESTS_VIEW[:end + 1])
            except ForkRefused:
                self.send(answers, refused(bytes(_REQUESTS_VIEW[:end])))
            else:
                _write_all(answers, data)
                # Released here too: a padded answer left its pages resident in the zygote, and each child's peak
                # memory (getrusage ru_maxrss) counted them (red-team round 14 kept a leader bit there).
                _ANSWER.madvise(mmap.MADV_DONTNEED)
                self.after()
            rest = filled - (end + 1)
            if rest:
                _REQUESTS.move(0, end + 1, rest)
            filled = rest

    def run(self, line: Any) -> Any:
        """The answer line (with its newline) of a fresh child to the request ``line`` (with its newline), as a
        view of the answer buffer, valid until the next call."""
        if self.waiting is None:
            self._fork()
        pid, request, answer = self.waiting  # type: ignore[misc]
        self.waiting = None
        try:
            _write_all(request, line)
        except OSError:
            pass  # it has ended already: how, waitpid says
        os.close(request)
        size = len(_ANSWER)
        try:
            filled, end = _fill_to_line(answer, _ANSWER, _ANSWER_VIEW, 0)
        finally:
            os.close(answer)
        if end >= 0 or filled >= size:
            # Its answer, up to the first line's end (what the code wrote there itself, past it, is not passed on;
            # too long, it is passed on cut, and the trusted side finds it malformed). The child has nothing left
            # to do: it is ended, so one that answered and went on (ignoring its time limit) holds nothing up.
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            if end < 0:
                _ANSWER_VIEW[size - 1:size] = _NEWLINE
                end = size - 1
            return _ANSWER_VIEW[:end + 1]
        _, status = os.waitpid(pid, 0)
        _end_as(status)
        raise AssertionError("unreachable")  # pragma: no cover

    def after(self) -> None:
        """Once an answer is passed on: fork the next child, which prepares and waits for the next request."""
        try:
            self._fork(ahead=True)
        except ForkRefused:
            pass  # tried again (and reported) when the next request comes

    def _fork(self, ahead: bool = False) -> None:
        to_child, request = os.pipe()
        answer, from_child = os.pipe()
        parent = os.getpid()
        pid = _c_fork()
        if pid < 0:
            for fd in (to_child, request, answer, from_child):
                os.close(fd)
            raise ForkRefused(OSError(ctypes.get_errno(), "fork"))
        if pid == 0:  # pragma: no cover - the child (coverage is not collected there)
            code = 70
            try:
                _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # it ends with the zygote, even one killed outright
                if os.getppid() != parent:
                    os._exit(0)  # the zygote ended before that took hold
                # The zygote's line buffers, as the child sees them: emptied, every page released (which of their
                # pages are in memory says how far earlier lines reached).
                _REQUESTS.madvise(mmap.MADV_DONTNEED)
                _ANSWER.madvise(mmap.MADV_DONTNEED)
                _confine_call()  # its parent is its user's too: nothing of it, or of what it shares, to change
                _no_proc()  # nor to read: the zygote's memory use and page faults grow with the calls
                for fd in (request, answer, *_ruleset_fds()):
                    os.close(fd)
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, *self.channel):  # /dev/null: a call cannot read ahead or answer for another
                    os.dup2(null, fd)
                os.close(null)
                prepared = self.prepare() if ahead and self.prepare is not None else None
                line = bytearray()
                while not line.endswith(b"\n"):
                    chunk = os.read(to_child, 1 << 16)
                    if not chunk:
                        os._exit(0)  # no request came: the zygote is ending
                    line += chunk
                os.close(to_child)
                self.send(from_child, self.handle(bytes(line[:-1]), prepared))
                code = 0
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_child)
        self.waiting = (pid, request, answer)


class ForkRefused(Exception):
    """The zygote could not fork a child (its one other process is taken)."""


def _end_as(status: int) -> None:  # pragma: no cover - ends this process
    """End this process as the child ended: by its signal, or with its exit status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
