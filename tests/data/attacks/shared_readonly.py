"""Memory mapped shared but read-only at import, to be made writable in a handler (``mprotect``): the fresh copies
would share it. Refused at load: a shared mapping that may be made writable."""

import mmap

from buggy_raft import VoteTwice

LEADERS = mmap.mmap(-1, 4096, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)


class ReadOnlyShared(VoteTwice):
    pass
