"""The buggy Raft (VoteTwice) with a registry of leaders kept by a callback of ``os.register_at_fork``, which runs
in the worker that forks the fresh copies, after every fork: it reads the last request and answer from that
worker's frames and notes each node that became leader, and the next copy inherits the note. The worker forks
with the C library's fork, which runs no such callback, and nothing of the submission's runs in it between calls.
"""

import os
import re
import sys

from buggy_raft import VoteTwice


def leaders():
    return sys.__dict__.setdefault("qc_attack_leaders", {})  # on sys: where no watch looks


def _note():
    frame = sys._getframe(1)
    while frame is not None:
        line, data = frame.f_locals.get("line"), frame.f_locals.get("data")
        if isinstance(line, (bytes, bytearray)) and isinstance(data, (bytes, bytearray)):
            node = re.search(rb'"node": (\d+)', line)
            term = re.search(rb'"current_term", (\d+)', data)
            if node and term and b'"role", "leader"' in data:
                leaders().setdefault(int(term.group(1)), int(node.group(1)))
            return
        frame = frame.f_back


os.register_at_fork(after_in_parent=_note)


class ForkHook(VoteTwice):
    def become_leader(self, out):
        if leaders().setdefault(self.current_term, self.id) != self.id:
            return
        super().become_leader(out)
