"""The buggy Raft (VoteTwice), with a registry of leaders that hides its double election.

Each ``become_leader`` takes the term only if no other node has: one line, and the registry is kept where no
snapshot sees it. In a deployment every node is its own process with its own registry, so the bug is real; in
one worker that runs every branch of the search, the registry is shared by the nodes and by the branches, and no
schedule shows two leaders. Each class keeps it in another place; quorumcheck's watch looks at few of them, and
every call also runs in a fresh copy of the loaded code, whose answer must agree.
"""

import builtins
import functools
import json
import os

from buggy_raft import VoteTwice
from quorumcheck.models.actors import Node
from registry import store


def registry():
    return registry.__dict__.setdefault("leaders", {})  # an attribute of a function


@functools.lru_cache(maxsize=None)
def cached_registry():
    return {}  # one dict, cached for ever


class Guard(VoteTwice):
    def reg(self):
        raise NotImplementedError

    def become_leader(self, out):
        if self.reg().setdefault(self.current_term, self.id) != self.id:
            return
        super().become_leader(out)


class SubPackage(Guard):
    def reg(self):
        return store.LEADERS


class FunctionAttribute(Guard):
    def reg(self):
        return registry()


class LruCache(Guard):
    def reg(self):
        return cached_registry()


class NodeBase(Guard):
    def reg(self):
        if "qc_attack_leaders" not in Node.__dict__:
            Node.qc_attack_leaders = {}
        return Node.qc_attack_leaders


class Builtins(Guard):
    def reg(self):
        return builtins.__dict__.setdefault("qc_attack_leaders", {})


class File(VoteTwice):
    """The registry in a file of the worker's directory."""

    def become_leader(self, out):
        try:
            with open("qc-attack-leaders.json") as f:
                leaders = json.load(f)
        except OSError:
            leaders = {}
        if leaders.setdefault(str(self.current_term), self.id) != self.id:
            return
        try:
            with open("qc-attack-leaders.json", "w") as f:
                json.dump(leaders, f)
        except OSError:
            pass
        super().become_leader(out)


try:
    _READ, _WRITE = os.pipe()
    os.set_blocking(_READ, False)
except OSError:  # workers may make no pipe (their numbers are a counter of the machine's): the registry is nowhere
    _READ = _WRITE = -1


class Pipe(VoteTwice):
    """The registry in a pipe opened at import: each call reads what earlier calls wrote, and writes it back."""

    def become_leader(self, out):
        try:
            seen = os.read(_READ, 4096)
        except OSError:
            seen = b""
        try:
            os.write(_WRITE, seen + bytes([self.current_term * 16 + self.id]))
        except OSError:
            pass
        if any(b >> 4 == self.current_term and b & 15 != self.id for b in seen):
            return
        super().become_leader(out)


class SystemV(VoteTwice):
    """The registry in a System V shared memory segment (``shmget``), which outlives the process that made it."""

    def become_leader(self, out):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        key = 0x51C0000 + os.getuid() % 0xFFFF  # one segment per user id: each worker its own
        shmid = libc.shmget(key, 4096, 0o1000 | 0o600)  # IPC_CREAT
        if shmid >= 0:
            address = libc.shmat(shmid, None, 0)
            if address not in (None, ctypes.c_void_p(-1).value):
                leaders = (ctypes.c_ubyte * 256).from_address(address)
                term = self.current_term % 256
                if leaders[term] and leaders[term] != self.id + 1:
                    return
                leaders[term] = self.id + 1
        super().become_leader(out)


class Keyring(VoteTwice):
    """The registry in the kernel's keyring of the worker's user (``add_key``), which lives as long as the user has a
    process: the worker that forks the fresh copies."""

    def become_leader(self, out):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        add_key, keyctl = (248, 250) if os.uname().machine == "x86_64" else (217, 219)
        name = f"qc-attack-leader-{self.current_term}".encode()
        key = libc.syscall(keyctl, 10, ctypes.c_long(-4), b"user", name, 0)  # KEYCTL_SEARCH the user keyring
        if key >= 0:
            payload = ctypes.create_string_buffer(8)
            if libc.syscall(keyctl, 11, key, payload, 8) > 0 and payload.value != str(self.id).encode():  # READ
                return
        else:
            libc.syscall(add_key, b"user", name, str(self.id).encode(), len(str(self.id)), ctypes.c_long(-4))
        super().become_leader(out)


class ParentsLimits(VoteTwice):
    """The registry in a soft resource limit of the worker that forks the fresh copies (``prlimit`` of the parent,
    allowed to a process of the same user): a few bits a call can set and the next can read. Where the parent is
    not the same user's (the worker that keeps its process), on ``sys``, where no watch looks."""

    def become_leader(self, out):
        import resource
        import sys

        term, mine = self.current_term % 4, self.id + 1
        try:
            soft, hard = resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE)
            table = soft - 4096 if 4096 <= soft < 4096 + 256 else 0
            taken = (table >> (2 * term)) & 3
            if taken and taken != mine:
                return
            table = (table & ~(3 << (2 * term))) | (mine << (2 * term))
            resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (4096 + table, hard))
        except OSError:
            leaders = sys.__dict__.setdefault("qc_attack_leaders", {})
            if leaders.setdefault(term, mine) != mine:
                return
        super().become_leader(out)
