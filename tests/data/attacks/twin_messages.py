"""Two messages that print alike (a Ping named tuple and a Ping dataclass made in a function): the search, its
reductions, the confirming replay, a saved schedule replayed with --expect fixed, and the epoch search must tell
them apart (Server: the violation needs the right one first; SilentTwin: the movers must not take one's silent
handler for the other's)."""

from dataclasses import dataclass
from typing import NamedTuple
from quorumcheck.models.actors import Node


class Ping(NamedTuple):
    pass


def _other():
    @dataclass(frozen=True)
    class Ping:  # prints as Ping(), like the NamedTuple
        pass
    return Ping


OtherPing = _other()


class Server(Node):
    """n0 is the leader of term 1 and sends two pings that print alike. n1 keeps the first one it gets;
    when the second arrives, it wrongly becomes a leader of term 1 if the first was the NamedTuple."""

    def __init__(self):
        self.current_term = 1
        self.role = "leader" if self.id == 0 else "follower"
        self.voted_for = 0
        self.log = []
        self.commit_index = 0
        self.first = None

    def on_start(self, out):
        if self.id == 0:
            out.send(1, Ping())
            out.send(1, OtherPing())

    def on_message(self, sender, message, out):
        if self.first is None:
            self.first = message
        elif isinstance(self.first, BAD):
            self.role = "leader"  # a second leader of term 1


BAD = Ping


class SilentTwin(Node):
    """n1 is the leader of term 1; the NamedTuple Ping is a silent delivery, the other one makes n1 answer "z", after
    which n0 wrongly becomes a second leader of term 1."""

    def __init__(self):
        self.current_term = 1
        self.role = "leader" if self.id == 1 else "follower"
        self.voted_for = 1
        self.log = []
        self.commit_index = 0

    def on_start(self, out):
        if self.id == 0:
            out.send(1, Ping())
            out.send(1, OtherPing())

    def on_message(self, sender, message, out):
        if isinstance(message, OtherPing):
            out.send(0, "z")
        elif message == "z":
            self.role = "leader"  # a second leader of term 1
