"""The leader registry of leader_registry.py in memory mapped shared at import: a fresh copy of the loaded code for
each call would share it, so such a file is not loaded."""

import mmap

from buggy_raft import VoteTwice

LEADERS = mmap.mmap(-1, 4096)  # anonymous, and shared with every process forked from this one


class SharedMemory(VoteTwice):
    def become_leader(self, out):
        term = self.current_term
        if LEADERS[term] and LEADERS[term] != self.id + 1:
            return
        LEADERS[term] = self.id + 1
        super().become_leader(out)
