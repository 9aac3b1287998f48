"""Inductive invariants checked with Z3 for every size: initiation and consecution, per (action, conjunct).

For a candidate invariant ``Inv = C1 & ... & Cn`` of a
:class:`~quorumcheck.invariants.system.TransitionSystem`, :func:`prove` asks
Z3, each in its own solver (mypyvy's style):

* **initiation** -- ``axioms & init & ~Ci`` is unsatisfiable, for each ``Ci``;
* **consecution** -- ``axioms & Inv & action & frame & ~Ci'`` is
  unsatisfiable, for each action and each ``Ci``;
* **safety** -- when the safety property is not itself a conjunct,
  ``axioms & Inv & ~Safety`` is unsatisfiable.

Sorts are uninterpreted and ordered sorts (ballots, terms) are Z3's
integers. A consecution check first assumes only the conjunct and the
conjuncts it names in ``uses`` (a hint, like a TLAPS ``BY`` clause: fewer
assumptions keep Z3's quantifier instantiation small, and assuming less is
sound); only if that does not prove it is the whole invariant assumed, which
is also what a counterexample must satisfy. A counterexample is minimised
(uninterpreted sorts to the fewest elements, ordered sorts to the shortest
range of integers) and read back as a :class:`~quorumcheck.prover.cti.CTI`;
:func:`~quorumcheck.prover.cti.reachability` says whether its pre-state is
reachable. Proved obligations hold for **every** number of acceptors, values,
ballots and quorums.

Examples
--------
>>> from quorumcheck.models.paxos_symbolic import paxos_system
>>> r = prove(paxos_system(), ["agreement"], reach=False)
>>> r.verdict.value, [(o.action, o.conjunct) for o in r.failures()]
('violated', [('Phase2b', 'agreement')])
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from quorumcheck.errors import InvalidFormula
from quorumcheck.explorer.result import Verdict
from quorumcheck.invariants.language import Formula, Not, prime
from quorumcheck.invariants.system import Conjunct, SymbolicAction, TransitionSystem
from quorumcheck.invariants.z3backend import Translator, solve

from .cti import CTI, check_cti, finite_bounds, read_cti, reachability
from .fragment import alternation_cycle

MIN_SLICE_MS = 50
"""The shortest time a Z3 check is started with; less left, and the obligation is reported unknown unchecked."""

__all__ = ["Obligation", "ProofResult", "prove", "Checker"]


@dataclass(frozen=True)
class Obligation:
    """One proof obligation and Z3's answer.

    ``kind`` is ``"initiation"``, ``"consecution"`` or ``"safety"``; ``status``
    is ``"proved"``, ``"fails"`` or ``"unknown"``.
    """

    kind: str
    conjunct: str
    action: str | None
    status: str
    seconds: float
    cti: CTI | None = None
    reason: str | None = None

    def line(self) -> str:
        """``proved   Phase2b preserves agreement`` or ``FAILS ...: conjunct X is not preserved by action Y``."""
        if self.kind == "initiation":
            what = f"init establishes {self.conjunct}"
        elif self.kind == "safety":
            what = f"the invariant implies {self.conjunct}"
        else:
            what = f"{self.action} preserves {self.conjunct}"
        if self.status == "proved":
            return f"proved   {what}"
        if self.status == "unknown":
            return f"UNKNOWN  {what} ({self.reason})"
        if self.kind == "initiation":
            return f"FAILS    conjunct {self.conjunct} does not hold initially"
        if self.kind == "safety":
            return f"FAILS    the invariant does not imply {self.conjunct}"
        return f"FAILS    conjunct {self.conjunct} is not preserved by action {self.action}"


@dataclass
class ProofResult:
    """The outcome of :func:`prove`: every obligation, and a verdict (HOLDS = proved for every size)."""

    system: str
    conjuncts: list[str]
    obligations: list[Obligation] = field(default_factory=list)
    seconds: float = 0.0
    stop_reason: str | None = None

    @property
    def verdict(self) -> Verdict:
        if self.failures():
            return Verdict.VIOLATED
        if self.stop_reason is not None or any(o.status == "unknown" for o in self.obligations):
            return Verdict.UNDETERMINED
        return Verdict.HOLDS

    @property
    def exit_code(self) -> int:
        """0 proved, 1 not inductive, 3 unknown or cut by the time limit, 130 interrupted by Ctrl-C before a
        failure was found."""
        if self.stop_reason == "interrupted" and self.verdict is not Verdict.VIOLATED:
            return 130
        return self.verdict.exit_code

    def failures(self) -> list[Obligation]:
        return [o for o in self.obligations if o.status == "fails"]

    def ctis(self) -> list[CTI]:
        return [o.cti for o in self.obligations if o.cti is not None]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: verdict, exit code, every obligation, and each CTI's structures."""
        def rows(values: dict[str, Any]) -> dict[str, Any]:
            return {name: sorted([list(r) for r in rs], key=repr) for name, rs in values.items()}

        def cti(c: CTI | None) -> dict[str, Any] | None:
            if c is None:
                return None
            return {
                "conjunct": c.conjunct, "action": c.action, "params": c.params,
                "universe": {k: list(v) for k, v in c.pre.universe.items()},
                "pre": rows(c.pre.values), "post": rows(c.post.values) if c.post else None,
                "statics": rows(c.statics),
                "reachable": None if c.reach is None else c.reach.reachable,
                "reachability": None if c.reach is None else c.reach.note,
            }

        return {
            "model": self.system,
            "verdict": self.verdict.value,
            "exit_code": self.exit_code,
            "conjuncts": self.conjuncts,
            "seconds": round(self.seconds, 3),
            "stop_reason": self.stop_reason,
            "obligations": [
                {"kind": o.kind, "conjunct": o.conjunct, "action": o.action, "status": o.status,
                 "seconds": round(o.seconds, 3), "reason": o.reason, "cti": cti(o.cti)}
                for o in self.obligations
            ],
        }


class Checker:
    """Z3 encodings of one transition system's obligations (shared by :func:`prove` and inference).

    Parameters
    ----------
    system : TransitionSystem
    timeout : float
        Seconds Z3 may spend on one obligation.
    """

    def __init__(self, system: TransitionSystem, timeout: float = 60.0) -> None:
        self.system = system
        self.timeout_ms = max(1, int(timeout * 1000))
        self.deadline: float | None = None
        self.cti_ms = min(self.timeout_ms, 3000)
        """Z3's limit for each step of minimising a counterexample (a step that runs out keeps the larger model)."""
        """``time.perf_counter()`` value after which no obligation may run (the whole proof's ``--timeout``)."""
        self.tr = Translator()
        self._axioms = [self.tr.formula(a) for a in system.axioms]
        self._primed: dict[str, Formula] = {}

    # -- encodings ---------------------------------------------------------------------------------------
    def solver(self) -> z3.Solver:
        s = z3.Solver()
        s.set("timeout", self.timeout_ms)
        return s

    def finish(self, solver: z3.Solver) -> None:
        """Add the axioms (static facts such as quorum intersection) to an obligation's solver."""
        solver.add(*self._axioms)

    def state(self, formula: Formula) -> Any:
        return self.tr.formula(formula)

    def after(self, formula: Formula) -> Any:
        return self.tr.formula(prime(formula, self.system.state))

    def step(self, action: SymbolicAction, case: Formula | None = None) -> tuple[Any, dict[str, tuple[Any, Any]]]:
        """The action (or one of its cases) with its parameters as fresh constants, and its frame."""
        params = {p.name: (p.sort, z3.Const(f"{action.name}.{p.name}", self.tr.sort(p.sort))) for p in action.params}
        env = {p: params[p.name][1] for p in action.params}
        body = self.tr.formula(action.body if case is None else case, env)
        return z3.And(body, self.tr.formula(self.system.frame(action))), params

    # -- checks ------------------------------------------------------------------------------------------------
    def _run(self, solver: z3.Solver, first_seed: int = 0, budget_ms: int | None = None) -> tuple[str, str | None]:
        """Check; on "unknown", try again with other random seeds until the obligation's time is spent.

        Quantified problems make Z3's answer time depend on its random choices
        (an obligation that takes 0.5 s with one seed can run out of 20 s with
        another), so the time is spent as a portfolio of short tries, 2 s each.
        """
        total = self.timeout_ms if budget_ms is None else budget_ms
        if self.deadline is not None:
            total = min(total, int((self.deadline - time.perf_counter()) * 1000))
        if total < MIN_SLICE_MS:
            # Z3 (5.4) given a timeout of a few milliseconds can stick in its arithmetic bound propagation,
            # which does not look at the timeout: a proof cut by --timeout hung for minutes in 1 ms checks.
            return "unknown", "the time limit ran out"
        slice_ms = min(total, 2000)
        spent, seed = 0, first_seed
        while True:
            solver.set("timeout", slice_ms)
            solver.set("random_seed", seed)
            solver.set("smt.random_seed", seed)
            answer = solve(solver)
            if answer == z3.unsat:
                return "proved", None
            if answer == z3.sat:
                return "fails", None
            spent += slice_ms
            seed += 1
            reason = solver.reason_unknown()
            if reason not in ("timeout", "canceled") or total - spent < MIN_SLICE_MS:
                break
            slice_ms = min(slice_ms, total - spent)
        return "unknown", ("Z3 timed out" if reason in ("timeout", "canceled")
                           else f"Z3 answered unknown: {reason}")

    def explain_unknown(self, reason: str | None, asserted: Sequence[tuple[str, Formula]]) -> str | None:
        """Add to an "unknown" the quantifier alternation that leaves the decidable fragment, if there is one."""
        cycle = alternation_cycle([*asserted, *((f"axiom {i + 1}", a) for i, a in enumerate(self.system.axioms))])
        if cycle is None:
            return reason
        return f"{reason}; the formulas leave the decidable fragment (EPR) through the sort cycle {cycle}"

    def initiation(self, conjunct: Conjunct, with_cti: bool = True) -> Obligation:
        started = time.perf_counter()
        s = self.solver()
        s.add(self.state(self.system.init), self.state(Not(conjunct.formula)))
        self.finish(s)
        status, reason = self._run(s)
        if status == "unknown":
            reason = self.explain_unknown(reason, [("init", self.system.init), (conjunct.name, Not(conjunct.formula))])
        cti = read_cti(s, self.tr, self.system, conjunct.name, None, {}, self.cti_ms) \
            if status == "fails" and with_cti else None
        return Obligation("initiation", conjunct.name, None, status, time.perf_counter() - started, cti, reason)

    def _consecution(self, invariant: Sequence[Conjunct], action: SymbolicAction, conjunct: Conjunct,
                     timeout_ms: int, finite: int | None = None,
                     first_seed: int = 0) -> tuple[z3.Solver, dict[str, Any], str, str | None]:
        """Check each case of the action (the disjuncts of a top-level ``Or``) on its own; the first failure wins.

        With ``finite=k`` only models with at most k elements per sort (and
        integers within k of the formulas' literals) are searched: a model found
        is a real counterexample, and "no model" proves nothing (it is
        reported ``unknown``).
        """
        cases = list(action.body.parts) if action.body.op == "or" else [None]
        answer: Any = None
        for case in cases:
            s = self.solver()
            s.set("timeout", timeout_ms)
            s.add(*[self.state(c.formula) for c in invariant])
            step, params = self.step(action, case)
            s.add(step, self.after(Not(conjunct.formula)))
            self.finish(s)
            if finite is not None:
                s.push()
                s.add(*finite_bounds(self.tr, self.system.signature, finite, params))
                s.set("timeout", timeout_ms)
                found = solve(s)
                if found == z3.sat:
                    return s, params, "fails", None
                s.pop()
                answer = (s, params, "unknown", "no counterexample within the finite bound")
                continue
            status, reason = self._run(s, first_seed, timeout_ms)
            if status == "fails":
                return s, params, status, reason
            if answer is None or status == "unknown":
                answer = (s, params, status, reason)
        return answer

    def consecution(self, invariant: Sequence[Conjunct], action: SymbolicAction, conjunct: Conjunct,
                    with_cti: bool = True) -> Obligation:
        started = time.perf_counter()
        focus = [conjunct, *[c for c in invariant if c.name in conjunct.uses and c.name != conjunct.name]]
        if len(focus) < len(invariant):
            s, params, status, reason = self._consecution(focus, action, conjunct, self.timeout_ms)
            if status == "proved":
                return Obligation("consecution", conjunct.name, action.name, status, time.perf_counter() - started)
        # Not proved from its hints: look for a small counterexample first (finite model finding is quick where
        # Z3's unbounded search for a model of quantified formulas can wander), then decide without bounds.
        status = "unknown"
        if with_cti:
            for size in (2, 3):
                s, params, status, reason = self._consecution(invariant, action, conjunct, min(self.timeout_ms, 2000),
                                                              finite=size)
                if status == "fails":
                    break
        if status != "fails":
            s, params, status, reason = self._consecution(invariant, action, conjunct, self.timeout_ms)
        if status == "unknown":
            reason = self.explain_unknown(reason, [
                *((c.name, c.formula) for c in invariant), (f"action {action.name}", action.body),
                (f"{conjunct.name} after the step, negated", Not(conjunct.formula))])
        cti = read_cti(s, self.tr, self.system, conjunct.name, action.name, params, self.cti_ms) \
            if status == "fails" and with_cti else None
        return Obligation("consecution", conjunct.name, action.name, status, time.perf_counter() - started, cti,
                          reason)

    def implies(self, invariant: Sequence[Conjunct], goal: Conjunct, with_cti: bool = True) -> Obligation:
        started = time.perf_counter()
        s = self.solver()
        s.add(*[self.state(c.formula) for c in invariant], self.state(Not(goal.formula)))
        self.finish(s)
        status, reason = self._run(s)
        if status == "unknown":
            reason = self.explain_unknown(reason, [*((c.name, c.formula) for c in invariant),
                                                   (f"{goal.name}, negated", Not(goal.formula))])
        cti = read_cti(s, self.tr, self.system, goal.name, None, {}, self.cti_ms) \
            if status == "fails" and with_cti else None
        return Obligation("safety", goal.name, None, status, time.perf_counter() - started, cti, reason)


def prove(
    system: TransitionSystem,
    invariant: Sequence[str] | None = None,
    *,
    timeout: float | None = None,
    obligation_timeout: float = 60.0,
    reach: bool = True,
    reach_max_states: int = 200_000,
) -> ProofResult:
    """Check that the named conjuncts form an inductive invariant that implies the safety property.

    Parameters
    ----------
    system : TransitionSystem
        A model's symbolic description (``paxos_system()``).
    invariant : sequence of str, optional
        Conjunct names or invariant-set names; by default the system's
        ``"inductive"`` set.
    timeout : float, optional
        Seconds for the whole proof; obligations not reached are reported
        ``unknown`` and the verdict is UNDETERMINED.
    obligation_timeout : float, default 60
        Seconds Z3 may spend on one obligation.
    reach : bool, default True
        For each CTI, search the explicit instance of its sizes for its pre-state.
    reach_max_states : int, default 200,000
        The most states that search explores.

    Returns
    -------
    ProofResult
        ``verdict`` HOLDS (proved for every size), VIOLATED (not inductive, with
        CTIs) or UNDETERMINED (Z3 answered unknown, or the time ran out).

    Examples
    --------
    >>> from quorumcheck.models.raft_symbolic import raft_system
    >>> r = prove(raft_system())
    >>> r.verdict.value, len(r.obligations)
    ('holds', 224)
    """
    started = time.perf_counter()
    deadline = None if timeout is None else started + timeout
    conjuncts = list(system.resolve(invariant))
    if not conjuncts:
        raise InvalidFormula(f"no conjuncts to prove for {system.name}; name some with --invariant")
    result = ProofResult(system.name, [c.name for c in conjuncts])
    checker = Checker(system, obligation_timeout)
    checker.deadline = deadline
    names = {c.name for c in conjuncts}
    goals = [system.conjunct(n) for n in system.safety if n not in names]

    def out_of_time() -> bool:
        return deadline is not None and time.perf_counter() >= deadline

    jobs: list[Any] = [("initiation", c, None) for c in conjuncts]
    jobs += [("consecution", c, a) for a in system.actions for c in conjuncts]
    jobs += [("safety", g, None) for g in goals]
    for kind, conjunct, action in jobs:
        if result.stop_reason is None and out_of_time():
            result.stop_reason = "timeout"
        try:
            if result.stop_reason is not None:
                ob = None
            elif kind == "initiation":
                ob = checker.initiation(conjunct)
            elif kind == "consecution":
                ob = checker.consecution(conjuncts, action, conjunct)
            else:
                ob = checker.implies(conjuncts, conjunct)
        except KeyboardInterrupt:  # Ctrl-C: what was proved so far is kept, and the rest says it was not checked
            result.stop_reason, ob = "interrupted", None
        if ob is None:
            why = "Ctrl-C" if result.stop_reason == "interrupted" else "the time limit ran out"
            result.obligations.append(Obligation(kind, conjunct.name, action.name if action else None, "unknown", 0.0,
                                                 reason=f"not checked: {why}"))
            continue
        if ob.cti is not None:
            # Judge Z3's counterexample again, with the plain-Python evaluator; then look for its pre-state.
            problems = tuple(check_cti(system, ob.cti, [c.name for c in conjuncts]))
            found = None
            if reach:
                left = None if deadline is None else max(1.0, deadline - time.perf_counter())
                found = reachability(system, ob.cti, max_states=reach_max_states, timeout=left or 60.0)
            ob = dataclasses.replace(ob, cti=dataclasses.replace(ob.cti, problems=problems, reach=found))
        result.obligations.append(ob)
    if result.stop_reason is None and out_of_time():
        result.stop_reason = "timeout"
    result.seconds = time.perf_counter() - started
    return result
