"""Single-decree Paxos with separate roles, fifth independent batch.

Two node classes, given one per node with a repeated ``--node-class``:

* ``Peer5``: a proposer and an acceptor (no learning). Client requests go here.
* ``Learner5``: a learner only; it defines no ``on_request``.

Layout: the last ``LEARNERS`` node ids (1 by default) are learners, every other node is a
``Peer5`` (an acceptor). With four nodes: ``--node-class Peer5`` three times, then
``--node-class Learner5``.

Ballots are plain integers made unique per node: ``round * cluster_size + id``; rounds start at 1
and the round counter is durable. Messages are plain dicts with a ``"kind"`` key. Acceptors send
their votes to the learners only; a proposer does not hear about acceptance and retries on its
``retry`` timer with a higher round.

``Peer5`` / ``Learner5`` are correct; every other class has one bug, named in its docstring.
"""

from __future__ import annotations

from quorumcheck.models.actors import Node

LEARNERS = 1


class Layout:
    """Who is who, from the node count alone (mixed into both node classes)."""

    def cluster(self):
        return len(self.peers) + 1

    def acceptor_ids(self):
        return list(range(self.cluster() - LEARNERS))

    def learner_ids(self):
        return list(range(self.cluster() - LEARNERS, self.cluster()))

    def quorum(self):
        return len(self.acceptor_ids()) // 2 + 1


class Peer5(Layout, Node):
    durable = ("promised", "accepted", "round")

    def __init__(self):
        # acceptor
        self.promised = None  # highest ballot promised (int) or None
        self.accepted = None  # (ballot, value) or None
        # proposer
        self.round = 0
        self.ballot = None
        self.phase = 0  # 0 idle, 1 collecting promises, 2 accept sent
        self.mine = None  # the client's value
        self.promises = {}  # acceptor id -> its reported vote (ballot, value) or None

    # ---------------------------------------------------------------- proposer
    def on_request(self, value, out):
        self.mine = value
        self._new_round(out)

    def on_timer(self, name, out):
        if name == "retry" and self.mine is not None:
            self._new_round(out)

    def _new_round(self, out):
        self.round += 1
        self.ballot = self.round * self.cluster() + self.id
        self.phase = 1
        self.promises = {}
        for a in self.acceptor_ids():
            out.send(a, {"kind": "prepare", "bal": self.ballot})
        out.set_timer("retry")

    def _counts(self, msg):
        """Is this promise for the round I am collecting?"""
        return self.phase == 1 and msg["bal"] == self.ballot

    def _pick(self, votes):
        """The value of the highest-ballot vote among the promises."""
        return max(votes, key=lambda vote: vote[0])[1]

    def _on_promise(self, sender, msg, out):
        if not self._counts(msg):
            return
        self.promises[sender] = msg["vote"]
        if len(self.promises) < self.quorum():
            return
        votes = [v for v in self.promises.values() if v is not None]
        value = self._pick(votes) if votes else self.mine
        self.phase = 2
        for a in self.acceptor_ids():
            out.send(a, {"kind": "accept", "bal": self.ballot, "val": value})

    # ---------------------------------------------------------------- acceptor
    def _on_prepare(self, sender, msg, out):
        b = msg["bal"]
        if self.promised is None or b > self.promised:
            self.promised = b
            out.send(sender, {"kind": "promise", "bal": b, "vote": self.accepted})

    def _on_accept(self, sender, msg, out):
        b = msg["bal"]
        if self.promised is None or b >= self.promised:
            self.promised = b
            self.accepted = (b, msg["val"])
            for learner in self.learner_ids():
                out.send(learner, {"kind": "voted", "bal": b, "val": msg["val"]})

    ROUTES = {"prepare": "_on_prepare", "promise": "_on_promise", "accept": "_on_accept"}

    def on_message(self, sender, message, out):
        route = self.ROUTES.get(message["kind"])
        if route is not None:
            getattr(self, route)(sender, message, out)


class Learner5(Layout, Node):
    def __init__(self):
        self.learned = None
        self.heard = {}  # (ballot, value) -> set of acceptor ids

    def _key(self, msg):
        return (msg["bal"], msg["val"])

    def on_message(self, sender, message, out):
        if message["kind"] != "voted" or sender not in self.acceptor_ids():
            return
        key = self._key(message)
        self.heard.setdefault(key, set()).add(sender)
        if self.learned is None and len(self.heard[key]) >= self.quorum():
            self.learned = message["val"]


# ===================================================================================== bugs


class HighestValueNotBallot(Peer5):
    """Bug: among the votes reported in phase 1 the proposer adopts the largest *value*
    rather than the value of the highest-ballot vote."""

    def _pick(self, votes):
        return max(v[1] for v in votes)


class PromiseNotDurable(Peer5):
    """Bug: the acceptor's promise is not durable (only its vote and the proposer's round
    are); after a crash it accepts a ballot lower than one it promised before."""

    durable = ("accepted", "round")


class CountsAcrossBallots(Learner5):
    """Bug (learner): votes are tallied per value, whatever their ballot, so a value voted by
    different acceptors in different ballots is learned though no ballot's majority chose it."""

    def _key(self, msg):
        return msg["val"]


class EvenMajority(Layout):
    """Bug: the quorum is (acceptors + 1) // 2, which is a majority only for an odd number of
    acceptors; with four acceptors two are taken for a quorum. Used by both classes below."""

    def quorum(self):
        return (len(self.acceptor_ids()) + 1) // 2


class EvenQuorum(EvenMajority, Peer5):
    """Bug: the proposer's quorum is (acceptors + 1) // 2 (see EvenMajority)."""


class EvenQuorumLearner(EvenMajority, Learner5):
    """Bug: the learner's quorum is (acceptors + 1) // 2 (see EvenMajority)."""


class NewRequestSameBallot(Peer5):
    """Bug: a proposer that already got through phase 1 treats a new client request as a
    Multi-Paxos leader would: it skips phase 1 and sends accept(same ballot, new value), so two
    values are accepted in one ballot."""

    def on_request(self, value, out):
        self.mine = value
        if self.phase == 2:
            for a in self.acceptor_ids():
                out.send(a, {"kind": "accept", "bal": self.ballot, "val": value})
            return
        self._new_round(out)


class StalePromises(Peer5):
    """Bug: the proposer counts every promise that arrives while it is in phase 1, also one
    answering an earlier ballot of its own (after a retry), whose reported vote may be stale."""

    def _counts(self, msg):
        return self.phase == 1
