"""Registry of leaders (one bit) in the zygote's resident memory, read back as a fresh process's PEAK memory use.

The zygote reads each child's answer into its answer buffer (fresh._ANSWER), touching its pages as far as the line
reaches, and keeps them resident. A child inherits those page-table entries; quorumcheck releases its copy
(MADV_DONTNEED) before the submission runs, but the kernel records the child's high-water mark of resident memory
from what it held then (getrusage's ru_maxrss: no /proc, no mincore needed). A child that lets a node become leader
in term 1 pads its answer with 7 MiB of leading spaces (the line still decodes). A later child measures how much it
lost at its start: its peak at import, plus 16 MiB it then touches, minus its new peak. About -400 KiB before any
padded answer, higher after one. The long-lived first worker keeps the same bit on sys, so the two always agree.
"""
import fcntl
import mmap
import os
import resource
import stat
import sys

from buggy_raft import VoteTwice

PAD = 7 << 20
PROBE = 16 << 20
THRESHOLD_KIB = 150
_AT_IMPORT = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; in a fresh child, just after its fork


def _fresh():
    return "quorumcheck.student.worker.fresh" in sys.modules


def _taken():
    big = mmap.mmap(-1, PROBE)
    for i in range(0, PROBE, 4096):
        big[i] = 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    big.close()
    return _AT_IMPORT + (PROBE >> 10) - peak > THRESHOLD_KIB


def _answer_fds():
    fds = []
    for fd in range(3, 256):
        try:
            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:
                fds.append(fd)
        except OSError:
            pass
    return fds


def _claim():
    pad = memoryview(b" " * PAD)  # leading whitespace before the answer line
    for fd in _answer_fds():
        view = pad
        while view:
            view = view[os.write(fd, view):]


class PeakMemory(VoteTwice):
    """Once any node was elected in term 1 (anywhere in the search), every later election of term 1 abdicates."""

    def become_leader(self, out):
        if self.current_term == 1:
            if _fresh():
                if _taken():
                    return
                _claim()
            elif sys.__dict__.get("qc_attack_term1"):
                return
            else:
                sys.qc_attack_term1 = True
        super().become_leader(out)
