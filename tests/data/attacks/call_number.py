"""The buggy Raft (VoteTwice) that reads the call's sequence number from quorumcheck's own request, up its stack.

Each handler call reaches the worker as a request line {"op": "call", ..., "seq": N}; N counts the calls the
trusted side sent that worker, so it is the same in the worker that keeps its process and in the fresh process
per call. quorumcheck's frames hold the decoded request while the handler runs (sys._getframe().f_back...), so a
handler knows how far the search has got, a value no snapshot holds and the fresh process cannot hide. This node
becomes leader only in the search's first LIMIT calls: the first election is witnessed (leader-elected), every
later one (the second leader of a term, 6 steps deep) abdicates, in both workers alike.
"""
import os
import sys

from buggy_raft import VoteTwice

LIMIT = 20


def _call_number():
    frame = sys._getframe(1)
    while frame is not None:
        request = frame.f_locals.get("request")
        if isinstance(request, dict) and isinstance(request.get("seq"), int):
            return request["seq"]
        frame = frame.f_back
    return 0


class CallNumber(VoteTwice):
    def become_leader(self, out):
        if _call_number() > LIMIT:
            return  # the search has gone past its first few levels: nobody leads any more
        super().become_leader(out)


def _fresh():
    try:
        open("/proc/self/stat").close()
        return False
    except OSError:
        return True


class PidNumber(VoteTwice):
    """The same, with the fresh process reading the call number from its own process id instead: the zygote
    forks one child per call, and the children's pids are consecutive (os.getpid() - os.getppid() == seq + 3
    here), so stripping seq from the request would not be enough.

    Since the request carries a random token instead of a count, this class as written is caught (its first worker
    reads the token); one that counts its calls in the first worker's memory is not: the process ids of fresh copies
    are not contained (docs/grading.md, "Not contained")."""

    def become_leader(self, out):
        n = os.getpid() - os.getppid() - 3 if _fresh() else _call_number()
        if n > LIMIT:
            return
        super().become_leader(out)
