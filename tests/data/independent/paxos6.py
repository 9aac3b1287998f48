"""paxos_c.py -- a student's single-decree Paxos.

Every node is proposer, acceptor and learner, built from three mixins. Messages are
small frozen slotted dataclasses (first written as plain
classes with __slots__, which quorumcheck refuses to snapshot -- see paxos_c_slots_attempt.py); ballots are (round, node id) tuples.
"""
from dataclasses import dataclass

from quorumcheck.models.actors import Node


@dataclass(frozen=True, slots=True)
class Prepare:
    ballot: tuple


@dataclass(frozen=True, slots=True)
class Promise:
    ballot: tuple
    vote: object


@dataclass(frozen=True, slots=True)
class Accept:
    ballot: tuple
    value: object


@dataclass(frozen=True, slots=True)
class Accepted:
    ballot: tuple
    value: object


class AcceptorMixin:
    def acceptor_init(self):
        self.promised = None
        self.accepted = None

    def on_prepare(self, sender, m, out):
        if self.promised is None or m.ballot > self.promised:
            self.promised = m.ballot
            out.send(sender, Promise(m.ballot, self.accepted))

    def on_accept(self, sender, m, out):
        if self.promised is None or m.ballot >= self.promised:
            self.promised = m.ballot
            self.accepted = (m.ballot, m.value)
            out.broadcast(Accepted(m.ballot, m.value), include_self=True)


class LearnerMixin:
    def learner_init(self):
        self.learned = None
        self.tally = {}            # ballot -> list of acceptor ids

    def on_accepted(self, sender, m, out):
        who = self.tally.setdefault(m.ballot, [])
        if sender not in who:
            who.append(sender)
        if len(who) >= self.quorum() and self.learned is None:
            self.learned = m.value


class ProposerMixin:
    def proposer_init(self):
        self.round = 0
        self.ballot = None
        self.my_value = None
        self.promises = {}         # acceptor id -> vote (or None)
        self.sent_accept = False

    def start_round(self, out):
        self.round += 1
        self.ballot = (self.round, self.id)
        self.promises = {}
        self.sent_accept = False
        out.broadcast(Prepare(self.ballot), include_self=True)
        out.set_timer("retry")

    def choose_value(self):
        votes = [v for v in self.promises.values() if v is not None]
        if votes:
            return max(votes)[1]   # the value of the highest-ballot vote
        return self.my_value

    def on_promise(self, sender, m, out):
        if m.ballot != self.ballot or self.sent_accept:
            return
        self.promises[sender] = m.vote
        if len(self.promises) >= self.quorum():
            self.sent_accept = True
            out.broadcast(Accept(self.ballot, self.choose_value()), include_self=True)


class PaxosC(AcceptorMixin, LearnerMixin, ProposerMixin, Node):
    durable = ("promised", "accepted", "round")

    def __init__(self):
        self.acceptor_init()
        self.learner_init()
        self.proposer_init()

    def quorum(self):
        return (len(self.peers) + 1) // 2 + 1

    def on_request(self, value, out):
        if self.my_value is None:
            self.my_value = value
        self.start_round(out)

    def on_timer(self, name, out):
        if name == "retry" and self.my_value is not None and self.learned is None:
            self.start_round(out)

    def on_message(self, sender, m, out):
        if isinstance(m, Prepare):
            self.on_prepare(sender, m, out)
        elif isinstance(m, Promise):
            self.on_promise(sender, m, out)
        elif isinstance(m, Accept):
            self.on_accept(sender, m, out)
        elif isinstance(m, Accepted):
            self.on_accepted(sender, m, out)


# ==================================================================================
# Buggy variants
# ==================================================================================

class AcceptAgainstLastVote(PaxosC):
    """BUG: phase 2b compares the incoming ballot with the ballot of the acceptor's last
    *vote* instead of its promise, so an acceptor that promised a higher ballot still
    accepts a lower one (it never voted, or voted lower).

    Scenario (3 nodes; --requests 2, nothing else):
      n0 proposes v1 with ballot (1,0); prepares reach n0,n1, promises come back, n0 sends
      Accept((1,0), v1). Before the accepts arrive, n1 proposes v2 with ballot (1,1) > (1,0);
      n1 and n2 promise (1,1) with no votes, so n1 sends Accept((1,1), v2), accepted by n1,n2:
      v2 chosen. Now n0's Accept((1,0), v1) reaches n1 (promised (1,1), last vote (1,1)?) --
      better: reaches n0 and n2 ... n2 voted (1,1) so (1,0) < (1,1) is refused; the schedule
      needs the low accepts delivered to nodes whose last vote is lower: deliver
      Accept((1,0),v1) to n0 and n1 *before* n1's own Accept((1,1),v2) reaches n1 -- n1
      promised (1,1) but has no vote yet, so it accepts (1,0): v1 chosen by {n0,n1} in (1,0);
      then Accept((1,1),v2) reaches n1 and n2: v2 chosen in (1,1) -> agreement.
    """

    def on_accept(self, sender, m, out):
        if self.accepted is None or m.ballot >= self.accepted[0]:
            if self.promised is None or m.ballot > self.promised:
                self.promised = m.ballot
            self.accepted = (m.ballot, m.value)
            out.broadcast(Accepted(m.ballot, m.value), include_self=True)


class LastReportWins(PaxosC):
    """BUG: the proposer adopts the vote of the *last promise to arrive* that carries one
    (kept in arrival order in a list) instead of the vote with the highest ballot.

    Scenario (3 nodes; --requests 3, nothing else -- three proposals are needed):
      ballot (1,0) of n0 with v1 is accepted by n0 only; ballot (1,1) of n1 prepares at n1,n2
      (no votes reported) and gets v2 accepted by n1,n2: v2 chosen. Ballot (1,2) of n2 (its
      request v3) prepares at n0 and n1: n1 reports ((1,1),v2) first, n0 reports ((1,0),v1)
      last; the proposer adopts v1 and gets it accepted by n0 and n1 (or n2): v1 chosen in
      (1,2) -> agreement.
    """

    def proposer_init(self):
        super().proposer_init()
        self.arrivals = []          # votes in arrival order

    def start_round(self, out):
        self.arrivals = []
        super().start_round(out)

    def on_promise(self, sender, m, out):
        if m.ballot == self.ballot and not self.sent_accept and sender not in self.promises and m.vote is not None:
            self.arrivals.append(m.vote)
        super().on_promise(sender, m, out)

    def choose_value(self):
        if self.arrivals:
            return self.arrivals[-1][1]
        return self.my_value


class LearnByValue(PaxosC):
    """BUG: the learner tallies Accepted messages by *value*, across ballots: two acceptors
    that accepted v in different ballots make it 'learned', though v was never accepted by
    a majority in one ballot.

    Scenario (3 nodes; --requests 2):
      n0: ballot (1,0), v1, prepares at n0,n1; Accept((1,0),v1) reaches n0 only (n0 votes
      (1,0) v1 and tells the learners). n1: ballot (1,1), prepares at n0,n1; n0 reports its
      vote, so n1 proposes v1 in (1,1); Accept((1,1),v1) reaches n1 only. A learner now has
      Accepted v1 from n0 (ballot (1,0)) and n1 (ballot (1,1)): 2 of 3, learns v1 while no
      ballot has a majority -> learned-is-chosen.  (Agreement itself may still hold.)
    """

    def on_accepted(self, sender, m, out):
        who = self.tally.setdefault(m.value, [])
        if sender not in who:
            who.append(sender)
        if len(who) >= self.quorum() and self.learned is None:
            self.learned = m.value


class PromiseOnlyInMemory(PaxosC):
    """BUG: the acceptor writes its vote to disk but keeps its promise in memory only
    (durable lacks "promised"); after a crash it accepts ballots below what it promised.

    Scenario (3 nodes; --requests 2, --max-crashes 1):
      n0 proposes v1 with (1,0): n0 and n1 promise. n1 proposes v2 with (1,1): n1 and n2
      promise (no votes), Accept((1,1),v2) reaches n1 and n2: v2 chosen. n1 crashes and
      restarts with accepted ((1,1),v2) but promised None. n0's Accept((1,0),v1) reaches n0
      and n1; n1 now accepts (1,0) >= None: v1 chosen by {n0,n1} in (1,0) -> agreement.
    """

    durable = ("accepted", "round")
