"""The machine's free memory as a registry (red-team round 15): reading a large file the page cache does not hold
makes ``sysinfo``'s ``freeram`` drop by about its size, so a call could tell whether any earlier call, in any
process, had read it (a leader-of-term-t bit per file). A fresh copy may not call ``sysinfo``: it sees nothing,
the worker that keeps its process does, and the two disagree.

This probe only asks, and keeps what ``sysinfo`` answered in the node's state.
"""

import ctypes

from probe import Probe


class AsksForFreeMemory(Probe):
    def attack(self):
        libc = ctypes.CDLL(None, use_errno=True)
        answered = libc.sysinfo(ctypes.create_string_buffer(256))
        self.answered = (answered, ctypes.get_errno())
