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

The handlers run in a *host*: given the student's file, sandboxed worker
processes (:mod:`quorumcheck.student.trusted.workers`) that this process
never shares code with; given class objects, this process itself
(:mod:`quorumcheck.student.inprocess`). This model only ever sees plain data:
snapshots, messages, timer operations and observations. An exception, a
call that exceeds ``handler_timeout``, a worker that dies, a handler whose
effect differs between two runs, a change to state outside the node, or state
that cannot be snapshotted moves to a failure state that violates one of
:data:`CONTAINMENT_PROPERTIES`, so the search reports it with the shortest
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

import importlib
import itertools
import os
import re
import types
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from quorumcheck.errors import InvalidParameter, InvalidStudentCode
from quorumcheck.printable import printable

from .actors import Node, Snapshotter, network_named, node_name, show
from .api import HANDLER_SECONDS, MAX_BOUND, MAX_ELEMENTS, Action, Expectation, Model, Property, StepEvents, always
from .observe import Contract, contract_named

if TYPE_CHECKING:
    from quorumcheck.explorer.result import Trace

__all__ = ["CONTAINMENT_PROPERTIES", "ActorModel", "ActorState", "find_node_classes", "load_student_file"]

CONTAINMENT_PROPERTIES = {
    "handlers-do-not-crash": "no handler raises an exception, and none ends or breaks its worker process",
    "handlers-terminate": "every handler call returns within the time limit",
    "handlers-are-deterministic": "a handler run twice on the same node state and input does the same",
    "handlers-within-memory": "no handler runs out of memory",
    "state-outside-node": "no handler changes module, class or closure state (state the snapshots cannot see)",
    "node-state-testable": "every node's state and messages can be snapshotted and read by the observation contract",
}
"""The properties every student run checks, whatever the protocol, with their descriptions."""

_KIND_PROPERTY = {"exception": "handlers-do-not-crash", "died": "handlers-do-not-crash",
                  "malformed": "handlers-do-not-crash", "timeout": "handlers-terminate",
                  "memory": "handlers-within-memory", "nondeterministic": "handlers-are-deterministic",
                  "outside": "state-outside-node", "untestable": "node-state-testable"}
"""Which containment property each kind of failure a host reports violates."""


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
_SPENDS = {"Timer": "timeouts", "Request": "requests", "Drop": "drops", "Duplicate": "duplicates",
           "Restart": "crashes"}
"""The budget each kind of step spends (partial-order reduction: two steps spending one budget conflict)."""


@dataclass(frozen=True)
class _Outcome:
    """What one handler call did (cached per node, node snapshot and event)."""

    snapshot: tuple[Any, ...]
    sends: tuple[tuple[int, int, str, Hashable], ...]
    """The messages sent, as envelopes ``(sender, receiver, text, frozen message)``: made once, and shared by every
    network the call's outcome goes into (not a copy in each state)."""
    timers: tuple[tuple[str, str], ...]
    observation: Hashable
    failure: tuple[str, str] | None = None


MIN_MEMORY_MB = 64
"""The least ``memory_mb`` taken (``--memory-mb``'s minimum): below it a worker cannot even start Python."""

GRADER_MEMORY_MB = 8192
"""``quorumcheck test``'s default ``--max-memory``: how large the grading process may grow while it searches
(states of 4 MiB each, which a submission can make, filled 40 MiB a second without it)."""

SAVED_SETTINGS = ("protocol", "network", "requests", "max_timeouts", "max_drops", "max_crashes", "max_partitions",
                  "max_duplicates", "max_term", "handler_timeout", "prefix")
"""The settings a saved trace records besides where the classes come from (:meth:`ActorModel.settings`), and
the only ones :meth:`ActorModel.from_settings` takes from one."""


class ActorModel(Model[ActorState]):
    """Node classes written with the actor API, explored as a model.

    Parameters
    ----------
    node : Node subclass, sequence of them, or str
        One class for every node (with ``nodes``), or the class of each node:
        the handlers then run in this process, unprotected (a student's own
        tests). Or the student's file, ``"path/raft.py"`` or
        ``"path/raft.py:RaftNode"`` (``"roles.py:A,B,B"``: one class per node):
        the file is never imported here, and every handler call runs in
        sandboxed worker processes (:mod:`quorumcheck.student.trusted.workers`;
        graders use this form).
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
        CPU seconds one handler call may use before it is a ``handlers-terminate`` finding (a call
        that blocks is stopped by the wall clock at twice that plus 1 s; a call that misses either
        limit is run once more, and only a second miss counts).
    check_determinism : bool
        Run every new handler call twice and report a difference (with a file:
        in a second worker with another hash seed and clock).
    memory_mb : int, optional
        With a file: each worker's memory (address space) limit.
    isolate : bool, optional
        With a file, ``False`` imports it into this process instead of using workers
        (``quorumcheck test --no-isolate``: for debugging one's own code).
    requests_if_able : bool, default False
        Run no client requests, rather than refuse, when no node class has ``on_request``.
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
    >>> [p.name for p in m.properties()]  # doctest: +NORMALIZE_WHITESPACE
    ['handlers-do-not-crash', 'handlers-terminate', 'handlers-are-deterministic', 'handlers-within-memory',
     'state-outside-node', 'node-state-testable']
    """

    name = "actors"

    def __init__(
        self,
        node: type[Node] | Sequence[type[Node]] | str | Path,
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
        memory_mb: int | None = 2048,
        isolate: bool | None = None,
        requests_if_able: bool = False,
        max_memory_mb: int | None = None,
    ) -> None:
        self.protocol = protocol
        if max_memory_mb is not None and (isinstance(max_memory_mb, bool) or not isinstance(max_memory_mb, int)
                                          or max_memory_mb < 1):
            raise InvalidParameter(f"max_memory_mb must be a whole number of MiB >= 1, got {max_memory_mb!r}")
        self.max_memory_mb = max_memory_mb
        """This process's memory limit for a search of the model (MiB of resident memory; ``None``: none): past
        it, a step raises :class:`~quorumcheck.explorer.search.MemoryLimitReached` and the search ends
        undetermined (``stop_reason`` ``"memory"``). Student code chooses how large its states are; the workers'
        limit (``memory_mb``) does not bound the states the search keeps here."""
        self._steps_taken = 0
        self.network = network_named(network)
        for name, value in (("requests", requests), ("max_timeouts", max_timeouts), ("max_drops", max_drops),
                            ("max_crashes", max_crashes), ("max_partitions", max_partitions),
                            ("max_duplicates", max_duplicates), ("max_term", max_term)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidParameter(f"{name} must be an integer >= 0, got {value!r}")
            if value > MAX_BOUND:
                raise InvalidParameter(f"{name}={value} is hopeless for a search; give at most {MAX_BOUND}")
        if protocol == "raft" and max_term < 1:
            raise InvalidParameter(f"max_term must be at least 1 for Raft (got {max_term}); terms start at 1 (as "
                                   "--max-term takes); pass e.g. max_term=2")
        if memory_mb is not None and (isinstance(memory_mb, bool) or not isinstance(memory_mb, int)
                                      or memory_mb < MIN_MEMORY_MB):
            raise InvalidParameter(f"memory_mb must be a whole number of MiB >= {MIN_MEMORY_MB} (as --memory-mb "
                                   f"takes), got {memory_mb!r}; the default is 2048, None for no limit")
        if max_partitions and nodes is not None and isinstance(nodes, int) and nodes > MAX_ELEMENTS:
            raise InvalidParameter(f"max_partitions with {nodes} nodes means 2^{nodes - 1} ways to split them; "
                                   f"give at most {MAX_ELEMENTS} nodes")
        if isinstance(handler_timeout, bool) or not isinstance(handler_timeout, (int, float)) or not (
                HANDLER_SECONDS[0] <= handler_timeout <= HANDLER_SECONDS[1]):  # nan fails both
            raise InvalidParameter(f"handler_timeout must be a number of seconds from {HANDLER_SECONDS[0]:g} to "
                                   f"{HANDLER_SECONDS[1]:g}, got {handler_timeout!r}; the default is 1")
        if max_duplicates and self.network == "unordered-duplicating":
            raise InvalidParameter("max_duplicates is for the ordered and unordered networks; the "
                                   "unordered-duplicating network delivers every message any number of times already")
        if prefix is not None and (not isinstance(prefix, (list, tuple))
                                   or not all(isinstance(x, str) for x in prefix)):
            raise InvalidParameter(f"prefix must be a list of action labels, got {prefix!r}")
        self.max_term = max_term
        self.handler_timeout = float(handler_timeout)
        self.check_determinism = check_determinism
        self.extra_properties = tuple(extra_properties)
        self.host, self.source, nodes_given = _host(node, nodes, protocol, _contract_settings(requests, max_timeouts,
                                                                                              max_term),
                                                    self.handler_timeout, check_determinism, memory_mb, isolate, source)
        self.host.ordered_network = self.network == "ordered"  # the determinism check compares send order then
        self._qualify: frozenset[str] = frozenset()
        listed = "file" in self.source and "classes" not in self.source  # the file's NODES, if several
        try:
            info = self.host.start()
            if listed:
                self.source["classes"] = list(info["classes"])
            self.class_names: tuple[str, ...] = info["names"]
            self.durable: tuple[tuple[str, ...], ...] = info["durable"]
            self.count = len(self.class_names)
            if nodes_given is not None and len(info["classes"]) > 1 and nodes_given != self.count:
                if listed:
                    raise InvalidParameter(f"nodes={nodes_given} but {self.source['file']} lists {self.count} node "
                                           "classes in NODES, one per node; leave it out, or choose one class to "
                                           "test on every node")
                raise InvalidParameter(f"nodes={nodes_given} but {self.count} node classes were given; give one or "
                                       "the other")
            self._requestable = tuple(i for i, r in enumerate(info["requestable"]) if r)
            if requests and not self._requestable:
                if requests_if_able:
                    requests = 0
                else:
                    names = ", ".join(sorted(set(self.class_names)))
                    raise InvalidStudentCode(
                        f"requests={requests} but no node class ({names}) has on_request(self, value, out); define "
                        "it, or run without client requests"
                    )
            self.requests = requests
            self.values = tuple(f"v{k + 1}" for k in range(requests))
            self.limits = (max_timeouts, requests, max_drops, max_crashes, max_partitions, max_duplicates)
            stand_ins = [types.SimpleNamespace(__name__=name, observe=dict(info["renames"][k]))
                         for k, name in enumerate(self.class_names)]
            self.contract: Contract = contract_named(protocol)(  # type: ignore[arg-type]
                stand_ins, Snapshotter(), **_contract_settings(requests, max_timeouts, max_term))
            self.contract.adopt(info["roles"])
            self.contract.orders_itself = tuple(info.get("orders_itself", ()))
            self._qualify = frozenset(info.get("ambiguous_names", ()))  # messages of these print qualified
            self.evaluator = evaluator or self.contract.evaluator
            self._cache: dict[tuple[Any, ...], _Outcome] = {}
            self._labels: dict[tuple[Any, ...], Action] = {}
            self._envelopes: dict[Action, tuple[Any, ...]] = {}  # a delivery's label -> its envelope
            self._actors: dict[Action, int] = {}
            self._copies: dict[Action, Action] = {}  # a duplication's label -> the label delivering its message
            self._groups = _partition_groups(self.count) if max_partitions else ()
            self._names = tuple(node_name(i) for i in range(self.count))
            self._index = {name: i for i, name in enumerate(self._names)}
            self._init: ActorState | None = None
            self.first_failed_call: tuple[str, str] | None = None
            """The first handler call that failed (its property and text), whether or not a search reached the
            state it leads to: a search cut by its time limit while it expanded a state reports it."""
            self.prefix: tuple[str, ...] = tuple(prefix or ())
            self.returned: tuple[str, str, str] | None = None
            """The first handler call that returned something (its class, handler and the value's type)."""
            self.prefix_witnessed: dict[str, int] = {}
            """Reachability properties the scripted prefix witnessed, with the step: not looked for after it."""
            if self.prefix:
                self.init_states()  # a prefix that does not replay is an error now, not in the middle of a search
        except BaseException:
            self.host.close()
            raise

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
    def from_settings(cls, settings: dict[str, Any], *, allow_module: bool = False) -> ActorModel:
        """Rebuild a model from :meth:`settings` (as saved in a trace file).

        A trace file is input: its ``file`` is loaded in sandboxed workers, as any student file. Classes named
        by ``module`` (a trace saved from Python, of classes given as objects) would be imported into this
        process, so they are refused unless ``allow_module`` says the settings are the caller's own.

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
        if isinstance(nodes, int) and not isinstance(nodes, bool) and nodes > MAX_ELEMENTS:
            raise InvalidParameter(f"the trace says nodes={nodes}, beyond the {MAX_ELEMENTS} nodes quorumcheck test "
                                   "takes; was the file edited?")
        # Only what settings() records: a trace file is input, and must not switch off the sandbox (isolate),
        # its memory limit or the determinism check, which only the person running quorumcheck chooses.
        unknown = set(options) - set(SAVED_SETTINGS)
        if unknown:
            raise InvalidParameter(f"unknown setting(s) {', '.join(sorted(unknown))} in the trace; a trace records "
                                   f"only file (or module), classes, nodes, {', '.join(SAVED_SETTINGS)}")
        if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
            raise InvalidParameter(f"the settings' 'classes' must be a list of class names, got {names!r}")
        if names and len(names) > 1 and nodes is not None and nodes != len(names):
            raise InvalidParameter(f"the trace says nodes={nodes} but names {len(names)} node classes, one per node; "
                                   "was the file edited?")
        if file is not None:
            if not isinstance(file, str) or "\x00" in file or not _encodable(file):
                raise InvalidParameter(f"the settings' 'file' must be a path, got {file!r}")
            target: Any = f"{file}:{','.join(names)}" if names else file
            if names and len(names) > 1:
                nodes = None
            return cls(target, nodes, **options)
        if module is not None:
            if not allow_module:
                raise InvalidParameter(
                    f"the trace names its node classes by module ({str(module)[:80]!r}), which would import it into "
                    "this process, outside the sandbox; replay it against the student's file: quorumcheck test "
                    "PATH.py --replay TRACE")
            from quorumcheck.student.worker.loading import find_node_classes

            try:
                namespace = importlib.import_module(module)
            except Exception as e:  # noqa: BLE001 - any import failure of student code is one line
                raise InvalidStudentCode(f"cannot import {module}: {type(e).__name__}: {e}") from None
            classes = find_node_classes(namespace, names)
            node: Any = classes[0] if len(classes) == 1 else classes
            return cls(node, nodes if len(classes) == 1 else None, **options)
        raise InvalidParameter("the settings name no 'file' or 'module' to load the node classes from")

    # -- the model ----------------------------------------------------------------------------------
    def init_states(self) -> Iterable[ActorState]:
        if self._init is None:
            self._init = self._after_prefix(self._initial_state())
        return [self._init]

    def _after_prefix(self, state: ActorState) -> ActorState:
        """The state the scripted prefix reaches from ``state`` (``state`` itself without one).

        Each step is judged as the search judges its own (action properties on it, invariants on the states inside
        the prefix): a prefix that runs through a violation would otherwise hide it behind a HOLDS.
        """
        from quorumcheck.explorer.culprit import refuse_broken_prefix_step

        props: list[Property[ActorState]] | None = None
        for k, label in enumerate(self.prefix, start=1):
            following = next((t for a, t in self.successors(state) if str(a) == label), None)
            if following is None:
                enabled = ", ".join(str(a) for a, _ in self.successors(state)) or "nothing"
                raise InvalidParameter(f"prefix step {k} {label!r} is not enabled after the steps before it; "
                                       f"enabled there: {enabled}")
            if following.failure is not None:  # the code's own finding, as anywhere else: the search starts there
                return following
            if not self.within_boundary(following):
                raise InvalidParameter(f"prefix step {k} {label!r} leaves the bounds (max_term={self.max_term}); "
                                       "raise the bound or shorten the prefix")
            if props is None:
                props = [p for p in self.properties() if p.default]
            refuse_broken_prefix_step(props, k, label, state, following, last=k == len(self.prefix))
            for p in props:  # a leader elected inside the prefix: the run is not vacuous, whatever follows
                if p.expectation is Expectation.SOMETIMES and p.name not in self.prefix_witnessed and p.holds(following):
                    self.prefix_witnessed[p.name] = k
            state = following
        return state

    def _initial_state(self) -> ActorState:
        outcomes = [self._outcome(i, (), ("s",)) for i in range(self.count)]
        failure = next((o.failure for o in outcomes if o.failure is not None), None)
        nodes = tuple(o.snapshot for o in outcomes)
        timers = tuple(_apply_timers((), o.timers) for o in outcomes)
        observed = tuple(o.observation for o in outcomes)
        network = self._add(self._empty(), [e for o in outcomes for e in o.sends])
        history = None
        if failure is None:
            try:
                history = self.contract.initial_history(observed)
            except InvalidStudentCode as e:  # the nodes' observations do not go together (incomparable ballots)
                first = next(k for k in range(self.count) if not _records(self.contract, observed[:k + 1]))
                failure = (_KIND_PROPERTY["untestable"], f"{self._call_text(first, ('s',))}: {e}")
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

    def next_state(self, state: ActorState, action: Action | str) -> ActorState | None:
        """The successor of ``state`` by ``action``, or ``None`` if it is disabled; a label computes only its own
        node's steps, and only its own successor (the reduction by movers asks this of every transaction's end).

        >>> from quorumcheck.models.actors import Node
        >>> class Tick(Node):
        ...     def on_start(self, out):
        ...         out.set_timer("tick")
        >>> m = ActorModel(Tick, nodes=2, max_timeouts=1)
        >>> s0 = next(iter(m.init_states()))
        >>> m.next_state(s0, m.successors(s0)[1][0]).timers, m.next_state(s0, "Timer(node=n0, timer=tick)").budget
        ((('tick',), ()), (1, 0, 0, 0, 0, 0))
        """
        if not isinstance(action, Action):
            return super().next_state(state, action)
        actor = self.step_actor(action)
        index = None if actor is None else self._index.get(actor)
        if index is None:
            return super().next_state(state, action)
        for label, make in self._transitions(state, True, index):
            if label == action:
                return make()  # type: ignore[no-any-return]
        return None

    def actor_steps(self, state: ActorState, actor: Any) -> list[tuple[Action, ActorState]]:
        """The steps of node ``actor`` (``"n1"``; :meth:`step_actor`) with their successors; no other node's are computed.

        >>> from quorumcheck.models.actors import Node
        >>> class Tick(Node):
        ...     def on_start(self, out):
        ...         out.set_timer("tick")
        >>> m = ActorModel(Tick, nodes=2, max_timeouts=1)
        >>> [str(a) for a, _ in m.actor_steps(next(iter(m.init_states())), "n1")]
        ['Timer(node=n1, timer=tick)']
        """
        index = self._index.get(actor)
        return [] if index is None else self._transitions(state, False, index)  # type: ignore[return-value]

    def _transitions(self, state: ActorState, lazy: bool, only: int | None = None) -> list[tuple[Action, Any]]:
        """Every enabled step (lazily: with a function making its successor), or only node ``only``'s."""
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
            if side and (side >> src & 1) != (side >> dst & 1) or only is not None and dst != only:
                continue
            add((self._label("Deliver", envelope), make(state, dst, ("m", src, envelope[3]), rest, budget)))
        nodes = range(self.count) if only is None else (only,)
        # Timers.
        if budget[TIMEOUTS] < limits[TIMEOUTS]:
            spent = _spend(budget, TIMEOUTS)
            for i in nodes:
                for name in state.timers[i]:
                    add((self._label("Timer", (i, name)),
                         make(state, i, ("t", name), state.network, spent, fired=name)))
        # Client requests.
        if budget[REQUESTS] < limits[REQUESTS]:
            value = self.values[budget[REQUESTS]]  # client values are strings: frozen as themselves
            spent = _spend(budget, REQUESTS)
            for i in self._requestable:
                if (only is None or i == only) and self.contract.may_request(state.observed, i):
                    add((self._label("Request", (i, value)), make(state, i, ("r", value), state.network, spent)))
        # Faults.
        if budget[DROPS] < limits[DROPS]:
            spent = _spend(budget, DROPS)
            for envelope, rest in self._droppable(state.network):
                if only is None or envelope[1] == only:
                    add((self._label("Drop", envelope), keep(state._replace(network=rest, budget=spent))))
        if budget[DUPLICATES] < limits[DUPLICATES]:
            spent = _spend(budget, DUPLICATES)
            for envelope, _ in self._droppable(state.network):
                if only is None or envelope[1] == only:
                    add((self._label("Duplicate", envelope),
                         keep(state._replace(network=self._add(state.network, [envelope]), budget=spent))))
        if budget[CRASHES] < limits[CRASHES]:
            spent = _spend(budget, CRASHES)
            for i in nodes:
                durable = self._durable(i, state.nodes[i])
                add((self._label("Restart", (i,)),
                     make(state, i, ("c",), state.network, spent, snapshot=durable, restart=True)))
        if only is not None:
            return out  # partitions and healing are no node's steps
        if side == 0 and budget[PARTITIONS] < limits[PARTITIONS]:
            spent = _spend(budget, PARTITIONS)
            for mask in self._groups:
                add((self._label("Partition", (mask,)), keep(state._replace(partition=mask, budget=spent))))
        if side:
            add((self._label("Heal", ()), keep(state._replace(partition=0))))
        return out

    def within_boundary(self, state: ActorState) -> bool:
        return state.failure is not None or self.contract.within_boundary(state.observed)

    # -- one step ------------------------------------------------------------------------------------
    def _step(
        self, state: ActorState, i: int, event: tuple[Any, ...], network: tuple[Any, ...],
        budget: tuple[int, ...], *, fired: str | None = None,
        snapshot: tuple[Any, ...] | None = None, restart: bool = False,
    ) -> ActorState:
        _checkpoint()
        if self.max_memory_mb is not None:
            self._steps_taken += 1
            if not self._steps_taken % MEMORY_CHECK_EVERY and resident_bytes() > self.max_memory_mb * 2**20:
                _memory_limit()
            calls = self.host.calls
        outcome = self._outcome(i, state.nodes[i] if snapshot is None else snapshot, event)
        # A new handler answer can be megabytes (a snapshot up to the wire's limit, decoded): read the memory after
        # each, not only every MEMORY_CHECK_EVERY steps, or the limit is overshot by gigabytes (red-team round 15).
        if self.max_memory_mb is not None and self.host.calls != calls and resident_bytes() > self.max_memory_mb * 2**20:
            _memory_limit()
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
            network = self._add(network, outcome.sends)
        observed, history = state.observed, state.history
        if outcome.observation != observed[i]:
            observed = observed[:i] + (outcome.observation,) + observed[i + 1:]
            try:
                history = self.contract.record(history, i, outcome.observation)
            except InvalidStudentCode as e:  # what the node exposes does not go with the others' (ballots)
                return state._replace(budget=budget, failure=(_KIND_PROPERTY["untestable"],
                                                              f"{self._call_text(i, event)}: {e}"))
        return ActorState(nodes, timers, network, observed, history, budget, state.partition, None)

    def _durable(self, i: int, snapshot: tuple[Any, ...]) -> tuple[Any, ...]:
        keep = self.durable[i]
        return tuple(item for item in snapshot if item[0] in keep)

    @property
    def handler_calls(self) -> int:
        """Handler calls made (cache misses; with determinism checked, each runs twice)."""
        return int(self.host.calls)

    @property
    def requestable(self) -> tuple[int, ...]:
        """The nodes whose class has ``on_request``: the client requests go to them."""
        return self._requestable

    def outcomes(self) -> Iterator[_Outcome]:
        """What every handler call made so far did (the cache of their answers)."""
        return iter(self._cache.values())

    def _outcome(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> _Outcome:
        key = (i, snapshot, event)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        outcome = self._run(i, snapshot, event)
        self._cache[key] = outcome
        return outcome

    def _run(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> _Outcome:
        """One handler call, run by the host (a sandboxed worker, or this process): its outcome or failure."""
        answer = self.host.call(i, snapshot, event)
        failure = answer["failure"]
        observation = None
        if failure is None:
            # Read here, from the snapshot, by the one implementation of the contract: whatever the code
            # does beside itself in the worker, the properties judge the state it answered.
            try:
                observation = self.contract.observation_from(i, answer["snapshot"], dict(answer["computed"]))
            except InvalidStudentCode as e:
                failure = ("untestable", str(e))
        if failure is not None:
            kind, text = failure
            if kind == "untestable":
                text = f": {text}"
            found = (_KIND_PROPERTY.get(kind, "handlers-do-not-crash"),
                     f"{self._call_text(i, event)}{'' if text.startswith(':') else ' '}{text}")
            if self.first_failed_call is None:
                self.first_failed_call = found
            return _Outcome(snapshot, (), (), None, found)
        sends = tuple((i, dst, show(message, self._qualify), message) for dst, message in answer["sends"])
        if answer.get("returned") and self.returned is None:
            handler = {"m": "on_message", "t": "on_timer", "r": "on_request"}.get(event[0], "on_start")
            self.returned = (self.class_names[i], handler, answer["returned"])
        return _Outcome(answer["snapshot"], sends, tuple(answer["timers"]), observation)

    def close(self) -> None:
        """Stop the workers running the student's code (they start again if the model is used again)."""
        self.host.close()

    def property_off(self, name: str) -> str | None:
        """Why the protocol's property ``name`` is off in this run (asked for by name, it is an error saying so)."""
        off = getattr(self.contract, "votes_safe_off", None)
        if name == "votes-safe" and off is not None and self.contract.orders_itself:
            return str(off())
        return None

    def notices(self) -> list[str]:
        """What the user should know about this run, one line each (printed on stderr by the CLI).

        Examples
        --------
        >>> from quorumcheck.models.actors import Node
        >>> ActorModel(Node, 2, max_crashes=1).notices()[-1]  # doctest: +ELLIPSIS
        "crashes are enabled but no node class declares durable attributes: a restarted node ... durable = (...)"
        """
        out = [f"sandbox: {m}" for m in getattr(self.host, "missing", ())]
        out += self.contract.notices()
        given = getattr(getattr(self.host, "source", None), "file", None)
        link = None if given is None else symlink_notice(given)
        if link is not None:
            out.append(link)
        start = self._init  # read only once a search has built it: building it here could fail or call handlers
        if start is not None and start.failure is None:
            for i, names in enumerate(self.durable):
                attributes = {name for name, _ in start.nodes[i]}
                unknown = [name for name in names if name not in attributes]
                if unknown and self.class_names[i] not in self.class_names[:i]:  # once per class
                    out.append(f"{self.class_names[i]} declares durable {', '.join(map(repr, unknown))}, which its "
                               f"__init__ does not set: a crash keeps nothing under that name (a typo?)")
        for name, k in getattr(self, "prefix_witnessed", {}).items():
            out.append(f"{name} was witnessed inside the scripted prefix (step {k}), so it is not looked for after it")
        if self.returned is not None:
            name, handler, what = self.returned
            out.append(f"{name}.{handler} returned {'an' if what[0] in 'aeiouAEIOU' else 'a'} {what}, which "
                       "quorumcheck ignores: a handler sends with out.send(to, message) or out.broadcast(message), "
                       "and returns nothing")
        if self.limits[CRASHES] and not any(self.durable):
            out.append("crashes are enabled but no node class declares durable attributes: a restarted node "
                       "forgets everything and starts from __init__ (declare what survives a crash, e.g. "
                       "durable = ('current_term', 'voted_for', 'log'))")
        return out

    def _call_text(self, i: int, event: tuple[Any, ...]) -> str:
        who = f"{node_name(i)} ({self.class_names[i]})"
        kind = event[0]
        if kind == "s":
            return f"{who} __init__/on_start"
        if kind == "c":
            return f"{who} __init__/on_start after a restart"
        if kind == "m":
            return f"{who} on_message({event[1]}, {show(event[2], self._qualify)})"
        if kind == "t":
            return f"{who} on_timer({event[1]!r})"
        return f"{who} on_request({show(event[1])})"

    # -- the network -----------------------------------------------------------------------------------
    def _empty(self) -> tuple[Any, ...]:
        return ()

    def _add(self, network: tuple[Any, ...], envelopes: Sequence[tuple[int, int, str, Hashable]]) -> tuple[Any, ...]:
        if not envelopes:
            return network
        if self.network == "unordered":
            return _sorted_envelopes(network + tuple(envelopes))
        if self.network == "unordered-duplicating":
            return _sorted_envelopes(set(network).union(envelopes))
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

    # -- epochs (quorumcheck.explorer.epochs) -----------------------------------------------------------
    @property
    def epoch_nodes(self) -> int:
        """How many nodes the epoch search may group (every node of the system)."""
        return self.count

    def deliveries(self, state: ActorState) -> Iterator[tuple[int, int, Action, Callable[[], ActorState]]]:
        """Each delivery enabled in ``state``, as ``(sender, receiver, label, successor)``, in network order.

        The same deliveries as :meth:`enabled` offers, without building the other actions: the epoch search
        asks for them after every step it takes.
        """
        if state.failure is not None:
            return
        side = state.partition
        for envelope, rest in self._deliverable(state.network):
            src, dst = envelope[0], envelope[1]
            if side and (side >> src & 1) != (side >> dst & 1):
                continue
            yield src, dst, self._label("Deliver", envelope), partial(
                self._step, state, dst, ("m", src, envelope[3]), rest, state.budget)

    @property
    def keeps_delivered(self) -> bool:
        """Whether a delivered message stays in flight (the ``unordered-duplicating`` network): an epoch
        (:mod:`quorumcheck.explorer.epochs`) then delivers each message once."""
        return self.network == "unordered-duplicating"

    def actor_of(self, action: Action) -> int | None:
        """The node whose handler a timer firing, a request or a restart runs; ``None`` for other actions."""
        return self._actors.get(action)

    def step_resources(self, action: Action) -> frozenset[Hashable] | None:
        """The node whose state a step changes, and the budget it spends; ``None`` for a partition or healing.

        Steps of different nodes commute: each changes its own node's snapshot, timers and observation, adds
        its messages to the network (a bag, a set, or per-channel queues whose heads it does not touch), and
        the contract's history is a union of what nodes were observed doing; whether a request may go to a
        node, and the bound (terms and log lengths up to the maxima), are judged node by node. A lost or
        duplicated message counts as a step of its receiver (it conflicts with that message's delivery) and
        of its sender (on a network that keeps each message once, a send of a copy is undone by a loss that
        follows it, not by one before it), and two steps that spend one budget conflict (the first can use up
        the second's). A partition changes which deliveries are possible, so it conflicts with every step.

        >>> from quorumcheck.models.actors import Node
        >>> m = ActorModel(Node, nodes=2, max_drops=1)
        >>> sorted(m.step_resources(m._label("Drop", (1, 0, "'hi'", "hi"))))
        ['drops', 'n0', 'n1']
        """
        name, args = action.name, action.args
        if name == "Deliver":
            return frozenset((args["to"],))
        spends = _SPENDS.get(name)
        if spends is None:
            return None
        if name in ("Drop", "Duplicate"):
            return frozenset((args["from"], args["to"], spends))
        return frozenset((args["node"], spends))

    def right_mover(self, state: ActorState, action: Action, after: ActorState) -> str | None:
        """The receiving node of a *silent* delivery: its handler sent nothing and changed no observation.

        Such a delivery only removes its message and changes its own node's snapshot and timers, and
        nothing a property or the bound reads (they read observations, the history and failures). So a
        step of another node taken after it was possible before it, leaves it possible, and the two orders
        meet: it is a right mover (:meth:`Model.right_mover`). Timer firings, requests and restarts spend
        a budget, so they are never movers.
        """
        if after.failure is not None or after.observed is not state.observed or after.history is not state.history:
            return None
        envelope = self._envelopes.get(action)  # deliveries only
        if envelope is None:
            return None
        src, dst = envelope[0], envelope[1]
        # The handler's answer, cached when the step was made. A send counts even of a message already in
        # flight: on a network that keeps one copy of each, it would restore a copy that a loss removed.
        if self._outcome(dst, state.nodes[dst], ("m", src, envelope[3])).sends:
            return None
        return self._names[dst]

    def step_actor(self, action: Action) -> str | None:
        """The node whose handler a step runs (a delivery's receiver, a timer's, request's or restart's node), and
        a lost or copied message's receiver (a loss can take the very message a silent delivery read, when the
        network keeps delivered messages); ``None`` for a partition or its healing."""
        name = action.name
        if name in ("Deliver", "Drop", "Duplicate"):
            return action.args["to"]
        if name in ("Timer", "Request", "Restart"):
            return action.args["node"]
        return None

    def movers_off(self) -> str | None:
        """Partitions can disable a delivery taken later; extra properties may read what silent steps change."""
        if self.limits[PARTITIONS]:
            return ("a partition can cut a message off from its receiver, so a delivery cannot wait; every "
                    "interleaving is searched")
        if self.extra_properties:
            return ("extra properties may read node state that the observation contract does not; every interleaving "
                    "is searched")
        return None

    def halted(self, state: ActorState) -> bool:
        """A handler failed: the state has no successors."""
        return state.failure is not None

    def unobservable(self, before: ActorState, after: ActorState) -> bool:
        """True when a step changed nothing a property reads (observations, history and failure are the same).

        Such a step cannot turn a property false, so the epoch search skips judging its state.
        """
        return after.failure is None and after.observed is before.observed and after.history is before.history

    # -- labels ---------------------------------------------------------------------------------------
    def swarm_keys(self) -> list[tuple[int, int]]:
        """The channels ``(sender, receiver)``: random mode may slow some of them in a schedule (swarm testing)."""
        return [(src, dst) for src in range(self.count) for dst in range(self.count)]

    def is_fault(self, action: Action) -> bool:
        """Whether an action is a fault (a lost or duplicated message, a crash, a partition or its healing).

        Random mode draws faults as rare events rather than as often as any other action.
        """
        return action.name in ("Drop", "Duplicate", "Restart", "Partition", "Heal")

    @property
    def crashes_allowed(self) -> bool:
        """Whether a run may crash and restart nodes (``max_crashes`` above 0)."""
        return self.limits[CRASHES] > 0

    def stale_event(self, action: Action) -> tuple[str, Any] | None:
        """What a step means to a stale-message schedule (random mode, :class:`quorumcheck.studenttest.StaleMessages`).

        ``("restart", "n1")`` for node n1's crash-restart, ``("timer", "n1")`` and ``("request", "n1")`` for its
        timer firing and a client request to it, ``("copy", label)`` for a duplicated message (``label`` delivers it),
        and ``None`` for every other step; ``None`` for every step when the run allows no crash.

        >>> from quorumcheck.models.actors import Node
        >>> m = ActorModel(Node, nodes=2, max_crashes=1, max_duplicates=1)
        >>> m.stale_event(m._label("Restart", (1,)))
        ('restart', 'n1')
        >>> kind, label = m.stale_event(m._label("Duplicate", (1, 0, "'hi'", "hi")))
        >>> kind, str(label)
        ('copy', "Deliver(from=n1, to=n0, msg='hi')")
        """
        if not self.crashes_allowed:
            return None
        node = self._actors.get(action)
        if node is not None:
            return ({"Restart": "restart", "Timer": "timer"}.get(action.name, "request"), self._names[node])
        copied = self._copies.get(action)
        return None if copied is None else ("copy", copied)

    def copies_to(self, state: ActorState, node: str) -> Counter[Action]:
        """How many copies of each message to ``node`` (``"n0"``) are in flight, by the label that delivers it.

        >>> from quorumcheck.models.actors import Node
        >>> class Hi(Node):
        ...     def on_start(self, out):
        ...         out.send(0, "hi")
        >>> m = ActorModel(Hi, nodes=2)
        >>> sorted((str(label), copies) for label, copies in m.copies_to(next(iter(m.init_states())), "n0").items())
        [("Deliver(from=n0, to=n0, msg='hi')", 1), ("Deliver(from=n1, to=n0, msg='hi')", 1)]
        """
        index = self._index[node]
        return Counter(self._label("Deliver", e) for e in self.in_flight(state.network) if e[1] == index)

    def swarm_key(self, action: Action) -> tuple[int, int] | None:
        """The channel a delivery uses, ``None`` for other actions.

        >>> from quorumcheck.models.actors import Node
        >>> m = ActorModel(Node, nodes=2)
        >>> m.swarm_key(m._label("Deliver", (1, 0, "'hi'", "hi"))), m.swarm_key(m._label("Heal", ()))
        ((1, 0), None)
        """
        envelope = self._envelopes.get(action)
        return None if envelope is None else (envelope[0], envelope[1])

    def _label(self, kind: str, key: tuple[Any, ...]) -> Action:
        full = (kind, *key)
        label = self._labels.get(full)
        if label is None:
            if kind in ("Deliver", "Drop", "Duplicate"):
                # The message's frozen form keeps apart two messages that print alike (two classes named Ping).
                label = Action.keyed(key[3], kind, **{"from": node_name(key[0]), "to": node_name(key[1]), "msg": key[2]})
                if kind == "Deliver":
                    self._envelopes[label] = key
                elif kind == "Duplicate":
                    self._copies[label] = self._label("Deliver", key)
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
            if kind in ("Timer", "Request", "Restart"):
                self._actors[label] = key[0]
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
        >>> [p.name for p in m.properties() if p.default][6:]
        ['agreement', 'learner-agreement', 'learned-is-chosen', 'value-can-be-chosen', 'value-can-be-learned']
        """
        self._initial_state()  # the contract learns the nodes' roles from the started nodes (not the prefix's end)
        props: list[Property[ActorState]] = [
            always(name, _not_failed(name), description, footprint=_failure, explain=_failure_text)
            for name, description in CONTAINMENT_PROPERTIES.items()
        ]
        for p in self.contract.properties(self.evaluator):
            # A failed state has no observation: every safety property holds there (the failure is the finding),
            # and no reachability property is witnessed there.
            p.condition = (_observed_and if p.expectation is Expectation.SOMETIMES else _unless_failed)(p.condition)
            if p.footprint is not None:
                p.footprint = _footprint_unless_failed(p.footprint)
            props.append(p)
        props += list(self.extra_properties)
        witnessed = getattr(self, "prefix_witnessed", None)
        if witnessed:
            props = [p for p in props if not (p.expectation is Expectation.SOMETIMES and p.name in witnessed)]
        return props

    # -- presentation ------------------------------------------------------------------------------------
    def message_id(self, envelope: tuple[Any, ...]) -> str:
        """The chart's identifier of one message in flight: ``"Prepare(ballot=1) n0→n2"``."""
        return f"{envelope[2]} {node_name(envelope[0])}→{node_name(envelope[1])}"

    def replay_view(self, view: Any) -> Any:
        """The view without where a failure happened in the code (`` at FILE:LINE in FUNCTION``): a replay against a
        renamed copy of the file, or one with a line added above, still meets the same failure.

        >>> ActorModel.replay_view(None, {"failure": "ZeroDivisionError: division by zero at node.py:33 in on_message"})
        {'failure': 'ZeroDivisionError: division by zero'}
        """
        if isinstance(view, dict) and isinstance(view.get("failure"), str):
            return {**view, "failure": _CODE_PLACE.sub("", view["failure"])}
        return view

    def culprit_note(self, trace: Trace[ActorState], step: int, said: str) -> str | None:
        """What a counterexample's restarts did, where it went wrong at ``step`` (``said``: the broken property's
        explanation): the attributes each restart reset (those its class does not list in ``durable``), for a
        restart at that step or one earlier of a node ``said`` names. The property names the vote it can no longer
        trust, or a node that "promised nothing"; not the promise a crash made the node forget (batch 12).

        Examples
        --------
        >>> from quorumcheck.explorer.result import Step, Trace
        >>> from quorumcheck.models.actors import Node
        >>> class Forgetful(Node):
        ...     durable = ("term",)
        ...     def __init__(self):
        ...         self.term, self.voted = 0, None
        ...     def on_start(self, out):
        ...         self.term += 1
        ...         if self.term == 1:
        ...             self.voted = 0
        >>> m = ActorModel(Forgetful, nodes=1, max_crashes=1)
        >>> start = next(iter(m.init_states()))
        >>> [(action, restarted)] = [(a, t) for a, t in m.successors(start) if a.name == "Restart"]
        >>> trace = Trace((Step(None, start), Step(action, restarted)))
        >>> m.culprit_note(trace, 1, "")
        "the restart reset n0's voted: a node keeps across a crash only what its class lists in durable (durable = ('term',))"
        >>> m.culprit_note(trace, 2, "n0 can still vote: it promised nothing")  # a later step, about n0
        "n0 restarted at step 1, which reset its voted: a node keeps across a crash only what its class lists in durable (durable = ('term',))"
        """
        notes: dict[int, str] = {}
        for k in range(1, min(step, len(trace.steps) - 1) + 1):
            action = trace.steps[k].action
            if action is None or action.name != "Restart":
                continue
            before, after = trace.steps[k - 1].state, trace.steps[k].state
            i = next((n for n in range(len(before.nodes)) if node_name(n) == action.args.get("node")), None)
            if i is None or (k < step and not re.search(rf"\b{node_name(i)}\b", said)):
                continue
            was, now = dict(before.nodes[i]), dict(after.nodes[i])
            keep = self.durable[i]
            reset = [name for name in was if name not in keep and (name not in now or now[name] != was[name])]
            if reset:
                what = ("the restart reset " + f"{node_name(i)}'s" if k == step
                        else f"{node_name(i)} restarted at step {k}, which reset its")
                notes[i] = (f"{what} {', '.join(reset)}: a node keeps across a crash only what its class lists in "
                            f"durable (durable = {tuple(keep)!r})")
        return "; ".join(notes.values()) or None

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

    Keys that would read alike (``1`` and ``'1'``, ``None`` and ``'None'``) are all shown as Python text, so no
    key hides another:

    >>> _view(("d", (1, 1), ("1", 2)))
    {'1': '1', "'1'": '2'}
    """
    if type(frozen) is tuple and frozen and frozen[0] == "d":
        items = frozen[1:]
        names = [k if isinstance(k, str) else show(k) for k, _ in items]
        if len(set(names)) < len(names):
            alike = {n for n in names if names.count(n) > 1}
            names = [repr(k) if n in alike and isinstance(k, str) else n for (k, _), n in zip(items, names)]
        return {n: _view(v) for n, (_, v) in zip(names, items)}
    return show(frozen)


_CODE_PLACE = re.compile(r" at [^\s:]+:\d+ in [\w<>.]+")
"""Where a failure happened in the student's code, as :func:`~quorumcheck.student.worker.containment.call_contained`
writes it."""


def symlink_notice(path: str | Path) -> str | None:
    """The notice for a submission given as a symbolic link (another student's file, say), else ``None``.

    >>> symlink_notice(__file__) is None
    True
    """
    if not Path(path).is_symlink():
        return None
    return f"{printable(path)} is a symbolic link: the file tested is {printable(Path(path).resolve())}"


def _encodable(path: str) -> bool:
    """Whether ``path`` can name a file here (a lone surrogate cannot)."""
    try:
        os.fsencode(path)
    except UnicodeError:
        return False
    return True


MEMORY_CHECK_EVERY = 64
"""Steps between two readings of the process's memory, when the model has a limit (``max_memory_mb``)."""


def resident_bytes() -> int:
    """This process's resident memory now (Linux: ``/proc/self/statm``; elsewhere its peak so far).

    >>> resident_bytes() > 0
    True
    """
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _memory_limit() -> None:
    from quorumcheck.explorer.search import MemoryLimitReached

    raise MemoryLimitReached


def _checkpoint() -> None:
    """:func:`quorumcheck.explorer.search.checkpoint`, imported at the first call (the explorer imports the models):
    one state's successors can be thousands of handler calls, and the time limit and Ctrl-C bind between them."""
    global _checkpoint
    from quorumcheck.explorer.search import checkpoint

    _checkpoint = checkpoint
    checkpoint()


def _sorted_envelopes(envelopes: Iterable[tuple[int, int, str, Hashable]]) -> tuple[Any, ...]:
    """Envelopes ``(source, destination, text, frozen message)`` in order: a bag of messages as one tuple.

    Two messages that print alike can be frozen values that do not compare (an enum named ``1`` with a member
    ``5`` prints as ``1.5``, as the float does): those are ordered by their frozen form's text instead.

    >>> _sorted_envelopes([(0, 1, "1.5", ("e", "m.1", "5")), (0, 1, "1.5", 1.5), (0, 1, "0", 0)])[0]
    (0, 1, '0', 0)
    """
    try:
        return tuple(sorted(envelopes))
    except TypeError:
        return tuple(sorted(envelopes, key=lambda e: (e[0], e[1], e[2], repr(e[3]))))


def _records(contract: Contract, observed: Sequence[Hashable]) -> bool:
    """Whether the contract takes these observations into a history (it may not: incomparable ballots)."""
    try:
        contract.initial_history(observed)
    except InvalidStudentCode:
        return False
    return True


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


def _unless_failed(condition: Callable[..., bool]) -> Callable[..., bool]:
    """A protocol property holds in a state where a handler failed: there is no observation to judge, and the
    failure itself is the containment property's finding (and a counterexample's culprit is looked for along
    every state, that one included)."""

    def holds(*states: ActorState) -> bool:
        return any(_unobserved(s) for s in states) or condition(*states)

    return holds


def _observed_and(condition: Callable[[ActorState], bool]) -> Callable[[ActorState], bool]:
    """A reachability property is never witnessed by a state where a handler failed (it read as witnessed "in
    0 steps" when the initial state failed)."""

    def holds(state: ActorState) -> bool:
        return not _unobserved(state) and condition(state)

    return holds


_FAILED_FOOTPRINT = ("a handler failed",)


def _unobserved(state: ActorState) -> bool:
    """A handler failed: the state, or one node of it, has no observation."""
    return state.observed is None or None in state.observed


def _footprint_unless_failed(footprint: Callable[[ActorState], Hashable]) -> Callable[[ActorState], Hashable]:
    """The footprint of a protocol property, with one key of its own for the states where a handler failed."""

    def key(state: ActorState) -> Hashable:
        return _FAILED_FOOTPRINT if _unobserved(state) else footprint(state)

    return key


def _partition_groups(n: int) -> tuple[int, ...]:
    """One mask per way of splitting the nodes in two non-empty groups (the smaller side, or the one with n0)."""
    out = []
    for size in range(1, n // 2 + 1):
        for combo in itertools.combinations(range(n), size):
            if 2 * size == n and 0 not in combo:
                continue
            out.append(sum(1 << i for i in combo))
    return tuple(out)


def _contract_settings(requests: int, max_timeouts: int, max_term: int) -> dict[str, Any]:
    """What the observation contract is told of the bounds (the same on both sides of the boundary)."""
    return {"values": tuple(f"v{k + 1}" for k in range(requests)), "max_term": max_term,
            "max_log": requests + max_timeouts, "requests": requests,
            "ballot_capacity": max(2, requests + max_timeouts + 1)}


def _host(node: Any, nodes: int | None, protocol: str, settings: dict[str, Any], handler_timeout: float,
          determinism: bool, memory_mb: int | None, isolate: bool | None,
          source: dict[str, Any] | None) -> tuple[Any, dict[str, Any], int | None]:
    """The host that runs the handlers, where the classes come from, and the node count asked for."""
    from quorumcheck.student.inprocess import InProcessHost
    from quorumcheck.student.worker.loading import find_node_classes, load_student_file, node_classes, not_a_file

    if isinstance(node, (str, Path)):
        from quorumcheck.student.trusted.workers import StudentSource, WorkerHost

        where = StudentSource.parse(str(node))
        named = {"file": str(Path(where.file).resolve())}
        if where.classes:
            named["classes"] = list(where.classes)
        if isolate is False:
            module = load_student_file(where.file)
            classes = node_classes(*_one_or_many(find_node_classes(module, where.classes), nodes))
            return (InProcessHost(classes, protocol, settings, handler_timeout=handler_timeout,
                                  determinism=determinism), dict(source or named), nodes)
        if not Path(where.file).is_file():
            raise InvalidStudentCode(f"{where.file}: {not_a_file(Path(where.file))}")
        if nodes is not None and (isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1):
            raise InvalidParameter(f"nodes must be an integer >= 1, got {nodes!r}")
        host = WorkerHost(where, nodes, protocol, settings, handler_timeout=handler_timeout, memory_mb=memory_mb,
                          determinism=determinism)
        return host, dict(source or named), nodes
    classes = node_classes(node, nodes)
    return (InProcessHost(classes, protocol, settings, handler_timeout=handler_timeout, determinism=determinism),
            dict(source) if source else _source_of(classes), nodes)


def _one_or_many(found: list[type[Node]], nodes: int | None) -> tuple[Any, int | None]:
    return (found[0], nodes) if len(found) == 1 else (found, None)


def _source_of(classes: Sequence[type[Node]]) -> dict[str, Any]:
    import sys

    distinct = list(dict.fromkeys(classes))
    module = distinct[0].__module__
    loaded = sys.modules.get(module)
    file = getattr(loaded, "__file__", None)
    source: dict[str, Any] = {"file": str(Path(file).resolve())} if file else {"module": module}
    source["classes"] = [c.__name__ for c in (classes if len(distinct) > 1 else distinct)]
    return source


def load_student_file(path: str | Path, *, time_limit_seconds: float = 10.0) -> Any:
    """Import a student's file into this process (no isolation): see
    :func:`quorumcheck.student.worker.loading.load_student_file`."""
    from quorumcheck.student.worker.loading import load_student_file as load

    return load(path, time_limit_seconds=time_limit_seconds)


def find_node_classes(namespace: Any, names: Sequence[str] | None = None) -> list[type[Node]]:
    """The node classes a module defines: see :func:`quorumcheck.student.worker.loading.find_node_classes`."""
    from quorumcheck.student.worker.loading import find_node_classes as find

    return find(namespace, names)
