"""Inferring an inductive invariant: enumerate candidate conjuncts, filter them on samples, then prove with Z3.

``quorumcheck prove MODEL --infer`` finds an invariant instead of checking the
one a model ships. It works in phases, as DistAI (OSDI'21) and DuoAI
(OSDI'22) do:

1. **enumerate** -- candidate conjuncts from a template grammar built from the
   system's signature alone: a few universally quantified variables per sort,
   clauses of a few literals over the atoms the signature allows (relations
   applied to variables and to unary function terms, equalities and orders
   between terms of one sort, terms compared with the literals the model's
   init and actions name), and at most one existential literal guarded by a
   static relation (``exists a. member(a, Q) & ...`` or
   ``exists Q. forall m. member(m, Q) -> ...``). Clauses that differ by a
   renaming of variables within a sort are one candidate;
2. **sample** -- keep the candidates true in every sampled reachable state of
   small finite instances. With the system's ``explicit`` hook the states come
   from :func:`quorumcheck.explorer.explore`; without it, from a breadth-first
   search over the system's own formulas grounded on a finite universe (each
   action's successors enumerated with Z3). Only the *minimal* true clauses are
   kept (a clause that contains a smaller true clause is implied by it);
3. **strengthen** (:func:`strengthen`) -- starting from the safety
   conjuncts, ask Z3 for a counterexample to induction and add the smallest
   candidate that is false in its pre-state, dropping added candidates that
   no candidate can support, until Z3 proves the whole inductive (IC3's
   blocking step, with the filtered candidates as the lemmas). It asks Z3
   about a few conjuncts at a time, and gets half the time left;
4. **Houdini**, if that did not succeed -- repeatedly drop every candidate
   that Z3 does not prove preserved (initiation, and consecution by each
   action assuming all the remaining candidates) until nothing changes;
   "unknown" counts as not proved, so the result is sound. Then check that it
   implies ``system.safety``.

Examples
--------
>>> from quorumcheck.models.raft_symbolic import raft_system
>>> r = infer(raft_system())                      # doctest: +SKIP
>>> r.proved, len(r.conjuncts)                    # doctest: +SKIP
(True, 12)
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from quorumcheck.invariants.language import (
    Apply, Const, Exists, ForAll, Formula, Function, Not, Or, Relation, Sort, Var, _walk,
)
from quorumcheck.invariants.system import Conjunct, TransitionSystem
from quorumcheck.invariants.z3backend import Translator, solve

from .induction import Checker

__all__ = ["InferResult", "Candidate", "Strengthened", "infer", "enumerate_candidates", "sample_states",
           "sample_filter", "strengthen"]

# -- terms and atoms, as hashable tuples -----------------------------------------------------------------------
# term:  ("var", sort, i) | ("lit", sort, value) | ("app", fname, (term, ...))
# atom:  ("rel", rname, (term, ...)) | ("eq", t1, t2) | ("lt", t1, t2)
#        | ("ex", guard rname, guard args, (literal, ...))           exists y. guard(..y..) & lits
#        | ("exall", guard rname, guard args, literal)               exists y. forall z. guard(z, y) -> lit
# literal: (atom, positive)
# The bound variables of an existential atom are ("var", sort, -1) (y) and ("var", sort, -2) (z).


@dataclass(frozen=True)
class Candidate:
    """One candidate conjunct: ``forall vars. lit1 | ... | litk`` (literals as internal tuples)."""

    template: tuple[tuple[str, int], ...]
    """Variables per sort: ((sort name, count), ...)."""
    literals: tuple[Any, ...]

    def size(self) -> int:
        return len(self.literals)


@dataclass
class InferResult:
    """What :func:`infer` found, phase by phase.

    ``proved`` is True when the final conjuncts are inductive (every
    obligation proved by Z3) and imply every conjunct named in ``system.safety``.
    """

    system: str
    enumerated: int = 0
    """Candidate clauses enumerated (before the sample filter)."""
    distinct: int = 0
    """Survivors of the sample filter that are distinct up to renaming of variables."""
    surviving: int = 0
    """Minimal clauses true in every sampled state: Houdini's input."""
    states: int = 0
    """Distinct sampled states (structures)."""
    instances: list[dict[str, int]] = field(default_factory=list)
    houdini_rounds: int = 0
    queries: int = 0
    conjuncts: list[Conjunct] = field(default_factory=list)
    implies_safety: bool = False
    inductive: bool = False
    seconds: dict[str, float] = field(default_factory=dict)
    stop_reason: str | None = None
    goals: list[str] = field(default_factory=list)
    vocabulary: list[str] = field(default_factory=list)
    """The symbols the grammar used (the goals' cone of influence)."""
    missing: list[str] = field(default_factory=list)
    """Names of the system's own inductive conjuncts that the inferred invariant does not imply (diagnostics)."""
    with_goals: bool = False
    """True when the inductive invariant is the goals *and* ``conjuncts`` (found by :func:`strengthen`);
    False when ``conjuncts`` alone are inductive and imply the goals (Houdini)."""
    strengthening: dict[str, Any] = field(default_factory=dict)
    """What the goal-directed search did (:class:`Strengthened`'s counts and its reason to stop)."""

    @property
    def proved(self) -> bool:
        return self.inductive and self.implies_safety

    @property
    def exit_code(self) -> int:
        """0 inferred and proved, 1 not found, 3 the time ran out."""
        if self.proved:
            return 0
        return 3 if self.stop_reason == "timeout" else 1

    def python(self) -> list[str]:
        """The conjuncts as Python the model file can use (``ForAll([a, b], vote(a, b, v) >> proposed(b, v))``)."""
        return [c.description for c in self.conjuncts]

    def to_json(self) -> dict[str, Any]:
        """What ``prove MODEL --infer --json`` prints: prove-result.schema.json's shape for ``"mode": "infer"``.

        The keys it shares with the proof result (``model``, ``verdict``, ``exit_code``, ``seconds``,
        ``stop_reason``) mean the same there; docs/json-result.md documents the rest. The verdict follows the exit
        code: ``"holds"`` (proved), ``"not-found"`` (the inductive part does not imply the goals), ``"undetermined"``
        (the time ran out).
        """
        verdict = {0: "holds", 1: "not-found", 3: "undetermined"}[self.exit_code]
        seconds = {k: round(v, 3) for k, v in self.seconds.items() if k != "total"}
        total = self.seconds.get("total", sum(self.seconds.values()))
        return {
            "mode": "infer", "model": self.system, "verdict": verdict, "exit_code": self.exit_code,
            "goals": self.goals, "seconds": round(total, 3), "stop_reason": self.stop_reason,
            "inferred": [{"name": c.name, "formula": str(c.formula), "python": c.description}
                         for c in self.conjuncts],
            "with_goals": self.with_goals, "inductive": self.inductive, "implies_safety": self.implies_safety,
            "vocabulary": self.vocabulary,
            "instances": self.instances, "states": self.states,
            "enumerated": self.enumerated, "distinct": self.distinct, "surviving": self.surviving,
            "strengthening": self.strengthening, "houdini_rounds": self.houdini_rounds, "queries": self.queries,
            "phase_seconds": seconds,
        }


def cone_of_influence(system: TransitionSystem, goals: Sequence[str]) -> list[str]:
    """The symbols the goals depend on: theirs, and those read by any action that writes a symbol in the cone.

    An inductive invariant for the goals needs no other symbol (the rest of
    the state cannot change whether they hold), so the grammar need not use them.

    >>> from quorumcheck.models.paxos_symbolic import paxos_system
    >>> sorted(cone_of_influence(paxos_system(), ["agreement"]))[:4]
    ['max_bal', 'max_val', 'max_vbal', 'member']
    """
    from quorumcheck.invariants.language import symbols

    cone = {sym.name for g in goals for sym in symbols(system.conjunct(g).formula)}
    cone |= {sym.name for ax in system.axioms for sym in symbols(ax)}
    changed = True
    while changed:
        changed = False
        for action in system.actions:
            if not set(action.modifies) & cone:
                continue
            # The action's guards (conjuncts that read no successor symbol) and the conjuncts that set a symbol in
            # the cone; a conjunct that only sets symbols outside it (a message the goal never reads) does not count.
            cases = action.body.parts if action.body.op == "or" else (action.body,)
            for case in cases:
                parts = case.parts if case.op == "and" else (case,)
                for part in parts:
                    primed = {sym.name for sym in symbols(part, primed=True)}
                    if primed and not primed & cone:
                        continue
                    for sym in symbols(part):
                        if sym.name not in cone:
                            cone.add(sym.name)
                            changed = True
    return [n for n in system.signature.symbols if n in cone]


# -- the grammar -------------------------------------------------------------------------------------------------
def _literals_of(system: TransitionSystem) -> dict[str, list[Any]]:
    """The element literals that the init, actions and axioms name, per sort (not the shipped conjuncts)."""
    out: dict[str, list[Any]] = {}
    formulas = [system.init, *system.axioms, *(a.body for a in system.actions)]

    def term(t: Any) -> None:
        if isinstance(t, Const):
            if t.value not in out.setdefault(t.sort.name, []):
                out[t.sort.name].append(t.value)
        elif isinstance(t, Apply):
            for x in t.args:
                term(x)

    for f in formulas:
        for node in _walk(f):
            if node.op == "atom":
                for t in node.parts[1]:
                    term(t)
            elif node.op in ("eq", "lt", "le"):
                for t in node.parts:
                    term(t)
            elif node.op == "def":
                for t in node.parts[1]:
                    term(t)
    return out


class Grammar:
    """The atoms a template's variables can form, from the signature's used symbols and the model's literals."""

    def __init__(self, system: TransitionSystem, vocabulary: Iterable[str] | None = None) -> None:
        self.system = system
        sig = system.signature
        used = set(system.used_symbols()) if vocabulary is None else set(vocabulary)
        self.symbols = [sig.symbols[n] for n in sig.symbols if n in used]
        self.state = set(system.state)
        self.relations = [s for s in self.symbols if isinstance(s, Relation)]
        self.functions = [s for s in self.symbols if isinstance(s, Function)]
        self.statics = [r for r in self.relations if r.name not in self.state]
        self.sorts: dict[str, Sort] = {}
        for s in self.symbols:
            for srt in (*s.domain, *((s.result,) if isinstance(s, Function) else ())):
                self.sorts.setdefault(srt.name, srt)
        self.literals = {k: v for k, v in _literals_of(system).items() if k in self.sorts}
        self.enumerations = {n for n, lits in self.literals.items()
                             if lits and all(isinstance(x, str) for x in lits) and not self.sorts[n].ordered}
        """Sorts whose elements the formulas name (roles): compared with their literals, never quantified."""
        names: dict[str, str] = {}
        for name in self.sorts:
            short = name[0].lower()
            k = 1
            while short in names.values():
                k += 1
                short = name[:k].lower()
            names[name] = short
        self.var_prefix = names
        # A sort only static relations read (quorums) gets variables only inside existential atoms.
        self.state_sorts = {srt.name for s in self.symbols if s.name in self.state
                            for srt in (*s.domain, *((s.result,) if isinstance(s, Function) else ()))}

    # terms ------------------------------------------------------------------------------------------
    def terms(self, template: Mapping[str, int]) -> dict[str, list[Any]]:
        """Variables, and unary (or nullary) function terms of variables, per sort."""
        out: dict[str, list[Any]] = {n: [("var", n, i) for i in range(k)] for n, k in template.items()}
        for f in self.functions:
            if len(f.domain) > 1:
                continue
            if not f.domain:
                out.setdefault(f.result.name, []).append(("app", f.name, ()))
                continue
            for v in [("var", f.domain[0].name, i) for i in range(template.get(f.domain[0].name, 0))]:
                out.setdefault(f.result.name, []).append(("app", f.name, (v,)))
        return out

    def atoms(self, template: Mapping[str, int]) -> list[Any]:
        """Every atom over the template's variables (each variable-free-of-app atom once, symmetric ones once)."""
        terms = self.terms(template)
        out: list[Any] = []
        seen: set[Any] = set()

        def add(a: Any) -> None:
            if a not in seen:
                seen.add(a)
                out.append(a)

        for r in self.relations:
            if r.name not in self.state:
                continue
            for args in itertools.product(*[terms.get(s.name, []) for s in r.domain]):
                add(("rel", r.name, tuple(args)))
        for name, sort in self.sorts.items():
            ts = terms.get(name, [])
            lits = [("lit", name, v) for v in self.literals.get(name, [])]
            if name not in self.state_sorts:
                continue
            for i, t1 in enumerate(ts):
                for t2 in ts[i + 1:]:
                    add(("eq", t1, t2))
                    if sort.ordered:
                        add(("lt", t1, t2))
                        add(("lt", t2, t1))
                for lit in lits:
                    add(("eq", t1, lit))
                    if sort.ordered:
                        add(("lt", t1, lit))
                        add(("lt", lit, t1))
        # Drop comparisons that mention no variable-bearing term of a state symbol and no variable at all.
        return [a for a in out if _mentions_var(a)]

    def exists_atoms(self, template: Mapping[str, int], max_conj: int = 2) -> list[Any]:
        """Existential atoms: ``exists y. guard(..y..) & lits`` and ``exists y. forall z. guard(z, y) -> lit``.

        ``guard`` is a static relation; ``y`` a fresh variable of one of its sorts. ``max_conj=0``: none.
        """
        out: list[Any] = []
        if max_conj <= 0:
            return out
        for g in self.statics:
            if len(g.domain) != 2:
                continue
            for yi in (0, 1):
                ysort = g.domain[yi].name
                osort = g.domain[1 - yi].name
                y = ("var", ysort, -1)
                # exists y. g(.., x, ..) & lits: x one of the template's variables of the other sort.
                for xi in range(template.get(osort, 0)):
                    x = ("var", osort, xi)
                    gargs = (y, x) if yi == 0 else (x, y)
                    inner = {**template}
                    lits = [(a, pos) for a in self._with_extra(inner, ysort, y) for pos in (True, False)]
                    lits = [lt for lt in lits if _uses(lt[0], y)]
                    for k in range(1, max_conj + 1):
                        for combo in itertools.combinations(lits, k):
                            if len({lt[0] for lt in combo}) < k:
                                continue
                            out.append(("ex", g.name, gargs, tuple(sorted(combo, key=repr))))
                # exists y. forall z. g(z, y) -> lit  (z of the other sort, y the quantified one)
                z = ("var", osort, -2)
                gargs = (z, y) if yi == 1 else (y, z)
                if template.get(ysort, 0):
                    continue  # y's sort is already universally quantified: this form is for "some quorum"
                for a in self._with_extra(dict(template), osort, z):
                    if _uses(a, z) and not _uses(a, y):
                        for pos in (True,):
                            out.append(("exall", g.name, gargs, (a, pos)))
        return out

    def _with_extra(self, template: Mapping[str, int], sort: str, var: Any) -> list[Any]:
        """The atoms over the template plus one bound variable ``var`` of ``sort``."""
        bigger = dict(template)
        bigger[sort] = bigger.get(sort, 0) + 1
        atoms = self.atoms(bigger)
        fresh = ("var", sort, bigger[sort] - 1)
        return [_subst(a, fresh, var) for a in atoms]


def _mentions_var(a: Any) -> bool:
    return any(t[0] == "var" for t in _term_leaves(a))


def _term_leaves(x: Any) -> Iterable[Any]:
    if isinstance(x, tuple) and x and x[0] in ("var", "lit"):
        yield x
    elif isinstance(x, tuple):
        for y in x:
            if isinstance(y, tuple):
                yield from _term_leaves(y)


def _uses(a: Any, var: Any) -> bool:
    return any(t == var for t in _term_leaves(a))


def _subst(x: Any, old: Any, new: Any) -> Any:
    if x == old:
        return new
    if isinstance(x, tuple):
        return tuple(_subst(y, old, new) for y in x)
    return x


def _rename(x: Any, mapping: Mapping[Any, Any]) -> Any:
    if isinstance(x, tuple) and x and x[0] == "var":
        return mapping.get(x, x)
    if isinstance(x, tuple):
        return tuple(_rename(y, mapping) for y in x)
    return x


def _vars_of(literals: Iterable[Any]) -> set[Any]:
    return {t for lt in literals for t in _term_leaves(lt) if t[0] == "var" and t[2] >= 0}


def _canonical(literals: Sequence[Any], template: Mapping[str, int]) -> tuple[Any, ...]:
    """The least renaming of the clause under permutations of each sort's variables (its symmetry class)."""
    perms = [[dict(zip([("var", s, i) for i in range(k)], [("var", s, j) for j in p]))
              for p in itertools.permutations(range(k))] for s, k in template.items() if k]
    best = None
    for combo in itertools.product(*perms):
        mapping: dict[Any, Any] = {}
        for m in combo:
            mapping.update(m)
        key = tuple(sorted((_normal(_rename(lt, mapping)) for lt in literals), key=repr))
        if best is None or repr(key) < repr(best):
            best = key
    return best if best is not None else tuple(sorted(literals, key=repr))


def _normal(lt: Any) -> Any:
    """Equalities with their sides in a fixed order (x = y is y = x)."""
    atom, pos = lt
    if atom[0] == "eq" and repr(atom[2]) < repr(atom[1]):
        atom = ("eq", atom[2], atom[1])
    elif atom[0] == "ex":
        atom = ("ex", atom[1], atom[2], tuple(sorted((_normal(x) for x in atom[3]), key=repr)))
    return (atom, pos)


def templates(grammar: Grammar, max_vars: int, per_sort: Mapping[str, int] | None = None) -> list[dict[str, int]]:
    """Variable counts per sort with at most ``max_vars`` in all (and ``per_sort`` caps), smallest first."""
    sorts = [s for s in grammar.sorts if s not in grammar.enumerations]
    caps = [min(max_vars, (per_sort or {}).get(s, 3 if s in grammar.state_sorts else 1)) for s in sorts]
    out = []
    for counts in itertools.product(*[range(c + 1) for c in caps]):
        if 0 < sum(counts) <= max_vars:
            out.append({s: k for s, k in zip(sorts, counts) if k})
    out.sort(key=lambda t: (sum(t.values()), sorted(t.items())))
    return out


# -- the sample states --------------------------------------------------------------------------------------------
def _universe(grammar: Grammar, sizes: Mapping[str, int]) -> dict[str, tuple[Any, ...]]:
    """Finite elements per sort: named (string) literals alone make an enumeration; others get fresh elements."""
    out: dict[str, tuple[Any, ...]] = {}
    for name, sort in grammar.system.signature.sorts.items():
        lits = grammar.literals.get(name, [])
        n = sizes.get(name, 2)
        if sort.ordered:
            lo = min(lits) if lits else 0
            out[name] = tuple(range(lo, lo + n))
        elif lits and all(isinstance(x, str) for x in lits):
            out[name] = tuple(lits)
        else:
            out[name] = tuple(lits) + tuple(f"{name[0].lower()}{i + 1}" for i in range(n))
    return out


def _statics(system: TransitionSystem, grammar: Grammar, universe: Mapping[str, tuple[Any, ...]]) -> dict[str, Any]:
    """Static relations satisfying the axioms, with the elements of each sort distinct (their rows differ),
    and as few tuples as that allows (Z3 over the grounded axioms)."""
    tr = Translator(universe, {})
    opt = z3.Optimize()
    for ax in system.axioms:
        opt.add(tr.formula(ax))
    for g in grammar.statics:
        for k, srt in enumerate(g.domain):
            others = [d for j, d in enumerate(g.domain) if j != k]
            elems = universe[srt.name]
            for e1, e2 in itertools.combinations(elems, 2):
                diff = []
                for rest in itertools.product(*[universe[d.name] for d in others]):
                    a1 = list(rest); a1.insert(k, e1)
                    a2 = list(rest); a2.insert(k, e2)
                    diff.append(tr.formula(Formula("not", (Formula("iff", (
                        g(*[Const(d, v) for d, v in zip(g.domain, a1)]),
                        g(*[Const(d, v) for d, v in zip(g.domain, a2)]))),))))
                if srt.name not in grammar.state_sorts:
                    opt.add(z3.Or(*diff))
    for g in grammar.statics:
        for args in itertools.product(*[universe[d.name] for d in g.domain]):
            tr.formula(g(*[Const(d, v) for d, v in zip(g.domain, args)]))
    opt.minimize(z3.Sum(*[z3.If(b, 1, 0) for (n, _, _), b in tr.atoms.items()] or [z3.IntVal(0)]))
    if solve(opt) != z3.sat:
        raise ValueError("no finite instance of these sizes satisfies the axioms")
    model = opt.model()
    out: dict[str, Any] = {}
    for g in grammar.statics:
        out[g.name] = frozenset(args for (n, args, _), b in tr.atoms.items()
                                if n == g.name and z3.is_true(model.eval(b, model_completion=True)))
    return _least_renaming(out, grammar, universe)


def _least_renaming(statics: dict[str, Any], grammar: Grammar,
                    universe: Mapping[str, tuple[Any, ...]], most: int = 50_000) -> dict[str, Any]:
    """The static relations renamed to the least of their renamings, so that one instance is always the same.

    Z3 picks one of several solutions with the fewest tuples, and which one depends on what the process asked
    it before (in one run, quorums {s1, s3} and {s1}; in the next, {s1, s2} and {s2}). Renaming the elements no
    formula names (the fresh ones of unordered sorts) keeps the axioms true, and the least renaming (the rows
    compared as text) is one answer for all of them. Skipped beyond ``most`` renamings.
    """
    sorts = sorted({d.name for g in grammar.statics for d in g.domain
                    if not d.ordered and d.name not in grammar.enumerations})
    fresh = {n: [e for e in universe[n] if e not in grammar.literals.get(n, [])] for n in sorts}
    if math.prod(math.factorial(len(v)) for v in fresh.values()) > most:
        return statics
    best: tuple[Any, ...] | None = None
    answer = statics
    for perms in itertools.product(*[itertools.permutations(fresh[n]) for n in sorts]):
        rename: dict[tuple[str, Any], Any] = {}
        for n, perm in zip(sorts, perms):
            rename.update({(n, old): new for old, new in zip(fresh[n], perm)})
        renamed = {}
        for g in grammar.statics:
            names = [d.name for d in g.domain]
            renamed[g.name] = frozenset(tuple(rename.get((n, x), x) for n, x in zip(names, row))
                                        for row in statics[g.name])
        key = tuple((name, tuple(sorted(map(repr, rows)))) for name, rows in sorted(renamed.items()))
        if best is None or key < best:
            best, answer = key, renamed
    return answer


State = dict[str, Any]
"""A sampled state: relation name -> frozenset of tuples, function name -> dict args -> value."""


def _freeze(state: Mapping[str, Any]) -> Any:
    return tuple(sorted((k, frozenset(v.items()) if isinstance(v, dict) else v) for k, v in state.items()))


class _Grounded:
    """A finite instance of the system's own formulas: initial states and successors by Z3 on grounded formulas."""

    def __init__(self, system: TransitionSystem, universe: Mapping[str, tuple[Any, ...]], statics: Mapping[str, Any]):
        self.system, self.universe, self.statics = system, universe, dict(statics)
        sig = system.signature
        self.symbols = [sig.symbol(n) for n in system.state]
        self.steps: list[tuple[z3.Solver, Translator]] = []
        for action in system.actions:
            for combo in itertools.product(*[universe[p.sort.name] for p in action.params]):
                tr = Translator(universe, self.statics)
                from quorumcheck.invariants.z3backend import _Lit
                f = tr.formula(system.transition(action).parts[1] if action.params else system.transition(action),
                               {p: _Lit(e) for p, e in zip(action.params, combo)})
                s = z3.Solver()
                s.add(f)
                self._domains(s, tr)
                self.steps.append((s, tr))
        tr = Translator(universe, self.statics)
        self.init = z3.Solver()
        self.init.add(tr.formula(system.init))
        self._domains(self.init, tr)
        self.init_tr = tr

    def _domains(self, s: z3.Solver, tr: Translator) -> None:
        for (name, args, primed), (f, const) in tr.applications.items():
            s.add(z3.Or(*[const == tr.code(f.result, e) for e in self.universe[f.result.name]]))

    def _read(self, model: Any, tr: Translator, primed: bool, pre: State | None) -> State:
        out: State = {}
        for sym in self.symbols:
            if isinstance(sym, Relation):
                rows = set()
                for args in itertools.product(*[self.universe[d.name] for d in sym.domain]):
                    atom = tr.atoms.get((sym.name, args, primed))
                    if atom is None:
                        if pre is not None and args in pre[sym.name]:
                            rows.add(args)
                    elif z3.is_true(model.eval(atom, model_completion=True)):
                        rows.add(args)
                out[sym.name] = frozenset(rows)
            else:
                table = {}
                decode = {tr.code(sym.result, e): e for e in self.universe[sym.result.name]}
                for args in itertools.product(*[self.universe[d.name] for d in sym.domain]):
                    app = tr.applications.get((sym.name, args, primed))
                    if app is None:
                        table[args] = pre[sym.name][args] if pre is not None else self.universe[sym.result.name][0]
                    else:
                        table[args] = decode[model.eval(app[1], model_completion=True).as_long()]
                out[sym.name] = table
        return out

    def _block(self, model: Any, tr: Translator, primed: bool) -> Any:
        parts = []
        for (name, args, p), atom in tr.atoms.items():
            if p == primed and name not in self.statics:
                parts.append(atom != model.eval(atom, model_completion=True))
        for (name, args, p), (f, const) in tr.applications.items():
            if p == primed:
                parts.append(const != model.eval(const, model_completion=True))
        return z3.Or(*parts) if parts else z3.BoolVal(False)

    def _all(self, s: z3.Solver, tr: Translator, primed: bool, assumptions: list[Any], pre: State | None,
             limit: int) -> list[State]:
        out = []
        s.push()
        while len(out) < limit and solve(s, *assumptions) == z3.sat:
            m = s.model()
            out.append(self._read(m, tr, primed, pre))
            s.add(self._block(m, tr, primed))
        s.pop()
        return out

    def initial(self, limit: int = 1000) -> list[State]:
        return self._all(self.init, self.init_tr, False, [], None, limit)

    def random_successors(self, state: State, rng: random.Random, limit: int = 6) -> list[State]:
        """A few successors by the first enabled step, the steps tried in a random order."""
        order = list(range(len(self.steps)))
        rng.shuffle(order)
        for k in order:
            s, tr = self.steps[k]
            found = self._all(s, tr, True, self._pre(tr, state), state, limit)
            if found:
                return found
        return []

    def _pre(self, tr: Translator, state: State) -> list[Any]:
        lits = []
        for (name, args, primed), atom in tr.atoms.items():
            if not primed and name not in self.statics:
                lits.append(atom if args in state[name] else z3.Not(atom))
        for (name, args, primed), (f, const) in tr.applications.items():
            if not primed:
                lits.append(const == tr.code(f.result, state[name][args]))
        return lits

    def successors(self, state: State, limit: int = 1000) -> list[State]:
        out = []
        for s, tr in self.steps:
            out += self._all(s, tr, True, self._pre(tr, state), state, limit)
        return out


def sample_states(system: TransitionSystem, sizes: Mapping[str, int], *, max_states: int = 3000,
                  timeout: float = 60.0, seed: int = 0, walk_length: int = 40) -> tuple[list[State], dict[str, tuple[Any, ...]], dict[str, Any]]:
    """Reachable states of one small instance: ``(states, universe, statics)``.

    With the system's ``explicit`` hook, the explicit model's states (explored
    with :func:`quorumcheck.explorer.explore`); otherwise a breadth-first
    search of the grounded formulas. At most ``max_states`` distinct states;
    when the search finds more, a sample stratified by the states' shapes
    (:func:`_stratified`).

    >>> from quorumcheck.models.raft_symbolic import raft_system
    >>> states, universe, _ = sample_states(raft_system(), {"Server": 2, "Term": 2, "Quorum": 1}, max_states=50)
    >>> len(states) > 10, universe["Role"]
    (True, ('Follower', 'Candidate', 'Leader'))
    """
    grammar = Grammar(system)
    universe = _universe(grammar, sizes)
    statics = _statics(system, grammar, universe)
    started = time.perf_counter()
    if system.explicit is not None:
        built = system.explicit(universe, statics)
        if built is not None:
            from quorumcheck.explorer import explore

            model, structure = built
            result = explore(model, keep_graph=True, max_states=max(max_states * 20, 50_000),
                             timeout=timeout)
            seen: dict[Any, State] = {}
            graph = result.graph  # None when the time limit ended the search before its first state
            for n in () if graph is None else graph.nodes:
                raw = structure(graph.nodes[n]["state"])
                st: State = {}
                for name in system.state:
                    if name not in raw:
                        continue  # a symbol the explicit model does not show (no candidate may read it)
                    sym = system.signature.symbol(name)
                    st[name] = {r[:-1]: r[-1] for r in raw[name]} if isinstance(sym, Function) else raw[name]
                seen.setdefault(_freeze(st), st)
            return _stratified(list(seen.values()), max_states, random.Random(seed)), universe, statics
    ground = _Grounded(system, universe, statics)
    inits = ground.initial()
    seen2: dict[Any, State] = {_freeze(s): s for s in inits}
    rng = random.Random(seed)
    # Random walks (deep states matter more to the filter than a shallow breadth-first layer): each step tries
    # the actions in a random order and takes one of the first enabled one's successors at random.
    while inits and len(seen2) < max_states and time.perf_counter() - started < timeout:
        st = rng.choice(inits)
        for _ in range(rng.randint(1, walk_length)):
            succs = ground.random_successors(st, rng)
            if not succs:
                break
            st = rng.choice(succs)
            seen2.setdefault(_freeze(st), st)
            if len(seen2) >= max_states:
                break
    return list(seen2.values()), universe, statics


def _shape(state: State) -> tuple[Any, ...]:
    """What a state looks like at a glance: each relation's number of tuples, each function's values."""
    return tuple((name, len(v) if not isinstance(v, dict) else tuple(sorted(map(repr, v.values()))))
                 for name, v in sorted(state.items()))


def _stratified(states: list[State], count: int, rng: random.Random) -> list[State]:
    """``count`` of ``states``, taken in turn from the groups of one :func:`_shape`, each group in random order.

    A uniform sample of a breadth-first search mirrors its layers: rare shapes (a leader elected, with votes
    still in flight) are few among the many shallow states, and the clauses only they refute survive the
    filter. Taking the shapes in turn keeps them. Raft's election instance, 1,500 of 50,000 states: 111 with a
    leader against 6 uniformly; 324 minimal clauses of 3 variables and 2 literals against 529.
    """
    if len(states) <= count:
        return states
    groups: dict[Any, list[State]] = {}
    for st in states:
        groups.setdefault(_shape(st), []).append(st)
    order = list(groups.values())
    rng.shuffle(order)
    for group in order:
        rng.shuffle(group)
    out: list[State] = []
    while len(out) < count:
        for group in order:
            if group:
                out.append(group.pop())
                if len(out) == count:
                    break
    return out


# -- compiling atoms to Python ----------------------------------------------------------------------------------
def _py_term(t: Any) -> str:
    if t[0] == "var":
        return f"V_{t[1]}_{t[2]}" if t[2] >= 0 else f"B_{t[1]}_{-t[2]}"
    if t[0] == "lit":
        return repr(t[2])
    args = ", ".join(_py_term(a) for a in t[2])
    return f"F_{t[1]}[({args}{',' if len(t[2]) == 1 else ''})]"


def _py_atom(a: Any, universe: Mapping[str, tuple[Any, ...]] | None = None,
             statics: Mapping[str, Any] | None = None) -> str:
    kind = a[0]
    if kind == "rel":
        args = ", ".join(_py_term(x) for x in a[2])
        return f"(({args}{',' if len(a[2]) == 1 else ''}) in R_{a[1]})"
    if kind == "eq":
        return f"({_py_term(a[1])} == {_py_term(a[2])})"
    if kind == "lt":
        return f"({_py_term(a[1])} < {_py_term(a[2])})"
    assert universe is not None and statics is not None
    # Existential atoms are unrolled over the instance's elements, the static guard decided here.
    y = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -1)
    guard = statics[a[1]]
    if kind == "ex":
        ys = []
        for e in universe[y[1]]:
            x = next(t for t in a[2] if t != y)
            lits = [_py_lit(_subst(lt, y, ("lit", y[1], e)), universe, statics) for lt in a[3]]
            # guard(y, x) with x a variable: test it at run time against the static set.
            gargs = ", ".join(repr(e) if t == y else _py_term(t) for t in a[2])
            ys.append("(" + " and ".join([f"(({gargs}) in R_{a[1]})"] + lits) + ")")
        return "(" + " or ".join(ys) + ")" if ys else "False"
    z = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -2)
    ys = []
    for e in universe[y[1]]:
        zs = []
        for f in universe[z[1]]:
            ground = tuple(e if t == y else f for t in a[2])
            if ground in guard:
                zs.append(_py_lit(_subst(_subst(a[3], y, ("lit", y[1], e)), z, ("lit", z[1], f)), universe, statics))
        ys.append("(" + " and ".join(zs or ["True"]) + ")")
    return "(" + " or ".join(ys) + ")" if ys else "False"


def _py_lit(lt: Any, universe: Any = None, statics: Any = None) -> str:
    text = _py_atom(lt[0], universe, statics)
    return text if lt[1] else f"(not {text})"


_ATOMS_PER_FUNCTION = 64


def _atom_masks(atoms: Sequence[Any], template: Mapping[str, int], states: Sequence[State],
                universe: Mapping[str, tuple[Any, ...]], statics: Mapping[str, Any],
                names: Iterable[str], deadline: float | None = None) -> tuple[list[int], int, int]:
    """Per atom, a bitmask over (state, assignment of the template's variables) where it is true; the width;
    and the mask of the points that exist.

    Each state owns a block of whole bytes, one bit per assignment of the template's variables (the last
    bits of a block are padding, in no mask). An atom is evaluated only over the variables it uses, and each
    assignment of those that makes it true adds the precomputed mask of the block's points that extend it:
    an atom of one variable in a template of four costs 3 evaluations per state instead of 81.
    """
    loops = [(s, i) for s, k in template.items() for i in range(k)]
    domains = [universe[s] for s, _ in loops]
    points = list(itertools.product(*[range(len(d)) for d in domains]))  # the block's order: first loop slowest
    block_bytes = (len(points) + 7) // 8
    position = {("var", s, i): n for n, (s, i) in enumerate(loops)}
    selectors: dict[tuple[int, ...], dict[tuple[Any, ...], int]] = {}
    uses: list[tuple[int, ...]] = []
    for a in atoms:
        used = tuple(sorted(position[v] for v in _vars_of([a])))
        uses.append(used)
        if used not in selectors:
            table: dict[tuple[Any, ...], int] = {}
            for bit, idx in enumerate(points):
                key = tuple(domains[n][idx[n]] for n in used)
                table[key] = table.get(key, 0) | (1 << bit)
            selectors[used] = table
    head = ["def run(S, U, SEL, out, at, size):"]
    for n in names:
        head.append(f"    R_{n} = S[{n!r}]")
        head.append(f"    F_{n} = S[{n!r}]")
    for s in universe:
        head.append(f"    U_{s} = U[{s!r}]")
    runs = []  # one small function per batch of atoms: CPython compiles a huge function in superlinear time
    for first in range(0, len(atoms), _ATOMS_PER_FUNCTION):
        lines = list(head)
        for k in range(first, min(first + _ATOMS_PER_FUNCTION, len(atoms))):
            a, used = atoms[k], uses[k]
            lines.append(f"    sel = SEL[{k}]")
            lines.append("    m = 0")
            indent = "    "
            for n in used:
                s, i = loops[n]
                lines.append(f"{indent}for V_{s}_{i} in U_{s}:")
                indent += "    "
            key = "".join(f"V_{loops[n][0]}_{loops[n][1]}, " for n in used)
            lines.append(f"{indent}if {_py_atom(a, universe, statics)}: m |= sel[({key})]")
            lines.append(f"    out[{k}][at:at + size] = m.to_bytes(size, 'little')")
        namespace: dict[str, Any] = {}
        exec(compile("\n".join(lines), "<candidates>", "exec"), namespace)
        runs.append(namespace["run"])
        if deadline is not None and time.perf_counter() > deadline:
            break
    per_atom = [selectors[used] for used in uses]
    width = 8 * block_bytes * len(states)
    out = [bytearray(block_bytes * len(states)) for _ in atoms]
    for n, st in enumerate(states):
        structure = {**statics, **st}
        for run in runs:
            run(structure, universe, per_atom, out, n * block_bytes, block_bytes)
        if deadline is not None and not n % 64 and time.perf_counter() > deadline:
            break  # the caller sees the deadline passed and drops this template
    valid = int.from_bytes(((1 << len(points)) - 1).to_bytes(block_bytes, "little") * len(states), "little")
    return [int.from_bytes(b, "little") for b in out], width, valid


# -- enumeration and the sample filter ----------------------------------------------------------------------------
@dataclass
class _Filtered:
    enumerated: int
    distinct: int
    minimal: list[Candidate]


def sample_filter(system: TransitionSystem, samples: Sequence[tuple[list[State], dict[str, tuple[Any, ...]],
                                                                     dict[str, Any]]],
                  *, max_vars: int = 4, max_literals: int = 3, per_sort: Mapping[str, int] | None = None,
                  max_exists: int = 2, deadline: float | None = None,
                  vocabulary: Iterable[str] | None = None) -> _Filtered:
    """Enumerate candidate clauses template by template and keep the minimal ones true in every sample."""
    grammar = Grammar(system, vocabulary)
    names = [n for n in system.state if n in {x.name for x in grammar.symbols}] + [g.name for g in grammar.statics]
    enumerated = distinct = 0
    kept: list[Candidate] = []
    kept_keys: set[tuple[Any, ...]] = set()
    for template in templates(grammar, max_vars, per_sort):
        if deadline is not None and time.perf_counter() > deadline:
            break
        atoms = grammar.atoms(template) + grammar.exists_atoms(template, max_exists)
        tvars = {("var", s, i) for s, k in template.items() for i in range(k)}
        atoms = [a for a in atoms if _vars_of([a]) <= tvars]
        if not atoms:
            continue
        masks: list[int] = []
        full = offset = 0  # full: every (state, assignment) point of every sample
        for states, universe, statics in samples:
            m, width, valid = _atom_masks(atoms, template, states, universe, statics, names, deadline)
            if not masks:
                masks = m
            else:
                masks = [x | (y << offset) for x, y in zip(masks, m)]
            full |= valid << offset
            offset += width
        if deadline is not None and time.perf_counter() > deadline:
            break  # this template's masks may be partial: it is dropped, and the caller reports the timeout
        lits = [(a, True) for a in atoms] + [(a, False) for a in atoms if a[0] in ("rel", "eq", "lt")]
        lit_masks = [masks[i] for i in range(len(atoms))] + \
                    [full ^ masks[i] for i, a in enumerate(atoms) if a[0] in ("rel", "eq", "lt")]
        lit_vars = [_vars_of([lt]) for lt in lits]
        is_ex = [lt[0][0] in ("ex", "exall") for lt in lits]
        # x != y | C(x, y) says what C(x, x) says, a clause of the template with one variable less.
        redundant = [lt[0][0] == "eq" and not lt[1] and lt[0][1][0] == lt[0][2][0] == "var" for lt in lits]
        # A literal true everywhere is a clause by itself; one false everywhere can be left out of any clause.
        useful = [i for i in range(len(lits)) if lit_masks[i] != 0]
        enumerated += sum(math.comb(len(useful), k) for k in range(1, max_literals + 1))
        try:
            clauses = covering_clauses(lit_masks, full, max_literals, useful, is_ex, deadline)
        except _OutOfTime:
            break  # the clauses of the templates before this one stand; the caller reports the timeout
        for combo in clauses:
            k = len(combo)
            if set().union(*(lit_vars[i] for i in combo)) != tvars:
                continue
            if len({lits[i][0] for i in combo}) < k:
                continue  # a and ~a
            if any(redundant[i] for i in combo):
                continue
            clause = [lits[i] for i in combo]
            key = _canonical(clause, template)
            if key in kept_keys:
                continue
            kept_keys.add(key)
            distinct += 1
            if _subsumed(key, template, kept_keys):
                continue
            kept.append(Candidate(tuple(sorted(template.items())), key))
    minimal = [c for c in kept if not _subsumed(c.literals, dict(c.template), kept_keys, strict=True)]
    return _Filtered(enumerated, distinct, minimal)


class _OutOfTime(Exception):
    """The inference's deadline passed inside the filter."""


def covering_clauses(masks: Sequence[int], full: int, max_literals: int, usable: Iterable[int] | None = None,
                     existential: Sequence[bool] | None = None,
                     deadline: float | None = None) -> list[tuple[int, ...]]:
    """The minimal sets of at most ``max_literals`` literals whose masks together cover ``full``: the clauses
    true in every sample with no literal to spare, smallest first (each as sorted literal numbers).

    Found from the samples instead of by trying every combination: a clause true everywhere has a literal
    true in the first sample point its other literals leave false, so a search that extends a partial clause
    only by the literals true at its lowest uncovered point reaches every such clause. A clause that already
    covers everything is not extended (its extensions are not minimal); at most one literal is existential.
    Trying every combination instead spent 90 % of Raft's inference in checks of combinations the samples
    rule out at once.

    Examples
    --------
    >>> covering_clauses([0b0011, 0b1100, 0b0110, 0b1001, 0b1111], 0b1111, 2)
    [(4,), (0, 1), (2, 3)]
    """
    usable = list(range(len(masks))) if usable is None else list(usable)
    by_point: dict[int, frozenset[int]] = {}

    def true_at(point: int) -> frozenset[int]:
        found = by_point.get(point)
        if found is None:
            bit = 1 << point
            found = by_point[point] = frozenset(i for i in usable if masks[i] & bit)
        return found

    out: set[tuple[int, ...]] = set()

    def found(chosen: tuple[int, ...]) -> None:
        if all(_or(masks, chosen, skip) != full for skip in chosen):  # minimal: no literal is spare
            out.add(tuple(sorted(chosen)))

    calls = 0

    def extend(chosen: tuple[int, ...], covered: int, exists: bool) -> None:
        nonlocal calls
        if covered == full:
            found(chosen)
            return
        calls += 1
        if deadline is not None and not calls % 1024 and time.perf_counter() > deadline:
            raise _OutOfTime
        left = full ^ covered
        lowest = true_at((left & -left).bit_length() - 1)
        if len(chosen) == max_literals - 1:  # the last literal must be true at every point left uncovered
            few = left.bit_count() <= 16
            if few:  # then the literals true at each of those points are the answer, without big-int work
                candidates = lowest
                rest = left ^ (left & -left)
                while rest and candidates:
                    low = rest & -rest
                    candidates = candidates & true_at(low.bit_length() - 1)
                    rest ^= low
            else:
                candidates = lowest & true_at(left.bit_length() - 1)
            for i in candidates:
                if (few or masks[i] & left == left) and i not in chosen and not (
                        exists and existential is not None and existential[i]):
                    found((*chosen, i))
            return
        for i in lowest:
            if i in chosen:
                continue
            ex = existential is not None and existential[i]
            if ex and exists:
                continue  # at most one existential literal
            extend((*chosen, i), covered | masks[i], exists or ex)

    extend((), 0, False)
    return sorted(out, key=lambda c: (len(c), c))


def _or(masks: Sequence[int], chosen: Iterable[int], skip: int) -> int:
    m = 0
    for i in chosen:
        if i != skip:
            m |= masks[i]
    return m


def _subsumed(key: tuple[Any, ...], template: Mapping[str, int], keys: set[tuple[Any, ...]],
              strict: bool = True) -> bool:
    """Whether a proper sub-clause of ``key`` (renamed canonically) is already a kept clause."""
    for k in range(1, len(key)):
        for sub in itertools.combinations(key, k):
            used = _vars_of(sub)
            sub_template: dict[str, int] = {}
            mapping = {}
            for s in sorted({v[1] for v in used}):
                vs = sorted((v for v in used if v[1] == s), key=lambda v: v[2])
                for j, v in enumerate(vs):
                    mapping[v] = ("var", s, j)
                sub_template[s] = len(vs)
            renamed = [_rename(lt, mapping) for lt in sub]
            if _canonical(renamed, sub_template) in keys:
                return True
    return False


def enumerate_candidates(system: TransitionSystem, template: Mapping[str, int], max_literals: int = 2,
                         max_exists: int = 1) -> list[tuple[Any, ...]]:
    """Every clause of the template (up to ``max_literals`` literals, each variable used), one per symmetry class.

    >>> from quorumcheck.models.raft_symbolic import raft_system
    >>> cs = enumerate_candidates(raft_system(), {"Server": 1}, max_literals=1)
    >>> len(cs) == len(set(cs))
    True
    """
    grammar = Grammar(system)
    atoms = grammar.atoms(template) + grammar.exists_atoms(template, max_exists)
    tvars = {("var", s, i) for s, k in template.items() for i in range(k)}
    atoms = [a for a in atoms if _vars_of([a]) <= tvars]
    lits = [(a, True) for a in atoms] + [(a, False) for a in atoms if a[0] in ("rel", "eq", "lt")]
    out: dict[tuple[Any, ...], None] = {}
    for k in range(1, max_literals + 1):
        for combo in itertools.combinations(lits, k):
            if _vars_of(combo) != tvars or len({lt[0] for lt in combo}) < k:
                continue
            if sum(lt[0][0] in ("ex", "exall") for lt in combo) > 1:
                continue
            out.setdefault(_canonical(list(combo), template), None)
    return list(out)


# -- back to formulas ------------------------------------------------------------------------------------------------
class _Builder:
    def __init__(self, grammar: Grammar) -> None:
        self.g = grammar
        self.sig = grammar.system.signature
        self._vars: dict[Any, Var] = {}

    def var(self, t: Any) -> Var:
        """One :class:`Var` per variable (the translators key variables by identity)."""
        if t not in self._vars:
            sort = self.sig.sorts[t[1]]
            p = self.g.var_prefix[t[1]]
            self._vars[t] = Var(f"{p}{t[2] + 1}" if t[2] >= 0 else f"{p}{'x' if t[2] == -1 else 'z'}", sort)
        return self._vars[t]

    def term(self, t: Any) -> Any:
        if t[0] == "var":
            return self.var(t)
        if t[0] == "lit":
            return self.sig.sorts[t[1]](t[2])
        return self.sig.symbol(t[1])(*[self.term(a) for a in t[2]])

    def atom(self, a: Any) -> Formula:
        kind = a[0]
        if kind == "rel":
            return self.sig.symbol(a[1])(*[self.term(x) for x in a[2]])
        if kind == "eq":
            return self.term(a[1]) == self.term(a[2])
        if kind == "lt":
            return self.term(a[1]) < self.term(a[2])
        y = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -1)
        guard = self.sig.symbol(a[1])(*[self.term(x) for x in a[2]])
        if kind == "ex":
            parts = [guard] + [self.lit(lt) for lt in a[3]]
            body = parts[0]
            for p in parts[1:]:
                body = body & p
            return Exists(self.var(y), body)
        z = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -2)
        return Exists(self.var(y), ForAll(self.var(z), guard >> self.lit(a[3])))

    def lit(self, lt: Any) -> Formula:
        return self.atom(lt[0]) if lt[1] else Not(self.atom(lt[0]))

    def formula(self, c: Candidate) -> Formula:
        vs = sorted(_vars_of(c.literals), key=lambda v: (v[1], v[2]))
        body = Or(*[self.lit(lt) for lt in c.literals]) if len(c.literals) > 1 else self.lit(c.literals[0])
        return ForAll([self.var(v) for v in vs], body)

    def python(self, c: Candidate) -> str:
        """``ForAll([a1, b1], vote(a1, b1, v1) >> proposed(b1, v1))``."""
        vs = sorted(_vars_of(c.literals), key=lambda v: (v[1], v[2]))
        neg = [lt for lt in c.literals if not lt[1] and lt[0][0] in ("rel", "eq", "lt")]
        pos = [lt for lt in c.literals if lt not in neg]
        premise = " & ".join(self._py_atom(lt[0], top=len(neg) > 1) for lt in neg)
        conclusion = " | ".join(self._py_lit(lt, top=len(pos) > 1) for lt in pos)
        if neg and pos:
            text = f"{'(' + premise + ')' if len(neg) > 1 else premise} >> " \
                   f"{'(' + conclusion + ')' if len(pos) > 1 else conclusion}"
        elif neg:
            text = f"~{premise}" if len(neg) == 1 else f"~({premise})"
        else:
            text = conclusion
        names = ", ".join(self.var(v).name for v in vs)
        return f"ForAll([{names}], {text})"

    def _py_term(self, t: Any) -> str:
        if t[0] == "var":
            return self.var(t).name
        if t[0] == "lit":
            return f"{t[1]}({t[2]!r})"
        return f"{t[1]}({', '.join(self._py_term(a) for a in t[2])})"

    def _py_atom(self, a: Any, top: bool = False) -> str:
        kind = a[0]
        if kind == "rel":
            return f"{a[1]}({', '.join(self._py_term(x) for x in a[2])})"
        if kind in ("eq", "lt"):
            left, right = a[1], a[2]
            if left[0] == "lit":  # Ballot(-1) < b reads better as b > Ballot(-1)
                left, right = right, left
                op = "==" if kind == "eq" else ">"
            else:
                op = "==" if kind == "eq" else "<"
            text = f"{self._py_term(left)} {op} {self._py_term(right)}"
            return f"({text})"
        y = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -1)
        guard = f"{a[1]}({', '.join(self._py_term(x) for x in a[2])})"
        if kind == "ex":
            return f"Exists({self.var(y).name}, {' & '.join([guard] + [self._py_lit(lt, True) for lt in a[3]])})"
        z = next(t for t in _term_leaves(a[2]) if t[0] == "var" and t[2] == -2)
        return f"Exists({self.var(y).name}, ForAll({self.var(z).name}, {guard} >> {self._py_lit(a[3], True)}))"

    def _py_lit(self, lt: Any, top: bool = False) -> str:
        a, pos = lt
        if pos:
            return self._py_atom(a, top)
        if a[0] == "eq":
            return self._py_atom(a, top).replace(" == ", " != ")
        return f"~{self._py_atom(a, top)}"


# -- goal-directed strengthening ------------------------------------------------------------------------------------
@dataclass
class Strengthened:
    """What :func:`strengthen` found."""

    added: list[Conjunct]
    """The candidates that, with the goals, make an inductive invariant (when ``inductive``; else those held
    when it stopped)."""
    inductive: bool
    iterations: int = 0
    """Counterexamples to induction met (each added a candidate or dropped one)."""
    queries: int = 0
    """Z3 obligations checked."""
    dropped: int = 0
    """Candidates added and dropped again (a counterexample to their own induction that no candidate blocks)."""
    evaluations: int = 0
    """Candidates evaluated on counterexamples' pre-states."""
    reason: str | None = None
    """Why it stopped without an inductive invariant."""


def strengthen(system: TransitionSystem, goals: Sequence[Conjunct], pool: Sequence[Candidate], builder: _Builder, *,
               timeout: float = 5.0, deadline: float | None = None, log: Any = None) -> Strengthened:
    """Strengthen the goals into an inductive invariant with candidates of the pool, led by counterexamples.

    The invariant starts as the goals. While Z3 finds a counterexample to
    induction (CTI) -- a pre-state satisfying the invariant and a step after
    which one conjunct is false -- the smallest candidate of the pool that is
    *false in the pre-state* joins the invariant: it rules that pre-state out,
    and it is true in every sampled reachable state. When no candidate rules a
    CTI out, the conjunct it breaks is dropped if it is a candidate (it cannot
    be an invariant of the samples' kind that the pool can support) and the
    search goes on, or the search fails if it is a goal. This is IC3's
    blocking step with the sample-filtered pool as the lemmas (the pool is
    ordered by literals, then variables), instead of Houdini's weakening of
    the whole pool: it asks Z3 about a few conjuncts, not thousands.

    The answer is sound either way: ``inductive`` is True only when Z3 proved
    initiation and every (action, conjunct) consecution of goals + ``added``.
    "Unknown" counts as not proved.
    """
    from quorumcheck.invariants.evaluate import evaluate

    from .cti import pre_state

    say = log or (lambda _msg: None)
    checker = Checker(system, timeout)
    checker.deadline = deadline
    def has_exists(c: Candidate) -> bool:
        return any(lt[0][0] in ("ex", "exall") for lt in c.literals)

    # Fewest literals first; within that, clauses without an existential (they keep Z3 in EPR), fewest variables.
    order = sorted(range(len(pool)), key=lambda i: (len(pool[i].literals), has_exists(pool[i]),
                                                    sum(k for _, k in pool[i].template)))
    formulas: dict[int, Formula] = {}
    goal_names = {g.name for g in goals}
    invariant: list[Conjunct] = list(goals)
    index_of: dict[str, int] = {}  # added conjunct's name -> its pool index
    banned: set[int] = set()
    proved: set[tuple[str, str | None]] = set()
    out = Strengthened([], False)

    def formula(i: int) -> Formula:
        f = formulas.get(i)
        if f is None:
            f = formulas[i] = builder.formula(pool[i])
        return f

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() > deadline

    def stop(reason: str | None) -> Strengthened:
        """The answer so far: inductive when there is no reason to stop."""
        out.reason, out.inductive = reason, reason is None
        out.added = [c for c in invariant if c.name not in goal_names]
        return out

    while True:
        failing = None
        for c in list(invariant):
            if (c.name, None) not in proved:
                out.queries += 1
                ob = checker.initiation(c, with_cti=False)
                if ob.status != "proved":
                    failing = (c, None, ob)
                    break
                proved.add((c.name, None))
            for action in system.actions:
                if (c.name, action.name) in proved:
                    continue
                if out_of_time():
                    return stop("timeout")
                out.queries += 1
                ob = checker.consecution(invariant, action, c, with_cti=True)
                if ob.status == "proved":
                    proved.add((c.name, action.name))  # more conjuncts only add assumptions: it stays proved
                    continue
                failing = (c, action.name, ob)
                break
            if failing is not None:
                break
        if failing is None:
            return stop(None)
        conjunct, action_name, ob = failing
        if ob.status == "unknown" and out_of_time():  # the deadline, not Z3, cut the obligation
            return stop("timeout")
        out.iterations += 1
        chosen = None
        if ob.status == "fails" and ob.cti is not None and action_name is not None:
            universe, pre = pre_state(system, ob.cti)
            taken = banned | set(index_of.values())
            for i in order:
                if i in taken:
                    continue
                if out_of_time():
                    return stop("timeout")
                out.evaluations += 1
                try:
                    blocks = not evaluate(formula(i), universe, pre)
                except Exception:  # an element the CTI's structure leaves out: say nothing about this one
                    blocks = False
                if blocks:
                    chosen = i
                    break
        if chosen is not None:
            name = f"inv{chosen + 1}"
            index_of[name] = chosen
            invariant.append(Conjunct(name, formula(chosen), builder.python(pool[chosen])))
            say(f"{conjunct.name} is not preserved by {action_name}: added {builder.python(pool[chosen])}")
            continue
        if conjunct.name in goal_names:
            if ob.status == "unknown" and index_of:
                # Z3 gave up, most likely on what was added last (an existential can leave the decidable
                # fragment): drop that one and go on.
                conjunct = next(c for c in reversed(invariant) if c.name in index_of)
            else:
                reason = (f"{conjunct.name} is not preserved by {action_name or 'the initial states'} "
                          f"({ob.status}), and no candidate rules the counterexample out")
                say(reason)
                return stop(reason)
        # An added candidate that no candidate can support: drop it. Pairs proved with its help are checked again.
        banned.add(index_of.pop(conjunct.name))
        invariant = [c for c in invariant if c.name != conjunct.name]
        proved = {p for p in proved if p[1] is None and p[0] != conjunct.name}
        out.dropped += 1
        say(f"dropped {conjunct.description}: not preserved by {action_name or 'the initial states'} ({ob.status})")


# -- Houdini -----------------------------------------------------------------------------------------------------------
def houdini(system: TransitionSystem, conjuncts: list[Conjunct], *, timeout: float = 5.0,
            deadline: float | None = None, log: Any = None) -> tuple[list[Conjunct], int, int, bool]:
    """Drop the conjuncts Z3 does not prove preserved, assuming the rest, until none is dropped.

    Returns ``(survivors, rounds, queries, finished)``.
    """
    checker = Checker(system, timeout)
    queries = 0
    # Initiation once: it does not depend on the other conjuncts.
    alive = []
    for c in conjuncts:
        if deadline is not None and time.perf_counter() > deadline:
            return alive, 0, queries, False
        queries += 1
        if _check(checker, [checker.state(system.init)], checker.state(Not(c.formula)), timeout) == "proved":
            alive.append(c)
    rounds = 0
    now = {c.name: checker.state(c.formula) for c in alive}
    post = {c.name: checker.after(c.formula) for c in alive}
    steps = [(a, case) for a in system.actions
             for case in (list(a.body.parts) if a.body.op == "or" else [None])]
    # Candidates proved preserved by a step assuming only themselves stay proved for that step (the proof needs
    # no other candidate), so they are checked once; the others are checked each round assuming all survivors,
    # first those without an existential (Z3's quantifier instantiation stays small), then every survivor.
    alone: set[tuple[str, int]] = set()
    translated = [checker.step(action, case)[0] for action, case in steps]
    for k, step in enumerate(translated):
        s = z3.Solver()
        s.set("timeout", int(min(timeout, 1.0) * 1000))
        s.add(step)
        checker.finish(s)
        for c in alive:
            if deadline is not None and time.perf_counter() > deadline:
                return alive, 0, queries, False
            queries += 1
            if solve(s, now[c.name], z3.Not(post[c.name])) == z3.unsat:
                alone.add((c.name, k))
    if log:
        log(f"{len(alone)} of {len(alive) * len(steps)} (candidate, step) pairs preserved by the candidate alone")
    # Bottom-up: a candidate joins the proved set once each step preserves it assuming the proved set and itself.
    # The proved set only grows, and every member stays preserved (its assumptions stay assumed), so the result is
    # inductive. Candidates that need each other (a cycle) are not found this way; a classic Houdini pass over
    # what is left would find them, at the price of queries with hundreds of quantified assumptions.
    proved: list[Conjunct] = [c for c in alive if all((c.name, k) in alone for k in range(len(steps)))]
    if log:
        log(f"{len(proved)} candidates are preserved by every step on their own")
    pending = [c for c in alive if c not in proved]
    solvers: list[Any] = []
    while True:
        rounds += 1
        added = []
        solvers = []
        for k, step in enumerate(translated):
            s = z3.Solver()
            s.set("timeout", int(timeout * 1000))
            s.add(step, *[now[c.name] for c in proved])
            checker.finish(s)
            solvers.append(s)
        for c in pending:
            ok = True
            for k, s in enumerate(solvers):
                if (c.name, k) in alone:
                    continue  # preserved assuming itself, and so assuming more
                if deadline is not None and time.perf_counter() > deadline:
                    return proved, rounds, queries, False
                queries += 1
                if solve(s, now[c.name], z3.Not(post[c.name])) != z3.unsat:
                    ok = False
                    break
                alone.add((c.name, k))  # the proved set only grows: this step stays proved
            if ok:
                added.append(c)
        if log:
            log(f"round {rounds}: {len(added)} more candidates preserved assuming the {len(proved)} proved")
        if not added:
            return proved, rounds, queries, True
        proved += added
        pending = [c for c in pending if c not in added]


def _check(checker: Checker, facts: list[Any], goal_negated: Any, timeout: float) -> str:
    s = z3.Solver()
    s.set("timeout", int(timeout * 1000))
    s.add(*facts, goal_negated)
    checker.finish(s)
    answer = solve(s)
    return "proved" if answer == z3.unsat else "fails" if answer == z3.sat else "unknown"


# -- the whole thing ---------------------------------------------------------------------------------------------
def default_instances(system: TransitionSystem, vocabulary: Iterable[str] | None = None) -> list[dict[str, int]]:
    """Small sizes: 3 elements of each state sort (2 for sorts only static relations read), ordered sorts 3 long.

    With a ``vocabulary`` (the goal's cone of influence), a sort that none of its symbols reads gets no
    elements: Raft's election safety never reads a log, so its instance has no indexes and no values, and
    the explicit model it is sampled from runs elections only.

    >>> from quorumcheck.models.raft_symbolic import raft_system
    >>> system = raft_system()
    >>> sizes = default_instances(system, cone_of_influence(system, ["election-safety"]))[0]
    >>> sizes["Server"], sizes["Term"], sizes["Index"], sizes["Value"]
    (3, 3, 0, 0)
    """
    grammar = Grammar(system)
    read = Grammar(system, vocabulary).sorts if vocabulary is not None else system.signature.sorts
    sizes = {}
    for name in system.signature.sorts:
        sizes[name] = 0 if name not in read else 3 if name in grammar.state_sorts else 2
    return [sizes]


def infer(system: TransitionSystem, *, instances: Sequence[Mapping[str, int]] | None = None, max_vars: int = 4,
          max_literals: int = 3, per_sort: Mapping[str, int] | None = None, max_exists: int = 2,
          max_states: int = 3000, timeout: float = 600.0, obligation_timeout: float = 5.0,
          goals: Sequence[str] | None = None, log: Any = None) -> InferResult:
    """Infer an inductive invariant that implies ``system.safety``, from the signature alone.

    Parameters
    ----------
    system : TransitionSystem
    instances : sequence of {sort name: size}, optional
        The finite instances to sample (default: :func:`default_instances`).
    max_vars : int, default 4
        Universally quantified variables per candidate, in all sorts.
    max_literals : int, default 3
        Literals per clause.
    per_sort : {sort name: int}, optional
        The most variables of one sort (default 3).
    max_exists : int, default 2
        Literals after the guard inside an ``exists y. guard & ...`` atom.
    max_states : int, default 3000
        Distinct states sampled per instance.
    timeout : float, default 600
        Seconds for everything; the result says ``stop_reason="timeout"`` when cut.
    obligation_timeout : float, default 5
        Seconds Z3 may spend on one Houdini query ("unknown" drops the candidate).
    goals : sequence of str, optional
        The conjuncts the invariant must imply (default ``system.safety``); the
        grammar uses only the symbols in their cone of influence.

    Returns
    -------
    InferResult

    Examples
    --------
    >>> from quorumcheck.models.raft_symbolic import raft_system
    >>> r = infer(raft_system(), max_states=400)   # doctest: +SKIP
    >>> r.proved                                   # doctest: +SKIP
    True
    """
    started = time.perf_counter()
    deadline = started + timeout
    result = InferResult(system.name)
    say = log or (lambda _msg: None)
    goals = list(goals or system.safety)
    for g in goals:
        system.conjunct(g)
    vocabulary = cone_of_influence(system, goals)
    result.goals = goals
    result.vocabulary = vocabulary
    grammar = Grammar(system, vocabulary)
    builder = _Builder(grammar)

    t0 = time.perf_counter()
    samples = []
    for sizes in instances or default_instances(system, vocabulary):
        states, universe, statics = sample_states(system, sizes, max_states=max_states,
                                                  timeout=max(1.0, (deadline - time.perf_counter()) / 3))
        samples.append((states, universe, statics))
        result.states += len(states)
        result.instances.append({k: len(v) for k, v in universe.items()})
        say(f"sampled {len(states)} states of {result.instances[-1]}")
    result.seconds["sample"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    filtered = sample_filter(system, samples, max_vars=max_vars, max_literals=max_literals, per_sort=per_sort,
                             max_exists=max_exists, deadline=deadline, vocabulary=vocabulary)
    result.enumerated, result.distinct, result.surviving = filtered.enumerated, filtered.distinct, len(filtered.minimal)
    result.seconds["enumerate+filter"] = time.perf_counter() - t0
    say(f"{result.enumerated} candidates enumerated, {result.distinct} true on the samples, "
        f"{result.surviving} minimal")
    if time.perf_counter() > deadline:
        result.stop_reason = "timeout"

    # First the goal-directed search: it asks Z3 about a few conjuncts. Houdini over the whole pool is the fallback.
    t0 = time.perf_counter()
    half = t0 + max(deadline - t0, 0.0) / 2  # the other half stays for Houdini, should this not succeed
    strong = strengthen(system, [system.conjunct(g) for g in goals], filtered.minimal, builder,
                        timeout=obligation_timeout, deadline=half, log=log)
    result.seconds["strengthen"] = time.perf_counter() - t0
    result.strengthening = {"inductive": strong.inductive, "iterations": strong.iterations,
                            "queries": strong.queries, "added": len(strong.added), "dropped": strong.dropped,
                            "evaluations": strong.evaluations, "reason": strong.reason}
    result.queries = strong.queries
    if strong.inductive:
        say(f"strengthened the goals with {len(strong.added)} candidates in {strong.iterations} steps "
            f"({strong.queries} Z3 queries): inductive")
        result.conjuncts = strong.added
        result.inductive = result.implies_safety = result.with_goals = True  # the goals are conjuncts of it
        result.seconds["total"] = time.perf_counter() - started
        return result
    say(f"strengthening stopped ({strong.reason}); Houdini over the {len(filtered.minimal)} candidates")

    conjuncts = []
    for k, cand in enumerate(filtered.minimal, start=1):
        conjuncts.append(Conjunct(f"inv{k}", builder.formula(cand), builder.python(cand)))
    t0 = time.perf_counter()
    alive, rounds, queries, finished = houdini(system, conjuncts, timeout=obligation_timeout, deadline=deadline,
                                               log=log)
    result.houdini_rounds = rounds
    result.queries += queries
    result.seconds["houdini"] = time.perf_counter() - t0
    if not finished:
        result.stop_reason = "timeout"
    result.conjuncts = alive
    result.inductive = finished
    say(f"Houdini: {len(alive)} conjuncts after {rounds} rounds ({queries} queries of its own)")

    t0 = time.perf_counter()
    checker = Checker(system, max(obligation_timeout, 10.0))
    ok = finished
    for name in goals:
        if not ok:
            break
        goal = system.conjunct(name)
        ob = checker.implies(alive, goal, with_cti=False)
        ok = ob.status == "proved"
    result.implies_safety = ok
    result.seconds["safety"] = time.perf_counter() - t0
    result.seconds["total"] = time.perf_counter() - started
    return result


def missing_conjuncts(system: TransitionSystem, result: InferResult, timeout: float = 10.0) -> list[str]:
    """The system's shipped inductive conjuncts that the inferred ones do not imply (to say how far it got)."""
    checker = Checker(system, timeout)
    out = []
    for c in system.resolve(None):
        if checker.implies(result.conjuncts, c, with_cti=False).status != "proved":
            out.append(c.name)
    return out
