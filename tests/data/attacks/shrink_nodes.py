"""Tampering with the worker's own answers: report one node where the grader asked for three.

At import it patches the worker's NodeRunner so that its load answer describes node 0 only, and drops
every message to the other nodes. A buggy Raft that wins an election alone (a majority of one) would then
"hold" on a one-node cluster, under the grader's --nodes 3, if the trusted side took the worker's count.
"""

import quorumcheck.student.worker.calls as calls
from buggy_raft import VoteTwice

_start, _call = calls.NodeRunner.start, calls.NodeRunner.call


def start(self):
    info = _start(self)
    for key in ("names", "durable", "requestable", "renames", "computed"):
        info[key] = info[key][:1]
    info["roles"] = {k: tuple(i for i in v if i < 1) for k, v in info["roles"].items()}
    return info


def call(self, i, snapshot, event):
    answer = _call(self, i, snapshot, event)
    answer["sends"] = tuple(s for s in answer["sends"] if s[0] < 1)
    return answer


calls.NodeRunner.start = start
calls.NodeRunner.call = call


class LeadsAlone(VoteTwice):
    def majority(self):
        return 1

    def start_election(self, out):
        super().start_election(out)
        if len(self.votes) >= self.majority():
            self.become_leader(out)
