"""Every handler call in a process of its own: a fork of the worker as it was once the submission was loaded.

The trusted side asks a worker for thousands of handler calls, on the node
snapshots of every branch of the search. A call must depend on its snapshot
and event only: whatever the student's code keeps elsewhere (a module global
of a sub-package, an attribute of ``sys`` or of a function, an
``lru_cache``, a file) would carry over from one branch to another, and a
registry of leaders kept there hides a real double election from every
schedule. :class:`~quorumcheck.student.worker.calls.OutsideState` names such
state where it looks; this module makes sure none carries over wherever it
is: the loaded worker never runs a handler itself, it forks a child for each
call and forwards the child's answer.

What the loaded worker settles first (:func:`settle`), so that the children
cannot reach each other either:

* no thread besides its own, and no child process (its user may run two
  processes, ``RLIMIT_NPROC``: itself and one call);
* no memory mapped shared that is or may become writable (the children would all share it), and no System V
  object (a child may make none; the worker has an IPC namespace of its own);
* every file descriptor the submission opened is pointed at ``/dev/null`` (a pipe it made when imported would
  pass data between calls), but a file it opened only to read; each child replaces every descriptor it
  inherits with an open file description of its own (standard output and error excepted: it may only write
  there), so that no offset, flag or lock it sets reaches the next;
* nothing of the submission's runs in it any more: its signal handlers, interval timers, collector callbacks,
  trace, profile and monitoring functions are removed, no audit hook can be added (vetoed from the start), it
  forks with the C library's ``fork`` (no ``os.register_at_fork`` callback runs), what it runs between calls
  was bound before the submission was imported (a function of ``os`` replaced at import is the copies' only),
  and the lines it passes on go through buffers made then (its allocator's state, which a copy can read, does
  not depend on what a copy answered);
* no file may be written from now on (Landlock, where the kernel has it);
* it cannot be traced or read by its children (``PR_SET_DUMPABLE`` 0), and each child dies with it and may
  act on itself only (a seccomp filter, :func:`~quorumcheck.student.trusted.sandbox.prepare_call_confinement`:
  no limit, affinity, priority or signal of another process, no file's times or mode, no question about the
  page cache: where a call could leave a few bits for the next);
* its objects are frozen for the collector, so a child copies few pages.
"""

from __future__ import annotations

import ctypes
import fcntl
import gc
import mmap
import os
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from quorumcheck.student.trusted.sandbox import prepare_call_confinement, prepare_forbid_writes, prepare_no_proc
from quorumcheck.student.wire import MAX_LINE

__all__ = ["FreshCalls", "Inherited", "prepare_reads", "settle"]

_PR_SET_DUMPABLE = 4
_CHILD_OUTPUT_LIMIT = MAX_LINE + (1 << 20)
"""The longest answer line a child may write, newline included: the wire's and some (a longer one is cut)."""


# What the worker runs between the calls, and a copy before it is confined, is bound here, before the submission
# is imported (this module is imported first): a function of os, ctypes or builtins that the submission replaces
# at import runs in the copies only, never in the worker that forks them. (Code that patches quorumcheck's own
# modules is another matter: docs/grading.md, "Not contained".)
_read, _write, _waitpid, _pipe, _close, _kill, _exit, _open, _dup2, _lseek, _getpid, _getppid = (
    os.read, os.write, os.waitpid, os.pipe, os.close, os.kill, os._exit, os.open, os.dup2, os.lseek, os.getpid,
    os.getppid)
_bytearray, _bytes, _len, _memoryview, _int = bytearray, bytes, len, memoryview, int
_WIFSIGNALED, _WTERMSIG, _WIFEXITED, _WEXITSTATUS = os.WIFSIGNALED, os.WTERMSIG, os.WIFEXITED, os.WEXITSTATUS
_signal, _SIG_DFL, _SIGKILL = signal.signal, signal.SIG_DFL, signal.SIGKILL
_O_RDONLY, _O_RDWR, _O_CLOEXEC, _SEEK_SET, _DEVNULL = os.O_RDONLY, os.O_RDWR, os.O_CLOEXEC, os.SEEK_SET, os.devnull
_libc = ctypes.CDLL(None, use_errno=True)
_prctl = _libc.prctl
# The C library's fork, not os.fork: os.fork runs the callbacks of os.register_at_fork, which the submission may
# have registered at import (one run in the worker after every fork could keep what the calls answered). The
# worker forks with one thread and no lock of Python's held, so the child needs none of os.fork's resetting.
_c_fork = _libc.fork
_c_fork.restype = ctypes.c_int
_get_errno = ctypes.get_errno
_gc_callbacks, _gc_collect, _gc_freeze = gc.callbacks, gc.collect, gc.freeze
_settrace, _setprofile, _getsignal, _setitimer, _set_wakeup_fd = (
    sys.settrace, sys.setprofile, signal.getsignal, signal.setitimer, signal.set_wakeup_fd)
_valid_signals, _SIGINT, _ITIMERS = signal.valid_signals(), signal.SIGINT, (
    signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF)
_excepthook, _unraisablehook = sys.__excepthook__, sys.__unraisablehook__
_monitoring = getattr(sys, "monitoring", None)  # Python 3.12 and later
_SIG_IGN = signal.SIG_IGN
_listdir, _fstat, _readlink, _fcntl, _F_GETFL, _S_ISREG, _O_ACCMODE, _sleep, _WNOHANG = (
    os.listdir, os.fstat, os.readlink, fcntl.fcntl, fcntl.F_GETFL, stat.S_ISREG, os.O_ACCMODE, time.sleep,
    os.WNOHANG)
_confine_call = prepare_call_confinement()
_forbid_writes = prepare_forbid_writes()
_no_proc: Callable[[], bool] = lambda: False  # noqa: E731 - set by prepare_reads() before the submission loads


def prepare_reads(submission: str) -> None:
    """Before the submission is imported: prepare the layer each copy applies so that it reads nothing in
    ``/proc`` (:func:`~quorumcheck.student.trusted.sandbox.prepare_no_proc`), keeping what it may read besides:
    the interpreter's paths, the submission's folder, the devices and the system's libraries."""
    global _no_proc
    _no_proc = prepare_no_proc([*sys.path, sys.prefix, sys.base_prefix, os.path.dirname(os.path.abspath(submission)),
                                "/dev", "/etc", "/usr", "/lib", "/lib32", "/lib64", "/tmp"])
_readv = os.readv
# The lines the worker passes on go through these two buffers, made before the submission is imported (private
# memory, touched only as far as lines reach): nothing the worker allocates depends on what a copy answers or on
# how large a request is, so its memory allocator's state (which a copy inherits and can read, such as glibc's
# mmap threshold, raised by freeing a large block) carries nothing from one call to the next.
_REQUESTS = mmap.mmap(-1, MAX_LINE + (1 << 20), flags=mmap.MAP_PRIVATE)
_ANSWER = mmap.mmap(-1, _CHILD_OUTPUT_LIMIT, flags=mmap.MAP_PRIVATE)
_REQUESTS_VIEW, _ANSWER_VIEW = memoryview(_REQUESTS), memoryview(_ANSWER)
_NEWLINE = b"\n"
_MADV_DONTNEED = mmap.MADV_DONTNEED


def _veto_audit_hooks(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook (installed first of all): no other may be added, since a hook runs in the worker that forks
    the calls, between them."""
    if event == "sys.addaudithook":
        raise RuntimeError("quorumcheck: no audit hook in a worker")


sys.addaudithook(_veto_audit_hooks)


class Placeholder:
    """A thread that holds the worker's second process slot while the submission loads: its user may run two
    (``RLIMIT_NPROC``), and the submission may start none. :func:`settle` ends it, and the slot is the calls'."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        threading.Thread(target=os.read, args=(self._read, 1), daemon=True, name="quorumcheck-placeholder").start()

    def end(self) -> bool:
        """End the thread; whether this process then runs no thread but its own (if not, the submission ended
        the placeholder to start one of its own)."""
        try:
            _write(self._write, b"x")
        except OSError:
            pass
        for _ in range(500):
            if _tasks() == 1:
                break
            _sleep(0.01)
        for fd in (self._read, self._write):
            try:
                _close(fd)
            except OSError:
                pass
        return _tasks() == 1


def _tasks() -> int:
    """How many threads this process runs (``/proc/self/task``: threads of the threading module or not)."""
    try:
        return _len(_listdir("/proc/self/task"))
    except OSError:  # pragma: no cover - no /proc
        return 1


def settle(keep: tuple[int, ...], placeholder: Placeholder | None = None) -> str | Inherited:
    """Prepare this loaded worker to fork one child per call: what in the submission prevents it (text), else the
    descriptors a child inherits, which it replaces with its own (:class:`Inherited`).

    ``keep`` are the descriptors quorumcheck's channel uses (standard input, output and error are kept too).
    ``placeholder`` held the slot the calls take while the submission loaded. Runs with what was bound before the
    submission was imported; :meth:`FreshCalls.serve` checks again (:func:`_alone`) once the load is answered.
    """
    if placeholder is not None and not placeholder.end():
        return ("started a thread when imported that is still running (or ended one of quorumcheck's); quorumcheck "
                "runs each handler call in a fresh copy of the loaded code, which may not run anything beside it")
    problem = _alone()
    if problem is not None:
        return problem
    inherited = _neutralise_descriptors((*keep, *_forbid_writes_fds()))
    if _forbid_writes():
        from . import containment

        containment.WRITES_FORBIDDEN = True  # a handler's PermissionError on a file then says why
    _lock_down()
    return inherited


def _forbid_writes_fds() -> tuple[int, ...]:
    """The prepared Landlock rulesets' descriptors, which stay open."""
    return tuple(fd for fd in (getattr(_forbid_writes, "fd", None), getattr(_no_proc, "fd", None)) if fd is not None)


def _alone() -> str | None:
    """What the submission left running or shared in this process that a fresh copy per call cannot have: a
    process, a thread, System V objects, memory mapped shared; ``None`` if nothing."""
    while True:  # a process the submission started and that has ended: reaped, so it does not count
        try:
            pid, _ = _waitpid(-1, _WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            return ("started a process when imported that is still running; quorumcheck runs each handler call in "
                    "a fresh copy of the loaded code, which may not run anything beside it")
    if _tasks() > 1:
        return ("started a thread when imported that is still running; quorumcheck runs each handler call in a "
                "fresh copy of the loaded code, which may not run anything beside it")
    made = system_v_objects()
    if made:
        return (f"made System V {made[0][0]} when imported; each handler call runs in a fresh copy of the loaded "
                "code, and such an object would let one call leave state for the next: keep state in self")
    shared = _shared_mappings()
    if shared:
        return (f"mapped memory shared when imported ({shared[0]}); each handler call runs in a fresh copy of the "
                "loaded code, and shared memory would let one call leave state for the next: keep state in self")
    return None


def _lock_down() -> None:
    """The last steps before the first fork: this worker cannot be traced or read by its children, its objects
    are frozen for the collector, and nothing of the submission's runs in it (:func:`_quiet_parent`)."""
    _prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    _gc_collect()
    _gc_freeze()
    _quiet_parent()


def _read_file(path: str) -> bytes:
    """A file's bytes, read with what was bound before the submission was imported (``b""`` if unreadable)."""
    try:
        fd = _open(path, _O_RDONLY | _O_CLOEXEC)
    except OSError:
        return b""
    data = _bytearray()
    try:
        while True:
            chunk = _read(fd, 1 << 16)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        _close(fd)
    return _bytes(data)


def _shared_mappings() -> list[str]:
    """This process's shared mappings that are writable or may be made so (``mprotect``): ``ms`` and ``mw`` among
    the ``VmFlags`` of ``/proc/self/smaps``. A file mapped shared from a descriptor opened to read only (the C
    library's ``gconv-modules.cache``) may not be written, and is left."""
    found = []
    name = b""
    for line in _read_file("/proc/self/smaps").split(b"\n"):
        fields = line.split(None, 5)
        if fields and b"-" in fields[0] and not fields[0].endswith(b":"):  # a mapping's first line
            name = fields[5].strip() if _len(fields) == 6 else b""
        elif fields and fields[0] == b"VmFlags:" and b"ms" in line.split() and b"mw" in line.split():
            anonymous = not name or name.startswith((b"/dev/zero", b"/SYSV"))
            found.append("anonymous memory" if anonymous else name.decode("utf-8", "replace"))
    return found


def _quiet_parent() -> None:
    """Nothing of the submission's runs in this worker once it forks the calls: its signal handlers and interval
    timers, collector callbacks, trace, profile and monitoring functions, exception hooks are removed (a handler
    run here, between calls, could note what the calls answered and leave it for the next copy). Runs last, with
    what was bound before the submission was imported."""
    for number in _valid_signals:
        try:
            if number != _SIGINT and _getsignal(number) not in (_SIG_DFL, _SIG_IGN, None):
                _signal(number, _SIG_DFL)
        except (OSError, ValueError, RuntimeError):
            pass
    try:
        _set_wakeup_fd(-1)
    except ValueError:
        pass
    for timer in _ITIMERS:
        _setitimer(timer, 0)
    del _gc_callbacks[:]
    if _monitoring is not None:
        for tool in range(6):
            try:
                _monitoring.set_events(tool, 0)
            except ValueError:
                pass
    _settrace(None)
    _setprofile(None)
    sys.excepthook, sys.unraisablehook = _excepthook, _unraisablehook


_SYSTEM_V = {"shm": "shared memory (shmget)", "sem": "semaphores (semget)", "msg": "message queues (msgget)"}


def system_v_objects() -> list[tuple[str, int]]:
    """The System V IPC objects of this process's IPC namespace (a worker's own): what, and its id. Runs in the
    worker between calls: it calls only what was bound before the submission was imported."""
    found = []
    for kind, what in _SYSTEM_V.items():
        for row in _read_file(f"/proc/sysvipc/{kind}").split(b"\n")[1:]:
            fields = row.split()
            if _len(fields) > 1 and fields[1].isdigit():
                found.append((what, _int(fields[1])))
    return found


class Inherited:
    """The submission's descriptors that a child inherits: each child replaces them with descriptions of its own,
    so that nothing one call does to them (an offset, flags, a lock) reaches the next through the worker, which
    keeps them open.

    Attributes
    ----------
    null : tuple of int
        Pointed at ``/dev/null`` (the child opens its own).
    files : dict
        Files opened only to read when the submission was imported: descriptor to (path, offset). The child opens
        the file again and reads from that offset (``/dev/null`` if it cannot).
    """

    def __init__(self, null: tuple[int, ...], files: dict[int, tuple[str, int]]) -> None:
        self.null = null
        self.files = files

    def replace_in_child(self, channel: tuple[int, ...]) -> None:
        """In a child: its own ``/dev/null`` for standard input, the channel and :attr:`null`; its own opening of
        each file. Standard output and error stay the worker's (pipes the trusted side made, which a child cannot
        open anew): :func:`~quorumcheck.student.trusted.sandbox.prepare_call_confinement` lets a child write there, and
        change nothing else of them."""
        null = _open(_DEVNULL, _O_RDWR)
        for fd in (0, *channel, *self.null):
            _dup2(null, fd)
        for fd, (path, offset) in self.files.items():
            try:
                mine = _open(path, _O_RDONLY | _O_CLOEXEC)
                _lseek(mine, offset, _SEEK_SET)
            except OSError:
                _dup2(null, fd)
                continue
            _dup2(mine, fd)
            _close(mine)
        _close(null)


def _neutralise_descriptors(keep: tuple[int, ...]) -> Inherited:
    """Point every open descriptor but ``keep``, 0-2 and files opened only to read at ``/dev/null``: its number
    stays taken (so nothing of ours reuses it under the student's file object), and it carries nothing between
    calls. A file opened only to read (a configuration read again in each call) stays, and each child opens it
    anew (:class:`Inherited`)."""
    numbers = sorted(_int(name) for name in _listdir("/proc/self/fd") if name.isdigit())
    files: dict[int, tuple[str, int]] = {}
    nulled = []
    null = _open(_DEVNULL, _O_RDWR)
    try:
        for fd in numbers:
            if fd < 3 or fd == null or fd in keep:
                continue
            try:
                status = _fstat(fd)
                flags = _fcntl(fd, _F_GETFL)
                path = _readlink(f"/proc/self/fd/{fd}") if _S_ISREG(status.st_mode) else ""
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor)
            if path.startswith("/") and flags & _O_ACCMODE == _O_RDONLY:
                files[fd] = (path, _lseek(fd, 0, 1))
                continue
            try:
                _dup2(null, fd)
                nulled.append(fd)
            except OSError:  # past the limit the submission lowered: closed, no descriptor of ours can get it
                _close(fd)
    finally:
        _close(null)
    return Inherited(tuple(nulled), files)


_PR_SET_PDEATHSIG = 1


def _fill_to_line(fd: int, buffer: Any, view: Any, filled: int) -> tuple[int, int]:
    """Read from ``fd`` into ``buffer`` (``view`` of it; its first ``filled`` bytes are read already) until it
    holds a whole line, the input ends or the buffer is full: how much it holds, and where the first line ends
    (-1 if nowhere). Allocates nothing whose size depends on what is read."""
    end = buffer.find(_NEWLINE, 0, filled)
    size = _len(buffer)
    while end < 0 and filled < size:
        got = _readv(fd, [view[filled:]])
        if got == 0:
            break
        end = buffer.find(_NEWLINE, filled, filled + got)
        filled += got
    return filled, end


def _write_all(fd: int, data: bytes) -> None:
    view = _memoryview(data)
    while view:
        view = view[_write(fd, view):]


class FreshCalls:
    """Run each call in a fork of this (settled) process and return the bytes of the child's answer line.

    The next child is forked as soon as an answer has been passed on, and waits for its request: the fork's cost
    falls while the trusted side works on the answer. A child that ends without a whole answer (``os._exit``, a
    signal, running out of memory) ends this worker the same way, so the trusted side reports it as it reports a
    worker that died.

    Parameters
    ----------
    channel : tuple of int
        quorumcheck's own descriptors, which a child must not use (it gets ``/dev/null`` in their place).
    handle : callable
        Run in the child: the reply (a dict) to one request line.
    send : callable
        Run in the child: write a reply to a descriptor as one line.
    """

    def __init__(self, channel: tuple[int, ...], handle: Callable[[bytes], dict[str, Any]],
                 send: Callable[[int, dict[str, Any]], None], inherited: Inherited | None = None) -> None:
        self.channel = channel
        self.inherited = inherited or Inherited((), {})
        self.handle = handle
        self.send = send
        self.waiting: tuple[int, int, int] | None = None
        """The child forked ahead: its pid, where its request goes, where its answer comes from."""

    def serve(self, requests: int, answers: int, pending: bytes, refused: Callable[[bytes], dict[str, Any]]) -> None:
        """Pass every request line from ``requests`` (after ``pending``, already read) to a fresh child, and its
        answer to ``answers``, until the requests end. ``refused`` makes the reply to a line no child could be
        forked for. Only what was bound before the submission was imported runs here, and the lines go through
        buffers made then."""
        problem = _alone()  # what ran of the submission's since settle() (answering the load) left nothing
        if problem is not None:
            _write_all(2, f"quorumcheck worker: the submission {problem}\n".encode())
            _exit(71)
        _lock_down()
        filled = _len(pending)
        _REQUESTS_VIEW[:filled] = pending
        while True:
            filled, end = _fill_to_line(requests, _REQUESTS, _REQUESTS_VIEW, filled)
            if end < 0:
                return  # the requests ended (or one is longer than any of quorumcheck's)
            try:
                data = self.run(_REQUESTS_VIEW[:end + 1])
            except ForkRefused:
                self.send(answers, refused(_bytes(_REQUESTS_VIEW[:end])))
            else:
                _write_all(answers, data)
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
        _close(request)
        size = _len(_ANSWER)
        try:
            filled, end = _fill_to_line(answer, _ANSWER, _ANSWER_VIEW, 0)
        finally:
            _close(answer)
        if end >= 0 or filled >= size:
            # Its answer, up to the first line's end (what the code wrote there itself, past it, is not passed on;
            # too long, it is passed on cut, and the trusted side finds it malformed). The child has nothing left
            # to do: it is ended, so one that answered and went on (ignoring its time limit) holds nothing up.
            try:
                _kill(pid, _SIGKILL)
            except ProcessLookupError:
                pass
            _waitpid(pid, 0)
            if end < 0:
                _ANSWER_VIEW[size - 1:size] = _NEWLINE
                end = size - 1
            return _ANSWER_VIEW[:end + 1]
        _, status = _waitpid(pid, 0)
        _end_as(status)
        raise AssertionError("unreachable")  # pragma: no cover

    def after(self) -> None:
        """Once an answer is passed on: fork the next child, which waits for the next request."""
        try:
            self._fork()
        except ForkRefused:
            pass  # tried again (and reported) when the next request comes

    def _fork(self) -> None:
        to_child, request = _pipe()
        answer, from_child = _pipe()
        parent = _getpid()
        pid = _c_fork()
        if pid < 0:
            for fd in (to_child, request, answer, from_child):
                _close(fd)
            raise ForkRefused(OSError(_get_errno(), "fork"))
        if pid == 0:  # pragma: no cover - the child (coverage is not collected there)
            code = 70
            try:
                _prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)  # it ends with the worker, even one killed outright
                if _getppid() != parent:
                    _exit(0)  # the worker ended before that took hold
                # The worker's line buffers, as the child sees them: emptied, every page released. Their contents
                # (an earlier, longer answer's bytes) and which of their pages are in memory (how far the answers
                # reached: a page fault tells) are what earlier calls left.
                _REQUESTS.madvise(_MADV_DONTNEED)
                _ANSWER.madvise(_MADV_DONTNEED)
                _confine_call()  # its parent is its user's too: nothing of it, or of what it shares, to change
                _no_proc()  # nor to read: its memory use and page faults grow with what earlier copies answered
                _close(request)
                _close(answer)
                # Descriptions of its own for every descriptor it inherits (the channel's are ours: /dev/null, so a
                # call cannot read ahead or answer for another).
                self.inherited.replace_in_child(self.channel)
                line = _bytearray()
                while not line.endswith(b"\n"):
                    chunk = _read(to_child, 1 << 16)
                    if not chunk:
                        _exit(0)  # no request came: the worker is ending
                    line += chunk
                _close(to_child)
                self.send(from_child, self.handle(_bytes(line[:-1])))
                code = 0
            finally:
                _exit(code)
        _close(to_child)
        _close(from_child)
        self.waiting = (pid, request, answer)


class ForkRefused(Exception):
    """The loaded worker could not fork a call (its one other process is taken: the submission started one)."""


def _end_as(status: int) -> None:  # pragma: no cover - ends this process
    """End this process as the child ended: by its signal, or with its exit status."""
    if _WIFSIGNALED(status):
        number = _WTERMSIG(status)
        _signal(number, _SIG_DFL)
        _kill(_getpid(), number)
    _exit(_WEXITSTATUS(status) if _WIFEXITED(status) else 70)
