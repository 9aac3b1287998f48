"""Which quantifier alternations leave the decidable fragment, so that an "unknown" can say why.

Z3 decides a quantified problem for sure when its sorts are *stratified*
(effectively propositional logic, EPR, as Ivy and mypyvy keep their
verification conditions): draw an edge from sort ``S`` to sort ``T`` for every
``exists t:T`` that sits under a ``forall s:S`` (after negations are pushed
in, so a negated ``forall`` counts as an ``exists``) and for every function
from ``S`` to ``T``. Without a cycle, Skolemisation makes only finitely many
ground terms and instantiation ends; with one, it may go on forever, and that
is usually why Z3 answers "unknown". :func:`alternation_cycle` finds such a
cycle and names the formulas that made its edges.

Examples
--------
>>> from quorumcheck.invariants.language import Exists, ForAll, Sort, Function, Relation
>>> A, B = Sort("A"), Sort("B"); f = Function("f", [A], B); r = Relation("r", A, B)
>>> a, b = A.var("a"), B.var("b")
>>> alternation_cycle([("total", ForAll(b, Exists(a, r(a, b) & (f(a) == b))))])
'A -> B (function f) -> A (exists a under forall b in total)'
>>> alternation_cycle([("fine", ForAll(b, Exists(a, r(a, b))))]) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from quorumcheck.invariants.language import Apply, Formula, Function, Term, symbols

__all__ = ["alternation_cycle", "sort_edges"]

Edge = tuple[str, str, str]  # (from sort, to sort, why)


def _terms_functions(t: Term, out: dict[str, Function]) -> None:
    if isinstance(t, Apply):
        out.setdefault(t.function.name, t.function)
        for arg in t.args:
            _terms_functions(arg, out)


def _walk(f: Formula, positive: bool, scope: tuple[str, ...], scope_vars: tuple[str, ...], where: str,
          edges: list[Edge], seen_defs: set[tuple[str, bool, tuple[str, ...]]]) -> None:
    op, parts = f.op, f.parts
    if op == "not":
        _walk(parts[0], not positive, scope, scope_vars, where, edges, seen_defs)
    elif op in ("and", "or"):
        for p in parts:
            _walk(p, positive, scope, scope_vars, where, edges, seen_defs)
    elif op == "implies":
        _walk(parts[0], not positive, scope, scope_vars, where, edges, seen_defs)
        _walk(parts[1], positive, scope, scope_vars, where, edges, seen_defs)
    elif op == "iff":
        for p in parts:
            for polarity in (True, False):
                _walk(p, polarity, scope, scope_vars, where, edges, seen_defs)
    elif op in ("forall", "exists"):
        variables, body = parts
        universal = (op == "forall") == positive
        if universal:
            scope = scope + tuple(v.sort.name for v in variables)
            scope_vars = scope_vars + tuple(v.name for v in variables)
        else:
            for v in variables:
                for sort, name in zip(scope, scope_vars):
                    edges.append((sort, v.sort.name, f"exists {v.name} under forall {name} in {where}"))
        _walk(body, positive, scope, scope_vars, where, edges, seen_defs)
    elif op == "def":
        definition = parts[0]
        key = (definition.name, positive, scope)
        if key not in seen_defs:
            seen_defs.add(key)
            _walk(definition.body, positive, scope, scope_vars, f"{where} (through {definition.name})", edges,
                  seen_defs)


def sort_edges(formulas: Iterable[tuple[str, Formula]]) -> list[Edge]:
    """The edges of the sort graph: quantifier alternations and functions, each with why it is there."""
    edges: list[Edge] = []
    functions: dict[str, Function] = {}
    for where, f in formulas:
        _walk(f, True, (), (), where, edges, set())
        for sym in symbols(f):
            if isinstance(sym, Function):
                functions.setdefault(sym.name, sym)
    for fn in functions.values():
        for d in fn.domain:
            edges.append((d.name, fn.result.name, f"function {fn.name}"))
    return edges


def alternation_cycle(formulas: Sequence[tuple[str, Formula]]) -> str | None:
    """A cycle of the sort graph (``'Ballot -> Acceptor (...) -> Ballot (function max_bal)'``), or None if stratified.

    ``formulas`` are (name, formula) pairs, each as it is asserted (a negated
    goal is passed negated).
    """
    edges = sort_edges(formulas)
    graph: dict[str, list[Edge]] = {}
    for e in edges:
        graph.setdefault(e[0], []).append(e)
    # The shortest cycle through any sort, by breadth-first search from each sort.
    best: list[Edge] | None = None
    for start in sorted(graph):
        paths: dict[str, list[Edge]] = {start: []}
        queue = [start]
        while queue:
            node = queue.pop(0)
            for e in graph.get(node, []):
                if e[1] == start:
                    cycle = paths[node] + [e]
                    if best is None or len(cycle) < len(best):
                        best = cycle
                elif e[1] not in paths:
                    paths[e[1]] = paths[node] + [e]
                    queue.append(e[1])
    if best is None:
        return None
    return best[0][0] + "".join(f" -> {e[1]} ({e[2]})" for e in best)
