"""Single-decree Paxos with exactly the semantics of Lamport's ``Paxos.tla``.

The specification (tlaplus/Examples, ``specifications/Paxos/Paxos.tla``) has
per-acceptor variables ``maxBal``, ``maxVBal``, ``maxVal`` and ``msgs``, the set
of every message ever sent; a sent message can be received any number of times,
in any order, or never. Its actions are ``Phase1a(b)``, ``Phase1b(a)``,
``Phase2a(b, v)`` and ``Phase2b(a)``. This model has one transition per action
and parameters, with the received message as a parameter of ``Phase1b`` and
``Phase2b``: ``Phase1b(a=a1, b=1)`` receives the 1a message of ballot 1.

State representation (a bijection with the TLA+ state, so distinct-state counts
match TLC's): acceptors and values are ints inside the state and names outside
it; ``None`` / ``-1`` is ``-1``; ``msgs`` is split by message type into four
frozensets, which lets a property that reads only the votes cache on them.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(acceptors=3, values=2, max_ballot=0))
>>> r.verdict.value, r.distinct_states, r.depth
('holds', 73, 9)
>>> r = explore(PaxosModel(max_ballot=1, bug="accept-below-promise"))
>>> r.verdict.value, r.violations[0].property, len(r.violations[0].trace)
('violated', 'agreement', 12)
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from quorumcheck.errors import InvalidParameter, ModelWarning

from .api import Action, Model, Parameter, Property, always, check_names, sometimes

__all__ = ["Msg1b", "Msg2a", "Msg2b", "PaxosModel", "PaxosState"]

NONE = -1  # "no ballot" / "no value", as in Paxos.tla's -1 and None


class Msg1b(NamedTuple):
    """``[type |-> "1b", acc, bal, mbal, mval]``: a promise, reporting the last vote."""

    acc: int
    bal: int
    mbal: int
    mval: int


class Msg2a(NamedTuple):
    """``[type |-> "2a", bal, val]``: a proposal."""

    bal: int
    val: int


class Msg2b(NamedTuple):
    """``[type |-> "2b", acc, bal, val]``: a vote."""

    acc: int
    bal: int
    val: int


class PaxosState(NamedTuple):
    """One state of Paxos.tla; per-acceptor tuples are indexed by acceptor number."""

    max_bal: tuple[int, ...]
    max_vbal: tuple[int, ...]
    max_val: tuple[int, ...]
    msgs_1a: frozenset[int]
    """Ballots of the 1a messages sent."""
    msgs_1b: frozenset[Msg1b]
    msgs_2a: frozenset[Msg2a]
    msgs_2b: frozenset[Msg2b]


_new = tuple.__new__  # builds a PaxosState without the NamedTuple __new__ call


BUGS = {
    "accept-below-promise": "Phase2b accepts a 2a message whose ballot is below the acceptor's promise",
    "ignore-prior-votes": "Phase2a proposes any value, ignoring the votes reported in 1b messages",
    "promise-backwards": "Phase1b answers a 1a message that is not above its promise (maxBal can go down)",
    "adopt-any-vote": "Phase2a adopts some reported vote's value, not the highest-ballot one",
    "small-phase1-quorum": "Phase2a needs 1b messages from only floor(n/2) acceptors (quorums need not intersect)",
    "small-phase2-quorum": "a value is chosen by votes of only floor(n/2) acceptors (quorums need not intersect)",
    "duplicate-ballots": "Phase2a does not check for an earlier 2a message: two proposals share a ballot",
    "learner-mixes-ballots": "the learner counts votes for v across different ballots as one quorum",
}


class PaxosModel(Model[PaxosState]):
    """Lamport's single-decree Paxos (Paxos.tla), optionally with a known bug.

    Parameters
    ----------
    acceptors : int or list of str, default 3
        How many acceptors (named ``a1``, ``a2``, ...) or their names.
    values : int or list of str, default 2
        How many values (``v1``, ``v2``, ...) or their names.
    max_ballot : int, default 1
        Ballots are ``0..max_ballot``.
    quorums : list of list of str, optional
        An explicit quorum system; majorities by default. Every two quorums
        must intersect.
    bug : str, optional
        One of :attr:`bugs`, to check a known mutation.

    Examples
    --------
    >>> m = PaxosModel(acceptors=["x", "y", "z"], values=["red", "blue"], max_ballot=0)
    >>> [p.name for p in m.properties()]
    ['agreement', 'validity', 'value-can-be-chosen']
    >>> s0 = next(iter(m.init_states()))
    >>> [str(a) for a, _ in m.successors(s0)]
    ['Phase1a(b=0)']
    """

    name = "paxos"
    parameters = (
        Parameter("acceptors", "names", 3, "number of acceptors, or their names (a1, a2, ...)"),
        Parameter("values", "names", 2, "number of values, or their names (v1, v2, ...)"),
        Parameter("max_ballot", "int", 1, "ballots are 0..MAX_BALLOT"),
        Parameter("quorums", "quorums", None, "explicit quorum system (default: majorities)"),
    )
    bugs = BUGS

    def __init__(
        self,
        acceptors: int | Sequence[str] = 3,
        values: int | Sequence[str] = 2,
        max_ballot: int = 1,
        quorums: Sequence[Sequence[str]] | None = None,
        bug: str | None = None,
    ) -> None:
        self.acceptors = check_names("acceptors", acceptors, "a", "acceptors=3")
        self.values = check_names("values", values, "v", "values=2")
        if isinstance(max_ballot, bool) or not isinstance(max_ballot, int):
            raise InvalidParameter(f"max_ballot must be an integer, not {max_ballot!r}; pass e.g. max_ballot=2")
        if max_ballot < 0:
            raise InvalidParameter(f"max_ballot must be at least 0 (got {max_ballot}); ballots are 0..max_ballot")
        if bug is not None and bug not in BUGS:
            raise InvalidParameter(f"unknown Paxos bug {bug!r}; choose one of: {', '.join(BUGS)}")
        self.max_ballot = max_ballot
        self.bug = bug
        n = len(self.acceptors)
        self.ballots = tuple(range(max_ballot + 1))
        self.quorums = self._quorum_masks(quorums)
        self.explicit_quorums = quorums is not None
        self.phase1_quorums = self.quorums
        self.phase2_quorums = self.quorums
        if bug in ("small-phase1-quorum", "small-phase2-quorum"):
            small = _masks_of_size(n, max(1, n // 2))
            if bug == "small-phase1-quorum":
                self.phase1_quorums = small
            else:
                self.phase2_quorums = small
            if not _cross_intersect(self.phase1_quorums, self.phase2_quorums):
                warnings.warn(
                    f"bug {bug}: phase-1 and phase-2 quorums need not intersect, so agreement can fail",
                    ModelWarning,
                    stacklevel=2,
                )
            else:
                warnings.warn(
                    f"bug {bug} has no effect with {n} acceptor(s): the small quorums still intersect",
                    ModelWarning,
                    stacklevel=2,
                )
        self._init_labels()
        self._proposal_cache: dict[frozenset[Msg1b], tuple[tuple[int, int], ...]] = {}

    # -- parameters ---------------------------------------------------------------
    def _quorum_masks(self, quorums: Sequence[Sequence[str]] | None) -> tuple[int, ...]:
        n = len(self.acceptors)
        if quorums is None:
            return _masks_of_size(n, n // 2 + 1)
        if isinstance(quorums, str) or not isinstance(quorums, Sequence) or not quorums:
            raise InvalidParameter(
                "quorums must be a non-empty list of lists of acceptor names, e.g. [['a1','a2'], ['a2','a3']]"
            )
        index = {a: i for i, a in enumerate(self.acceptors)}
        masks = []
        for q in quorums:
            if isinstance(q, str) or not isinstance(q, Sequence) or not q:
                raise InvalidParameter(f"each quorum must be a non-empty list of acceptor names, got {q!r}")
            mask = 0
            for a in q:
                if a not in index:
                    raise InvalidParameter(
                        f"quorum {list(q)} names unknown acceptor {a!r}; acceptors are {', '.join(self.acceptors)}"
                    )
                mask |= 1 << index[a]
            masks.append(mask)
        for x, y in itertools.combinations(masks, 2):
            if x & y == 0:
                raise InvalidParameter(
                    f"quorums {self._names(x)} and {self._names(y)} do not intersect, so two values could be "
                    "chosen; give quorums that pairwise share an acceptor (or use --bug small-phase2-quorum "
                    "to study that failure)"
                )
        return tuple(dict.fromkeys(masks))

    def _names(self, mask: int) -> list[str]:
        return [a for i, a in enumerate(self.acceptors) if mask >> i & 1]

    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "acceptors": list(self.acceptors),
            "values": list(self.values),
            "max_ballot": self.max_ballot,
        }
        if self.explicit_quorums:
            out["quorums"] = [self._names(q) for q in self.quorums]
        return out

    def _init_labels(self) -> None:
        acc, val, bal = self.acceptors, self.values, self.ballots
        self._l1a = {b: Action("Phase1a", b=b) for b in bal}
        self._l1b = {(a, b): Action("Phase1b", a=acc[a], b=b) for a in range(len(acc)) for b in bal}
        self._l2a = {(b, v): Action("Phase2a", b=b, v=val[v]) for b in bal for v in range(len(val))}
        self._l2b = {
            (a, b, v): Action("Phase2b", a=acc[a], b=b, v=val[v])
            for a in range(len(acc))
            for b in bal
            for v in range(len(val))
        }

    # -- the model ------------------------------------------------------------------
    def init_states(self) -> Iterable[PaxosState]:
        n = len(self.acceptors)
        none = (NONE,) * n
        return [PaxosState(none, none, none, frozenset(), frozenset(), frozenset(), frozenset())]

    def successors(self, state: PaxosState) -> list[tuple[Action, PaxosState]]:
        max_bal, max_vbal, max_val, m1a, m1b, m2a, m2b = state
        out: list[tuple[Action, PaxosState]] = []
        add = out.append
        cls = PaxosState
        bug = self.bug

        # Phase1a(b): send a 1a message (a stuttering step if it was sent before).
        l1a = self._l1a
        for b in self.ballots:
            if b in m1a:
                add((l1a[b], state))
            else:
                add((l1a[b], _new(cls, (max_bal, max_vbal, max_val, m1a | {b}, m1b, m2a, m2b))))

        # Phase2a(b, v): a quorum promised ballot b; v is safe to propose.
        if m1b:
            l2a = self._l2a
            used = {m.bal for m in m2a} if bug != "duplicate-ballots" else ()
            for b, v in self._proposals(m1b):
                if b in used:
                    continue
                msg = Msg2a(b, v)
                if msg in m2a:  # only reachable with duplicate-ballots
                    add((l2a[b, v], state))
                else:
                    add((l2a[b, v], _new(cls, (max_bal, max_vbal, max_val, m1a, m1b, m2a | {msg}, m2b))))

        # Phase1b(a): receive a 1a message above the promise; promise and report the last vote.
        l1b = self._l1b
        backwards = bug == "promise-backwards"
        for a in range(len(max_bal)):
            promised = max_bal[a]
            for b in m1a:
                if b > promised or backwards:
                    promise = Msg1b(a, b, max_vbal[a], max_val[a])
                    if promise in m1b and b == promised:  # re-answering: nothing changes
                        add((l1b[a, b], state))
                        continue
                    add((
                        l1b[a, b],
                        _new(cls, (
                            max_bal[:a] + (b,) + max_bal[a + 1:], max_vbal, max_val,
                            m1a, m1b | {promise}, m2a, m2b,
                        )),
                    ))

        # Phase2b(a): receive a 2a message not below the promise; vote for it.
        if m2a:
            l2b = self._l2b
            below = bug == "accept-below-promise"
            for a in range(len(max_bal)):
                promised = max_bal[a]
                for b, v in m2a:
                    if b >= promised or below:
                        vote = Msg2b(a, b, v)
                        if promised == b and max_vbal[a] == b and max_val[a] == v and vote in m2b:
                            add((l2b[a, b, v], state))
                            continue
                        add((
                            l2b[a, b, v],
                            _new(cls, (
                                max_bal[:a] + (b,) + max_bal[a + 1:],
                                max_vbal[:a] + (b,) + max_vbal[a + 1:],
                                max_val[:a] + (v,) + max_val[a + 1:],
                                m1a, m1b, m2a, m2b | {vote},
                            )),
                        ))
        return out

    def _proposals(self, m1b: frozenset[Msg1b]) -> tuple[tuple[int, int], ...]:
        """The (ballot, value) pairs Phase2a's quorum condition allows, given the 1b messages.

        Depends only on the 1b messages, so it is cached on them (a frozenset
        caches its own hash); the "no 2a message for b yet" test is applied by
        the caller.
        """
        cached = self._proposal_cache.get(m1b)
        if cached is not None:
            return cached
        bug = self.bug
        all_values = range(len(self.values))
        found: list[tuple[int, int]] = []
        for b in self.ballots:
            promises = [m for m in m1b if m.bal == b]
            senders = 0
            for m in promises:
                senders |= 1 << m.acc
            allowed: set[int] = set()
            for q in self.phase1_quorums:
                if q & senders != q:
                    continue
                reported = [m for m in promises if q >> m.acc & 1 and m.mbal >= 0]
                if not reported or bug == "ignore-prior-votes":
                    allowed.update(all_values)
                    break
                if bug == "adopt-any-vote":
                    allowed.update(m.mval for m in reported)
                else:
                    top = max(m.mbal for m in reported)
                    allowed.update(m.mval for m in reported if m.mbal == top)
            found.extend((b, v) for v in sorted(allowed))
        result = tuple(found)
        self._proposal_cache[m1b] = result
        return result

    # -- properties -------------------------------------------------------------------
    def chosen(self, votes: frozenset[Msg2b]) -> frozenset[int]:
        """The values chosen by these 2b messages: a phase-2 quorum voted for v in one ballot.

        With the ``learner-mixes-ballots`` bug, votes for v in different ballots are
        (wrongly) pooled.

        Examples
        --------
        >>> m = PaxosModel()
        >>> sorted(m.chosen(frozenset({Msg2b(0, 1, 0), Msg2b(1, 1, 0)})))
        [0]
        >>> sorted(m.chosen(frozenset({Msg2b(0, 0, 0), Msg2b(1, 1, 0)})))
        []
        """
        voters: dict[tuple[int, int], int] = {}
        mixes = self.bug == "learner-mixes-ballots"
        for acc, bal, val in votes:
            key = (-1 if mixes else bal, val)
            voters[key] = voters.get(key, 0) | 1 << acc
        return frozenset(
            val for (_, val), mask in voters.items() if any(q & mask == q for q in self.phase2_quorums)
        )

    def properties(self) -> list[Property[PaxosState]]:
        def votes(s: PaxosState) -> frozenset[Msg2b]:
            return s.msgs_2b

        def proposals_and_votes(s: PaxosState) -> tuple[frozenset[Msg2a], frozenset[Msg2b]]:
            return s.msgs_2a, s.msgs_2b

        def agreement(s: PaxosState) -> bool:
            return len(self.chosen(s.msgs_2b)) <= 1

        def validity(s: PaxosState) -> bool:
            proposed = {m.val for m in s.msgs_2a}
            return self.chosen(s.msgs_2b) <= proposed

        def some_value_chosen(s: PaxosState) -> bool:
            return bool(self.chosen(s.msgs_2b))

        return [
            always("agreement", agreement, "at most one value is chosen", footprint=votes, explain=self.explain_chosen),
            always(
                "validity", validity, "a chosen value was proposed",
                footprint=proposals_and_votes, explain=self.explain_chosen,
            ),
            sometimes("value-can-be-chosen", some_value_chosen, "a value can be chosen", footprint=votes),
        ]

    def explain_chosen(self, state: PaxosState) -> str:
        """Which values are chosen, in which ballot, by which quorum.

        Examples
        --------
        >>> m = PaxosModel()
        >>> votes = frozenset({Msg2b(0, 0, 0), Msg2b(1, 0, 0), Msg2b(1, 1, 1), Msg2b(2, 1, 1)})
        >>> s = next(iter(m.init_states()))._replace(msgs_2b=votes)
        >>> m.explain_chosen(s)
        'v1 chosen in ballot 0 by {a1, a2}; v2 chosen in ballot 1 by {a2, a3}'
        """
        mixes = self.bug == "learner-mixes-ballots"
        voters: dict[tuple[int, int], int] = {}
        for acc, bal, val in state.msgs_2b:
            key = (-1 if mixes else bal, val)
            voters[key] = voters.get(key, 0) | 1 << acc
        parts = []
        for (bal, val), mask in sorted(voters.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            for q in self.phase2_quorums:
                if q & mask == q:
                    where = "across ballots" if mixes else f"in ballot {bal}"
                    parts.append(f"{self.values[val]} chosen {where} by {{{', '.join(self._names(q))}}}")
                    break
        return "; ".join(parts) if parts else "no value chosen"

    # -- presentation -------------------------------------------------------------------
    def describe(self, state: PaxosState) -> dict[str, Any]:
        """The state with names, as Paxos.tla would print it.

        Examples
        --------
        >>> m = PaxosModel(max_ballot=0)
        >>> m.describe(next(iter(m.init_states())))["maxBal"]
        {'a1': -1, 'a2': -1, 'a3': -1}
        """
        acc, val = self.acceptors, self.values

        def v(i: int) -> str | None:
            return None if i == NONE else val[i]

        msgs = (
            [f"1a(b={b})" for b in sorted(state.msgs_1a)]
            + [f"1b(a={acc[m.acc]}, b={m.bal}, mbal={m.mbal}, mval={v(m.mval)})" for m in sorted(state.msgs_1b)]
            + [f"2a(b={m.bal}, v={val[m.val]})" for m in sorted(state.msgs_2a)]
            + [f"2b(a={acc[m.acc]}, b={m.bal}, v={val[m.val]})" for m in sorted(state.msgs_2b)]
        )
        return {
            "maxBal": dict(zip(acc, state.max_bal)),
            "maxVBal": dict(zip(acc, state.max_vbal)),
            "maxVal": {a: v(x) for a, x in zip(acc, state.max_val)},
            "msgs": msgs,
        }


def _masks_of_size(n: int, k: int) -> tuple[int, ...]:
    return tuple(sum(1 << i for i in combo) for combo in itertools.combinations(range(n), k))


def _cross_intersect(first: Sequence[int], second: Sequence[int]) -> bool:
    return all(x & y for x in first for y in second)
