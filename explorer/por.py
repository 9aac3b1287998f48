"""Partial-order reduction with static ample sets, plugged into the one breadth-first loop.

A model names, in a state, a step that alone is a *persistent set*
(:meth:`~quorumcheck.models.api.Model.persistent_step`): no path from the state
that avoids the step can contain a step dependent on it. The search then
follows only that step, provided the two remaining conditions of an ample set
(Peled; Clarke, Grumberg and Peled, *Model Checking*, ch. 10) hold there:

* **C2, visibility:** the step changes the truth value of no checked property
  (judged on the state before and after it: the properties' own answers,
  cached by footprint, so this costs a look-up);
* **C3, the cycle proviso**, in its breadth-first form: the step's successor is
  a state not seen before, and within the model's bound. A reduced state's step
  then always leads to a state discovered later, so every cycle of the reduced
  graph passes through a fully expanded state, and no step is postponed forever.

Otherwise the state is expanded in full. Under these conditions the reduced
graph preserves every property the search checks: state invariants and
reachability properties are preserved because every path of the full graph has
a path of the reduced graph that passes through the same sequence of property
answers, up to repetition (stuttering equivalence). docs/partial-order.md gives
the argument, and why action properties are not covered (the reduction turns
itself off, with a notice, when one is checked).

What changes: the counts (fewer states and transitions than TLC reports), and
counterexamples are real paths of the unreduced model but not always the
shortest. So ``check`` keeps TLC's exact counts by default and reduces only with
``--por``.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> full, reduced = explore(PaxosModel(max_ballot=1)), explore(PaxosModel(max_ballot=1), por=True)
>>> full.verdict == reduced.verdict, full.distinct_states, reduced.distinct_states
(True, 3921, 3778)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from quorumcheck.models.api import Action, Expectation, Model, Property

__all__ = ["PartialOrderReduction", "PorStats", "resolve_por"]


@dataclass
class PorStats:
    """How often the reduction applied, for the result and the benchmark."""

    reduced: int = 0
    """States expanded by their persistent step alone."""
    full: int = 0
    """States expanded in full."""
    visible: int = 0
    """States whose persistent step changed a property's answer (C2), so were expanded in full."""
    revisits: int = 0
    """States whose persistent step led to a state seen before, or outside the bound (C3)."""


class PartialOrderReduction:
    """Ample sets from a model's persistent steps, with the visibility and cycle provisos.

    Parameters
    ----------
    model : Model
        Must override :meth:`~quorumcheck.models.api.Model.persistent_step`.
    properties : sequence of Property
        The state properties the run checks (safety and reachability): the step
        must change none of their answers.
    """

    def __init__(self, model: Model[Any], properties: Sequence[Property[Any]]) -> None:
        self.model = model
        self.properties = list(properties)
        self.stats = PorStats()

    def successors(self, successors: Callable[[Any], Iterable[tuple[Action, Any]]],
                   is_new: Callable[[Any], bool]) -> Callable[[Any], list[tuple[Action, Any]]]:
        """``successors`` reduced: the persistent step alone where C2 and C3 allow it, else every step.

        ``is_new(t)`` says whether ``t`` (a successor as the model made it) is a
        state within the bound that the search has not seen.
        """
        persistent = self.model.persistent_step
        props = self.properties
        stats = self.stats

        def reduced(state: Any) -> list[tuple[Action, Any]]:
            steps = list(successors(state))
            k = persistent(state, steps)
            if k is None:
                stats.full += 1
                return steps
            after = steps[k][1]
            if any(p.holds(state) != p.holds(after) for p in props):
                stats.visible += 1
                stats.full += 1
                return steps
            if after is state or not is_new(after):
                stats.revisits += 1
                stats.full += 1
                return steps
            stats.reduced += 1
            return [steps[k]]

        return reduced


def resolve_por(model: Model[Any], safety: Sequence[Property[Any]], reach: Sequence[Property[Any]],
                steps: Sequence[Property[Any]]) -> tuple[PartialOrderReduction | None, list[str]]:
    """The reduction for a run, or ``None`` with a notice saying why it cannot apply.

    >>> from quorumcheck.models import RaftModel
    >>> resolve_por(RaftModel(), [], [], [])[1]  # doctest: +ELLIPSIS
    ['partial-order reduction: model raft names no persistent steps, so every state is expanded in full...']
    """
    if type(model).persistent_step is Model.persistent_step:
        return None, [f"partial-order reduction: model {model.name} names no persistent steps, so every state is "
                      "expanded in full (a model opts in by overriding Model.persistent_step)"]
    if steps:
        names = ", ".join(p.name for p in steps)
        return None, [f"partial-order reduction is off: it preserves state invariants and reachability, not action "
                      f"properties ({names}); check those without --por"]
    props = [p for p in [*safety, *reach] if p.expectation in (Expectation.ALWAYS, Expectation.SOMETIMES)]
    return PartialOrderReduction(model, props), []
