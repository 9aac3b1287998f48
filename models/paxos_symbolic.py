"""Paxos.tla's actions as first-order formulas, for ``quorumcheck prove paxos``.

The explicit model (:mod:`.paxos`) enumerates states of one finite instance;
this module describes every instance at once: acceptors, values and quorums
are uninterpreted sorts (quorums with the intersection axiom), ballots a
total order whose element ``-1`` means "none", as in Paxos.tla. The
vocabulary extends the one the standard properties read
(:data:`quorumcheck.invariants.standard.PAXOS`) with what the protocol keeps:
``max_vbal(a)``, ``max_val(a)``, the 1a and 1b messages. ``Value(-1)`` is
Paxos.tla's ``None``, the value of an acceptor that has not voted.

The inductive invariant shipped here is our own statement of why Paxos is
safe: an acceptor's last vote is recorded and nothing above it; a promise
reports the promiser's last vote and that it cast none between that vote and
the promised ballot; every vote is for a proposal, a ballot has one proposal,
and every proposal is safe: below it, each quorum has a member that moved past
a lower ballot without voting a different value there (the form Ivy's Paxos
proof uses, which keeps the existential over acceptors only, unlike
Voting.tla's ``SafeAt``, whose existential over quorums under a universal over
ballots Z3 does not decide).
``tests/test_prove.py`` ties the formulas to :class:`~.paxos.PaxosModel`:
on small instances every explicit step satisfies its action's formula and
every model of the formula is an explicit step.

Examples
--------
>>> system = paxos_system()
>>> [a.name for a in system.actions]
['Phase1a', 'Phase1b', 'Phase2a', 'Phase2b']
>>> system.invariant_sets["first-attempt"][:3]
('agreement', 'vote-for-proposal', 'one-proposal-per-ballot')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quorumcheck.invariants import standard
from quorumcheck.invariants.language import (
    And, Definition, Exists, ForAll, Formula, Iff, Not, Or, Var,
)
from quorumcheck.invariants.standard import Acceptor, Ballot, Quorum, Value, max_bal, member, proposed, vote
from quorumcheck.invariants.structure import Interpretation
from quorumcheck.invariants.system import Conjunct, SymbolicAction, TransitionSystem

from .paxos import NONE, PaxosModel, PaxosState

__all__ = ["PAXOS_PROTOCOL", "paxos_system", "paxos_interpretation"]

PAXOS_PROTOCOL = standard.PAXOS.extend("paxos-protocol")
max_vbal = PAXOS_PROTOCOL.function("max_vbal", [Acceptor], Ballot)
max_val = PAXOS_PROTOCOL.function("max_val", [Acceptor], Value)
sent_1a = PAXOS_PROTOCOL.relation("sent_1a", Ballot)
sent_1b = PAXOS_PROTOCOL.relation("sent_1b", Acceptor, Ballot, Ballot, Value)
"""sent_1b(a, b, mbal, mval): acceptor a promised ballot b, reporting its last vote (mbal, mval)."""

NO_BALLOT = Ballot(NONE)
NO_VALUE = Value(NONE)

a, a0, x = Acceptor.vars("a a0 x")
b, c, d, e = Ballot.vars("b c d e")
v, w, u = Value.vars("v w u")
q, q2 = Quorum.vars("Q Q2")

STATE = ("max_bal", "max_vbal", "max_val", "sent_1a", "sent_1b", "proposed", "vote")


def _set_at(f: Any, at: Var, value: Any) -> Formula:
    """``f' = [f EXCEPT ![at] = value]`` for a unary function ``f``."""
    return ForAll(x, And((x == at) >> (f.after(x) == value), (x != at) >> (f.after(x) == f(x))))


def _phase1a() -> SymbolicAction:
    body = And(b > NO_BALLOT, ForAll(c, Iff(sent_1a.after(c), sent_1a(c) | (c == b))))
    return SymbolicAction("Phase1a", (b,), body, ("sent_1a",), "a leader asks for promises in ballot b")


def _phase1b() -> SymbolicAction:
    added = (x == a) & (c == b) & (d == max_vbal(a)) & (w == max_val(a))
    body = And(
        sent_1a(b), b > max_bal(a),
        _set_at(max_bal, a, b),
        ForAll([x, c, d, w], Iff(sent_1b.after(x, c, d, w), sent_1b(x, c, d, w) | added)),
    )
    return SymbolicAction("Phase1b", (a, b), body, ("max_bal", "sent_1b"),
                          "acceptor a promises ballot b and reports its last vote")


_PROMISED = Definition("promised_by", [q, b], ForAll(a, member(a, q) >> Exists([d, w], sent_1b(a, b, d, w))))
"""Every member of Q sent a promise for ballot b."""
_NONE_VOTED = Definition(
    "none_reported", [q, b], ForAll([a, d, w], (member(a, q) & sent_1b(a, b, d, w)) >> (d == NO_BALLOT)))
"""No member of Q reported a vote in its promise for b."""
_HIGHEST_IS = Definition(
    "highest_report", [q, b, v],
    Exists([a0, c], And(member(a0, q), c > NO_BALLOT, sent_1b(a0, b, c, v),
                        ForAll([a, d, w], (member(a, q) & sent_1b(a, b, d, w)) >> (d <= c)))))
"""The highest-ballot vote reported by Q's promises for b is for v."""


def _phase2a() -> SymbolicAction:
    common = And(
        b > NO_BALLOT, v != NO_VALUE,
        Not(Exists(w, proposed(b, w))),
        ForAll([c, w], Iff(proposed.after(c, w), proposed(c, w) | ((c == b) & (w == v)))),
    )
    # Paxos.tla's one disjunction, written as two cases (the prover checks each on its own):
    # no promise of the quorum reports a vote, or v is the value of the highest-ballot vote reported.
    body = Or(
        common & Exists(q, _PROMISED(q, b) & _NONE_VOTED(q, b)),
        common & Exists(q, _PROMISED(q, b) & _HIGHEST_IS(q, b, v)),
    )
    return SymbolicAction("Phase2a", (b, v), body, ("proposed",),
                          "a leader proposes v in ballot b, having promises from a quorum")


def _phase2b() -> SymbolicAction:
    body = And(
        proposed(b, v), b >= max_bal(a),
        _set_at(max_bal, a, b), _set_at(max_vbal, a, b), _set_at(max_val, a, v),
        ForAll([x, c, w], Iff(vote.after(x, c, w), vote(x, c, w) | ((x == a) & (c == b) & (w == v)))),
    )
    return SymbolicAction("Phase2b", (a, b, v), body, ("max_bal", "max_vbal", "max_val", "vote"),
                          "acceptor a votes for the proposal (b, v)")


INIT = And(
    ForAll(a, (max_bal(a) == NO_BALLOT) & (max_vbal(a) == NO_BALLOT) & (max_val(a) == NO_VALUE)),
    ForAll(b, Not(sent_1a(b))),
    ForAll([a, b, c, v], Not(sent_1b(a, b, c, v))),
    ForAll([b, v], Not(proposed(b, v))),
    ForAll([a, b, v], Not(vote(a, b, v))),
)

QUORUMS_INTERSECT = ForAll([q, q2], Exists(a, member(a, q) & member(a, q2)))

CONJUNCTS = (
    Conjunct("agreement", standard.PAXOS_AGREEMENT, "at most one value is chosen",
             uses=("vote-for-proposal", "one-proposal-per-ballot", "proposals-safe")),
    Conjunct("one-value-per-ballot", standard.ONE_VALUE_PER_BALLOT,
             "no two acceptors vote for different values in one ballot (Voting.tla)"),
    Conjunct("votes-safe", standard.VOTES_SAFE, "every vote is for a value safe at its ballot (Voting.tla)"),
    Conjunct("ballots-typed", ForAll(a, (max_bal(a) >= NO_BALLOT) & (max_vbal(a) >= NO_BALLOT)),
             "no promise or vote ballot lies below 'none'"),
    Conjunct("vote-below-promise", ForAll(a, max_vbal(a) <= max_bal(a)),
             "an acceptor's last vote is not above its promise"),
    Conjunct("last-vote-recorded", ForAll(a, (max_vbal(a) > NO_BALLOT) >> vote(a, max_vbal(a), max_val(a))),
             "max_vbal/max_val name a vote the acceptor cast"),
    Conjunct("no-vote-above-last", ForAll([a, c, v], vote(a, c, v) >> (c <= max_vbal(a))),
             "an acceptor cast no vote above its last vote"),
    Conjunct("vote-for-proposal", ForAll([a, b, v], vote(a, b, v) >> proposed(b, v)),
             "every vote is for a proposal (2b answers a 2a)"),
    Conjunct("votes-real-ballots", ForAll([a, b, v], vote(a, b, v) >> (b > NO_BALLOT)),
             "votes are cast in real ballots"),
    Conjunct("one-proposal-per-ballot", ForAll([b, v, w], (proposed(b, v) & proposed(b, w)) >> (v == w)),
             "a ballot has at most one proposal"),
    Conjunct("proposals-real-ballots", ForAll([b, v], proposed(b, v) >> (b > NO_BALLOT)),
             "proposals are made in real ballots"),
    Conjunct("proposals-real-values", ForAll([b, v], proposed(b, v) >> (v != NO_VALUE)),
             "proposals are for real values, never 'none'"),
    Conjunct("proposals-safe",
             ForAll([c, b, u, v, q], (proposed(b, v) & (c < b) & (u != v))
                    >> Exists(a, member(a, q) & (max_bal(a) > c) & Not(vote(a, c, u)))),
             "below a proposal (b, v), no other value u can be chosen in any ballot c: every quorum has a "
             "member that moved past c without voting u there",
             uses=("one-proposal-per-ballot", "vote-for-proposal", "promise-below-max-bal", "promise-after-its-vote",
                   "promise-reports-vote", "promise-no-vote-between", "proposals-real-ballots")),
    Conjunct("promise-below-max-bal", ForAll([a, b, d, w], sent_1b(a, b, d, w) >> (b <= max_bal(a))),
             "an acceptor's promises are not above its current promise"),
    Conjunct("promise-after-its-vote", ForAll([a, b, d, w], sent_1b(a, b, d, w) >> (d < b)),
             "a promise reports a vote below the promised ballot"),
    Conjunct("promise-reports-vote",
             ForAll([a, b, d, w], (sent_1b(a, b, d, w) & (d > NO_BALLOT)) >> vote(a, d, w)),
             "a promise that reports a vote reports one the acceptor cast"),
    Conjunct("promise-no-vote-between",
             ForAll([a, b, d, w, c, u], (sent_1b(a, b, d, w) & (d < c) & (c < b)) >> Not(vote(a, c, u))),
             "between its reported vote and the promised ballot the acceptor cast no vote"),
)

INVARIANT_SETS = {
    "inductive": tuple(c.name for c in CONJUNCTS if c.name not in ("one-value-per-ballot", "votes-safe")),
    "first-attempt": ("agreement", "vote-for-proposal", "one-proposal-per-ballot", "proposals-real-ballots",
                      "proposals-real-values"),
    "voting": ("agreement", "one-value-per-ballot", "votes-safe"),
    "agreement": ("agreement",),
}


def paxos_interpretation(model: PaxosModel) -> Interpretation:
    """An explicit :class:`~.paxos.PaxosModel`'s states in the symbolic vocabulary (``Value(-1)`` is none).

    >>> m = PaxosModel(max_ballot=0)
    >>> s0 = next(iter(m.init_states()))
    >>> interp = paxos_interpretation(m)
    >>> interp.read("max_vbal", s0), interp.read("sent_1a", s0)
    ((-1, -1, -1), frozenset())
    """
    acceptors = range(len(model.acceptors))
    return Interpretation(
        PAXOS_PROTOCOL,
        {
            "Acceptor": tuple(acceptors),
            "Value": (NONE, *range(len(model.values))),
            "Ballot": (NONE, *model.ballots),
            "Quorum": model.phase2_quorums,
        },
        {
            "max_bal": lambda s: s.max_bal,
            "max_vbal": lambda s: s.max_vbal,
            "max_val": lambda s: s.max_val,
            "sent_1a": lambda s: frozenset((bal,) for bal in s.msgs_1a),
            "sent_1b": lambda s: s.msgs_1b,
            "proposed": lambda s: s.msgs_2a,
            "vote": lambda s: s.msgs_2b,
            "member": frozenset((i, m) for m in model.phase2_quorums for i in acceptors if m >> i & 1),
        },
    )


def _explicit(universe: Mapping[str, tuple[Any, ...]], statics: Mapping[str, Any]) -> Any:
    """The explicit instance with a CTI's sizes: (model, state -> structure in the CTI's elements), or None."""
    acceptors = list(universe["Acceptor"])
    values = [val for val in universe["Value"] if val != NONE] or ["v1"]
    ballots = [bal for bal in universe["Ballot"] if bal >= 0] or [0]
    quorums = sorted({tuple(sorted((m for m, qq in statics["member"] if qq == quorum), key=acceptors.index))
                      for quorum in universe["Quorum"]})
    if any(not qq for qq in quorums):
        return None
    names = [f"x{i}" for i in range(len(acceptors))]
    model = PaxosModel(acceptors=names, values=len(values), max_ballot=max(ballots),
                       quorums=[[names[acceptors.index(m)] for m in qq] for qq in quorums])
    interp = paxos_interpretation(model)
    value_of = {i: val for i, val in enumerate(values)} | {NONE: NONE}

    def structure(state: PaxosState) -> dict[str, frozenset[tuple[Any, ...]]]:
        out: dict[str, frozenset[tuple[Any, ...]]] = {}
        for name in STATE:
            raw = interp.read(name, state)
            if name in ("max_bal", "max_vbal"):
                out[name] = frozenset((acceptors[i], bal) for i, bal in enumerate(raw))
            elif name == "max_val":
                out[name] = frozenset((acceptors[i], value_of[val]) for i, val in enumerate(raw))
            elif name == "sent_1a":
                out[name] = frozenset(raw)
            elif name == "sent_1b":
                out[name] = frozenset((acceptors[m.acc], m.bal, m.mbal, value_of[m.mval]) for m in raw)
            elif name == "proposed":
                out[name] = frozenset((m.bal, value_of[m.val]) for m in raw)
            else:
                out[name] = frozenset((acceptors[m.acc], m.bal, value_of[m.val]) for m in raw)
        return out

    return model, structure


def paxos_system() -> TransitionSystem:
    """Paxos.tla as a :class:`~quorumcheck.invariants.system.TransitionSystem` for every size."""
    return TransitionSystem(
        name="paxos",
        signature=PAXOS_PROTOCOL,
        state=STATE,
        init=INIT,
        actions=(_phase1a(), _phase1b(), _phase2a(), _phase2b()),
        axioms=(QUORUMS_INTERSECT,),
        conjuncts=CONJUNCTS,
        invariant_sets=INVARIANT_SETS,
        safety=("agreement",),
        explicit=_explicit,
        notes={"Value": "Value -1 is Paxos.tla's None", "Ballot": "Ballot -1 is 'none'"},
    )


