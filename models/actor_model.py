"""Student code as a :class:`~quorumcheck.models.Model`: nodes, a named network, bounded faults.

:class:`ActorModel` turns node classes written with the actor API
(:mod:`quorumcheck.models.actors`) into a model the one explorer
(:func:`quorumcheck.explorer.explore`) searches exhaustively and the random
mode (:mod:`quorumcheck.studenttest`) samples. A state (:class:`ActorState`) is
every node's snapshot, the armed timers, the messages in flight, what the
observation contract read from each node, the history the properties need,
the fault budget used, the current partition, and -- after a handler failed --
the failure. The actions are:

``Deliver(from=n0, to=n1, msg=...)``
    a message in flight is handled by ``on_message`` (any message in an
    unordered network, the oldest of its channel in an ordered one);
``Timer(node=n0, timer=election)``
    an armed timer fires (``on_timer``); at most ``max_timeouts`` in a run;
``Request(node=n0, value='v1')``
    a client request (``on_request``), at most ``requests`` in a run, carrying
    ``'v1'``, ``'v2'``, ... in turn (Raft: only to a node that is leader);
``Drop(...)``, ``Duplicate(...)``, ``Restart(node=n1)``, ``Partition(groups=...)``, ``Heal()``
    faults, each bounded: a message is lost; a message in flight gets a
    second copy (for the ordered network, at the end of its channel); a node crashes and restarts
    (its ``durable`` attributes survive, the rest is rebuilt by ``__init__``
    and ``on_start``); the nodes split in two groups that cannot exchange
    messages until the partition heals.

Every handler call runs contained (:mod:`quorumcheck.models.sandbox`): an
exception, a call that exceeds ``handler_timeout``, or a handler whose effect
differs when run twice on the same input moves to a failure state that
violates ``handlers-do-not-crash``, ``handlers-terminate`` or
``handlers-are-deterministic``, so the search reports it with the shortest
schedule that triggers it.

Examples
--------
>>> from quorumcheck.models.actors import Node
>>> from quorumcheck.explorer import explore
>>> class Pinger(Node):
...     def __init__(self):
...         self.pongs = 0
...     def on_start(self, out):
...         if self.id == 0:
...             out.broadcast("ping")
...     def on_message(self, sender, message, out):
...         if message == "ping":
...             out.send(sender, "pong")
...         else:
...             self.pongs += 1
>>> r = explore(ActorModel(Pinger, nodes=3))
>>> r.verdict.value, r.distinct_states
('holds', 9)
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import itertools
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from quorumcheck.errors import InvalidParameter, InvalidStudentCode

from .actors import (
    Node,
    Out,
    Snapshotter,
    network_named,
    new_node,
    node_name,
    restore_node,
    show,
    snapshot_node,
)
from .api import Action, Model, Property, StepEvents, always
from .observe import Contract, contract_named
from .sandbox import CONTAINMENT_PROPERTIES, HandlerFailure, call_contained, time_limit

__all__ = ["ActorModel", "ActorState", "find_node_classes", "load_student_file"]


class ActorState(NamedTuple):
    """One state of an actor system (all parts are canonical and hashable)."""

    nodes: tuple[tuple[Any, ...], ...]
    """Per node, its snapshot: ``((attribute, frozen value), ...)`` sorted by attribute."""
    timers: tuple[tuple[str, ...], ...]
    """Per node, its armed timers, sorted."""
    network: tuple[Any, ...]
    """The messages in flight: ``(sender, receiver, text, frozen message)`` sorted (a bag, or a set when
    duplicating); for an ordered network ``(sender, receiver, ((text, frozen), ...))`` per channel."""
    observed: tuple[Hashable, ...]
    """Per node, what the observation contract read from it after its last step."""
    history: Hashable
    """What the protocol's properties need of the past (every vote, every election)."""
    budget: tuple[int, ...]
    """Used so far: timer firings, client requests, drops, crashes, partitions, duplicates."""
    partition: int
    """A bit mask of one side of the current partition; 0 when there is none."""
    failure: tuple[str, str] | None
    """``(property, text)`` after a handler failed; such a state has no successors."""


TIMEOUTS, REQUESTS, DROPS, CRASHES, PARTITIONS, DUPLICATES = range(6)
_BUDGET_NAMES = ("timeouts", "requests", "drops", "crashes", "partitions", "duplicates")


@dataclass(frozen=True)
class _Outcome:
    """What one handler call did (cached per node, node snapshot and event)."""

    snapshot: tuple[Any, ...]
    sends: tuple[tuple[int, str, Hashable], ...]
    timers: tuple[tuple[str, str], ...]
    observation: Hashable
    failure: tuple[str, str] | None = None


class ActorModel(Model[ActorState]):
    """Node classes written with the actor API, explored as a model.

    Parameters
    ----------
    node : Node subclass or sequence of them
        One class for every node (with ``nodes``), or the class of each node.
    nodes : int, optional
        How many nodes, when ``node`` is one class (default 3).
    protocol : {"paxos", "raft", "none"}
        Which observation contract and standard properties apply.
    network : {"unordered", "unordered-duplicating", "ordered"}
        The network semantics (:data:`quorumcheck.models.actors.NETWORKS`).
    requests : int
        Client requests in a run; request ``k`` carries the value ``f"v{k}"``.
    max_timeouts : int
        Timer firings in a run (this bounds elections and retries).
    max_drops, max_crashes, max_partitions, max_duplicates : int
        Fault budgets: lost messages, crash-restarts, partitions, and extra copies of a message in
        flight (``Duplicate``; the ``unordered-duplicating`` network needs none: it redelivers anyway).
    max_term : int
        Raft only: states where a term exceeds it are checked but not expanded.
    handler_timeout : float
        Seconds one handler call may take before it is a ``handlers-terminate`` finding.
    check_determinism : bool
        Run every new handler call twice and report a difference.
    evaluator : {"z3", "python"}, optional
        What judges the standard properties; by default the faster one for the
        protocol (Z3 for Paxos, the Python evaluator for Raft).
    prefix : sequence of str, optional
        A scripted start: action labels (as traces print them) replayed from
        the initial state; the search starts where they end, and counterexamples
        count steps after it. The prefix spends the budgets like any schedule.
        Reaches bugs that need more steps than a search can cover (Figure 8).
    source : dict, optional
        Where the classes come from (``{"file": ...}`` or ``{"module": ...}`` and
        ``"classes"``), recorded in saved traces so that ``from_settings`` can
        rebuild the model.

    Examples
    --------
    >>> from quorumcheck.models.actors import Node
    >>> class Idle(Node):
    ...     pass
    >>> m = ActorModel(Idle, nodes=2)
    >>> [p.name for p in m.properties()]
    ['handlers-do-not-crash', 'handlers-terminate', 'handlers-are-deterministic', 'handlers-within-memory']
    """

    name = "actors"

    def __init__(
        self,
        node: type[Node] | Sequence[type[Node]],
        nodes: int | None = None,
        *,
        protocol: str = "none",
        network: str = "unordered",
        requests: int = 0,
        max_timeouts: int = 2,
        max_drops: int = 0,
        max_crashes: int = 0,
        max_partitions: int = 0,
        max_duplicates: int = 0,
        max_term: int = 2,
        handler_timeout: float = 1.0,
        check_determinism: bool = True,
        evaluator: str | None = None,
        source: dict[str, Any] | None = None,
        extra_properties: Sequence[Property[ActorState]] = (),
        prefix: Sequence[str] | None = None,
    ) -> None:
        self.classes = _classes(node, nodes)
        self.count = len(self.classes)
        self.protocol = protocol
        self.network = network_named(network)
        for name, value in (("requests", requests), ("max_timeouts", max_timeouts), ("max_drops", max_drops),
                            ("max_crashes", max_crashes), ("max_partitions", max_partitions),
                            ("max_duplicates", max_duplicates), ("max_term", max_term)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidParameter(f"{name} must be an integer >= 0, got {value!r}")
        if isinstance(handler_timeout, bool) or not isinstance(handler_timeout, (int, float)) or handler_timeout <= 0:
            raise InvalidParameter(f"handler_timeout must be a positive number of seconds, got {handler_timeout!r}")
        self.requests = requests
        self.values = tuple(f"v{k + 1}" for k in range(requests))
        if max_duplicates and self.network == "unordered-duplicating":
            raise InvalidParameter("max_duplicates is for the ordered and unordered networks; the "
                                   "unordered-duplicating network delivers every message any number of times already")
        self.limits = (max_timeouts, requests, max_drops, max_crashes, max_partitions, max_duplicates)
        self.max_term = max_term
        self.handler_timeout = float(handler_timeout)
        self.check_determinism = check_determinism
        self.source = dict(source) if source else _source_of(self.classes)
        self.extra_properties = tuple(extra_properties)
        self.snapshotter = Snapshotter()
        self.contract: Contract = contract_named(protocol)(
            self.classes, self.snapshotter, values=self.values, max_term=max_term,
            max_log=requests + max_timeouts, requests=requests,
            ballot_capacity=max(2, requests + max_timeouts + 1),
        )
        self.evaluator = evaluator or self.contract.evaluator
        self._frozen_values = tuple(self.snapshotter.freeze(v) for v in self.values)
        self._cache: dict[tuple[Any, ...], _Outcome] = {}
        self._labels: dict[tuple[Any, ...], Action] = {}
        self._channels: dict[Action, tuple[int, int]] = {}
        self._groups = _partition_groups(self.count)
        self._requestable = tuple(i for i, c in enumerate(self.classes) if callable(getattr(c, "on_request", None)))
        if requests and not self._requestable:
            names = ", ".join(sorted({c.__name__ for c in self.classes}))
            raise InvalidStudentCode(
                f"requests={requests} but no node class ({names}) has on_request(self, value, out); define it, "
                "or run without client requests"
            )
        self.handler_calls = 0
        """Handler calls made (cache misses; each runs twice when checking determinism)."""
        self._init: ActorState | None = None
        if prefix is not None and (isinstance(prefix, str) or not all(isinstance(x, str) for x in prefix)):
            raise InvalidParameter(f"prefix must be a list of action labels, got {prefix!r}")
        self.prefix: tuple[str, ...] = tuple(prefix or ())
        if self.prefix:
            self.init_states()  # a prefix that does not replay is an error now, not in the middle of a search

    # -- settings and rebuilding ---------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        """What rebuilds this model: where the classes come from, the protocol, network and bounds."""
        out: dict[str, Any] = dict(self.source)
        out.update({
            "protocol": self.protocol,
            "nodes": self.count,
            "network": self.network,
            "requests": self.requests,
            "max_timeouts": self.limits[TIMEOUTS],
        })
        for k, name in ((DROPS, "max_drops"), (CRASHES, "max_crashes"), (PARTITIONS, "max_partitions"),
                        (DUPLICATES, "max_duplicates")):
            if self.limits[k]:
                out[name] = self.limits[k]
        if self.protocol == "raft":
            out["max_term"] = self.max_term
        if self.handler_timeout != 1.0:
            out["handler_timeout"] = self.handler_timeout
        if self.prefix:
            out["prefix"] = list(self.prefix)
        return out

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> ActorModel:
        """Rebuild a model from :meth:`settings` (as saved in a trace file).

        Examples
        --------
        >>> import pathlib
        >>> path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "paxos.py"
        >>> m = ActorModel.from_settings({"file": str(path), "classes": ["PaxosNode"], "protocol": "paxos",
        ...                               "nodes": 3, "requests": 2})
        >>> m.settings()["protocol"], m.count
        ('paxos', 3)
        """
        options = dict(settings)
        file, module, names = options.pop("file", None), options.pop("module", None), options.pop("classes", None)
        nodes = options.pop("nodes", None)
        if file is not None:
            namespace = load_student_file(file)
        elif module is not None:
            try:
                namespace = importlib.import_module(module)
            except Exception as e:  # noqa: BLE001 - any import failure of student code is one line
                raise InvalidStudentCode(f"cannot import {module}: {type(e).__name__}: {e}") from None
        else:
            raise InvalidParameter("the settings name no 'file' or 'module' to load the node classes from")
        classes = find_node_classes(namespace, names)
        if len(classes) == 1:
            node: Any = classes[0]
        else:
            node, nodes = classes, None
        known = set(inspect.signature(cls.__init__).parameters) - {"self", "node", "nodes", "source"}
        unknown = set(options) - known
        if unknown:
            raise InvalidParameter(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        source: dict[str, Any] = {"file": str(file)} if file is not None else {"module": module}
        source["classes"] = [c.__name__ for c in (classes if len(classes) > 1 else classes[:1])]
        return cls(node, nodes, source=source, **options)

    # -- the model ----------------------------------------------------------------------------------
    def init_states(self) -> Iterable[ActorState]:
        if self._init is None:
            self._init = self._after_prefix(self._initial_state())
        return [self._init]

    def _after_prefix(self, state: ActorState) -> ActorState:
        """The state the scripted prefix reaches from ``state`` (``state`` itself without one)."""
        for k, label in enumerate(self.prefix, start=1):
            following = next((t for a, t in self.successors(state) if str(a) == label), None)
            if following is None:
                enabled = ", ".join(str(a) for a, _ in self.successors(state)) or "nothing"
                raise InvalidParameter(f"prefix step {k} {label!r} is not enabled after the steps before it; "
                                       f"enabled there: {enabled}")
            if following.failure is not None:
                raise InvalidStudentCode(f"prefix step {k} {label!r}: {following.failure[1]}")
            if not self.within_boundary(following):
                raise InvalidParameter(f"prefix step {k} {label!r} leaves the bounds (max_term={self.max_term}); "
                                       "raise the bound or shorten the prefix")
            state = following
        return state

    def _initial_state(self) -> ActorState:
        started: list[Node] = []
        for i, cls in enumerate(self.classes):
            # The contract learns each node's roles from a fresh node; a node that cannot even be built
            # is reported by the contained start below.
            call_contained(lambda: started.append(new_node(cls, i, self.count)), (),  # noqa: B023
                           time_limit=self.handler_timeout)
            if len(started) <= i:
                started.append(Node())
        self.contract.setup(started)
        outcomes = [self._outcome(i, (), ("s",)) for i in range(self.count)]
        failure = next((o.failure for o in outcomes if o.failure is not None), None)
        nodes = tuple(o.snapshot for o in outcomes)
        timers = tuple(_apply_timers((), o.timers) for o in outcomes)
        observed = tuple(o.observation for o in outcomes)
        network = self._add(self._empty(), [(i, *s) for i, o in enumerate(outcomes) for s in o.sends])
        history = self.contract.initial_history(observed) if failure is None else None
        return ActorState(nodes, timers, network, observed, history, (0,) * len(_BUDGET_NAMES), 0, failure)

    def successors(self, state: ActorState) -> list[tuple[Action, ActorState]]:
        return self._transitions(state, False)  # type: ignore[return-value]

    def enabled(self, state: ActorState) -> list[tuple[Action, Callable[[], ActorState]]]:
        """The enabled actions, each with a function computing its successor (for sampling one cheaply).

        Examples
        --------
        >>> from quorumcheck.models.actors import Node
        >>> class Tick(Node):
        ...     def on_start(self, out):
        ...         out.set_timer("tick")
        >>> m = ActorModel(Tick, nodes=2, max_timeouts=1)
        >>> s0 = next(iter(m.init_states()))
        >>> [(str(a), make().timers) for a, make in m.enabled(s0)]
        [('Timer(node=n0, timer=tick)', ((), ('tick',))), ('Timer(node=n1, timer=tick)', (('tick',), ()))]
        """
        return self._transitions(state, True)  # type: ignore[return-value]

    def _transitions(self, state: ActorState, lazy: bool) -> list[tuple[Action, Any]]:
        if state.failure is not None:
            return []
        out: list[tuple[Action, Any]] = []
        add = out.append
        budget = state.budget
        limits = self.limits
        side = state.partition
        step = self._step

        def make(*args: Any, **options: Any) -> Any:
            return partial(step, *args, **options) if lazy else step(*args, **options)

        def keep(successor: ActorState) -> Any:
            return (lambda: successor) if lazy else successor

        # Deliveries.
        for envelope, rest in self._deliverable(state.network):
            src, dst = envelope[0], envelope[1]
            if side and (side >> src & 1) != (side >> dst & 1):
                continue
            add((self._label("Deliver", envelope), make(state, dst, ("m", src, envelope[3]), rest, budget)))
        # Timers.
        if budget[TIMEOUTS] < limits[TIMEOUTS]:
            spent = _spend(budget, TIMEOUTS)
            for i, armed in enumerate(state.timers):
                for name in armed:
                    add((self._label("Timer", (i, name)),
                         make(state, i, ("t", name), state.network, spent, fired=name)))
        # Client requests.
        if budget[REQUESTS] < limits[REQUESTS]:
            value = self._frozen_values[budget[REQUESTS]]
            spent = _spend(budget, REQUESTS)
            for i in self._requestable:
                if self.contract.may_request(state.observed, i):
                    add((self._label("Request", (i, value)), make(state, i, ("r", value), state.network, spent)))
        # Faults.
        if budget[DROPS] < limits[DROPS]:
            spent = _spend(budget, DROPS)
            for envelope, rest in self._droppable(state.network):
                add((self._label("Drop", envelope), keep(state._replace(network=rest, budget=spent))))
        if budget[DUPLICATES] < limits[DUPLICATES]:
            spent = _spend(budget, DUPLICATES)
            for envelope, _ in self._droppable(state.network):
                add((self._label("Duplicate", envelope),
                     keep(state._replace(network=self._add(state.network, [envelope]), budget=spent))))
        if budget[CRASHES] < limits[CRASHES]:
            spent = _spend(budget, CRASHES)
            for i in range(self.count):
                durable = self._durable(i, state.nodes[i])
                add((self._label("Restart", (i,)),
                     make(state, i, ("c",), state.network, spent, snapshot=durable, restart=True)))
        if side == 0 and budget[PARTITIONS] < limits[PARTITIONS]:
            spent = _spend(budget, PARTITIONS)
            for mask in self._groups:
                add((self._label("Partition", (mask,)), keep(state._replace(partition=mask, budget=spent))))
        if side:
            add((self._label("Heal", ()), keep(state._replace(partition=0))))
        return out

    def within_boundary(self, state: ActorState) -> bool:
        return self.contract.within_boundary(state.observed)

    # -- one step ------------------------------------------------------------------------------------
    def _step(
        self, state: ActorState, i: int, event: tuple[Any, ...], network: tuple[Any, ...],
        budget: tuple[int, ...], *, fired: str | None = None,
        snapshot: tuple[Any, ...] | None = None, restart: bool = False,
    ) -> ActorState:
        outcome = self._outcome(i, state.nodes[i] if snapshot is None else snapshot, event)
        if outcome.failure is not None:
            return state._replace(budget=budget, failure=outcome.failure)
        if restart:
            armed: tuple[str, ...] = ()
        else:
            armed = state.timers[i]
            if fired is not None:
                armed = tuple(t for t in armed if t != fired)
        armed = _apply_timers(armed, outcome.timers)
        nodes = state.nodes[:i] + (outcome.snapshot,) + state.nodes[i + 1:]
        timers = state.timers if armed == state.timers[i] else state.timers[:i] + (armed,) + state.timers[i + 1:]
        if outcome.sends:
            network = self._add(network, [(i, *s) for s in outcome.sends])
        observed, history = state.observed, state.history
        if outcome.observation != observed[i]:
            observed = observed[:i] + (outcome.observation,) + observed[i + 1:]
            history = self.contract.record(history, i, outcome.observation)
        return ActorState(nodes, timers, network, observed, history, budget, state.partition, None)

    def _durable(self, i: int, snapshot: tuple[Any, ...]) -> tuple[Any, ...]:
        keep = self.classes[i].durable
        return tuple(item for item in snapshot if item[0] in keep)

    def _outcome(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> _Outcome:
        key = (i, snapshot, event)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        outcome = self._run(i, snapshot, event)
        if outcome.failure is None and self.check_determinism:
            again = self._run(i, snapshot, event)
            difference = _difference(outcome, again)
            if difference is not None:
                outcome = _Outcome(outcome.snapshot, (), (), outcome.observation, (
                    "handlers-are-deterministic",
                    (f"{self._call_text(i, event)} did different things when run twice on the same node state and "
                     f"input: {difference} (randomness, the clock, or module-level state?)"),
                ))
        self._cache[key] = outcome
        return outcome

    def _run(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> _Outcome:
        """Run one handler call, contained; its outcome or its failure."""
        self.handler_calls += 1
        cls, n, snap = self.classes[i], self.count, self.snapshotter
        box: list[Any] = []
        kind = event[0]

        def call() -> None:
            if kind in ("s", "c"):
                node = new_node(cls, i, n)
                for name, frozen in snapshot:  # a restart puts back the durable attributes
                    node.__dict__[name] = snap.thaw(frozen)
                out = Out(node, n, snap)
                box.append((node, out))
                node.on_start(out)
            else:
                node = restore_node(cls, i, n, snapshot, snap)
                out = Out(node, n, snap)
                box.append((node, out))
                if kind == "m":
                    node.on_message(event[1], snap.thaw(event[2]), out)
                elif kind == "t":
                    node.on_timer(event[1], out)
                else:
                    node.on_request(snap.thaw(event[1]), out)  # type: ignore[attr-defined]
            if out.error is not None:
                raise out.error
            box.append(self.contract.observe(i, node))

        failure = call_contained(call, (), time_limit=self.handler_timeout)
        if failure is not None:
            return _Outcome(snapshot, (), (), None, (failure.property, f"{self._call_text(i, event)} {_verb(failure)}"))
        (node, out), observation = box
        try:
            with time_limit(self.handler_timeout):
                frozen = snapshot_node(node, snap)
        except InvalidStudentCode as e:
            raise InvalidStudentCode(f"{e} (after {self._call_text(i, event)})") from None
        sends = tuple((dst, show(message), message) for dst, message in out.sends)
        return _Outcome(frozen, sends, tuple(out.timers), observation)

    def _call_text(self, i: int, event: tuple[Any, ...]) -> str:
        who = f"{node_name(i)} ({self.classes[i].__name__})"
        kind = event[0]
        if kind == "s":
            return f"{who} __init__/on_start"
        if kind == "c":
            return f"{who} __init__/on_start after a restart"
        if kind == "m":
            return f"{who} on_message({event[1]}, {show(event[2])})"
        if kind == "t":
            return f"{who} on_timer({event[1]!r})"
        return f"{who} on_request({show(event[1])})"

    # -- the network -----------------------------------------------------------------------------------
    def _empty(self) -> tuple[Any, ...]:
        return ()

    def _add(self, network: tuple[Any, ...], envelopes: list[tuple[int, int, str, Hashable]]) -> tuple[Any, ...]:
        if not envelopes:
            return network
        if self.network == "unordered":
            return tuple(sorted(network + tuple(envelopes)))
        if self.network == "unordered-duplicating":
            return tuple(sorted(set(network).union(envelopes)))
        channels = {(src, dst): list(queue) for src, dst, queue in network}
        for src, dst, text, message in envelopes:
            channels.setdefault((src, dst), []).append((text, message))
        return tuple((src, dst, tuple(queue)) for (src, dst), queue in sorted(channels.items()))

    def _deliverable(self, network: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """Each message that can be delivered next, with the network after delivering it."""
        if self.network == "unordered":
            previous = None
            for k, envelope in enumerate(network):
                if envelope != previous:  # equal copies lead to one state
                    yield envelope, network[:k] + network[k + 1:]
                previous = envelope
        elif self.network == "unordered-duplicating":
            for envelope in network:
                yield envelope, network
        else:
            for k, (src, dst, queue) in enumerate(network):
                text, message = queue[0]
                rest = network[:k] + ((src, dst, queue[1:]),) + network[k + 1:] if len(queue) > 1 else \
                    network[:k] + network[k + 1:]
                yield (src, dst, text, message), rest

    def _droppable(self, network: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """Each message that can be lost, with the network without it."""
        if self.network != "ordered":
            previous = None
            for k, envelope in enumerate(network):
                if envelope != previous:
                    yield envelope, network[:k] + network[k + 1:]
                previous = envelope
            return
        for k, (src, dst, queue) in enumerate(network):
            seen = set()
            for j, (text, message) in enumerate(queue):
                if (text, message) in seen:
                    continue
                seen.add((text, message))
                left = queue[:j] + queue[j + 1:]
                rest = network[:k] + ((src, dst, left),) + network[k + 1:] if left else network[:k] + network[k + 1:]
                yield (src, dst, text, message), rest

    def in_flight(self, network: tuple[Any, ...]) -> list[tuple[int, int, str, Hashable]]:
        """The messages in flight as ``(sender, receiver, text, frozen)``, in channel order."""
        if self.network != "ordered":
            return list(network)
        return [(src, dst, text, message) for src, dst, queue in network for text, message in queue]

    # -- labels ---------------------------------------------------------------------------------------
    def swarm_keys(self) -> list[tuple[int, int]]:
        """The channels ``(sender, receiver)``: random mode may slow some of them in a schedule (swarm testing)."""
        return [(src, dst) for src in range(self.count) for dst in range(self.count)]

    def is_fault(self, action: Action) -> bool:
        """Whether an action is a fault (a lost or duplicated message, a crash, a partition or its healing).

        Random mode draws faults as rare events rather than as often as any other action.
        """
        return action.name in ("Drop", "Duplicate", "Restart", "Partition", "Heal")

    def swarm_key(self, action: Action) -> tuple[int, int] | None:
        """The channel a delivery uses, ``None`` for other actions.

        >>> from quorumcheck.models.actors import Node
        >>> m = ActorModel(Node, nodes=2)
        >>> m.swarm_key(m._label("Deliver", (1, 0, "'hi'", "hi"))), m.swarm_key(m._label("Heal", ()))
        ((1, 0), None)
        """
        return self._channels.get(action)

    def _label(self, kind: str, key: tuple[Any, ...]) -> Action:
        full = (kind, *key)
        label = self._labels.get(full)
        if label is None:
            if kind in ("Deliver", "Drop", "Duplicate"):
                label = Action(kind, **{"from": node_name(key[0]), "to": node_name(key[1]), "msg": key[2]})
                if kind == "Deliver":
                    self._channels[label] = (key[0], key[1])
            elif kind == "Timer":
                label = Action(kind, node=node_name(key[0]), timer=key[1])
            elif kind == "Request":
                label = Action(kind, node=node_name(key[0]), value=show(key[1]))
            elif kind == "Restart":
                label = Action(kind, node=node_name(key[0]))
            elif kind == "Partition":
                label = Action(kind, groups=self._groups_text(key[0]))
            else:
                label = Action(kind)
            self._labels[full] = label
        return label

    def _groups_text(self, mask: int) -> str:
        inside = [node_name(i) for i in range(self.count) if mask >> i & 1]
        outside = [node_name(i) for i in range(self.count) if not mask >> i & 1]
        return "{" + ", ".join(inside) + "} | {" + ", ".join(outside) + "}"

    # -- properties ------------------------------------------------------------------------------------
    def properties(self) -> list[Property[ActorState]]:
        """The containment properties, the protocol's standard properties, and any extra ones.

        Examples
        --------
        >>> import pathlib
        >>> from quorumcheck.models.actor_model import load_student_file, find_node_classes
        >>> path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "paxos.py"
        >>> (node,) = find_node_classes(load_student_file(path))
        >>> m = ActorModel(node, 3, protocol="paxos", requests=2)
        >>> [p.name for p in m.properties() if p.default][4:]
        ['agreement', 'learner-agreement', 'learned-is-chosen', 'value-can-be-chosen', 'value-can-be-learned']
        """
        self.init_states()  # the contract learns the nodes' roles from the started nodes
        props: list[Property[ActorState]] = [
            always(name, _not_failed(name), description, footprint=_failure, explain=_failure_text)
            for name, description in CONTAINMENT_PROPERTIES.items()
        ]
        props += self.contract.properties(self.evaluator)
        props += list(self.extra_properties)
        return props

    # -- presentation ------------------------------------------------------------------------------------
    def message_id(self, envelope: tuple[Any, ...]) -> str:
        """The chart's identifier of one message in flight: ``"Prepare(ballot=1) n0→n2"``."""
        return f"{envelope[2]} {node_name(envelope[0])}→{node_name(envelope[1])}"

    def describe(self, state: ActorState) -> dict[str, Any]:
        """Every node's attributes, the armed timers, the messages in flight, faults and any failure.

        Examples
        --------
        >>> from quorumcheck.models.actors import Node
        >>> class Hello(Node):
        ...     def __init__(self):
        ...         self.greeted = []
        ...     def on_start(self, out):
        ...         out.send(1 - self.id, "hello")
        >>> m = ActorModel(Hello, nodes=2)
        >>> m.describe(next(iter(m.init_states())))  # doctest: +NORMALIZE_WHITESPACE
        {'n0': {'greeted': '[]'}, 'n1': {'greeted': '[]'}, 'timers': {'n0': [], 'n1': []},
         'network': ["'hello' n0→n1", "'hello' n1→n0"], 'used': {'timeouts': 0}}
        """
        view: dict[str, Any] = {}
        for i, snapshot in enumerate(state.nodes):
            view[node_name(i)] = {name: _view(frozen) for name, frozen in snapshot}
        view["timers"] = {node_name(i): list(armed) for i, armed in enumerate(state.timers)}
        view["network"] = [self.message_id(e) for e in self.in_flight(state.network)]
        if state.partition:
            view["partition"] = self._groups_text(state.partition)
        used = {name: state.budget[k] for k, name in enumerate(_BUDGET_NAMES) if self.limits[k] and k != REQUESTS}
        if used:
            view["used"] = used
        if state.failure is not None:
            view["failure"] = state.failure[1]
        return view

    def events(self, before: ActorState, action: Action, after: ActorState) -> StepEvents:
        """Who took the step and which messages it sent and received (for the sequence chart).

        The actor is the node that handled the step (``"n1"``), or ``"network"``
        for a lost message, a partition and a heal. A message's identifier is
        its text, sender and receiver (:meth:`message_id`).
        """
        args = action.args
        sent_before = Counter(self.in_flight(before.network))
        received: tuple[str, ...] = ()
        if action.name == "Deliver":
            actor = str(args["to"])
            delivered = next(e for e in self._deliverable(before.network)
                             if self._label("Deliver", e[0]) == action)[0]
            received = (self.message_id(delivered),)
            if self.network != "unordered-duplicating":
                sent_before[delivered] -= 1
        elif action.name in ("Timer", "Request", "Restart"):
            actor = str(args["node"])
        else:
            actor = "network"
        if action.name in ("Drop", "Duplicate"):  # a copy is drawn from its original sending
            return StepEvents(actor)
        new = Counter(self.in_flight(after.network)) - sent_before
        sent = []
        for envelope in self.in_flight(after.network):
            if new[envelope] > 0:
                new[envelope] -= 1
                sent.append(self.message_id(envelope))
        return StepEvents(actor, tuple(sent), received)

    def explain_failure(self, state: ActorState) -> str | None:
        """The failure text of a failure state (``None`` otherwise)."""
        return None if state.failure is None else state.failure[1]


# -- helpers -------------------------------------------------------------------------------------------
def _view(frozen: Any) -> Any:
    """An attribute as people read it: a dict stays a dict (so a step shows which key changed), anything
    else is its Python text (``[]``, ``{1, 2}``, ``'v1'``, ``Entry(term=1, value='x')``).

    >>> _view(("d", (1, ("l",)), ("a", ("s", 2, 3))))
    {'1': '[]', 'a': '{2, 3}'}
    """
    if type(frozen) is tuple and frozen and frozen[0] == "d":
        return {(k if isinstance(k, str) else show(k)): _view(v) for k, v in frozen[1:]}
    return show(frozen)


def _spend(budget: tuple[int, ...], k: int) -> tuple[int, ...]:
    return budget[:k] + (budget[k] + 1,) + budget[k + 1:]


def _apply_timers(armed: tuple[str, ...], operations: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    if not operations:
        return armed
    current = set(armed)
    for op, name in operations:
        if op == "set":
            current.add(name)
        else:
            current.discard(name)
    return tuple(sorted(current))


def _failure(state: ActorState) -> Hashable:
    return state.failure


def _failure_text(state: ActorState) -> str:
    return "" if state.failure is None else state.failure[1]


def _not_failed(name: str) -> Any:
    def holds(state: ActorState) -> bool:
        return state.failure is None or state.failure[0] != name

    return holds


def _verb(failure: HandlerFailure) -> str:
    if failure.kind == "exception":
        return f"raised {failure.text}"
    return failure.text


def _difference(first: _Outcome, second: _Outcome) -> str | None:
    if second.failure is not None:
        return f"the second run failed: {second.failure[1]}"
    if first.snapshot != second.snapshot:
        a, b = dict(first.snapshot), dict(second.snapshot)
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                return (f"self.{name} became {show(a[name]) if name in a else '(unset)'} the first time and "
                        f"{show(b[name]) if name in b else '(unset)'} the second")
    if first.sends != second.sends:
        return (f"it sent {[f'{t} to {node_name(d)}' for d, t, _ in first.sends]} the first time and "
                f"{[f'{t} to {node_name(d)}' for d, t, _ in second.sends]} the second")
    if first.timers != second.timers:
        return f"its timers were {list(first.timers)} the first time and {list(second.timers)} the second"
    if first.observation != second.observation:
        return "what it exposes to the observation contract differed"
    return None


def _partition_groups(n: int) -> tuple[int, ...]:
    """One mask per way of splitting the nodes in two non-empty groups (the smaller side, or the one with n0)."""
    out = []
    for size in range(1, n // 2 + 1):
        for combo in itertools.combinations(range(n), size):
            if 2 * size == n and 0 not in combo:
                continue
            out.append(sum(1 << i for i in combo))
    return tuple(out)


def _classes(node: Any, nodes: int | None) -> tuple[type[Node], ...]:
    if isinstance(node, type):
        count = 3 if nodes is None else nodes
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidParameter(f"nodes must be an integer >= 1, got {count!r}")
        classes: tuple[type[Node], ...] = (node,) * count
    elif isinstance(node, Sequence) and node and all(isinstance(c, type) for c in node):
        if nodes is not None and nodes != len(node):
            raise InvalidParameter(f"nodes={nodes} but {len(node)} node classes were given; give one or the other")
        classes = tuple(node)
    else:
        raise InvalidParameter(f"node must be a Node subclass or a list of them (one per node), got {node!r}")
    for cls in dict.fromkeys(classes):
        _check_class(cls)
    return classes


def _check_class(cls: type) -> None:
    name = cls.__name__
    if not issubclass(cls, Node):
        raise InvalidStudentCode(
            f"{name} is not a node class: write `class {name}(Node):` with "
            "`from quorumcheck.models.actors import Node` (see docs/student-testing.md)"
        )
    if any("__slots__" in vars(k) for k in cls.__mro__ if k is not Node and k is not object):
        raise InvalidStudentCode(f"{name} uses __slots__; node state must be plain attributes (remove __slots__)")
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        required = [p.name for p in list(signature.parameters.values())[1:]
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required:
            raise InvalidStudentCode(
                f"{name}.__init__ takes {', '.join(required)}; it must take no arguments besides self "
                "(quorumcheck sets self.id and self.peers before calling it)"
            )
    durable = getattr(cls, "durable", ())
    if isinstance(durable, str) or not all(isinstance(d, str) for d in durable):
        raise InvalidStudentCode(f"{name}.durable must be a tuple of attribute names, e.g. durable = "
                                 f"('current_term', 'voted_for', 'log'), got {durable!r}")


def _source_of(classes: Sequence[type[Node]]) -> dict[str, Any]:
    distinct = list(dict.fromkeys(classes))
    module = distinct[0].__module__
    loaded = sys.modules.get(module)
    file = getattr(loaded, "__file__", None)
    source: dict[str, Any] = {"file": str(Path(file).resolve())} if file else {"module": module}
    source["classes"] = [c.__name__ for c in (classes if len(distinct) > 1 else distinct)]
    return source


# -- loading student files ----------------------------------------------------------------------------------
def load_student_file(path: str | Path, *, time_limit_seconds: float = 10.0) -> Any:
    """Import a student's Python file as a module; every failure is a one-line InvalidStudentCode.

    The file's directory is put on ``sys.path`` while it is imported, so that it
    may import its sibling files. Importing runs the file's top level under a
    time limit.

    Examples
    --------
    >>> load_student_file("/nonexistent/raft.py")
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: /nonexistent/raft.py: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidStudentCode(f"{path}: no such file")
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    name = f"quorumcheck_student_{resolved.stem}_{digest}"
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__quorumcheck_mtime__", None) == resolved.stat().st_mtime_ns:
        return existing
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise InvalidStudentCode(f"{path}: not a Python file quorumcheck can import")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__quorumcheck_student__"] = True
    module.__dict__["__quorumcheck_mtime__"] = resolved.stat().st_mtime_ns
    sys.modules[name] = module
    folder = str(resolved.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    problem: str | None = None
    try:
        failure = call_contained(spec.loader.exec_module, (module,), time_limit=time_limit_seconds)
        if failure is not None:
            problem = f"importing it {_verb(failure)}"
    except InvalidStudentCode as e:
        problem = str(e)
    finally:
        if added:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
    if problem is not None:
        del sys.modules[name]
        raise InvalidStudentCode(f"{path}: {problem}")
    return module


def find_node_classes(namespace: Any, names: Sequence[str] | None = None) -> list[type[Node]]:
    """The node classes a module defines (or the ones named), in definition order.

    With ``names``, each must be a Node subclass in the module. Without, the
    module must define exactly one Node subclass, or a list ``NODES`` of node
    classes (one per node).

    Examples
    --------
    >>> import types
    >>> find_node_classes(types.SimpleNamespace(__name__="empty"))
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: empty defines no node class: write `class MyNode(Node):` with `from quorumcheck.models.actors import Node` (see docs/student-testing.md)
    """
    where = getattr(namespace, "__file__", None) or getattr(namespace, "__name__", "the module")
    members = vars(namespace)
    if names:
        found = []
        for n in names:
            cls = members.get(n)
            if not isinstance(cls, type) or not issubclass(cls, Node):
                available = [k for k, v in members.items() if isinstance(v, type) and issubclass(v, Node) and v is not Node]
                raise InvalidStudentCode(f"{where} has no node class {n!r}; its node classes: "
                                         f"{', '.join(available) or 'none'}")
            found.append(cls)
        return found
    listed = members.get("NODES")
    if isinstance(listed, (list, tuple)) and listed:
        if not all(isinstance(c, type) and issubclass(c, Node) for c in listed):
            raise InvalidStudentCode(f"{where}: NODES must be a list of node classes, one per node")
        return list(listed)
    module_name = getattr(namespace, "__name__", None)
    own = [v for v in members.values()
           if isinstance(v, type) and issubclass(v, Node) and v is not Node and v.__module__ == module_name]
    if not own:
        raise InvalidStudentCode(
            f"{where} defines no node class: write `class MyNode(Node):` with "
            "`from quorumcheck.models.actors import Node` (see docs/student-testing.md)"
        )
    if len(own) > 1:
        # Subclasses of another class in the file (buggy variants, roles) need choosing.
        raise InvalidStudentCode(
            f"{where} defines several node classes ({', '.join(c.__name__ for c in own)}); choose one with "
            "--node-class NAME, or list one class per node in NODES = [...]"
        )
    return own
