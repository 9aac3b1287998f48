"""The buggy Raft (VoteTwice) with its registry of leaders in the kernel's inode-number counter (red-team round 13).

Every pipe (and socket) gets its inode number from get_next_ino(): a per-CPU counter, handed out in
batches of 1024, so that on one CPU the number's low 10 bits count every pipe and socket made there, by
any process of the machine. A fresh copy pins itself to CPU 0 (sched_setaffinity on itself is allowed),
makes a pipe and reads its st_ino (the position the previous copy left, plus a little drift), and then
makes and closes pipes until the low bits encode the registry it wants the next copy to read. Nothing is
written, no object outlives the copy; only a global counter moved.

The worker that keeps its process (it can read /proc/self, a fresh copy cannot) keeps the same registry on
sys, so both workers agree. Each class HELD (exit 0) before workers and fresh processes were denied the calls that
make pipes, sockets and memory files (student/trusted/sandbox.py, _NUMBERED_OBJECTS).
"""
import os
import socket
import sys

from buggy_raft import VoteTwice

_CPU = 0
_WIDTH = 64  # 16 values in the 1024 positions of a batch; a later read tolerates 63 allocations of drift


def _pipe_ino():
    r, w = os.pipe()
    try:
        return os.fstat(r).st_ino
    finally:
        os.close(r)
        os.close(w)


def _socket_ino():
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        return os.fstat(s.fileno()).st_ino


def _memfd_ino():
    fd = os.memfd_create("qc-attack-numbered")
    try:
        return os.fstat(fd).st_ino
    finally:
        os.close(fd)


def _socket_cookie():
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        return int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 57, 8), "little")  # SO_COOKIE


def _position(counter):
    return counter() & 1023


def _set(counter, value):
    target = (value * _WIDTH) & 1023
    for _ in range(8192):
        if _position(counter) == target:
            return


def _pinned(function, *args):
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {_CPU})
    try:
        return function(*args)
    finally:
        os.sched_setaffinity(0, before)


def _fresh():
    try:
        open("/proc/self/stat").close()
        return False
    except OSError:
        return True


for _counter in (_socket_cookie, _memfd_ino, _pipe_ino):
    try:
        _pinned(_set, _counter, 0)  # at import (both workers): an empty registry
    except OSError:
        pass  # denied: the handlers try again, and their PermissionError is the finding


def _decode(value):
    return {term: (value >> (2 * (term - 1)) & 3) - 1 for term in (1, 2) if value >> (2 * (term - 1)) & 3}


def _encode(leaders):
    return sum((leader + 1) << (2 * (term - 1)) for term, leader in leaders.items() if term in (1, 2))


class InodeCounter(VoteTwice):
    counter = staticmethod(_pipe_ino)

    def _refresh(self):
        """Every call of a fresh copy: read the registry and put it back centred (the drift is only forward)."""
        if _fresh():
            value = ((_pinned(_position, self.counter) - 1) % 1024) // _WIDTH
            _pinned(_set, self.counter, value)
            return value
        return None

    def _leaders(self):
        value = self._refresh()
        if value is None:
            return sys.__dict__.setdefault("qc_attack_numbered_leaders", {}), None
        return _decode(value), value

    def on_start(self, out):
        self._refresh()
        super().on_start(out)

    def on_timer(self, name, out):
        self._refresh()
        super().on_timer(name, out)

    def on_message(self, sender, message, out):
        self._refresh()
        super().on_message(sender, message, out)

    def become_leader(self, out):
        leaders, value = self._leaders()
        if leaders.setdefault(self.current_term, self.id) != self.id:
            return
        if value is not None:
            _pinned(_set, self.counter, _encode(leaders))
        super().become_leader(out)


class Control(InodeCounter):
    """The same, but the fresh copy forgets the counter (always an empty registry): must be caught."""

    def _refresh(self):
        return 0 if _fresh() else None


class SocketInode(InodeCounter):
    """The same counter (get_next_ino), moved and read with sockets."""
    counter = staticmethod(_socket_ino)


class MemfdInode(InodeCounter):
    """Another counter: the inode numbers of the kernel's internal tmpfs (memfd_create, shared anonymous memory)."""
    counter = staticmethod(_memfd_ino)


class SocketCookie(InodeCounter):
    """Another counter: socket cookies (getsockopt SO_COOKIE), numbered per CPU in batches (low bits per CPU)."""
    counter = staticmethod(_socket_cookie)
