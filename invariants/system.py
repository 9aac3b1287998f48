"""A protocol written symbolically: its state symbols, initial states and actions as formulas.

This is what ``quorumcheck prove`` reasons about. A :class:`TransitionSystem`
names the symbols of a :class:`~quorumcheck.invariants.language.Signature`
that change from state to state (``state``); the rest (quorum membership)
are static and constrained by ``axioms``. Each :class:`SymbolicAction` is a
formula over the current symbols and the successor's (``vote.after(a, b, v)``),
with parameters that the prover quantifies existentially, and lists the
symbols it may change: every other state symbol keeps its value (the frame is
added for it, so an action says only what it does). Named :class:`Conjunct`
formulas make up candidate invariants; ``invariant_sets`` groups them (the
inductive invariant, a first attempt that is not inductive).

Nothing here refers to explicit states or to Z3: the formulas are the
invariant language's, and :mod:`quorumcheck.prover` checks them.

Examples
--------
>>> from quorumcheck.invariants.language import ForAll, Iff, Signature, Sort
>>> Node = Sort("Node"); sig = Signature("flag", [Node]); up = sig.relation("up", Node)
>>> n, m = Node.vars("n m")
>>> raise_flag = SymbolicAction("raise", (n,), ForAll(m, Iff(up.after(m), up(m) | (m == n))), modifies=("up",))
>>> system = TransitionSystem("flags", sig, ("up",), ForAll(n, ~up(n)), (raise_flag,),
...                           conjuncts=(Conjunct("nothing-lowered", ForAll(n, up(n) | ~up(n))),))
>>> [a.name for a in system.actions], system.frame_symbols(raise_flag)
(['raise'], [])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from quorumcheck.errors import InvalidFormula

from .language import And, Exists, ForAll, Formula, Function, Iff, Or, Signature, Var, free_vars, symbols

__all__ = ["Conjunct", "SymbolicAction", "TransitionSystem"]


@dataclass(frozen=True)
class Conjunct:
    """One named conjunct of a candidate invariant (a closed formula over current-state symbols)."""

    name: str
    formula: Formula
    description: str = ""
    uses: tuple[str, ...] = ()
    """Conjuncts its preservation rests on: a hint, like a ``BY`` clause in TLAPS. The prover first
    assumes only these (and the conjunct itself), which keeps Z3's search small; assuming fewer
    conjuncts is sound, and when that does not prove it the whole invariant is assumed."""


@dataclass(frozen=True)
class SymbolicAction:
    """An action: ``exists params. body``, where ``body`` reads the current and the successor state.

    ``modifies`` names the state symbols the action may change; the others are
    framed (unchanged) by :meth:`TransitionSystem.frame_symbols`.
    """

    name: str
    params: tuple[Var, ...]
    body: Formula
    modifies: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class TransitionSystem:
    """A protocol as formulas: signature, state symbols, axioms, init, actions, candidate invariants.

    Parameters
    ----------
    name : str
        The model's name (``paxos``).
    signature : Signature
        Every sort and symbol the formulas use.
    state : tuple of str
        The symbols that change from state to state; the others are static.
    init : Formula
        The initial states.
    actions : tuple of SymbolicAction
    axioms : tuple of Formula
        Facts about the static symbols (quorums intersect).
    conjuncts : tuple of Conjunct
        Every named conjunct the model ships.
    invariant_sets : dict of str to tuple of str
        Named candidate invariants, as lists of conjunct names; ``"inductive"``
        is what ``prove`` checks by default.
    safety : tuple of str
        The conjuncts that state the safety property an invariant must imply.
    explicit : callable, optional
        ``explicit(sizes, statics)`` -> (explicit model, its interpretation of
        ``state`` symbols, how the CTI's elements map to the model's), or
        ``None`` when no explicit instance has those sizes; the prover uses it to
        say whether a counterexample to induction is reachable.
    """

    name: str
    signature: Signature
    state: tuple[str, ...]
    init: Formula
    actions: tuple[SymbolicAction, ...]
    axioms: tuple[Formula, ...] = ()
    conjuncts: tuple[Conjunct, ...] = ()
    invariant_sets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    safety: tuple[str, ...] = ()
    explicit: Callable[..., Any] | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sig = self.signature
        for name in self.state:
            sig.symbol(name)
        sig.check(self.init, f"{self.name}'s initial condition")
        for i, axiom in enumerate(self.axioms):
            sig.check(axiom, f"{self.name}'s axiom {i + 1}")
        for action in self.actions:
            extra = free_vars(action.body) - set(action.params)
            if extra:
                raise InvalidFormula(
                    f"action {action.name} uses the unbound variable(s) "
                    f"{', '.join(sorted(v.name for v in extra))}; add them to its parameters")
            for name in action.modifies:
                if name not in self.state:
                    raise InvalidFormula(f"action {action.name} modifies {name}, which is not a state symbol of "
                                         f"{self.name}; state symbols: {', '.join(self.state)}")
            primed = {s.name for s in symbols(action.body, primed=True)}
            stray = primed - set(action.modifies)
            if stray:
                raise InvalidFormula(f"action {action.name} reads {', '.join(sorted(stray))} in the successor state "
                                     f"but does not list it in modifies; add it")
        names = {c.name for c in self.conjuncts}
        if len(names) != len(self.conjuncts):
            raise InvalidFormula(f"{self.name} names two conjuncts alike")
        for c in self.conjuncts:
            sig.check(c.formula, f"conjunct {c.name}")
            unknown = [u for u in c.uses if u not in names]
            if unknown:
                raise InvalidFormula(f"conjunct {c.name} uses unknown conjunct(s) {', '.join(unknown)}")
            if symbols(c.formula, primed=True):
                raise InvalidFormula(f"conjunct {c.name} reads the successor state; an invariant reads one state")
        for set_name, members in self.invariant_sets.items():
            missing = [m for m in members if m not in names]
            if missing:
                raise InvalidFormula(f"invariant set {set_name} names unknown conjunct(s) {', '.join(missing)}")

    def conjunct(self, name: str) -> Conjunct:
        """The conjunct called ``name``."""
        for c in self.conjuncts:
            if c.name == name:
                return c
        raise InvalidFormula(f"{self.name} has no conjunct {name!r}; conjuncts: "
                             f"{', '.join(c.name for c in self.conjuncts)}")

    def action(self, name: str) -> SymbolicAction:
        """The action called ``name``."""
        for a in self.actions:
            if a.name == name:
                return a
        raise InvalidFormula(f"{self.name} has no action {name!r}; actions: {', '.join(a.name for a in self.actions)}")

    def used_symbols(self) -> list[str]:
        """The symbols the axioms, init, actions and conjuncts read (a signature may declare more)."""
        seen: dict[str, None] = {}
        for f in [*self.axioms, self.init, *(a.body for a in self.actions), *(c.formula for c in self.conjuncts)]:
            for sym in symbols(f):
                seen.setdefault(sym.name, None)
        return list(seen)

    def frame_symbols(self, action: SymbolicAction) -> list[str]:
        """The state symbols ``action`` leaves unchanged."""
        return [s for s in self.state if s not in action.modifies]

    def frame(self, action: SymbolicAction) -> Formula:
        """The symbols ``action`` leaves unchanged, as a formula: ``forall x. r'(x) <-> r(x)``, ``f'(x) = f(x)``."""
        parts = []
        for name in self.frame_symbols(action):
            sym = self.signature.symbol(name)
            xs = [d.var(f"{name}_{i}") for i, d in enumerate(sym.domain)]
            same = (sym.after(*xs) == sym(*xs)) if isinstance(sym, Function) else Iff(sym.after(*xs), sym(*xs))
            parts.append(ForAll(xs, same) if xs else same)
        return And(*parts)

    def transition(self, action: SymbolicAction | None = None) -> Formula:
        """One action's steps (``exists params. body & frame``), or, without ``action``, every step (the next-state
        relation: the disjunction over actions)."""
        if action is None:
            return Or(*(self.transition(a) for a in self.actions))
        step = And(action.body, self.frame(action))
        return Exists(action.params, step) if action.params else step

    def resolve(self, names: Sequence[str] | None) -> tuple[Conjunct, ...]:
        """Conjuncts by name or by invariant-set name (default: the ``"inductive"`` set), each once."""
        if not names:
            names = ["inductive"] if "inductive" in self.invariant_sets else [c.name for c in self.conjuncts]
        out: dict[str, Conjunct] = {}
        for name in names:
            if name in self.invariant_sets:
                for member in self.invariant_sets[name]:
                    out.setdefault(member, self.conjunct(member))
            elif any(c.name == name for c in self.conjuncts):
                out.setdefault(name, self.conjunct(name))
            else:
                sets = ", ".join(self.invariant_sets) or "none"
                raise InvalidFormula(
                    f"{self.name} has no conjunct or invariant set {name!r}; sets: {sets}; conjuncts: "
                    f"{', '.join(c.name for c in self.conjuncts)}")
        return tuple(out.values())
