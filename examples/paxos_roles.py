"""Single-decree Paxos with one class per role: proposers, acceptors and a learner on separate nodes.

``NODES`` lists the class of each node, in node order: nodes 0 and 1 propose, 2, 3 and 4 accept,
5 learns. The observation contract finds the roles by their attributes: the acceptors have
``accepted`` (``None`` or the ``(ballot, value)`` last accepted), the learner has ``learned``.

    quorumcheck test examples/paxos_roles.py --protocol paxos --requests 1
    quorumcheck test examples/paxos_roles.py --protocol paxos --mode random
"""

from __future__ import annotations

from typing import Any

from quorumcheck.models.actors import Node

ACCEPTORS = (2, 3, 4)
LEARNERS = (5,)
MAJORITY = len(ACCEPTORS) // 2 + 1


class Proposer(Node):
    def __init__(self) -> None:
        self.round = 0
        self.value: Any = None
        self.promises: dict[int, Any] = {}  # acceptor -> the (ballot, value) it reported, or None
        self.proposed = False

    def ballot(self) -> tuple[int, int]:
        return (self.round, self.id)

    def on_request(self, value: Any, out: Any) -> None:
        self.value = value
        self.round += 1
        self.promises = {}
        self.proposed = False
        for a in ACCEPTORS:
            out.send(a, ("prepare", self.ballot()))

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        kind, ballot = message[0], message[1]
        if kind != "promise" or ballot != self.ballot() or self.proposed:
            return
        self.promises[sender] = message[2]
        if len(self.promises) >= MAJORITY:
            self.proposed = True
            votes = [v for v in self.promises.values() if v is not None]
            value = self.choose(votes)
            for a in ACCEPTORS:
                out.send(a, ("accept", ballot, value))

    def choose(self, votes: list[Any]) -> Any:
        return max(votes)[1] if votes else self.value


class Acceptor(Node):
    def __init__(self) -> None:
        self.promised: tuple[int, int] | None = None
        self.accepted: tuple[tuple[int, int], Any] | None = None

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        kind, ballot = message[0], message[1]
        if self.promised is not None and ballot < self.promised:
            return
        self.promised = ballot
        if kind == "prepare":
            out.send(sender, ("promise", ballot, self.accepted))
        elif kind == "accept":
            self.accepted = (ballot, message[2])
            for learner in LEARNERS:
                out.send(learner, ("accepted", ballot, message[2]))


class Learner(Node):
    def __init__(self) -> None:
        self.votes: dict[int, Any] = {}  # acceptor -> its latest (ballot, value)
        self.learned: Any = None

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        _, ballot, value = message
        latest = self.votes.get(sender)
        if latest is None or ballot > latest[0]:
            self.votes[sender] = (ballot, value)
        if self.learned is None and sum(1 for v in self.votes.values() if v == (ballot, value)) >= MAJORITY:
            self.learned = value


class ForgetfulProposer(Proposer):
    """A bug: phase 2a proposes the client's value whatever the promises reported."""

    def choose(self, votes: list[Any]) -> Any:
        return self.value


NODES = [Proposer, Proposer, Acceptor, Acceptor, Acceptor, Learner]
BUGGY = [ForgetfulProposer, ForgetfulProposer, Acceptor, Acceptor, Acceptor, Learner]
