"""Raft.tla's leader election as first-order formulas, for ``quorumcheck prove raft``.

The explicit model (:mod:`.raft`) enumerates the states of one bounded
instance; this module describes the election fragment of raft.tla for every
number of servers and terms at once. Servers and quorums are uninterpreted
sorts (quorums with the intersection axiom: the majorities of the explicit
model intersect pairwise), terms are integers. The vocabulary extends the one
the standard properties read (:data:`quorumcheck.invariants.standard.RAFT`:
``current_term``, ``role``, ``elected``) with what the election keeps:

* ``voted_for(s, c)``: raft.tla's ``votedFor[s] = c`` (no tuple is ``Nil``);
* ``votes_granted(c, s)``: ``s \\in votesGranted[c]``;
* ``request_vote(src, dst, t)`` and ``vote_granted_msg(src, dst, t)``: the
  RequestVote requests and the *granted* RequestVote responses in flight, as
  sets (a message's copies and the denied responses are not kept);
* ``voted(s, t, c)``: a history (ghost) relation, "s granted its vote to c in
  term t", which raft.tla does not keep: it is what election safety rests on.

This is an **over-approximation** of the explicit model: every step of
:class:`~.raft.RaftModel` (mapped by :func:`raft_election_interpretation`,
with the vote history of a path to it) is a step of one of these actions --
a step that changes nothing here is a ``DropMessage`` that drops nothing --
so an inductive invariant proved here holds in every instance of the model.
``tests/test_prove_raft.py`` checks this one way on the explicit model with
``election_only=True`` (the first 300 states of a search, and a scripted
election). The approximations:

* ``Timeout`` and ``UpdateTerm`` move a term to *some* higher term (there is
  no arithmetic: ``current_term'(s) > current_term(s)`` stands for ``+ 1`` and
  for "the term of a newer message"), and ``UpdateTerm`` needs no message;
* ``HandleRequestVote`` may always deny (the log up-to-date check is a free
  choice) and grants only when raft.tla may; ``RequestVote`` ignores
  ``votesResponded``;
* a received message may stay (another copy of it may be in the bag), and
  ``DropMessage`` removes any messages (drops, stale responses, denials);
* ``StepDown`` is a candidate returning to follower on an AppendEntries
  request of its term; the rest of log replication changes nothing here.

The inductive invariant: every vote a server casts is recorded in ``voted``;
a server votes at most once per term (its votes in its current term are its
``voted_for``; it has none in later terms); granted responses and a
candidate's ``votes_granted`` are recorded votes; and an elected leader has
the votes of a quorum in its term. Two quorums share a server, which voted
once, so two leaders of one term are one.

Examples
--------
>>> system = raft_system()
>>> [a.name for a in system.actions][:4]
['Timeout', 'RequestVote', 'UpdateTerm', 'HandleRequestVote']
>>> system.invariant_sets["first-attempt"]
('election-safety', 'one-vote-per-term')
"""

from __future__ import annotations

from typing import Any

from quorumcheck.invariants import standard
from quorumcheck.invariants.language import And, Exists, ForAll, Formula, Iff, Not, Or, Relation, Sort, Var
from quorumcheck.invariants.standard import Server, Term, current_term, elected, role
from quorumcheck.invariants.structure import Interpretation
from quorumcheck.invariants.system import Conjunct, SymbolicAction, TransitionSystem

from .raft import NIL, ROLE_NAMES, RV_REQUEST, RV_RESPONSE, RaftModel, RaftState

__all__ = ["RAFT_ELECTION", "raft_system", "raft_election_interpretation", "vote_evidence"]

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

FOLLOWER = standard.Role("Follower")
CANDIDATE_ROLE = standard.Role("Candidate")
LEADER = standard.Role("Leader")

i, j, c, c2, m, x, y = Server.vars("i j c c2 m x y")
s = Server.var("s")
t, u = Term.vars("t u")
q, q2 = Quorum.vars("Q Q2")

STATE = ("current_term", "role", "voted_for", "votes_granted", "request_vote", "vote_granted_msg", "voted",
         "elected")


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
               ForAll([x, y, u], vote_granted_msg.after(x, y, u) >> vote_granted_msg(x, y, u)))
    return SymbolicAction("DropMessage", (), body, ("request_vote", "vote_granted_msg"),
                          "messages leave the network (lost, stale, or denied)")


INIT = And(
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

INVARIANT_SETS = {
    "inductive": tuple(cj.name for cj in CONJUNCTS),
    "first-attempt": ("election-safety", "one-vote-per-term"),
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


def raft_election_interpretation(model: RaftModel, quorums: tuple[int, ...] | None = None) -> Interpretation:
    """An explicit model's states, paired with their vote history, in the symbolic vocabulary.

    A state here is ``(raft_state, voted)``, ``voted`` a frozenset of
    ``(voter, term, candidate)`` (see :func:`vote_evidence`). Quorums are the
    majorities of servers, as bitmasks (or ``quorums``). The log symbols of
    the Raft signature read as empty logs: nothing here reads them.

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
    indexes = (0,)

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
        {"Server": servers, "Term": terms, "Index": indexes, "Value": (-1,), "Role": ROLE_NAMES, "Quorum": quorums},
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
            "member": frozenset((k, mask) for mask in quorums for k in servers if mask >> k & 1),
            "log_len": (0,) * n,
            "log_term": (0,) * n,
            "log_value": (-1,) * n,
            "commit_index": (0,) * n,
        },
        display={"Server": model.servers.__getitem__},
    )


def raft_system() -> TransitionSystem:
    """Raft.tla's leader election as a :class:`~quorumcheck.invariants.system.TransitionSystem` for every size.

    >>> raft_system().safety
    ('election-safety',)
    """
    return TransitionSystem(
        name="raft",
        signature=RAFT_ELECTION,
        state=STATE,
        init=INIT,
        actions=(_timeout(), _request_vote(), _update_term(), _handle_request_vote(),
                 _handle_request_vote_response(), _become_leader(), _step_down(), _restart(), _drop()),
        axioms=(QUORUMS_INTERSECT, ROLES_DISTINCT),
        conjuncts=CONJUNCTS,
        invariant_sets=INVARIANT_SETS,
        safety=("election-safety",),
        explicit=None,
        notes={"voted": "voted(s, t, c) is a history relation: s voted for c in term t",
               "Term": "terms only rise; Timeout and UpdateTerm move to some higher term"},
    )

