"""Symmetry reduction: one canonical state per orbit, concrete traces back out.

A model declares its interchangeable sorts (:meth:`Model.symmetric_sorts
<quorumcheck.models.api.Model.symmetric_sorts>`) and how a renaming acts on a
state (:meth:`Model.permute <quorumcheck.models.api.Model.permute>`). The
search (:func:`quorumcheck.explorer.explore` with ``symmetry=True``) then
replaces every state by the canonical member of its orbit under the product
of the full symmetric groups of those sorts *before* storing it, so it stores
and expands one state per orbit: exactly what TLC's ``SYMMETRY`` counts.

The canonical member is the one with the smallest hash, ties between
different states broken by a total order on their contents, so it is a
function of the orbit alone (Stateright canonicalises the same way before
fingerprinting; nothing here "tries every permutation" per lookup).

Counterexamples stay concrete: :meth:`SymmetryReduction.concrete_trace` walks
the canonical trace from the model's own initial state, renaming every step
by the permutation that maps the canonical state to the concrete one, and
checks that each step is a real step of the unreduced model. ``quorumcheck
replay`` replays the result like any other trace.

A wrong declaration must not pass silently: :func:`check_symmetry` tests
that every declared renaming commutes with ``successors``, the bound and every
property on the states of a small search, and every run with symmetry does
so on its first states (:func:`resolve_symmetry`).

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=1), symmetry=True)
>>> r.distinct_states, r.depth, r.symmetry
(443, 17, ('Acceptor', 'Value'))
>>> r = explore(PaxosModel(max_ballot=1, bug="accept-below-promise"), symmetry=True)
>>> len(r.violation.trace), r.violation.trace.states[0] == next(iter(PaxosModel().init_states()))
(12, True)
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quorumcheck.errors import InvalidModel, InvalidParameter
from quorumcheck.models.api import Expectation, Model, Property
from quorumcheck.models.symmetry import Permutation, group

from .result import Step, Trace

__all__ = ["SymmetryCheck", "SymmetryReduction", "SymmetryWatch", "check_symmetry", "resolve_symmetry"]

PREFLIGHT_STATES = 200
"""How many states of an unreduced search every run with symmetry checks the declaration on."""

WATCH_ALL = 500
"""A reduced run tests the declaration on each of the first this many states it expands, by
:data:`WATCH_PERMS` renamings of each sort ..."""
WATCH_PERMS = 5
"""... drawn at random (every renaming, where a sort has no more) ..."""
WATCH_EVERY = 32
"""... and on every this-many-th state after them, by one renaming (:class:`SymmetryWatch`)."""


class SymmetryReduction:
    """The canonicaliser of one model under the renamings of some of its sorts.

    Parameters
    ----------
    model : Model
    sorts : mapping of str to int
        The sorts to permute, with their sizes (a subset of what the model declares).
    key : callable, default hash
        Orders an orbit's members to pick its representative. ``hash`` is fast,
        but for strings it differs between interpreters; where separate
        interpreters must agree on representatives (Ray's actors), pass a
        process-independent one (:class:`~quorumcheck.explorer.store.Fingerprinter`).

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> m = PaxosModel(max_ballot=0)
    >>> red = SymmetryReduction(m, {"Acceptor": 3})
    >>> s0 = next(iter(m.init_states()))
    >>> s1 = m.next_state(m.next_state(s0, "Phase1a(b=0)"), "Phase1b(a=a1, b=0)")
    >>> s2 = m.next_state(m.next_state(s0, "Phase1a(b=0)"), "Phase1b(a=a3, b=0)")
    >>> red.canonical(s1) == red.canonical(s2), len(red.group)
    (True, 6)
    """

    def __init__(self, model: Model[Any], sorts: Mapping[str, int], key: Callable[[Any], int] = hash) -> None:
        self.model = model
        self._key = key
        self.sorts = dict(sorted(sorts.items()))
        self.group: list[Permutation] = list(group(self.sorts))
        self._others = self.group[1:]  # without the identity
        self._permute = model.permute
        self._by_maps = {g._key: g for g in self.group}
        # Sorts whose elements carry signatures (Model.element_signatures): only the
        # renamings that sort the signatures are tried for them.
        self._signed = overridden(model, "element_signatures")
        self._candidates: dict[Any, list[Permutation]] = {}
        self._by_signature: dict[Any, list[Permutation]] = {}

    def canonical(self, state: Any) -> Any:
        """The orbit's representative.

        Among the orbit's members whose element signatures are in sorted order
        (every member, without signatures), the one with the smallest key
        (``hash`` unless another was given); ties between different states are
        broken by their contents.
        """
        if self._signed:
            signatures = self.model.element_signatures(state)
            key = tuple([tuple(signatures.get(sort, ())) for sort in self.sorts])
            candidates = self._by_signature.get(key)  # signatures recur: most states share a few patterns
            if candidates is None:
                candidates = self._by_signature[key] = self._sorting(signatures)
        else:
            candidates = self.group
        permute = self._permute
        key = self._key
        best = None
        best_hash = 0
        for g in candidates:
            t = state if g.is_identity else permute(state, g)
            h = key(t)
            if best is None or h < best_hash or (h == best_hash and t != best and _order(t) < _order(best)):
                best, best_hash = t, h
        return best

    def _sorting(self, signatures: Mapping[str, Sequence[Any]]) -> list[Permutation]:
        """The renamings that put every signed sort's elements in signature order (ties: all orders)."""
        shape = []
        for sort in self.sorts:
            keys = signatures.get(sort)
            if keys is None:
                shape.append(None)
                continue
            order = sorted(range(len(keys)), key=keys.__getitem__)
            blocks: list[list[int]] = []
            for k, i in enumerate(order):
                if k and keys[i] == keys[order[k - 1]]:
                    blocks[-1].append(i)
                else:
                    blocks.append([i])
            shape.append(tuple(tuple(b) for b in blocks))
        key = tuple(shape)
        found = self._candidates.get(key)
        if found is None:
            choices = []
            for sort, blocks in zip(self.sorts, shape):
                n = self.sorts[sort]
                if blocks is None:
                    choices.append([tuple(p) for p in itertools.permutations(range(n))])
                    continue
                per_block = []
                start = 0
                for block in blocks:
                    positions = range(start, start + len(block))
                    per_block.append([dict(zip(block, p)) for p in itertools.permutations(positions)])
                    start += len(block)
                images = []
                for parts in itertools.product(*per_block):
                    image = [0] * n
                    for part in parts:
                        for i, j in part.items():
                            image[i] = j
                    images.append(tuple(image))
                choices.append(images)
            found = self._candidates[key] = [
                self._by_maps[tuple(zip(self.sorts, images))] for images in itertools.product(*choices)
            ]
        return found

    def mapping(self, source: Any, target: Any) -> Permutation | None:
        """A permutation that renames ``source`` into ``target``, or ``None`` if they are in different orbits."""
        for g in self.group:
            if g.is_identity:
                if source == target:
                    return g
            elif self._permute(source, g) == target:
                return g
        return None

    def concrete_trace(self, trace: Trace[Any], start: Any) -> Trace[Any]:
        """Turn a trace of canonical states into a trace of the unreduced model from ``start``.

        ``trace`` begins at ``canonical(start)``; each later step's state is
        canonical, or (for the last step of a violation found on a successor)
        the raw successor itself. Each step is renamed by the permutation that
        maps the canonical state reached so far onto the concrete one, and
        the concrete step is looked up among the concrete state's own
        successors, so the result is a real trace of the model.

        Raises
        ------
        InvalidModel
            When a step cannot be renamed into a step of the model: the declared
            symmetry is not a symmetry of the model.
        """
        model = self.model
        steps = trace.steps
        x = start
        h = self.mapping(steps[0].state, x)
        if h is None:
            raise InvalidModel(f"model {model.name!r}: a trace's first state is not in the orbit of the initial state")
        out = [Step(None, x)]
        u = steps[0].state
        for k, step in enumerate(steps[1:], start=1):
            raw = self._raw_successor(u, step)
            y = raw if h.is_identity else self._permute(raw, h)
            label = next((a for a, c in model.successors(x) if c == y), None)
            if label is None:
                raise InvalidModel(
                    f"model {model.name!r}: renaming step {k} ({step.action}) by [{h}] gives no step of the model, so "
                    f"the declared symmetric sorts {', '.join(self.sorts)} are not symmetric; fix permute() or "
                    "symmetric_sorts()"
                )
            out.append(Step(label, y))
            x = y
            if k < len(steps) - 1:
                u = step.state
                h = self.mapping(u, x)  # type: ignore[assignment]
                if h is None:  # pragma: no cover - only an inconsistent canonical() gets here
                    raise InvalidModel(f"model {model.name!r}: step {k} left the orbit of the canonical trace")
        return Trace(tuple(out))

    def _raw_successor(self, u: Any, step: Step[Any]) -> Any:
        """The successor of canonical ``u`` by ``step.action`` whose orbit is ``step.state``'s."""
        matches = [t for a, t in self.model.successors(u) if a == step.action]
        for t in matches:
            if t == step.state:
                return t
        want = self.canonical(step.state)
        for t in matches:
            if self.canonical(t) == want:
                return t
        raise InvalidModel(
            f"model {self.model.name!r}: {step.action} does not lead to the recorded state; successors() is not "
            "deterministic"
        )


class SymmetryWatch:
    """Keeps testing a declaration during a reduced run, on the states the run expands.

    The check before a run (:func:`resolve_symmetry`) sees the first states of
    an unreduced search only, so a renaming that fails deep in the state space
    (one element alone may take some step after many others) would pass it and
    make the reduced run wrong. The watch tests every state the run expands
    among the first :data:`WATCH_ALL`, and every :data:`WATCH_EVERY`-th after
    them. It renames the state by up to :data:`WATCH_PERMS` permutations of
    each symmetric sort (all of them for a sort of three elements; later, one
    permutation of one sort, the sorts in turn) and asks
    that the renamed state's successors be the renamed successors, and that
    the bound and each property answer alike. The run stores one member of
    each orbit, so this tests members of the orbits that the run never sees
    (were every renaming tried on every state the run expands, it would be a
    complete check of the reachable orbits). A failure stops the run with
    :class:`~quorumcheck.errors.InvalidModel` naming the sort. Beyond that it
    is a test, not a proof: a renaming that fails only in states or by
    permutations it does not sample still passes.

    Parameters
    ----------
    reduction : SymmetryReduction
    properties : sequence of Property
        The properties the run checks.
    seed : int, default 0
        Seeds the choice of permutations, so a run is repeatable.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> m = PaxosModel(max_ballot=0)
    >>> watch = SymmetryWatch(SymmetryReduction(m, {"Acceptor": 3}), m.properties())
    >>> s0 = next(iter(m.init_states()))
    >>> len(watch.successors(m.successors)(s0)), watch.checked
    (1, 1)
    """

    def __init__(self, reduction: SymmetryReduction, properties: Sequence[Property[Any]], seed: int = 0) -> None:
        self.model = reduction.model
        self._sorts = [(sort, [g for g in group({sort: n}) if not g.is_identity])
                       for sort, n in reduction.sorts.items() if n > 1]
        self._states = [p for p in properties if p.expectation is not Expectation.EVERY_STEP]
        self._steps = [p for p in properties if p.expectation is Expectation.EVERY_STEP]
        self._rng = random.Random(seed)
        self.expanded = 0
        """States the run expanded through :meth:`successors`."""
        self.checked = 0
        """States the declaration was tested on."""

    def successors(self, succ: Callable[[Any], Iterable[tuple[Any, Any]]]) -> Callable[[Any], Iterable[tuple[Any, Any]]]:
        """``succ``, testing the declaration on the states the schedule picks."""
        if not self._sorts:
            return succ
        raw = self.model.successors

        def watched(s: Any) -> Iterable[tuple[Any, Any]]:
            out = succ(s)
            self.expanded += 1
            n = self.expanded
            if n <= WATCH_ALL or not n % WATCH_EVERY:
                out = list(out)
                self._test(s, out if succ is raw else list(raw(s)))
            return out

        return watched

    def _test(self, s: Any, steps: list[tuple[Any, Any]]) -> None:
        answers = [p.holds(s) for p in self._states]
        if self.expanded <= WATCH_ALL:
            tests = [(sort, g) for sort, perms in self._sorts
                     for g in (perms if len(perms) <= WATCH_PERMS else self._rng.sample(perms, WATCH_PERMS))]
        else:  # one renaming of one sort (the sorts in turn): a tenth of a state's work, spread over the run
            sort, perms = self._sorts[self.checked % len(self._sorts)]
            tests = [(sort, self._rng.choice(perms))]
        self.checked += 1
        for sort, g in tests:
            self._test_one(s, steps, answers, sort, g)

    def _test_one(self, s: Any, steps: list[tuple[Any, Any]], answers: list[bool], sort: str,
                  g: Permutation) -> None:
        model = self.model
        gs = model.permute(s, g)

        def wrong(why: str) -> InvalidModel:
            return InvalidModel(
                f"model {model.name!r} declares {sort} symmetric, but it is not: in a state the run reached "
                f"({_short(model, s)}), {why}; remove {sort} from symmetric_sorts() or fix permute() "
                "(quorumcheck.explorer.check_symmetry(model, max_states=N) tests more states)"
            )

        renamed = [model.permute(t, g) for _, t in steps]
        mine = set(renamed)
        theirs = {t for _, t in model.successors(gs)}
        if mine != theirs:
            extra = theirs - mine
            raise wrong(f"renaming it by [{g}] gives {len(theirs)} successor(s) instead of {len(mine)}; "
                        + ("an extra one: " + _short(model, next(iter(extra))) if extra else
                           "a renamed successor is missing: " + _short(model, next(iter(mine - theirs)))))
        if model.has_boundary and any(model.within_boundary(t) != model.within_boundary(gt)
                                      for (_, t), gt in zip(steps, renamed)):
            raise wrong(f"renaming a successor by [{g}] moves it across the bound")
        for p, answer in zip(self._states, answers):
            if p.holds(gs) != answer:
                raise wrong(f"property {p.name} answers {answer} there and {not answer} after renaming by "
                            f"[{g}], so it names a particular element of {sort}; run --symmetry with the other sorts")
        for p in self._steps:
            if any(p.holds_on_step(s, t) != p.holds_on_step(gs, gt) for (_, t), gt in zip(steps, renamed)):
                raise wrong(f"property {p.name} answers differently on a step and on its renaming by [{g}]")


def overridden(model: Model[Any], method: str) -> bool:
    """Whether ``model``'s class overrides ``Model.method``."""
    return getattr(type(model), method) is not getattr(Model, method)


def _order(x: Any) -> Any:
    """A total order on state contents, for the rare hash tie inside one orbit."""
    if isinstance(x, (frozenset, set)):
        return (3, tuple(sorted(_order(e) for e in x)))
    if isinstance(x, tuple):
        return (2, tuple(_order(e) for e in x))
    if isinstance(x, (int, float)):
        return (1, x)
    return (4, repr(x))


@dataclass
class SymmetryCheck:
    """What :func:`check_symmetry` found: failures per sort, in words.

    Attributes
    ----------
    states : int
        States of the unreduced search the check ran on.
    successors : dict of str to str
        Sorts whose renaming does not commute with ``successors`` (or the
        bound, or the initial states), each with one example.
    properties : dict of str to str
        Sorts whose renaming changes a property's answer, each with the
        property and one example: such a property names a particular element.
    """

    states: int = 0
    successors: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.successors and not self.properties


def _generators(sorts: Mapping[str, int]) -> Iterable[tuple[str, Permutation]]:
    """Adjacent transpositions of each sort: renamings that commute with these commute with all."""
    for sort, n in sorts.items():
        for i in range(n - 1):
            image = list(range(n))
            image[i], image[i + 1] = i + 1, i
            yield sort, Permutation({sort: image})


def check_symmetry(
    model: Model[Any],
    sorts: Mapping[str, int] | None = None,
    *,
    max_states: int = 2000,
    properties: Sequence[Property[Any]] | None = None,
) -> SymmetryCheck:
    """Test that renaming each declared sort commutes with the model and its properties.

    On the first ``max_states`` states of an unreduced breadth-first search,
    for every adjacent transposition ``g`` of each sort (they generate every
    renaming): the successors of ``g(s)`` are exactly ``g`` applied to the
    successors of ``s``; ``g`` keeps states inside the bound; and each property
    answers the same on ``s`` and ``g(s)`` (action properties on ``(s, t)`` and
    ``(g(s), g(t))``).

    Parameters
    ----------
    model : Model
    sorts : mapping, optional
        The sorts to test; by default what the model declares.
    max_states : int, default 2000
    properties : sequence of Property, optional
        By default every property of the model.

    Returns
    -------
    SymmetryCheck

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> check_symmetry(PaxosModel(max_ballot=1), max_states=300).ok
    True
    """
    sorts = dict(model.symmetric_sorts() if sorts is None else sorts)
    props = list(model.properties()) if properties is None else list(properties)
    found = SymmetryCheck()
    gens = list(_generators(sorts))
    signed = overridden(model, "element_signatures")
    init = list(model.init_states())
    seen = set(init)
    queue = deque(init)
    bounded = model.has_boundary
    while queue and found.states < max_states:
        s = queue.popleft()
        found.states += 1
        succ = list(model.successors(s))
        targets = {t for _, t in succ}
        for sort, g in gens:
            if sort in found.successors and sort in found.properties:
                continue
            gs = _permuted(model, s, g, sort, sorts[sort])
            if sort not in found.successors:
                image = {model.permute(t, g) for t in targets}
                theirs = {t for _, t in model.successors(gs)}
                if image != theirs:
                    missing = next(iter(image - theirs), None) if image - theirs else None
                    extra = next(iter(theirs - image), None) if theirs - image else None
                    odd = missing if missing is not None else extra
                    found.successors[sort] = (
                        f"renaming {sort} by [{g}] in a state with {len(targets)} successor(s) gives "
                        f"{len(theirs)}; {'a renamed successor is missing' if missing is not None else 'an extra successor appears'}: "
                        f"{_short(model, odd)}"
                    )
                elif bounded and any(model.within_boundary(t) != model.within_boundary(model.permute(t, g))
                                     for t in targets):
                    found.successors[sort] = f"renaming {sort} by [{g}] moves a state across the bound"
            if signed and sort not in found.successors:
                before_keys, after_keys = model.element_signatures(s), model.element_signatures(gs)
                if any(after_keys[signed_sort][g(signed_sort, i)] != key
                       for signed_sort, keys in before_keys.items() for i, key in enumerate(keys)):
                    found.successors[sort] = (
                        f"element_signatures() of {sort} do not follow the renaming [{g}]: they must not name "
                        "elements of a symmetric sort"
                    )
            if sort not in found.properties:
                for p in props:
                    if p.expectation is Expectation.EVERY_STEP:
                        bad = next((t for t in targets
                                    if p.holds_on_step(s, t) != p.holds_on_step(gs, model.permute(t, g))), None)
                        if bad is not None:
                            found.properties[sort] = f"{p.name} answers differently on a step and its renaming"
                            break
                    elif p.holds(s) != p.holds(gs):
                        found.properties[sort] = (
                            f"{p.name} answers {p.holds(s)} in a state and {p.holds(gs)} after renaming {sort} by [{g}]"
                        )
                        break
        for t in targets:
            if t not in seen and (not bounded or model.within_boundary(t)):
                seen.add(t)
                queue.append(t)
    return found


def _permuted(model: Model[Any], state: Any, g: Permutation, sort: str, n: int) -> Any:
    """``model.permute(state, g)``, or :class:`InvalidModel` saying what is wrong with the declaration when it
    raises or gives something that is not a state like ``state``."""
    try:
        out = model.permute(state, g)
    except (IndexError, KeyError, ValueError, TypeError) as e:
        raise InvalidModel(
            f"model {model.name!r}: permute() raised {type(e).__name__}: {e} when renaming {sort} by [{g}]; "
            f"symmetric_sorts() says {sort} has {n} elements (0..{n - 1}): give its number of elements there, and "
            "rename every part of the state that holds one"
        ) from None
    if type(out) is not type(state):
        raise InvalidModel(
            f"model {model.name!r}: permute() returned a {type(out).__name__} for a state that is a "
            f"{type(state).__name__}; return a state of the same kind (hashable), e.g. tuple(...)"
        )
    return out


def _short(model: Model[Any], state: Any) -> str:
    text = str(model.describe(state))
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass
class ResolvedSymmetry:
    """The reduction a run will use, and what it had to say about the declaration."""

    reduction: SymmetryReduction | None
    notices: list[str]


def resolve_symmetry(
    model: Model[Any],
    requested: bool | Sequence[str],
    properties: Sequence[Property[Any]],
    *,
    preflight_states: int = PREFLIGHT_STATES,
    key: Callable[[Any], int] = hash,
) -> ResolvedSymmetry:
    """Decide which sorts a run permutes, check the declaration, and say why any sort is left out.

    * ``requested`` is ``True`` (every declared sort) or a list of sort names.
    * A property written as a formula that names a particular element of a
      sort (a constant such as ``Server("s1")``) turns that sort off, with a notice.
    * The declaration is then tested on the first ``preflight_states`` states
      of an unreduced search (:func:`check_symmetry`): a sort whose renaming
      does not commute with the model is an error (the declaration is wrong);
      one whose renaming changes a property's answer is turned off with a notice.
    * ``key`` orders an orbit's members to pick its representative (see
      :class:`SymmetryReduction`).

    Raises
    ------
    InvalidParameter
        The model declares no symmetric sort, or a requested sort is not declared.
    InvalidModel
        A declared sort is not a symmetry of the model.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> m = PaxosModel(max_ballot=1)
    >>> r = resolve_symmetry(m, True, m.properties())
    >>> sorted(r.reduction.sorts), r.notices
    (['Acceptor', 'Value'], [])
    >>> resolve_symmetry(m, ["Ballot"], m.properties())
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: model 'paxos' has no symmetric sort 'Ballot'; its symmetric sorts are: Acceptor, Value
    """
    declared = dict(model.symmetric_sorts())
    if not declared:
        raise InvalidParameter(
            f"model {model.name!r} declares no symmetric sorts, so --symmetry has nothing to permute; "
            "run without it (or declare symmetric_sorts() and permute() in the model)"
        )
    if requested is True:
        wanted = dict(declared)
    else:
        wanted = {}
        for name in requested:  # type: ignore[union-attr]
            if name not in declared:
                raise InvalidParameter(
                    f"model {model.name!r} has no symmetric sort {name!r}; its symmetric sorts are: "
                    f"{', '.join(declared)}"
                )
            wanted[name] = declared[name]
    notices: list[str] = list(model.symmetry_notices())
    for p in properties:
        for sort, element in _named_elements(p):
            if sort in wanted:
                del wanted[sort]
                notices.append(
                    f"symmetry: {sort} is not permuted because property {p.name} names the particular element "
                    f"{element}"
                )
    if wanted:
        found = check_symmetry(model, wanted, max_states=preflight_states, properties=properties)
        if found.successors:
            sort, why = next(iter(found.successors.items()))
            raise InvalidModel(
                f"model {model.name!r} declares {sort} symmetric, but it is not: {why}; remove {sort} from "
                "symmetric_sorts() or fix permute()"
            )
        for sort, why in found.properties.items():
            del wanted[sort]
            notices.append(f"symmetry: {sort} is not permuted because {why} (it names a particular element)")
    if not wanted:
        return ResolvedSymmetry(None, notices)
    return ResolvedSymmetry(SymmetryReduction(model, wanted, key), notices)


def _named_elements(p: Property[Any]) -> list[tuple[str, str]]:
    """The (sort, element) constants a formula property names; none for a plain Python property."""
    if p.formula is None:
        return []
    from quorumcheck.invariants.language import constants

    return [(c.sort.name, str(c.value)) for c in constants(p.formula)]


def concrete(reduction: SymmetryReduction | None, origins: Mapping[Any, Any]) -> Callable[[Trace[Any]], Trace[Any]]:
    """The function that makes a search's traces concrete (the identity without symmetry)."""
    if reduction is None:
        return lambda t: t
    return lambda t: reduction.concrete_trace(t, origins[t.steps[0].state])
