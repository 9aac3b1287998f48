"""Single-decree Paxos, written as a student would for quorumcheck's actor API.

Every node plays all three roles: a proposer (it proposes a client's value
when asked, in ballots ``(round, node id)``, and retries with a higher ballot
when its ``retry`` timer fires), an acceptor, and a learner. The observation
contract (docs/student-testing.md) reads two attributes:

* ``accepted`` -- ``None``, or the ``(ballot, value)`` this acceptor last accepted;
* ``learned`` -- ``None``, or the value this learner has learned.

Check it: every interleaving with one client request (2,710 states under the default reduction by
right movers, 25,576 with --no-reduction; a second or two), then
Hypothesis-drawn schedules with two competing requests (exhaustively that is more than 26 million states):

    quorumcheck test examples/paxos.py --protocol paxos --nodes 3 --requests 1
    quorumcheck test examples/paxos.py --protocol paxos --nodes 3 --mode random
"""

from __future__ import annotations

from typing import Any, NamedTuple

from quorumcheck.models.actors import Node

Ballot = tuple[int, int]  # (round, proposer id): unique per proposer, ordered


class Prepare(NamedTuple):  # phase 1a
    ballot: Ballot


class Promise(NamedTuple):  # phase 1b: the promise, and the acceptor's last vote
    ballot: Ballot
    accepted: tuple[Ballot, Any] | None


class Accept(NamedTuple):  # phase 2a
    ballot: Ballot
    value: Any


class Accepted(NamedTuple):  # phase 2b, sent to every learner
    ballot: Ballot
    value: Any


class PaxosNode(Node):
    """A proposer, an acceptor and a learner in one node."""

    # An acceptor's promise and vote must survive a crash; so must the round, or a
    # restarted proposer would reuse a ballot.
    durable = ("promised", "accepted", "round")

    def __init__(self) -> None:
        # proposer
        self.round = 0
        self.ballot: Ballot | None = None
        self.value: Any = None  # the client's value
        self.promises: dict[int, tuple[Ballot, Any] | None] = {}  # acceptor -> its reported vote
        self.proposed = False  # phase 2 started in self.ballot
        # acceptor
        self.promised: Ballot | None = None
        self.accepted: tuple[Ballot, Any] | None = None
        # learner
        self.votes: dict[int, tuple[Ballot, Any]] = {}  # acceptor -> its latest vote
        self.learned: Any = None

    def majority(self) -> int:
        return (len(self.peers) + 1) // 2 + 1

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        if isinstance(message, Prepare):
            self.on_prepare(sender, message, out)
        elif isinstance(message, Promise):
            self.on_promise(sender, message, out)
        elif isinstance(message, Accept):
            self.on_accept(sender, message, out)
        elif isinstance(message, Accepted):
            self.on_accepted(sender, message, out)

    # -- proposer ----------------------------------------------------------------------
    def on_request(self, value: Any, out: Any) -> None:
        self.value = value
        self.start_round(out)

    def on_timer(self, name: str, out: Any) -> None:
        if name == "retry" and self.learned is None:
            self.start_round(out)

    def start_round(self, out: Any) -> None:
        self.round += 1
        self.ballot = self.new_ballot()
        self.promises = {}
        self.proposed = False
        out.broadcast(Prepare(self.ballot), include_self=True)
        out.set_timer("retry")

    def new_ballot(self) -> Ballot:
        """A ballot above every earlier one of this proposer, and unique: (round, our id)."""
        return (self.round, self.id)

    def on_promise(self, sender: int, m: Promise, out: Any) -> None:
        if m.ballot != self.ballot or self.proposed:
            return
        self.promises[sender] = m.accepted
        if len(self.promises) >= self.majority():
            reported = [vote for vote in self.promises.values() if vote is not None]
            value = self.choose_value(reported)
            self.proposed = True
            out.broadcast(Accept(self.ballot, value), include_self=True)

    def choose_value(self, reported: list[tuple[Ballot, Any]]) -> Any:
        """The value of the highest-ballot vote reported by the quorum, else our own."""
        if reported:
            return max(reported)[1]
        return self.value

    # -- acceptor ----------------------------------------------------------------------
    def on_prepare(self, sender: int, m: Prepare, out: Any) -> None:
        # Promising the same ballot again is harmless: ballots are unique to one proposer.
        if self.promised is None or m.ballot >= self.promised:
            self.promised = m.ballot
            out.send(sender, Promise(m.ballot, self.accepted))

    def on_accept(self, sender: int, m: Accept, out: Any) -> None:
        if self.promised is None or m.ballot >= self.promised:
            self.promised = m.ballot
            self.accepted = (m.ballot, m.value)
            out.broadcast(Accepted(m.ballot, m.value), include_self=True)

    # -- learner -----------------------------------------------------------------------
    def on_accepted(self, sender: int, m: Accepted, out: Any) -> None:
        latest = self.votes.get(sender)
        if latest is None or m.ballot > latest[0]:
            self.votes[sender] = (m.ballot, m.value)
        if self.learned is None and self.count_votes(m.ballot, m.value) >= self.majority():
            self.learned = m.value

    def count_votes(self, ballot: Ballot, value: Any) -> int:
        """How many acceptors' latest vote is for ``value`` in ``ballot``."""
        return sum(1 for vote in self.votes.values() if vote == (ballot, value))
