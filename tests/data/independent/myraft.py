"""An independent Raft (election + log replication) for quorumcheck's actor API.

Style choices (deliberately not the project's): an Enum for the role, frozen
dataclasses for the messages, a NamedTuple for log entries, renamed contract
attributes (term / status / ballot_for / entries / committed).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from quorumcheck.models.actors import Node


class Status(enum.Enum):
    FOLLOWER = "f"
    CANDIDATE = "c"
    LEADER = "l"


class Entry(NamedTuple):
    term: int
    command: str


@dataclass(frozen=True)
class VoteReq:
    term: int
    last_idx: int
    last_term: int


@dataclass(frozen=True)
class VoteResp:
    term: int
    yes: bool


@dataclass(frozen=True)
class Append:
    term: int
    prev_idx: int
    prev_term: int
    items: tuple
    leader_commit: int


@dataclass(frozen=True)
class AppendResp:
    term: int
    ok: bool
    upto: int  # highest index known to match on success


ELECTION = "election"


class RaftServer(Node):
    durable = ("term", "ballot_for", "entries")
    observe = {
        "current_term": "term",
        "role": "status",
        "voted_for": "ballot_for",
        "log": "entries",
        "commit_index": "committed",
    }

    def __init__(self):
        self.term = 0
        self.ballot_for = None
        self.entries = []
        self.committed = 0
        self.status = Status.FOLLOWER
        self.supporters = set()
        self.next_idx = {}
        self.match_idx = {}

    # ---------------------------------------------------------------- helpers
    def cluster_size(self):
        return len(self.peers) + 1

    def quorum(self):
        return self.cluster_size() // 2 + 1

    def last_index(self):
        return len(self.entries)

    def term_at(self, idx):
        if idx == 0:
            return 0
        return self.entries[idx - 1].term

    def become_follower(self, new_term):
        if new_term > self.term:
            self.term = new_term
            self.ballot_for = None
        was_leader = self.status is Status.LEADER
        self.status = Status.FOLLOWER
        self.supporters = set()
        self.next_idx = {}
        self.match_idx = {}
        return was_leader

    def candidate_is_current(self, last_idx, last_term):
        mine = self.term_at(self.last_index())
        if last_term != mine:
            return last_term > mine
        return last_idx >= self.last_index()

    # --------------------------------------------------------------- handlers
    def on_start(self, out):
        out.set_timer(ELECTION)

    def on_timer(self, name, out):
        if name != ELECTION or self.status is Status.LEADER:
            return
        self.term += 1
        self.status = Status.CANDIDATE
        self.ballot_for = self.id
        self.supporters = {self.id}
        out.set_timer(ELECTION)
        req = VoteReq(self.term, self.last_index(), self.term_at(self.last_index()))
        for p in self.peers:
            out.send(p, req)

    def on_request(self, value, out):
        if self.status is not Status.LEADER:
            return
        self.entries.append(Entry(self.term, value))
        self.match_idx[self.id] = self.last_index()
        for p in self.peers:
            self.replicate_to(p, out)

    def on_message(self, sender, msg, out):
        if msg.term > self.term:
            if self.become_follower(msg.term):
                out.set_timer(ELECTION)
        if isinstance(msg, VoteReq):
            self.handle_vote_req(sender, msg, out)
        elif isinstance(msg, VoteResp):
            self.handle_vote_resp(sender, msg, out)
        elif isinstance(msg, Append):
            self.handle_append(sender, msg, out)
        elif isinstance(msg, AppendResp):
            self.handle_append_resp(sender, msg, out)

    # ---------------------------------------------------------------- election
    def handle_vote_req(self, sender, msg, out):
        grant = (
            msg.term == self.term
            and self.ballot_for in (None, sender)
            and self.candidate_is_current(msg.last_idx, msg.last_term)
        )
        if grant:
            self.ballot_for = sender
        out.send(sender, VoteResp(self.term, grant))

    def handle_vote_resp(self, sender, msg, out):
        if self.status is not Status.CANDIDATE or msg.term != self.term or not msg.yes:
            return
        self.supporters.add(sender)
        if len(self.supporters) >= self.quorum():
            self.win(out)

    def win(self, out):
        self.status = Status.LEADER
        self.supporters = set()
        out.cancel_timer(ELECTION)
        self.next_idx = {p: self.last_index() + 1 for p in self.peers}
        self.match_idx = {p: 0 for p in self.peers}
        self.match_idx[self.id] = self.last_index()
        for p in self.peers:
            self.replicate_to(p, out)

    # ------------------------------------------------------------- replication
    def replicate_to(self, peer, out):
        nxt = self.next_idx[peer]
        prev = nxt - 1
        out.send(peer, Append(self.term, prev, self.term_at(prev),
                              tuple(self.entries[prev:]), self.committed))

    def merge(self, prev_idx, items):
        """Append `items` after prev_idx, truncating on the first conflict."""
        for offset, item in enumerate(items):
            idx = prev_idx + 1 + offset
            if idx <= self.last_index():
                if self.entries[idx - 1].term == item.term:
                    continue
                del self.entries[idx - 1:]
            self.entries.append(Entry(item.term, item.command))

    def follower_commit(self, leader_commit, verified):
        target = min(leader_commit, verified)
        if target > self.committed:
            self.committed = target

    def handle_append(self, sender, msg, out):
        if msg.term < self.term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        # msg.term == self.term here
        if self.status is not Status.FOLLOWER:
            self.status = Status.FOLLOWER
            self.supporters = set()
        out.set_timer(ELECTION)
        if msg.prev_idx > self.last_index() or self.term_at(msg.prev_idx) != msg.prev_term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        self.merge(msg.prev_idx, msg.items)
        verified = msg.prev_idx + len(msg.items)
        self.follower_commit(msg.leader_commit, verified)
        out.send(sender, AppendResp(self.term, True, verified))

    def handle_append_resp(self, sender, msg, out):
        if self.status is not Status.LEADER or msg.term != self.term:
            return
        if msg.ok:
            if msg.upto > self.match_idx.get(sender, 0):
                self.match_idx[sender] = msg.upto
            self.next_idx[sender] = max(self.next_idx[sender], msg.upto + 1)
            if self.advance_commit():
                for p in self.peers:
                    self.replicate_to(p, out)
        else:
            if self.next_idx[sender] > 1:
                self.next_idx[sender] -= 1
                self.replicate_to(sender, out)

    def may_commit(self, n):
        return self.term_at(n) == self.term

    def advance_commit(self):
        advanced = False
        for n in range(self.last_index(), self.committed, -1):
            count = sum(1 for m in self.match_idx.values() if m >= n)
            if count >= self.quorum() and self.may_commit(n):
                self.committed = n
                advanced = True
                break
        return advanced


# --------------------------------------------------------------------- bugs
class FigEight(RaftServer):
    """Commits any entry replicated on a majority, even one from an earlier term."""

    def may_commit(self, n):
        return True


class LengthOnly(RaftServer):
    """Vote up-to-date check compares log lengths only."""

    def candidate_is_current(self, last_idx, last_term):
        return last_idx >= self.last_index()


class CommitToOwnEnd(RaftServer):
    """Follower, after a successful AppendEntries, commits up to min(leader_commit, end of ITS log)
    instead of min(leader_commit, last verified index).  NOTE: with RaftServer's leader, which
    always ships its whole suffix, verified == leader's log length >= leader_commit, so this
    variant is masked (no violation is reachable).  See CommitToOwnEnd1 for a leader where it is not."""

    def follower_commit(self, leader_commit, verified):
        target = min(leader_commit, self.last_index())
        if target > self.committed:
            self.committed = target


class CommitPastMatch(RaftServer):
    """Follower takes the leader's commit index (capped at the end of its own log) as soon as an
    AppendEntries of the current term arrives, BEFORE the consistency check, so also when the
    check fails and the entries it holds were never verified."""

    def handle_append(self, sender, msg, out):
        if msg.term >= self.term:
            target = min(msg.leader_commit, self.last_index())
            if target > self.committed:
                self.committed = target
        super().handle_append(sender, msg, out)


class RaftOneAtATime(RaftServer):
    """Correct variant: the leader ships at most one entry per AppendEntries."""

    def replicate_to(self, peer, out):
        nxt = self.next_idx[peer]
        prev = nxt - 1
        out.send(peer, Append(self.term, prev, self.term_at(prev),
                              tuple(self.entries[prev:prev + 1]), self.committed))

    def handle_append_resp(self, sender, msg, out):
        if self.status is not Status.LEADER or msg.term != self.term:
            return
        if not msg.ok:
            if self.next_idx[sender] > 1:
                self.next_idx[sender] -= 1
                self.replicate_to(sender, out)
            return
        self.match_idx[sender] = max(self.match_idx.get(sender, 0), msg.upto)
        self.next_idx[sender] = max(self.next_idx[sender], msg.upto + 1)
        told = set()
        if self.advance_commit():
            for p in self.peers:
                self.replicate_to(p, out)
                told.add(p)
        if sender not in told and self.next_idx[sender] <= self.last_index():
            self.replicate_to(sender, out)


class CommitToOwnEnd1(RaftOneAtATime):
    """CommitToOwnEnd's bug with a one-entry-per-message leader, where it is reachable."""

    def follower_commit(self, leader_commit, verified):
        target = min(leader_commit, self.last_index())
        if target > self.committed:
            self.committed = target


class NoOverwrite(RaftServer):
    """Follower keeps an existing entry at an index instead of replacing a conflicting one
    (misreads "append any new entries not already in the log"), yet acknowledges the whole batch."""

    def merge(self, prev_idx, items):
        for offset, item in enumerate(items):
            idx = prev_idx + 1 + offset
            if idx <= self.last_index():
                continue
            self.entries.append(Entry(item.term, item.command))


class AckLogEnd(RaftServer):
    """Follower acknowledges its whole log (len(entries)) instead of prev_idx + len(items),
    so stale entries past the leader's batch are counted as replicated."""

    def handle_append(self, sender, msg, out):
        if msg.term < self.term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        if self.status is not Status.FOLLOWER:
            self.status = Status.FOLLOWER
            self.supporters = set()
        out.set_timer(ELECTION)
        if msg.prev_idx > self.last_index() or self.term_at(msg.prev_idx) != msg.prev_term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        self.merge(msg.prev_idx, msg.items)
        self.follower_commit(msg.leader_commit, msg.prev_idx + len(msg.items))
        out.send(sender, AppendResp(self.term, True, self.last_index()))


class TermOnly(RaftServer):
    """Vote up-to-date check compares only last terms (equal last terms: always current)."""

    def candidate_is_current(self, last_idx, last_term):
        return last_term >= self.term_at(self.last_index())
