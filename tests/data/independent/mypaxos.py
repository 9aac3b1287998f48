"""An independent single-decree Paxos: every node proposes, accepts and learns.

Style choices: messages are plain dicts with a "kind" key; ballots are
(round, node id) tuples; contract attributes are renamed through `observe`.
"""
from quorumcheck.models.actors import Node


class Synod(Node):
    durable = ("highest_promise", "my_vote", "round_no")
    observe = {"accepted": "my_vote", "learned": "decided", "promised": "highest_promise"}

    def __init__(self):
        # acceptor
        self.highest_promise = None      # ballot
        self.my_vote = None              # (ballot, value)
        # proposer
        self.round_no = 0
        self.ballot = None
        self.proposal = None
        self.stage = "idle"              # idle / preparing / accepting
        self.promises_from = {}          # acceptor -> its reported vote (or None)
        # learner
        self.decided = None
        self.tally = {}                  # ballot -> list of acceptors that voted in it
        self.tally_value = {}            # ballot -> value voted in it

    def majority(self):
        return (len(self.peers) + 1) // 2 + 1

    # ------------------------------------------------------------ proposer
    def on_request(self, value, out):
        if self.decided is not None:
            return
        self.round_no += 1
        self.ballot = (self.round_no, self.id)
        self.proposal = value
        self.stage = "preparing"
        self.promises_from = {}
        out.broadcast({"kind": "prepare", "ballot": self.ballot}, include_self=True)

    def pick_value(self):
        best = None
        for vote in self.promises_from.values():
            if vote is not None and (best is None or vote[0] > best[0]):
                best = vote
        return self.proposal if best is None else best[1]

    def got_promise(self, sender, msg, out):
        if self.stage != "preparing" or tuple(msg["ballot"]) != self.ballot:
            return
        self.promises_from[sender] = msg["vote"]
        if len(self.promises_from) >= self.majority():
            self.stage = "accepting"
            out.broadcast({"kind": "accept", "ballot": self.ballot, "value": self.pick_value()},
                          include_self=True)

    # ------------------------------------------------------------ acceptor
    def got_prepare(self, sender, msg, out):
        bal = tuple(msg["ballot"])
        self.round_no = max(self.round_no, bal[0])
        if self.highest_promise is None or bal > self.highest_promise:
            self.highest_promise = bal
            out.send(sender, {"kind": "promise", "ballot": bal, "vote": self.my_vote})

    def may_accept(self, bal):
        return self.highest_promise is None or bal >= self.highest_promise

    def got_accept(self, sender, msg, out):
        bal = tuple(msg["ballot"])
        if self.may_accept(bal):
            self.highest_promise = bal
            self.my_vote = (bal, msg["value"])
            out.broadcast({"kind": "voted", "ballot": bal, "value": msg["value"]}, include_self=True)

    # ------------------------------------------------------------- learner
    def got_voted(self, sender, msg, out):
        bal = tuple(msg["ballot"])
        voters = self.tally.setdefault(bal, [])
        if sender not in voters:
            voters.append(sender)
            voters.sort()
        self.tally_value[bal] = msg["value"]
        if self.decided is None and len(voters) >= self.majority():
            self.decided = msg["value"]

    def on_message(self, sender, msg, out):
        handler = {
            "prepare": self.got_prepare,
            "promise": self.got_promise,
            "accept": self.got_accept,
            "voted": self.got_voted,
        }[msg["kind"]]
        handler(sender, msg, out)


# ------------------------------------------------------------------- bugs
class AcceptIgnoresPromise(Synod):
    """Phase 2b: the acceptor accepts any ballot, whatever it promised."""

    def may_accept(self, bal):
        return True


class AdoptFirstVote(Synod):
    """Phase 2a: the proposer adopts the first reported vote it received, not the highest-ballot one."""

    def got_promise(self, sender, msg, out):
        if self.stage != "preparing" or tuple(msg["ballot"]) != self.ballot:
            return
        self.promises_from[sender] = msg["vote"]
        if msg["vote"] is not None and not hasattr(self, "first_vote_value"):
            self.first_vote_value = msg["vote"][1]
        if len(self.promises_from) >= self.majority():
            self.stage = "accepting"
            value = getattr(self, "first_vote_value", self.proposal)
            out.broadcast({"kind": "accept", "ballot": self.ballot, "value": value}, include_self=True)

    def on_request(self, value, out):
        if hasattr(self, "first_vote_value"):
            del self.first_vote_value
        super().on_request(value, out)


class LearnerPerValue(Synod):
    """The learner counts acceptors per value, across ballots."""

    def got_voted(self, sender, msg, out):
        key = ("value", msg["value"])
        voters = self.tally.setdefault(key, [])
        if sender not in voters:
            voters.append(sender)
            voters.sort()
        if self.decided is None and len(voters) >= self.majority():
            self.decided = msg["value"]


class PromiseWithoutVote(Synod):
    """Phase 1b: the acceptor's promise never reports its earlier vote."""

    def got_prepare(self, sender, msg, out):
        bal = tuple(msg["ballot"])
        self.round_no = max(self.round_no, bal[0])
        if self.highest_promise is None or bal > self.highest_promise:
            self.highest_promise = bal
            out.send(sender, {"kind": "promise", "ballot": bal, "vote": None})
