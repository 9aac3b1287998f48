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

from .language import Definition, Exists, ForAll, Not, Signature, Sort

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


def paxos_agreement(chosen: Definition = CHOSEN):
    """Agreement over a given definition of chosen: at most one value is chosen."""
    return ForAll([_v, _w], (chosen(_v) & chosen(_w)) >> (_v == _w))


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
VOTES_SAFE = ForAll([_a, _b, _v], vote(_a, _b, _v) >> _SAFE_AT(_b, _v))
"""Voting.tla's VotesSafe: every vote is for a value safe at its ballot."""

VALUE_CHOSEN = paxos_value_chosen()
