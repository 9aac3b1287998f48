"""The pipe registry of leader_registry.py on descriptors just under the hard limit, with the soft limit then
lowered at import: a scan of the descriptors up to the soft limit missed them, and the pipe passed the registry
between fresh copies (a buggy Raft HELD)."""

import os
import resource

from buggy_raft import VoteTwice

_r, _w = os.pipe()
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
READ, WRITE = _hard - 2, _hard - 1
os.dup2(_r, READ)
os.dup2(_w, WRITE)
os.close(_r)
os.close(_w)
os.set_blocking(READ, False)
resource.setrlimit(resource.RLIMIT_NOFILE, (64, _hard))


class HighDescriptors(VoteTwice):
    def become_leader(self, out):
        try:
            seen = os.read(READ, 4096)
        except OSError:
            seen = b""
        try:
            os.write(WRITE, seen + bytes([self.current_term * 16 + self.id]))
        except OSError:
            pass
        if any(b >> 4 == self.current_term and b & 15 != self.id for b in seen):
            return
        super().become_leader(out)
