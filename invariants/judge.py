"""Judging a property in explored states, fast: one solve per distinct footprint value.

A :class:`Judge` binds one formula to a model's :class:`Interpretation` and an
evaluator (``"z3"`` or ``"python"``). Its *footprint* is the list of symbols the
formula reads that change from state to state; the values of those symbols
are the cache key the property uses (see :class:`quorumcheck.models.Property`),
so Z3 is asked once per distinct footprint value -- Paxos's agreement reads
only ``vote``: 185,369 states, 1,611 solver calls.

:func:`formula_property` turns a formula into a ready
:class:`~quorumcheck.models.Property` for the explorer.

Examples
--------
>>> from quorumcheck.invariants.language import Signature, Sort, ForAll
>>> from quorumcheck.invariants.structure import Interpretation
>>> S = Sort("S"); sig = Signature("s", [S]); up = sig.relation("up", S)
>>> x = S.var("x")
>>> interp = Interpretation(sig, {"S": (0, 1)}, {"up": lambda state: state})
>>> p = formula_property("always", "all-up", ForAll(x, up(x)), interp)
>>> p.holds(frozenset({(0,), (1,)})), p.holds(frozenset({(1,)}))
(True, False)
>>> p.explain(frozenset({(1,)}))
'x = 0'
>>> p.judge.stats.calls, p.judge.stats.evaluator, p.cache_hits
(2, 'z3', 0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from quorumcheck.errors import InvalidFormula, InvalidParameter
from quorumcheck.models.api import Expectation, Property

from .evaluate import evaluate
from .language import Formula, Sort, symbols
from .structure import Interpretation
from .z3backend import GROUNDING_LIMIT, FiniteCheck, finite_check, grounding_instances

__all__ = ["Judge", "JudgeStats", "formula_property", "EVALUATORS"]

EVALUATORS = ("z3", "python")


@dataclass
class JudgeStats:
    """What judging cost: evaluator (solver) calls and the seconds spent in them.

    Cache hits are counted by the property in front of the judge
    (:attr:`quorumcheck.models.Property.cache_hits`).
    """

    evaluator: str
    calls: int = 0
    seconds: float = 0.0


class Judge:
    """One formula, judged in the states of one model.

    Parameters
    ----------
    name : str
        The property's name (for messages).
    formula : Formula
        A closed formula over ``interpretation.signature``; an action property
        may read the successor state with ``symbol.after(...)``.
    interpretation : Interpretation
    evaluator : {"z3", "python"}
    action : bool
        True for an action property (a formula over a state and its successor).
    """

    def __init__(
        self, name: str, formula: Formula, interpretation: Interpretation, evaluator: str = "z3", action: bool = False
    ) -> None:
        if evaluator not in EVALUATORS:
            raise InvalidParameter(f"unknown evaluator {evaluator!r}; choose one of: {', '.join(EVALUATORS)}")
        interpretation.signature.check(formula, f"property {name}")
        if not action and symbols(formula, primed=True):
            raise InvalidFormula(
                f"property {name} reads the successor state (.after) but is a state property; "
                "declare it as an action property (every_step)"
            )
        self.name, self.formula, self.interpretation, self.action = name, formula, interpretation, action
        self.stats = JudgeStats(evaluator)
        self.too_large = False
        """Whether grounding the formula for Z3 exceeded :data:`GROUNDING_LIMIT` (then Python judges it)."""
        read = symbols(formula)
        self.footprint = [s.name for s in read if not interpretation.is_static(s.name)]
        self.key: Callable[[Any], Hashable] = _key_function(interpretation.footprint_sources(self.footprint))
        self._z3: FiniteCheck | None = None
        if evaluator == "z3" and grounding_instances(formula, interpretation.universe) > GROUNDING_LIMIT:
            self.stats.evaluator = "python"  # a large universe: judged in Python, which needs no grounding
            self.too_large = True
        elif evaluator == "z3":
            self._z3 = finite_check(formula, interpretation.universe, interpretation.static)

    def _values(self, state: Any) -> dict[str, Any]:
        return self.interpretation.values(self.footprint, state)

    def decide(self, state: Any) -> bool:
        """Judge one state, uncached (the property's cache sits in front of this)."""
        return self.decide_step(state, state) if self.action else self._decide(self._values(state), None)

    def decide_step(self, before: Any, after: Any) -> bool:
        """Judge one transition (action properties)."""
        return self._decide(self._values(before), self._values(after))

    def _decide(self, values: dict[str, Any], after: dict[str, Any] | None) -> bool:
        started = time.perf_counter()
        try:
            if self._z3 is not None:
                return self._z3.holds(values, after)
            return evaluate(self.formula, self.interpretation.universe, values, after)
        finally:
            self.stats.calls += 1
            self.stats.seconds += time.perf_counter() - started

    def witness(self, state: Any) -> str | None:
        """Why a state violates the formula, in the model's own terms (Z3's model of the violation)."""
        if self.action:
            return None
        if self.too_large:
            return None  # no Z3 model to read: grounding it is what was too large
        check = self._z3 or FiniteCheck(self.formula, self.interpretation.universe, self.interpretation.static)
        text = check.witness(self._values(state), self._show)
        return text or None

    def _show(self, sort: Sort, element: Any) -> str:
        return self.interpretation.show(sort.name, element)


def _key_function(readers: list[Callable[[Any], Hashable]]) -> Callable[[Any], Hashable]:
    if not readers:
        return lambda state: ()
    if len(readers) == 1:
        return readers[0]
    if len(readers) == 2:
        first, second = readers
        return lambda state: (first(state), second(state))
    return lambda state: tuple(r(state) for r in readers)


def formula_property(
    kind: str,
    name: str,
    formula: Formula,
    interpretation: Interpretation,
    description: str = "",
    *,
    evaluator: str = "z3",
    default: bool = True,
) -> Property[Any]:
    """A :class:`~quorumcheck.models.Property` judged by ``evaluator`` and cached on its footprint.

    Parameters
    ----------
    kind : {"always", "sometimes", "every-step"}
    name, description : str
    formula : Formula
    interpretation : Interpretation
    evaluator : {"z3", "python"}
    default : bool
        Whether a run checks it when no properties are named.
    """
    try:
        expectation = Expectation(kind)
    except ValueError:
        raise InvalidParameter(f"unknown property kind {kind!r}; use always, sometimes or every-step") from None
    action = expectation is Expectation.EVERY_STEP
    judge = Judge(name, formula, interpretation, evaluator, action=action)
    condition: Callable[..., bool] = judge.decide_step if action else judge.decide
    prop: Property[Any] = Property(
        name, expectation, condition, description, judge.key, judge.witness, formula=formula, judge=judge,
        default=default,
    )
    return prop
