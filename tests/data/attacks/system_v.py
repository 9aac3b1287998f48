"""The leader registry of leader_registry.py in a System V message queue made at import (``msgget``): it is not
a mapping, and a fresh copy of the loaded code for each call would share it, so such a file is not loaded."""

import ctypes

from buggy_raft import VoteTwice

QUEUE = ctypes.CDLL(None).msgget(0x51C0A78, 0o1000 | 0o600)  # IPC_CREAT


class SystemVQueue(VoteTwice):
    pass
