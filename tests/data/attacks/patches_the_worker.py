"""The leader registry kept by quorumcheck's own worker code, patched at import (docs/grading.md listed this as not
contained while the fresh copies were forked from a worker that had imported the submission).

At import the file patches the method that passes each request to a fresh copy and its answer back
(``FreshCalls.run``), and in the worker that runs calls itself the function that runs them (``serve._call``): after
a call, the patch reads the node snapshot the answer carries and notes the leader it shows, per term, in a global of
quorumcheck's own module. A node that would become leader of a term another one leads abdicates. Where the copies were forked from a
worker that had imported the file, the patched method ran in that worker between calls and every copy inherited
what it had noted: the two workers agreed, and a buggy Raft HELD (checked at commit a4bbb85). The fresh processes
now come from a worker that never imports the file: the patch runs only where it changes nothing.
"""

import sys

from buggy_raft import VoteTwice

_fresh = sys.modules.get("quorumcheck.student.worker.fresh")
_serve = sys.modules.get("quorumcheck.student.worker.serve")
_HOME = _fresh if _fresh is not None else _serve


def _leaders():
    if _HOME is None:
        return {}
    return _HOME.__dict__.setdefault("qc_attack_leaders", {})


def _note(request, reply):
    """A leader the answer shows (the node's snapshot after the call), noted for its term."""
    try:
        fields = dict(reply["answer"]["snapshot"])
        if fields.get("role") == "leader":
            _leaders().setdefault(fields["current_term"], request["node"])
    except Exception:  # noqa: BLE001 - not a call's answer
        pass


if _fresh is not None and not getattr(_fresh, "qc_attack_patched", False):
    from quorumcheck.student.wire import decode

    _fresh.qc_attack_patched = True
    _run = _fresh.FreshCalls.run

    def run(self, line):
        data = _run(self, line)
        try:
            _note(decode(bytes(line).rstrip(b"\n")), decode(bytes(data).rstrip(b"\n")))
        except Exception:  # noqa: BLE001 - the load
            pass
        return data

    _fresh.FreshCalls.run = run
elif _serve is not None and not getattr(_serve, "qc_attack_patched", False):
    _serve.qc_attack_patched = True
    _call = _serve._call

    def _noting_call(runner, request):
        reply = _call(runner, request)
        _note(request, reply)
        return reply

    _serve._call = _noting_call


class PatchesTheWorker(VoteTwice):
    def become_leader(self, out):
        if _leaders().get(self.current_term, self.id) != self.id:
            return
        super().become_leader(out)
