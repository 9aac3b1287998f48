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

A counterexample to induction is searched for in the explicit instance of
its sizes, :class:`RaftWithVotes` (raft.tla's election with the vote
history, and the CTI's quorums); ``_explicit`` says what "reachable" then
means.

Examples
--------
>>> system = raft_system()
>>> [a.name for a in system.actions][:4]
['Timeout', 'RequestVote', 'UpdateTerm', 'HandleRequestVote']
>>> system.invariant_sets["first-attempt"]
('election-safety', 'one-vote-per-term')
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from quorumcheck.invariants import standard
from quorumcheck.invariants.language import (
    And, Exists, ForAll, Formula, Function, Iff, Not, Or, Relation, Sort, Var,
)
from quorumcheck.invariants.standard import Server, Term, current_term, elected, role
from quorumcheck.invariants.structure import Interpretation
from quorumcheck.invariants.system import Conjunct, SymbolicAction, TransitionSystem

from .api import Action, Model, StepEvents
from .raft import NIL, ROLE_NAMES, RV_REQUEST, RV_RESPONSE, RaftModel, RaftState

__all__ = ["RAFT_ELECTION", "RaftWithVotes", "raft_system", "raft_election_interpretation", "vote_evidence"]

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


VotedState = tuple[RaftState, frozenset[tuple[int, int, int]]]
"""A state of :class:`RaftWithVotes`: raft.tla's state and the votes ``(voter, term, candidate)`` cast so far."""


class RaftWithVotes(Model[VotedState]):
    """A :class:`~.raft.RaftModel` whose states also keep the vote history ``voted`` of the symbolic model.

    raft.tla does not remember the votes of earlier terms; the ghost relation
    ``voted`` of :func:`raft_system` does. Each state here is ``(raft_state,
    votes)``, and each step adds the votes the new state shows
    (:func:`vote_evidence`), so ``votes`` is the union of the evidence along
    the path. Two paths to one Raft state with different histories are two
    states here. The bound is the Raft model's; there are no properties.

    Parameters
    ----------
    raft : RaftModel
        The instance to run (usually ``election_only=True`` and ``max_log=0``).
    quorums : tuple of int, optional
        The quorums, as bitmasks of servers: a candidate becomes leader once
        the votes it counted include one of them (``BecomeLeader(i, Q)`` of
        :func:`raft_system`). Default: raft.tla's majorities. With quorums,
        ``raft`` must have no logs (its commit rule would count with them).

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
            if raft.max_log:
                raise ValueError("RaftWithVotes with quorums needs max_log=0: the commit rule counts majorities")
            raft = copy.copy(raft)
            raft._quorum = 1  # it offers BecomeLeader from one vote on; successors keep the steps a quorum allows
        self.raft = raft

    def init_states(self) -> Iterable[VotedState]:
        return [(s, vote_evidence(self.raft, s)) for s in self.raft.init_states()]

    def successors(self, state: VotedState) -> list[tuple[Action, VotedState]]:
        raft, votes = self.raft, state[1]
        out = []
        for label, after in raft.successors(state[0]):
            if self.quorums is not None and label.name == "BecomeLeader":
                granted = state[0].servers[raft.servers.index(label.args["i"])].votes_granted
                if not any(q & granted == q for q in self.quorums):
                    continue
            seen = vote_evidence(raft, after)
            out.append((label, (after, votes if seen <= votes else votes | seen)))
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
                "voted": [[names[s], t, names[c]] for s, t, c in sorted(state[1])]}

    def events(self, before: VotedState, action: Action, after: VotedState) -> StepEvents:
        return self.raft.events(before[0], action, after[0])


def _explicit(universe: Mapping[str, tuple[Any, ...]], statics: Mapping[str, Any]) -> Any:
    """The explicit instance with a CTI's sizes: ``(RaftWithVotes, state -> structure)``, or None.

    The instance is raft.tla's election (:class:`~.raft.RaftModel` with
    ``election_only=True``, no logs, restarts and message loss on) with the
    CTI's servers, ``max_term`` its largest term, as many messages in flight
    as there are servers, and the CTI's quorums (``member``; a candidate
    wins with the votes of one of them, as ``BecomeLeader(i, Q)`` says,
    majorities or not), run with the vote history (:class:`RaftWithVotes`).

    A state is read as :func:`raft_election_interpretation` reads it (the
    mapping the consistency test checks): messages as sets, so copies of a
    message are one message, and denied RequestVote responses, AppendEntries
    messages, ``votesResponded`` and the rest of raft.tla's variables are not
    shown. So "reachable" means: some reachable state of raft.tla with these
    servers and quorums, with the votes cast on a path to it, reads as the
    CTI's pre-state (up to renamings of servers that keep the quorums); the
    conjunct is then false in that instance. "Unreachable" holds for these
    bounds only: terms above the CTI's never matter (terms only rise), but a
    state that needs more messages in flight at once than there are servers
    is not explored, and the symbolic actions over-approximate raft.tla (a
    term may jump, ``UpdateTerm`` needs no message), so a state unreachable
    here may still be reachable in :func:`raft_system`. Returns None when the
    CTI's terms were not read as integers.
    """
    servers = list(universe.get("Server", ()))
    terms = universe.get("Term", ())
    if not servers or not all(isinstance(t, int) for t in terms):
        return None  # Z3's model was read without bounded terms: no instance to compare with
    n = len(servers)
    members = statics.get("member", frozenset())
    quorums = tuple(sorted({sum(1 << servers.index(m) for m, qq in members if qq == quorum)
                            for quorum in universe.get("Quorum", ())}))
    if not quorums or 0 in quorums:
        return None
    raft = RaftModel(servers=n, max_term=max((1, *terms)), max_log=0, max_in_flight=n, election_only=True,
                     history=False)
    interp = raft_election_interpretation(raft, quorums)
    names = list(STATE)
    renames: dict[str, Any] = {}
    for name in names:
        domain = RAFT_ELECTION.symbol(name).domain
        if isinstance(RAFT_ELECTION.symbol(name), Function):  # current_term, role: one result per server
            renames[name] = lambda raw: frozenset(zip(servers, raw))
        else:
            at = [k for k, d in enumerate(domain) if d is Server]
            renames[name] = lambda raw, at=at: frozenset(
                tuple(servers[x] if k in at else x for k, x in enumerate(row)) for row in raw)

    def structure(state: VotedState) -> dict[str, frozenset[tuple[Any, ...]]]:
        raw = interp.values(names, state)
        return {name: renames[name](raw[name]) for name in names}

    return RaftWithVotes(raft, quorums), structure


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
        explicit=_explicit,
        notes={"voted": "voted(s, t, c) is a history relation: s voted for c in term t",
               "Term": "terms only rise; Timeout and UpdateTerm move to some higher term"},
    )

