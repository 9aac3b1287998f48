"""The worker's sandbox, set up from outside: what the trusted side does between fork and exec.

A worker process is confined before it runs a single line of Python:

* a new session and process group (``setsid``), so that the whole tree is
  killed at the end and on a timeout;
* rlimits: address space (``memory_mb``), no new processes or threads
  (``RLIMIT_NPROC`` 0 for an unprivileged user), file size, no core dumps,
  and CPU time as a backstop;
* when run as root: a new network namespace (no network), a private mount
  namespace in which directories the unprivileged user could not enter (such
  as ``/root`` holding the interpreter) are replaced by an empty ``tmpfs``
  that exposes only what the worker needs, and then the privileges are
  dropped to ``nobody``;
* when not root: a new user and network namespace where the kernel allows it;
* Landlock (Linux 5.13 and later), root or not: the worker may read only what its
  interpreter loads (the system's libraries, Python's, the packages on its
  ``sys.path``, quorumcheck's) and the submission's own folder, and may write
  only in its private directory. So world-readable files elsewhere (``/etc/passwd``,
  the grader's own tests beside the submission's folder) stay closed to it;
* a private, empty working directory, and a minimal environment.

:func:`capabilities` probes once, in a throw-away child, which measures work
on this machine; a measure that does not is named in
:attr:`Confinement.missing`, which the run prints in one line.

Examples
--------
>>> c = capabilities()
>>> isinstance(c.missing, tuple) and all(isinstance(m, str) for m in c.missing)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Confinement", "capabilities", "confine", "fresh_calls", "prepare_call_confinement",
           "prepare_forbid_writes", "prepare_no_proc", "private_directory", "stage_directory",
           "sweep_stale_directories"]

_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
_MNT_DETACH = 2
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446  # on every architecture
_LANDLOCK_RULE_PATH_BENEATH, _LANDLOCK_CREATE_RULESET_VERSION = 1, 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 14, 1 << 15
_READ = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
"""Device files a worker may open (reading and writing; ``/dev/null`` is its standard input)."""
_SYSTEM = ("/lib", "/lib32", "/lib64", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/local/lib", "/etc/ld.so.cache",
           "/usr/share/zoneinfo", "/etc/localtime")
"""What the dynamic loader and the standard library read outside Python's own directories."""

WORKDIR_MB = 64
"""The size of a worker's private directory (a tmpfs, when it runs as a user of its own), in MiB."""

FRESH_CALL_PROCESSES = 2
"""``RLIMIT_NPROC`` of a worker with a user id of its own: itself and the one child that loads the submission and
runs a handler call."""

_NOBODY = 65534
UNIQUE_UID_BASE = 2_000_000_000
"""Workers run as user ids from here on when they can (each its own; no account has them)."""
_FILE_SIZE = 16 * 2**20
"""The largest file a worker may write (bytes)."""

try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
except OSError:  # pragma: no cover - no C library to call: the namespaces are reported missing
    _libc = None


@dataclass(frozen=True)
class Confinement:
    """What the sandbox can do on this machine (probed once by :func:`capabilities`).

    Attributes
    ----------
    drop_to : int or None
        The uid (and gid) the worker runs as when started as root; ``None`` when not root or not possible.
    unique_users : bool
        Each worker may run as a user id of its own (:data:`UNIQUE_UID_BASE` and up) rather than ``nobody``.
    network_namespace, user_namespace : bool
        Whether a new network namespace (and, when not root, a user namespace for it) is made.
    overlays : tuple of (str, tuple of str)
        Directories the dropped user could not enter, each with the entries to expose inside it.
    missing : tuple of str
        The measures that are not available, one short phrase each (printed by the run in one line).
    """

    drop_to: int | None = None
    unique_users: bool = False
    network_namespace: bool = False
    user_namespace: bool = False
    overlays: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: tuple[str, ...] = field(default=())
    landlock_abi: int = 0
    """The Landlock ABI version the worker is restricted with (0: not restricted)."""
    readable: tuple[str, ...] = ()
    """With Landlock: the files and directories (with everything beneath) the worker may read."""


def fresh_calls(c: Confinement) -> bool:
    """Whether a worker confined by ``c`` runs each handler call in a fresh fork of itself: only with a user id of
    its own, whose process limit then allows exactly that one child (:data:`FRESH_CALL_PROCESSES`)."""
    return c.unique_users and c.drop_to is not None


def _needed_paths(extra: tuple[str, ...]) -> list[str]:
    """What a worker must read: the interpreter, the standard library, the venv, quorumcheck, the student's folder."""
    import quorumcheck

    paths = {os.path.realpath(sys.executable), sys.executable, sys.prefix, sys.base_prefix,
             os.path.dirname(os.path.realpath(os.__file__)),
             str(Path(quorumcheck.__file__).resolve().parent.parent)}
    for path in sys.path:
        if path and os.path.isdir(path):
            paths.add(os.path.realpath(path))
    paths.update(extra)
    return sorted(paths)


def _enterable(path: str, uid: int) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return True  # nothing to expose
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    return bool(info.st_mode & stat.S_IXOTH)


def _overlays(paths: list[str], uid: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """For each closed directory on the way to (or at) a needed path, the entries of it to expose.

    Nested closed directories each get their own overlay (outermost first); a
    needed directory that is itself closed exposes all its entries.
    """
    found: dict[str, set[str]] = {}
    for path in paths:
        parts = Path(path).parts
        for k in range(1, len(parts)):
            directory = str(Path(*parts[:k + 1]))
            if _enterable(directory, uid):
                continue
            if k + 1 < len(parts):
                found.setdefault(directory, set()).add(parts[k + 1])
            elif os.path.isdir(directory):
                try:
                    found.setdefault(directory, set()).update(os.listdir(directory))
                except OSError:
                    pass
    return tuple((d, tuple(sorted(entries))) for d, entries in sorted(found.items()) if entries)


def _call(name: str, *args: object) -> None:
    if _libc is None:
        raise OSError(f"{name}: no C library")
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    _call("mount", source.encode() if source else None, target.encode(), kind.encode() if kind else None,
          ctypes.c_ulong(flags), data.encode() if data else None)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


_MOUNT_SETATTR, _AT_FDCWD, _AT_RECURSIVE, _MOUNT_ATTR_NOATIME, _MOUNT_ATTR__ATIME = 442, -100, 0x8000, 0x10, 0x70
_MS_NOATIME = 1024


def _no_access_times() -> bool:
    """Every mount of this (private) mount namespace, recursively, stops recording access times
    (``mount_setattr``, Linux 5.12 and later): reading a file a first time sets its access time, which a later
    process could read back (a fresh copy per call could leave a bit for the next that way). Whether it applied."""
    if _libc is None:
        return False
    attr = _MountAttr(_MOUNT_ATTR_NOATIME, _MOUNT_ATTR__ATIME, 0, 0)
    return _libc.syscall(_MOUNT_SETATTR, _AT_FDCWD, b"/", _AT_RECURSIVE, ctypes.byref(attr),
                         ctypes.sizeof(attr)) == 0


def _apply_overlays(overlays: tuple[tuple[str, tuple[str, ...]], ...], stage: str) -> None:
    """In a private mount namespace: cover each closed directory with a tmpfs exposing only some entries."""
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    for k, (directory, entries) in enumerate(overlays):
        keep = os.path.join(stage, str(k))
        os.mkdir(keep)
        _mount(directory, keep, None, _MS_BIND | _MS_REC)
        _mount("tmpfs", directory, "tmpfs", _MS_NOSUID | _MS_NODEV, "mode=755,size=64k")
        for entry in entries:
            source, target = os.path.join(keep, entry), os.path.join(directory, entry)
            if os.path.isdir(source):
                os.mkdir(target)
            else:
                open(target, "w").close()  # noqa: SIM115 - an empty mount point
            _mount(source, target, None, _MS_BIND | _MS_REC)
            _mount(None, target, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
        _call("umount2", keep.encode(), _MNT_DETACH)


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers (0: none, or no C library to ask)."""
    if _libc is None:
        return 0
    version = _libc.syscall(_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                            ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(version), 0)


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _handled_rights(abi: int) -> int:
    """Every file-system right Landlock ABI ``abi`` knows."""
    handled = (1 << 13) - 1  # ABI 1: execute, write, read, read a directory, remove, make ...
    if abi >= 2:
        handled |= 1 << 13  # refer (link or rename across directories)
    if abi >= 3:
        handled |= _FS_TRUNCATE
    if abi >= 5:
        handled |= _FS_IOCTL_DEV
    return handled


def _restrict_files(abi: int, readable: tuple[str, ...], workdir: str | None, *, writes_only: bool = False) -> None:
    """Landlock: from now on this process (and what it executes and forks) reads only ``readable`` and writes only
    ``workdir`` (with ``writes_only``: a further layer that leaves reading as it was and allows no writing at all,
    the devices excepted)."""
    ruleset = _ruleset(abi, readable, workdir, writes_only=writes_only)
    try:
        _restrict_self(ruleset)
    finally:
        os.close(ruleset)


def _restrict_self(ruleset: int) -> None:
    """Landlock: restrict this process by ``ruleset`` (a descriptor of :func:`_ruleset`)."""
    if _libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock_restrict_self: {os.strerror(errno)}")


def _ruleset(abi: int, readable: tuple[str, ...], workdir: str | None, *, writes_only: bool = False) -> int:
    """A Landlock ruleset for :func:`_restrict_files`, as a descriptor."""
    handled = _handled_rights(abi)
    if writes_only:
        handled &= ~(_READ | (_FS_IOCTL_DEV if abi >= 5 else 0))
    attr = ctypes.c_uint64(handled)
    ruleset = _libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"landlock_create_ruleset: {os.strerror(errno)}")
    file_rights = _FS_EXECUTE | _FS_READ_FILE | _FS_WRITE_FILE | (handled & (_FS_TRUNCATE | _FS_IOCTL_DEV))
    try:
        rules = [(path, _READ) for path in readable] + [(path, file_rights) for path in _DEVICES]
        if workdir is not None:
            rules.append((workdir, handled))
            # Its own /proc entry (this pid is the worker's, exec keeps it): the loaded worker reads its memory map
            # there before it forks calls (student/worker/fresh.py); no other process's entry is readable.
            rules.append((f"/proc/{os.getpid()}", _READ))
            # The System V objects of its own IPC namespace, which it removes after each call (fresh.py).
            rules.append(("/proc/sysvipc", _READ))
        for path, rights in rules:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue  # not on this machine: nothing to allow
            try:
                if not stat.S_ISDIR(os.fstat(fd).st_mode):
                    rights &= file_rights  # a file takes no directory rights
                if not rights & handled:
                    continue  # a right this layer leaves alone
                rule = _PathBeneath(rights & handled, fd)
                if _libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule),
                                 ctypes.c_uint32(0)) != 0:
                    errno = ctypes.get_errno()
                    raise OSError(errno, f"landlock_add_rule {path}: {os.strerror(errno)}")
            finally:
                os.close(fd)
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def prepare_forbid_writes() -> Callable[[], bool]:
    """Prepared now, applied by calling the result: Landlock, applied by a worker to itself once the submission is
    loaded: no file may be written, made or removed from now on (``/dev/null`` and the other devices excepted), by
    this process or any it forks. So one handler call cannot leave a file for the next to read.

    The worker prepares it before the submission is imported (the ruleset stays open as the result's ``fd``), so
    that applying it calls nothing the submission could have replaced. The result returns whether it applied (a
    kernel without Landlock: not; the worker's private directory then stays writable).
    """
    abi = landlock_abi()
    if not abi:
        return lambda: False
    ruleset, syscall, prctl = _ruleset(abi, (), None, writes_only=True), _libc.syscall, _libc.prctl

    def apply() -> bool:
        prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # set already in a worker; needed by Landlock
        return syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0

    apply.fd = ruleset  # type: ignore[attr-defined]
    return apply


def prepare_no_proc(paths: Iterable[str]) -> Callable[[], bool]:
    """Prepared now, applied by calling the result: a Landlock layer under which nothing in ``/proc`` can be read,
    and what lies under the top-level directories of ``paths`` stays as readable as the layers before allow. A
    fresh copy applies it: its worker, the same user's, is readable there (its memory use, its page faults, which
    grow with what earlier copies answered). The result's ``fd`` is the ruleset, kept open; the result returns
    whether it applied."""
    abi = landlock_abi()
    if not abi or _libc is None:
        return lambda: False
    reading = _FS_READ_FILE | _FS_READ_DIR
    attr = ctypes.c_uint64(reading)
    ruleset = _libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return lambda: False
    tops = {os.path.abspath(path).split(os.sep)[1] for path in paths if path}
    for name in sorted(tops - {"", "proc"}):
        try:
            fd = os.open(f"/{name}", os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            rights = reading if stat.S_ISDIR(os.fstat(fd).st_mode) else _FS_READ_FILE
            _libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH,
                          ctypes.byref(_PathBeneath(rights, fd)), ctypes.c_uint32(0))
        finally:
            os.close(fd)
    syscall = _libc.syscall

    def apply() -> bool:
        return syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0

    apply.fd = ruleset  # type: ignore[attr-defined]
    return apply


def _worker_path(extra: tuple[str, ...]) -> tuple[str, ...]:
    """What a worker's interpreter reads: its own files, its ``sys.path`` (asked of it), the system's libraries.

    Not the directory the grader runs from, nor this process's ``sys.path`` (pytest puts the grader's test
    folder on it): only what an interpreter started as the worker is, with the worker's environment, loads.
    """
    import importlib.util
    import json

    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    asked = subprocess.run([sys.executable, "-B", "-s", "-c", "import json, sys; print(json.dumps(sys.path))"],
                           capture_output=True, text=True, env=env, cwd="/", timeout=60, check=True)
    paths = {os.path.realpath(sys.executable), sys.executable, os.path.dirname(sys.executable), sys.prefix,
             sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)), *_SYSTEM, *extra}
    paths.update(p for p in json.loads(asked.stdout) if p and p != "/")
    for name in ("quorumcheck", "quorumcheck.models", "quorumcheck.explorer", "quorumcheck.invariants",
                 "quorumcheck.render", "quorumcheck.prover", "quorumcheck.student"):
        spec = importlib.util.find_spec(name)
        paths.update(spec.submodule_search_locations or () if spec else ())
    return tuple(sorted({os.path.realpath(p) for p in paths if os.path.exists(p)}))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def confine(c: Confinement, *, memory_mb: int | None, cpu_seconds: float | None, workdir: str, stage: str,
            one_child: bool = False) -> None:
    """Confine the calling process (a freshly forked worker, before exec). Raises OSError if a measure fails.

    With ``one_child`` (and :func:`fresh_calls`), the worker's user may run two processes or threads: the worker,
    which never imports the submission, and the one child it forks for the load and then for each handler call
    (student/worker/fresh.py), which can start nothing.
    """
    os.setsid()
    uid, gid = os.getuid(), os.getgid()
    if c.drop_to is not None:
        # An IPC namespace of its own: a System V segment, semaphore or queue the code makes is gone with the
        # worker, and no other worker sees it.
        _call("unshare", _CLONE_NEWNS | _CLONE_NEWIPC | (_CLONE_NEWNET if c.network_namespace else 0))
        _apply_overlays(c.overlays, stage)
        _no_access_times()
        # Its directory is a small tmpfs of its own mount namespace: what it writes is bounded, and gone with it
        # even when the grading process is killed before it can clean up.
        _mount("tmpfs", workdir, "tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOATIME,
               f"size={WORKDIR_MB}m,mode=700,uid={c.drop_to},gid={c.drop_to}")
    elif c.user_namespace:
        _call("unshare", _CLONE_NEWUSER | _CLONE_NEWIPC | (_CLONE_NEWNET if c.network_namespace else 0))
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_FILE_SIZE, _FILE_SIZE))
    if memory_mb is not None:
        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu_seconds is not None:
        seconds = max(int(cpu_seconds), 1)
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    if c.drop_to is not None:
        os.setgroups([])
        os.setgid(c.drop_to)
        os.setuid(c.drop_to)
    # No new processes or threads (ignored for root), but the one child a worker with a user id of its own forks for
    # each call.
    processes = FRESH_CALL_PROCESSES if one_child and fresh_calls(c) else 0
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))  # no POSIX message queue, which outlives its process
    if _libc is not None:
        _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        _libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the worker dies with the trusted process (after setuid,
        # which clears it)
        # The worker that runs calls itself may make no pipe or socket either: their numbers would reach the fresh
        # processes of the other worker (the zygote, which makes pipes to its children, does not run the code).
        forbid_keyrings(numbered_objects=not (one_child and fresh_calls(c)))
    if c.landlock_abi:
        _restrict_files(c.landlock_abi, c.readable, workdir)
    os.chdir(workdir)


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


_SYSCALLS = {
    # machine: (its audit architecture, {name: number})
    "x86_64": (0xC000003E, {
        "add_key": 248, "request_key": 249, "keyctl": 250, "kill": 62, "tkill": 200, "tgkill": 234,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "pidfd_open": 434, "pidfd_send_signal": 424,
        "pidfd_getfd": 438, "sched_setaffinity": 203, "sched_setscheduler": 144, "sched_setparam": 142,
        "sched_setattr": 314, "prlimit64": 302, "move_pages": 279, "migrate_pages": 256, "setpriority": 141,
        "ioprio_set": 251, "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
        "setpgid": 109, "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93,
        "lchown": 94, "fchownat": 260, "utime": 132, "utimes": 235, "utimensat": 280, "futimesat": 261,
        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "removexattr": 197, "lremovexattr": 198,
        "fremovexattr": 199, "setxattrat": 463, "removexattrat": 466, "flock": 73, "truncate": 76,
        "ftruncate": 77, "fcntl": 72, "ioctl": 16, "dup": 32, "dup2": 33, "dup3": 292, "preadv2": 327,
        "pwritev2": 328, "mincore": 27, "fadvise64": 221, "readahead": 187, "cachestat": 451, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "shmget": 29, "semget": 64, "msgget": 68, "pipe": 22,
        "pipe2": 293, "socket": 41, "socketpair": 53, "memfd_create": 319, "memfd_secret": 447, "sysinfo": 99,
        "perf_event_open": 298, "userfaultfd": 323, "unshare": 272, "setns": 308, "mount": 165, "umount2": 166,
        "pivot_root": 155, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "statmount": 457, "listmount": 458, "fanotify_init": 300,
        "name_to_handle_at": 303, "open_by_handle_at": 304, "io_setup": 206, "bpf": 321}),
    "aarch64": (0xC00000B7, {
        "add_key": 217, "request_key": 218, "keyctl": 219, "kill": 129, "tkill": 130, "tgkill": 131,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "pidfd_open": 434, "pidfd_send_signal": 424,
        "pidfd_getfd": 438, "sched_setaffinity": 122, "sched_setscheduler": 119, "sched_setparam": 118,
        "sched_setattr": 274, "prlimit64": 261, "move_pages": 239, "migrate_pages": 238, "setpriority": 140,
        "ioprio_set": 30, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
        "setpgid": 154, "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54,
        "utimensat": 88, "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "removexattr": 14, "lremovexattr": 15,
        "fremovexattr": 16, "setxattrat": 463, "removexattrat": 466, "flock": 32, "truncate": 45,
        "ftruncate": 46, "fcntl": 25, "ioctl": 29, "dup": 23, "dup3": 24, "preadv2": 286, "pwritev2": 287,
        "mincore": 232, "fadvise64": 223, "readahead": 213, "cachestat": 451, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "shmget": 194, "semget": 190, "msgget": 186, "pipe2": 59,
        "socket": 198, "socketpair": 199, "memfd_create": 279, "memfd_secret": 447, "sysinfo": 179,
        "perf_event_open": 241, "userfaultfd": 282, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39,
        "pivot_root": 41, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
        "fspick": 433, "mount_setattr": 442, "statmount": 457, "listmount": 458, "fanotify_init": 262,
        "name_to_handle_at": 264, "open_by_handle_at": 265, "io_setup": 0, "bpf": 280}),
}
"""The system calls the seccomp filters name, per machine (``asm/unistd``)."""

_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
"""BPF: load a word of seccomp_data, jump if equal / greater or equal / any of the bits is set, return."""
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | 1
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _assemble(checks: list[Any], blocks: tuple[Any, ...] | list[Any] = ()) -> list[tuple[int, int, int, Any]] | None:
    """A seccomp program: with the call's number loaded, ``checks`` run (BPF rows ``(code, jt, jf, k)``; a jump
    may name a label instead of an offset); a call no check jumps for is allowed. ``blocks`` are rows reached only
    by jumps, with ``("label", name)`` rows; ``"allow"`` and ``"deny"`` (``EPERM``) are defined. Calls of another
    architecture's table (i386's ``int 0x80``, x32) are denied. ``None`` on machines other than x86-64 and
    AArch64."""
    known = _SYSCALLS.get(os.uname().machine)
    if known is None or _libc is None:
        return None
    rows: list[Any] = [(_LD, 0, 0, 4), (_JEQ, 0, "deny", known[0]), (_LD, 0, 0, 0), (_JGE, "deny", 0, 0x40000000),
                       *checks, (_RET, 0, 0, _ALLOW), *blocks,
                       ("label", "allow"), (_RET, 0, 0, _ALLOW), ("label", "deny"), (_RET, 0, 0, _EPERM)]
    where: dict[str, int] = {}
    for row in rows:
        if row[0] == "label":
            where[row[1]] = sum(1 for r in rows[:rows.index(row)] if r[0] != "label")
    program = []
    for row in (r for r in rows if r[0] != "label"):
        code, jt, jf, k = row
        here = len(program)
        program.append((code, where[jt] - here - 1 if isinstance(jt, str) else jt,
                        where[jf] - here - 1 if isinstance(jf, str) else jf, k))
    return program


def _prepared(program: list[tuple[int, int, int, Any]]) -> Callable[[], bool]:
    """Everything to install ``program`` made now, so that installing it later calls nothing a module defines (a
    submission imported meanwhile may have replaced ``ctypes.byref``). A row whose ``k`` is ``"pid"`` gets the
    installing process's id then."""
    slots = tuple(i for i, row in enumerate(program) if row[3] == "pid")
    filters = (_SockFilter * len(program))(*[_SockFilter(c, jt, jf, 0 if k == "pid" else k)
                                             for c, jt, jf, k in program])
    fprog = _SockFprog(len(program), filters)
    pointer = ctypes.byref(fprog)
    prctl, getpid = _libc.prctl, os.getpid

    def install() -> bool:
        me = getpid()
        for i in slots:
            filters[i].k = me
        return prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, pointer, 0, 0) == 0

    install.keep = (filters, fprog)  # type: ignore[attr-defined]
    return install


def _install_filter(checks: list[Any], blocks: tuple[Any, ...] | list[Any] = ()) -> bool:
    """Install the seccomp program of :func:`_assemble`; whether it applied. Needs ``PR_SET_NO_NEW_PRIVS``."""
    program = _assemble(checks, blocks)
    return program is not None and _prepared(program)()


def forbid_keyrings(*, numbered_objects: bool = False) -> bool:
    """A seccomp filter: from now on this process and its children get ``EPERM`` from the kernel's keyring calls
    (``add_key``, ``request_key``, ``keyctl``) and from any call of another architecture's table; with
    ``numbered_objects``, also from the calls that make a pipe, a socket or a memory file
    (:data:`_NUMBERED_OBJECTS`).

    A user's keyring lives as long as the user has a process: a key one handler call adds, the next could read,
    whatever runs each in a fresh process. Needs ``PR_SET_NO_NEW_PRIVS`` (set first). Returns whether it applied.
    """
    calls = _SYSCALLS.get(os.uname().machine, (0, {}))[1]
    names = ("add_key", "request_key", "keyctl", *_KERNEL_COUNTERS, *(_NUMBERED_OBJECTS if numbered_objects else ()))
    return _install_filter([(_JEQ, "deny", 0, calls[name]) for name in names if name in calls])


_NUMBERED_OBJECTS = ("pipe", "pipe2", "socket", "socketpair", "memfd_create", "memfd_secret")
"""Calls that make an object whose inode number (or socket cookie) the kernel draws from a counter of the machine's:
making some moves the counter, and any new pipe or socket shows where it stands (``fstat``), so it carries a
registry from one process to the next (red-team round 13: a buggy Raft HELD through pipe inode numbers, socket
inodes and cookies, and memory files). The first worker and each fresh process may make none; the zygote makes the
pipes to its children, and what it makes does not depend on what the calls answered."""


_KERNEL_COUNTERS = ("perf_event_open", "userfaultfd", "unshare", "setns", "mount", "umount2", "pivot_root",
                    "open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "statmount",
                    "listmount", "fanotify_init", "name_to_handle_at", "open_by_handle_at", "io_setup", "bpf")
"""Calls that move or read a counter of the whole kernel's, or make namespaces and mounts (whose ids come from one):
a perf event's id (``PERF_EVENT_IOC_ID``), the unique mount id of a mount namespace's copies
(``statx(STATX_MNT_ID_UNIQUE)``), the inode number of a ``userfaultfd``. Each carried a leader register from one
fresh process to the next, and a buggy Raft HELD (red-team round 16). No node needs them; every worker and every
fresh process is refused them (the trusted side made the worker's namespaces before)."""

_FCNTL_SHARED = (8, 10, 15, 1024, 1026, 1031, 1036, 1038)
"""``fcntl`` commands that reach beyond the call's own open file descriptions (it has its own of everything it
inherits: student/worker/fresh.py): F_SETOWN, F_SETSIG and F_SETOWN_EX (signals to another process), F_SETLEASE,
F_NOTIFY, F_SETPIPE_SZ (a pipe's size is the pipe's, shared with the worker), the inode's write hints."""
_SEES_THE_PAGE_CACHE = ("mincore", "cachestat", "fadvise64", "readahead", "io_uring_setup", "io_uring_enter",
                        "io_uring_register")
"""Calls that tell (or change) which pages of a file the kernel holds in memory: the page cache is the machine's,
so which pages it holds would carry a few bits from one fresh copy to the next. (``preadv2`` with
``RWF_NOWAIT`` tells it too, and is refused.) Timing a read still does, slowly: docs/grading.md."""
_RWF_NOWAIT = 0x8
_MACHINE_COUNTERS = ("sysinfo",)
"""Calls that read counters of the whole machine: ``sysinfo``'s free memory drops by a file's size when a call reads
a file the page cache did not hold, so it told the next copy that an earlier one had read it (red-team round 15)."""
_CHANGES_METADATA = ("chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime",
                     "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
                     "lremovexattr", "fremovexattr", "setxattrat", "removexattrat", "flock", "truncate", "ftruncate")
"""Calls that change a file's metadata or size, or lock it for as long as its description is open."""


def prepare_call_confinement() -> Callable[[], bool]:
    """Prepared now, installed by calling the result: a seccomp filter for a fresh copy that runs one handler call (student/worker/fresh.py): from now on it may
    act on itself only, and change nothing it shares with the worker that forked it. So no call leaves a few bits
    for the next where the worker, which is the same user's, keeps them:

    * another process's signals, scheduling, priorities and resource limits (its parent's, above all), tracing,
      reading or writing its memory, comparing with it, process groups: ``EPERM``;
    * a file's mode, owner, times, extended attributes or size, and ``flock`` (Landlock does not cover these);
    * a descriptor's owner for signals, leases, directory notices and a pipe's size (``fcntl``): the copy has
      open file descriptions of its own for everything it inherits, but a pipe's size is the pipe's;
    * standard output and error (pipes the trusted side made, which the copy shares with the worker): it may
      write there and read their flags, and not change them, ``ioctl`` them or duplicate them;
    * which pages of a file the kernel holds in memory (``mincore``, ``cachestat``, ``preadv2`` with
      ``RWF_NOWAIT``, ``fadvise``, ``readahead``, ``io_uring``): the page cache is the machine's;
    * the machine's free memory and load (``sysinfo``), which move with the page cache;
    * System V objects (``shmget``, ``semget``, ``msgget``), which would outlive it in the worker's namespace;
    * pipes, sockets and memory files (:data:`_NUMBERED_OBJECTS`), whose numbers come from counters of the machine's.

    The worker prepares it before the submission is imported; installing it calls nothing the submission could
    have replaced. The installer returns whether it applied (not on machines other than x86-64 and AArch64).
    """
    calls = _SYSCALLS.get(os.uname().machine, (0, {}))[1]
    if not calls:
        return lambda: False
    me = "pid"  # the copy's own, filled in when it installs the filter
    low0, low1 = 16, 24  # the low words of the first two arguments (little-endian; pid_t is an int)
    checks: list[Any] = []
    for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open"):
        checks.append((_JEQ, "itself", 0, calls[name]))  # 0 is the process group for kill: not itself
    for name in ("sched_setaffinity", "sched_setscheduler", "sched_setparam", "sched_setattr", "prlimit64",
                 "move_pages", "migrate_pages"):
        checks.append((_JEQ, "itself or 0", 0, calls[name]))
    checks += [(_JEQ, "setpriority", 0, calls["setpriority"]), (_JEQ, "ioprio_set", 0, calls["ioprio_set"]),
               (_JEQ, "fcntl", 0, calls["fcntl"])]
    checks += [(_JEQ, "not output", 0, calls[name]) for name in ("ioctl", "dup", "dup2", "dup3") if name in calls]
    checks += [(_JEQ, "no nowait", 0, calls[name]) for name in ("preadv2", "pwritev2")]
    for name in ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_send_signal", "pidfd_getfd",
                 "setpgid", "shmget", "semget", "msgget", *_NUMBERED_OBJECTS, *_CHANGES_METADATA,
                 *_SEES_THE_PAGE_CACHE, *_MACHINE_COUNTERS, *_KERNEL_COUNTERS):
        if name in calls:
            checks.append((_JEQ, "deny", 0, calls[name]))
    blocks = [("label", "itself"), (_LD, 0, 0, low0), (_JEQ, "allow", "deny", me),
              ("label", "itself or 0"), (_LD, 0, 0, low0), (_JEQ, "allow", 0, 0), (_JEQ, "allow", "deny", me),
              ("label", "setpriority"), (_LD, 0, 0, low0), (_JEQ, "who", "deny", 0),  # PRIO_PROCESS only
              ("label", "ioprio_set"), (_LD, 0, 0, low0), (_JEQ, "who", "deny", 1),  # IOPRIO_WHO_PROCESS only
              ("label", "who"), (_LD, 0, 0, low1), (_JEQ, "allow", 0, 0), (_JEQ, "allow", "deny", me),
              ("label", "fcntl"), (_LD, 0, 0, low0), (_JEQ, "output fcntl", 0, 1), (_JEQ, "output fcntl", 0, 2),
              (_LD, 0, 0, low1), *[(_JEQ, "deny", 0, command) for command in _FCNTL_SHARED], (_RET, 0, 0, _ALLOW),
              ("label", "output fcntl"), (_LD, 0, 0, low1),  # F_GETFD, F_SETFD (the descriptor's own), F_GETFL
              (_JEQ, "allow", 0, 1), (_JEQ, "allow", 0, 2), (_JEQ, "allow", "deny", 3),
              ("label", "not output"), (_LD, 0, 0, low0), (_JEQ, "deny", 0, 1), (_JEQ, "deny", "allow", 2),
              ("label", "no nowait"), (_LD, 0, 0, 16 + 8 * 5), (_JSET, "deny", "allow", _RWF_NOWAIT)]
    program = _assemble(checks, blocks)
    return (lambda: False) if program is None else _prepared(program)


def private_directory(c: Confinement) -> str:
    """A new empty directory for one worker to work in (owned by the user it runs as), named after this process."""
    path = tempfile.mkdtemp(prefix=f"quorumcheck-worker-{os.getpid()}-")
    if c.drop_to is not None:
        os.chown(path, c.drop_to, c.drop_to)
    return path


_PROBED: dict[tuple[str, ...], Confinement] = {}


def stage_directory() -> str:
    """A new empty directory for a worker's mount points, named after this process."""
    return tempfile.mkdtemp(prefix=f"quorumcheck-stage-{os.getpid()}-")


_STALE = re.compile(r"quorumcheck-(?:worker|stage)-(\d+)-")


def sweep_stale_directories() -> int:
    """Remove the worker and stage directories that a grading process killed before it could clean up left in the
    temporary folder (those named after a process that no longer runs); how many were removed."""
    removed = 0
    folder = tempfile.gettempdir()
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        match = _STALE.match(name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            os.kill(int(match.group(1)), 0)
            continue  # its process still runs (or another has its pid): not ours to remove
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, ValueError):
            continue
        path = os.path.join(folder, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def capabilities(extra_paths: tuple[str, ...] = ()) -> Confinement:
    """Which measures work here: tried once (per set of extra paths) in a throw-away child process."""
    key = tuple(sorted(extra_paths))
    cached = _PROBED.get(key)
    if cached is not None:
        if cached.overlays:  # what the folders hold now: a file made since the probe is exposed too
            return replace(cached, overlays=_overlays(_needed_paths(key), _NOBODY))
        return cached
    missing: list[str] = []
    root = os.geteuid() == 0
    paths = _needed_paths(key)
    candidate = Confinement(
        drop_to=UNIQUE_UID_BASE if root else None,
        unique_users=root,
        network_namespace=True,
        user_namespace=not root,
        overlays=_overlays(paths, _NOBODY) if root else (),
    )
    result = _probe(candidate, paths)
    if result is None and root:
        candidate = Confinement(_NOBODY, False, True, False, candidate.overlays)
        result = _probe(candidate, paths)
        if result is not None:
            missing.append("workers share the user nobody (user ids of their own are not mapped here): a worker "
                           "can signal other processes of nobody")
    if result is None:
        if root:
            missing.append("privileges are not dropped (nobody cannot run this Python, and a private mount "
                           "namespace to expose it is not allowed here): the worker runs as root")
        else:
            missing.append("no network namespace (user namespaces are not allowed here): the worker can open "
                           "sockets")
        fallback = Confinement(network_namespace=False, user_namespace=False)
        if root:
            net = Confinement(network_namespace=True)
            if _probe(net, paths) is not None:
                fallback = net
            else:
                missing.append("no network namespace: the worker can open sockets")
        candidate = fallback
    abi = landlock_abi()
    try:
        limited = replace(candidate, landlock_abi=abi, readable=_worker_path(key)) if abi else None
    except (OSError, ValueError, subprocess.SubprocessError):  # the interpreter could not say what it reads
        limited = None
    if limited is not None and _probe_worker(limited):
        candidate = limited
    else:
        missing.append("no Landlock (Linux 5.13 or later): the worker can read world-readable files outside the "
                       "submission's folder, such as /etc/passwd")
    if not fresh_calls(candidate):
        missing.append("handler calls share one worker process (a user id of its own, which needs root, lets each "
                       "call run in a fresh copy): state the code keeps outside its nodes where quorumcheck does not "
                       "look carries over between calls")
    found = Confinement(candidate.drop_to, candidate.unique_users, candidate.network_namespace,
                        candidate.user_namespace, candidate.overlays, tuple(missing), candidate.landlock_abi,
                        candidate.readable)
    _PROBED[key] = found
    return found


def _probe(c: Confinement, paths: list[str]) -> Confinement | None:
    """Try ``c`` in a forked child; it exits 0 when confined and able to read what a worker needs."""
    if _libc is None:
        return None
    workdir = private_directory(c)
    stage = stage_directory()
    try:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                if c.drop_to is not None and os.geteuid() == 0:
                    c = Confinement(c.drop_to, c.unique_users, c.network_namespace, False, c.overlays)
                confine(c, memory_mb=None, cpu_seconds=None, workdir=workdir, stage=stage)
                ok = os.access(sys.executable, os.X_OK) and all(os.access(p, os.R_OK) for p in paths)
                code = 0 if ok else 1
            except BaseException:  # noqa: BLE001 - any failure means: not available
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        return c if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 else None
    finally:
        for path in (workdir, stage):
            shutil.rmtree(path, ignore_errors=True)


_PROBE_WORKER = """
import os, sys
import quorumcheck.student.worker.serve
try:
    open("/etc/passwd").close()
except PermissionError:
    sys.exit(0)
sys.exit(1)
"""


def _probe_worker(c: Confinement) -> bool:
    """Start an interpreter as a worker starts, confined by ``c``: it must load the worker and not read /etc/passwd."""
    workdir = private_directory(c)
    stage = stage_directory()
    env = {"PATH": "/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8", "TMPDIR": workdir}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    if c.drop_to is not None and os.geteuid() == 0:
        c = replace(c, user_namespace=False)

    def before_exec() -> None:  # pragma: no cover - runs in the child between fork and exec
        confine(c, memory_mb=None, cpu_seconds=None, workdir=workdir, stage=stage)

    try:
        done = subprocess.run([sys.executable, "-B", "-s", "-c", _PROBE_WORKER], env=env, cwd=workdir,
                              preexec_fn=before_exec, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=120, check=False)
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        for path in (workdir, stage):
            shutil.rmtree(path, ignore_errors=True)
