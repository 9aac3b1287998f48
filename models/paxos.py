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
from operator import attrgetter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from quorumcheck.errors import InvalidParameter, ModelWarning

from quorumcheck.invariants import Interpretation, formula_property, standard

from .api import MAX_BOUND, Action, Model, Parameter, Property, StepEvents, check_names
from .symmetry import Permutation

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
BUG_BALLOTS = {"adopt-any-vote": 2, "learner-mixes-ballots": 3, "accept-below-promise": 1, "ignore-prior-votes": 1,
               "promise-backwards": 1, "small-phase1-quorum": 1, "small-phase2-quorum": 1}
"""The highest ballot each bug needs to break agreement with 3 acceptors and 2 values (README's table): a
smaller range gets a warning, since the run may then hold."""

INTERNED_LIMIT = 1 << 20
"""The most distinct state parts :class:`PaxosModel` keeps shared (beyond it, it starts again)."""


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
    >>> [(p.name, p.default) for p in m.properties()]  # doctest: +NORMALIZE_WHITESPACE
    [('agreement', True), ('validity', True), ('one-value-per-ballot', False), ('votes-safe', False),
     ('value-can-be-chosen', True)]
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
        if max_ballot > MAX_BOUND:
            raise InvalidParameter(f"max_ballot={max_ballot} is hopeless for an exhaustive search (ballots 0..3 "
                                   f"already give millions of states); give at most {MAX_BOUND}, usually 1 to 3")
        if bug is not None and not isinstance(bug, str):  # a list is unhashable: `in BUGS` would raise TypeError
            raise InvalidParameter(f"bug must be the name of one Paxos bug (a str), got {bug!r}; choose one of: "
                                   f"{', '.join(BUGS)}")
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
        shown = BUG_BALLOTS.get(bug or "", 0)
        if max_ballot < shown:
            warnings.warn(f"bug {bug} needs ballots 0..{shown} to break agreement with 3 acceptors and 2 values "
                          f"(README's table); with 0..{max_ballot} the run may hold: pass --max-ballot {shown}",
                          ModelWarning, stacklevel=2)
        self._init_labels()
        self._proposal_cache: dict[frozenset[Msg1b], tuple[tuple[int, int], ...]] = {}
        self._permuters: dict[Permutation, _PaxosPermuter] = {}
        self._message_counts: tuple[dict[Any, Any], ...] = ({}, {}, {})  # element_signatures' per-set tallies
        # One object per distinct part value (rows, message sets, messages): successors that build an equal
        # part share it. Paxos 0..2 has 185,369 states but 64 distinct max_bal rows and 1,611 distinct 2b
        # sets, so a state is mostly pointers; a shared frozenset keeps its hash, and look-ups on it
        # compare by identity. One table per kind, since a row (0, 1, 2) equals the vote Msg2b(0, 1, 2).
        # Cleared when one holds INTERNED_LIMIT parts (sharing is lost, nothing else).
        self._rows: dict[tuple[int, ...], tuple[int, ...]] = {}
        self._messages: dict[Any, Any] = {}
        self._sets: dict[frozenset[Any], frozenset[Any]] = {}

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
                if not isinstance(a, str) or a not in index:
                    raise InvalidParameter(
                        f"quorum {list(q)} names unknown acceptor {a!r}; acceptors are {', '.join(self.acceptors)}"
                    )
                if mask >> index[a] & 1:
                    raise InvalidParameter(f"quorum {list(q)} names {a!r} twice; list each acceptor once")
                mask |= 1 << index[a]
            masks.append(mask)
        masks = list(dict.fromkeys(masks))  # a quorum listed twice is one quorum (and 100,000 copies are not 10^10 pairs)
        for x, y in itertools.combinations(masks, 2):
            if x & y == 0:
                raise InvalidParameter(
                    f"quorums {self._names(x)} and {self._names(y)} do not intersect, so two values could be "
                    "chosen; give quorums that pairwise share an acceptor (or, without --quorum, use --bug "
                    "small-phase2-quorum to study that failure)"
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
        none = self._rows.setdefault(x := (NONE,) * len(self.acceptors), x)
        empty = self._sets.setdefault(x := frozenset(), x)  # the parts successors and share() reuse
        return [PaxosState(none, none, none, empty, empty, empty, empty)]

    def share(self, state: PaxosState) -> PaxosState:
        """``state`` rebuilt from the rows, messages and message sets :meth:`successors` shares."""
        row, sets, message = self._rows.setdefault, self._sets, self._messages.setdefault
        parts: list[Any] = [row(x, x) for x in state[:3]]
        for x in state[3:]:
            got = sets.get(x)
            if got is None:
                got = sets[x] = frozenset([message(m, m) for m in x])
            parts.append(got)
        return _new(PaxosState, parts)

    def successors(self, state: PaxosState) -> list[tuple[Action, PaxosState]]:
        max_bal, max_vbal, max_val, m1a, m1b, m2a, m2b = state
        out: list[tuple[Action, PaxosState]] = []
        add = out.append
        cls = PaxosState
        bug = self.bug
        if len(self._sets) >= INTERNED_LIMIT or len(self._rows) >= INTERNED_LIMIT:
            self._sets.clear()
            self._rows.clear()
            self._messages.clear()
        row, message, share = self._rows.setdefault, self._messages.setdefault, self._sets.setdefault
        x: Any  # each new part, then the shared one equal to it

        # Phase1a(b): send a 1a message (a stuttering step if it was sent before).
        l1a = self._l1a
        for b in self.ballots:
            if b in m1a:
                add((l1a[b], state))
            else:
                add((l1a[b], _new(cls, (max_bal, max_vbal, max_val, share(x := m1a | {b}, x), m1b, m2a, m2b))))

        # Phase2a(b, v): a quorum promised ballot b; v is safe to propose.
        if m1b:
            l2a = self._l2a
            used = {m.bal for m in m2a} if bug != "duplicate-ballots" else ()
            for b, v in self._proposals(m1b):
                if b in used:
                    continue
                msg = message(x := _new(Msg2a, (b, v)), x)
                if msg in m2a:  # only reachable with duplicate-ballots
                    add((l2a[b, v], state))
                else:
                    add((l2a[b, v], _new(cls, (max_bal, max_vbal, max_val, m1a, m1b, share(x := m2a | {msg}, x), m2b))))

        # Phase1b(a): receive a 1a message above the promise; promise and report the last vote.
        l1b = self._l1b
        backwards = bug == "promise-backwards"
        for a in range(len(max_bal)):
            promised = max_bal[a]
            for b in m1a:
                if b > promised or backwards:
                    promise = message(x := _new(Msg1b, (a, b, max_vbal[a], max_val[a])), x)
                    if promise in m1b and b == promised:  # re-answering: nothing changes
                        add((l1b[a, b], state))
                        continue
                    add((
                        l1b[a, b],
                        _new(cls, (
                            row(x := max_bal[:a] + (b,) + max_bal[a + 1:], x), max_vbal, max_val,
                            m1a, share(x := m1b | {promise}, x), m2a, m2b,
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
                        vote = message(x := _new(Msg2b, (a, b, v)), x)
                        if promised == b and max_vbal[a] == b and max_val[a] == v and vote in m2b:
                            add((l2b[a, b, v], state))
                            continue
                        add((
                            l2b[a, b, v],
                            _new(cls, (
                                row(x := max_bal[:a] + (b,) + max_bal[a + 1:], x),
                                row(x := max_vbal[:a] + (b,) + max_vbal[a + 1:], x),
                                row(x := max_val[:a] + (v,) + max_val[a + 1:], x),
                                m1a, m1b, m2a, share(x := m2b | {vote}, x),
                            )),
                        ))
        return out

    def persistent_step(self, state: PaxosState, steps: Sequence[tuple[Action, PaxosState]]) -> int | None:
        """The first ``Phase1a(b)`` whose 1a message is not yet sent: alone, a persistent set.

        Only ``Phase1a(b)`` puts ``b`` into ``msgs_1a``, nothing removes it, and
        only the ``Phase1b(a, b)`` steps read it, which cannot happen before it.
        Every other step reads and writes other variables, so it commutes with
        ``Phase1a(b)``, and neither enables nor disables it (in every bug variant:
        they change Phase2a, Phase1b's guard on the promise, or Phase2b).
        """
        for k, (action, after) in enumerate(steps):
            if action.name != "Phase1a":
                return None  # the model lists the Phase1a steps first
            if after is not state:
                return k
        return None

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

    # -- symmetry -----------------------------------------------------------------------
    def symmetric_sorts(self) -> dict[str, int]:
        """Values are interchangeable; so are acceptors, unless the quorum system tells them apart.

        Majorities (and the buggy small quorums) are symmetric. An explicit
        quorum system is only if every renaming of the acceptors maps it to
        itself: ``[[a1, a2], [a2, a3]]`` singles out ``a2``.

        Examples
        --------
        >>> PaxosModel().symmetric_sorts()
        {'Acceptor': 3, 'Value': 2}
        >>> PaxosModel(quorums=[["a1", "a2"], ["a2", "a3"]]).symmetric_sorts()
        {'Value': 2}
        """
        sorts = {"Acceptor": len(self.acceptors), "Value": len(self.values)}
        n = len(self.acceptors)
        for i in range(n - 1):  # adjacent transpositions generate every renaming
            swap = list(range(n))
            swap[i], swap[i + 1] = i + 1, i
            p = Permutation({"Acceptor": swap})
            for system in (self.phase1_quorums, self.phase2_quorums):
                if {p.mask("Acceptor", q) for q in system} != set(system):
                    sorts.pop("Acceptor", None)
        return sorts

    def symmetry_notices(self) -> list[str]:
        """Why acceptors are not permuted, when the quorum system singles some out.

        Examples
        --------
        >>> PaxosModel(quorums=[["a1", "a2"], ["a2", "a3"]]).symmetry_notices()
        ['symmetry: Acceptor is not permuted because the quorum system does not treat all acceptors alike']
        """
        if "Acceptor" in self.symmetric_sorts():
            return []
        return ["symmetry: Acceptor is not permuted because the quorum system does not treat all acceptors alike"]

    def permute(self, state: PaxosState, perm: Permutation) -> PaxosState:
        """``state`` with acceptors and values renamed (message sets cached per permutation).

        Examples
        --------
        >>> m = PaxosModel(max_ballot=0)
        >>> s = m.next_state(next(iter(m.init_states())), "Phase1a(b=0)")
        >>> s = m.next_state(s, "Phase1b(a=a1, b=0)")
        >>> sorted(m.permute(s, Permutation({"Acceptor": (1, 0, 2)})).msgs_1b)
        [Msg1b(acc=1, bal=0, mbal=-1, mval=-1)]
        """
        apply = self._permuters.get(perm)
        if apply is None:
            apply = self._permuters[perm] = _PaxosPermuter(perm, len(self.acceptors), len(self.values))
        return apply(state)

    def element_signatures(self, state: PaxosState) -> dict[str, list[tuple[int, ...]]]:
        """Per acceptor: its ballots, whether it voted, and how many promises and votes it sent; per value:
        how many proposals, votes, last votes and reported votes name it.

        Examples
        --------
        >>> m = PaxosModel(max_ballot=0)
        >>> m.element_signatures(next(iter(m.init_states())))["Acceptor"]
        [(-1, -1, 0, 0, 0), (-1, -1, 0, 0, 0), (-1, -1, 0, 0, 0)]
        """
        n = len(self.acceptors)
        counts_1b, counts_2a, counts_2b = self._message_counts
        k = len(self.values)
        # Message sets recur across many states: each is counted once (a hit is one look-up, inline).
        promises, reported = counts_1b.get(state.msgs_1b) or _tally(counts_1b, state.msgs_1b, (0, n), (3, k))
        votes, voted = counts_2b.get(state.msgs_2b) or _tally(counts_2b, state.msgs_2b, (0, n), (2, k))
        (proposed,) = counts_2a.get(state.msgs_2a) or _tally(counts_2a, state.msgs_2a, (1, k))
        held = [0] * (k + 1)  # [-1]: NONE
        for x in state.max_val:
            held[x] += 1
        max_bal, max_vbal, max_val = state.max_bal, state.max_vbal, state.max_val
        return {
            "Acceptor": [(max_bal[a], max_vbal[a], int(max_val[a] != NONE), promises[a], votes[a]) for a in range(n)],
            # Per value: proposals, votes, acceptors holding it as their last vote, promises reporting it.
            "Value": [(proposed[v], voted[v], held[v], reported[v]) for v in range(k)],
        }

    # -- properties -------------------------------------------------------------------
    def interpretation(self) -> Interpretation:
        """This model's states as finite structures over the Paxos signature (see invariants.standard).

        Examples
        --------
        >>> m = PaxosModel(max_ballot=1)
        >>> interp = m.interpretation()
        >>> interp.universe["Ballot"], [interp.show("Quorum", q) for q in interp.universe["Quorum"]]
        ((-1, 0, 1), ['{a1, a2}', '{a1, a3}', '{a2, a3}'])
        """
        acceptors = range(len(self.acceptors))
        return Interpretation(
            standard.PAXOS,
            {
                "Acceptor": tuple(acceptors),
                "Value": tuple(range(len(self.values))),
                "Ballot": (NONE, *self.ballots),
                "Quorum": self.phase2_quorums,
            },
            {
                "vote": attrgetter("msgs_2b"),  # 2b messages are (acceptor, ballot, value) tuples
                "proposed": attrgetter("msgs_2a"),  # 2a messages are (ballot, value) tuples
                "max_bal": attrgetter("max_bal"),
                "member": frozenset((a, q) for q in self.phase2_quorums for a in acceptors if q >> a & 1),
            },
            display={
                "Acceptor": self.acceptors.__getitem__,
                "Value": self.values.__getitem__,
                "Quorum": lambda q: "{" + ", ".join(self._names(q)) + "}",
            },
        )

    def properties(self) -> list[Property[PaxosState]]:
        """Agreement, validity, Voting.tla's OneValuePerBallot and VotesSafe, and "a value can be chosen".

        OneValuePerBallot and VotesSafe, parts of Lamport's inductive invariant,
        are checked on request (``--invariant votes-safe`` or ``--invariant all``):
        a buggy Paxos usually breaks them a few steps before agreement fails.

        All are first-order formulas from :mod:`quorumcheck.invariants.standard`,
        judged by ``self.evaluator`` (Z3 by default) once per distinct value of
        the relations each one reads.
        """
        interp = self.interpretation()
        chosen = standard.CHOSEN_MIXING_BALLOTS if self.bug == "learner-mixes-ballots" else standard.CHOSEN

        def judged(kind: str, name: str, formula: Any, description: str, default: bool = True) -> Property[PaxosState]:
            return formula_property(kind, name, formula, interp, description, evaluator=self.evaluator, default=default)

        props = [
            judged("always", "agreement", standard.paxos_agreement(chosen), "at most one value is chosen"),
            judged("always", "validity", standard.PAXOS_VALIDITY, "a chosen value was proposed"),
            judged(
                "always", "one-value-per-ballot", standard.ONE_VALUE_PER_BALLOT,
                "no two acceptors vote for different values in one ballot (Voting.tla)", default=False,
            ),
            judged(
                "always", "votes-safe", standard.VOTES_SAFE,
                "every vote is for a value safe at its ballot (Voting.tla)", default=False,
            ),
            judged("sometimes", "value-can-be-chosen", standard.paxos_value_chosen(chosen), "a value can be chosen"),
        ]
        for p in props:
            if p.name == "one-value-per-ballot":
                p.explainer = lambda state: explain_one_value_per_ballot(self.votes(state)) or None
            elif p.name == "votes-safe":
                p.explainer = self.explain_votes_safe
        return props

    # -- explanations ---------------------------------------------------------------------
    def votes(self, state: PaxosState) -> list[Vote]:
        """The 2b messages as votes with names (for the explanations).

        >>> m = PaxosModel(max_ballot=0)
        >>> m.votes(next(iter(m.init_states())))
        []
        """
        return [Vote(self.acceptors[m.acc], m.bal, str(m.bal), self.values[m.val]) for m in sorted(state.msgs_2b)]

    def explain_votes_safe(self, state: PaxosState) -> str | None:
        """Why a vote was not safe at its ballot (see :func:`explain_votes_safe`), in ballots and names."""
        promises = {a: (None if b == NONE else b) for a, b in zip(self.acceptors, state.max_bal)}
        texts = {a: ("nothing" if b is None else f"ballot {b}") for a, b in promises.items()}
        quorums = [frozenset(self._names(q)) for q in self.phase2_quorums]
        return explain_votes_safe(self.votes(state), [(b, str(b)) for b in self.ballots], promises, texts,
                                  quorums) or None

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

    def events(self, before: PaxosState, action: Action, after: PaxosState) -> StepEvents:
        """Who took the step and which messages it sent and received (for the sequence chart).

        Paxos.tla has no proposer variables, so ``Phase1a(b)`` and ``Phase2a(b, v)``
        are taken by ``"proposer b<b>"``; ``Phase1b`` and ``Phase2b`` by their
        acceptor. Message identifiers are the strings :meth:`describe` lists in
        ``msgs``. ``Phase2a(b, v)`` receives the 1b messages of the first quorum
        that allows ``v`` (the witness of the spec's ``\\E Q``). Messages stay in
        ``msgs``, so a message can be received by several steps; 2b messages
        are read by no process (the learner is the ``chosen`` definition).

        Examples
        --------
        >>> m = PaxosModel(max_ballot=0)
        >>> s0 = next(iter(m.init_states()))
        >>> s1 = m.next_state(s0, "Phase1a(b=0)")
        >>> s2 = m.next_state(s1, "Phase1b(a=a1, b=0)")
        >>> m.events(s1, Action("Phase1b", a="a1", b=0), s2)
        StepEvents(actor='a1', sent=('1b(a=a1, b=0, mbal=-1, mval=None)',), received=('1a(b=0)',))
        """
        acc, val = self.acceptors, self.values

        def value(i: int) -> str | None:
            return None if i == NONE else val[i]

        def text_1b(m: Msg1b) -> str:
            return f"1b(a={acc[m.acc]}, b={m.bal}, mbal={m.mbal}, mval={value(m.mval)})"

        sent = tuple(
            [f"1a(b={b})" for b in sorted(after.msgs_1a - before.msgs_1a)]
            + [text_1b(m) for m in sorted(after.msgs_1b - before.msgs_1b)]
            + [f"2a(b={m.bal}, v={val[m.val]})" for m in sorted(after.msgs_2a - before.msgs_2a)]
            + [f"2b(a={acc[m.acc]}, b={m.bal}, v={val[m.val]})" for m in sorted(after.msgs_2b - before.msgs_2b)]
        )
        args = action.args
        b = args.get("b")
        if action.name == "Phase1b":
            return StepEvents(str(args["a"]), sent, (f"1a(b={b})",))
        if action.name == "Phase2b":
            return StepEvents(str(args["a"]), sent, (f"2a(b={b}, v={args['v']})",))
        if action.name == "Phase2a":
            v = val.index(args["v"])
            promises = [m for m in before.msgs_1b if m.bal == b]
            senders = 0
            for m in promises:
                senders |= 1 << m.acc
            for q in self.phase1_quorums:
                if q & senders != q:
                    continue
                quorum = sorted((m for m in promises if q >> m.acc & 1), key=lambda m: m.acc)
                reported = [m for m in quorum if m.mbal >= 0]
                if not reported or self.bug == "ignore-prior-votes":
                    allowed = set(range(len(val)))
                elif self.bug == "adopt-any-vote":
                    allowed = {m.mval for m in reported}
                else:
                    top = max(m.mbal for m in reported)
                    allowed = {m.mval for m in reported if m.mbal == top}
                if v in allowed:
                    return StepEvents(f"proposer b{b}", sent, tuple(text_1b(m) for m in quorum))
            return StepEvents(f"proposer b{b}", sent)
        if action.name == "Phase1a":
            return StepEvents(f"proposer b{b}", sent)
        return StepEvents(action.name, sent)


class _PaxosPermuter:
    """One renaming of acceptors and values applied to Paxos states, with its message sets cached.

    Message sets recur across millions of states (Paxos 0..2 has 1,611 distinct
    vote sets), so each is renamed once per permutation.
    """

    __slots__ = ("acc", "m1b", "m2a", "m2b", "reorder", "val")

    def __init__(self, perm: Permutation, acceptors: int, values: int) -> None:
        self.acc = perm.of("Acceptor") or tuple(range(acceptors))
        self.val = (*(perm.of("Value") or range(values)), NONE)  # val[-1] is NONE: "no value" stays
        self.reorder = perm.reorder_fn("Acceptor")
        self.m1b: dict[frozenset[Msg1b], frozenset[Msg1b]] = {}
        self.m2a: dict[frozenset[Msg2a], frozenset[Msg2a]] = {}
        self.m2b: dict[frozenset[Msg2b], frozenset[Msg2b]] = {}

    def __call__(self, s: PaxosState) -> PaxosState:
        acc, val, reorder = self.acc, self.val, self.reorder
        m1b = self.m1b.get(s.msgs_1b)
        if m1b is None:
            m1b = self.m1b[s.msgs_1b] = frozenset(
                [_new(Msg1b, (acc[m[0]], m[1], m[2], val[m[3]])) for m in s.msgs_1b]
            )
        m2a = self.m2a.get(s.msgs_2a)
        if m2a is None:
            m2a = self.m2a[s.msgs_2a] = frozenset([_new(Msg2a, (m[0], val[m[1]])) for m in s.msgs_2a])
        m2b = self.m2b.get(s.msgs_2b)
        if m2b is None:
            m2b = self.m2b[s.msgs_2b] = frozenset([_new(Msg2b, (acc[m[0]], m[1], val[m[2]])) for m in s.msgs_2b])
        return _new(PaxosState, (
            reorder(s.max_bal), reorder(s.max_vbal), reorder(tuple([val[x] for x in s.max_val])),
            s.msgs_1a, m1b, m2a, m2b,
        ))


def _tally(cache: dict[Any, Any], messages: frozenset[Any], *fields: tuple[int, int]) -> tuple[list[int], ...]:
    """For each ``(position, size)``: how many of ``messages`` name each element there (index -1: NONE).

    The result is stored in ``cache`` under ``messages`` (the cache is cleared when it grows large).
    """
    if len(cache) >= 1 << 16:
        cache.clear()
    out = cache[messages] = tuple([0] * (size + 1) for _, size in fields)
    for m in messages:
        for tally, (position, _) in zip(out, fields):
            tally[m[position]] += 1
    return out


def _masks_of_size(n: int, k: int) -> tuple[int, ...]:
    return tuple(sum(1 << i for i in combo) for combo in itertools.combinations(range(n), k))


def _cross_intersect(first: Sequence[int], second: Sequence[int]) -> bool:
    return all(x & y for x in first for y in second)


# -- explanations of Voting.tla's invariants, shared with student code (models/observe.py) ---------------------
class Vote(NamedTuple):
    """One vote as people read it: the acceptor's name, the ballot (comparable ``key`` and ``text``), the value."""

    acceptor: str
    key: Any
    ballot: str
    value: str


def explain_one_value_per_ballot(votes: Sequence[Vote]) -> str:
    """The first ballot with votes for two values, in real ballots and values.

    >>> explain_one_value_per_ballot([Vote("a1", 0, "0", "v1"), Vote("a2", 0, "0", "v2")])
    'in ballot 0, a1 voted for v1 and a2 voted for v2'
    >>> explain_one_value_per_ballot([Vote("n0", (1, 0), "(1, 0)", "'x'"), Vote("n0", (1, 0), "(1, 0)", "'y'")])
    "in ballot (1, 0), n0 voted for both 'x' and 'y'"
    """
    ordered = sorted(votes, key=lambda v: (v.key, v.acceptor, v.value))
    for k, first in enumerate(ordered):
        for other in ordered[k + 1:]:
            if other.key == first.key and other.value != first.value:
                if other.acceptor == first.acceptor:
                    return f"in ballot {first.ballot}, {first.acceptor} voted for both {first.value} and {other.value}"
                return (f"in ballot {first.ballot}, {first.acceptor} voted for {first.value} and {other.acceptor} "
                        f"voted for {other.value}")
    return ""


def explain_votes_safe(votes: Sequence[Vote], ballots: Sequence[tuple[Any, str]], promises: dict[str, Any],
                       promise_texts: dict[str, str], quorums: Sequence[frozenset[str]]) -> str:
    """A vote for a value that was not safe at its ballot, and the earlier ballot that made it unsafe.

    Voting.tla: v is safe at b when, for every ballot c below b, some quorum's
    members each voted for v in c or can no longer vote in c (promised a
    higher ballot without voting in c). The explanation names the members that
    keep every quorum from that: each voted for another value in c, or can
    still vote in c.

    Parameters
    ----------
    votes : sequence of Vote
    ballots : sequence of (key, text)
        Every ballot, in order.
    promises, promise_texts : dict
        Per acceptor: its promise's key (``None``: it promised nothing), and how it reads.
    quorums : sequence of frozenset of str

    Examples
    --------
    >>> votes = [Vote("a1", 1, "1", "v2"), Vote("a1", 0, "0", "v1")]
    >>> q = [frozenset(p) for p in (("a1", "a2"), ("a1", "a3"), ("a2", "a3"))]
    >>> explain_votes_safe(votes, [(0, "0"), (1, "1")], {"a1": 0, "a2": 1, "a3": None},
    ...                    {"a1": "ballot 0", "a2": "ballot 1", "a3": "nothing"}, q)  # doctest: +NORMALIZE_WHITESPACE
    'a1 voted for v2 in ballot 1, but v2 was not safe there: in ballot 0 every quorum has a member that voted
     for another value or can still vote (a1 voted for v1; a3 can still vote: it promised nothing)'
    """
    acceptors = sorted({a for q in quorums for a in q})
    for vote in sorted(votes, key=lambda v: (v.key, v.acceptor, v.value)):
        for c, c_text in ballots:
            if not c < vote.key:
                break
            blockers: dict[str, str] = {}
            for x in acceptors:
                voted = sorted(v.value for v in votes if v.acceptor == x and v.key == c)
                if vote.value in voted:
                    continue
                if voted:
                    blockers[x] = f"{x} voted for {', '.join(voted)}"
                elif promises.get(x) is None or not promises[x] > c:
                    blockers[x] = f"{x} can still vote: it promised {promise_texts.get(x, 'nothing')}"
            if all(q & blockers.keys() for q in quorums):
                why = "; ".join(blockers[x] for x in acceptors if x in blockers)
                return (f"{vote.acceptor} voted for {vote.value} in ballot {vote.ballot}, but {vote.value} was not "
                        f"safe there: in ballot {c_text} every quorum has a member that voted for another value or "
                        f"can still vote ({why})")
    return ""
