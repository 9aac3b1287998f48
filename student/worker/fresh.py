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
* no memory mapped shared and writable (the children would all share it), and no System V object (after
  each call, those the call made are removed; the worker has an IPC namespace of its own);
* every file descriptor the submission opened is pointed at ``/dev/null``
  (a pipe it made when imported would pass data between calls), but a file it opened only to read; each
  child replaces every descriptor it inherits with an open file description of its own (standard output and
  error excepted: it may only write there), so that no offset, flag or lock it sets reaches the next;
* nothing of the submission's runs in it any more: its signal handlers, interval timers, collector callbacks,
  trace and profile functions are removed;
* no file may be written from now on (Landlock, where the kernel has it);
* it cannot be traced or read by its children (``PR_SET_DUMPABLE`` 0), and each child may act on itself only
  (a seccomp filter: no limit, affinity, priority or signal of its parent to set, where a call could leave a
  few bits for the next);
* its objects are frozen for the collector, so a child copies few pages.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import os
import resource
import signal
import stat
import sys
import threading
from collections.abc import Callable
from typing import Any

from quorumcheck.student.wire import MAX_LINE

__all__ = ["FreshCalls", "Inherited", "settle"]

_PR_SET_DUMPABLE = 4
_CHILD_OUTPUT_LIMIT = MAX_LINE + (1 << 20)
"""The longest answer line a child may write: the wire's and some (a longer one is passed on cut)."""


class Placeholder:
    """A thread that holds the worker's second process slot while the submission loads: its user may run two
    (``RLIMIT_NPROC``), and the submission may start none. :func:`settle` ends it, and the slot is the calls'."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        self.thread = threading.Thread(target=os.read, args=(self._read, 1), daemon=True,
                                       name="quorumcheck-placeholder")
        self.thread.start()

    def end(self) -> bool:
        """End the thread; whether it was still waiting (if not, the submission ended it to start something)."""
        waiting = self.thread.is_alive()
        with contextlib.suppress(OSError):
            os.write(self._write, b"x")
        self.thread.join(5)
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
        return waiting and not self.thread.is_alive()


def settle(keep: tuple[int, ...], placeholder: Placeholder | None = None) -> str | Inherited:
    """Prepare this loaded worker to fork one child per call: what in the submission prevents it (text), else the
    descriptors a child inherits, which it replaces with its own (:class:`Inherited`).

    ``keep`` are the descriptors quorumcheck's channel uses (standard input, output and error are kept too).
    ``placeholder`` held the slot the calls take while the submission loaded.
    """
    if placeholder is not None and not placeholder.end():
        return ("ended a thread of quorumcheck's while it was imported; quorumcheck runs each handler call in a "
                "fresh copy of the loaded code, and the code may not start anything beside it")
    while True:  # a process the submission started and that has ended: reaped, so it does not count
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            return ("started a process when imported that is still running; quorumcheck runs each handler call in "
                    "a fresh copy of the loaded code, which may not run anything beside it")
    if threading.active_count() > 1:
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
    _quiet_parent()
    inherited = _neutralise_descriptors(keep)
    from quorumcheck.student.trusted.sandbox import forbid_writes

    if forbid_writes():
        from . import containment

        containment.WRITES_FORBIDDEN = True  # a handler's PermissionError on a file then says why
    try:
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    gc.collect()
    gc.freeze()
    return inherited


def _shared_mappings() -> list[str]:
    """This process's shared mappings that are writable or may be made so (``mprotect``): ``ms`` and ``mw`` among
    the ``VmFlags`` of ``/proc/self/smaps``. A file mapped shared from a descriptor opened to read only (the C
    library's ``gconv-modules.cache``) may not be written, and is left."""
    try:
        with open("/proc/self/smaps", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    found = []
    name = ""
    for line in lines:
        fields = line.split(maxsplit=5)
        if fields and "-" in fields[0] and not fields[0].endswith(":"):  # a mapping's first line
            name = fields[5].strip() if len(fields) == 6 else ""
        elif fields and fields[0] == "VmFlags:" and {"ms", "mw"} <= set(line.split()[1:]):
            found.append("anonymous memory" if not name or name.startswith(("/dev/zero", "/SYSV")) else name)
    return found


def _quiet_parent() -> None:
    """Nothing of the submission's runs in this worker once it forks the calls: its signal handlers and interval
    timers, collector callbacks, trace and profile functions are removed (a handler run here, between calls, could
    note what the calls answered and leave it for the next copy)."""
    for number in signal.valid_signals():
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            if callable(signal.getsignal(number)) and number != signal.SIGINT:
                signal.signal(number, signal.SIG_DFL)
    with contextlib.suppress(ValueError):
        signal.set_wakeup_fd(-1)
    for timer in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
        signal.setitimer(timer, 0)
    gc.callbacks.clear()
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)  # type: ignore[arg-type]
    threading.setprofile(None)  # type: ignore[arg-type]


_SYSTEM_V = {"shm": "shared memory (shmget)", "sem": "semaphores (semget)", "msg": "message queues (msgget)"}


def system_v_objects() -> list[tuple[str, int]]:
    """The System V IPC objects of this process's IPC namespace (a worker's own): what, and its id."""
    found = []
    for kind, what in _SYSTEM_V.items():
        try:
            with open(f"/proc/sysvipc/{kind}", encoding="ascii", errors="replace") as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1 and fields[1].isdigit():
                found.append((what, int(fields[1])))
    return found


def remove_system_v_objects() -> None:
    """Remove every System V object of this worker's IPC namespace: what one call made, the next cannot find."""
    objects = system_v_objects()
    if not objects:
        return
    libc = ctypes.CDLL(None)
    for what, ident in objects:
        if what.startswith("shared"):
            libc.shmctl(ident, _IPC_RMID, None)  # gone once nothing has it attached (its child has ended)
        elif what.startswith("sema"):
            libc.semctl(ident, 0, _IPC_RMID)
        else:
            libc.msgctl(ident, _IPC_RMID, None)


_IPC_RMID = 0


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
        open anew): :func:`~quorumcheck.student.trusted.sandbox.confine_call` lets a child write there, and
        change nothing else of them."""
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, *channel, *self.null):
            os.dup2(null, fd)
        for fd, (path, offset) in self.files.items():
            try:
                mine = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                os.lseek(mine, offset, os.SEEK_SET)
            except OSError:
                os.dup2(null, fd)
                continue
            os.dup2(mine, fd)
            os.close(mine)
        os.close(null)


def _neutralise_descriptors(keep: tuple[int, ...]) -> Inherited:
    """Point every open descriptor but ``keep``, 0-2 and files opened only to read at ``/dev/null``: its number
    stays taken (so nothing of ours reuses it under the student's file object), and it carries nothing between
    calls. A file opened only to read (a configuration read again in each call) stays, and each child opens it
    anew (:class:`Inherited`)."""
    try:
        numbers = sorted(int(name) for name in os.listdir("/proc/self/fd") if name.isdigit())
    except OSError:  # every number up to the hard limit: the soft one is the submission's to lower
        numbers = list(range(3, min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1 << 20)))
    files: dict[int, tuple[str, int]] = {}
    nulled = []
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in numbers:
            if fd < 3 or fd == null or fd in keep:
                continue
            try:
                status = os.fstat(fd)
                flags = fcntl.fcntl(fd, fcntl.F_GETFL)
                path = os.readlink(f"/proc/self/fd/{fd}") if stat.S_ISREG(status.st_mode) else ""
            except OSError:
                continue  # closed meanwhile (the listing's own descriptor)
            if path.startswith("/") and flags & os.O_ACCMODE == os.O_RDONLY:
                files[fd] = (path, os.lseek(fd, 0, os.SEEK_CUR))
                continue
            try:
                os.dup2(null, fd)
                nulled.append(fd)
            except OSError:  # past the limit the submission lowered: closed, no descriptor of ours can get it
                os.close(fd)
    finally:
        os.close(null)
    return Inherited(tuple(nulled), files)


def _libc_prctl(option: int, value: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


_PR_SET_PDEATHSIG = 1


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

    def run(self, line: bytes) -> bytes:
        """The answer line (with its newline) of a fresh child to the request ``line``."""
        if self.waiting is None:
            self._fork()
        assert self.waiting is not None
        pid, request, answer = self.waiting
        self.waiting = None
        try:
            from .serve import _write_all

            _write_all(request, line + b"\n")
        except OSError:
            pass  # it has ended already: how, waitpid says
        os.close(request)
        data = bytearray()
        try:
            while b"\n" not in data and len(data) <= _CHILD_OUTPUT_LIMIT:
                chunk = os.read(answer, 1 << 16)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(answer)
        if b"\n" in data or len(data) > _CHILD_OUTPUT_LIMIT:
            # Its answer, up to the first line's end (what the code wrote there itself, past it, is not passed on;
            # too long, it is passed on cut, and the trusted side finds it malformed). The child has nothing left
            # to do: it is ended, so one that answered and went on (ignoring its time limit) holds nothing up.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            remove_system_v_objects()
            end = data.find(b"\n")
            return bytes(data[:end + 1]) if end >= 0 else bytes(data[:_CHILD_OUTPUT_LIMIT]) + b"\n"
        _, status = os.waitpid(pid, 0)
        _end_as(status)
        raise AssertionError("unreachable")  # pragma: no cover

    def after(self) -> None:
        """Once an answer is passed on: fork the next child, which waits for the next request."""
        with contextlib.suppress(ForkRefused):
            self._fork()  # refused here, it is tried again (and reported) when the next request comes

    def _fork(self) -> None:
        to_child, request = os.pipe()
        answer, from_child = os.pipe()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError as e:
            for fd in (to_child, request, answer, from_child):
                os.close(fd)
            raise ForkRefused(e) from None
        if pid == 0:  # pragma: no cover - the child (coverage is not collected there)
            code = 70
            try:
                from quorumcheck.student.trusted.sandbox import confine_call

                _libc_prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # it ends with the worker, even one killed outright
                if os.getppid() != parent:
                    os._exit(0)  # the worker ended before that took hold
                confine_call()  # its parent is its user's too: nothing of it, or of what it shares, to change
                os.close(request)
                os.close(answer)
                # Descriptions of its own for every descriptor it inherits (the channel's are ours: /dev/null, so a
                # call cannot read ahead or answer for another).
                self.inherited.replace_in_child(self.channel)
                line = bytearray()
                while not line.endswith(b"\n"):
                    chunk = os.read(to_child, 1 << 16)
                    if not chunk:
                        os._exit(0)  # no request came: the worker is ending
                    line += chunk
                os.close(to_child)
                self.send(from_child, self.handle(bytes(line[:-1])))
                code = 0
            finally:
                os._exit(code)
        os.close(to_child)
        os.close(from_child)
        self.waiting = (pid, request, answer)


class ForkRefused(Exception):
    """The loaded worker could not fork a call (its one other process is taken: the submission started one)."""


def _end_as(status: int) -> None:  # pragma: no cover - ends this process
    """End this process as the child ended: by its signal, or with its exit status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        signal.signal(number, signal.SIG_DFL)
        os.kill(os.getpid(), number)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
