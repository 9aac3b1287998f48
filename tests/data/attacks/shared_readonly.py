"""Memory mapped shared but read-only at import, to be made writable in a handler (``mprotect``): copies forked
from a worker that had imported the file would share it. Each call's fresh process now imports the file itself, so
the mapping is its own: the buggy Raft's genuine violation."""

import mmap

from buggy_raft import VoteTwice

LEADERS = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)


class ReadOnlyShared(VoteTwice):
    pass
