"""Single-decree Paxos; every node is proposer, acceptor and learner.

Style: durable state in one dict (self.vault), volatile state in another
(self.desk); messages are (kind, ballot, payload) triples dispatched through a
table of method names; the contract is read through properties renamed via
`observe`.  Ballots are (round, node id).
"""
from quorumcheck.models.actors import Node

MAJORITY = 2  # 3 nodes

ROUTES = {"1a": "prepare", "1b": "promise", "2a": "propose", "2b": "voted"}


class Paxos(Node):
    """Correct single-decree Paxos."""

    durable = ("vault",)
    observe = {"accepted": "my_vote", "learned": "verdict", "promised": "my_promise"}

    def __init__(self):
        self.vault = {"round": 0, "promise": None, "vote": None}
        self.desk = {"ballot": None, "mine": None, "stage": 0, "heard": [], "tally": {}, "learned": None}

    # ---- contract ------------------------------------------------------------------
    @property
    def my_vote(self):
        return self.vault["vote"]

    @property
    def verdict(self):
        return self.desk["learned"]

    @property
    def my_promise(self):
        return self.get_promise()

    # ---- overridable bits ----------------------------------------------------------
    def get_promise(self):
        return self.vault["promise"]

    def set_promise(self, b):
        self.vault["promise"] = b

    def make_ballot(self):
        return (self.vault["round"], self.id)

    def at_least(self, b, bound):
        """b >= bound, with None as the bottom ballot."""
        return bound is None or b >= bound

    def pick(self, heard):
        votes = [acc for _, acc in heard if acc is not None]
        return max(votes)[1] if votes else self.desk["mine"]

    def count(self, key, sender):
        t = self.desk["tally"]
        t.setdefault(key, set()).add(sender)
        return len(t[key])

    # ---- proposer ------------------------------------------------------------------
    def on_request(self, value, out):
        self.desk["mine"] = value
        self.new_round(out)
        out.set_timer("retry")

    def new_round(self, out):
        self.vault["round"] += 1
        self.phase1(self.make_ballot(), out)

    def phase1(self, b, out):
        d = self.desk
        d["ballot"] = b
        d["stage"] = 1
        d["heard"] = []
        out.broadcast(("1a", b, None), include_self=True)

    def on_timer(self, name, out):
        if name == "retry" and self.desk["stage"] and self.desk["learned"] is None:
            self.retry(out)
            out.set_timer("retry")

    def retry(self, out):
        self.new_round(out)

    def promise(self, sender, b, acc, out):
        d = self.desk
        if d["stage"] != 1 or b != d["ballot"] or any(s == sender for s, _ in d["heard"]):
            return
        d["heard"].append((sender, acc))
        if len(d["heard"]) >= MAJORITY:
            d["stage"] = 2
            out.broadcast(("2a", b, self.pick(d["heard"])), include_self=True)

    # ---- acceptor ------------------------------------------------------------------
    def prepare(self, sender, b, _, out):
        if self.at_least(b, self.get_promise()):
            self.set_promise(b)
            out.send(sender, ("1b", b, self.vault["vote"]))

    def may_accept(self, b):
        return self.at_least(b, self.get_promise())

    def propose(self, sender, b, value, out):
        if self.may_accept(b):
            self.set_promise(b)
            self.vault["vote"] = (b, value)
            out.broadcast(("2b", b, value), include_self=True)

    # ---- learner -------------------------------------------------------------------
    def voted(self, sender, b, value, out):
        if self.count((b, value), sender) >= MAJORITY and self.desk["learned"] is None:
            self.desk["learned"] = value

    def on_message(self, sender, message, out):
        kind, b, payload = message
        getattr(self, ROUTES[kind])(sender, b, payload, out)


class FirstVoteWins(Paxos):
    """Bug: the proposer adopts the value of the first promise carrying a vote, not the highest-ballot one."""

    def pick(self, heard):
        for _, acc in heard:
            if acc is not None:
                return acc[1]
        return self.desk["mine"]


class RoundOnlyAccept(Paxos):
    """Bug: the acceptor's phase-2 check compares only the round of the ballots, not the node id."""

    def may_accept(self, b):
        p = self.get_promise()
        return p is None or b[0] >= p[0]


class BareRoundBallots(Paxos):
    """Bug: ballots are the bare round number, so two proposers can use the same ballot."""

    def make_ballot(self):
        return self.vault["round"]


class CountMessagesNotAcceptors(Paxos):
    """Bug: the learner counts 2b messages rather than distinct acceptors, so a duplicate counts twice."""

    def count(self, key, sender):
        t = self.desk["tally"]
        t[key] = t.get(key, 0) + 1
        return t[key]


class VolatilePromise(Paxos):
    """Bug: the acceptor's promise is kept in volatile memory and forgotten on a restart."""

    def __init__(self):
        super().__init__()
        self.desk["promise"] = None

    def get_promise(self):
        return self.desk["promise"]

    def set_promise(self, b):
        self.desk["promise"] = b


class RetrySameBallot(Paxos):
    """Bug: after a timeout the proposer restarts phase 1 with the same ballot instead of a higher one."""

    def retry(self, out):
        self.phase1(self.desk["ballot"], out)
