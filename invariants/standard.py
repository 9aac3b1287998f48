"""The standard properties of Paxos and Raft, written once in the first-order language.

Models import these signatures and formulas and give an
:class:`~quorumcheck.invariants.Interpretation` of their states; the formulas
never mention a model's data structures.

Paxos (Lamport's Paxos.tla, through Voting.tla's refinement mapping)
--------------------------------------------------------------------
Sorts ``Acceptor``, ``Value``, ``Quorum`` and the ordered ``Ballot`` (whose
element ``-1`` stands for "none", as in Paxos.tla); relations
``vote(a, b, v)`` (a 2b message was sent), ``proposed(b, v)`` (a 2a message
was sent), ``member(a, Q)`` (static); function ``max_bal(a)``.

>>> print(PAXOS_AGREEMENT)
forall v:Value, w:Value. ((chosen(v) & chosen(w)) -> v = w)
>>> print(CHOSEN.body)
exists b:Ballot, Q:Quorum. forall a:Acceptor. (member(a, Q) -> vote(a, b, v))
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from .language import Definition, Exists, ForAll, Formula, Not, Signature, Sort

__all__ = [
    "Acceptor",
    "Value",
    "Ballot",
    "Quorum",
    "PAXOS",
    "vote",
    "proposed",
    "member",
    "max_bal",
    "CHOSEN",
    "CHOSEN_MIXING_BALLOTS",
    "PAXOS_AGREEMENT",
    "PAXOS_VALIDITY",
    "ONE_VALUE_PER_BALLOT",
    "VOTES_SAFE",
    "SAFE_AT",
    "VALUE_CHOSEN",
    "paxos_agreement",
    "paxos_value_chosen",
]

# -- Paxos ---------------------------------------------------------------------------------------------
Acceptor = Sort("Acceptor")
Value = Sort("Value")
Ballot = Sort("Ballot", ordered=True)
Quorum = Sort("Quorum")

PAXOS = Signature("paxos", [Acceptor, Value, Ballot, Quorum])
vote = PAXOS.relation("vote", Acceptor, Ballot, Value)
proposed = PAXOS.relation("proposed", Ballot, Value)
member = PAXOS.relation("member", Acceptor, Quorum)
max_bal = PAXOS.function("max_bal", [Acceptor], Ballot)

_a, _a2 = Acceptor.vars("a a2")
_v, _w = Value.vars("v w")
_b, _c = Ballot.vars("b c")
_q = Quorum.var("Q")

CHOSEN = Definition("chosen", [_v], Exists([_b, _q], ForAll(_a, member(_a, _q) >> vote(_a, _b, _v))))
"""chosen(v): some quorum voted for v in one ballot."""

CHOSEN_MIXING_BALLOTS = Definition(
    "chosen", [_v], Exists(_q, ForAll(_a, member(_a, _q) >> Exists(_b, vote(_a, _b, _v))))
)
"""The ``learner-mixes-ballots`` bug's chosen(v): every member of a quorum voted for v in *some* ballot."""


@functools.cache  # one formula object per definition: judging caches its grounding per formula
def paxos_agreement(chosen: Definition = CHOSEN):
    """Agreement over a given definition of chosen: at most one value is chosen."""
    return ForAll([_v, _w], (chosen(_v) & chosen(_w)) >> (_v == _w))


@functools.cache
def paxos_value_chosen(chosen: Definition = CHOSEN):
    """Reachability: some value is chosen."""
    return Exists(_v, chosen(_v))


PAXOS_AGREEMENT = paxos_agreement()
PAXOS_VALIDITY = ForAll(_v, CHOSEN(_v) >> Exists(_b, proposed(_b, _v)))
"""Validity: a chosen value was proposed (in a 2a message)."""

ONE_VALUE_PER_BALLOT = ForAll(
    [_a, _a2, _b, _v, _w], (vote(_a, _b, _v) & vote(_a2, _b, _w)) >> (_v == _w)
)
"""Voting.tla's OneValuePerBallot: two acceptors never vote for different values in one ballot."""

_DID_NOT_VOTE_AT = Definition("did_not_vote_at", [_a, _c], ForAll(_w, Not(vote(_a, _c, _w))))
_CANNOT_VOTE_AT = Definition("cannot_vote_at", [_a, _c], (max_bal(_a) > _c) & _DID_NOT_VOTE_AT(_a, _c))
_SAFE_AT = Definition(
    "safe_at",
    [_b, _v],
    ForAll(
        _c,
        ((Ballot(0) <= _c) & (_c < _b))
        >> Exists(_q, ForAll(_a, member(_a, _q) >> (vote(_a, _c, _v) | _CANNOT_VOTE_AT(_a, _c)))),
    ),
)
SAFE_AT = _SAFE_AT
"""safe_at(b, v): no value other than v was or can still be chosen in any ballot below b (Voting.tla's SafeAt)."""
VOTES_SAFE = ForAll([_a, _b, _v], vote(_a, _b, _v) >> _SAFE_AT(_b, _v))
"""Voting.tla's VotesSafe: every vote is for a value safe at its ballot."""

VALUE_CHOSEN = paxos_value_chosen()


# -- Raft ------------------------------------------------------------------------------------------------
Server = Sort("Server")
Term = Sort("Term", ordered=True)
Index = Sort("Index", ordered=True)
RaftValue = Sort("Value")
Role = Sort("Role")

RAFT = Signature("raft", [Server, Term, Index, RaftValue, Role])
current_term = RAFT.function("current_term", [Server], Term)
role = RAFT.function("role", [Server], Role)
"""``"Follower"``, ``"Candidate"`` or ``"Leader"``."""
log_len = RAFT.function("log_len", [Server], Index)
log_term = RAFT.function("log_term", [Server, Index], Term)
"""The term of entry i of a server's log; 0 (no term) past its end and at index 0."""
log_value = RAFT.function("log_value", [Server, Index], RaftValue)
"""The value of entry i of a server's log; the element ``-1`` past its end and at index 0."""
commit_index = RAFT.function("commit_index", [Server], Index)
elected = RAFT.relation("elected", Term, Server)
"""The history variable ``elections`` as (term, leader) pairs."""

LEADER = Role("Leader")
_s, _s2 = Server.vars("s s2")
_t = Term.var("t")
_i, _j = Index.vars("i j")

_SAME_ENTRY = Definition(
    "same_entry", [_s, _s2, _j],
    (log_term(_s, _j) == log_term(_s2, _j)) & (log_value(_s, _j) == log_value(_s2, _j)),
)
"""same_entry(s, s2, j): the two logs hold the same entry (term and value) at index j."""

_PREFIX_AGREES = Definition(
    "prefix_agrees", [_s, _s2, _i],
    ForAll(_j, ((Index(1) <= _j) & (_j <= _i)) >> _SAME_ENTRY(_s, _s2, _j)),
)
"""prefix_agrees(s, s2, i): the logs agree on entries 1..i."""

ELECTION_SAFETY = ForAll([_t, _s, _s2], (elected(_t, _s) & elected(_t, _s2)) >> (_s == _s2))
"""Election Safety, history form: at most one leader is elected per term."""

ELECTION_SAFETY_STATE = ForAll(
    [_s, _s2],
    ((role(_s) == LEADER) & (role(_s2) == LEADER) & (current_term(_s) == current_term(_s2))) >> (_s == _s2),
)
"""Election Safety, state form (weaker): no two servers are Leader with the same current term."""

LOG_MATCHING = ForAll(
    [_s, _s2, _i],
    ((Index(1) <= _i) & (_i <= log_len(_s)) & (_i <= log_len(_s2)) & (log_term(_s, _i) == log_term(_s2, _i)))
    >> _PREFIX_AGREES(_s, _s2, _i),
)
"""Log Matching: two logs with an entry of one term at one index are identical up to that index."""

LEADER_COMPLETENESS = ForAll(
    [_s, _s2],
    ((role(_s) == LEADER) & (current_term(_s) >= current_term(_s2)))
    >> ((commit_index(_s2) <= log_len(_s)) & _PREFIX_AGREES(_s, _s2, commit_index(_s2))),
)
"""Leader Completeness, state form: a leader holds every entry any server has committed in its term or before.

A server's commit index is learnt in its current term or earlier, so entries
committed at a server whose term is at most the leader's were committed in a
term at most the leader's.
"""

COMMIT_WITHIN_LOG = ForAll(_s, commit_index(_s) <= log_len(_s))
"""A server's commit index never runs past the end of its log (a follower that cut committed entries breaks it)."""

STATE_MACHINE_SAFETY = ForAll(
    [_s, _s2, _i],
    ((Index(1) <= _i) & (_i <= commit_index(_s)) & (_i <= commit_index(_s2))) >> _SAME_ENTRY(_s, _s2, _i),
)
"""State Machine Safety: no two servers have committed different entries at one index."""

LEADER_APPEND_ONLY = ForAll(
    _s,
    ((role(_s) == LEADER) & (role.after(_s) == LEADER) & (current_term(_s) == current_term.after(_s)))
    >> (
        (log_len(_s) <= log_len.after(_s))
        & ForAll(
            _j,
            ((Index(1) <= _j) & (_j <= log_len(_s)))
            >> ((log_term.after(_s, _j) == log_term(_s, _j)) & (log_value.after(_s, _j) == log_value(_s, _j))),
        )
    ),
)
"""Leader Append-Only (an action property): a leader in one term only appends to its log."""

COMMITTED_ENTRIES_STABLE = ForAll(
    [_s, _j],
    ((Index(1) <= _j) & (_j <= commit_index(_s)) & (_j <= log_len(_s)))
    >> ((_j <= log_len.after(_s)) & (log_term.after(_s, _j) == log_term(_s, _j))
        & (log_value.after(_s, _j) == log_value(_s, _j))),
)
"""Committed entries are stable (an action property): a server never removes or changes an entry of its log at or
below its commit index. State Machine Safety at one server over time: a follower that lets a stale leader
overwrite a committed entry breaks it at that step, before any second server commits the other entry."""

LEADER_ELECTED = Exists(_s, role(_s) == LEADER)
"""Reachability: a leader is elected."""

ENTRY_COMMITTED = Exists(_s, Index(1) <= commit_index(_s))
"""Reachability: an entry is committed."""



class StandardProperty(NamedTuple):
    """A standard property as every model that exposes the signature checks it."""

    kind: str
    """``"always"``, ``"every-step"`` or ``"sometimes"`` (a reachability property)."""
    formula: Formula
    description: str
    node_local: bool = False
    """An action property of the form "for every server s, φ(s before, s after)", where φ reads only s and holds
    when s does not change (partial-order reduction with sleep sets preserves it: :class:`Property.node_local
    <quorumcheck.models.api.Property>`)."""


RAFT_PROPERTIES: dict[str, StandardProperty] = {
    "election-safety": StandardProperty("always", ELECTION_SAFETY, "at most one leader is elected per term"),
    "election-safety-state": StandardProperty("always", ELECTION_SAFETY_STATE,
                                              "no two servers are leader in one term at once"),
    "log-matching": StandardProperty("always", LOG_MATCHING,
                                     "two logs with an entry of one term at one index agree up to it"),
    "commit-within-log": StandardProperty("always", COMMIT_WITHIN_LOG,
                                          "a server's commit index never exceeds the length of its log"),
    "leader-completeness": StandardProperty("always", LEADER_COMPLETENESS,
                                            "a leader holds every entry committed in its term or before"),
    "state-machine-safety": StandardProperty("always", STATE_MACHINE_SAFETY,
                                             "no two servers commit different entries at one index"),
    "leader-append-only": StandardProperty("every-step", LEADER_APPEND_ONLY,
                                           "a leader only appends to its log within its term", node_local=True),
    "committed-entries-stable": StandardProperty("every-step", COMMITTED_ENTRIES_STABLE,
                                                 "a server never removes or changes an entry it has committed",
                                                 node_local=True),
    "leader-elected": StandardProperty("sometimes", LEADER_ELECTED, "a leader can be elected"),
    "entry-committed": StandardProperty("sometimes", ENTRY_COMMITTED, "an entry can be committed"),
}
"""Raft's properties by name, in the order runs check them: the built-in model and student code both use
this table (``quorumcheck.models.raft`` and ``quorumcheck.models.observe``)."""

RAFT_ON_REQUEST = frozenset({"commit-within-log"})
"""Auxiliary Raft invariants checked only on request (``--invariant NAME``); a counterexample's culprit
(:mod:`quorumcheck.explorer.culprit`) evaluates them along every trace."""

RAFT_BUILT_IN_ON_REQUEST = RAFT_ON_REQUEST | {"committed-entries-stable"}
"""What the built-in model (raft.tla) checks only on request: also ``committed-entries-stable``, so that its
default runs judge what TLC's do (student code checks it by default)."""

__all__ += [
    "StandardProperty", "RAFT_PROPERTIES", "RAFT_ON_REQUEST", "RAFT_BUILT_IN_ON_REQUEST", "COMMIT_WITHIN_LOG",
    "COMMITTED_ENTRIES_STABLE",
    "Server", "Term", "Index", "RaftValue", "Role", "RAFT", "current_term", "role", "log_len", "log_term",
    "log_value", "commit_index", "elected", "ELECTION_SAFETY", "ELECTION_SAFETY_STATE", "LOG_MATCHING",
    "LEADER_COMPLETENESS", "STATE_MACHINE_SAFETY", "LEADER_APPEND_ONLY", "LEADER_ELECTED", "ENTRY_COMMITTED",
]


# -- Paxos learners --------------------------------------------------------------------------------------
# Student Paxos code has learners, which Paxos.tla leaves implicit (its learner is the definition `chosen`).
# PAXOS_LEARNERS is the Paxos signature with the *same* vote, proposed, member and max_bal symbols (so every
# Paxos formula above is also a formula over it) plus a sort of learners and what each learner has learned.
Learner = Sort("Learner")
PAXOS_LEARNERS = Signature("paxos-learners", [Acceptor, Value, Ballot, Quorum, Learner])
PAXOS_LEARNERS.symbols.update(PAXOS.symbols)
learned = PAXOS_LEARNERS.relation("learned", Learner, Value)
"""learned(l, v): learner l has learned v (at some point: a history relation)."""

_l, _l2 = Learner.vars("l l2")

LEARNER_AGREEMENT = ForAll([_l, _l2, _v, _w], (learned(_l, _v) & learned(_l2, _w)) >> (_v == _w))
"""No two learners learn different values (nor does one learner learn two)."""

LEARNED_IS_CHOSEN = ForAll([_l, _v], learned(_l, _v) >> CHOSEN(_v))
"""A learner learns only a chosen value: some quorum voted for it in one ballot."""

VALUE_LEARNED = Exists([_l, _v], learned(_l, _v))
"""Reachability: some learner learns a value."""

__all__ += ["Learner", "PAXOS_LEARNERS", "learned", "LEARNER_AGREEMENT", "LEARNED_IS_CHOSEN", "VALUE_LEARNED"]
