"""Buggy variants of examples/raft.py: the classic Raft mistakes, one per class.

Each class changes one method (or the durable attributes) of the correct
``RaftNode`` the way a student might get it wrong. Pick one with ``--node-class``:

    quorumcheck test examples/raft_bugs.py --node-class VoteTwice --protocol raft --nodes 3
"""

from __future__ import annotations

from typing import Any

from raft import AppendEntries, AppendReply, RaftNode, RequestVote, Vote


class VoteTwice(RaftNode):
    """RequestVote does not check votedFor: a server votes for two candidates in one term."""

    def on_request_vote(self, sender: int, m: RequestVote, out: Any) -> None:
        granted = m.term == self.current_term and self.log_ok(m)
        if granted:
            self.voted_for = sender
        out.send(sender, Vote(self.current_term, granted))


class ForgetVoteOnRestart(RaftNode):
    """votedFor is not on stable storage: after a crash the server votes again in the same term."""

    durable = ("current_term", "log")


class CountStaleVotes(RaftNode):
    """A candidate counts vote responses from an earlier term's election."""

    def on_vote(self, sender: int, m: Vote, out: Any) -> None:
        if self.role == "candidate" and m.granted:
            self.votes.add(sender)
            if len(self.votes) >= self.majority():
                self.become_leader(out)


class NoLogCheck(RaftNode):
    """RequestVote grants a vote whatever the candidate's log: a leader can miss committed entries."""

    def log_ok(self, m: RequestVote) -> bool:
        return True


class CommitOldTermByCounting(RaftNode):
    """The leader commits an entry of an earlier term once a majority stores it (Figure 8)."""

    def may_commit(self, n: int) -> bool:
        return True


class AcceptStaleAppend(RaftNode):
    """AppendEntries from a leader of an older term is accepted (and its entries stored)."""

    def on_append_entries(self, sender: int, m: AppendEntries, out: Any) -> None:
        self.append(sender, m, out)


class TruncateOnAppend(RaftNode):
    """AppendEntries replaces everything after prevLogIndex, even without a conflict."""

    def store(self, m: AppendEntries) -> None:
        del self.log[m.prev_index:]
        self.log.extend(m.entries)


class CommitToLogEnd(RaftNode):
    """A follower sets commit_index to the end of its log, not to min(leaderCommit, index of last new entry)."""

    def follower_commit(self, m: AppendEntries, last_new: int) -> int:
        return len(self.log)


class LengthOnlyLogCheck(RaftNode):
    """RequestVote compares log lengths only, not last terms: a longer or equal but stale log wins votes."""

    def log_ok(self, m: RequestVote) -> bool:
        return m.last_log_index >= len(self.log)


class MatchIndexFromCurrentLog(RaftNode):
    """The leader takes a successful reply to acknowledge its whole current log, not what the request
    it answers carried: an entry appended after that request counts as replicated."""

    def on_append_reply(self, sender: int, m: AppendReply, out: Any) -> None:
        if self.role == "leader" and m.term == self.current_term and m.success:
            self.match_index[sender] = len(self.log)
            self.next_index[sender] = len(self.log) + 1
            self.advance_commit(out)
        else:
            super().on_append_reply(sender, m, out)


BUGS = {
    "VoteTwice": "election-safety",
    "ForgetVoteOnRestart": "election-safety",
    "CountStaleVotes": "election-safety",
    "NoLogCheck": "leader-completeness",
    "CommitOldTermByCounting": "leader-completeness",
    "AcceptStaleAppend": "leader-append-only",
    "TruncateOnAppend": "committed-entries-stable",
    "CommitToLogEnd": "leader-completeness",
    "MatchIndexFromCurrentLog": "leader-completeness",
    "LengthOnlyLogCheck": "leader-completeness",
}
"""Each variant and the property quorumcheck finds violated first."""
