"""Single-decree Paxos, written independently for quorumcheck.

Every node is proposer, acceptor and learner. Ballots are plain ints,
round * N + id (unique per node). Messages are tuples tagged by a string.
Proposer state is a dict; learner tallies are keyed by ballot.
"""
from quorumcheck.models.actors import Node


class Synod(Node):
    durable = ("promised", "accepted", "rounds", "learned")

    def __init__(self):
        self.promised = None      # highest ballot promised
        self.accepted = None      # (ballot, value) last accepted
        self.rounds = 0           # proposer's round counter
        self.learned = None
        self.prop = None          # {"ballot", "value", "phase", "heard": {acceptor: accepted-or-None}}
        self.tally = {}           # learner: key -> {"value": v, "from": set of acceptors}

    def size(self):
        return len(self.peers) + 1

    def majority(self):
        return self.size() // 2 + 1

    # --- proposer ---------------------------------------------------------------------
    def on_request(self, value, out):
        self.rounds += 1
        b = self.rounds * self.size() + self.id
        self.prop = {"ballot": b, "value": value, "phase": 1, "heard": {}}
        out.broadcast(("prepare", b), include_self=True)

    def choose(self, p):
        votes = [a for a in p["heard"].values() if a is not None]
        if votes:
            return max(votes)[1]
        return p["value"]

    def on_promise(self, src, b, acc, out):
        p = self.prop
        if p is None or p["phase"] != 1 or b != p["ballot"]:
            return
        p["heard"][src] = acc
        if len(p["heard"]) >= self.majority():
            p["value"] = self.choose(p)
            p["phase"] = 2
            out.broadcast(("propose", b, p["value"]), include_self=True)

    # --- acceptor ---------------------------------------------------------------------
    def on_prepare(self, src, b, out):
        if self.promised is None or b >= self.promised:
            self.promised = b
            out.send(src, ("promise", b, self.accepted))

    def may_accept(self, b):
        return self.promised is None or b >= self.promised

    def on_propose(self, src, b, v, out):
        if self.may_accept(b):
            if self.promised is None or b > self.promised:
                self.promised = b
            self.accepted = (b, v)
            out.broadcast(("vote", b, v), include_self=True)

    # --- learner ----------------------------------------------------------------------
    def tally_key(self, b, v):
        return b

    def needed(self):
        return self.majority()

    def on_vote(self, src, b, v, out):
        rec = self.tally.setdefault(self.tally_key(b, v), {"value": v, "from": set()})
        rec["from"].add(src)
        if self.learned is None and len(rec["from"]) >= self.needed():
            self.learned = rec["value"]

    def on_message(self, sender, message, out):
        kind = message[0]
        if kind == "prepare":
            self.on_prepare(sender, message[1], out)
        elif kind == "promise":
            self.on_promise(sender, message[1], message[2], out)
        elif kind == "propose":
            self.on_propose(sender, message[1], message[2], out)
        elif kind == "vote":
            self.on_vote(sender, message[1], message[2], out)


# ======================================================================================
# Buggy variants: one bug each
# ======================================================================================

class AcceptBelowPromise(Synod):
    """Phase 2b: the acceptor accepts any proposal, even below its promise."""
    def may_accept(self, b):
        return True


class OwnValueAlways(Synod):
    """Phase 2a: the proposer proposes its client's value, ignoring reported votes."""
    def choose(self, p):
        return p["value"]


class LearnerMixesBallots(Synod):
    """The learner counts acceptors per value, across ballots."""
    def tally_key(self, b, v):
        return v


class SingleAckLearner(Synod):
    """The learner learns on the first vote it sees."""
    def needed(self):
        return 1


class ForgetPromiseOnRestart(Synod):
    """The acceptor's promise is not on stable storage (1 crash needed)."""
    durable = ("accepted", "rounds", "learned")


class ReuseBallotAfterRestart(Synod):
    """The proposer's round counter is not on stable storage: after a restart it
    reuses its ballot numbers (1 crash needed)."""
    durable = ("promised", "accepted", "learned")
