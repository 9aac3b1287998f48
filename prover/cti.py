"""Counterexamples to induction: a smallest Z3 model read back as two finite structures, and its reachability.

A CTI is a pre-state that satisfies the candidate invariant, an action, and
a post-state that violates one conjunct. :func:`read_cti` minimises the
model Z3 found (each uninterpreted sort in turn, to the fewest elements that
still give a counterexample, as Ivy and mypyvy do), names its elements
(``a1``, ``v1``, ``Q1``; ordered sorts by integers, with the literals the
formulas name in their place), and evaluates every symbol on them.
:func:`reachability` then asks the explicit explorer whether the pre-state is
reachable in the instance of the CTI's sizes: if it is, the conjunct is false
there; if not, the invariant must be strengthened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import permutations, product
from typing import Any

import z3

from quorumcheck.invariants.language import Function, Relation, Signature, Sort
from quorumcheck.invariants.system import TransitionSystem
from quorumcheck.invariants.z3backend import Translator, solve

__all__ = ["Structure", "CTI", "Reachability", "read_cti", "reachability", "show_structure", "check_cti", "pre_state"]

Values = dict[str, frozenset[tuple[Any, ...]]]


@dataclass(frozen=True)
class Structure:
    """A finite first-order structure: each sort's elements, and each symbol as a set of tuples.

    A relation is the set of argument tuples where it holds; a function
    ``f(x) = y`` is the set of tuples ``(x, y)``.
    """

    universe: dict[str, tuple[Any, ...]]
    values: Values

    def size(self) -> dict[str, int]:
        return {name: len(elements) for name, elements in self.universe.items()}


@dataclass(frozen=True)
class Reachability:
    """Whether a CTI's pre-state is reachable in the explicit instance of its sizes."""

    reachable: bool | None
    """True, False, or None when it could not be decided (no explicit instance, or too big)."""
    note: str
    states: int = 0
    trace: Any = None
    """The explicit trace to the pre-state, when it is reachable."""


@dataclass(frozen=True)
class CTI:
    """A counterexample to induction (or to initiation, when ``action`` is None)."""

    conjunct: str
    action: str | None
    params: dict[str, Any]
    pre: Structure
    post: Structure | None
    statics: Values
    reach: Reachability | None = field(default=None, compare=False)
    problems: tuple[str, ...] = field(default=(), compare=False)
    """What the independent check (:func:`check_cti`, the plain-Python evaluator) found wrong; empty when right."""

    def verdict_line(self) -> str:
        """``unreachable: strengthen the invariant`` or ``reachable: the property is false`` (or unknown)."""
        if self.reach is None or self.reach.reachable is None:
            return "reachability unknown" + (f" ({self.reach.note})" if self.reach else "")
        if self.reach.reachable:
            return f"reachable: the conjunct is false in this instance ({self.reach.note})"
        return f"unreachable: strengthen the invariant ({self.reach.note})"


_PREFIX = {"Acceptor": "a", "Value": "v", "Quorum": "Q", "Server": "s", "Node": "n", "Learner": "l"}


def _minimise(solver: z3.Solver, tr: Translator, sorts: Sequence[Sort], deadline_ms: int) -> z3.ModelRef:
    """Shrink each uninterpreted sort to the fewest elements that keep ``solver`` satisfiable."""
    model = solver.model()
    for sort in sorts:
        zs = tr.sort(sort)
        if zs.kind() != z3.Z3_UNINTERPRETED_SORT:
            continue
        universe = model.get_universe(zs)
        if universe is None:
            continue
        for k in range(1, len(universe)):
            elems = [z3.Const(f"min!{sort.name}!{i}", zs) for i in range(k)]
            y = z3.Const(f"min!{sort.name}!y", zs)
            solver.push()
            solver.add(z3.ForAll([y], z3.Or([y == e for e in elems])))
            solver.set("timeout", deadline_ms)
            if solve(solver) == z3.sat:
                model = solver.model()
                break  # keep the bound: later sorts are minimised under it
            solver.pop()
    return model


def int_bounds(tr: Translator, sig: Signature, sort: Sort, lo: int, hi: int, params: Mapping[str, Any]) -> list[Any]:
    """Constraints confining the integer sort ``sort`` to ``lo..hi`` in every symbol met so far and every parameter.

    Every relation holds only on tuples inside the range; every function value
    (on arguments inside the range) and every parameter of the sort lies in it.
    """
    def inside(t: Any) -> Any:
        return z3.And(t >= lo, t <= hi)

    bounds = []
    for (name, primed), fn in list(tr._symbols.items()):
        sym = sig.symbols.get(name)
        if sym is None:
            continue
        xs = [z3.Const(f"bound!{name}!{i}", tr.sort(d)) for i, d in enumerate(sym.domain)]
        ints = [x for x, d in zip(xs, sym.domain) if d is sort]
        if isinstance(sym, Relation) and ints:
            bounds.append(z3.ForAll(xs, z3.Implies(fn(*xs), z3.And(*[inside(x) for x in ints]))))
        elif isinstance(sym, Function) and sym.result is sort:
            body = inside(fn(*xs)) if not ints else z3.Implies(z3.And(*[inside(x) for x in ints]), inside(fn(*xs)))
            bounds.append(z3.ForAll(xs, body) if xs else body)
    return bounds + [inside(const) for psort, const in params.values() if psort is sort]


def int_range(tr: Translator, sort: Sort) -> tuple[int, int]:
    """The literals' range of an integer sort (``-1..0`` for Paxos's ballots), or ``0..0``."""
    literals = sorted(tr.literals.get(sort.name, {}))
    return (literals[0], literals[-1]) if literals else (0, 0)


def finite_bounds(tr: Translator, sig: Signature, size: int, params: Mapping[str, Any]) -> list[Any]:
    """Constraints for a finite model search: at most ``size`` elements per uninterpreted sort, and each
    integer sort within ``size`` values above its literals' range."""
    out = []
    for sort in sig.sorts.values():
        zs = tr.sort(sort)
        if zs == z3.IntSort():
            lo, top = int_range(tr, sort)
            out += int_bounds(tr, sig, sort, lo, top + size, params)
        elif sort.name in tr._sorts:
            elems = [z3.Const(f"finite!{sort.name}!{i}", zs) for i in range(size)]
            y = z3.Const(f"finite!{sort.name}!y", zs)
            out.append(z3.ForAll([y], z3.Or([y == e for e in elems])))
    return out


def _bound_ints(solver: z3.Solver, tr: Translator, sig: Signature, params: Mapping[str, Any],
                timeout_ms: int, widest: int = 8) -> dict[str, tuple[int, int]]:
    """Confine each integer (ordered) sort to the shortest range lo..hi that keeps a counterexample.

    The range starts at the sort's least literal (Paxos's ``-1``) and grows upwards first; a counterexample
    that needs a value below every literal (a term under the initial one, which no reachable state has) grows
    it downwards too, so that its pre-state still reads as integers. The bound is kept on ``solver`` for the
    sorts after it.
    """
    out: dict[str, tuple[int, int]] = {}
    for sort in sig.sorts.values():
        if not sort.ordered or tr.sort(sort) != z3.IntSort():
            continue
        lo, top = int_range(tr, sort)
        top = max(lo, top)
        ranges = [(lo, top)] + [r for extra in range(1, widest - (top - lo))
                                for r in ((lo, top + extra), (lo - extra, top))]
        for low, hi in ranges:
            solver.push()
            solver.add(*int_bounds(tr, sig, sort, low, hi, params))
            solver.set("timeout", timeout_ms)
            if solve(solver) == z3.sat:
                out[sort.name] = (low, hi)
                break
            solver.pop()
        else:
            raise _Unbounded(sort.name)
    return out


class _Unbounded(Exception):
    """No counterexample within a short integer range (the CTI is read from Z3's model as it is)."""


def _labels(model: z3.ModelRef, tr: Translator, sort: Sort,
            ranges: Mapping[str, tuple[int, int]] | None = None) -> list[tuple[Any, Any]]:
    """(Z3 element, label) for each element of ``sort`` in ``model``, in a stable order."""
    zs = tr.sort(sort)
    if ranges is not None and sort.name in ranges:
        lo, hi = ranges[sort.name]
        return [(z3.IntVal(i), i) for i in range(lo, hi + 1)]
    if zs.kind() != z3.Z3_UNINTERPRETED_SORT:
        return []
    elements = list(model.get_universe(zs) or [])
    named: dict[Any, Any] = {}
    for key, const in _sort_literals(tr, sort).items():
        named[model.eval(const, model_completion=True)] = key
    prefix = _PREFIX.get(sort.name, sort.name[:1].lower())
    out, n = [], 0
    for e in elements:
        if e in named:
            out.append((e, named[e]))
        else:
            n += 1
            out.append((e, f"{prefix}{n}"))
    return out


def _sort_literals(tr: Translator, sort: Sort) -> dict[Any, Any]:
    """The literals of an unordered sort the formulas named (``Value(-1)``): value -> Z3 constant."""
    return {value: z3.Const(f"{sort.name}!{value}", tr.sort(sort))
            for (name, value) in tr.named_constants if name == sort.name}


def _evaluate(model: z3.ModelRef, tr: Translator, sig: Signature, names: Sequence[str], primed: bool,
              labels: Mapping[str, list[tuple[Any, Any]]]) -> Values:
    out: Values = {}
    for name in names:
        sym = sig.symbol(name)
        if (sym.name, primed) not in tr._symbols:
            tr._symbol(sym, primed)
        fn = tr._symbol(sym, primed)
        domains = [labels[s.name] for s in sym.domain]
        rows = set()
        for combo in product(*domains):
            value = model.eval(fn(*[z for z, _ in combo]), model_completion=True)
            args = tuple(label for _, label in combo)
            if isinstance(sym, Relation):
                if z3.is_true(value):
                    rows.add(args)
            else:
                assert isinstance(sym, Function)
                rows.add((*args, _label_of(value, labels[sym.result.name])))
        out[name] = frozenset(rows)
    return out


def _label_of(value: Any, labels: list[tuple[Any, Any]]) -> Any:
    for z, label in labels:
        if z.eq(value):
            return label
    return str(value)


def read_cti(solver: z3.Solver, tr: Translator, system: TransitionSystem, conjunct: str, action: str | None,
             params: Mapping[str, Any], timeout_ms: int) -> CTI:
    """Minimise the satisfiable ``solver``'s model and read it back as a :class:`CTI`."""
    sig = system.signature
    sorts = list(sig.sorts.values())
    model = _minimise(solver, tr, sorts, timeout_ms)
    try:
        ranges = _bound_ints(solver, tr, sig, params, timeout_ms)
        model = solver.model()
    except _Unbounded:
        ranges = {}
    labels = {s.name: _labels(model, tr, s, ranges) for s in sorts}
    used = system.used_symbols()
    shown_sorts = {d.name for n in used for d in (*sig.symbol(n).domain, getattr(sig.symbol(n), "result", None))
                   if d is not None}
    universe = {name: tuple(label for _, label in pairs) for name, pairs in labels.items() if name in shown_sorts}
    static = [n for n in used if n not in system.state]
    pre = Structure(universe, _evaluate(model, tr, sig, system.state, False, labels))
    post = Structure(universe, _evaluate(model, tr, sig, system.state, True, labels)) if action else None
    statics = _evaluate(model, tr, sig, static, False, labels)
    shown = {name: _label_of(model.eval(const, model_completion=True), labels[sort.name])
             for name, (sort, const) in params.items()}
    return CTI(conjunct, action, shown, pre, post, statics)


# -- an independent check -----------------------------------------------------------------------------------
def _as_values(system: TransitionSystem, universe: Mapping[str, tuple[Any, ...]], values: Values,
               statics: Values) -> dict[str, Any]:
    """A structure in the plain evaluator's format (functions as tuples over their domain's product)."""
    out: dict[str, Any] = {}
    for name, rows in {**statics, **values}.items():
        sym = system.signature.symbol(name)
        if isinstance(sym, Function):
            table = {r[:-1]: r[-1] for r in rows}
            out[name] = tuple(table.get(args) for args in product(*(universe[d.name] for d in sym.domain)))
        else:
            out[name] = frozenset(rows)
    return out


def pre_state(system: TransitionSystem, cti: CTI) -> tuple[dict[str, tuple[Any, ...]], dict[str, Any]]:
    """A CTI's pre-state as the plain-Python evaluator reads it: ``(universe, values)``, every sort present.

    Inference (:func:`quorumcheck.prover.infer.strengthen`) evaluates its candidate conjuncts there.
    """
    universe = dict(cti.pre.universe)
    for sort in system.signature.sorts.values():
        universe.setdefault(sort.name, ())
    return universe, _as_values(system, universe, cti.pre.values, cti.statics)


def check_cti(system: TransitionSystem, cti: CTI, invariant: Sequence[str]) -> list[str]:
    """What is wrong with ``cti``, judged by the plain-Python evaluator instead of Z3 (empty when it is right).

    A CTI must satisfy the axioms and every conjunct of ``invariant`` in its
    pre-state, and violate its conjunct after a step of its action (or, for
    initiation, satisfy init; for safety, violate the safety conjunct).
    """
    from quorumcheck.invariants.evaluate import evaluate

    problems = []
    universe, pre = pre_state(system, cti)
    for i, axiom in enumerate(system.axioms):
        if not evaluate(axiom, universe, pre):
            problems.append(f"the structure breaks axiom {i + 1}")
    goal = system.conjunct(cti.conjunct).formula
    if cti.action is None:
        if cti.conjunct in invariant:  # initiation: an initial state that breaks the conjunct
            if not evaluate(system.init, universe, pre):
                problems.append("the state is not initial")
            if evaluate(goal, universe, pre):
                problems.append(f"the initial state satisfies {cti.conjunct}")
        elif evaluate(goal, universe, pre):  # safety: the invariant holds and the safety conjunct does not
            problems.append(f"the state satisfies {cti.conjunct}")
    if cti.action is not None or cti.conjunct not in invariant:
        for name in invariant:
            if not evaluate(system.conjunct(name).formula, universe, pre):
                problems.append(f"the pre-state breaks {name}")
    if cti.action is not None:
        assert cti.post is not None
        post = _as_values(system, universe, cti.post.values, cti.statics)
        if not evaluate(system.transition(system.action(cti.action)), universe, pre, after=post):
            problems.append(f"pre-state to post-state is not a step of {cti.action}")
        if evaluate(goal, universe, post):
            problems.append(f"the post-state satisfies {cti.conjunct}")
    return problems


# -- reachability -------------------------------------------------------------------------------------------
def _renamings(universe: Mapping[str, tuple[Any, ...]], sorts: Sequence[Sort]) -> list[dict[Any, Any]]:
    """Every renaming of the named (non-literal) elements of the uninterpreted sorts, as one mapping."""
    per_sort = []
    for sort in sorts:
        if sort.ordered or sort.name not in universe:
            continue
        prefix = _PREFIX.get(sort.name, sort.name[:1].lower())  # only _labels' names: literals (Leader) stay
        free = [e for e in universe[sort.name] if isinstance(e, str) and e[:len(prefix)] == prefix
                and e[len(prefix):].isdigit()]
        per_sort.append([dict(zip(free, p)) for p in permutations(free)])
    out = []
    for combo in product(*per_sort):
        merged: dict[Any, Any] = {}
        for m in combo:
            merged.update(m)
        out.append(merged)
    return out or [{}]


def _renamed(values: Values, mapping: Mapping[Any, Any]) -> Values:
    return {name: frozenset(tuple(mapping.get(x, x) for x in row) for row in rows) for name, rows in values.items()}


def reachability(system: TransitionSystem, cti: CTI, *, max_states: int = 200_000,
                 timeout: float = 60.0) -> Reachability:
    """Search the explicit instance of the CTI's sizes for its pre-state (up to renaming elements).

    Uses the one explorer: the instance gets a single reachability property,
    "the CTI's pre-state", and the breadth-first search answers with the
    shortest trace to it, or explores every state without meeting it.
    """
    from quorumcheck.explorer import explore
    from quorumcheck.models.api import Model, sometimes

    if system.explicit is None:
        return Reachability(None, f"{system.name} has no explicit model to compare with")
    built = system.explicit(cti.pre.universe, cti.statics)
    if built is None:
        return Reachability(None, "no explicit instance has these sizes")
    model, structure = built
    sorts = list(system.signature.sorts.values())
    # Every renaming of the CTI (not of the explicit states): one set lookup per state.
    # A renaming must keep the static symbols (the explicit instance's quorums are the CTI's, unrenamed).
    targets = {frozenset(_renamed(cti.pre.values, m).items()) for m in _renamings(cti.pre.universe, sorts)
               if _renamed(cti.statics, m) == cti.statics}

    def matches(state: Any) -> bool:
        return frozenset(structure(state).items()) in targets

    class _Probe(Model[Any]):
        name = f"{model.name}-cti"

        def init_states(self) -> Any:
            return model.init_states()

        def successors(self, state: Any) -> Any:
            return model.successors(state)

        def properties(self) -> list[Any]:
            return [sometimes("cti-pre-state", matches, "the CTI's pre-state is reachable")]

        @property
        def has_boundary(self) -> bool:  # type: ignore[override]
            return model.has_boundary

        def within_boundary(self, state: Any) -> bool:
            return model.within_boundary(state)

    result = explore(_Probe(), max_states=max_states, timeout=timeout, keep_graph=False)
    witness = next((w for w in result.witnesses if w.property == "cti-pre-state" and w.witnessed), None)
    sizes = ", ".join(f"{k}={v}" for k, v in model.settings().items())
    if witness is not None:
        return Reachability(True, f"reached in {len(witness.trace)} steps of {model.name} with {sizes}",
                            result.distinct_states, witness.trace)
    if result.verdict.value == "undetermined":
        return Reachability(None, f"the explicit instance ({sizes}) has more than {result.distinct_states:,} "
                                  "states; not searched to the end", result.distinct_states)
    return Reachability(False, f"not among the {result.distinct_states:,} reachable states of {model.name} "
                               f"with {sizes}", result.distinct_states)


# -- text -------------------------------------------------------------------------------------------------------
def show_structure(structure: Structure, names: Sequence[str] | None = None, *,
                   signature: Signature | None = None, changed_from: Structure | None = None) -> list[str]:
    """One line per symbol: ``vote = {(a1, 0, v1)}``; with ``changed_from``, a ``*`` marks changed symbols."""
    lines = []
    for name in names or list(structure.values):
        rows = structure.values[name]
        sym = signature.symbol(name) if signature is not None else None
        if isinstance(sym, Function):
            body = ", ".join(f"{name}({', '.join(map(str, r[:-1]))}) = {r[-1]}" for r in sorted(rows, key=repr))
        else:
            body = "{" + ", ".join("(" + ", ".join(map(str, r)) + ")" if len(r) != 1 else str(r[0])
                                   for r in sorted(rows, key=repr)) + "}"
        mark = "*" if changed_from is not None and changed_from.values.get(name) != rows else " "
        lines.append(f"{mark} {name}: {body}")
    return lines
