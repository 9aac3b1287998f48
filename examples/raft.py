"""Raft (leader election and log replication), written as a student would for quorumcheck's actor API.

The observation contract (docs/student-testing.md) reads five attributes of
every node: ``current_term``, ``role`` ("follower", "candidate", "leader"),
``voted_for``, ``log`` (a list of ``(term, value)`` entries; ``log[0]`` is log
index 1) and ``commit_index`` (how many entries are committed). A client's
request reaches a leader through ``on_request``.

Check it:

    quorumcheck test examples/raft.py --protocol raft --nodes 3
"""

from __future__ import annotations

from typing import Any, NamedTuple

from quorumcheck.models.actors import Node

Entry = tuple[int, Any]  # (term, value)


class RequestVote(NamedTuple):
    term: int
    last_log_index: int
    last_log_term: int


class Vote(NamedTuple):
    term: int
    granted: bool


class AppendEntries(NamedTuple):
    term: int
    prev_index: int
    prev_term: int
    entries: tuple[Entry, ...]
    leader_commit: int


class AppendReply(NamedTuple):
    term: int
    success: bool
    match_index: int


class RaftNode(Node):
    """One Raft server."""

    durable = ("current_term", "voted_for", "log")  # Figure 2's persistent state

    def __init__(self) -> None:
        self.current_term = 0
        self.voted_for: int | None = None
        self.log: list[Entry] = []
        self.commit_index = 0
        self.role = "follower"
        self.votes: set[int] = set()
        self.next_index: dict[int, int] = {}
        self.match_index: dict[int, int] = {}

    def majority(self) -> int:
        return (len(self.peers) + 1) // 2 + 1

    def last_term(self) -> int:
        return self.log[-1][0] if self.log else 0

    # -- timers and client requests ----------------------------------------------------
    def on_start(self, out: Any) -> None:
        out.set_timer("election")

    def on_timer(self, name: str, out: Any) -> None:
        if name == "election" and self.role != "leader":
            self.start_election(out)

    def start_election(self, out: Any) -> None:
        self.current_term += 1
        self.role = "candidate"
        self.voted_for = self.id
        self.votes = {self.id}
        out.broadcast(RequestVote(self.current_term, len(self.log), self.last_term()))
        out.set_timer("election")
        if len(self.votes) >= self.majority():  # a cluster of one: its own vote is a majority
            self.become_leader(out)

    def on_request(self, value: Any, out: Any) -> None:
        if self.role != "leader":
            return
        self.log.append((self.current_term, value))
        for peer in self.peers:
            self.send_append(peer, out)
        if not self.peers:  # a cluster of one: no reply will come to count, the entry is on a majority now
            self.advance_commit(out)

    # -- messages --------------------------------------------------------------------------
    def on_message(self, sender: int, m: Any, out: Any) -> None:
        if m.term > self.current_term:  # a newer term: follow it
            self.current_term = m.term
            self.voted_for = None
            if self.role == "leader":
                out.set_timer("election")
            self.role = "follower"
        if isinstance(m, RequestVote):
            self.on_request_vote(sender, m, out)
        elif isinstance(m, Vote):
            self.on_vote(sender, m, out)
        elif isinstance(m, AppendEntries):
            self.on_append_entries(sender, m, out)
        elif isinstance(m, AppendReply):
            self.on_append_reply(sender, m, out)

    def on_request_vote(self, sender: int, m: RequestVote, out: Any) -> None:
        granted = (
            m.term == self.current_term
            and self.voted_for in (None, sender)
            and self.log_ok(m)
        )
        if granted:
            self.voted_for = sender
        out.send(sender, Vote(self.current_term, granted))

    def log_ok(self, m: RequestVote) -> bool:
        """The candidate's log is at least as up to date as ours (Raft §5.4.1)."""
        return (m.last_log_term, m.last_log_index) >= (self.last_term(), len(self.log))

    def on_vote(self, sender: int, m: Vote, out: Any) -> None:
        if self.role == "candidate" and m.term == self.current_term and m.granted:
            self.votes.add(sender)
            if len(self.votes) >= self.majority():
                self.become_leader(out)

    def become_leader(self, out: Any) -> None:
        self.role = "leader"
        self.next_index = {peer: len(self.log) + 1 for peer in self.peers}
        self.match_index = {peer: 0 for peer in self.peers}
        out.cancel_timer("election")
        for peer in self.peers:
            self.send_append(peer, out)

    def send_append(self, peer: int, out: Any) -> None:
        prev = self.next_index[peer] - 1
        prev_term = self.log[prev - 1][0] if prev else 0
        out.send(peer, AppendEntries(self.current_term, prev, prev_term, tuple(self.log[prev:]), self.commit_index))

    def on_append_entries(self, sender: int, m: AppendEntries, out: Any) -> None:
        if m.term < self.current_term:  # a stale leader: refuse
            out.send(sender, AppendReply(self.current_term, False, 0))
            return
        self.role = "follower"
        self.append(sender, m, out)

    def append(self, sender: int, m: AppendEntries, out: Any) -> None:
        """Store the entries if the log holds (prev_index, prev_term), then reply."""
        if m.prev_index > len(self.log) or (m.prev_index and self.log[m.prev_index - 1][0] != m.prev_term):
            out.send(sender, AppendReply(self.current_term, False, 0))
            return
        self.store(m)
        last_new = m.prev_index + len(m.entries)
        self.commit_index = self.follower_commit(m, last_new)
        out.send(sender, AppendReply(self.current_term, True, last_new))

    def follower_commit(self, m: AppendEntries, last_new: int) -> int:
        """The new commit index: min(leaderCommit, index of the last new entry) (Figure 2)."""
        return min(m.leader_commit, last_new) if m.leader_commit > self.commit_index else self.commit_index

    def store(self, m: AppendEntries) -> None:
        """Append the entries after prev_index, deleting our entries only from the first conflict on."""
        index = m.prev_index
        for entry in m.entries:
            index += 1
            if index <= len(self.log):
                if self.log[index - 1][0] == entry[0]:
                    continue
                del self.log[index - 1:]
            self.log.append(entry)

    def on_append_reply(self, sender: int, m: AppendReply, out: Any) -> None:
        if self.role != "leader" or m.term != self.current_term:
            return
        if m.success:
            self.match_index[sender] = max(self.match_index[sender], m.match_index)
            self.next_index[sender] = self.match_index[sender] + 1
            self.advance_commit(out)
        else:
            self.next_index[sender] = max(1, self.next_index[sender] - 1)
            self.send_append(sender, out)

    def advance_commit(self, out: Any) -> None:
        """Commit the highest entry of *this* term stored on a majority (Raft §5.4.2)."""
        for n in range(len(self.log), self.commit_index, -1):
            if not self.may_commit(n):
                continue
            if 1 + sum(1 for peer in self.peers if self.match_index[peer] >= n) >= self.majority():
                self.commit_index = n
                for peer in self.peers:  # tell the followers
                    self.send_append(peer, out)
                return

    def may_commit(self, n: int) -> bool:
        return self.log[n - 1][0] == self.current_term
