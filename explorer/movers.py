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
another node moves next. This plug-in of the one breadth-first loop changes
how a state is expanded: where a step is silent, its node moves on at once
(its deliveries, timers, requests, restarts, the losses and copies of its
messages), until it takes a step that is not silent; that whole run is one
*transaction*, one edge of the search, and only its end state is stored and
checked. The search builds a transaction one step per level, so its end joins
the level of its depth in steps. A silent step after which its node has
nothing to do is dropped: it can only come last. Lipton (1975) and Flanagan
and Qadeer's transactions (2003) reduce shared-memory programs the same way;
docs/partial-order.md gives the argument for messages, and how the bound and
the fault budgets are treated.

What is kept: every combination of property answers that some reachable state
has (so every verdict, every violated property and every witness), shortest
counterexamples, and every counterexample is a real schedule of the unreduced
model (transactions are spelled out step by step). What changes: the counts,
which are those of the reduced graph.

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

from collections.abc import Callable, Hashable, Iterator
from typing import Any

from quorumcheck.errors import InvalidModel
from quorumcheck.models.api import Action, Model, Property

from .por import PorStats
from .result import Step, Trace

__all__ = ["Movers", "resolve_movers"]

_Held = tuple[int, Hashable, Any, int, tuple[Action, ...], Any]
"""A transaction under way: (tag, its node, the state passed through, the stored state it began in, its steps, the
state before its last step)."""

TRANSACTION = "Steps"
"""The name of a transaction's label; its ``of`` argument lists the steps, ``" ; "`` between them."""


class Movers:
    """The reduction by right movers, as a plug-in of the breadth-first loop (how a state is expanded).

    Parameters
    ----------
    model : Model
        Must override :meth:`~quorumcheck.models.api.Model.right_mover` and
        :meth:`~quorumcheck.models.api.Model.step_actor` (and may override
        ``actor_steps`` to compute only one actor's steps).
    fingerprint : callable, optional
        With a fingerprint store: the states met inside transactions are remembered by
        this 64-bit fingerprint of ``(node, state)`` instead of as objects, so that they
        cost what the store's states cost.
    """

    def __init__(self, model: Model[Any], fingerprint: Callable[[Any], int] | None = None) -> None:
        self.model = model
        self.stats = PorStats(method="movers")
        self._steps: dict[Action, tuple[Action, ...]] = {}  # a transaction's label -> its steps
        # depth -> the transactions under way there, in the order they were met (see take())
        self._held: dict[int, list[_Held]] = {}
        self._met: set[Hashable] = set()  # the mark of every (node, state passed through) held so far
        self._fingerprint = fingerprint
        self._made_for: dict[tuple[Action, ...], Action] = {}
        self._successors = model.successors

    def _mark(self, owner: Hashable, state: Any) -> Hashable:
        """What the search remembers of a state met inside ``owner``'s transaction: the pair, or its fingerprint."""
        return (owner, state) if self._fingerprint is None else self._fingerprint((owner, state))

    # -- the two halves of a transaction step, shared by the search and by re-execution ----------------
    def _split(self, state: Any) -> tuple[list[tuple[Action, Any]], dict[Hashable, list[tuple[Action, Any]]]]:
        """The steps of ``state`` that are not silent, and the silent ones grouped by their node."""
        mover = self.model.right_mover
        loud: list[tuple[Action, Any]] = []
        silent: dict[Hashable, list[tuple[Action, Any]]] = {}
        for action, after in self._successors(state):
            owner = mover(state, action, after)
            if owner is None:
                loud.append((action, after))
            else:
                silent.setdefault(owner, []).append((action, after))
        return loud, silent

    def _next(self, owner: Hashable, state: Any) -> Iterator[tuple[Action, Any, bool]]:
        """The steps of ``owner`` from a state inside its transaction: ``(step, successor, silent)``.

        Only the node's own steps: any other commutes with the silent steps before it, so it is taken from
        the state where the transaction began instead.
        """
        mover = self.model.right_mover
        for b, v in self.model.actor_steps(state, owner):
            yield b, v, mover(state, b, v) == owner

    def whole(self, state: Any) -> list[tuple[Action, Any]]:
        """The steps of ``state`` with each transaction taken whole: the reduced graph's edges at once.

        The search builds transactions one step per level (:meth:`expand`, :meth:`take`, :meth:`advance`); this form
        re-executes a trace from the fingerprint store, and counts nothing in :attr:`stats`. Each state
        inside a transaction is met once, breadth-first, so each end is reached by its shortest run.
        """
        out, silent = self._split(state)
        for owner, firsts in silent.items():
            level = [((a,), t) for a, t in firsts]
            met = {t for _, t in firsts}
            ends: dict[Any, tuple[Action, ...]] = {}
            while level:
                deeper = []
                for path, u in level:
                    for b, v, quiet in self._next(owner, u):
                        if not quiet:
                            ends.setdefault(v, (*path, b))
                        elif v not in met:
                            met.add(v)
                            deeper.append(((*path, b), v))
                level = deeper
            out.extend((self._label(path), v) for v, path in ends.items())
        return out

    # -- transactions built one step per level, as the loop goes -------------------------------------
    def expand(self, node: int, state: Any, depth: int, tag: int = 0) -> list[tuple[Action, Any]]:
        """The steps of ``state`` (stored as ``node``, at ``depth``) that are not silent, with their successors.

        Each silent step begins a transaction: its state is held for the next level (:meth:`take`,
        :meth:`advance`), neither stored nor checked. ``tag`` (the number the next stored state will get) places
        it among the next level's stored states: the loop takes it up where breadth-first search would have
        met it, before the states stored after it.
        """
        out, silent = self._split(state)
        met, mark = self._met, self._mark
        held: list[_Held] | None = None
        for owner, firsts in silent.items():
            for action, after in firsts:
                m = mark(owner, after)
                if m not in met:
                    met.add(m)
                    self.stats.met += 1
                    if held is None:
                        held = self._held.setdefault(depth + 1, [])
                    held.append((tag, owner, after, node, (action,), state))
        if silent:
            self.stats.reduced += 1
        else:
            self.stats.full += 1
        return out

    def take(self, depth: int) -> list[_Held]:
        """The transactions under way at ``depth``, in the order they were met: ``(tag, node, state, the stored
        state the transaction began in, its steps so far, the state before the last of them)``, to be taken up
        with :meth:`advance`."""
        return self._held.pop(depth, [])

    def advance(self, held: _Held, depth: int, tag: int) -> list[tuple[int, Any, Action, Any]]:
        """One transaction under way at ``depth`` takes its node's next steps: the transactions that end at
        ``depth + 1``, as ``(node, before, label, state)`` (``node`` began it, ``before`` is the state before its
        last step); the silent steps are held for the next level, with ``tag``."""
        _, owner, u, node, path, before = held
        stats, met, mark = self.stats, self._met, self._mark
        stats.passed += 1  # a state passed through, never stored
        ends = []
        taken = False
        for b, v, quiet in self._next(owner, u):
            taken = True
            if not quiet:
                if self._covered(owner, before, path[-1], b, v):
                    stats.covered += 1
                    continue
                stats.transactions += 1
                ends.append((node, u, self._label((*path, b)), v))
            else:
                m = mark(owner, v)
                if m not in met:
                    # Met before is met by a run as short: breadth-first, and on a network that keeps its
                    # messages a node's silent steps can go round in a circle.
                    met.add(m)
                    stats.met += 1
                    self._held.setdefault(depth + 1, []).append((tag, owner, v, node, (*path, b), u))
        if not taken:
            stats.dropped += 1  # nothing follows: the silent steps can only come last
        return ends

    def holding(self) -> bool:
        """Whether some transaction is still under way."""
        return any(self._held.values())

    def held_ends(self, depth: int) -> Iterator[Any]:
        """The states in which the transactions under way at ``depth`` and those begun there end, however many
        silent steps on, except those a shorter transaction covers (:meth:`_covered`); for a cut at
        ``--max-depth``: the run was cut only if one of them is new. The states passed through on the way are
        never stored, so they say nothing.

        Which transactions the search finds covered depends on the run that first met each state inside them, so
        this tries every run it meets: a state reached in several ways is taken up once, at its first level, with
        every (state before, last step) it was reached by at that level."""
        ways: dict[tuple[Hashable, Any], list[tuple[Any, Action]]] = {}

        def meet(into: dict[tuple[Hashable, Any], None], owner: Hashable, state: Any, way: tuple[Any, Action]) -> None:
            key = (owner, state)
            if key not in ways:
                ways[key] = []
                into[key] = None
            if key in into:  # a way of the state's first level
                ways[key].append(way)

        level: dict[tuple[Hashable, Any], None] = {}
        for _, owner, u, _, path, before in self._held.get(depth, ()):
            meet(level, owner, u, (before, path[-1]))
        begun = self._held.get(depth + 1, ())  # begun at this level: their states are one level deeper
        while level or begun:
            deeper: dict[tuple[Hashable, Any], None] = {}
            for _, owner, u, _, path, before in begun:
                meet(deeper, owner, u, (before, path[-1]))
            begun = ()
            for key in level:
                owner, x = key
                for b, v, quiet in self._next(owner, x):
                    if quiet:
                        meet(deeper, owner, v, (x, b))
                    elif not any(self._covered(owner, previous, last, b, v) for previous, last in ways[key]):
                        yield v
            level = deeper

    def _covered(self, owner: Hashable, before: Any, last: Action, step: Action, end: Any) -> bool:
        """Whether the transaction that ends with ``last`` (silent) and ``step`` (not) in ``end`` needs no state of
        its own: ``step`` taken in ``before``, the state before ``last``, ends the transaction without ``last``
        there, and ``last`` after it is still silent and reaches ``end``.

        Both orders are computed (the calls are the model's, cached), not assumed: ``end`` is then the state of that
        shorter transaction with ``last`` still pending, which changes nothing a property reads, and the node takes
        ``last`` in a transaction of its next step (docs/partial-order.md). So the two steps of one node commute
        here, say by touching different attributes, as a Paxos node's learner and acceptor do.
        """
        model = self.model
        shorter = model.next_state(before, step)
        if shorter is None or model.right_mover(before, step, shorter) is not None:
            return False  # not enabled there, or silent there: that transaction does not end in it
        again = model.next_state(shorter, last)
        return again is not None and again == end and model.right_mover(shorter, last, again) == owner

    def _label(self, path: tuple[Action, ...]) -> Action:
        made = self._made_for.get(path)
        if made is None:
            made = self._made_for[path] = Action(TRANSACTION, of=" ; ".join(map(str, path)))
            if self._steps.setdefault(made, path) != path:  # pragma: no cover - two steps with one printed form
                raise InvalidModel(f"model {self.model.name!r}: two different steps print as {made}; actions "
                                   "must print distinctly for the reduction by movers")
        return made

    def steps_in(self, action: Action) -> int:
        """How many steps of the model an edge of the reduced graph is (1, or a transaction's length)."""
        path = self._steps.get(action)
        return 1 if path is None else len(path)

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



def resolve_movers(model: Model[Any], steps: list[Property[Any]],
                   fingerprint: Callable[[Any], int] | None = None) -> tuple[Movers | None, list[str]]:
    """The reduction by movers for a run, or ``None`` with a one-line notice saying why it cannot apply.

    ``fingerprint`` (with a fingerprint store) is how the states met inside transactions are remembered.

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
                      f"properties that judge one node at a time, not {', '.join(local)}, so every "
                      "interleaving is searched"]
    return Movers(model, fingerprint), []
