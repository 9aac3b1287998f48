"""Buggy variants of examples/paxos.py: the classic Paxos mistakes, one per class.

Each class changes one method of the correct ``PaxosNode`` the way a student
might get it wrong (docs/student-testing.md lists what quorumcheck reports for
each). Pick one with ``--node-class``:

    quorumcheck test examples/paxos_bugs.py --node-class AcceptBelowPromise \\
        --protocol paxos --nodes 3 --requests 2 --mode random
"""

from __future__ import annotations

from typing import Any

from paxos import Accept, Accepted, Ballot, PaxosNode, Prepare, Promise


class AcceptBelowPromise(PaxosNode):
    """Phase 2b accepts a proposal whatever the acceptor promised."""

    def on_accept(self, sender: int, m: Accept, out: Any) -> None:
        self.accepted = (m.ballot, m.value)
        out.broadcast(Accepted(m.ballot, m.value), include_self=True)


class IgnorePriorVotes(PaxosNode):
    """Phase 2a proposes the client's value, ignoring the votes the promises report."""

    def choose_value(self, reported: list[tuple[Ballot, Any]]) -> Any:
        return self.value


class PromiseBackwards(PaxosNode):
    """Phase 1b promises any ballot, even one below an earlier promise (the promise can go down)."""

    def on_prepare(self, sender: int, m: Prepare, out: Any) -> None:
        self.promised = m.ballot
        out.send(sender, Promise(m.ballot, self.accepted))


class AdoptAnyVote(PaxosNode):
    """Phase 2a adopts the value of the lowest-ballot vote reported, not the highest."""

    def choose_value(self, reported: list[tuple[Ballot, Any]]) -> Any:
        if reported:
            return min(reported)[1]
        return self.value


class SmallQuorum(PaxosNode):
    """Phase 2a starts after promises from n // 2 acceptors (one of three): quorums need not intersect."""

    def on_promise(self, sender: int, m: Promise, out: Any) -> None:
        if m.ballot != self.ballot or self.proposed:
            return
        self.promises[sender] = m.accepted
        if len(self.promises) >= (len(self.peers) + 1) // 2:
            reported = [vote for vote in self.promises.values() if vote is not None]
            self.proposed = True
            out.broadcast(Accept(self.ballot, self.choose_value(reported)), include_self=True)


class DuplicateBallots(PaxosNode):
    """Ballots are just the round number: two proposers can run phase 2 in one ballot with different values."""

    def new_ballot(self) -> Ballot:
        return (self.round, 0)


class LearnerMixesBallots(PaxosNode):
    """The learner counts votes for a value across different ballots as one quorum."""

    def count_votes(self, ballot: Ballot, value: Any) -> int:
        return sum(1 for vote in self.votes.values() if vote[1] == value)


class ForgetsPromiseOnCrash(PaxosNode):
    """The acceptor keeps its promise and vote in memory only: a crash forgets them."""

    durable = ("round",)


class CountsDuplicateVotes(PaxosNode):
    """The learner counts Accepted messages, not distinct acceptors: a duplicated message counts twice."""

    def __init__(self) -> None:
        super().__init__()
        self.tally: dict[tuple[Ballot, Any], int] = {}

    def on_accepted(self, sender: int, m: Accepted, out: Any) -> None:
        key = (m.ballot, m.value)
        self.tally[key] = self.tally.get(key, 0) + 1
        if self.learned is None and self.tally[key] >= self.majority():
            self.learned = m.value


BUGS = {
    "AcceptBelowPromise": "agreement",
    "IgnorePriorVotes": "agreement",
    "PromiseBackwards": "agreement",
    "AdoptAnyVote": "agreement",
    "SmallQuorum": "agreement",
    "DuplicateBallots": "agreement",
    "LearnerMixesBallots": "learned-is-chosen",
    "ForgetsPromiseOnCrash": "agreement",
    "CountsDuplicateVotes": "learned-is-chosen",
}
"""Each variant and the property quorumcheck finds violated."""
