"""Raft (election + log replication), written independently for quorumcheck.

Style: persistent state in a dataclass (`self.disk`), volatile state in a dict
(`self.vol`), messages as NamedTuples, roles as an Enum, contract attributes
exposed through properties and renamed with `observe`.
The leader ships ONE entry per AppendEntries ("Push"), backtracks nextIndex on
failure, pipelines the next entry on each success, and sends heartbeats on a
"heartbeat" timer.
"""
import enum
from dataclasses import dataclass, field
from typing import NamedTuple, Optional

from quorumcheck.models.actors import Node


class Mode(enum.Enum):
    FOLLOWER = "f"
    CANDIDATE = "c"
    LEADER = "l"


class Entry(NamedTuple):
    term: int
    command: str


class Ask(NamedTuple):          # RequestVote
    term: int
    cand: int
    last_index: int
    last_term: int


class Ballot(NamedTuple):       # RequestVote reply
    term: int
    granted: bool


class Push(NamedTuple):         # AppendEntries (0 or 1 entry)
    term: int
    prev_index: int
    prev_term: int
    entry: Optional[Entry]
    leader_commit: int


class PushAck(NamedTuple):      # AppendEntries reply
    term: int
    ok: bool
    index: int                  # ok: verified match index; not ok: the prev_index that failed


@dataclass
class Disk:
    term: int = 0
    vote: Optional[int] = None
    entries: list = field(default_factory=list)


class Raft(Node):
    durable = ("disk",)
    observe = {"current_term": "term", "voted_for": "vote", "log": "journal",
               "commit_index": "committed", "role": "mode"}

    def __init__(self):
        self.disk = Disk()
        self.vol = {"mode": Mode.FOLLOWER, "committed": 0, "votes": set(), "next": {}, "match": {}}

    # --- observation contract ---------------------------------------------------------
    @property
    def term(self):
        return self.disk.term

    @property
    def vote(self):
        return self.disk.vote

    @property
    def journal(self):
        return self.disk.entries

    @property
    def committed(self):
        return self.vol["committed"]

    @property
    def mode(self):
        return self.vol["mode"]

    # --- helpers ----------------------------------------------------------------------
    def majority(self):
        return (len(self.peers) + 1) // 2 + 1

    def last(self):
        e = self.disk.entries
        return len(e), (e[-1].term if e else 0)

    def become_follower(self, out):
        if self.vol["mode"] == Mode.LEADER:
            out.cancel_timer("heartbeat")
        self.vol["mode"] = Mode.FOLLOWER
        self.vol["votes"] = set()
        self.vol["next"] = {}
        self.vol["match"] = {}
        out.set_timer("election")

    def adopt_term(self, term, out):
        if term > self.disk.term:
            self.disk.term = term
            self.disk.vote = None
            self.become_follower(out)

    # --- handlers ---------------------------------------------------------------------
    def on_start(self, out):
        out.set_timer("election")

    def on_timer(self, name, out):
        if name == "election" and self.vol["mode"] != Mode.LEADER:
            self.campaign(out)
        elif name == "heartbeat" and self.vol["mode"] == Mode.LEADER:
            for p in self.peers:
                self.push_to(p, out)
            out.set_timer("heartbeat")

    def on_request(self, value, out):
        if self.vol["mode"] != Mode.LEADER:
            return
        self.disk.entries.append(Entry(self.disk.term, value))
        n = len(self.disk.entries)
        for p in self.peers:
            if self.vol["next"][p] == n:   # peer was caught up: ship the new entry at once
                self.push_to(p, out)

    def on_message(self, sender, message, out):
        if isinstance(message, Ask):
            self.on_ask(sender, message, out)
        elif isinstance(message, Ballot):
            self.on_ballot(sender, message, out)
        elif isinstance(message, Push):
            self.on_push(sender, message, out)
        elif isinstance(message, PushAck):
            self.on_ack(sender, message, out)

    # --- election ---------------------------------------------------------------------
    def campaign(self, out):
        self.disk.term += 1
        self.disk.vote = self.id
        self.vol["mode"] = Mode.CANDIDATE
        self.vol["votes"] = {self.id}
        li, lt = self.last()
        out.broadcast(Ask(self.disk.term, self.id, li, lt))
        out.set_timer("election")

    def log_ok(self, m):
        li, lt = self.last()
        return m.last_term > lt or (m.last_term == lt and m.last_index >= li)

    def may_vote(self, m):
        return self.disk.vote in (None, m.cand)

    def on_ask(self, src, m, out):
        self.adopt_term(m.term, out)
        granted = False
        if m.term == self.disk.term and self.may_vote(m) and self.log_ok(m):
            granted = True
            self.disk.vote = m.cand
        out.send(src, Ballot(self.disk.term, granted))

    def counts_vote(self, m):
        return m.term == self.disk.term

    def on_ballot(self, src, m, out):
        if m.term > self.disk.term:
            self.adopt_term(m.term, out)
            return
        if self.vol["mode"] != Mode.CANDIDATE or not self.counts_vote(m):
            return
        if m.granted:
            self.vol["votes"].add(src)
            if len(self.vol["votes"]) >= self.majority():
                self.lead(out)

    def lead(self, out):
        self.vol["mode"] = Mode.LEADER
        n = len(self.disk.entries)
        self.vol["next"] = {p: n + 1 for p in self.peers}
        self.vol["match"] = {p: 0 for p in self.peers}
        self.vol["votes"] = set()
        out.cancel_timer("election")
        out.set_timer("heartbeat")
        for p in self.peers:
            self.push_to(p, out)

    # --- replication: leader side -------------------------------------------------------
    def push_to(self, p, out):
        log = self.disk.entries
        ni = self.vol["next"][p]
        prev = ni - 1
        prev_term = log[prev - 1].term if prev > 0 else 0
        entry = log[ni - 1] if ni <= len(log) else None
        out.send(p, Push(self.disk.term, prev, prev_term, entry, self.vol["committed"]))

    def on_higher_term_ack(self, m, out):
        self.adopt_term(m.term, out)

    def on_ack(self, src, m, out):
        if m.term > self.disk.term:
            self.on_higher_term_ack(m, out)
            return
        if self.vol["mode"] != Mode.LEADER or m.term != self.disk.term:
            return
        if m.ok:
            self.vol["match"][src] = max(self.vol["match"][src], m.index)
            self.vol["next"][src] = max(self.vol["next"][src], m.index + 1)
            self.advance_leader_commit()
            if self.vol["next"][src] <= len(self.disk.entries):
                self.push_to(src, out)
        else:
            self.vol["next"][src] = max(1, min(self.vol["next"][src], m.index))
            self.push_to(src, out)

    def may_commit(self, n):
        return self.disk.entries[n - 1].term == self.disk.term

    def advance_leader_commit(self):
        log = self.disk.entries
        for n in range(len(log), self.vol["committed"], -1):
            copies = 1 + sum(1 for p in self.peers if self.vol["match"][p] >= n)
            if copies >= self.majority() and self.may_commit(n):
                self.vol["committed"] = n
                break

    # --- replication: follower side -----------------------------------------------------
    def on_push(self, src, m, out):
        if m.term < self.disk.term:
            out.send(src, PushAck(self.disk.term, False, m.prev_index))
            return
        self.adopt_term(m.term, out)
        if self.vol["mode"] != Mode.FOLLOWER:
            self.become_follower(out)
        log = self.disk.entries
        if m.prev_index > len(log) or (m.prev_index > 0 and log[m.prev_index - 1].term != m.prev_term):
            out.send(src, PushAck(self.disk.term, False, m.prev_index))
            return
        self.store(m)
        verified = m.prev_index + (1 if m.entry is not None else 0)
        self.advance_follower_commit(m, verified)
        out.send(src, PushAck(self.disk.term, True, self.ack_index(m, verified)))

    def store(self, m):
        if m.entry is None:
            return
        log = self.disk.entries
        i = m.prev_index + 1
        if len(log) >= i and log[i - 1].term != m.entry.term:
            del log[i - 1:]
        if len(log) < i:
            log.append(m.entry)

    def ack_index(self, m, verified):
        return verified

    def advance_follower_commit(self, m, verified):
        new = min(m.leader_commit, verified)
        if new > self.vol["committed"]:
            self.vol["committed"] = new


# ======================================================================================
# Buggy variants: one bug each
# ======================================================================================

class CommitOldTermByCounting(Raft):
    """Figure 8: the leader commits an entry of an earlier term once a majority stores it."""
    def may_commit(self, n):
        return True


class TruncateOnHeartbeat(Raft):
    """The follower cuts its log after prev_index on every AppendEntries, even a matching
    (stale) heartbeat, then appends the entry if any."""
    def store(self, m):
        log = self.disk.entries
        del log[m.prev_index:]
        if m.entry is not None:
            log.append(m.entry)


class KeepLeadingOnHigherTermAck(Raft):
    """A leader that sees a higher term in an AppendEntries reply adopts the term
    but does not step down (stays leader, now in the new term)."""
    def on_higher_term_ack(self, m, out):
        if self.vol["mode"] == Mode.LEADER:
            self.disk.term = m.term
            self.disk.vote = None
        else:
            self.adopt_term(m.term, out)


class CountStaleVotes(Raft):
    """The candidate counts a granted vote whatever the term of the reply."""
    def counts_vote(self, m):
        return True


class CommitToLeaderCommit(Raft):
    """The follower sets commitIndex = leaderCommit, without min(.., last new entry)."""
    def advance_follower_commit(self, m, verified):
        if m.leader_commit > self.vol["committed"]:
            self.vol["committed"] = m.leader_commit


class LengthOnlyVote(Raft):
    """The up-to-date check compares log lengths only, not the last log term."""
    def log_ok(self, m):
        li, _ = self.last()
        return m.last_index >= li


class AckWholeLog(Raft):
    """The follower acknowledges its whole log as matching, not just what it verified."""
    def ack_index(self, m, verified):
        return len(self.disk.entries)


class ForgetVoteOnRestart(Raft):
    """On boot the node clears voted_for ("the old vote is stale anyway")."""
    def on_start(self, out):
        self.disk.vote = None
        super().on_start(out)


class CandidateVotesForOthers(Raft):
    """A candidate grants its vote to another candidate of the same term."""
    def may_vote(self, m):
        return self.disk.vote in (None, m.cand) or self.vol["mode"] == Mode.CANDIDATE


class AckWholeLogSafeLeader(AckWholeLog):
    """AckWholeLog's follower bug, with a defensive leader that never lets nextIndex
    pass the end of its own log (so the bug cannot surface as an IndexError)."""
    def push_to(self, p, out):
        self.vol["next"][p] = min(self.vol["next"][p], len(self.disk.entries) + 1)
        super().push_to(p, out)


class IgnoreHigherTermAck(Raft):
    """NOT a safety bug (control): the leader ignores an AppendEntries reply that carries a
    higher term (neither steps down nor adopts the term). Equivalent to that reply being lost."""
    def on_higher_term_ack(self, m, out):
        return
