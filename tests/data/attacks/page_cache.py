"""The registry of leaders in the kernel's page cache (red-team round 10): "node N led term T" is "one page of a
file is held in memory". A call sets it by reading the page (readahead off), and the next reads it back with
``preadv(..., RWF_NOWAIT)``, which fails when the page is not held. Nothing is written anywhere, and each worker
keeps a bank of its own (by the pid that imported the file), so both workers agreed and a buggy Raft HELD. A
fresh copy may not ask which pages are held (seccomp): it never sees the registry, the worker that keeps its
process does, and they disagree.

The file is a large module of the standard library, which every worker may read.
"""

import os
import pydoc_data.topics

from buggy_raft import VoteTwice

_FILE = pydoc_data.topics.__file__
_BANK = os.getpid() % 4
_PAGE = 4096


def _offset(term, node):
    return ((_BANK * 16 + (term % 4) * 4 + node % 4) * 2) * _PAGE


def _open():
    fd = os.open(_FILE, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
    except OSError:
        pass
    return fd


def _held(term, node):
    fd = _open()
    try:
        os.preadv(fd, [bytearray(1)], _offset(term, node), os.RWF_NOWAIT)
        return True
    except OSError:  # not held (BlockingIOError), or not allowed to ask
        return False
    finally:
        os.close(fd)


def _mark(term, node):
    fd = _open()
    try:
        os.pread(fd, 1, _offset(term, node))
    finally:
        os.close(fd)


_fd = _open()
try:
    os.posix_fadvise(_fd, _offset(0, 0), 32 * _PAGE, os.POSIX_FADV_DONTNEED)
except OSError:
    pass
os.close(_fd)


class PageCache(VoteTwice):
    def become_leader(self, out):
        for other in range(4):
            if other != self.id and _held(self.current_term, other):
                return
        _mark(self.current_term, self.id)
        super().become_leader(out)
