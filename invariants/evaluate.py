"""The plain-Python evaluator: a formula's truth value in one finite structure.

Selected with ``--evaluator python``; the test suite checks that it agrees
with the Z3 backend on every state of Paxos 0..1 and on generated structures.

Examples
--------
>>> from quorumcheck.invariants.language import Signature, Sort, ForAll, Exists
>>> S = Sort("S"); sig = Signature("s", [S]); r = sig.relation("r", S, S)
>>> x, y = S.vars("x y")
>>> total = ForAll(x, Exists(y, r(x, y)))
>>> evaluate(total, {"S": (0, 1)}, {"r": frozenset({(0, 1), (1, 1)})})
True
>>> evaluate(total, {"S": (0, 1)}, {"r": frozenset({(0, 1)})})
False
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from .language import Apply, Const, Formula, Function, Term, Var

__all__ = ["evaluate"]


class _Env:
    __slots__ = ("universe", "now", "after", "positions")

    def __init__(self, universe: Mapping[str, tuple[Any, ...]], now: Mapping[str, Any], after: Mapping[str, Any]):
        self.universe, self.now, self.after = universe, now, after
        self.positions: dict[str, dict[tuple[Any, ...], int]] = {}

    def position(self, f: Function, args: tuple[Any, ...]) -> int:
        table = self.positions.get(f.name)
        if table is None:
            domains = [self.universe[s.name] for s in f.domain]
            table = self.positions[f.name] = {c: i for i, c in enumerate(itertools.product(*domains))}
        return table[args]


def evaluate(
    formula: Formula,
    universe: Mapping[str, tuple[Any, ...]],
    values: Mapping[str, Any],
    after: Mapping[str, Any] | None = None,
    binding: Mapping[Var, Any] | None = None,
) -> bool:
    """Evaluate ``formula`` with symbols read from ``values`` (and ``after`` for primed reads).

    Parameters
    ----------
    formula : Formula
    universe : mapping of sort name to elements
    values : mapping of symbol name to its value (frozenset for relations,
        tuple in product order for functions)
    after : the same for the successor state, for action properties
    binding : values of free variables, if any
    """
    env = _Env(universe, values, after if after is not None else {})
    return _eval(formula, dict(binding or {}), env)


def _term(t: Term, bound: dict[Var, Any], env: _Env) -> Any:
    if isinstance(t, Var):
        return bound[t]
    if isinstance(t, Const):
        return t.value
    assert isinstance(t, Apply)
    args = tuple(_term(a, bound, env) for a in t.args)
    table = env.after if t.primed else env.now
    return table[t.function.name][env.position(t.function, args)]


def _eval(f: Formula, bound: dict[Var, Any], env: _Env) -> bool:
    op, parts = f.op, f.parts
    if op == "atom":
        rel, args, primed = parts
        table = env.after if primed else env.now
        return tuple(_term(a, bound, env) for a in args) in table[rel.name]
    if op == "eq":
        return bool(_term(parts[0], bound, env) == _term(parts[1], bound, env))
    if op == "lt":
        return bool(_term(parts[0], bound, env) < _term(parts[1], bound, env))
    if op == "le":
        return bool(_term(parts[0], bound, env) <= _term(parts[1], bound, env))
    if op == "not":
        return not _eval(parts[0], bound, env)
    if op == "and":
        return all(_eval(p, bound, env) for p in parts)
    if op == "or":
        return any(_eval(p, bound, env) for p in parts)
    if op == "implies":
        return (not _eval(parts[0], bound, env)) or _eval(parts[1], bound, env)
    if op == "iff":
        return _eval(parts[0], bound, env) == _eval(parts[1], bound, env)
    if op in ("forall", "exists"):
        variables, body = parts
        domains = [env.universe[v.sort.name] for v in variables]
        test = all if op == "forall" else any
        return test(_eval(body, {**bound, **dict(zip(variables, combo))}, env) for combo in itertools.product(*domains))
    if op == "def":
        definition, args = parts
        inner = {p: _term(a, bound, env) for p, a in zip(definition.params, args)}
        return _eval(definition.body, inner, env)
    if op == "true":
        return True
    if op == "false":
        return False
    raise AssertionError(f"unknown formula node {op}")
