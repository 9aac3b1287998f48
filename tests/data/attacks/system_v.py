"""A System V message queue made at import (``msgget``), which copies forked from a worker that had imported the
file would share. Each call's fresh process now imports the file itself, and may make no System V object (seccomp):
``msgget`` fails there, and the buggy Raft's genuine violation is found."""

import ctypes

from buggy_raft import VoteTwice

QUEUE = ctypes.CDLL(None).msgget(0x51C0A78, 0o1000 | 0o600)  # IPC_CREAT


class SystemVQueue(VoteTwice):
    pass
