"""Single-decree Paxos, written independently: every node is proposer, acceptor and learner.

Style: messages are frozen dataclasses dispatched by type name; ballots are (round, node id);
attributes are renamed onto the contract with `observe`.
"""
from dataclasses import dataclass
from typing import Any, Optional

from quorumcheck.models.actors import Node


@dataclass(frozen=True)
class Prepare:
    ballot: tuple


@dataclass(frozen=True)
class Promise:
    ballot: tuple
    last_vote: Optional[tuple]   # None or (ballot, value)


@dataclass(frozen=True)
class Propose:
    ballot: tuple
    value: Any


@dataclass(frozen=True)
class Voted:
    ballot: tuple
    value: Any


class PaxosNode(Node):
    durable = ("rnd", "promise", "vote")
    observe = {"accepted": "vote", "learned": "decided", "promised": "promise"}

    def __init__(self):
        # proposer
        self.rnd = 0                 # highest round this node has used
        self.my_ballot = None
        self.my_value = None
        self.promises = {}           # acceptor -> last_vote, for my_ballot
        self.proposed = False
        # acceptor
        self.promise = None          # highest ballot promised
        self.vote = None             # (ballot, value) last accepted
        # learner
        self.tally = {}              # ballot -> {acceptor: value}
        self.decided = None

    def majority(self):
        return (len(self.peers) + 1) // 2 + 1

    # ---- proposer --------------------------------------------------------------------------
    def next_ballot(self):
        self.rnd += 1
        return (self.rnd, self.id)

    def on_request(self, value, out):
        self.my_value = value
        self.start_round(out)
        out.set_timer("retry")

    def on_timer(self, name, out):
        if name == "retry" and self.my_value is not None and self.decided is None:
            self.start_round(out)
            out.set_timer("retry")

    def start_round(self, out):
        self.my_ballot = self.next_ballot()
        self.promises = {}
        self.proposed = False
        out.broadcast(Prepare(self.my_ballot), include_self=True)

    def choose_value(self):
        votes = [v for v in self.promises.values() if v is not None]
        if not votes:
            return self.my_value
        return max(votes, key=lambda bv: bv[0])[1]

    def on_Promise(self, sender, m, out):
        if m.ballot != self.my_ballot or self.proposed:
            return
        self.promises[sender] = m.last_vote
        if len(self.promises) >= self.majority():
            self.proposed = True
            out.broadcast(Propose(self.my_ballot, self.choose_value()), include_self=True)

    # ---- acceptor --------------------------------------------------------------------------
    def on_Prepare(self, sender, m, out):
        if self.promise is None or m.ballot > self.promise:
            self.promise = m.ballot
            out.send(sender, Promise(m.ballot, self.vote))

    def may_accept(self, ballot):
        return self.promise is None or ballot >= self.promise

    def on_Propose(self, sender, m, out):
        if self.may_accept(m.ballot):
            self.promise = m.ballot
            self.vote = (m.ballot, m.value)
            out.broadcast(Voted(m.ballot, m.value), include_self=True)

    # ---- learner ---------------------------------------------------------------------------
    def count_vote(self, sender, m):
        """Record the vote; return the acceptors that voted for m.value in m.ballot."""
        by_acceptor = self.tally.setdefault(m.ballot, {})
        by_acceptor[sender] = m.value
        return {a for a, v in by_acceptor.items() if v == m.value}

    def on_Voted(self, sender, m, out):
        supporters = self.count_vote(sender, m)
        if self.decided is None and len(supporters) >= self.majority():
            self.decided = m.value

    def on_message(self, sender, message, out):
        getattr(self, "on_" + type(message).__name__)(sender, message, out)


# ---------------------------------------------------------------------------------------------
# Buggy variants, one bug each.


class AdoptLowestVote(PaxosNode):
    """The proposer adopts the value of the LOWEST-ballot vote reported in the promises."""

    def choose_value(self):
        votes = [v for v in self.promises.values() if v is not None]
        if not votes:
            return self.my_value
        return min(votes, key=lambda bv: bv[0])[1]


class PromiseNotDurable(PaxosNode):
    """The acceptor's promise is lost in a crash (its vote is kept)."""

    durable = ("rnd", "vote")


class LearnerMixesBallots(PaxosNode):
    """The learner counts votes for a value across different ballots."""

    def count_vote(self, sender, m):
        by_acceptor = self.tally.setdefault(m.value, {})
        by_acceptor[sender] = m.ballot
        return set(by_acceptor)


class ReuseBallotAfterRestart(PaxosNode):
    """The proposer's round counter is not durable, so after a restart it reuses a ballot."""

    durable = ("promise", "vote")


class AcceptIgnoringPromise(PaxosNode):
    """The acceptor only checks the proposal against its last vote, not against its promise."""

    def may_accept(self, ballot):
        return self.vote is None or ballot >= self.vote[0]
