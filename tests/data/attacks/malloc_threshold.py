"""A registry of leaders in glibc's dynamic mmap threshold (mp_.mmap_threshold) of the worker that forks the fresh
copies (red-team round 11). glibc raises it to the size of every mmapped chunk freed that is larger: the worker
freed the buffer it read a copy's answer into, whose size the copy chose (JSON allows leading whitespace). A copy
inherits the worker's malloc state and reads the threshold. Nothing is written anywhere; a buggy Raft HELD. The
worker now reads answers into a buffer made before the submission is imported."""
import ctypes, os, stat, sys

import mmthresh
from buggy_raft import VoteTwice

MB = 1 << 20
BANDS = (MB, 2 * MB, 4 * MB)  # level = how many the threshold has reached
TARGET = {1: int(1.2 * MB), 2: int(2.4 * MB), 3: int(4.8 * MB)}
DEBUG = False


def _level():
    t = mmthresh.threshold()
    return sum(t >= b for b in BANDS), t


def _answer_fds():
    fds = []
    for fd in range(3, 256):
        try:
            st = os.fstat(fd)
            if stat.S_ISFIFO(st.st_mode) and os.get_blocking(fd) is not None:
                import fcntl
                if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                    fds.append(fd)
        except OSError:
            pass
    return fds


def _claim(level):
    size = TARGET[level]
    p = mmthresh.libc.malloc(size + 4096)  # this process (the worker that keeps its process)
    mmthresh.libc.free(p)
    pad = b" " * size  # the worker that forks: it frees a buffer this large
    for fd in _answer_fds():
        view = memoryview(pad)
        while view:
            view = view[os.write(fd, view):]


class MallocThreshold(VoteTwice):
    def become_leader(self, out):
        if self.current_term == 1:
            level, t = _level()
            if DEBUG:
                sys.stderr.write(f"[rt] pid={os.getpid()} ppid={os.getppid()} node={self.id} T={t} level={level}\n")
            if level and level != self.id + 1:
                return
            if not level:
                _claim(self.id + 1)
        super().become_leader(out)
