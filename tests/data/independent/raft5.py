"""Raft (election, replication, commit; Figure 2 of the Raft paper), fifth independent batch.

Style, on purpose unlike a list-of-entries implementation:

* the log is two parallel lists, ``lterms`` and ``lvals``, 1-based, with a sentinel at index 0
  (term 0, value None); ``log`` is a read-only property for the observation contract;
* messages are small frozen, slotted dataclasses that inherit a ``term`` from ``Msg``;
* every handler is chosen through a class-level table: messages by the message class's name,
  timers by ``(role, timer)``; a pair not in the table is ignored;
* heartbeats are empty AppendEntries whose ``prev`` is ``next_idx - 1``; entries are shipped when
  a request arrives and again after every rejection (the leader backs ``next_idx`` off by one);
* contract attributes are renamed through ``observe``.

``Raft5`` is the correct node; each subclass below has one bug, named in its docstring.
"""

from __future__ import annotations

from dataclasses import dataclass

from quorumcheck.models.actors import Node


# --------------------------------------------------------------------------------- messages
@dataclass(frozen=True, slots=True)
class Msg:
    term: int


@dataclass(frozen=True, slots=True)
class VoteReq(Msg):
    last_idx: int
    last_term: int


@dataclass(frozen=True, slots=True)
class VoteResp(Msg):
    granted: bool


@dataclass(frozen=True, slots=True)
class Append(Msg):
    prev: int
    prev_term: int
    ent_terms: tuple
    ent_vals: tuple
    leader_commit: int


@dataclass(frozen=True, slots=True)
class AppendResp(Msg):
    ok: bool
    match: int


FOLLOWER, CANDIDATE, LEADER = "follower", "candidate", "leader"


class Raft5(Node):
    durable = ("term", "vote", "lterms", "lvals")
    observe = {"current_term": "term", "voted_for": "vote", "commit_index": "commit"}

    ON_MESSAGE = {
        "VoteReq": "_got_vote_req",
        "VoteResp": "_got_vote_resp",
        "Append": "_got_append",
        "AppendResp": "_got_append_resp",
    }
    ON_TIMER = {
        (FOLLOWER, "election"): "_campaign",
        (CANDIDATE, "election"): "_campaign",
        (LEADER, "heartbeat"): "_heartbeat",
    }

    def __init__(self):
        self.term = 0
        self.vote = None
        self.lterms = [0]  # sentinel: index 0 has term 0
        self.lvals = [None]
        self.commit = 0
        self.role = FOLLOWER
        self.ballots = set()  # votes received as a candidate
        self.next_idx = {}
        self.match_idx = {}

    # ------------------------------------------------------------------ the contract's view
    @property
    def log(self):
        return [(self.lterms[i], self.lvals[i]) for i in range(1, len(self.lterms))]

    # ------------------------------------------------------------------ small helpers
    def last(self):
        return len(self.lterms) - 1

    def cluster(self):
        return len(self.peers) + 1

    def majority(self):
        return self.cluster() // 2 + 1

    def others(self):
        return [p for p in range(self.cluster()) if p != self.id]

    # ------------------------------------------------------------------ actor entry points
    def on_start(self, out):
        self.role = FOLLOWER
        out.set_timer("election")

    def on_message(self, sender, message, out):
        if message.term > self.term:
            self._adopt_term(message.term, out)
        getattr(self, self.ON_MESSAGE[type(message).__name__])(sender, message, out)

    def on_timer(self, name, out):
        action = self.ON_TIMER.get((self.role, name))
        if action is not None:
            getattr(self, action)(out)

    def on_request(self, value, out):
        if self.role != LEADER:
            return
        self.lterms.append(self.term)
        self.lvals.append(value)
        self.match_idx[self.id] = self.last()
        for p in self.others():
            self._ship(p, out)

    # ------------------------------------------------------------------ role changes
    def _adopt_term(self, term, out):
        self.term = term
        self.vote = None
        if self.role != FOLLOWER:
            self._become_follower(out)

    def _become_follower(self, out):
        self.role = FOLLOWER
        self.ballots = set()
        self.next_idx = {}
        self.match_idx = {}
        out.cancel_timer("heartbeat")
        out.set_timer("election")

    def _campaign(self, out):
        self.term += 1
        self.role = CANDIDATE
        self.vote = self.id
        self.ballots = {self.id}
        out.set_timer("election")
        out.broadcast(VoteReq(self.term, self.last(), self.lterms[-1]))

    def _become_leader(self, out):
        self.role = LEADER
        self.ballots = set()
        self.next_idx = {p: self.last() + 1 for p in self.others()}
        self.match_idx = {p: 0 for p in self.others()}
        self.match_idx[self.id] = self.last()
        out.cancel_timer("election")
        out.set_timer("heartbeat")
        self._heartbeat(out)

    # ------------------------------------------------------------------ elections
    def _candidate_is_current(self, last_idx, last_term):
        """§5.4.1: the candidate's log is at least as up to date as mine."""
        mine = self.lterms[-1]
        return last_term > mine or (last_term == mine and last_idx >= self.last())

    def _got_vote_req(self, sender, m, out):
        grant = (
            m.term == self.term
            and self.vote in (None, sender)
            and self._candidate_is_current(m.last_idx, m.last_term)
        )
        if grant:
            self.vote = sender
            out.set_timer("election")
        out.send(sender, VoteResp(self.term, grant))

    def _got_vote_resp(self, sender, m, out):
        if self.role != CANDIDATE or m.term != self.term or not m.granted:
            return
        self.ballots.add(sender)
        if len(self.ballots) >= self.majority():
            self._become_leader(out)

    # ------------------------------------------------------------------ replication (leader)
    def _ship(self, p, out, with_entries=True):
        nxt = self.next_idx[p]
        prev = nxt - 1
        if with_entries:
            terms, vals = tuple(self.lterms[nxt:]), tuple(self.lvals[nxt:])
        else:
            terms, vals = (), ()
        out.send(p, Append(self.term, prev, self.lterms[prev], terms, vals, self.commit))

    def _heartbeat(self, out):
        for p in self.others():
            self._ship(p, out, with_entries=False)
        out.set_timer("heartbeat")

    def _got_append_resp(self, sender, m, out):
        if self.role != LEADER or m.term != self.term:
            return
        if m.ok:
            if m.match > self.match_idx[sender]:
                self.match_idx[sender] = m.match
            self.next_idx[sender] = self.match_idx[sender] + 1
            self._advance_commit()
        else:
            self.next_idx[sender] = self._backoff(self.next_idx[sender])
            self._ship(sender, out)

    def _backoff(self, nxt):
        return max(1, nxt - 1)

    def _replicas(self, n):
        return sum(1 for i in self.match_idx.values() if i >= n)

    def _may_commit(self, n):
        return self.lterms[n] == self.term and self._replicas(n) >= self.majority()

    def _advance_commit(self):
        for n in range(self.last(), self.commit, -1):
            if self._may_commit(n):
                self.commit = n
                return

    # ------------------------------------------------------------------ replication (follower)
    def _got_append(self, sender, m, out):
        if m.term < self.term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        if self.role != FOLLOWER:  # a candidate of this term meets its leader
            self._become_follower(out)
        out.set_timer("election")
        if m.prev > self.last() or self.lterms[m.prev] != m.prev_term:
            out.send(sender, AppendResp(self.term, False, 0))
            return
        self._store(m.prev, m.ent_terms, m.ent_vals)
        last_new = m.prev + len(m.ent_terms)
        if m.leader_commit > self.commit:
            self._follow_commit(m.leader_commit, last_new)
        out.send(sender, AppendResp(self.term, True, last_new))

    def _store(self, prev, terms, vals):
        """Append the leader's entries after ``prev``, cutting my log at the first conflict."""
        for k, (t, v) in enumerate(zip(terms, vals)):
            i = prev + 1 + k
            if i <= self.last() and self.lterms[i] != t:
                del self.lterms[i:]
                del self.lvals[i:]
            if i > self.last():
                self.lterms.append(t)
                self.lvals.append(v)

    def _follow_commit(self, leader_commit, last_new):
        self.commit = max(self.commit, min(leader_commit, last_new))


# ===================================================================================== bugs


class CommitPastNewEntries(Raft5):
    """Bug: a follower sets commit_index = min(leaderCommit, its own last index) instead of
    min(leaderCommit, index of the last new entry). An empty heartbeat that matches an early
    prefix then commits a stale suffix left by an older leader."""

    def _follow_commit(self, leader_commit, last_new):
        self.commit = max(self.commit, min(leader_commit, self.last()))


class LastTermOnlyVote(Raft5):
    """Bug: the up-to-date check compares only the last entries' terms; with equal last terms a
    shorter log wins the vote (the length tie-break of §5.4.1 is missing)."""

    def _candidate_is_current(self, last_idx, last_term):
        return last_term >= self.lterms[-1]


class CountOldTermReplicas(Raft5):
    """Bug (Raft Figure 8): the leader commits an entry of an earlier term as soon as a majority
    holds it, without requiring that the entry at N be of its current term."""

    def _may_commit(self, n):
        return self._replicas(n) >= self.majority()


class LogNotDurable(Raft5):
    """Bug: only the term and the vote are declared durable; both log lists are lost at a crash,
    so a follower that acknowledged a committed entry forgets it and can vote for a leader
    that lacks it."""

    durable = ("term", "vote")


class OverwriteKeepsTail(Raft5):
    """Bug: the follower overwrites conflicting entries in place and never deletes the rest of
    its log after the first conflict, so an older leader's entries survive behind newer ones."""

    def _store(self, prev, terms, vals):
        for k, (t, v) in enumerate(zip(terms, vals)):
            i = prev + 1 + k
            if i <= self.last():
                self.lterms[i] = t
                self.lvals[i] = v
            else:
                self.lterms.append(t)
                self.lvals.append(v)


class SelfCountedTwice(Raft5):
    """Bug: counting replicas for commit, the leader adds one for itself although match_idx
    already holds its own entry, so it needs one follower fewer than a majority."""

    def _replicas(self, n):
        return 1 + sum(1 for i in self.match_idx.values() if i >= n)
