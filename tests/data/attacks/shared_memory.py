"""The leader registry of leader_registry.py in memory mapped shared at import: copies forked from a worker that
had imported the file would all share it (a buggy Raft HELD). Each call's fresh process now imports the file itself,
so the mapping is its own: the first worker's registry differs from the fresh process's (state-outside-node)."""

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
