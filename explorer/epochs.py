"""Epoch schedules: a coarser search for the deep bugs of message-passing systems.

The bugs that matter in Raft are deep: Figure 8 needs three elections, two leaders that each
append an entry nobody else hears of, and a third election that replicates the old entry to just
one follower. Every interleaving of every message up to that depth is far beyond any exhaustive
search, and uniformly random schedules almost never hold the right messages back at the right
time. What such a schedule *is*, though, is short in other terms: a handful of **epochs**, in each
of which one thing happens (a node's timer fires, a client request arrives, a node restarts) and
then the messages among some group of nodes are delivered until none is left, while every message
to or from a node outside the group waits in the network. That is the picture Jepsen's nemesis
draws with partitions, and Figure 8 is five such epochs.

:class:`EpochModel` makes those epochs the steps of a model of their own, so the one breadth-first
search (:func:`quorumcheck.explorer.explore`) explores them exhaustively: every trigger, every
group, to a given number of epochs, with epoch-end states deduplicated. Within an epoch the messages
are delivered in the network's own order, one at a time, and every intermediate state is judged
(an epoch stops at the first state that violates a safety property, at a state outside the model's
bound, and after :data:`MAX_DELIVERIES` deliveries). A violation found this way is expanded back to
the concrete schedule of the underlying model (:meth:`EpochModel.concrete_labels`), which replays,
shrinks and renders like any other.

Some bugs need a reply to arrive late: a follower's acknowledgement, sent before the leader appended an
entry, that the leader counts only afterwards. Every epoch among a group delivers the replies too, so
with ``one_way=k`` a schedule may also take up to ``k`` **one-way** epochs, in which only one node's
messages to one other are delivered (``among="n1→n0"``): an asymmetric partition, also one of Jepsen's.
They widen the search (about threefold per one-way epoch allowed), so the student search runs them
second, after the epochs among groups found nothing.

With ``merge`` (a summary of a state, for student code what the observation contract reads from every
node as a multiset), epoch-end states with one summary count as one, and the search keeps the first it
meets: its levels stay narrow enough to reach depths the plain search cannot (Figure 8 with five nodes).

It is an under-approximation, not a reduction: orders of delivery inside an epoch other than the
network's one are not tried, so "no violation" here proves nothing. Its job is to reach depth; the
exhaustive search (every interleaving, up to a smaller depth) and random schedules cover the rest.

The underlying model offers four things (:class:`quorumcheck.models.actor_model.ActorModel` does, for
student code, and so does :class:`quorumcheck.models.RaftModel`, for ``check raft --search epochs``):
``epoch_nodes`` (how many nodes), ``deliveries(state)`` (each enabled delivery as ``(sender,
receiver, label, successor)``), ``actor_of(action)`` (the node a non-delivery step belongs to, or
``None``), and optionally ``unobservable(before, after)`` (a step that changed nothing a property
reads, so its state need not be judged) and ``keeps_delivered`` (true when a delivered message stays in
flight, as on a network that may deliver it again: an epoch then delivers each message once).

Examples
--------
Two nodes that each count the pings they got; a node's timer sends a ping to the other. The
property claims, wrongly, that the two are never both pinged; two epochs refute it.

>>> from quorumcheck.models import Action, Model, always
>>> class Pings(Model):
...     name = "pings"
...     epoch_nodes = 2
...     def init_states(self):  # (pings got by n0, by n1, timers armed, messages in flight)
...         return [(0, 0, (True, True), ())]
...     def deliveries(self, s):
...         for k, dst in enumerate(s[3]):
...             got = list(s[:2]); got[dst] += 1
...             rest = s[3][:k] + s[3][k + 1:]
...             yield 1 - dst, dst, Action("Deliver", to=dst), lambda got=got, rest=rest: (*got, s[2], rest)
...     def actor_of(self, action):
...         return action.args.get("node")
...     def successors(self, s):
...         out = [(a, make()) for _, _, a, make in self.deliveries(s)]
...         for i in (0, 1):
...             if s[2][i]:
...                 armed = tuple(False if j == i else t for j, t in enumerate(s[2]))
...                 out.append((Action("Timer", node=i), (s[0], s[1], armed, s[3] + (1 - i,))))
...         return out
...     def properties(self):
...         return [always("not-both", lambda s: not (s[0] and s[1]))]
>>> from quorumcheck.explorer import explore
>>> model = Pings()
>>> epochs = EpochModel(model, model.properties())
>>> result = explore(epochs)
>>> result.violation.property, [str(a) for a in result.violation.trace.actions]
('not-both', ['Epoch(first=Timer(node=0), among={n0, n1})', 'Epoch(first=Timer(node=1), among={n0, n1})'])
>>> epochs.concrete_labels(result.violation.trace)
['Timer(node=0)', 'Deliver(to=1)', 'Timer(node=1)', 'Deliver(to=0)']
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

from quorumcheck.errors import InvalidParameter
from quorumcheck.models.api import Action, Expectation, Model, Property, always

from .result import Trace

__all__ = ["MAX_DELIVERIES", "EpochModel", "EpochState"]

MAX_DELIVERIES = 200
"""The most deliveries one epoch makes before it ends anyway (a group that keeps talking forever)."""


class EpochState(NamedTuple):
    """A state of the underlying model at the end of an epoch."""

    state: Any
    """The underlying model's state."""
    broken: str | None = None
    """The action property that a step inside the epoch violated (the epoch ended there), or ``None``."""
    one_way: int = 0
    """How many one-way epochs the schedule to this state took."""
    merged: Hashable = None
    """With :class:`EpochModel`'s ``merge``: what the state is compared and hashed by (with ``broken`` and
    ``one_way``) instead of ``state``, so that the search keeps the first state of each class; ``None``: the
    state itself."""

    def _identity(self) -> tuple[Any, ...]:
        return tuple(self) if self.merged is None else (self.merged, self.broken, self.one_way)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EpochState) and self._identity() == other._identity()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._identity())


def _node_set(mask: int, n: int) -> str:
    return "{" + ", ".join(f"n{i}" for i in range(n) if mask >> i & 1) + "}"


Route = tuple[int, int]
"""Which deliveries an epoch makes: those whose sender is in the first node mask and receiver in the second."""


def _route_name(route: Route, n: int) -> str:
    src, dst = route
    if src == dst:
        return _node_set(src, n)
    return f"{_node_set(src, n)[1:-1]}→{_node_set(dst, n)[1:-1]}"


class EpochModel(Model[EpochState]):
    """The epochs of a message-passing model, as a model whose steps are whole epochs.

    An epoch is one *trigger* -- any enabled step of the underlying model that is not a delivery
    (a timer firing, a client request, a restart, a fault) -- followed by delivering every message
    whose sender and receiver are both in a *group* of nodes, in the network's order, until there is
    none. A group has two nodes or more, and contains the node the trigger belongs to; after a trigger
    that belongs to no node (a lost or duplicated message) every node is in the group, since holding
    messages back is what groups are for, and a held message is already as good as lost for a while.
    An epoch without a trigger (``Settle``) delivers among any group: the messages that waited while
    the network was split. (A one-node group, "the trigger's
    messages all wait", is left out: it doubled the epochs searched for Raft's Figure 8, and a later
    epoch among other nodes reaches most of what it would.)

    Parameters
    ----------
    model : Model
        The underlying model; see the module's docstring for what it must offer.
    safety : sequence of Property
        The properties judged: invariants (``always``) on every state an epoch passes through, and
        action properties on every step it takes. Reachability properties are ignored: an epoch
        search proves nothing, so it never reports that something was reached or not.
    max_deliveries : int
        The most deliveries in one epoch.
    one_way : int
        Up to this many epochs of a schedule may be *one-way*: after the trigger, only the messages
        from one node to one other are delivered (``among="n1→n0"``), while the replies wait. That is
        an asymmetric partition, and what a bug needs that counts on a reply arriving late: a stale
        acknowledgement that reaches a leader only after it appended more. Each one-way epoch a
        schedule may take multiplies the epoch-end states at a given depth by about three.
    merge : callable, optional
        A summary of an underlying state (for student code: what the protocol's observation contract reads
        from every node as a multiset, the budgets spent and the partition). Epoch-end states with one
        summary count as one: the search keeps the first it met and drops the others, so its levels stay
        narrow enough to go deep (Raft's Figure 8 with five nodes is six epochs, beyond the plain search's
        reach). It is a heuristic, not a reduction: the states dropped may differ in messages in flight or
        in what a node keeps beyond what is observed, and what they would lead to is not tried.

    Examples
    --------
    See the module's docstring.
    """

    def __init__(self, model: Model[Any], safety: Iterable[Property[Any]], *,
                 max_deliveries: int = MAX_DELIVERIES, one_way: int = 0,
                 merge: Callable[[Any], Hashable] | None = None) -> None:
        for hook in ("epoch_nodes", "deliveries", "actor_of"):
            if not hasattr(model, hook):
                raise InvalidParameter(f"model {getattr(model, 'name', model)!r} is not message passing (no nodes that "
                                       "deliver messages to each other), so it cannot be searched by epochs; epochs "
                                       "take student code or the built-in raft: drop --search epochs")
        self.base = model
        self.name = getattr(model, "name", "epochs")
        props = list(safety)
        self._invariants = [p for p in props if p.expectation is Expectation.ALWAYS]
        self._step_props = [p for p in props if p.expectation is Expectation.EVERY_STEP]
        # A step that changed nothing a property reads keeps every node-local action property (each node's
        # own before and after, true for a node that did not change): only the others are judged on it.
        self._judged_when_unobservable = [p for p in self._step_props if not p.node_local]
        self.max_deliveries = max_deliveries
        n = int(model.epoch_nodes)  # type: ignore[attr-defined]
        self.n = n
        self.one_way = one_way
        self.merge = merge
        groups: list[Route] = [(m, m) for m in range(1, 1 << n) if bin(m).count("1") >= min(2, n)]
        ways: list[Route] = [(1 << a, 1 << b) for a in range(n) for b in range(n) if a != b] if one_way else []
        self._with = {i: [g for g in groups if g[0] >> i & 1] for i in range(n)}
        self._ways = {i: [g for g in ways if (g[0] | g[1]) >> i & 1] for i in range(n)}
        everyone = (1 << n) - 1
        self._any = [(everyone, everyone)]  # a trigger of no node's (a lost or duplicated message): everyone talks
        self._settle = groups if n > 1 else []
        self._settle_ways = ways
        self._routes = {_route_name(g, n): g for g in groups + ways}
        self._names = {g: name for name, g in self._routes.items()}
        self._names.update({g: _route_name(g, n) for g in self._any})
        self._unobservable = getattr(model, "unobservable", None)
        self._bounded = model.has_boundary

    def settings(self) -> dict[str, Any]:
        return self.base.settings()

    def init_states(self) -> Iterable[EpochState]:
        return [EpochState(s) if self._violates(s) else self._kept(s) for s in self.base.init_states()]

    def _kept(self, s: Any) -> EpochState:
        """An epoch-end state that violates no invariant, with its summary when states are merged (a violating
        state gets none: it is never dropped as a duplicate)."""
        return EpochState(s) if self.merge is None else EpochState(s, merged=self.merge(s))

    def within_boundary(self, state: EpochState) -> bool:
        return self.base.within_boundary(state.state)

    def properties(self) -> list[Property[EpochState]]:
        """The invariants, judged on epoch-end states, and one invariant per action property.

        An epoch ends at the first state that violates an invariant, so judging epoch-end states
        judges every state an epoch passed through.
        """
        props: list[Property[EpochState]] = []
        for p in self._invariants:
            props.append(always(p.name, (lambda s, p=p: p.holds(s.state)), p.description,
                                explain=(lambda s, p=p: p.explain(s.state))))  # type: ignore[misc]
        for p in self._step_props:
            props.append(always(p.name, (lambda s, name=p.name: s.broken != name), p.description))
        return props

    # -- the steps ---------------------------------------------------------------------------------------
    def successors(self, state: EpochState) -> list[tuple[Action, EpochState]]:
        if state.broken is not None:
            return []
        s, used = state.state, state.one_way
        more = used < self.one_way  # may this schedule take one more one-way epoch?
        # Each distinct end once, by the epoch that took the fewest one-way epochs to reach it.
        best: dict[EpochState, tuple[Action, EpochState]] = {}

        def add(name: str, args: dict[str, Any], end: EpochState, route: Route) -> None:
            taken = used + (route[0] != route[1])
            kept = best.get(end)
            if kept is None or kept[1].one_way > taken:
                best[end] = (Action(name, **args, among=self._names[route]),
                             end._replace(one_way=taken) if taken else end)

        for action, make, routes in self.epoch_choices(s, one_way=more):
            if action is None or make is None:  # Settle: the messages that waited, along each route
                for route in routes:
                    end = self._run(s, None, s, route, None)
                    if end.state is not s:
                        add("Settle", {}, end, route)
                continue
            after = make()
            for route in routes:
                add("Epoch", {"first": str(action)}, self._run(s, action, after, route, None), route)
        return list(best.values())

    def _triggers(self, s: Any) -> list[tuple[Action, Any]]:
        """The enabled steps that are not deliveries, each with a function computing its successor."""
        delivered = {label for _, _, label, _ in self.base.deliveries(s)}  # type: ignore[attr-defined]
        enabled = getattr(self.base, "enabled", None)
        if enabled is not None:
            return [(a, make) for a, make in enabled(s) if a not in delivered]
        return [(a, (lambda t=t: t)) for a, t in self.base.successors(s) if a not in delivered]

    def _run(self, before: Any, trigger: Action | None, s: Any, route: Route, labels: list[str] | None) -> EpochState:
        """One epoch from ``before``: the trigger (already taken: ``s``), then deliveries along ``route``."""
        base, unobservable = self.base, self._unobservable
        if trigger is not None:
            if labels is not None:
                labels.append(str(trigger))
            broken = self._broken_step(before, s)
            if broken is not None:
                return EpochState(s, broken)
            if self._violates(s):
                return EpochState(s)
        # Every state the epoch passes through is judged (or changed nothing judged), so an end reached without a
        # violation is kept (_kept).
        # A network that keeps what it delivered would offer the same message again and again: once per epoch.
        taken: set[Action] | None = set() if getattr(base, "keeps_delivered", False) else None
        for _ in range(self.max_deliveries):
            if self._bounded and not base.within_boundary(s):
                return self._kept(s)
            step = self.next_delivery(s, route, taken)
            if step is None:
                break
            label, make = step
            if taken is not None:
                taken.add(label)
            after = make()
            if labels is not None:
                labels.append(str(label))
            quiet = unobservable is not None and unobservable(s, after)
            broken = self._broken_step(s, after, self._judged_when_unobservable if quiet else self._step_props)
            if broken is not None:
                return EpochState(after, broken)
            if not quiet and self._violates(after):
                return EpochState(after)
            s = after
        return self._kept(s)

    def next_delivery(self, s: Any, route: Route, taken: set[Action] | None = None
                      ) -> tuple[Action, Callable[[], Any]] | None:
        """The delivery an epoch along ``route`` takes next in ``s`` (the network's order), or None; ``taken``:
        deliveries this epoch made already, on a network that keeps what it delivered."""
        senders, receivers = route
        return next(((label, make) for src, dst, label, make in self.base.deliveries(s)  # type: ignore[attr-defined]
                     if senders >> src & 1 and receivers >> dst & 1 and (taken is None or label not in taken)), None)

    def epoch_choices(self, s: Any, one_way: bool = False
                      ) -> list[tuple[Action | None, Callable[[], Any] | None, list[Route]]]:
        """Every way an epoch can start in ``s``: each trigger with the routes open to it, then ``Settle``
        (no trigger, ``None``) with every group; with ``one_way``, the one-way routes too. The search's
        :meth:`successors` takes every choice; random walks over epochs (``test --strategy epochs``) one."""
        out: list[tuple[Action | None, Callable[[], Any] | None, list[Route]]] = []
        for action, make in self._triggers(s):
            node = self.base.actor_of(action)  # type: ignore[attr-defined]
            out.append((action, make, self._any if node is None
                        else self._with[node] + (self._ways[node] if one_way else [])))
        settle = self._settle + (self._settle_ways if one_way else [])
        if settle:
            out.append((None, None, settle))
        return out

    def _violates(self, state: Any) -> bool:
        return any(not p.holds(state) for p in self._invariants)

    def _broken_step(self, before: Any, after: Any, judged: list[Property[Any]] | None = None) -> str | None:
        for p in self._step_props if judged is None else judged:
            if not p.holds_on_step(before, after):
                return p.name
        return None

    # -- back to the underlying model ------------------------------------------------------------------
    def concrete_labels(self, trace: Trace[EpochState]) -> list[str]:
        """The underlying model's action labels that the epochs of ``trace`` took, in order.

        Each epoch is run again from its first state (epochs are deterministic), so the labels replay
        on the underlying model step by step, e.g. with ``quorumcheck replay`` once saved.
        """
        labels: list[str] = []
        steps = trace.steps
        for before, step in zip(steps, steps[1:]):
            action = step.action
            assert action is not None
            route = self._routes[str(action.args["among"])]
            s = before.state.state
            if action.name == "Settle":
                self._run(s, None, s, route, labels)
                continue
            first = str(action.args["first"])
            trigger = next(((a, t) for a, t in self._triggers(s) if str(a) == first), None)
            if trigger is None:  # cannot happen for a trace this model produced
                raise InvalidParameter(f"epoch trigger {first} is not enabled; the trace is not from this model")
            self._run(s, trigger[0], trigger[1](), route, labels)
        return labels

