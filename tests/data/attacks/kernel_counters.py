"""The buggy Raft (VoteTwice) reaching for counters of the whole kernel (red-team round 16).

Each of these moves a 64-bit counter that every process shares, and reads where it stands: the id of a new perf
event (``perf_event_open``, then ``PERF_EVENT_IOC_ID``), the inode number of a ``userfaultfd`` (``get_next_ino()``,
as round 13's pipes), and the unique id of each mount a new mount namespace copies (``unshare``, then
``statx(STATX_MNT_ID_UNIQUE)``). A fresh copy moved one to leave a registry of leaders for the next, and the
buggy Raft HELD (attack files: /tmp/rt16 of that round; the registry logic is round 13's, in numbered_objects.py).
Here each class only makes the first call: it must be refused, in every worker and every fresh copy.
"""
import ctypes
import os
import struct

from buggy_raft import VoteTwice

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_NUMBERS = {"x86_64": {"perf_event_open": 298, "userfaultfd": 323, "unshare": 272},
            "aarch64": {"perf_event_open": 241, "userfaultfd": 282, "unshare": 97}}[os.uname().machine]


def _syscall(name, *args):
    result = _libc.syscall(ctypes.c_long(_NUMBERS[name]), *args)
    if result < 0:
        raise PermissionError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


class PerfEventId(VoteTwice):
    def on_start(self, out):
        attr = bytearray(128)
        struct.pack_into("IIQ", attr, 0, 1, 128, 9)  # PERF_TYPE_SOFTWARE, its size, PERF_COUNT_SW_DUMMY
        struct.pack_into("Q", attr, 40, (1 << 0) | (1 << 5) | (1 << 6))  # disabled, exclude_kernel, exclude_hv
        buffer = (ctypes.c_char * 128).from_buffer(attr)
        os.close(_syscall("perf_event_open", buffer, ctypes.c_long(0), ctypes.c_long(-1), ctypes.c_long(-1),
                          ctypes.c_long(0)))
        super().on_start(out)


class UserfaultfdInode(VoteTwice):
    def on_start(self, out):
        os.close(_syscall("userfaultfd", ctypes.c_long(1)))  # UFFD_USER_MODE_ONLY
        super().on_start(out)


class MountNamespace(VoteTwice):
    def on_start(self, out):
        _syscall("unshare", ctypes.c_long(0x10000000))  # CLONE_NEWUSER: then CLONE_NEWNS copies every mount
        super().on_start(out)
