"""Honest mistakes: state kept outside the node, where quorumcheck's snapshots cannot see it.

Each class is a correct Raft (votedFor is checked) until some state outside the node says otherwise:
a module counter, a module dict of votes, a class attribute shared by every instance, a mutable
default argument, a closure. A model checker that restores nodes from snapshots would explore
states that cannot happen and miss ones that can; quorumcheck reports ``state-outside-node``.
"""

import enum
import sys
from typing import NamedTuple

from buggy_raft import Vote, VoteTwice

REQUESTS_SEEN = 0
VOTES = {}


def _counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count

    return bump


bump = _counter()


class Base(VoteTwice):
    def grant(self, sender, m, out, free):
        granted = m.term == self.current_term and free and self.log_ok(m)
        if granted:
            self.voted_for = sender
        out.send(sender, Vote(self.current_term, granted))


class ModuleCounter(Base):
    """Checks votedFor only for the first three requests the module has seen (a debugging leftover)."""

    def on_request_vote(self, sender, m, out):
        global REQUESTS_SEEN
        REQUESTS_SEEN += 1
        self.grant(sender, m, out, self.voted_for in (None, sender) or REQUESTS_SEEN > 3)


class ModuleVotes(Base):
    """Keeps its votes in a module dict: every node (and every restored state) shares it."""

    def on_request_vote(self, sender, m, out):
        key = (self.id, m.term)
        free = VOTES.get(key) in (None, sender)
        if free:
            VOTES[key] = sender
        self.grant(sender, m, out, free)


class SharedClassList(Base):
    granted_terms = []  # one list for every instance

    def on_request_vote(self, sender, m, out):
        self.granted_terms.append(m.term)
        self.grant(sender, m, out, self.voted_for in (None, sender))


class MutableDefault(Base):
    def on_request_vote(self, sender, m, out):
        self.grant(sender, m, out, self.remember(m.term) and self.voted_for in (None, sender))

    def remember(self, term, seen=[]):  # noqa: B006 - the mistake
        seen.append(term)
        return True


class ClosureCounter(Base):
    def on_request_vote(self, sender, m, out):
        self.grant(sender, m, out, bump() > 0 and self.voted_for in (None, sender))


class SysCounter(Base):
    """ModuleCounter with its counter hung on ``sys``, outside the student's folder, where no watch looks: checks
    votedFor for the first four vote requests the process has seen. A run with 2 timeouts delivers at most 4, so
    within those bounds the code is correct; the search, whose workers count the calls of every path, is not."""

    def on_request_vote(self, sender, m, out):
        sys.qc_attack_requests_seen = getattr(sys, "qc_attack_requests_seen", 0) + 1
        self.grant(sender, m, out, self.voted_for in (None, sender) or sys.qc_attack_requests_seen > 4)


class Box(enum.Enum):
    GRANTED = []  # a member freezes as its name; its value is one list


class EnumValue(Base):
    """Keeps the terms it voted in inside an enum member's value."""

    def on_request_vote(self, sender, m, out):
        Box.GRANTED.value.append(m.term)
        self.grant(sender, m, out, self.voted_for in (None, sender))


class Seen(NamedTuple):
    terms: list = []  # the default: one list shared by every Seen() that omits it


class NamedTupleDefault(Base):
    """Keeps the terms it voted in inside a named tuple's mutable default."""

    def on_request_vote(self, sender, m, out):
        Seen().terms.append(m.term)
        self.grant(sender, m, out, self.voted_for in (None, sender))
