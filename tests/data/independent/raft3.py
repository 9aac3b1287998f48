"""Raft (election + replication + commit, Figure 2), written independently, plus buggy subclasses.

Style: one on_message entry point that dispatches on msg["kind"] through a class-level
dict of method names; messages are plain dicts; log entries are NamedTuples; the role is
an enum; attribute names differ from the contract and are mapped with `observe`.
"""
import enum
from typing import NamedTuple

from quorumcheck.models.actors import Node


class Role(enum.Enum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"


class Entry(NamedTuple):
    term: int
    command: str


class RaftServer(Node):
    durable = ("term", "vote", "entries")
    observe = {
        "current_term": "term",
        "role": "state",
        "voted_for": "vote",
        "log": "entries",
        "commit_index": "committed",
    }
    DISPATCH = {
        "RequestVote": "handle_request_vote",
        "RequestVoteReply": "handle_vote_reply",
        "AppendEntries": "handle_append",
        "AppendEntriesReply": "handle_append_reply",
    }

    def __init__(self):
        self.term = 0
        self.vote = None
        self.entries = []          # entries[i] is log index i + 1
        self.committed = 0
        self.state = Role.FOLLOWER
        self.granted = set()       # votes received as candidate
        self.next_idx = {}         # leader only
        self.match_idx = {}        # leader only

    # ---- helpers -------------------------------------------------------------------------
    def cluster_size(self):
        return len(self.peers) + 1

    def majority(self):
        return self.cluster_size() // 2 + 1

    def last_index(self):
        return len(self.entries)

    def term_at(self, index):
        return self.entries[index - 1].term if index >= 1 else 0

    def last_term(self):
        return self.term_at(self.last_index())

    def become_follower(self, term):
        if term > self.term:
            self.term = term
            self.vote = None
        self.state = Role.FOLLOWER
        self.granted = set()
        self.next_idx = {}
        self.match_idx = {}

    def observe_term(self, term):
        """Any message with a higher term: adopt it and step down (Figure 2, all servers)."""
        if term > self.term:
            self.become_follower(term)

    def observe_reply_term(self, term):
        """A reply carrying a higher term (overridden by a buggy subclass)."""
        self.observe_term(term)

    # ---- handlers ------------------------------------------------------------------------
    def on_start(self, out):
        out.set_timer("election")

    def on_timer(self, name, out):
        if name != "election":
            return
        out.set_timer("election")
        if self.state is Role.LEADER:
            for p in self.peers:
                self.replicate_to(p, out)
            return
        self.term += 1
        self.state = Role.CANDIDATE
        self.vote = self.id
        self.granted = {self.id}
        out.broadcast({"kind": "RequestVote", "term": self.term, "candidate": self.id,
                       "last_index": self.last_index(), "last_term": self.last_term()})
        self.maybe_win(out)

    def on_request(self, value, out):
        if self.state is not Role.LEADER:
            return
        self.entries.append(Entry(self.term, value))
        self.match_idx[self.id] = self.last_index()
        for p in self.peers:
            self.replicate_to(p, out)
        self.advance_commit()

    def on_message(self, sender, message, out):
        getattr(self, self.DISPATCH[message["kind"]])(sender, message, out)

    # ---- elections -----------------------------------------------------------------------
    def log_up_to_date(self, last_index, last_term):
        """Figure 2 / 5.4.1: the candidate's log is at least as up to date as ours."""
        if last_term != self.last_term():
            return last_term > self.last_term()
        return last_index >= self.last_index()

    def handle_request_vote(self, sender, m, out):
        self.observe_term(m["term"])
        grant = (m["term"] == self.term
                 and self.vote in (None, m["candidate"])
                 and self.log_up_to_date(m["last_index"], m["last_term"]))
        if grant:
            self.vote = m["candidate"]
            out.set_timer("election")
        out.send(sender, {"kind": "RequestVoteReply", "term": self.term, "granted": grant})

    def handle_vote_reply(self, sender, m, out):
        self.observe_reply_term(m["term"])
        if self.state is not Role.CANDIDATE or m["term"] != self.term or not m["granted"]:
            return
        self.granted.add(sender)
        self.maybe_win(out)

    def maybe_win(self, out):
        if self.state is Role.CANDIDATE and len(self.granted) >= self.majority():
            self.state = Role.LEADER
            self.granted = set()
            self.next_idx = {p: self.last_index() + 1 for p in self.peers}
            self.match_idx = {p: 0 for p in self.peers}
            self.match_idx[self.id] = self.last_index()
            for p in self.peers:
                self.replicate_to(p, out)

    # ---- replication ---------------------------------------------------------------------
    def replicate_to(self, peer, out):
        prev = self.next_idx[peer] - 1
        out.send(peer, {"kind": "AppendEntries", "term": self.term, "leader": self.id,
                        "prev_index": prev, "prev_term": self.term_at(prev),
                        "entries": list(self.entries[prev:]), "leader_commit": self.committed})

    def merge_entries(self, prev, entries):
        """Append entries after index prev, truncating only at the first conflict (Figure 2, 3-4)."""
        for offset, entry in enumerate(entries):
            index = prev + 1 + offset
            if index <= self.last_index():
                if self.entries[index - 1].term == entry.term:
                    continue
                del self.entries[index - 1:]
            self.entries.append(Entry(*entry))

    def handle_append(self, sender, m, out):
        if m["term"] < self.term:
            out.send(sender, {"kind": "AppendEntriesReply", "term": self.term, "ok": False,
                              "prev_index": m["prev_index"], "match": 0})
            return
        self.become_follower(m["term"])
        out.set_timer("election")
        prev = m["prev_index"]
        if prev > self.last_index() or self.term_at(prev) != m["prev_term"]:
            out.send(sender, {"kind": "AppendEntriesReply", "term": self.term, "ok": False,
                              "prev_index": prev, "match": 0})
            return
        self.merge_entries(prev, m["entries"])
        match = prev + len(m["entries"])
        if m["leader_commit"] > self.committed:
            self.committed = max(self.committed, min(m["leader_commit"], match))
        out.send(sender, {"kind": "AppendEntriesReply", "term": self.term, "ok": True,
                          "prev_index": prev, "match": match})

    def handle_append_reply(self, sender, m, out):
        self.observe_reply_term(m["term"])
        if self.state is not Role.LEADER or m["term"] != self.term:
            return
        if m["ok"]:
            if m["match"] > self.match_idx[sender]:
                self.match_idx[sender] = m["match"]
                self.next_idx[sender] = m["match"] + 1
            self.advance_commit()
        elif m["prev_index"] == self.next_idx[sender] - 1 and m["prev_index"] > 0:
            # the probe we are waiting for failed: back up one entry and retry
            self.next_idx[sender] -= 1
            self.replicate_to(sender, out)

    def replicated_on(self, index):
        return sum(1 for n, mi in self.match_idx.items() if mi >= index)

    def advance_commit(self):
        """Highest N > commit with a majority of match >= N and log[N].term == current term."""
        for n in range(self.last_index(), self.committed, -1):
            if self.term_at(n) == self.term and self.replicated_on(n) >= self.majority():
                self.committed = n
                return


# ---------------------------------------------------------------------------------------------
# Buggy variants, one bug each.


class VoteOnLengthOnly(RaftServer):
    """(a) grants a vote when the candidate's log is at least as long, ignoring the last term."""

    def log_up_to_date(self, last_index, last_term):
        return last_index >= self.last_index()


class CommitOldTerm(RaftServer):
    """(b) Figure 8: the leader commits any entry stored on a majority, even of an older term."""

    def advance_commit(self):
        for n in range(self.last_index(), self.committed, -1):
            if self.replicated_on(n) >= self.majority():
                self.committed = n
                return


class VoteNotDurable(RaftServer):
    """(c) votedFor is not on stable storage."""

    durable = ("term", "entries")


class LeaderIgnoresHigherTerm(RaftServer):
    """(d) on a reply with a higher term the node adopts the term but a leader stays leader."""

    def observe_reply_term(self, term):
        if term > self.term:
            if self.state is Role.LEADER:
                self.term = term
                self.vote = None
            else:
                self.become_follower(term)


class AlwaysTruncate(RaftServer):
    """(e) the follower cuts its log after prev_index on every AppendEntries, conflict or not."""

    def merge_entries(self, prev, entries):
        del self.entries[prev:]
        self.entries.extend(Entry(*e) for e in entries)


class CommitLogEnd(RaftServer):
    """(f) once some new index is majority-replicated, commit jumps to the end of the leader's log."""

    def advance_commit(self):
        for n in range(self.last_index(), self.committed, -1):
            if self.term_at(n) == self.term and self.replicated_on(n) >= self.majority():
                self.committed = self.last_index()
                return
