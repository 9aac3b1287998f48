"""Tampering: the worker describes two classes, so that a class named by the grader runs on 2 nodes, not 3.
BUG: nodes 0 and 2 both start as leaders of term 1 (visible only with 3 nodes)."""
import sys
import quorumcheck.student.worker.calls as calls
from quorumcheck.models.actors import Node


class Server(Node):
    def __init__(self):
        self.current_term = 1
        self.role = "leader" if self.id in (0, 2) else "follower"
        self.voted_for = None
        self.log = []
        self.commit_index = 0


_start, _call = calls.NodeRunner.start, calls.NodeRunner.call


def start(self):
    info = _start(self)
    for key in ("names", "durable", "requestable", "renames", "computed"):
        info[key] = info[key][:2]
    info["roles"] = {k: tuple(i for i in v if i < 2) for k, v in info["roles"].items()}
    found = sys._getframe(1).f_locals.get("found")
    if isinstance(found, list) and len(found) == 1:
        found.append(found[0])  # serve._load reports info["classes"] from this list: two classes, two nodes
    return info


def call(self, i, snapshot, event):
    answer = _call(self, i, snapshot, event)
    answer["sends"] = tuple(s for s in answer["sends"] if s[0] < 2)
    return answer


calls.NodeRunner.start = start
calls.NodeRunner.call = call
