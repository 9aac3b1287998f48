"""The Z3 backend: one translator from the property language to Z3.

:class:`Translator` turns a formula into a Z3 expression in one of two modes:

* **finite** (``universe`` given): the sorts are the finite sets of a model's
  elements, quantifiers are expanded over them, and every ground relation atom
  ``vote(a1, 0, v1)`` and ground function application ``current_term(s1)`` becomes
  a Z3 constant. A state's finite structure is then a set of *assumption
  literals* fixing those constants, so one solver, holding the negated property
  once, judges any number of states (:class:`FiniteCheck`);
* **symbolic** (no universe): sorts become Z3 sorts (ordered ones are
  integers), relations and functions uninterpreted Z3 functions, and
  quantifiers stay quantifiers -- the form a future ``quorumcheck prove`` needs
  to ask whether a conjunction of properties is inductive for all sizes.

Examples
--------
>>> from quorumcheck.invariants.language import Signature, Sort, ForAll, Exists
>>> S = Sort("S"); sig = Signature("s", [S]); r = sig.relation("r", S)
>>> x = S.var("x")
>>> check = FiniteCheck(ForAll(x, r(x)), {"S": (0, 1)}, static={})
>>> check.holds({"r": frozenset({(0,), (1,)})}), check.holds({"r": frozenset({(0,)})})
(True, False)
>>> import z3
>>> t = Translator()
>>> z3.is_quantifier(t.formula(ForAll(x, r(x) | ~r(x))))
True
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import z3
from z3 import z3core

from quorumcheck.errors import InvalidFormula, Undetermined

from .language import Apply, Const, Formula, Function, Relation, Sort, Term, Var

__all__ = ["GROUNDING_LIMIT", "Translator", "FiniteCheck", "finite_check", "grounding_instances", "solve"]

# Z3's own Ctrl-C handling is off. With it, Z3 installs a SIGINT handler around its calls that cancels the query,
# and that handler can deadlock: a Ctrl-C that landed while a judge's query held Z3's lock left `check paxos`
# asleep for good (a single thread on a futex with SIGINT blocked, found in a CI run). Off, the signal is
# Python's: KeyboardInterrupt is raised as soon as the current query returns (judges' queries take
# microseconds; a proof query runs to its end or its --obligation-timeout).
z3.set_param("ctrl_c", False)

_TRUE, _FALSE = z3.BoolVal(True), z3.BoolVal(False)

GROUNDING_LIMIT = 50_000
"""The most quantifier instances a property's grounding may take (:func:`grounding_instances`) before the
property is judged in Python instead, which needs no grounding.

Grounding runs at about 30,000 instances a second. A student's Paxos with 6 requests needs 102,312 instances
(3.7 s) for votes-safe; with 15 requests, 2.2 million, and `quorumcheck test` spent its whole time limit
grounding."""


def solve(solver: Any, *assumptions: Any) -> Any:
    """``solver.check(*assumptions)``, except that an answer Ctrl-C cut short raises :class:`KeyboardInterrupt`.

    Z3's own Ctrl-C handling is off (above), so a Ctrl-C reaches Python once the query returns. Should it be
    on again (another library may set the parameter), Z3 takes SIGINT for itself, stops and answers
    ``unknown`` ("interrupted from keyboard"), which is turned back into the interrupt here (and in
    :meth:`FiniteCheck.holds`), so a caller never takes it for a hard query.

    >>> import z3
    >>> x = z3.Int("x"); s = z3.Solver(); s.add(x > 1)
    >>> solve(s), solve(s, x < 0)
    (sat, unsat)
    """
    answer = solver.check(*assumptions)
    if answer == z3.unknown and solver.reason_unknown() == "interrupted from keyboard":
        raise KeyboardInterrupt
    return answer


def grounding_instances(formula: Formula, universe: Mapping[str, tuple[Any, ...]]) -> int:
    """About how many quantifier instances grounding ``formula`` over ``universe`` creates, without grounding it.

    It follows :class:`Translator`'s finite mode: each quantifier takes every combination of its variables'
    elements, inside each instance of the quantifiers around it, and a definition applied to a function's
    value is grounded once per value it may take.

    Examples
    --------
    >>> from quorumcheck.invariants.language import Signature, Sort, ForAll, Exists
    >>> S = Sort("S"); r = Signature("sig", [S]).relation("r", S, S); x, y = S.var("x"), S.var("y")
    >>> grounding_instances(ForAll(x, Exists(y, r(x, y))), {"S": (0, 1, 2)})
    12
    """
    def count(f: Formula) -> int:
        op, parts = f.op, f.parts
        if op in ("not", "and", "or", "implies", "iff"):
            return sum(count(p) for p in parts)
        if op in ("forall", "exists"):
            n = 1
            for v in parts[0]:
                n *= len(universe[v.sort.name])
            return n + n * count(parts[1])
        if op == "def":
            definition, args = parts
            n = 1
            for param, arg in zip(definition.params, args):
                if isinstance(arg, Apply):  # grounded once per value the application may take (Translator._cases)
                    n *= len(universe[param.sort.name])
            return n * count(definition.body)
        return 0  # true, false, comparisons, atoms

    return count(formula)


def _and(parts: list[Any]) -> Any:
    if any(z3.is_false(p) for p in parts):
        return _FALSE
    kept = [p for p in parts if not z3.is_true(p)]
    return _TRUE if not kept else kept[0] if len(kept) == 1 else z3.And(*kept)


def _or(parts: list[Any]) -> Any:
    if any(z3.is_true(p) for p in parts):
        return _TRUE
    kept = [p for p in parts if not z3.is_false(p)]
    return _FALSE if not kept else kept[0] if len(kept) == 1 else z3.Or(*kept)


def _not(p: Any) -> Any:
    if z3.is_true(p):
        return _FALSE
    if z3.is_false(p):
        return _TRUE
    return z3.Not(p)


class _Lit:
    """A term whose element is known at translation time."""

    __slots__ = ("element",)

    def __init__(self, element: Any) -> None:
        self.element = element


class Translator:
    """Translate formulas to Z3, over a finite universe or symbolically.

    Parameters
    ----------
    universe : mapping of sort name to elements, optional
        Finite mode when given.
    static : mapping of symbol name to value, optional
        Symbols with one value everywhere (finite mode): folded into the formula.
    """

    def __init__(
        self, universe: Mapping[str, tuple[Any, ...]] | None = None, static: Mapping[str, Any] | None = None
    ) -> None:
        self.literals: dict[str, dict[int, Any]] = {}
        """Ordered-sort literals met so far (symbolic mode): sort name -> value -> Z3 integer."""
        self.named_constants: set[tuple[str, Any]] = set()
        """Elements of unordered sorts that formulas name (symbolic mode): (sort name, value)."""
        self.universe = universe
        self.static = dict(static or {})
        self.atoms: dict[tuple[str, tuple[Any, ...], bool], Any] = {}
        """Ground relation atoms met so far (finite mode): (name, args, primed) -> Z3 Bool."""
        self.applications: dict[tuple[str, tuple[Any, ...], bool], tuple[Function, Any]] = {}
        """Ground function applications met so far (finite mode): key -> (function, Z3 Int)."""
        self._sorts: dict[str, Any] = {}
        self._symbols: dict[tuple[str, bool], Any] = {}
        self._codes: dict[str, dict[Any, int]] = {}
        self._positions: dict[str, dict[tuple[Any, ...], int]] = {}

    # -- elements ----------------------------------------------------------------------------------
    def code(self, sort: Sort, element: Any) -> int:
        """The integer that stands for ``element`` in Z3 (its value for ordered sorts)."""
        if sort.ordered:
            return int(element)
        table = self._codes.get(sort.name)
        if table is None:
            assert self.universe is not None
            table = self._codes[sort.name] = {e: i for i, e in enumerate(self.universe[sort.name])}
        return table[element]

    def _elements(self, sort: Sort) -> tuple[Any, ...]:
        assert self.universe is not None
        return self.universe[sort.name]

    def position(self, f: Function, args: tuple[Any, ...]) -> int:
        table = self._positions.get(f.name)
        if table is None:
            domains = [self._elements(s) for s in f.domain]
            table = self._positions[f.name] = {c: i for i, c in enumerate(itertools.product(*domains))}
        return table[args]

    # -- symbolic-mode declarations --------------------------------------------------------------------
    def sort(self, sort: Sort) -> Any:
        """The Z3 sort of ``sort`` in symbolic mode (ordered sorts are integers)."""
        if sort.ordered:
            return z3.IntSort()
        if sort.name not in self._sorts:
            self._sorts[sort.name] = z3.DeclareSort(sort.name)
        return self._sorts[sort.name]

    def _symbol(self, sym: Relation | Function, primed: bool) -> Any:
        key = (sym.name, primed)
        if key not in self._symbols:
            name = sym.name + ("'" if primed else "")
            domain = [self.sort(s) for s in sym.domain]
            result = z3.BoolSort() if isinstance(sym, Relation) else self.sort(sym.result)
            self._symbols[key] = z3.Function(name, *domain, result)
        return self._symbols[key]

    # -- terms ----------------------------------------------------------------------------------------------
    def term(self, t: Term, env: Mapping[Var, Any]) -> Any:
        """A term: a :class:`_Lit` when its element is known, else a Z3 expression."""
        if isinstance(t, Var):
            return env[t]
        if isinstance(t, Const):
            if self.universe is None:
                if t.sort.ordered:
                    self.literals.setdefault(t.sort.name, {})[t.value] = z3.IntVal(t.value)
                    return z3.IntVal(t.value)
                self.named_constants.add((t.sort.name, t.value))
                return z3.Const(f"{t.sort.name}!{t.value}", self.sort(t.sort))
            return _Lit(t.value)
        assert isinstance(t, Apply)
        args = [self.term(a, env) for a in t.args]
        if self.universe is None:
            return self._symbol(t.function, t.primed)(*args)
        return self._apply_finite(t.function, t.primed, args)

    def _apply_finite(self, f: Function, primed: bool, args: list[Any]) -> Any:
        if all(isinstance(a, _Lit) for a in args):
            ground = tuple(a.element for a in args)
            if f.name in self.static:
                return _Lit(self.static[f.name][self.position(f, ground)])
            key = (f.name, ground, primed)
            if key not in self.applications:
                label = f"{f.name}{chr(39) if primed else ''}({', '.join(map(str, ground))})"
                self.applications[key] = (f, z3.Int(label))
            return self.applications[key][1]
        # Some argument is itself an unknown function value: case-split over its elements.
        result: Any = None
        for combo, condition in self._cases(f.domain, args):
            value = self._as_z3(f.result, self._apply_finite(f, primed, [_Lit(e) for e in combo]))
            result = value if result is None else z3.If(condition, value, result)
        return result

    def _cases(self, sorts: tuple[Sort, ...], args: list[Any]) -> list[tuple[tuple[Any, ...], Any]]:
        choices = []
        for sort, a in zip(sorts, args):
            if isinstance(a, _Lit):
                choices.append([(a.element, _TRUE)])
            else:
                choices.append([(e, a == self.code(sort, e)) for e in self._elements(sort)])
        out = []
        for combo in itertools.product(*choices):
            out.append((tuple(e for e, _ in combo), _and([c for _, c in combo])))
        return out

    def _as_z3(self, sort: Sort, value: Any) -> Any:
        return z3.IntVal(self.code(sort, value.element)) if isinstance(value, _Lit) else value

    # -- formulas ---------------------------------------------------------------------------------------------
    def formula(self, f: Formula, env: Mapping[Var, Any] | None = None) -> Any:
        """Translate a formula (closed, or with ``env`` binding its free variables)."""
        return self._f(f, dict(env or {}))

    def _f(self, f: Formula, env: dict[Var, Any]) -> Any:
        op, parts = f.op, f.parts
        if op == "true":
            return _TRUE
        if op == "false":
            return _FALSE
        if op == "not":
            return _not(self._f(parts[0], env))
        if op == "and":
            return _and([self._f(p, env) for p in parts])
        if op == "or":
            return _or([self._f(p, env) for p in parts])
        if op == "implies":
            return _or([_not(self._f(parts[0], env)), self._f(parts[1], env)])
        if op == "iff":
            left, right = self._f(parts[0], env), self._f(parts[1], env)
            return left == right
        if op in ("eq", "lt", "le"):
            return self._compare(op, parts[0], parts[1], env)
        if op == "atom":
            return self._atom(parts[0], parts[1], parts[2], env)
        if op in ("forall", "exists"):
            return self._quantifier(op, parts[0], parts[1], env)
        if op == "def":
            return self._definition(parts[0], parts[1], env)
        raise AssertionError(f"unknown formula node {op}")

    def _compare(self, op: str, left: Term, right: Term, env: dict[Var, Any]) -> Any:
        a, b = self.term(left, env), self.term(right, env)
        if isinstance(a, _Lit) and isinstance(b, _Lit):
            x, y = a.element, b.element
            return z3.BoolVal(x == y if op == "eq" else x < y if op == "lt" else x <= y)
        if self.universe is not None:
            a, b = self._as_z3(left.sort, a), self._as_z3(right.sort, b)
        return a == b if op == "eq" else a < b if op == "lt" else a <= b

    def _atom(self, rel: Relation, args: tuple[Term, ...], primed: bool, env: dict[Var, Any]) -> Any:
        values = [self.term(a, env) for a in args]
        if self.universe is None:
            return self._symbol(rel, primed)(*values)
        if all(isinstance(v, _Lit) for v in values):
            ground = tuple(v.element for v in values)
            if rel.name in self.static:
                return z3.BoolVal(ground in self.static[rel.name])
            key = (rel.name, ground, primed)
            if key not in self.atoms:
                self.atoms[key] = z3.Bool(f"{rel.name}{chr(39) if primed else ''}({', '.join(map(str, ground))})")
            return self.atoms[key]
        return _or([
            _and([condition, self._atom(rel, tuple(Const(s, e) for s, e in zip(rel.domain, combo)), primed, env)])
            for combo, condition in self._cases(rel.domain, values)
        ])

    def _quantifier(self, op: str, variables: tuple[Var, ...], body: Formula, env: dict[Var, Any]) -> Any:
        if self.universe is None:
            consts = [z3.Const(v.name, self.sort(v.sort)) for v in variables]
            inner = self._f(body, {**env, **dict(zip(variables, consts))})
            return z3.ForAll(consts, inner) if op == "forall" else z3.Exists(consts, inner)
        domains = [self._elements(v.sort) for v in variables]
        parts = [
            self._f(body, {**env, **{v: _Lit(e) for v, e in zip(variables, combo)}})
            for combo in itertools.product(*domains)
        ]
        return _and(parts) if op == "forall" else _or(parts)

    def _definition(self, definition: Any, args: tuple[Term, ...], env: dict[Var, Any]) -> Any:
        values = [self.term(a, env) for a in args]
        if self.universe is None or all(isinstance(v, _Lit) for v in values):
            return self._f(definition.body, dict(zip(definition.params, values)))
        sorts = tuple(p.sort for p in definition.params)
        return _or([
            _and([condition, self._f(definition.body, {p: _Lit(e) for p, e in zip(definition.params, combo)})])
            for combo, condition in self._cases(sorts, values)
        ])


class FiniteCheck:
    """Judge one formula in many finite structures with one reused Z3 solver.

    The negated formula is asserted once; each check passes the structure's
    values of the formula's ground atoms and applications as assumption
    literals. ``sat`` means the formula is violated, ``unsat`` that it holds,
    and ``unknown`` raises :class:`~quorumcheck.errors.Undetermined`.

    Parameters
    ----------
    formula : Formula
    universe : mapping of sort name to elements
    static : mapping of symbol name to value for symbols fixed in every state
    """

    def __init__(self, formula: Formula, universe: Mapping[str, tuple[Any, ...]], static: Mapping[str, Any]) -> None:
        self.formula = formula
        self.translator = Translator(universe, static)
        self.negated = _not(self.translator.formula(formula))
        self.solver = z3.Solver()
        self.solver.add(self.negated)
        t = self.translator
        # Per ground atom: (symbol, args, primed, positive literal, negative literal).
        self._atoms = [(name, args, primed, atom, z3.Not(atom)) for (name, args, primed), atom in t.atoms.items()]
        # Per ground application: (symbol, position, primed, {element: literal}).
        self._apps: list[tuple[str, int, bool, dict[Any, Any]]] = []
        for (name, args, primed), (function, const) in t.applications.items():
            literals = {e: const == t.code(function.result, e) for e in universe[function.result.name]}
            self._apps.append((name, t.position(function, args), primed, literals))
        # The same literals as raw C pointers, for the hot path (see holds()).
        self._raw_atoms = [(name, args, primed, pos.as_ast(), neg.as_ast()) for name, args, primed, pos, neg in self._atoms]
        self._raw_apps = [
            (name, index, primed, {e: lit.as_ast() for e, lit in literals.items()})
            for name, index, primed, literals in self._apps
        ]
        self._size = len(self._atoms) + len(self._apps)
        self._array_type = z3.Ast * max(1, self._size)
        self._ctx = self.solver.ctx.ref()

    def assumptions(self, values: Mapping[str, Any], after: Mapping[str, Any] | None = None) -> list[Any]:
        """The assumption literals that fix the structure given by ``values`` (and ``after``)."""
        lits = []
        for name, args, primed, pos, neg in self._atoms:
            table = after if primed else values
            lits.append(pos if args in table[name] else neg)  # type: ignore[index]
        for name, index, primed, literals in self._apps:
            table = after if primed else values
            lits.append(literals[table[name][index]])  # type: ignore[index]
        return lits

    def holds(self, values: Mapping[str, Any], after: Mapping[str, Any] | None = None) -> bool:
        """Whether the formula holds in the structure (``after`` for primed symbols)."""
        # Z3's C API directly: z3py's Solver.check wraps every call in about 140 us of
        # Python bookkeeping, ten times the solve itself; the answer is the same.
        lits = []
        for name, args, primed, pos, neg in self._raw_atoms:
            table = after if primed else values
            lits.append(pos if args in table[name] else neg)  # type: ignore[index]
        try:
            for name, index, primed, literals in self._raw_apps:
                table = after if primed else values
                lits.append(literals[table[name][index]])  # type: ignore[index]
        except KeyError as e:
            raise InvalidFormula(
                f"a state gives {name} the value {e.args[0]!r}, which is not an element of its result sort; "
                "the model's Interpretation must list every element its states use"
            ) from None
        answer = z3core.Z3_solver_check_assumptions(self._ctx, self.solver.solver, self._size, self._array_type(*lits))
        if answer == z3.Z3_L_FALSE:
            return True
        if answer == z3.Z3_L_TRUE:
            return False
        reason = self.solver.reason_unknown()
        if reason == "interrupted from keyboard":  # Ctrl-C while Z3 judged: what solve() does, on this fast path
            raise KeyboardInterrupt
        raise Undetermined(f"Z3 answered unknown ({reason}) for {self.formula}")

    def witness(
        self, values: Mapping[str, Any], show: Callable[[Sort, Any], str], after: Mapping[str, Any] | None = None
    ) -> str:
        """Why the formula fails in this structure, read from Z3's model of the violation.

        Names the elements chosen for the negated formula's existential
        variables, and for each definition on the way (``chosen(v1): b = 0, Q = q12``).
        """
        if solve(self.solver, *self.assumptions(values, after)) != z3.sat:
            return ""
        model = self.solver.model()
        groups: dict[str, list[str]] = {}
        self._witness(self.formula, {}, False, "", groups, model, show)
        parts = []
        for context, bindings in groups.items():
            text = ", ".join(bindings)
            parts.append(f"{context}: {text}" if context else text)
        return "; ".join(parts)

    def _true(self, f: Formula, env: dict[Var, Any], model: Any) -> bool:
        return bool(z3.is_true(model.eval(self.translator.formula(f, env), model_completion=True)))

    def _witness(
        self,
        f: Formula,
        env: dict[Var, Any],
        positive: bool,
        context: str,
        groups: dict[str, list[str]],
        model: Any,
        show: Callable[[Sort, Any], str],
    ) -> None:
        op, parts = f.op, f.parts
        if op == "not":
            self._witness(parts[0], env, not positive, context, groups, model, show)
        elif op == "implies":
            if positive:  # ~A | B: follow whichever is true
                if not self._true(parts[0], env, model):
                    self._witness(parts[0], env, False, context, groups, model, show)
                else:
                    self._witness(parts[1], env, True, context, groups, model, show)
            else:  # A & ~B
                self._witness(parts[0], env, True, context, groups, model, show)
                self._witness(parts[1], env, False, context, groups, model, show)
        elif (op == "and" and positive) or (op == "or" and not positive):
            for p in parts:
                self._witness(p, env, positive, context, groups, model, show)
        elif op in ("and", "or"):
            for p in parts:
                if self._true(p, env, model) == positive:
                    self._witness(p, env, positive, context, groups, model, show)
                    break
        elif (op == "exists" and positive) or (op == "forall" and not positive):
            variables, body = parts
            domains = [self.translator._elements(v.sort) for v in variables]
            for combo in itertools.product(*domains):
                inner = {**env, **{v: _Lit(e) for v, e in zip(variables, combo)}}
                if self._true(body, inner, model) == positive:
                    groups.setdefault(context, []).extend(
                        f"{v.name} = {show(v.sort, e)}" for v, e in zip(variables, combo)
                    )
                    self._witness(body, inner, positive, context, groups, model, show)
                    break
        elif op == "def" and positive:
            definition, args = parts
            values = [self.translator.term(a, env) for a in args]
            if all(isinstance(v, _Lit) for v in values):
                shown = ", ".join(show(p.sort, v.element) for p, v in zip(definition.params, values))
                inner = {p: v for p, v in zip(definition.params, values)}
                self._witness(definition.body, inner, True, f"{definition.name}({shown})", groups, model, show)


_CHECKS: OrderedDict[Any, FiniteCheck] = OrderedDict()
_CHECKS_LIMIT = 64
_CHECKS_PID = os.getpid()


def finite_check(formula: Formula, universe: Mapping[str, tuple[Any, ...]], static: Mapping[str, Any]) -> FiniteCheck:
    """A :class:`FiniteCheck` of ``formula`` over ``universe``, shared with earlier callers that asked the same.

    Grounding a formula over its universe is the slow part of judging (about half a second for
    Paxos's agreement over a student system's universe), and a model builds its properties again
    for every run, replay and shrink. A check holds no per-caller state (each :meth:`FiniteCheck.holds`
    passes its structure as assumptions), so one per formula and universe serves every caller.
    The most recent 64 are kept, per process; a universe or static value that cannot be hashed
    gets a check of its own.

    Examples
    --------
    >>> from quorumcheck.invariants.language import Signature, Sort, ForAll
    >>> S = Sort("S"); r = Signature("sig", [S]).relation("r", S); x = S.var("x")
    >>> f = ForAll(x, r(x))
    >>> finite_check(f, {"S": (0, 1)}, {}) is finite_check(f, {"S": (0, 1)}, {})
    True
    >>> finite_check(f, {"S": (0, 1)}, {}) is finite_check(f, {"S": (0, 1, 2)}, {})
    False
    """
    global _CHECKS_PID
    try:
        key = (formula, tuple(sorted((k, tuple(v)) for k, v in universe.items())),
               tuple(sorted(static.items(), key=lambda item: item[0])))
        hash(key)
    except TypeError:
        return FiniteCheck(formula, universe, static)
    if _CHECKS_PID != os.getpid():  # a forked child grounds its own (Z3's state is not shared across a fork)
        _CHECKS.clear()
        _CHECKS_PID = os.getpid()
    check = _CHECKS.get(key)
    if check is None:
        check = _CHECKS[key] = FiniteCheck(formula, universe, static)
        if len(_CHECKS) > _CHECKS_LIMIT:
            _CHECKS.popitem(last=False)
    else:
        _CHECKS.move_to_end(key)
    return check
