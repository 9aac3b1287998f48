"""Raft.tla's leader election and log replication as first-order formulas, for ``quorumcheck prove raft``.

The explicit model (:mod:`.raft`) enumerates the states of one bounded
instance; this module describes raft.tla's election and the part of log
replication that Log Matching rests on, for every number of servers, terms,
indexes and values at once. Servers, values and quorums are uninterpreted
sorts (quorums with the intersection axiom: the majorities of the explicit
model intersect pairwise), terms and indexes are integers. The vocabulary
extends the one the standard properties read
(:data:`quorumcheck.invariants.standard.RAFT`: ``current_term``, ``role``,
``elected``) with what the election and replication keep:

* ``voted_for(s, c)``: raft.tla's ``votedFor[s] = c`` (no tuple is ``Nil``);
* ``votes_granted(c, s)``: ``s \\in votesGranted[c]``;
* ``request_vote(src, dst, t)`` and ``vote_granted_msg(src, dst, t)``: the
  RequestVote requests and the *granted* RequestVote responses in flight, as
  sets (a message's copies and the denied responses are not kept);
* ``log(s, n, t, v)``: ``log[s][n] = [term |-> t, value |-> v]``, as a
  relation (Ivy's style: no function from indexes to terms, so the sort graph
  gains no edge from Index to Term);
* ``append_entry(dst, mt, n, t, v)``: an AppendEntries request of term ``mt``
  to ``dst`` carrying the entry ``(n, t, v)`` is in flight (requests without
  an entry, the sender, ``prevLogTerm`` and ``mcommitIndex`` are not kept);
* ``voted(s, t, c)`` and ``created(n, t, v)``: history (ghost) relations, "s
  granted its vote to c in term t" and "a leader of term t created the entry
  (n, t, v)", which raft.tla does not keep: election safety and log matching
  rest on them.

This is an **over-approximation** of the explicit model: every step of
:class:`~.raft.RaftModel` (mapped by :func:`raft_election_interpretation`,
with the ghosts of a path to it) is a step of one of these actions -- a step
that changes nothing here is a ``DropMessage`` that drops nothing -- so an
inductive invariant proved here holds in every instance of the model.
``tests/test_prove_raft.py`` checks this one way on the explicit model (the
first 300 states of an election search, a scripted election, and every state
a search reaches from a leader with logs of one entry). The approximations:

* ``Timeout`` and ``UpdateTerm`` move a term to *some* higher term (there is
  no arithmetic: ``current_term'(s) > current_term(s)`` stands for ``+ 1`` and
  for "the term of a newer message"), and ``UpdateTerm`` needs no message;
* ``HandleRequestVote`` may always deny (the log up-to-date check is a free
  choice) and grants only when raft.tla may; ``RequestVote`` ignores
  ``votesResponded``;
* a received message may stay (another copy of it may be in the bag), and
  ``DropMessage`` removes any messages (drops, stale responses, denials,
  answered AppendEntries requests);
* ``StepDown`` is a candidate returning to follower on an AppendEntries
  request of its term;
* ``ClientRequest`` appends at any index with nothing at or above it (raft.tla:
  ``Len(log) + 1``); ``AppendEntries`` sends any entry of the leader's log;
  ``HandleAppendEntries`` appends a received entry of the follower's term
  where its log has nothing (the ``prevLogIndex``/``prevLogTerm`` check is a
  free choice); ``TruncateLog`` lets a follower remove any of its entries
  (raft.tla: the last one, on a conflict). Commit indexes and AppendEntries
  responses are not modelled: this proves Log Matching's first half, not
  State Machine Safety.

The inductive invariant: every vote a server casts is recorded in ``voted``;
a server votes at most once per term (its votes in its current term are its
``voted_for``; it has none in later terms); granted responses and a
candidate's ``votes_granted`` are recorded votes; and an elected leader has
the votes of a quorum in its term. Two quorums share a server, which voted
once, so two leaders of one term are one. For logs: every entry in a log or
in flight was created; a leader holds every entry created in its term, and
creates only where its log has nothing, so one entry is created per index and
term; created entries have an elected leader, a leader was elected in its
term, and a leader of term t is never a candidate in t again -- so the
candidate that wins term t finds no entries of t yet.

A counterexample to induction is searched for in the explicit instance of
its sizes, :class:`RaftWithVotes` (raft.tla with the ghosts, logs up to the
CTI's largest index, and the CTI's quorums); ``_explicit`` says what
"reachable" then means.

Examples
--------
>>> system = raft_system()
>>> [a.name for a in system.actions][:4]
['Timeout', 'RequestVote', 'UpdateTerm', 'HandleRequestVote']
>>> system.invariant_sets["first-attempt"], system.safety
(('election-safety', 'one-vote-per-term', 'log-matching'), ('election-safety', 'log-matching'))
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from quorumcheck.invariants import standard
from quorumcheck.invariants.language import (
    And, Exists, ForAll, Formula, Function, Iff, Not, Or, Relation, Sort, Var,
)
from quorumcheck.invariants.standard import Index, RaftValue, Server, Term, current_term, elected, role
from quorumcheck.invariants.structure import Interpretation
from quorumcheck.invariants.system import Conjunct, SymbolicAction, TransitionSystem

from .api import Action, Model, StepEvents
from .raft import AE_REQUEST, NIL, ROLE_NAMES, RV_REQUEST, RV_RESPONSE, RaftModel, RaftState

__all__ = ["RAFT_ELECTION", "RaftWithVotes", "entry_evidence", "raft_system", "raft_election_interpretation",
           "vote_evidence"]

Quorum = Sort("Quorum")

RAFT_ELECTION = standard.RAFT.extend("raft-election", [Quorum])
member = RAFT_ELECTION.relation("member", Server, Quorum)
voted_for = RAFT_ELECTION.relation("voted_for", Server, Server)
votes_granted = RAFT_ELECTION.relation("votes_granted", Server, Server)
"""votes_granted(c, s): candidate c counted s's vote."""
request_vote = RAFT_ELECTION.relation("request_vote", Server, Server, Term)
"""request_vote(src, dst, t): a RequestVote request from candidate src to dst in term t is in flight."""
vote_granted_msg = RAFT_ELECTION.relation("vote_granted_msg", Server, Server, Term)
"""vote_granted_msg(src, dst, t): src's response granting dst its vote in term t is in flight."""
voted = RAFT_ELECTION.relation("voted", Server, Term, Server)
"""voted(s, t, c): s granted its vote to c in term t (history)."""
log = RAFT_ELECTION.relation("log", Server, Index, Term, RaftValue)
"""log(s, n, t, v): s's log holds at index n an entry of term t and value v."""
created = RAFT_ELECTION.relation("created", Index, Term, RaftValue)
"""created(n, t, v): a leader of term t created the entry (n, t, v) (history)."""
append_entry = RAFT_ELECTION.relation("append_entry", Server, Term, Index, Term, RaftValue)
"""append_entry(dst, mt, n, t, v): an AppendEntries request of term mt to dst carrying the entry (n, t, v) is in
flight (requests without an entry, and the sender, are not kept)."""

FOLLOWER = standard.Role("Follower")
CANDIDATE_ROLE = standard.Role("Candidate")
LEADER = standard.Role("Leader")

i, j, c, c2, m, x, y = Server.vars("i j c c2 m x y")
s, s2 = Server.vars("s s2")
t, u = Term.vars("t u")
q, q2 = Quorum.vars("Q Q2")
n, k = Index.vars("n k")
t2, mt = Term.vars("t2 mt")
v, w = RaftValue.vars("v w")

STATE = ("current_term", "role", "voted_for", "votes_granted", "request_vote", "vote_granted_msg", "voted",
         "elected", "log", "created", "append_entry")


def _only_at(at: Var, changed: Formula, kept: Formula) -> Formula:
    """``changed`` for the server ``x == at``, ``kept`` for every other ``x``."""
    return And((x == at) >> changed, (x != at) >> kept)


def _term_up(at: Var) -> Formula:
    """current_term' is higher at ``at`` and unchanged elsewhere (raft.tla's + 1, over-approximated)."""
    return ForAll(x, _only_at(at, current_term.after(x) > current_term(x), current_term.after(x) == current_term(x)))


def _role_becomes(at: Var, value: Any) -> Formula:
    return ForAll(x, _only_at(at, role.after(x) == value, role.after(x) == role(x)))


def _clear_row(rel: Relation, at: Var) -> Formula:
    """rel'(at, y) is false for every y; the other rows are unchanged."""
    return ForAll([x, y], Iff(rel.after(x, y), (x != at) & rel(x, y)))


def _add(rel: Relation, args: tuple[Var, ...], new: tuple[Any, ...]) -> Formula:
    """rel' = rel with the tuple ``new`` added (``args`` are fresh variables of rel's sorts)."""
    same = And(*[a == b for a, b in zip(args, new)])
    return ForAll(list(args), Iff(rel.after(*args), rel(*args) | same))


def _consumed(rel: Relation, args: tuple[Var, ...], gone: tuple[Any, ...]) -> Formula:
    """rel' lies between rel without ``gone`` and rel: the received message leaves, unless a copy stays."""
    same = And(*[a == b for a, b in zip(args, gone)])
    return ForAll(list(args), And(rel.after(*args) >> rel(*args), (rel(*args) & Not(same)) >> rel.after(*args)))


def _timeout() -> SymbolicAction:
    body = And(role(i) != LEADER, _term_up(i), _role_becomes(i, CANDIDATE_ROLE),
               _clear_row(voted_for, i), _clear_row(votes_granted, i))
    return SymbolicAction("Timeout", (i,), body, ("current_term", "role", "voted_for", "votes_granted"),
                          "a follower or candidate starts an election in a higher term")


def _request_vote() -> SymbolicAction:
    body = And(role(i) == CANDIDATE_ROLE, _add(request_vote, (x, y, u), (i, j, current_term(i))))
    return SymbolicAction("RequestVote", (i, j), body, ("request_vote",), "candidate i asks j for its vote")


def _update_term() -> SymbolicAction:
    body = And(_term_up(i), _role_becomes(i, FOLLOWER), _clear_row(voted_for, i))
    return SymbolicAction("UpdateTerm", (i,), body, ("current_term", "role", "voted_for"),
                          "server i saw a higher term (in any message): it adopts it as a follower")


def _handle_request_vote() -> SymbolicAction:
    """Server i answers j's request of term t: it may deny; it grants only in its term, if not voted for another."""
    grant = And(
        t == current_term(i),
        ForAll(y, voted_for(i, y) >> (y == j)),
        ForAll([x, y], Iff(voted_for.after(x, y), Or(And(x == i, y == j), And(x != i, voted_for(x, y))))),
        _add(voted, (x, u, y), (i, t, j)),
        _add(vote_granted_msg, (x, y, u), (i, j, t)),
    )
    deny = And(
        ForAll([x, y], Iff(voted_for.after(x, y), voted_for(x, y))),
        ForAll([x, u, y], Iff(voted.after(x, u, y), voted(x, u, y))),
        ForAll([x, y, u], Iff(vote_granted_msg.after(x, y, u), vote_granted_msg(x, y, u))),
    )
    body = And(request_vote(j, i, t), t <= current_term(i), _consumed(request_vote, (x, y, u), (j, i, t)),
               grant | deny)
    return SymbolicAction("HandleRequestVote", (i, j, t), body,
                          ("voted_for", "voted", "vote_granted_msg", "request_vote"),
                          "server i answers candidate j's request of term t (denying, or granting its vote)")


def _handle_request_vote_response() -> SymbolicAction:
    body = And(vote_granted_msg(j, i, t), t == current_term(i),
               ForAll([x, y], Iff(votes_granted.after(x, y), votes_granted(x, y) | ((x == i) & (y == j)))),
               _consumed(vote_granted_msg, (x, y, u), (j, i, t)))
    return SymbolicAction("HandleRequestVoteResponse", (i, j, t), body, ("votes_granted", "vote_granted_msg"),
                          "server i counts j's vote, granted in i's term t")


def _become_leader() -> SymbolicAction:
    body = And(role(i) == CANDIDATE_ROLE, ForAll(m, member(m, q) >> votes_granted(i, m)),
               _role_becomes(i, LEADER), _add(elected, (u, x), (current_term(i), i)))
    return SymbolicAction("BecomeLeader", (i, q), body, ("role", "elected"),
                          "candidate i, with the votes of quorum Q, becomes leader of its term")


def _step_down() -> SymbolicAction:
    body = And(role(i) == CANDIDATE_ROLE, _role_becomes(i, FOLLOWER))
    return SymbolicAction("StepDown", (i,), body, ("role",),
                          "candidate i hears from a leader of its term and returns to follower")


def _restart() -> SymbolicAction:
    body = And(_role_becomes(i, FOLLOWER), _clear_row(votes_granted, i))
    return SymbolicAction("Restart", (i,), body, ("role", "votes_granted"),
                          "server i restarts, keeping its term and its vote")


def _drop() -> SymbolicAction:
    body = And(ForAll([x, y, u], request_vote.after(x, y, u) >> request_vote(x, y, u)),
               ForAll([x, y, u], vote_granted_msg.after(x, y, u) >> vote_granted_msg(x, y, u)),
               ForAll([x, mt, k, u, w], append_entry.after(x, mt, k, u, w) >> append_entry(x, mt, k, u, w)))
    return SymbolicAction("DropMessage", (), body, ("request_vote", "vote_granted_msg", "append_entry"),
                          "messages leave the network (lost, stale, or denied)")


def _nothing_at(at: Any, index: Any) -> Formula:
    """Server ``at``'s log holds no entry at ``index``."""
    return ForAll([t2, w], Not(log(at, index, t2, w)))


def _client_request() -> SymbolicAction:
    """raft.tla appends at Len(log) + 1; here at any index n >= 1 with nothing at n or above (no arithmetic)."""
    body = And(role(i) == LEADER, Index(1) <= n, ForAll(k, (n <= k) >> _nothing_at(i, k)),
               _add(log, (x, k, u, w), (i, n, current_term(i), v)),
               _add(created, (k, u, w), (n, current_term(i), v)))
    return SymbolicAction("ClientRequest", (i, n, v), body, ("log", "created"),
                          "leader i appends value v, as an entry of its term, past the end of its log")


def _append_entries() -> SymbolicAction:
    body = And(role(i) == LEADER, i != j, log(i, n, t, v),
               _add(append_entry, (x, mt, k, u, w), (j, current_term(i), n, t, v)))
    return SymbolicAction("AppendEntries", (i, j, n, t, v), body, ("append_entry",),
                          "leader i sends j an entry of its log, in a request of its term")


def _handle_append_entries() -> SymbolicAction:
    """The follower appends the entry where its log has nothing (the prevLog check is a free choice)."""
    body = And(append_entry(i, current_term(i), n, t, v), role(i) == FOLLOWER, _nothing_at(i, n),
               _add(log, (x, k, u, w), (i, n, t, v)))
    return SymbolicAction("HandleAppendEntries", (i, n, t, v), body, ("log",),
                          "follower i appends an entry it received in a request of its term")


def _truncate_log() -> SymbolicAction:
    """raft.tla removes the last entry on a conflict; here a follower may remove any of its entries."""
    body = And(role(i) == FOLLOWER,
               ForAll([x, k, u, w], And(log.after(x, k, u, w) >> log(x, k, u, w),
                                        (log(x, k, u, w) & (x != i)) >> log.after(x, k, u, w))))
    return SymbolicAction("TruncateLog", (i,), body, ("log",),
                          "follower i removes entries that conflict with its leader's")


INIT = And(
    ForAll([s, n, t, v], Not(log(s, n, t, v)) & Not(created(n, t, v))),
    ForAll([s, mt, n, t, v], Not(append_entry(s, mt, n, t, v))),
    ForAll(s, (current_term(s) == Term(1)) & (role(s) == FOLLOWER)),
    ForAll([s, c], Not(voted_for(s, c)) & Not(votes_granted(s, c))),
    ForAll([s, c, t], Not(request_vote(s, c, t)) & Not(vote_granted_msg(s, c, t)) & Not(voted(s, t, c))),
    ForAll([t, s], Not(elected(t, s))),
)

QUORUMS_INTERSECT = ForAll([q, q2], Exists(m, member(m, q) & member(m, q2)))
ROLES_DISTINCT = And(FOLLOWER != CANDIDATE_ROLE, FOLLOWER != LEADER, CANDIDATE_ROLE != LEADER)

CONJUNCTS = (
    Conjunct("election-safety", standard.ELECTION_SAFETY, "at most one leader is elected per term",
             uses=("elected-by-quorum", "candidate-votes-recorded", "one-vote-per-term")),
    Conjunct("elected-by-quorum",
             ForAll([t, s], elected(t, s) >> Exists(q, ForAll(m, member(m, q) >> voted(m, t, s)))),
             "a leader of term t has the votes of a quorum in term t",
             uses=("candidate-votes-recorded",)),
    Conjunct("one-vote-per-term", ForAll([s, t, c, c2], (voted(s, t, c) & voted(s, t, c2)) >> (c == c2)),
             "a server votes for at most one candidate per term",
             uses=("vote-recorded",)),
    Conjunct("vote-recorded", ForAll([s, c], voted(s, current_term(s), c) >> voted_for(s, c)),
             "a vote cast in a server's current term is its voted_for",
             uses=("no-future-votes",)),
    Conjunct("no-future-votes", ForAll([s, t, c], voted(s, t, c) >> (t <= current_term(s))),
             "a server has cast no vote in a term above its own"),
    Conjunct("granted-msg-recorded", ForAll([s, c, t], vote_granted_msg(s, c, t) >> voted(s, t, c)),
             "a granted response reports a vote its sender cast"),
    Conjunct("candidate-votes-recorded",
             ForAll([c, s], ((role(c) == CANDIDATE_ROLE) & votes_granted(c, s)) >> voted(s, current_term(c), c)),
             "a candidate counts only votes cast for it in its term",
             uses=("granted-msg-recorded",)),
)

_ELECTION_ARGUMENT = ("created-when-elected", "elected-by-quorum", "candidate-votes-recorded", "one-vote-per-term",
                      "elected-not-candidate", "election-safety", "leader-elected")
"""BecomeLeader finds no entry of its term (the election's argument again); ClientRequest's other leaders of its
term are itself."""

LOG_CONJUNCTS = (
    Conjunct("log-matching",
             ForAll([s, s2, n, t, v, w], (log(s, n, t, v) & log(s2, n, t, w)) >> (v == w)),
             "two logs with an entry of one index and term hold the same value there (Log Matching, first half)",
             uses=("entries-created", "append-msg-created", "one-entry-per-index-term", "leader-has-own-entries")),
    Conjunct("entries-created", ForAll([s, n, t, v], log(s, n, t, v) >> created(n, t, v)),
             "every entry in a log was created by a leader",
             uses=("append-msg-created",)),
    Conjunct("append-msg-created", ForAll([s, mt, n, t, v], append_entry(s, mt, n, t, v) >> created(n, t, v)),
             "every entry in flight was created by a leader",
             uses=("entries-created",)),
    Conjunct("one-entry-per-index-term",
             ForAll([n, t, v, w], (created(n, t, v) & created(n, t, w)) >> (v == w)),
             "at most one entry is created per index and term",
             uses=("leader-has-own-entries",)),
    Conjunct("leader-has-own-entries",
             ForAll([s, n, t, v], (created(n, t, v) & (role(s) == LEADER) & (current_term(s) == t)) >> log(s, n, t, v)),
             "a leader's log holds every entry created in its term",
             uses=_ELECTION_ARGUMENT),
    Conjunct("created-when-elected", ForAll([n, t, v], created(n, t, v) >> Exists(s, elected(t, s))),
             "entries of term t are created only once a leader of t is elected",
             uses=("leader-elected",)),
    Conjunct("leader-elected", ForAll(s, (role(s) == LEADER) >> elected(current_term(s), s)),
             "a leader was elected in its current term"),
    Conjunct("elected-not-candidate",
             ForAll([t, s], (elected(t, s) & (current_term(s) == t)) >> (role(s) != CANDIDATE_ROLE)),
             "a leader of term t is never again a candidate in t",
             uses=("elected-not-future",)),
    Conjunct("elected-not-future", ForAll([t, s], elected(t, s) >> (t <= current_term(s))),
             "a server is elected only in terms up to its own"),
)

INVARIANT_SETS = {
    "inductive": tuple(cj.name for cj in (*CONJUNCTS, *LOG_CONJUNCTS)),
    "election": tuple(cj.name for cj in CONJUNCTS),
    "first-attempt": ("election-safety", "one-vote-per-term", "log-matching"),
    "log-first-attempt": (*(cj.name for cj in CONJUNCTS), "log-matching", "entries-created", "append-msg-created",
                          "one-entry-per-index-term"),
    "election-safety": ("election-safety",),
}


def vote_evidence(model: RaftModel, state: RaftState) -> frozenset[tuple[int, int, int]]:
    """The votes ``(voter, term, candidate)`` a state shows: each ``votedFor`` and each granted response.

    The ghost relation ``voted`` of a reachable state is the union of this
    over the states of a path to it (raft.tla does not keep it).

    >>> m = RaftModel(servers=2, max_term=2, election_only=True)
    >>> vote_evidence(m, next(iter(m.init_states())))
    frozenset()
    """
    out = {(k, srv.current_term, srv.voted_for) for k, srv in enumerate(state.servers) if srv.voted_for != NIL}
    out |= {(msg[2], msg[1], msg[3]) for msg, _count in state.messages if msg[0] == RV_RESPONSE and msg[4]}
    return frozenset(out)


def entry_evidence(state: RaftState) -> frozenset[tuple[int, int, int]]:
    """The entries ``(index, term, value)`` the logs of a state hold.

    Every entry was created by a ``ClientRequest`` and only copied since, so
    the ghost relation ``created`` of a reachable state is the union of this
    over the states of a path to it.

    >>> m = RaftModel(servers=2, max_term=2, max_log=1)
    >>> entry_evidence(next(iter(m.init_states())))
    frozenset()
    """
    return frozenset((idx, term, value) for srv in state.servers for idx, (term, value) in enumerate(srv.log, start=1))


def raft_election_interpretation(model: RaftModel, quorums: tuple[int, ...] | None = None) -> Interpretation:
    """An explicit model's states, paired with their vote history, in the symbolic vocabulary.

    A state here is ``(raft_state, voted)`` or ``(raft_state, voted,
    created)``: ``voted`` a frozenset of ``(voter, term, candidate)`` (see
    :func:`vote_evidence`), ``created`` of ``(index, term, value)`` (see
    :func:`entry_evidence`; empty when absent). Quorums are the majorities of
    servers, as bitmasks (or ``quorums``). ``log`` reads each server's log,
    ``append_entry`` the AppendEntries requests that carry an entry (as
    ``(dest, term, prevLogIndex + 1, entry term, entry value)``); the
    function symbols ``log_len``, ``log_term``, ``log_value`` and
    ``commit_index`` of the standard signature read as constants: nothing
    here reads them.

    >>> m = RaftModel(servers=2, max_term=2, election_only=True)
    >>> interp = raft_election_interpretation(m)
    >>> s0 = next(iter(m.init_states()))
    >>> interp.read("role", (s0, frozenset())), interp.universe["Quorum"]
    (('Follower', 'Follower'), (3,))
    """
    n = len(model.servers)
    servers = tuple(range(n))
    if quorums is None:
        quorums = tuple(mask for mask in range(1 << n) if 2 * mask.bit_count() > n)
    terms = tuple(range(model.max_term + 2))
    indexes = (0,) if model.election_only else tuple(range(model.max_log + 2))  # ClientRequest may pass max_log

    def entries(st: tuple[Any, ...]) -> frozenset[tuple[int, ...]]:
        return frozenset((k, idx, term, value) for k, srv in enumerate(st[0].servers)
                         for idx, (term, value) in enumerate(srv.log, start=1))

    def in_flight(st: tuple[Any, ...]) -> frozenset[tuple[int, ...]]:
        return frozenset((msg[3], msg[1], msg[4] + 1, *msg[6][0]) for msg, _count in st[0].messages
                         if msg[0] == AE_REQUEST and msg[6])

    def messages(kind: int) -> Any:
        def read(st: tuple[RaftState, Any]) -> frozenset[tuple[int, ...]]:
            out = set()
            for msg, _count in st[0].messages:
                if msg[0] == kind and (kind == RV_REQUEST or msg[4]):
                    out.add((msg[2], msg[3], msg[1]))
            return frozenset(out)
        return read

    return Interpretation(
        RAFT_ELECTION,
        {"Server": servers, "Term": terms, "Index": indexes, "Value": tuple(range(len(model.values))),
         "Role": ROLE_NAMES, "Quorum": quorums},
        {
            "current_term": lambda st: tuple(srv.current_term for srv in st[0].servers),
            "role": lambda st: tuple(ROLE_NAMES[srv.role] for srv in st[0].servers),
            "voted_for": lambda st: frozenset((k, srv.voted_for) for k, srv in enumerate(st[0].servers)
                                              if srv.voted_for != NIL),
            "votes_granted": lambda st: frozenset((k, v) for k, srv in enumerate(st[0].servers)
                                                  for v in servers if srv.votes_granted >> v & 1),
            "request_vote": messages(RV_REQUEST),
            "vote_granted_msg": messages(RV_RESPONSE),
            "voted": lambda st: st[1],
            "elected": lambda st: frozenset((e.term, e.leader) for e in st[0].elections),
            "log": entries,
            "created": lambda st: st[2] if len(st) > 2 else frozenset(),
            "append_entry": in_flight,
            "member": frozenset((k, mask) for mask in quorums for k in servers if mask >> k & 1),
            "log_len": (0,) * n,
            "log_term": (0,) * n,
            "log_value": (0,) * n,
            "commit_index": (0,) * n,
        },
        display={"Server": model.servers.__getitem__},
    )


VotedState = tuple[RaftState, frozenset[tuple[int, int, int]], frozenset[tuple[int, int, int]]]
"""A state of :class:`RaftWithVotes`: raft.tla's state, the votes ``(voter, term, candidate)`` cast so far and the
entries ``(index, term, value)`` created so far."""


class RaftWithVotes(Model[VotedState]):
    """A :class:`~.raft.RaftModel` whose states also keep the ghosts ``voted`` and ``created`` of the symbolic model.

    raft.tla does not remember the votes of earlier terms, nor entries no log
    holds any more; the ghost relations ``voted`` and ``created`` of
    :func:`raft_system` do. Each state here is ``(raft_state, votes,
    entries)``, and each step adds the votes and entries the new state shows
    (:func:`vote_evidence`, :func:`entry_evidence`), so each is the union of
    the evidence along the path. Two paths to one Raft state with different
    histories are two states here. The bound is the Raft model's; there are
    no properties.

    Parameters
    ----------
    raft : RaftModel
        The instance to run (usually ``election_only=True`` and ``max_log=0``).
    quorums : tuple of int, optional
        The quorums, as bitmasks of servers: a candidate becomes leader once
        the votes it counted include one of them (``BecomeLeader(i, Q)`` of
        :func:`raft_system`). Default: raft.tla's majorities. With quorums,
        ``AdvanceCommitIndex`` commits whatever the leader holds of its term
        (any one server agrees): commit indexes then differ from raft.tla's,
        but nothing else reads them (no log, term, vote or message but an
        AppendEntries request's ``mcommitIndex`` depends on a commit index), so
        what :func:`raft_election_interpretation` shows is unchanged.

    Examples
    --------
    >>> m = RaftWithVotes(RaftModel(servers=2, max_term=2, election_only=True, history=False))
    >>> s = next(iter(m.init_states()))
    >>> for label in ("Timeout(i=s1)", "RequestVote(i=s1, j=s2)", "Receive(RequestVoteRequest s1->s2",
    ...               "Receive(RequestVoteRequest s1->s2"):
    ...     (s,) = [t for a, t in m.successors(s) if str(a).startswith(label)]
    >>> sorted(s[1])  # s2 voted for s1 in term 2
    [(1, 2, 0)]
    """

    name = "raft"

    def __init__(self, raft: RaftModel, quorums: tuple[int, ...] | None = None) -> None:
        self.quorums = quorums
        if quorums is not None:
            raft = copy.copy(raft)
            raft._quorum = 1  # it offers BecomeLeader from one vote on; successors keep the steps a quorum allows
        self.raft = raft

    def init_states(self) -> Iterable[VotedState]:
        return [(s, vote_evidence(self.raft, s), entry_evidence(s)) for s in self.raft.init_states()]

    def successors(self, state: VotedState) -> list[tuple[Action, VotedState]]:
        raft, votes, made = self.raft, state[1], state[2]
        out = []
        for label, after in raft.successors(state[0]):
            if self.quorums is not None and label.name == "BecomeLeader":
                granted = state[0].servers[raft.servers.index(label.args["i"])].votes_granted
                if not any(q & granted == q for q in self.quorums):
                    continue
            seen, new = vote_evidence(raft, after), entry_evidence(after)
            out.append((label, (after, votes if seen <= votes else votes | seen, made if new <= made else made | new)))
        return out

    def within_boundary(self, state: VotedState) -> bool:
        return self.raft.within_boundary(state[0])

    def settings(self) -> dict[str, Any]:
        out = self.raft.settings()
        if self.quorums is not None:
            names = self.raft.servers
            out["quorums"] = [[names[k] for k in range(len(names)) if q >> k & 1] for q in self.quorums]
        return out

    def describe(self, state: VotedState) -> Any:
        names = self.raft.servers
        return {**self.raft.describe(state[0]),
                "voted": [[names[s], t, names[c]] for s, t, c in sorted(state[1])],
                "created": [[idx, t, self.raft.values[v]] for idx, t, v in sorted(state[2])]}

    def events(self, before: VotedState, action: Action, after: VotedState) -> StepEvents:
        return self.raft.events(before[0], action, after[0])


def _explicit(universe: Mapping[str, tuple[Any, ...]], statics: Mapping[str, Any]) -> Any:
    """The explicit instance with a CTI's sizes: ``(RaftWithVotes, state -> structure)``, or None.

    The instance is raft.tla (:class:`~.raft.RaftModel`, restarts and
    message loss on) with the CTI's servers and values, ``max_term`` its
    largest term, ``max_log`` its largest index (when that is 0, only the
    election: ``election_only=True``), as many messages in flight as there
    are servers, and the CTI's quorums (``member``; a candidate wins with the
    votes of one of them, as ``BecomeLeader(i, Q)`` says, majorities or not),
    run with the vote and entry histories (:class:`RaftWithVotes`).

    A state is read as :func:`raft_election_interpretation` reads it (the
    mapping the consistency test checks): messages as sets, so copies of a
    message are one message, and denied RequestVote responses, AppendEntries
    messages without an entry, responses to them, ``votesResponded``, commit
    indexes and the rest of raft.tla's variables are not shown. So
    "reachable" means: some reachable state of raft.tla with these servers
    and quorums, with the votes cast and entries created on a path to it,
    reads as the CTI's pre-state (up to renamings of servers and values that
    keep the quorums); the
    conjunct is then false in that instance. "Unreachable" holds for these
    bounds only: terms above the CTI's never matter (terms only rise), but a
    state that needs more messages in flight at once than there are servers
    is not explored, and the symbolic actions over-approximate raft.tla (a
    term may jump, ``UpdateTerm`` needs no message, a follower appends or
    drops any entry), so a state unreachable here may still be reachable in
    :func:`raft_system`. Returns None when the CTI's terms or indexes were not
    read as integers.
    """
    servers = list(universe.get("Server", ()))
    terms = universe.get("Term", ())
    indexes = universe.get("Index", ())
    values = list(universe.get("Value", ()))
    if not servers or not all(isinstance(e, int) for e in (*terms, *indexes)):
        return None  # Z3's model was read without bounded terms: no instance to compare with
    n = len(servers)
    members = statics.get("member", frozenset())
    quorums = tuple(sorted({sum(1 << servers.index(m) for m, qq in members if qq == quorum)
                            for quorum in universe.get("Quorum", ())}))
    if not quorums or 0 in quorums:
        return None
    max_log = max((0, *indexes))
    raft = RaftModel(servers=n, values=max(1, len(values)), max_term=max((1, *terms)), max_log=max_log,
                     max_in_flight=n, election_only=max_log == 0, history=False)
    interp = raft_election_interpretation(raft, quorums)
    names = list(STATE)
    renames: dict[str, Any] = {}
    for name in names:
        domain = RAFT_ELECTION.symbol(name).domain
        if isinstance(RAFT_ELECTION.symbol(name), Function):  # current_term, role: one result per server
            renames[name] = lambda raw: frozenset(zip(servers, raw))
        else:
            at = {k: servers for k, d in enumerate(domain) if d is Server}
            if values:
                at.update({k: values for k, d in enumerate(domain) if d is RaftValue})
            renames[name] = lambda raw, at=at: frozenset(
                tuple(at[k][x] if k in at else x for k, x in enumerate(row)) for row in raw)

    def structure(state: VotedState) -> dict[str, frozenset[tuple[Any, ...]]]:
        raw = interp.values(names, state)
        return {name: renames[name](raw[name]) for name in names}

    return RaftWithVotes(raft, quorums), structure


def raft_system() -> TransitionSystem:
    """Raft.tla's election and replication as a :class:`~quorumcheck.invariants.system.TransitionSystem`, every size.

    >>> raft_system().safety
    ('election-safety', 'log-matching')
    """
    return TransitionSystem(
        name="raft",
        signature=RAFT_ELECTION,
        state=STATE,
        init=INIT,
        actions=(_timeout(), _request_vote(), _update_term(), _handle_request_vote(),
                 _handle_request_vote_response(), _become_leader(), _step_down(), _restart(), _drop(),
                 _client_request(), _append_entries(), _handle_append_entries(), _truncate_log()),
        axioms=(QUORUMS_INTERSECT, ROLES_DISTINCT),
        conjuncts=(*CONJUNCTS, *LOG_CONJUNCTS),
        invariant_sets=INVARIANT_SETS,
        safety=("election-safety", "log-matching"),
        explicit=_explicit,
        notes={"voted": "voted(s, t, c) is a history relation: s voted for c in term t",
               "created": "created(n, t, v) is a history relation: a leader of term t created entry (n, t, v)",
               "Index": "ClientRequest appends at any index with nothing at or above it (raft.tla: Len(log) + 1)",
               "Term": "terms only rise; Timeout and UpdateTerm move to some higher term"},
    )

