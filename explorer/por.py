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

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from quorumcheck.models.api import Action, Expectation, Model, Property

__all__ = ["PartialOrderReduction", "PorStats", "SleepSets", "resolve_por"]


@dataclass
class PorStats:
    """How often the reduction applied, for the result and the benchmark."""

    reduced: int = 0
    """Ample sets: states expanded by their persistent step alone. Sleep sets: states where at least one
    step was asleep."""
    full: int = 0
    """States expanded in full."""
    visible: int = 0
    """Ample sets: states whose persistent step changed a property's answer (C2), so were expanded in full."""
    revisits: int = 0
    """Ample sets: states whose persistent step led to a state seen before, or outside the bound (C3)."""
    method: str = "ample"
    """``"ample"`` (static persistent steps, :class:`PartialOrderReduction`), ``"sleep"`` (:class:`SleepSets`) or
    ``"movers"`` (:class:`~quorumcheck.explorer.movers.Movers`)."""
    slept: int = 0
    """Sleep sets: enabled steps not taken because they were asleep (each a successor not computed)."""
    transactions: int = 0
    """Movers: edges that are transactions (a node's silent steps and the step of its that ends them)."""
    passed: int = 0
    """Movers: states passed through inside transactions, never stored nor checked."""
    dropped: int = 0
    """Movers: silent steps after which their node had nothing to do (they can only come last: not taken)."""
    covered: int = 0
    """Movers: transactions not taken because their last silent step commutes with their last step: the
    transaction without it reaches the same state with it still to come (checked by computing both orders)."""
    met: int = 0
    """Movers: states met inside transactions (passed through, or held for the next level when the search
    stopped), each kept to meet it once; they count against ``max_states`` beside the stored states."""


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


_AWAKE: frozenset[Action] = frozenset()


class SleepSets:
    """Sleep sets (Godefroid) in their breadth-first form: the same states, fewer steps computed.

    A model that says which *resources* each step touches
    (:meth:`~quorumcheck.models.api.Model.step_resources`: in the actor model, the
    node whose handler runs and the budget it spends) lets the search skip a step
    in a state when an interleaving that takes it earlier reaches the same
    states. In state ``s``, the steps are taken in one fixed total order; the
    successor through step ``t`` inherits a *sleep set*: the steps asleep in
    ``s`` and those taken before ``t`` in ``s``, keeping only those whose
    resources are disjoint from ``t``'s. A step asleep in a state is not taken
    there: taking it first and ``t`` second reaches the same state, and did.

    The breadth-first form needs no re-expansion. A state's sleep set is the
    intersection of what its arrivals at its breadth-first depth give it; an
    arrival by a longer path is ignored. Every state keeps its depth and is
    reached along the lexicographically least of its shortest paths, because a
    step asleep on that path could be moved earlier in it, giving a smaller
    shortest path (docs/partial-order.md has the argument). So the set of states,
    their depths, verdicts, shortest counterexamples and reachable property
    answers are exactly those of the plain search; only the steps computed go
    down (docs/partial-order.md: on student code, not the time).

    A step is put to sleep for later siblings only when its successor is
    expanded (inside the bound, and not :meth:`~quorumcheck.models.api.Model.halted`),
    since a path through that successor is what covers the sleeping one.

    Parameters
    ----------
    model : Model
        Must override :meth:`~quorumcheck.models.api.Model.step_resources`.

    Examples
    --------
    >>> from quorumcheck.models.actors import Node
    >>> from quorumcheck.models.actor_model import ActorModel
    >>> from quorumcheck.explorer import explore
    >>> class Ping(Node):
    ...     def on_start(self, out):
    ...         out.send((self.id + 1) % (len(self.peers) + 1), "ping")
    ...     def on_message(self, sender, message, out):
    ...         self.got = message
    >>> plain, slept = explore(ActorModel(Ping, nodes=3)), explore(ActorModel(Ping, nodes=3), por=True)
    >>> plain.distinct_states == slept.distinct_states, plain.transitions, slept.transitions
    (True, 12, 7)
    """

    def __init__(self, model: Model[Any]) -> None:
        self.model = model
        self.stats = PorStats(method="sleep")
        self._rank: dict[Action, int] = {}  # a fixed total order on steps: first seen, first
        self._sets: dict[frozenset[Action], frozenset[Action]] = {_AWAKE: _AWAKE}  # sleep sets recur: one copy
        self._resources: dict[Action, frozenset[Hashable] | None] = {}
        self._current: dict[int, frozenset[Action]] = {}  # sleep sets of the level being expanded, by node
        self._upcoming: dict[int, frozenset[Action]] = {}  # ... and of the next level, as arrivals intersect them
        self._asleep: frozenset[Action] = _AWAKE  # of the state being expanded
        self._taken: list[Action] = []  # its steps taken so far whose successors are expanded
        self._halted = model.halted
        lazy = getattr(model, "enabled", None)
        self._enabled: Callable[[Any], list[tuple[Action, Callable[[], Any]]]] = lazy if lazy is not None else (
            lambda state: [(a, (lambda t=t: t)) for a, t in model.successors(state)])

    def resources(self, action: Action) -> frozenset[Hashable] | None:
        """What ``action`` touches (cached per label); ``None``: everything."""
        try:
            return self._resources[action]
        except KeyError:
            found = self._resources[action] = self.model.step_resources(action)
            return found

    def expand(self, node: int, state: Any) -> list[tuple[Action, Any]]:
        """The steps of ``state`` (stored as ``node``) that are not asleep, with their successors, in order.

        The loop then reports where each leads, in the same order, through :meth:`arrive`.
        """
        self._asleep = asleep = self._current.pop(node, _AWAKE)
        self._taken = []
        steps = self._enabled(state)
        rank = self._rank
        for action, _ in steps:
            if action not in rank:
                rank[action] = len(rank)
        steps.sort(key=lambda step: rank[step[0]])
        if asleep:
            out = [(action, make()) for action, make in steps if action not in asleep]
            self.stats.slept += len(steps) - len(out)
            self.stats.reduced += len(out) < len(steps)
            self.stats.full += len(out) == len(steps)
        else:
            out = [(action, make()) for action, make in steps]
            self.stats.full += 1
        return out

    def arrive(self, action: Action, successor: Any, node: int | None, new: bool) -> None:
        """The step ``action`` of the state being expanded led to ``successor``.

        ``node``: where it is stored (``None``: outside the bound, so not stored);
        ``new``: it was stored just now, one level deeper.
        """
        if node is None:
            return  # checked, never expanded: it covers nothing, so it puts nothing to sleep
        upcoming = self._upcoming
        if new or node in upcoming:
            mine = self.resources(action)
            if mine is None or not (self._asleep or self._taken):
                inherited = _AWAKE
            else:
                resources = self.resources
                found = frozenset([u for u in chain(self._asleep, self._taken)
                                   if (theirs := resources(u)) is not None and mine.isdisjoint(theirs)])
                inherited = self._sets.setdefault(found, found)
            if new:
                upcoming[node] = inherited
            else:  # another arrival at its depth: asleep only if asleep along both
                known = upcoming[node]
                if known:
                    both = known & inherited
                    upcoming[node] = self._sets.setdefault(both, both)
        if not self._halted(successor):
            self._taken.append(action)

    def next_level(self) -> None:
        """The loop moves one level deeper."""
        self._current, self._upcoming = self._upcoming, {}


def resolve_por(model: Model[Any], safety: Sequence[Property[Any]], reach: Sequence[Property[Any]],
                steps: Sequence[Property[Any]], *, symmetry: bool = False,
                ) -> tuple[PartialOrderReduction | SleepSets | None, list[str]]:
    """The reduction for a run, or ``None`` with a notice saying why it cannot apply.

    A model that says which resources its steps touch gets sleep sets
    (:class:`SleepSets`); one that names persistent steps gets static ample sets
    (:class:`PartialOrderReduction`).

    >>> from quorumcheck.models import RaftModel
    >>> resolve_por(RaftModel(), [], [], [])[1]  # doctest: +ELLIPSIS
    ['partial-order reduction: model raft names no persistent steps and no step resources, so every state is...']
    """
    sleeps = type(model).step_resources is not Model.step_resources
    if type(model).persistent_step is Model.persistent_step and not sleeps:
        return None, [f"partial-order reduction: model {model.name} names no persistent steps and no step "
                      "resources, so every state is expanded in full (a model opts in by overriding "
                      "Model.persistent_step or Model.step_resources)"]
    if sleeps and all(p.node_local for p in steps):
        if symmetry:
            return None, ["partial-order reduction is off: sleep sets do not combine with symmetry reduction yet; "
                          "drop --symmetry to use them"]
        return SleepSets(model), []
    if steps:
        if sleeps:
            names = ", ".join(p.name for p in steps if not p.node_local)
            return None, [f"partial-order reduction is off: sleep sets preserve state invariants, reachability "
                          f"and action properties that judge one node at a time, not other action properties "
                          f"({names}); check those without --por"]
        names = ", ".join(p.name for p in steps)
        return None, [f"partial-order reduction is off: it preserves state invariants and reachability, not action "
                      f"properties ({names}); check those without --por"]
    props = [p for p in [*safety, *reach] if p.expectation in (Expectation.ALWAYS, Expectation.SOMETIMES)]
    return PartialOrderReduction(model, props), []
