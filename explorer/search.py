"""The one breadth-first search loop; everything else in quorumcheck composes on it.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> r = explore(PaxosModel(max_ballot=1))
>>> r.verdict.value, r.distinct_states, r.depth, r.transitions
('holds', 3921, 17, 22994)
>>> explore(PaxosModel(max_ballot=1), max_states=100).verdict.value
'undetermined'
"""

from __future__ import annotations

import contextlib
import gc
import os
import reprlib
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from quorumcheck.models.api import Action, Expectation, Model, Property, State

from quorumcheck.errors import InvalidModel, InvalidParameter, QuorumcheckError, Undetermined

from .culprit import with_culprits
from .graph import GraphPart, GraphRecorder, shortest_trace
from .result import CheckResult, FingerprintStats, PropertyStats, Step, Trace, Verdict, Violation, Witness
from .frontier import DiskFrontier
from .shards import Coordinator, Shard, ShardReport, WorkerDied, abort, report_error, start_shards
from .movers import Movers, resolve_movers
from .por import PartialOrderReduction, PorStats, SleepSets, resolve_por
from .store import STORES, FingerprintStore, Fingerprinter, KeySet, ObjectStore, make_store, reexecute
from .symmetry import SymmetryReduction, SymmetryWatch, concrete, resolve_symmetry

__all__ = ["Progress", "checkpoint", "explore"]

_CHECK_EVERY = 512  # expansions between clock reads (timeout, progress)
MAX_WORKERS = 64
"""The most worker processes ``explore(workers=...)`` starts."""


@dataclass(frozen=True)
class Progress:
    """A snapshot of a running search, handed to the ``on_progress`` callback."""

    distinct_states: int
    queue: int
    depth: int
    transitions: int
    seconds: float
    peak_memory_bytes: int

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0


class TimeLimitReached(BaseException):
    """Raised by :class:`_Alarm` inside set-up code when the time limit runs out (never escapes :func:`explore`)."""

    reason = "timeout"
    """The run's ``stop_reason`` when this ends it."""


class MemoryLimitReached(TimeLimitReached):
    """Raised by a model whose memory limit the process has outgrown (student code: ``--max-memory``); the search
    ends as at its time limit, with ``stop_reason`` ``"memory"``."""

    reason = "memory"


class _Alarm:
    """The time limit (a ``SIGALRM`` timer) and Ctrl-C (``SIGINT``), so that both bind from the first instruction.

    A signal only sets :attr:`stop` (``"timeout"`` or ``"interrupted"``), which
    the search loop polls at every transition: raising from a signal handler
    could land inside a finaliser or a library's C bindings, where the exception
    is dropped or changed. Set-up code (building the property judges, symmetry)
    runs inside :meth:`raising`, where the signal raises :class:`TimeLimitReached`
    or :class:`KeyboardInterrupt` as soon as our own code runs, so a long
    translation of formulas over a big instance is cut too. A second Ctrl-C
    during the search raises at once. Outside the main thread (where Python
    gives no signals) only the loop's clock checks bind.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.stop: str | None = None
        self.expanding = False
        """Set while the loop takes steps: then :func:`checkpoint`, called from a model, may end the run."""
        self._raise = False
        self._previous: dict[int, Any] = {}

    @property
    def fired(self) -> bool:
        return self.stop is not None

    def _pending(self) -> BaseException:
        return TimeLimitReached() if self.stop == "timeout" else KeyboardInterrupt()

    def _ring(self, signum: int, frame: Any) -> None:
        """SIGALRM: the time limit ran out (or a deferred exception is due).

        During the search it only sets :attr:`stop`, which the loop reads between steps; but a property judged
        by the pure-Python evaluator over a large instance can take minutes for one state, so there it raises
        :class:`TimeLimitReached` at once (nothing of the state's judgement has been recorded yet, and the run
        ends undetermined).
        """
        if self.stop is None:
            self.stop = "timeout"
            if not self._raise and _in_evaluator(frame):
                raise TimeLimitReached
        self._maybe_raise(frame)

    def _interrupt(self, signum: int, frame: Any) -> None:
        """SIGINT: Ctrl-C."""
        if self.stop == "interrupted" and not self._raise:
            raise KeyboardInterrupt  # the second Ctrl-C
        self.stop = "interrupted"
        self._maybe_raise(frame)

    def _maybe_raise(self, frame: Any) -> None:
        if self._raise:
            if _unsafe_to_raise(frame):
                signal.setitimer(signal.ITIMER_REAL, 0.01)  # not safe to raise here: try again in 10 ms
                return
            raise self._pending()

    def __enter__(self) -> _Alarm:
        global _ACTIVE
        self._outer, _ACTIVE = _ACTIVE, self
        if threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGALRM] = signal.signal(signal.SIGALRM, self._ring)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when the caller handles it
                self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._interrupt)
            for signum in (signal.SIGTERM, signal.SIGHUP):
                terminate = signal.getsignal(signum)
                if getattr(terminate, "interrupts", False):  # the CLI's: SIGTERM and SIGHUP are Ctrl-C (noted)
                    self._previous[signum] = signal.signal(signum, self._terminated_by(terminate))
            if self.seconds is not None:
                signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def _terminated_by(self, terminate: Any) -> Callable[[int, Any], None]:
        """A handler for a signal the CLI takes as Ctrl-C: it notes the signal (so the result names it) and
        interrupts the search as Ctrl-C does."""

        def on_terminate(signum: int, frame: Any) -> None:
            getattr(terminate, "note", lambda _: None)(signum)
            self._interrupt(signum, frame)

        return on_terminate

    def __exit__(self, *exc: Any) -> None:
        global _ACTIVE
        _ACTIVE = self._outer
        if self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            self._previous = {}

    @contextlib.contextmanager
    def raising(self) -> Iterator[None]:
        """Within this block a signal raises at once (or as soon as our own code runs)."""
        if self.stop is not None:
            raise self._pending()
        self._raise = True
        try:
            yield
        finally:
            self._raise = False


_ACTIVE: _Alarm | None = None
"""The alarm of the search running in this process, if any (see :func:`checkpoint`)."""


def checkpoint() -> None:
    """End the running search now if its time limit ran out or Ctrl-C was pressed; for models whose successor
    function is long.

    The search reads its alarm between transitions, but a model computes all of one state's successors in one
    call. Student code that sends thousands of messages makes that thousands of handler calls, and ``--timeout``
    would wait for all of them. A model may call this between the successors it builds: while the search is
    taking steps, it raises what the loop turns into an undetermined result ("timeout" or "interrupted"), and
    otherwise (no search, or a result being put together after one) it does nothing.

    >>> checkpoint()  # no search running: nothing to do
    """
    alarm = _ACTIVE
    if alarm is not None and alarm.stop is not None and alarm.expanding:
        raise alarm._pending()


_OWN_CODE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


_EVALUATOR = os.path.join(_OWN_CODE, "invariants", "evaluate.py")


def _in_evaluator(frame: Any) -> bool:
    """Whether the interrupted code is the pure-Python formula evaluator (ours, no C bindings, no finaliser)."""
    return frame is not None and frame.f_code.co_filename == _EVALUATOR


@contextlib.contextmanager
def evaluation_deadline(seconds: float | None, active: Callable[[], bool] = lambda: True) -> Iterator[None]:
    """Past ``seconds``, a property being judged by the pure-Python evaluator raises :class:`TimeLimitReached`.

    For loops that check their own time limit between steps (random schedules), where one judgement of a large
    property can take minutes. Outside the evaluator nothing is raised, and it looks again every 50 ms; nor
    while ``active()`` is false. Main thread only (elsewhere it does nothing).
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum: int, frame: Any) -> None:
        if active() and _in_evaluator(frame):
            raise TimeLimitReached
        signal.setitimer(signal.ITIMER_REAL, 0.05)

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _unsafe_to_raise(frame: Any) -> bool:
    """Whether raising now would be unsafe: outside quorumcheck's own code, or inside a ``__del__``.

    An exception raised in a finaliser is printed and dropped, and one raised
    inside a library's C bindings (z3's ctypes calls) comes out as a different
    error; the alarm then rings again a moment later, when our own code runs.
    """
    name = frame.f_code.co_filename if frame is not None else ""
    if not name.startswith(_OWN_CODE) or "site-packages" in name:
        return True
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _cut_before_search(model: Model[Any], started: float, reason: str) -> CheckResult[Any]:
    """The result of a run stopped (time limit, Ctrl-C) while it was still being set up."""
    return CheckResult(
        verdict=Verdict.UNDETERMINED, model_name=model.name, settings=model.settings(), bug=getattr(model, "bug", None),
        distinct_states=0, transitions=0, depth=0, seconds=time.perf_counter() - started,
        peak_memory_bytes=peak_memory_bytes(), stop_reason=reason, complete=False,
    )


def peak_memory_bytes() -> int:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _resume_collector() -> None:
    """Turn CPython's cyclic collector back on after a search, without rescanning what the search built.

    The search ran with the collector paused, so every object it allocated sits
    in the youngest generation. Re-enabled as it is, the collector would scan
    all of them at the next allocations, promote them, and scan them again one
    generation up: 4.4 s after Paxos 0..3 with symmetry and the graph (some 30 M
    objects), then 15.8 s more in the caller's next allocations. Freezing and
    unfreezing moves them straight to the oldest generation, which only the
    collector's occasional full pass reads. If the caller froze objects of its
    own (``gc.freeze`` before a fork), unfreezing would undo that, so the
    collector is then just turned on.
    """
    if not gc.get_freeze_count():
        gc.freeze()
        gc.unfreeze()
    gc.enable()


def explore(
    model: Model[State],
    *,
    max_states: int | None = None,
    max_depth: int | None = None,
    timeout: float | None = None,
    stop_at_first: bool = True,
    keep_graph: bool | None = None,
    properties: Sequence[str] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 0.5,
    symmetry: bool | Sequence[str] = False,
    store: str = "objects",
    workers: int = 1,
    ray: str | None = None,
    por: bool = False,
    movers: bool = False,
) -> CheckResult[State]:
    """Explore every reachable state of ``model`` breadth-first and check its properties.

    Parameters
    ----------
    model : Model
    max_states : int, optional
        Stop (verdict ``UNDETERMINED``) rather than store more distinct states. With
        ``movers``, the states passed through inside transactions (kept to meet each
        once) count as well.
    max_depth : int, optional
        Stop (``UNDETERMINED``) rather than go deeper; depth is counted as TLC
        reports it, so initial states have depth 1 and ``max_depth=25`` lets
        Paxos 0..2 (depth 25) complete.
    timeout : float, optional
        Seconds of wall-clock time, then stop (``UNDETERMINED``).
    stop_at_first : bool, default True
        Stop at the first safety violation. With ``False`` the search goes on
        and reports every violated property, each with its own shortest trace.
    keep_graph : bool, optional
        Keep the state graph (``result.graph``); the default with the object
        store in one process. Without it only BFS parent links are kept, which
        needs far less memory for very large runs. With ``workers > 1`` only on
        request: each worker records its part, and the coordinator gathers the
        parts into one graph at the end (every state is sent to it once,
        pickled), which costs more than the second core gains on Paxos 0..2.
    properties : sequence of str, optional
        Names of the properties to check, or ``["all"]`` for every one. By
        default, the model's properties except those marked ``default=False``
        (auxiliary lemmas such as the parts of an inductive invariant).
    on_progress : callable, optional
        Called with a :class:`Progress` about every ``progress_interval`` seconds.
    symmetry : bool or sequence of str, default False
        Symmetry reduction (TLC's ``SYMMETRY``): ``True`` permutes every sort
        the model declares in :meth:`~quorumcheck.models.api.Model.symmetric_sorts`,
        a list names some of them. Each state is replaced by the canonical
        member of its orbit before it is stored, so counts are orbit counts;
        traces are still concrete traces of the unreduced model (see
        :mod:`quorumcheck.explorer.symmetry`). A property that names a
        particular element turns its sort off, with a notice in ``result.notices``.
    store : {"objects", "fingerprints"}, default "objects"
        Where seen states are kept (see :mod:`quorumcheck.explorer.store`).
        ``"fingerprints"`` keeps a 64-bit fingerprint per state instead of the
        state (so it keeps no graph): a fraction of the memory, and a
        verdict exact up to the collision chance in ``result.fingerprints``.
    workers : int, default 1
        Search with this many processes (see :mod:`quorumcheck.explorer.shards`):
        each owns a shard of the states, and they exchange successors level by
        level, so counts, depth, verdicts and counterexample lengths are those
        of one process. Without ``keep_graph=True`` the graph is not kept.
    por : bool, default False
        Partial-order reduction: static ample sets for a model that names
        persistent steps, sleep sets for one that names its steps' resources
        (:mod:`quorumcheck.explorer.por`).
    movers : bool, default False
        The reduction by right movers (:mod:`quorumcheck.explorer.movers`) for a
        model that names silent steps (student code): a silent step's node moves
        on at once, and the states in between are neither stored nor checked. The
        same verdicts, reachable property answers and shortest counterexamples;
        counts are those of the reduced graph, and depth still counts steps.

    Returns
    -------
    CheckResult

    Notes
    -----
    A successor outside the model's bound (``within_boundary`` is false) is
    checked against the safety properties but neither counted among the
    distinct states, nor stored in the graph, nor expanded, exactly as TLC
    treats a ``CONSTRAINT``. Every generated transition is counted in
    ``transitions``, including stuttering steps and steps leaving the bound.

    Because the search is breadth-first and checks a state when it is first
    discovered, the first violation of each property has a shortest trace.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> r = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"))
    >>> r.verdict.value, len(r.violation.trace)
    ('violated', 12)
    >>> r = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"), stop_at_first=False)
    >>> [v.property for v in r.violations]
    ['agreement']
    """
    _check_model(model)
    _check_limits(max_states=max_states, max_depth=max_depth, timeout=timeout)
    properties = names_given(properties, "properties", "['agreement']")
    if not isinstance(symmetry, bool):
        symmetry = names_given(symmetry, "symmetry", "['Acceptor'], or True for every symmetric sort") or False
    if por and (workers != 1 or ray is not None):
        raise InvalidParameter("partial-order reduction runs in one process: drop --workers and --ray, or drop --por")
    if movers and (workers != 1 or ray is not None):
        raise InvalidParameter("the reduction by movers runs in one process: drop --workers and --ray, or drop "
                               "--movers")
    if movers and por:
        raise InvalidParameter("choose one reduction: sleep sets (--por) or right movers (--movers), not both")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InvalidParameter(f"workers must be a whole number from 1 to {MAX_WORKERS}, got {workers!r}; "
                               f"this machine has {os.cpu_count()} cores")
    if ray is not None:
        from .ray_shards import connected

        if not isinstance(ray, str) or not ray:
            raise InvalidParameter(f"ray must be 'local' or a cluster address (host:port), got {ray!r}")
        with connected(ray) as cluster:
            if workers == 1:  # a shard per CPU of the cluster, at least two
                workers = max(2, min(MAX_WORKERS, int(cluster.cluster_resources().get("CPU", 2))))
            with _Alarm(timeout) as alarm:
                return _search(
                    model, max_states=max_states, max_depth=max_depth, timeout=timeout,
                    stop_at_first=stop_at_first, keep_graph=keep_graph, properties=properties,
                    on_progress=on_progress, progress_interval=progress_interval, symmetry=symmetry, store=store,
                    alarm=alarm, workers=workers, ray=cluster,
                )
    with _Alarm(timeout) as alarm:
        return _search(
            model, max_states=max_states, max_depth=max_depth, timeout=timeout, stop_at_first=stop_at_first,
            keep_graph=keep_graph, properties=properties, on_progress=on_progress,
            progress_interval=progress_interval, symmetry=symmetry, store=store, alarm=alarm, workers=workers,
            por=por, movers=movers,
        )


def _search(
    model: Model[State],
    *,
    max_states: int | None,
    max_depth: int | None,
    timeout: float | None,
    stop_at_first: bool,
    keep_graph: bool | None,
    properties: Sequence[str] | None,
    on_progress: Callable[[Progress], None] | None,
    progress_interval: float,
    symmetry: bool | Sequence[str],
    store: str,
    alarm: _Alarm,
    workers: int = 1,
    ray: Any = None,
    remote: tuple[int, int, Any] | None = None,
    por: bool = False,
    movers: bool = False,
) -> CheckResult[State]:
    """The search itself (see :func:`explore`), with ``alarm`` ringing when ``timeout`` runs out.

    ``ray``: the connected Ray module, to run the ``workers`` shards as its actors; ``remote``: inside
    such an actor, ``(index, count, mailbox)`` of its shard.
    """
    started = time.perf_counter()
    if store not in STORES:
        raise InvalidParameter(f"unknown store {store!r}; choose one of: {', '.join(STORES)}")
    if keep_graph is None:  # with workers, gathering the graph costs more than the second core gains: on request
        keep_graph = store == "objects" and workers == 1 and ray is None
    if store != "objects" and keep_graph:
        raise InvalidParameter(
            f"store={store!r} keeps no state objects, so it cannot keep the state graph; pass keep_graph=False "
            "(--no-graph) or store='objects'"
        )
    notices: list[str] = []
    reduction: SymmetryReduction | None = None
    try:
        with alarm.raising():  # building judges and symmetry can take long on big instances: the limit binds here too
            safety, reach, steps = _select_properties(model, properties)
            init = _initial_states(model)
            if remote is None:  # checked once, not per transition (a Ray shard's coordinator checked it)
                _check_successors(model, init[0])
            if symmetry:
                # Ray's actors are separate interpreters, whose hash() of a string differs: they pick orbit
                # representatives by fingerprint, which every interpreter computes alike.
                resolved = resolve_symmetry(model, symmetry, [*safety, *reach, *steps],
                                            key=hash if ray is None and remote is None else Fingerprinter())
                reduction, notices = resolved.reduction, resolved.notices
    except TimeLimitReached:
        return _cut_before_search(model, started, "timeout")
    except KeyboardInterrupt:
        return _cut_before_search(model, started, "interrupted")
    canon = reduction.canonical if reduction is not None else None
    origins: dict[Any, Any] = {}  # canonical initial state -> the model's own initial state

    succ = model.successors
    bounded = model.has_boundary
    within = model.within_boundary
    deadline = None if timeout is None else started + timeout
    state_cap = max_states if max_states is not None else -1

    lipton: Movers | None = None
    if movers:
        if canon is not None:
            notices.append("reduction by movers is off: it does not combine with symmetry reduction yet")
        else:
            lipton, mover_notices = resolve_movers(model, steps, Fingerprinter() if store == "fingerprints" else None)
            notices += mover_notices
            if lipton is not None:
                succ = lipton.whole  # whole transactions: what re-executing a trace steps through
    waiting: Callable[[], bool] = (lambda: False) if lipton is None else lipton.holding
    seen = make_store(store, succ, canon)  # a trace is re-executed over every step, reduced or not
    find, remember = (seen.ids.get if isinstance(seen, ObjectStore) else seen.find), seen.add
    ample: PartialOrderReduction | SleepSets | None = None
    sleeper: SleepSets | None = None
    if por:
        ample, por_notices = resolve_por(model, safety, reach, steps, symmetry=canon is not None)
        notices += por_notices
        if isinstance(ample, SleepSets):
            sleeper = ample  # the loop asks it for each state's steps and tells it where each led
        elif ample is not None:
            def is_new(t: Any) -> bool:
                """C3: the persistent step's successor is inside the bound and not seen yet."""
                if (bounded and not within(t)) or find(t) is not None:
                    return False
                return canon is None or find(canon(t)) is None

            succ = ample.successors(model.successors, is_new)

    if reduction is not None and workers <= 1 and ray is None and remote is None:
        # The check before the run saw its first states only: the watch goes on testing the declaration on the
        # states the run expands, so a renaming that fails deep in the state space stops the run.
        succ = SymmetryWatch(reduction, [*safety, *reach, *steps]).successors(succ)

    def expand(u: int, s: Any) -> Iterable[tuple[Action, Any]]:
        """The steps the loop takes from ``s``, stored as ``u``, at this level (through a reduction's plug-in)."""
        if sleeper is not None:
            return sleeper.expand(u, s)
        if lipton is not None:
            return lipton.expand(u, s, depth, len(seen))
        return succ(s)

    def advance(held: list[Any], taken: int, upto: int | None, into: Any) -> tuple[int, str | None]:
        """Movers: the transactions ``held[taken:]`` tagged up to ``upto`` (all: None) take their next step at
        this level; how many are taken, and a reason to stop or None."""
        nonlocal transitions
        assert lipton is not None
        while taken < len(held) and (upto is None or held[taken][0] <= upto):
            if alarm.stop is not None:  # the time limit, or Ctrl-C
                return taken, alarm.stop
            ends = lipton.advance(held[taken], depth, len(seen))
            taken += 1
            for u, before, action, t in ends:
                transitions += 1
                if steps and check_step(u, before, action, t):
                    return taken, "violation"
                v = find(t)
                if v is None:
                    stop = discover(t, u, action, depth, into)
                    if stop is not None:
                        return taken, stop
                elif recorder is not None:
                    recorder.add_transition(u, v, action)
        return taken, None

    recorder = GraphRecorder() if keep_graph else None
    failed: dict[str, tuple[int, Action | None, Any]] = {}  # property -> (node or parent, action, state)
    failed_outside: set[str] = set()
    witnessed: dict[str, int] = {}
    witnessed_at: dict[str, tuple[int, int]] = {}  # reachability property -> (level, shard) of its witness
    pending = list(reach)
    checked_outside: set[Any] = set()  # states outside the bound, checked once: by fingerprint with that store
    outside_key = seen.key if isinstance(seen, FingerprintStore) else None
    transitions = 0
    stop: str | None = None
    depth = 0

    unfailed = list(safety)  # safety properties not yet violated
    discovered: dict[str, tuple[int, int, int]] = {}  # violated property -> (level, shard, order) of its discovery
    shard: Shard | None = None
    nshards, me = 1, 0  # node numbers are global: local index * nshards + me

    def check(node: int, via_action: Action | None, state: Any, outside: bool) -> bool:
        """Check one newly found state; True when the search must stop."""
        if pending and not outside:  # first: a state that stops the search still witnesses what it reaches
            for p in [p for p in pending if p.holds(state)]:
                witnessed[p.name] = node
                witnessed_at[p.name] = (depth, me)
                pending.remove(p)
        for p in unfailed:
            if not p.holds(state):
                failed[p.name] = (node, via_action, state)
                discovered.setdefault(p.name, (depth, me, len(discovered)))
                if outside:
                    failed_outside.add(p.name)
                if stop_at_first:
                    return True
        if len(failed) != len(safety) - len(unfailed):
            unfailed[:] = [p for p in unfailed if p.name not in failed]
        return False

    new_level = list if isinstance(seen, ObjectStore) else DiskFrontier  # the fingerprint store spills wide levels
    frontier: Any = new_level()  # (node, state) of the level being expanded
    init_nodes: list[int] = []
    # The search allocates millions of long-lived containers and frees almost
    # none, so CPython's cyclic collector would rescan them again and again for
    # nothing (a third of the run time at Paxos 0..2); pause it for the search.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    failed_steps: dict[str, tuple[int, Action, Any]] = {}  # step property -> (source node, action, target)

    def check_step(u: int, before: Any, action: Action, after: Any) -> bool:
        """Check the action properties on one transition; True when the search must stop."""
        for p in steps:
            if p.name not in failed_steps and not p.holds_on_step(before, after):
                failed_steps[p.name] = (u, action, after)
                discovered.setdefault(p.name, (depth, me, len(discovered)))
                if stop_at_first:
                    return True
        return False

    admitted: int | None = None  # the node discover() stored last

    def beyond(t: Any, u: int, action: Action | None) -> str | None:
        """Check a state outside the bound (once): "violation", or None. It is never stored."""
        seen_outside = t if outside_key is None else outside_key(t)
        if seen_outside not in checked_outside:
            checked_outside.add(seen_outside)
            if check(u, action, t, True):
                return "violation"
        return None

    def discover(t: Any, u: int, action: Action | None, level: int, into: Any) -> str | None:
        """Admit a state not seen before (or check it, outside the bound); a reason to stop, or None."""
        if bounded and not within(t):
            return beyond(t, u, action)
        # With movers the states kept inside transactions (stats.met) count against the cap as well.
        if len(seen) == state_cap or (lipton is not None and 0 <= state_cap <= len(seen) + lipton.stats.met):
            return "max_states"
        nonlocal admitted
        v = admitted = remember(t, u, action) * nshards + me
        if note is not None:
            note(t)
        into.append((v, t))
        if recorder is not None:
            recorder.add_state(v, t, level)
            if u >= 0 and u % nshards == me:  # a parent of another worker's: that worker records the edge
                recorder.add_transition(u, v, action)  # type: ignore[arg-type]
        return "violation" if check(v, action, t, False) else None

    if recorder is not None and canon is not None:
        recorder.graph.graph["canonical"] = canon
    note: Callable[[Any], None] | None = None
    if workers > 1 or remote is not None:
        fingerprints = isinstance(seen, FingerprintStore)
        # Forked workers share Python's hash(); Ray's actors are separate interpreters: fingerprints.
        key: Callable[[Any], int] = (seen.key if fingerprints
                                     else hash if ray is None and remote is None else Fingerprinter())
        owned = (lambda: seen.table) if fingerprints else KeySet
        coordinator: Coordinator | None
        if remote is not None:  # a Ray actor: its shard talks through the mailbox and the object store
            from .ray_shards import RayShard

            shard, coordinator = RayShard(remote[0], remote[1], remote[2], key, owned()), None
        elif ray is not None:
            from .ray_shards import start_ray_shards

            shard, coordinator = None, start_ray_shards(
                ray, workers, model,
                {"max_states": max_states, "max_depth": max_depth,
                 # Each actor also checks the time left as it expands, not only at the level's barrier.
                 "timeout": None if deadline is None else max(deadline - time.perf_counter(), 0.001),
                 "stop_at_first": stop_at_first, "keep_graph": keep_graph, "properties": properties,
                 "on_progress": None, "progress_interval": progress_interval, "symmetry": symmetry,
                 "store": store},
                max_states=max_states, deadline=deadline, stop_at_first=stop_at_first)
        else:
            shard, coordinator = start_shards(workers, key, owned, max_states=max_states, deadline=deadline,
                                              stop_at_first=stop_at_first)
        if coordinator is not None:  # this process coordinates; the workers run the loop below
            # The collector stays paused here too: the workers' reports (every state and edge, with the graph
            # kept) are millions of new objects, which it would rescan while they arrive and are joined.
            try:
                origins = {(s if canon is None else canon(s)): s for s in reversed(init)}
                return _coordinate(coordinator, model, started, safety, reach, steps, list(origins), succ, canon,
                                   concrete(reduction, origins), fingerprints, notices, reduction, on_progress,
                                   alarm, key)
            finally:
                if gc_was_enabled:
                    _resume_collector()
        assert shard is not None
        nshards, me = shard.count, shard.index
        if recorder is not None:  # a worker only ships its part of the graph: flat arrays, not networkx's dicts
            recorder = GraphPart()  # type: ignore[assignment]
        on_progress = None  # the coordinator reports the sums, once per level
        if not fingerprints:
            note = shard.note
        owner_of, send_later = shard.owner, shard.send_later  # looked up once: called for every transition
        share = model.share  # unpickled states share no parts with the ones this worker built
        if deadline is not None and remote is None:  # a forked child inherits no interval timer
            signal.setitimer(signal.ITIMER_REAL, max(deadline - time.perf_counter(), 0.001))
    active = True
    alarm.expanding = True  # checkpoint() may end the run from inside a model's successors (not after the loop)
    try:
        for s in init:
            if canon is not None:
                given, s = s, canon(s)
                origins.setdefault(s, given)
            if shard is not None and shard.owner(s) != me:
                continue
            if find(s) is None:
                stop = discover(s, -1, None, 0, frontier)
                if stop is not None:
                    break
        init_nodes = [v for v, _ in frontier]
        if shard is not None:
            stop, active = shard.barrier(len(seen), 0, len(frontier), stop)
        if frontier if shard is None else active:
            depth = 1

        expanded = 0
        deepest = depth  # the deepest level that stored a state
        last_report = started
        while stop is None and (frontier or waiting() if shard is None else active):
            if max_depth is not None and depth >= max_depth:
                # The last level's steps are taken but store nothing: anything new beyond it means the run was
                # cut. Every step is still counted and its action properties checked, and a successor outside
                # the bound checked, as at any other level: a run that ends complete here has judged every step.
                cut = False
                for u, s in frontier:
                    for action, t in (succ(s) if lipton is None else lipton.expand(u, s, depth)):
                        if alarm.stop is not None:  # the time limit, or Ctrl-C
                            stop = alarm.stop
                            break
                        transitions += 1
                        if t is s:
                            continue
                        if steps and check_step(u, s, action, t):
                            stop = "violation"
                            break
                        if bounded and not within(t):
                            stop = beyond(t, u, action)
                            if stop is not None:
                                break
                            continue
                        c = t if canon is None else canon(t)
                        owner = me if shard is None else shard.owner(c)
                        if owner != me:
                            shard.send_later(owner, u, None, c)  # type: ignore[union-attr]
                            continue
                        v = find(c)
                        if v is None:
                            cut = True
                        elif recorder is not None and shard is None:
                            recorder.add_transition(u, v, action)
                    if stop is not None:
                        break
                if shard is None:
                    if lipton is not None and any(find(t) is None for t in lipton.held_ends(depth)):
                        cut = True
                    if stop is None and cut:
                        stop = "max_depth"
                else:
                    cut = bool(shard.end_level(reserve=False)) or cut
                    stop, _ = shard.barrier(len(seen), transitions, 0, stop or ("max_depth" if cut else None))
                break
            next_frontier = new_level()
            in_level = 0
            # Transactions under way take their next step at this level, each where breadth-first search would
            # have met its state: before the stored states numbered from its tag on.
            held = lipton.take(depth) if lipton is not None and shard is None else []
            taken = 0
            for u, s in frontier:
                if taken < len(held) and held[taken][0] <= u:
                    taken, stop = advance(held, taken, u, next_frontier)
                    if stop is not None:
                        break
                for action, t in expand(u, s):
                    if alarm.stop is not None:  # the time limit, or Ctrl-C
                        stop = alarm.stop
                        break
                    transitions += 1
                    # A stuttering step satisfies every action property ([A]_vars in TLA+).
                    if steps and t is not s and check_step(u, s, action, t):
                        stop = "violation"
                        break
                    if t is s:
                        v = u
                    elif shard is not None:  # the owner of the canonical state decides whether it is new
                        if bounded and not within(t):  # only checked (by this worker), never stored or routed
                            stop = beyond(t, u, action)
                            if stop is not None:
                                break
                            continue
                        if canon is not None:
                            t = canon(t)
                        owner = owner_of(t)
                        if owner != me:
                            send_later(owner, u, action, t)
                            if recorder is not None:  # resolved by the coordinator: the owner numbers t
                                recorder.add_remote(u, shard.last_key, action)  # type: ignore[union-attr]
                            continue
                        v = find(t)
                    else:
                        v = find(t)  # a stored state is canonical: found as it is, it needs no renaming
                        # A state outside the bound is only checked, never stored: it needs no renaming either.
                        if v is None and canon is not None and (not bounded or within(t)):
                            t = canon(t)
                            v = find(t)
                    if v is None:
                        admitted = None
                        stop = discover(t, u, action, depth, next_frontier)
                        if sleeper is not None:
                            sleeper.arrive(action, t, admitted, True)
                        if stop is not None:
                            break
                    else:
                        if sleeper is not None:
                            sleeper.arrive(action, t, v, False)
                        if recorder is not None:  # find() numbers locally; nodes are numbered globally
                            recorder.add_transition(u, v if t is s else v * nshards + me, action)
                if stop is not None:
                    break
                expanded += 1
                in_level += 1
                if not expanded % _CHECK_EVERY:
                    now = time.perf_counter()
                    if deadline is not None and now >= deadline:
                        stop = "timeout"
                        break
                    if on_progress is not None and now - last_report >= progress_interval:
                        last_report = now
                        on_progress(Progress(len(seen), len(next_frontier) + len(frontier) - in_level,
                                             depth + 1, transitions, now - started, peak_memory_bytes()))
            else:
                if shard is None:
                    if taken < len(held):
                        taken, stop = advance(held, taken, None, next_frontier)
                        if stop is not None:
                            break
                    frontier = next_frontier
                    if sleeper is not None:
                        sleeper.next_level()
                    if frontier or waiting():
                        depth += 1
                        if frontier:
                            deepest = depth
            if shard is not None:
                for parent, action, t in shard.end_level():
                    if stop is None:
                        stop = discover(share(t), parent, action, depth, next_frontier)
                stop, active = shard.barrier(len(seen), transitions, len(next_frontier), stop)
                if stop is None and active:
                    frontier = next_frontier
                    depth += 1
        if lipton is not None and stop is None:
            depth = deepest  # the last levels may have held only transactions that stored nothing
    except Undetermined:
        stop = "unknown"
    except TimeLimitReached as e:  # raised inside a long Python evaluation of a property (_Alarm._ring), or a
        stop = e.reason             # model's memory limit (MemoryLimitReached)
    except KeyboardInterrupt:  # Ctrl-C: the result so far, undetermined (the CLI exits 130)
        stop = "interrupted"
    except BaseException as e:
        if isinstance(e, Exception) and not isinstance(e, QuorumcheckError):  # the model's own code raised it
            try:
                where = f": {reprlib.repr(model.describe(s))}"  # the state being expanded
            except Exception:  # noqa: BLE001 - no state yet, or one describe() cannot show
                where = ""
            e.add_note(f"quorumcheck: raised while the search expanded a state at depth {depth} of model "
                       f"{model.name!r}{where}")
        if shard is not None:  # a forked worker never returns into its caller's stack
            report_error(shard)
        raise
    finally:
        alarm.expanding = False
        if gc_was_enabled:
            _resume_collector()
    if shard is not None:  # a worker: report to the coordinator, answer its questions, end
        if stop == "unknown":  # mid-level: the others cannot be met at the barrier
            abort(shard, "a property could not be decided (the solver answered unknown)", "unknown")
        _finish_shard(shard, seen, transitions, failed, failed_outside, failed_steps, witnessed, witnessed_at,
                      discovered, [*safety, *reach, *steps],
                      recorder)  # type: ignore[arg-type]

    lift = concrete(reduction, origins) if lipton is None else lipton.spelled_out

    def trace_to(node: int) -> Trace[Any]:
        if recorder is not None:
            return shortest_trace(recorder.graph, node, None if lipton is None else lipton.steps_in)
        return seen.path(node)

    return _result(
        model, started, stop, safety, reach, steps, failed, failed_outside, failed_steps, witnessed, discovered,
        trace_to, lift, distinct_states=len(seen), transitions=transitions, depth=depth, init_nodes=init_nodes,
        graph=recorder.graph if recorder is not None else None,
        judged=_judging([*safety, *reach, *steps]),
        symmetry=tuple(reduction.sorts) if reduction is not None else (), notices=notices,
        fingerprints=(FingerprintStats(seen.memory_bytes(), seen.collision_probability(
            transitions, 0 if lipton is None else lipton.stats.met, 0 if lipton is None else lipton.stats.passed))
                      if isinstance(seen, FingerprintStore) else None),
        partial_order=lipton.stats if lipton is not None else None if ample is None else ample.stats,
    )


def _result(
    model: Model[Any], started: float, stop: str | None, safety: list[Property[Any]], reach: list[Property[Any]],
    steps: list[Property[Any]], failed: dict[str, tuple[int, Action | None, Any]], failed_outside: set[str],
    failed_steps: dict[str, tuple[int, Action, Any]], witnessed: dict[str, int], discovered: dict[str, Any],
    trace_to: Callable[[int], Trace[Any]], lift: Callable[[Trace[Any]], Trace[Any]], *, distinct_states: int,
    transitions: int, depth: int, init_nodes: list[int], graph: Any, judged: dict[str, PropertyStats],
    symmetry: tuple[str, ...], notices: list[str], fingerprints: FingerprintStats | None,
    partial_order: PorStats | None = None,
) -> CheckResult[Any]:
    """The run's result from what the search found (one process, or the workers' reports merged)."""
    violations: list[Violation[Any]] = []
    for p in safety:
        if p.name in failed:
            node, action, state = failed[p.name]
            if p.name in failed_outside:
                prefix = trace_to(node).steps if node >= 0 else ()
                trace = Trace((*prefix, Step(action, state)))
            else:
                trace = trace_to(node)
            trace = lift(trace)
            state = trace.final
            violations.append(
                Violation(p.name, Expectation.ALWAYS, p.description, trace, p.name in failed_outside, p.explain(state))
            )
    for p in steps:
        if p.name in failed_steps:
            node, step_action, after = failed_steps[p.name]
            trace = lift(Trace((*trace_to(node).steps, Step(step_action, after))))
            after = trace.final
            before = trace.steps[-2].state if len(trace.steps) > 1 else None
            violations.append(Violation(p.name, Expectation.EVERY_STEP, p.description, trace, False,
                                        p.explain_step(before, after)))
    # In the order they were found: with --continue the first (the headline, the JSON's "violation", what
    # --save-trace saves) is the one a run that stops at the first violation reports.
    violations.sort(key=lambda v: discovered[v.property])
    witnesses = [
        Witness(p.name, p.description, lift(trace_to(witnessed[p.name])) if p.name in witnessed else None)
        for p in reach
    ]
    pending = [p for p in reach if p.name not in witnessed]
    complete = stop is None
    if violations:
        verdict = Verdict.VIOLATED
    elif not complete:
        verdict = Verdict.UNDETERMINED
    elif pending:
        verdict = Verdict.VIOLATED
        violations = [Violation(p.name, Expectation.SOMETIMES, p.description, None) for p in pending]
    else:
        verdict = Verdict.HOLDS
    return CheckResult(
        verdict=verdict,
        model_name=model.name,
        settings=model.settings(),
        bug=getattr(model, "bug", None),
        distinct_states=distinct_states,
        transitions=transitions,
        depth=depth,
        seconds=time.perf_counter() - started,
        peak_memory_bytes=peak_memory_bytes(),
        violations=with_culprits(model, violations),  # where each counterexample went wrong (culprit.py)
        witnesses=witnesses,
        stop_reason=stop if stop != "violation" else None,
        complete=complete,
        graph=graph,
        init_nodes=init_nodes,
        judging=judged,
        symmetry=symmetry,
        notices=notices,
        fingerprints=fingerprints,
        partial_order=partial_order,
    )


def _judging(props: list[Property[Any]]) -> dict[str, PropertyStats]:
    """What judging each property written as a formula cost in this process."""
    return {p.name: PropertyStats(p.judge.stats.evaluator, p.evaluations, p.cache_hits, p.judge.stats.seconds)
            for p in props if p.judge is not None}


def _finish_shard(shard: Shard, seen: Any, transitions: int, failed: dict[str, tuple[int, Action | None, Any]],
                  failed_outside: set[str], failed_steps: dict[str, tuple[int, Action, Any]],
                  witnessed: dict[str, int], witnessed_at: dict[str, tuple[int, int]], discovered: dict[str, Any],
                  props: list[Property[Any]], graph: GraphPart | None) -> None:
    """A worker's end: its report to the coordinator, then answers about its nodes' parents (never returns)."""
    report = ShardReport(
        states=len(seen), transitions=transitions,
        failed={name: (*record, discovered[name]) for name, record in failed.items()},  # type: ignore[misc]
        failed_outside=failed_outside,
        failed_steps={name: (*record, discovered[name]) for name, record in failed_steps.items()},  # type: ignore[misc]
        witnessed={name: (node, witnessed_at[name]) for name, node in witnessed.items()},
        judging=_judging(props),
        store_bytes=seen.memory_bytes() or 0 if isinstance(seen, FingerprintStore) else shard.owned.nbytes,
        peak_memory_bytes=peak_memory_bytes(),
    )
    report.graph = graph
    count = shard.count

    def path_part(node: int) -> tuple[int, Any, Any, Any]:
        local = node // count
        if isinstance(seen, ObjectStore):
            return seen.parent[local], seen.via[local], seen.states[local], None
        return seen.parent[local], None, None, seen.fps[local]

    shard.finish(report, path_part)


def _coordinate(coordinator: Coordinator, model: Model[Any], started: float, safety: list[Property[Any]],
                reach: list[Property[Any]], steps: list[Property[Any]], roots: list[Any],
                succ: Callable[[Any], Any], canon: Callable[[Any], Any] | None,
                lift: Callable[[Trace[Any]], Trace[Any]], fingerprints: bool, notices: list[str],
                reduction: SymmetryReduction | None,
                on_progress: Callable[[Progress], None] | None, alarm: _Alarm,
                key: Callable[[Any], int] = hash) -> CheckResult[Any]:
    """The coordinating process of a run with workers: drive the levels, merge the reports, rebuild traces."""
    count = len(coordinator.controls)

    def on_level(states: int, transitions: int, queue: int, depth: int) -> None:
        if on_progress is not None:
            now = time.perf_counter()
            on_progress(Progress(states, queue, depth + 1, transitions, now - started, peak_memory_bytes()))

    try:
        try:
            reports = coordinator.run(on_level, lambda: alarm.stop == "interrupted")
        except WorkerDied as e:
            result = _cut_before_search(model, started, e.reason)
            result.notices = [*notices, f"the run with {count} workers ended early: {e}"]
            return result
        failed: dict[str, tuple[int, Action | None, Any]] = {}
        failed_steps: dict[str, tuple[int, Action, Any]] = {}
        failed_outside: set[str] = set()
        witnessed: dict[str, int] = {}
        witness_order: dict[str, tuple[int, int]] = {}
        discovered: dict[str, Any] = {}
        for report in reports:  # per property, the violation found at the lowest level (then the lowest shard)
            for name, (node, action, state, order) in report.failed.items():
                if name not in discovered or order < discovered[name]:
                    failed[name], discovered[name] = (node, action, state), order
                    failed_outside.discard(name)
                    if name in report.failed_outside:
                        failed_outside.add(name)
            for name, (node, action, state, order) in report.failed_steps.items():
                if name not in discovered or order < discovered[name]:
                    failed_steps[name], discovered[name] = (node, action, state), order
            for name, (node, order) in report.witnessed.items():  # the witness at the lowest level: shortest
                if name not in witness_order or order < witness_order[name]:
                    witnessed[name], witness_order[name] = node, order
        judged: dict[str, PropertyStats] = {}
        for report in reports:
            for name, s in report.judging.items():
                old = judged.get(name)
                judged[name] = s if old is None else PropertyStats(
                    s.evaluator, s.calls + old.calls, s.cache_hits + old.cache_hits, s.seconds + old.seconds)
        fingerprint = Fingerprinter()

        def trace_to(node: int) -> Trace[Any]:
            parts = []
            while node >= 0:
                parent, action, state, fp = coordinator.path_part(node)
                parts.append((action, state, fp))
                node = parent
            parts.reverse()
            if not fingerprints:
                return Trace(tuple(Step(action, state) for action, state, _ in parts))
            return reexecute([fp for _, _, fp in parts], roots, succ, canon, fingerprint)

        distinct = sum(r.states for r in reports)
        transitions = sum(r.transitions for r in reports)
        graph = _gather_graph(reports, key) if all(r.graph is not None for r in reports) else None
        stats = FingerprintStats(sum(r.store_bytes for r in reports),
                                 min(1.0, distinct * max(transitions, 1) / 2.0 ** 64))
        result = _result(
            model, started, coordinator.stop_reason, safety, reach, steps, failed, failed_outside, failed_steps,
            witnessed, discovered, trace_to, lift, distinct_states=distinct, transitions=transitions,
            depth=coordinator.depth, init_nodes=[] if graph is None else list(graph.graph["init"]), graph=graph,
            judged=judged,
            symmetry=tuple(reduction.sorts) if reduction is not None else (), notices=notices,
            fingerprints=stats if fingerprints else None,
        )
        if not fingerprints:
            result.notices = [*result.notices, (
                f"{count} workers: states were shared out and told apart across workers by 64-bit hashes, so the "
                f"verdict holds up to a chance of about {stats.collision_probability:.1e} that two states collided")]
        result.workers = count
        # Each worker's peak resident size, plus this process's (pages the forked workers still share are
        # counted in each).
        result.peak_memory_bytes += sum(r.peak_memory_bytes for r in reports)
        return result
    finally:
        coordinator.close()


_MASK = (1 << 64) - 1


def _gather_graph(reports: list[ShardReport], key: Callable[[Any], int]) -> Any:
    """The workers' parts of the state graph as one graph, numbered by the global node numbers.

    A worker records its own states, the edges between them, and its edges to states other workers own by
    the successor's key (the owner numbered it); the keys resolve here, from the states themselves.
    """
    parts: list[GraphPart] = [r.graph for r in reports]
    by_key = {(key(state) & _MASK) or 1: v for part in parts for v, state in zip(part.nodes, part.states)}
    return GraphPart.into(parts, by_key)


def _select_properties(
    model: Model[Any], names: Sequence[str] | None
) -> tuple[list[Property[Any]], list[Property[Any]], list[Property[Any]]]:
    given = model.properties()
    if isinstance(given, Property):
        raise InvalidModel(f"model {model.name!r}: properties() must return a list of properties, got the single "
                           f"property {given.name!r}; return it in a list: [always({given.name!r}, ...)]")
    props = _listed(model, given, "properties() must return a list of properties",
                    "; return e.g. [always('safe', ...)]")
    seen: set[str] = set()
    for p in props:
        if not isinstance(p, Property):
            raise InvalidModel(
                f"model {model.name!r}: properties() must return Property values made with always() or "
                f"sometimes(), got {type(p).__name__}"
            )
        if p.name in seen:
            raise InvalidModel(f"model {model.name!r} has two properties named {p.name!r}; give each a unique name")
        seen.add(p.name)
    if names is None:
        props = [p for p in props if p.default]
    elif list(names) != ["all"]:
        unknown = [n for n in names if n not in seen]
        off = getattr(model, "property_off", None)
        why = off(unknown[0]) if unknown and callable(off) else None
        if why:
            raise InvalidParameter(why)
        if unknown:
            raise InvalidParameter(
                f"model {model.name!r} has no property {unknown[0]!r}; its properties are: "
                f"{', '.join(p.name for p in props)} (or 'all')"
            )
        props = [p for p in props if p.name in names]
    safety = [p for p in props if p.expectation is Expectation.ALWAYS]
    reach = [p for p in props if p.expectation is Expectation.SOMETIMES]
    steps = [p for p in props if p.expectation is Expectation.EVERY_STEP]
    return safety, reach, steps


def _check_model(model: Any) -> None:
    """``model`` is a :class:`Model` instance, not a name, a class or None."""
    if isinstance(model, Model):
        return
    if isinstance(model, type) and issubclass(model, Model):
        raise InvalidModel(f"explore() needs a model instance, got the class {model.__name__}; "
                           f"pass {model.__name__}() (with its parameters)")
    raise InvalidModel(f"explore() needs a model instance (a quorumcheck.models.api.Model), got {model!r}; "
                       "pass e.g. PaxosModel()")


def names_given(value: Any, what: str, example: str) -> list[str] | None:
    """A list of names given as ``value``: None stays None, and one string is one name (not its letters)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(n, str) for n in value):
        return list(value)
    raise InvalidParameter(f"{what} must be a list of names, e.g. {example}; got {value!r}")


def _initial_states(model: Model[Any]) -> list[Any]:
    """``model.init_states()`` as a list, checked once: an iterable of hashable states, at least one."""
    init = _listed(model, model.init_states(), "init_states() must return a list of states")
    if not init:
        raise InvalidModel(f"model {model.name!r} has no initial state; init_states() must return at least one")
    for state in init:
        _check_hashable(model, state, "init_states()")
    return init


def _listed(model: Model[Any], given: Any, must: str, fix: str = "") -> list[Any]:
    """What a model's method returned, as a list; anything that is not a collection is the model's mistake."""
    if given is None or isinstance(given, (str, bytes)) or not isinstance(given, Iterable):
        raise InvalidModel(f"model {model.name!r}: {must}, got {reprlib.repr(given)}{fix}")
    return list(given)


def _check_hashable(model: Model[Any], state: Any, where: str) -> None:
    try:
        hash(state)
    except TypeError as e:
        raise InvalidModel(f"model {model.name!r}: states must be hashable, but {where} gave "
                           f"{reprlib.repr(state)} ({e}); use tuples, frozensets or NamedTuples instead of lists, "
                           "sets and dicts") from None


def _check_successors(model: Model[Any], state: Any) -> None:
    """``model.successors(state)`` (of one state, once: not in the loop) is an iterable of (Action, state) pairs."""
    for pair in _listed(model, model.successors(state), "successors() must return a list of (Action, state) pairs"):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InvalidModel(f"model {model.name!r}: successors() must return (Action, state) pairs, got "
                               f"{reprlib.repr(pair)}; return e.g. [(Action('Step'), next_state)]")
        if not isinstance(pair[0], Action):  # traces, charts and replays read its name and parameters
            raise InvalidModel(f"model {model.name!r}: successors() must label each step with an Action, got "
                               f"{reprlib.repr(pair[0])}; return e.g. (Action('Step'), next_state)"
                               + (f", here Action({pair[0]!r})" if isinstance(pair[0], str) else ""))
        _check_hashable(model, pair[1], "successors()")


MAX_SECONDS = 10_000_000
"""The longest time limit taken (115 days): an interval timer cannot count much further."""


def _check_limits(**limits: float | None) -> None:
    for name, value in limits.items():
        if value is None:
            continue
        if name != "timeout":  # a count: the search compares it with ==, so 10.5 would never stop it
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                unit = "states" if name == "max_states" else "levels"
                raise InvalidParameter(f"{name} must be a positive number of {unit} (a whole number >= 1), got "
                                       f"{value!r}; omit it for no limit")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:  # nan is not > 0
            raise InvalidParameter(f"{name} must be a positive number, got {value!r}; omit it for no limit")
        if name == "timeout" and not value <= MAX_SECONDS:
            raise InvalidParameter(f"timeout {value!r} s is beyond what the timer counts; give at most "
                                   f"{MAX_SECONDS:,} s (115 days), or omit it for no limit")
