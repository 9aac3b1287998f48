"""Reduction by right movers (Lipton): a node's silent steps wait for its next step, and are never stored.

A *silent* step (:meth:`~quorumcheck.models.api.Model.right_mover`) is one a
node takes without telling anyone: in the actor model, a delivery whose handler
sends nothing, spends no budget, and changes nothing a property reads (a vote
counted towards a quorum not yet reached, a stale message ignored). Such a step
is a *right mover*: it commutes with every later step of every other node, so
in any execution it can be pushed later, past the other nodes' steps, until
just before its own node's next step, or off the end. Pushing it changes no
property's answer on the way, because it changes nothing a property reads.

So the search never needs a state in which a node has taken a silent step and
another node moves next. This plug-in of the one breadth-first loop replaces
the model's successor function: where a step is silent, its node moves on at
once (its deliveries, timers, requests, restarts), until it takes a step that
is not silent; that whole run is one *transaction*, one edge of the search,
and only its end state is stored and checked. A silent step after which its
node has nothing to do is dropped: it can only come last. Lipton (1975) and
Flanagan and Qadeer's transactions (2003) reduce shared-memory programs the
same way; docs/partial-order.md gives the argument for messages, and how the
bound and the fault budgets are treated.

What is kept: every combination of property answers that some reachable state
has (so every verdict, every violated property and every witness), and every
counterexample is a real schedule of the unreduced model (transactions are
spelled out step by step). What changes: the counts, which are those of the
reduced graph (its depth counts transactions), and a counterexample is not
always a shortest one.

Examples
--------
>>> from quorumcheck.models.actors import Node
>>> from quorumcheck.models.actor_model import ActorModel
>>> from quorumcheck.explorer import explore
>>> class Count(Node):
...     def __init__(self):
...         self.heard = 0
...     def on_start(self, out):
...         out.broadcast("hello")
...     def on_message(self, sender, message, out):
...         self.heard += 1  # a count no property reads: every delivery is silent
>>> plain, reduced = explore(ActorModel(Count, nodes=3)), explore(ActorModel(Count, nodes=3), movers=True)
>>> plain.distinct_states, reduced.distinct_states, reduced.verdict.value
(64, 1, 'holds')
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from quorumcheck.errors import InvalidModel
from quorumcheck.models.api import Action, Model, Property

from .por import PorStats
from .result import Step, Trace

__all__ = ["Movers", "resolve_movers"]

TRANSACTION = "Steps"
"""The name of a transaction's label; its ``of`` argument lists the steps, ``" ; "`` between them."""


class Movers:
    """The reduction by right movers, as a successor function for the breadth-first loop.

    Parameters
    ----------
    model : Model
        Must override :meth:`~quorumcheck.models.api.Model.right_mover` and
        :meth:`~quorumcheck.models.api.Model.step_actor` (and may override
        ``actor_steps`` and ``transactions`` to compute less).
    """

    def __init__(self, model: Model[Any]) -> None:
        self.model = model
        self.stats = PorStats(method="movers")
        self._steps: dict[Action, tuple[Action, ...]] = {}  # a transaction's label -> its steps
        self._waiting: dict[int, list[tuple[int, Action, Any]]] = {}  # depth in steps -> (parent, label, state)

    def successors(self, successors: Callable[[Any], Iterable[tuple[Action, Any]]]
                   ) -> Callable[[Any], list[tuple[Action, Any]]]:
        """``successors`` reduced: a silent step is followed at once by its node's next steps.

        A state's silent steps, grouped by node, start a breadth-first walk
        through the states the node reaches by silent steps (each met once, so
        a cycle of them ends); every step of that node that is not silent ends a
        transaction, whose end state is a successor, reached by the shortest
        run. The model may answer from what it remembers
        (:meth:`~quorumcheck.models.api.Model.transactions`). Other steps are
        kept as they are.
        """
        mover = self.model.right_mover
        steps_of = self.model.actor_steps
        transactions = self.model.transactions
        stats = self.stats
        labels = self._steps
        made_for: dict[tuple[Action, ...], Action] = {}

        def label(path: tuple[Action, ...]) -> Action:
            made = made_for.get(path)
            if made is None:
                made = made_for[path] = Action(TRANSACTION, of=" ; ".join(map(str, path)))
                if labels.setdefault(made, path) != path:  # pragma: no cover - two steps with one printed form
                    raise InvalidModel(f"model {self.model.name!r}: two different steps print as {made}; actions "
                                       "must print distinctly for the reduction by movers")
            return made

        def walk(start: Any, level: list[tuple[Action, Any]]) -> dict[Any, tuple[Action, ...]]:
            """Every transaction from ``start`` that begins with one of the silent steps ``level``: its end
            state, with the shortest run to it (breadth-first, as the search counts depth in steps)."""
            if not level:
                return {}
            owner = mover(start, *level[0])
            paths: list[tuple[tuple[Action, ...], Any]] = [((a,), t) for a, t in level]
            met = {t for _, t in level}
            ends: dict[Any, tuple[Action, ...]] = {}
            while paths:
                deeper = []
                for path, u in paths:
                    stats.passed += 1  # a state passed through, never stored
                    # Only the node's own steps: any other commutes with the silent steps before it, so it
                    # is taken from the state where the transaction began instead.
                    taken = False
                    for b, v in steps_of(u, owner):
                        taken = True
                        if mover(u, b, v) == owner:
                            if v not in met:
                                met.add(v)
                                deeper.append(((*path, b), v))
                        elif v not in ends:
                            ends[v] = (*path, b)
                    if not taken:
                        stats.dropped += 1  # nothing follows: the silent steps can only come last
                paths = deeper
            return ends

        def reduced(state: Any) -> list[tuple[Action, Any]]:
            out: list[tuple[Action, Any]] = []
            silent: dict[Hashable, list[tuple[Action, Any]]] = {}
            for action, after in successors(state):
                owner = mover(state, action, after)
                if owner is None:
                    out.append((action, after))
                else:
                    silent.setdefault(owner, []).append((action, after))
            if not silent:
                stats.full += 1
                return out
            stats.reduced += 1
            for owner, firsts in silent.items():
                ends = transactions(state, owner, firsts, walk)
                stats.transactions += len(ends)
                out.extend((label(path), v) for v, path in ends.items())
            return out

        return reduced

    # -- the loop's queue of transactions longer than one step ----------------------------------------
    def steps_in(self, action: Action) -> int:
        """How many steps of the model an edge of the reduced graph is (1, or a transaction's length)."""
        path = self._steps.get(action)
        return 1 if path is None else len(path)

    def wait(self, level: int, parent: int, action: Action, state: Any) -> None:
        """Hold a transaction's end state until the search reaches ``level``, its depth in steps."""
        self._waiting.setdefault(level, []).append((parent, action, state))

    def arriving(self, level: int) -> list[tuple[int, Action, Any]]:
        """The held states whose depth in steps is ``level``: they join that level of the search."""
        return self._waiting.pop(level, [])

    def waiting(self) -> bool:
        """Whether some held state has not joined its level yet."""
        return bool(self._waiting)

    def any_waiting(self, new: Callable[[Any], bool]) -> bool:
        """Whether some held state is ``new``."""
        return any(new(t) for held in self._waiting.values() for _, _, t in held)

    def spelled_out(self, trace: Trace[Any]) -> Trace[Any]:
        """``trace`` with each transaction replaced by its steps and the states between them.

        Raises
        ------
        InvalidModel
            When a step of a transaction is not enabled on replay (a model whose
            successors changed between two calls).
        """
        if not any(step.action in self._steps for step in trace.steps[1:]):
            return trace
        model = self.model
        out: list[Step[Any]] = [trace.steps[0]]
        for step in trace.steps[1:]:
            path = self._steps.get(step.action) if step.action is not None else None
            if path is None:
                out.append(step)
                continue
            state = out[-1].state
            for k, a in enumerate(path):
                following = next((t for b, t in model.successors(state) if b == a), None)
                if following is None:  # pragma: no cover - only a nondeterministic model gets here
                    raise InvalidModel(f"model {model.name!r}: replaying the transaction {step.action}, step "
                                       f"{a} is not enabled; the model's successors must be deterministic")
                state = step.state if k == len(path) - 1 else following
                out.append(Step(a, state))
        return Trace(tuple(out))



def resolve_movers(model: Model[Any], steps: list[Property[Any]]) -> tuple[Movers | None, list[str]]:
    """The reduction by movers for a run, or ``None`` with a one-line notice saying why it cannot apply.

    >>> from quorumcheck.models import RaftModel
    >>> resolve_movers(RaftModel(), [])[1]  # doctest: +ELLIPSIS
    ['reduction by movers: model raft names no silent steps (Model.right_mover), so every state is ...']
    """
    if type(model).right_mover is Model.right_mover:
        return None, [f"reduction by movers: model {model.name} names no silent steps (Model.right_mover), so every "
                      "state is expanded in full"]
    why = model.movers_off()
    if why is not None:
        return None, [f"reduction by movers is off: {why}"]
    local = [p.name for p in steps if not p.node_local]
    if local:
        return None, [f"reduction by movers is off: it preserves state invariants, reachability and action "
                      f"properties that judge one node at a time, not {', '.join(local)}; check those with "
                      "--no-reduction"]
    return Movers(model), []
