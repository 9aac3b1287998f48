"""Testing a student's Paxos or Raft: the exhaustive, random and epoch modes, and their one result type.

* **exhaustive** -- :func:`quorumcheck.explorer.explore` (the one breadth-first
  search) over every interleaving of an :class:`~quorumcheck.models.actor_model.ActorModel`,
  bounded by depth, states or time (``UNDETERMINED`` when cut); a violation
  comes with a shortest schedule.
* **random** -- :func:`random_schedules`: Hypothesis draws schedules (which
  message to deliver, drop or duplicate, which timer fires, who crashes, how
  the network splits) by choosing, at every step, an index into the model's
  enabled actions, with a step budget; a failing schedule is shrunk by
  Hypothesis to a minimal one. Deterministic under a seed.
* **epochs** -- :func:`epoch_search`: the same breadth-first search over
  *epochs* (:mod:`quorumcheck.explorer.epochs`): one timer firing, request or
  fault, then every message among a group of nodes delivered while the others'
  wait. Deep bugs such as Raft's Figure 8 are a handful of epochs. A violation
  is expanded to the concrete schedule and shrunk.
* **auto** -- exhaustive within a state bound, then the epoch search (epochs
  among groups keeping one epoch-end state per protocol state, that with
  one-way epochs too, then both keeping every epoch-end state), then random
  schedules until the time limit, each with what the time limit leaves.

Each gives a :class:`~quorumcheck.explorer.CheckResult` whose violations carry
a :class:`~quorumcheck.explorer.Trace`, so a counterexample is printed,
saved (``--save-trace``), replayed and drawn the same way whichever mode
found it. :func:`check_student` runs either mode and returns a
:class:`StudentResult`. Given the student's *file*, the search runs here and
every handler call runs in sandboxed worker processes
(:mod:`quorumcheck.student.trusted.workers`): this process never imports the
student's code.

Examples
--------
>>> from pathlib import Path
>>> from quorumcheck.models.actor_model import load_student_file
>>> examples = Path(__file__).resolve().parent.parent / "examples"
>>> bugs = load_student_file(examples / "raft_bugs.py")
>>> r = check_student(bugs.VoteTwice, nodes=3, protocol="raft", mode="random", seed=0, max_timeouts=2,
...                   isolate=False)
>>> r.verdict.value, r.violation.property, len(r.violation.trace)
('violated', 'election-safety', 6)
>>> r.violation.explanation
'term 1: n0 and n1 each acted as leader'
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from quorumcheck.errors import InvalidParameter, QuorumcheckError
from quorumcheck.explorer import (
    CheckResult,
    Progress,
    Step,
    Trace,
    Verdict,
    Violation,
    Witness,
    explore,
)
from quorumcheck.explorer.culprit import with_culprits
from quorumcheck.explorer.epochs import EpochModel
from quorumcheck.explorer.result import PropertyStats, shown_text
from quorumcheck.explorer.search import TimeLimitReached, evaluation_deadline, names_given, peak_memory_bytes
from quorumcheck.explorer.store import STORES
from quorumcheck.models.actor_model import CONTAINMENT_PROPERTIES, CRASHES, PARTITIONS, REQUESTS, TIMEOUTS, ActorModel
from quorumcheck.models.api import Expectation, Model, Property

__all__ = ["MODES", "STRATEGIES", "EpochRuns", "StudentResult", "check_student", "epoch_check", "epoch_search", "minimize", "random_schedules"]

MODES = ("auto", "exhaustive", "random", "epochs")
"""``auto`` searches exhaustively within :data:`AUTO_STATES` states and, if that does not finish, goes on with
the epoch search (within :data:`EPOCH_STATES` epoch-end states for each of its searches) and then with
random schedules (walks over epochs first when the epoch search stayed shallow, :data:`WALKS_BELOW`);
``exhaustive``, ``random`` and ``epochs`` are the modes alone."""

EPOCH_STATES = 100_000
"""The epoch search of ``auto``: at most this many epoch-end states in each of its searches (a minute or
two of student code)."""

ONE_WAY_EPOCHS = 2
"""The epoch search's second search: a schedule may take up to this many one-way epochs (one node's
messages to one other delivered, the replies held back). One is not enough for a stale acknowledgement
(it must be sent and then held while the leader appends); three makes the search too wide to reach the
depth the bugs need."""

TWO_WAY_SHARE = 0.6
"""Under a time limit, the epoch search's search over two-way epochs takes at most this share of the time
left to it, leaving the rest to the one over one-way epochs too."""

MERGED_SHARE = 0.5
"""Under a time limit, the epoch search's first search, over epochs merged by protocol state
(:func:`epoch_summary_function`), takes at most this share of its time when others are to run after it; the
second, merged with one-way epochs too, at most this share of what is left."""

RANDOM_RESERVE, RANDOM_RESERVE_SECONDS = 0.2, 15.0
"""Auto mode under a time limit: the epoch search leaves this share of the time that is left, at most this
many seconds, to the random schedules that come after it."""

AUTO_STATES = 200_000
"""The exhaustive part of ``auto``: at most this many states (about ten seconds of student code) unless
``max_states`` says otherwise; under the reduction by movers (the default), the states passed through inside
transactions count too, so the budget stands for the same memory and work either way."""

AUTO_EXHAUSTIVE_SHARE = 0.3
"""Auto mode under a time limit: the exhaustive part stops at this share of it, if :data:`AUTO_STATES` has not
stopped it first, so that the epoch search, which goes deep, gets the larger part. Where each handler call runs
in a fresh process (root), 200,000 states of student code took 55 s of the default 120, and a Figure-8 bug the
epoch search finds in 45 s there went unfound (``--mode exhaustive`` gives a search the whole limit)."""

RANDOM_RUNS = 1000
"""``quorumcheck test --mode random``: the schedules drawn when ``--runs`` is not given."""

UNTIL_THE_TIME_LIMIT = 10**9
"""Auto mode with ``runs=None``: random schedules are drawn until the time limit ends them."""

COVERAGE_STATES = 1_000_000
"""The most states the random mode's coverage count explores (a larger configuration reports no coverage)."""

STRATEGIES = ("swarm", "coverage", "epochs")
"""How the random mode draws schedules. ``swarm`` (the default): every schedule starts in the initial state
and picks among the enabled actions (swarm testing over channels, faults as rare events). ``coverage``
(opt-in): most schedules start where an earlier one first reached a *coverage cell* (a protocol-level
summary of the nodes' observed state, :func:`coverage_cell_function`) and search breadth-first from there,
so that schedules build on each other (go-explore). Measured in bench/bench_deep_search.py (table in
docs/student-testing.md): it reaches some deeper Raft bugs much sooner but misses a Paxos bug the swarm
strategy finds in seconds, so it is not the default. ``epochs``: random walks of up to :data:`WALK_EPOCHS`
epochs (:mod:`quorumcheck.explorer.epochs`): each epoch draws a trigger (or none) and a group of nodes, then
delivers every message among the group. Where the epoch search's breadth-first levels are too wide (five
nodes: about a hundred epochs from each state), the walks still reach eight epochs deep; auto mode gives
them half of its random time then (:data:`WALKS_BELOW`)."""

WALK_EPOCHS = 14
"""The ``epochs`` strategy: the most epochs in one walk (Figure 8 takes eight)."""

WALK_SHARE = 0.5
"""Auto mode: the share of its random part (time, or runs without a time limit) given to epoch walks."""

SWARM_FIRST = 0.1
"""Auto mode, when it walks: the share of its random part that swarm schedules get before the walks (a bug
they find, they find in seconds: AdoptAnyVote with 5 nodes after 49 schedules, against 2,883 walks)."""

WALKS_BELOW = 4
"""Auto mode walks over epochs only when the epoch search was cut having tried every schedule of fewer
epochs than this: its levels were too wide (five nodes reach 2 epochs in 100,000 states; three nodes
reach 5 to 8, where the deep bugs are found breadth-first and the random part is better spent on swarm
schedules). An epoch search that finished leaves the walks nothing new."""

CELL_REPRESENTATIVES = 4
"""Coverage strategy: the most schedules kept per coverage cell to search from (they differ in what is
in flight, which decides where a search can go next)."""

EXPANSION_STATES = 100
"""Coverage strategy: the most new states one breadth-first expansion of a kept schedule visits (about
three steps deep in a Raft cluster with a dozen messages in flight)."""


STALE_SHARE = 4
"""Swarm schedules of a run that allows crashes: one in this many is a stale-message schedule
(:class:`StaleMessages`)."""


class StaleMessages:
    """One stale-message schedule's rules: messages from before a restart reach the node's new incarnation.

    A classic bug of crash-restart code trusts a message meant for the node's previous life: a proposer
    whose round counter is not durable reuses a ballot after a restart and counts promises made to its
    earlier self. A uniform schedule almost never lines that up (the second request must come after the
    restart, to the restarted node, and the old replies must wait for it), so in a stale-message schedule
    (one swarm schedule in :data:`STALE_SHARE`, when crashes are allowed):

    * after the first client request, the others wait until a node has restarted;
    * a restarted node starts something first: its timer or a request, when one is enabled;
    * the messages in flight to a node when it restarts wait until the new incarnation has started
      something, and arrive then;
    * the extra copy a duplication makes waits for its receiver's next restart (and then as above): a
      copy from before the crash.

    Whatever waits is still taken when nothing else is enabled, so the rules narrow a schedule's choices but
    never end it. The model offers ``stale_event(action)`` and ``copies_to(state, node)``
    (:class:`~quorumcheck.models.actor_model.ActorModel` does).

    Examples
    --------
    >>> from quorumcheck.models.actors import Node
    >>> from quorumcheck.models.actor_model import ActorModel
    >>> class Hi(Node):
    ...     def on_start(self, out):
    ...         if self.id == 0:
    ...             out.send(1, "hi")
    >>> m = ActorModel(Hi, nodes=2, max_crashes=1, max_duplicates=1)
    >>> s = next(iter(m.init_states()))
    >>> rules = StaleMessages(m)
    >>> dup = next((a, make) for a, make in m.enabled(s) if a.name == "Duplicate")
    >>> s = rules.taken(dup[0], dup[1]())
    >>> [str(a) for a, _ in rules.allowed(s, m.enabled(s)) if a.name == "Deliver"]  # one copy of two may go
    ["Deliver(from=n0, to=n1, msg='hi')"]
    >>> s = rules.taken(*next((a, make()) for a, make in m.enabled(s) if a.name == "Deliver"))
    >>> [str(a) for a, _ in rules.allowed(s, m.enabled(s))]  # the copy waits for n1's restart
    ['Restart(node=n0)', 'Restart(node=n1)']
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.requests = 0  # client requests taken
        self.restarted = False  # has a node restarted?
        self.fresh: set[str] = set()  # restarted nodes that have not started anything yet
        self.copies: Counter[Any] = Counter()  # delivery label -> copies waiting for the receiver's restart
        self.stale: dict[str, Counter[Any]] = {}  # node -> delivery label -> copies waiting for its next start

    def allowed(self, state: Any, options: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
        """The options a schedule may take now, by the rules above (all of them when the rules leave none)."""
        model = self.model
        if self.fresh:
            starts = [o for o in options if self._event(o[0])[0] in ("timer", "request")
                      and self._event(o[0])[1] in self.fresh]
            if starts:
                return starts
        free, flight = [], {}
        for option in options:
            label = option[0]
            if label.name == "Deliver":
                to = model.step_actor(label)
                held = self.copies[label] + (self.stale[to][label] if to in self.stale else 0)
                if held:
                    if to not in flight:
                        flight[to] = model.copies_to(state, to)
                    if flight[to][label] <= held:
                        continue
            elif self.requests and not self.restarted and self._event(label)[0] == "request":
                continue
            free.append(option)
        return free or options

    def _event(self, action: Any) -> tuple[str, Any]:
        return self.model.stale_event(action) or ("", None)

    def taken(self, action: Any, after: Any) -> Any:
        """Note a step the schedule took (its successor ``after``, returned)."""
        event = self.model.stale_event(action)
        if event is None:
            return after
        kind, what = event
        if kind == "copy":
            self.copies[what] += 1
        elif kind == "restart":
            self.restarted = True
            self.fresh.add(what)
            waiting = self.model.copies_to(after, what)
            for label in waiting:
                self.copies.pop(label, None)
            self.stale[what] = waiting
        else:
            self.requests += kind == "request"
            self.fresh.discard(what)
            self.stale.pop(what, None)
        return after


@dataclass
class StudentResult:
    """What testing student code found: the run's :class:`CheckResult` and how it was searched.

    Attributes
    ----------
    mode : str
        The part of the search whose result this is: ``"exhaustive"``, ``"random"`` or ``"epochs"``
        (auto mode: the part that found the violation, else ``"random"``).
    result : CheckResult
        The verdict, statistics and violations (with their traces).
    model : ActorModel
        The model that was checked (rebuilt in this process when the check ran in a child).
    schedules : int
        Random mode: the schedules drawn, at most ``runs`` (the runs that shrink a failing schedule are not
        counted).
    seed : int or None
        Random mode: the seed (the same seed gives the same schedules).
    exhaustive_states : int or None
        The configuration's distinct-state count, when known (an exhaustive run).
    """

    mode: str
    result: CheckResult[Any]
    model: ActorModel
    schedules: int = 0
    seed: int | None = None
    exhaustive_states: int | None = None
    handler_calls: int = 0
    """Handler calls the search made (each new one runs twice when determinism is checked)."""
    first_failure: tuple[int, float] | None = None
    """Random mode: ``(schedules, seconds)`` when the first failing schedule was found, before it was shrunk
    (the seconds count from the start of the random schedules)."""
    walks: int = 0
    """Auto mode: how many of the ``schedules`` were random walks over epochs (the ``epochs`` strategy)."""
    exhaustive_prefix: CheckResult[Any] | None = None
    """Auto mode: the exhaustive search that did not finish before the random schedules ran (its
    ``depth - 1`` is the length up to which every schedule was checked)."""
    epochs: CheckResult[Any] | None = None
    """Auto and epochs mode: the epoch search's own result (its states are epoch-end states, and its
    ``depth - 1`` the number of epochs up to which every epoch schedule was checked); ``None`` if it did
    not run."""
    one_way_epochs: CheckResult[Any] | None = None
    """Auto and epochs mode: the epoch search whose schedules may also take :data:`ONE_WAY_EPOCHS` one-way
    epochs; ``None`` if it did not run."""
    merged_epochs: CheckResult[Any] | None = None
    """Auto and epochs mode: the first epoch search, over epoch-end states merged by protocol state
    (:func:`epoch_summary_function`): its states are the kept ones, its ``depth - 1`` the epochs up to which
    every kept state's epochs were tried; ``None`` if it did not run."""
    merged_one_way_epochs: CheckResult[Any] | None = None
    """Auto and epochs mode: the second epoch search, merged like the first, whose schedules may also take
    :data:`ONE_WAY_EPOCHS` one-way epochs; ``None`` if it did not run."""
    notices: list[str] = field(default_factory=list)
    """One line each: sandbox measures not available here, a crash budget with nothing durable, ..."""
    student_output: str = ""
    """The start of what the student's code printed (in its workers; never mixed into quorumcheck's output)."""
    student_output_bytes: int = 0
    """How much the student's code printed in all."""
    seconds: float = 0.0
    """The whole run's wall-clock seconds, every part included (``result.seconds`` is the reported part's)."""

    @property
    def checked_steps(self) -> int | None:
        """Auto mode: every schedule of at most this many steps was checked exhaustively."""
        return _levels_done(self.exhaustive_prefix)

    @property
    def checked_epochs(self) -> int | None:
        """Every epoch schedule of at most this many epochs was checked (``None``: no epoch search ran)."""
        return _levels_done(self.epochs)

    @property
    def checked_one_way_epochs(self) -> int | None:
        """Every schedule of at most this many epochs (up to :data:`ONE_WAY_EPOCHS` of them one-way) was
        checked (``None``: that search did not run)."""
        return _levels_done(self.one_way_epochs)

    @property
    def checked_merged_epochs(self) -> int | None:
        """The merged epoch search tried every epoch from every state it kept up to this many epochs
        (``None``: it did not run)."""
        return _levels_done(self.merged_epochs)

    @property
    def epoch_searches(self) -> list[tuple[str, CheckResult[Any], int]]:
        """The epoch searches that ran, in their order, as ``(JSON key, result, epochs up to which everything
        was tried)``; the keys ``merged_epochs`` and ``merged_one_way_epochs`` are the merged ones."""
        parts = (("merged_epochs", self.merged_epochs), ("merged_one_way_epochs", self.merged_one_way_epochs),
                 ("epochs", self.epochs), ("one_way_epochs", self.one_way_epochs))
        return [(key, part, _levels_done(part) or 0) for key, part in parts if part is not None]

    @property
    def epochs_to_violation(self) -> int | None:
        """The epochs of the schedule in which an epoch search met the violation (``None``: none did)."""
        for _, part, _ in self.epoch_searches:
            if part.violation is not None and part.violation.trace is not None:
                return len(part.violation.trace)
        return None

    @property
    def verdict(self) -> Verdict:
        return self.result.verdict

    @property
    def violation(self) -> Violation[Any] | None:
        return self.result.violation

    @property
    def exit_code(self) -> int:
        return self.result.exit_code

    @property
    def coverage(self) -> float | None:
        """Random mode: distinct states visited / the exhaustive count, when that count is known."""
        if self.mode != "random" or not self.exhaustive_states:
            return None
        return self.result.distinct_states / self.exhaustive_states

    def to_json(self) -> dict[str, Any]:
        """The CheckResult's JSON (docs/json-result.md) with a ``"student"`` section."""
        data = self.result.to_json(self.model)
        data["student"] = {
            "mode": self.mode,
            "schedules": self.schedules,
            "epoch_walks": self.walks,
            "seed": self.seed,
            "exhaustive_states": self.exhaustive_states,
            "coverage": None if self.coverage is None else round(self.coverage, 4),
            "handler_calls": self.handler_calls,
            "seconds": round(self.seconds, 3),
            "notices": list(self.notices),
            "output": {"bytes": self.student_output_bytes, "start": self.student_output[:4096]},
        }
        if self.exhaustive_prefix is not None:
            data["student"]["exhaustive_prefix"] = {
                **_part(self.exhaustive_prefix),
                "stop_reason": self.exhaustive_prefix.stop_reason,
                "every_schedule_up_to_steps": self.checked_steps,
            }
        for key, part, checked in self.epoch_searches:
            data["student"][key] = {
                **_part(part),
                "complete": part.complete,
                "stop_reason": part.stop_reason if part.verdict is Verdict.UNDETERMINED else None,
                "every_schedule_up_to_epochs": checked,
            }
        return data


def _levels_done(part: CheckResult[Any] | None) -> int | None:
    """The steps (or epochs) up to which a search of auto mode tried everything: its depth less the level it
    was cut in; ``None`` if it did not run."""
    return None if part is None else max(part.depth - 1, 0)


def _part(result: CheckResult[Any]) -> dict[str, Any]:
    """The JSON keys an auto-mode part (the exhaustive prefix, the epoch search) shares."""
    return {"distinct_states": result.distinct_states, "transitions": result.transitions, "depth": result.depth,
            "seconds": round(result.seconds, 3)}


def _mix(r: int) -> int:
    """Scatter a drawn integer over 32 bits (Hypothesis draws small integers far more often than large ones;
    the coverage strategy wants its cell and branch choices uniform). 0 stays 0.

    >>> _mix(0), _mix(1) != _mix(2)
    (0, True)
    """
    return (r * 0x9E3779B1) & 0xFFFFFFFF


class _OutOfTime(BaseException):
    """Raised inside a Hypothesis example when the time limit has passed, to end the run at once. Hypothesis
    may report it as it is, or as inconsistent data generation (the example drew less than an earlier one
    with the same start): :func:`random_schedules` takes either, after the time limit, as the end."""


def _shortest(found: Sequence[Violation[Any]]) -> Violation[Any]:
    """The failing schedule with the fewest steps among those met."""
    return min(found, key=lambda v: len(v.trace) if v.trace is not None else 0)


class _ShrinkOutOfTime(BaseException):
    """Raised inside a Hypothesis example when the time limit has passed while a failure is being shrunk: the
    shortest failing schedule met so far is reported (a slow handler made shrinking take several times the
    limit)."""


class _Failed(Exception):
    """Raised inside a Hypothesis example when a schedule violates a property (carries the violation)."""

    def __init__(self, violation: Violation[Any]) -> None:
        super().__init__(violation.property)
        self.violation = violation


def random_schedules(
    model: Model[Any],
    *,
    runs: int = 200,
    steps: int = 60,
    seed: int | None = 0,
    timeout: float | None = None,
    properties: Sequence[str] | None = None,
    swarm: bool = True,
    strategy: str = "swarm",
    progress: dict[str, Any] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    visited: set[int] | None = None,
) -> tuple[CheckResult[Any], int]:
    """Run Hypothesis-drawn schedules of ``model``; a failing schedule is shrunk to a minimal one.

    Each schedule starts in an initial state and, at every step, lets
    Hypothesis choose an index into the enabled actions, checking the safety
    and action properties on every state and step it takes, until a property
    fails, nothing is enabled, ``steps`` steps were taken, or the step left
    the model's bound (that state is checked, and the schedule ends). Hypothesis shrinks a failing schedule towards
    fewer steps and smaller indexes (earlier actions in the model's order).

    Parameters
    ----------
    runs : int
        Schedules to generate (Hypothesis's ``max_examples``).
    steps : int
        The most steps in one schedule.
    seed : int or None
        The random seed; ``None`` derandomizes (a fixed seed from the test).
    timeout : float, optional
        Stop generating new schedules after this many seconds (a failure
        found before is still shrunk).
    properties : sequence of str, optional
        As for :func:`~quorumcheck.explorer.explore`.
    swarm : bool, default True
        Swarm testing, for a model with ``swarm_keys()`` and ``swarm_key(action)``
        (an ActorModel: its channels): about half the schedules first draw a
        set of channels to neglect -- their messages are delivered only when
        nothing else can happen -- which reaches the lopsided schedules deep
        bugs need (three proposers each heard by a different majority).
    strategy : {"swarm", "coverage"}
        ``swarm`` (the default): every schedule is a walk from an initial
        state. ``coverage`` (for a model with coverage cells,
        :func:`coverage_cell_function`; otherwise the same as ``swarm``):
        every state reached is summarised as a cell, and the first
        :data:`CELL_REPRESENTATIVES` schedules reaching each cell are kept.
        One schedule in four is a walk from an initial state; the others
        pick a kept cell (recent cells, the frontier, more often) and search
        breadth-first from the end of one of its kept schedules, over up to
        :data:`EXPANSION_STATES` new states. A failure is the kept schedule
        followed by the search's shortest path, from the initial state;
        Hypothesis shrinks the choices (towards walks from the initial state)
        and :func:`minimize` removes the steps that play no part. Kept
        schedules grow only from schedules that passed, and not at all once
        one failed, so a failure replays.
    progress : dict, optional
        Filled in with ``"first_failure"``: ``(schedules, seconds)`` when the
        first failing schedule was found, before shrinking.
    visited : set of int, optional
        The hashes of the states visited, shared with an earlier run (auto mode's
        epoch walks, then its swarm schedules, count distinct states once).
    on_progress : callable, optional
        Called at most every quarter second between schedules with a :class:`Progress`: the distinct
        states visited, the schedules run so far (``queue``), the longest schedule plus one
        (``depth``) and the steps taken (``transitions``).

    Returns
    -------
    (CheckResult, int)
        The result -- ``VIOLATED`` with the shrunk schedule as the violation's
        trace, or ``HOLDS`` with ``complete=False`` (no schedule failed; random
        testing proves nothing) -- and the number of schedules run.
        ``distinct_states`` counts the distinct states the schedules visited.

    Examples
    --------
    A walker that must not climb twice; the first schedule Hypothesis tries
    (always the first action) never climbs, a later one does, and it is shrunk:

    >>> from quorumcheck.models import Model, Action, always
    >>> class Walk(Model):
    ...     def init_states(self):
    ...         return [(0, 0)]
    ...     def successors(self, s):
    ...         return [(Action("Right"), (s[0] + 1, s[1])), (Action("Up"), (s[0], s[1] + 1))]
    ...     def properties(self):
    ...         return [always("low", lambda s: s[1] < 2)]
    >>> result, runs = random_schedules(Walk(), runs=50, steps=10, seed=3)
    >>> result.verdict.value, [str(a) for a in result.violation.trace.actions]
    ('violated', ['Up()', 'Up()'])
    """
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import seed as use_seed
    from hypothesis import strategies as st

    for name, value in (("runs", runs), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameter(f"{name} must be a positive integer, got {value!r}")
    if strategy not in STRATEGIES:
        raise InvalidParameter(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    started = time.perf_counter()
    reported = [started]  # when on_progress was last called
    safety, reach, step_props = _select(model, properties)
    init = list(model.init_states())
    bounded = model.has_boundary
    within = model.within_boundary
    # Hashes, not states: a long run keeps no state alive (about 70 bytes each). A caller's set is shared.
    visited = set() if visited is None else visited
    lazy = getattr(model, "enabled", None)
    swarm_keys = list(getattr(model, "swarm_keys", list)()) if swarm else []
    swarm_key = getattr(model, "swarm_key", None)
    is_fault = getattr(model, "is_fault", None)
    stale_ok = bool(getattr(model, "crashes_allowed", False)) and hasattr(model, "stale_event")
    cell_of = coverage_cell_function(model) if strategy == "coverage" else None
    # Coverage strategy: cell -> the schedules (traces) kept that reach it; ``cells`` in discovery order (a
    # schedule draws an index into it, so entries are only ever appended).
    kept: dict[Any, list[tuple[Step[Any], ...]]] = {}
    cells: list[Any] = []
    if cell_of is not None:
        for s0 in init:
            key = cell_of(s0)
            if key not in kept:
                kept[key] = []
                cells.append(key)
            if len(kept[key]) < CELL_REPRESENTATIVES:
                kept[key].append((Step(None, s0),))

    def enabled(state: Any) -> list[tuple[Any, Any]]:
        if lazy is not None:
            return lazy(state)
        return [(a, (lambda t=t: t)) for a, t in model.successors(state)]

    witnessed: dict[str, Trace[Any]] = {}
    pending = list(reach)
    stats = {"schedules": 0, "shrink_runs": 0, "steps": 0, "longest": 0, "out_of_time": 0, "enough": 0}
    found: list[Violation[Any]] = []
    deadline = None if timeout is None else started + timeout

    def first_failure() -> None:
        if not found and progress is not None:
            progress["first_failure"] = (stats["schedules"], time.perf_counter() - started)

    def check_state(trace: list[Step[Any]]) -> None:
        state = trace[-1].state
        for p in safety:
            if not p.holds(state):
                raise _Failed(Violation(p.name, Expectation.ALWAYS, p.description, Trace(tuple(trace)), False,
                                        p.explain(state)))
        if pending:
            for p in [p for p in pending if p.holds(state)]:
                witnessed[p.name] = Trace(tuple(trace))
                pending.remove(p)

    def count_schedule() -> None:
        """Count one schedule; past the time limit or ``runs`` schedules (before any failure), end the run.

        Hypothesis may run a few more examples than ``max_examples`` (it does not count
        some), so ``runs`` is enforced here. The end is an exception, not a return, which
        Hypothesis would take for a passing example and go on. Runs while a failure is
        shrunk are counted apart (``shrink_runs``).
        """
        if found:
            stats["shrink_runs"] += 1
            if deadline is not None and time.perf_counter() > deadline:
                stats["shrink_cut"] = 1
                raise _ShrinkOutOfTime  # the shortest failing schedule met so far is the answer
            return
        if deadline is not None and time.perf_counter() > deadline:
            stats["out_of_time"] = 1
            raise _OutOfTime
        if stats["schedules"] >= runs:
            stats["enough"] = 1
            raise _OutOfTime
        stats["schedules"] += 1
        if on_progress is not None:
            now = time.perf_counter()
            if now >= reported[0] + 0.25:
                reported[0] = now
                on_progress(Progress(len(visited), stats["schedules"], stats["longest"] + 1, stats["steps"],
                                     now - started, peak_memory_bytes()))

    def begin(data: Any) -> list[Step[Any]]:
        """Count a new schedule and draw its initial state: the schedule's trace so far."""
        count_schedule()
        state = init[data.draw(st.integers(0, len(init) - 1))] if len(init) > 1 else init[0]
        visited.add(hash(state))
        return [Step(None, state)]

    @contextmanager
    def recording(trace: list[Step[Any]]) -> Iterator[None]:
        """Around a schedule's steps: a failure is kept (and raised on); the longest schedule is noted."""
        try:
            yield
        except _Failed as failure:
            first_failure()
            found.append(failure.violation)
            raise
        finally:
            stats["longest"] = max(stats["longest"], len(trace) - 1)

    def schedule(data: Any) -> None:
        trace = begin(data)
        state = trace[0].state
        slow: set[Any] = set()
        if swarm_keys and data.draw(st.integers(0, 3)) != 0:  # swarm testing: most schedules neglect some channels
            slow = {key for key in swarm_keys if data.draw(st.booleans())}
        holds = StaleMessages(model) if stale_ok and data.draw(st.integers(0, STALE_SHARE - 1)) == 1 else None
        with recording(trace):
            check_state(trace)
            for _ in range(steps):
                options = enabled(state)
                if not options:
                    break
                if holds is not None:
                    options = holds.allowed(state, options)
                if is_fault is not None:
                    faults = [o for o in options if is_fault(o[0])]
                    if faults and len(faults) < len(options):
                        # Faults are rare events: one step in eight (shrinking moves towards fewer).
                        chosen_fault = data.draw(st.integers(0, 7)) == 7
                        options = faults if chosen_fault else [o for o in options if not is_fault(o[0])]
                if slow and swarm_key is not None:
                    options = [o for o in options if swarm_key(o[0]) not in slow] or options
                action, make = options[data.draw(st.integers(0, len(options) - 1))]
                state = take(trace, state, action, make)
                if state is None:
                    break
                if holds is not None:
                    holds.taken(action, state)

    walker = EpochModel(model, safety + step_props) if strategy == "epochs" else None
    pick = st.integers(0, 2**16 - 1)

    def epoch_schedule(data: Any) -> None:
        """A walk of up to WALK_EPOCHS random epochs, taken and checked step by step."""
        assert walker is not None
        trace = begin(data)
        state = trace[0].state
        with recording(trace):
            check_state(trace)
            for _ in range(WALK_EPOCHS):
                choices = walker.epoch_choices(state)
                if not choices:
                    break
                # Uniform choices: Hypothesis draws small integers far more often, which would favour the
                # first trigger and the first group; a drawn 16-bit number is scattered, then scaled.
                trigger, make, routes = choices[_mix(data.draw(pick)) * len(choices) >> 32]
                route = routes[_mix(data.draw(pick)) * len(routes) >> 32]
                if trigger is not None:
                    state = take(trace, state, trigger, make)
                taken: set[Any] | None = set() if getattr(model, "keeps_delivered", False) else None
                for _ in range(walker.max_deliveries):
                    step = None if state is None else walker.next_delivery(state, route, taken)
                    if step is None:
                        break
                    if taken is not None:
                        taken.add(step[0])
                    state = take(trace, state, *step)
                if state is None:  # the walk left the bound
                    break

    def take(trace: list[Step[Any]], state: Any, action: Any, make: Any) -> Any:
        """Take one step of a schedule and check it; the new state, or ``None`` when the schedule ends there."""
        after = make()
        stats["steps"] += 1
        if bounded and not within(after):
            trace.append(Step(action, after))  # checked, as the explorer checks a state beyond the bound,
            check_state(trace)                 # but a schedule ends there
            return None
        for p in step_props:
            if not p.holds_on_step(state, after):
                trace.append(Step(action, after))
                raise _Failed(Violation(p.name, Expectation.EVERY_STEP, p.description, Trace(tuple(trace)),
                                        False, p.explain_step(state, after)))
        trace.append(Step(action, after))
        visited.add(hash(after))
        check_state(trace)
        return after

    # The coverage strategy draws the same shape of choices in every schedule -- the same number of draws,
    # each from the same range, whatever the kept schedules are -- because those change between schedules
    # and Hypothesis requires that equal choices draw alike. Indexes are taken modulo the options.
    # One draw per step: the low 8 bits pick the action, the next 3 whether a fault is taken (when 7).
    step_draw, coin_draw, cell_draw = st.integers(0, 2**11 - 1), st.integers(0, 3), st.integers(0, 2**16 - 1)

    def pick_cell(r: int) -> Any:
        """A kept cell, from a draw in [0, 2**16): recent cells (the frontier) more often, any cell sometimes;
        a draw of 0 (what Hypothesis shrinks to) picks the first cell, the initial state's."""
        u = (_mix(r) + 0.5) / 2**32
        back = int(-math.log(u) * len(cells) / 4)  # exponential, with a mean of a quarter of the cells
        return cells[max(len(cells) - 1 - back, 0)] if r else cells[0]

    def expand(root: tuple[Step[Any], ...], new_cells: dict[Any, tuple[Step[Any], ...]], order: int) -> None:
        """Search breadth-first from the end of a kept schedule, over up to EXPANSION_STATES new states."""
        start_state = root[-1].state
        parent: dict[Any, tuple[Any, Any]] = {start_state: (None, None)}

        def path(to: Any) -> list[Step[Any]]:
            steps_back: list[Step[Any]] = []
            while to is not start_state:
                before, action = parent[to]
                steps_back.append(Step(action, to))
                to = before
            return list(root) + steps_back[::-1]

        def failed(p: Property[Any], state: Any, kind: Expectation) -> _Failed:
            steps = path(state)
            before = steps[-2].state if kind is Expectation.EVERY_STEP and len(steps) > 1 else None
            return _Failed(Violation(p.name, kind, p.description, Trace(tuple(steps)), False,
                                     p.explain_step(before, state)))

        frontier, depth, new = [start_state], len(root) - 1, 0
        while frontier and new < EXPANSION_STATES and depth < steps:
            following = []
            for state in frontier:
                for action, after in model.successors(state):
                    if after in parent:
                        continue
                    parent[after] = (state, action)
                    new += 1
                    stats["steps"] += 1
                    stats["longest"] = max(stats["longest"], depth + 1)
                    outside = bounded and not within(after)
                    for p in () if outside else step_props:
                        if not p.holds_on_step(state, after):
                            raise failed(p, after, Expectation.EVERY_STEP)
                    for p in safety:
                        if not p.holds(after):
                            raise failed(p, after, Expectation.ALWAYS)
                    if outside:
                        continue  # checked, but not expanded (as the explorer does)
                    visited.add(hash(after))
                    if pending:
                        for p in [p for p in pending if p.holds(after)]:
                            witnessed[p.name] = Trace(tuple(path(after)))
                            pending.remove(p)
                    following.append(after)
                    key = cell_of(after)
                    reps = kept.get(key)
                    if (reps is None or len(reps) < CELL_REPRESENTATIVES) and key not in new_cells:
                        new_cells[key] = tuple(path(after))
                if new >= EXPANSION_STATES:
                    break
            # Which states of a level the state budget reaches: shuffled by the schedule's draw, not always
            # the first messages in the model's order.
            random.Random(order).shuffle(following)
            frontier, depth = following, depth + 1

    def coverage_schedule(data: Any) -> None:
        count_schedule()
        # The same draws in every schedule, whichever branch uses them.
        r_from = data.draw(cell_draw)
        from_cell = r_from != 0 and _mix(r_from) % 4 != 0  # three schedules in four expand a kept one
        r_cell, r_rep, r_init = data.draw(cell_draw), data.draw(coin_draw), data.draw(cell_draw)
        swarm_on = data.draw(coin_draw) != 0 if swarm_keys else False
        flags = [data.draw(st.booleans()) for _ in swarm_keys]
        draws = [data.draw(step_draw) for _ in range(steps)]
        new_cells: dict[Any, tuple[Step[Any], ...]] = {}
        trace: list[Step[Any]] = []
        with recording(trace):
            if from_cell and len(cells) > 1:
                reps = kept[pick_cell(r_cell)]
                expand(reps[r_rep % len(reps)], new_cells, _mix(r_init))
            else:
                trace.append(Step(None, init[r_init % len(init)]))
                state = trace[-1].state
                slow = {key for key, flag in zip(swarm_keys, flags) if flag} if swarm_on else set()
                visited.add(hash(state))
                check_state(trace)
                for r_step in draws:
                    options = enabled(state)
                    if not options:
                        break
                    r_fault, r_index = r_step >> 8, r_step & 255
                    if is_fault is not None:
                        faults = [o for o in options if is_fault(o[0])]
                        if faults and len(faults) < len(options):
                            options = faults if r_fault == 7 else [o for o in options if not is_fault(o[0])]
                    if slow and swarm_key is not None:
                        options = [o for o in options if swarm_key(o[0]) not in slow] or options
                    action, make = options[r_index % len(options)]
                    state = take(trace, state, action, make)
                    if state is None:
                        break
                    key = cell_of(state)
                    reps = kept.get(key)
                    if (reps is None or len(reps) < CELL_REPRESENTATIVES) and key not in new_cells:
                        new_cells[key] = tuple(trace)
        # Kept only from a schedule that passed, and none once one failed: a failure replays unchanged.
        if not found:
            for key, reached in new_cells.items():
                reps = kept.get(key)
                if reps is None:
                    kept[key] = [reached]
                    cells.append(key)
                elif len(reps) < CELL_REPRESENTATIVES:
                    reps.append(reached)

    test = settings(
        max_examples=runs,
        deadline=None,
        database=None,
        derandomize=seed is None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )(given(st.data())(coverage_schedule if cell_of is not None else epoch_schedule if walker else schedule))
    if seed is not None:
        test = use_seed(seed)(test)
    violations: list[Violation[Any]] = []
    interrupted = False
    try:
        # One judgement of a large property in Python can outlast the time limit, which the schedules check
        # only between steps; it is cut there (not while a failure is shrunk).
        with evaluation_deadline(None if deadline is None else deadline - time.perf_counter(), lambda: not found):
            test()
    except _Failed as failure:
        try:
            past = deadline is not None and time.perf_counter() > deadline
            violations = [failure.violation if past else minimize(model, failure.violation, safety, step_props)]
        except TimeLimitReached:  # a worker to replace past the time limit: the schedule as it failed
            violations = [failure.violation]
    except _ShrinkOutOfTime:
        violations = [_shortest(found)]
    except KeyboardInterrupt:  # Ctrl-C: the schedules so far, undetermined
        interrupted = True
    except TimeLimitReached as e:  # the schedule under way was not checked to its end: it does not count
        if found:  # a handler call cut while a failure was shrunk: the shortest failing schedule met so far
            violations = [_shortest(found)]
        else:
            stats["out_of_time"] = 1
            stats["schedules"] = max(stats["schedules"] - 1, 0)
        stats["memory"] = int(e.reason == "memory")
    except (_OutOfTime, Exception):
        if stats.get("shrink_cut") and found:  # Hypothesis may report the cut as inconsistent data generation
            violations = [_shortest(found)]
        elif not (stats["out_of_time"] or stats["enough"]) or found:
            raise
        # else no schedule failed within the time limit or the runs
    if violations:
        verdict = Verdict.VIOLATED
    elif interrupted or not stats["schedules"] or stats.get("memory"):  # no schedule ran at all (the time limit
        verdict = Verdict.UNDETERMINED                                    # came first), or memory ran out: no pass
    else:
        verdict = Verdict.HOLDS
    judged = {
        p.name: PropertyStats(p.judge.stats.evaluator, p.evaluations, p.cache_hits, p.judge.stats.seconds)
        for p in (*safety, *reach, *step_props)
        if p.judge is not None
    }
    result: CheckResult[Any] = CheckResult(
        verdict=verdict,
        model_name=model.name,
        settings=model.settings(),
        bug=getattr(model, "bug", None),
        distinct_states=len(visited),
        transitions=stats["steps"],
        depth=stats["longest"] + 1,
        seconds=time.perf_counter() - started,
        peak_memory_bytes=peak_memory_bytes(),
        violations=with_culprits(model, violations),
        witnesses=[Witness(p.name, p.description, witnessed.get(p.name)) for p in reach],
        stop_reason=("interrupted" if interrupted else "memory" if stats.get("memory")
                     else None if stats["schedules"] else "timeout"),
        complete=False,
        judging=judged,
    )
    return result, stats["schedules"]


def minimize(
    model: Model[Any],
    violation: Violation[Any],
    safety: Sequence[Property[Any]],
    step_props: Sequence[Property[Any]] = (),
) -> Violation[Any]:
    """Remove steps from a failing schedule while it still violates the same property.

    Hypothesis shrinks the *choices* that drew a schedule; removing one step
    shifts every later choice, so a schedule can be minimal for Hypothesis and
    still hold steps that play no part (a message delivered and ignored). This
    pass replays the schedule's action labels without one step (or a run of
    steps) at a time -- a label that is no longer enabled is skipped -- and
    keeps any shorter schedule that still violates the property, until no
    single step can be removed.

    Examples
    --------
    >>> from quorumcheck.models import Model, Action, always
    >>> class Walk(Model):
    ...     def init_states(self):
    ...         return [(0, 0)]
    ...     def successors(self, s):
    ...         return [(Action("Right"), (s[0] + 1, s[1])), (Action("Up"), (s[0], s[1] + 1))]
    >>> high = always("low", lambda s: s[1] < 2)
    >>> labels = ["Right()", "Up()", "Right()", "Right()", "Up()"]
    >>> long = _replay(Walk(), labels, [high], [])
    >>> [str(a) for a in minimize(Walk(), long, [high]).trace.actions]
    ['Up()', 'Up()']
    """
    if violation.trace is None:
        return violation
    wanted = violation.property
    safety = [p for p in safety if p.name == wanted]
    step_props = [p for p in step_props if p.name == wanted]
    best = violation
    labels = [str(a) for a in violation.trace.actions]
    chunk = max(1, len(labels) // 2)
    while chunk >= 1:
        k = 0
        while k < len(labels):
            candidate = labels[:k] + labels[k + chunk:]
            found = _replay(model, candidate, safety, step_props)
            if found is not None and found.trace is not None and len(found.trace) < len(best.trace):  # type: ignore[arg-type]
                best = found
                labels = [str(a) for a in found.trace.actions]
            else:
                k += 1
        chunk //= 2
    return best


def _replay(
    model: Model[Any], labels: Sequence[str], safety: Sequence[Property[Any]], step_props: Sequence[Property[Any]],
) -> Violation[Any] | None:
    """Run the labelled actions (skipping any not enabled); the first violation of the properties, if any."""
    state = next(iter(model.init_states()))
    steps = [Step(None, state)]
    bounded = model.has_boundary

    def failed(s: Any) -> Violation[Any] | None:
        for p in safety:
            if not p.holds(s):
                return Violation(p.name, Expectation.ALWAYS, p.description, Trace(tuple(steps)), False, p.explain(s))
        return None

    found = failed(state)
    if found is not None:
        return found
    for label in labels:
        successor = next(((a, t) for a, t in model.successors(state)
                          if str(a) == label and (not bounded or model.within_boundary(t))), None)
        if successor is None:
            continue
        action, after = successor
        for p in step_props:
            if not p.holds_on_step(state, after):
                steps.append(Step(action, after))
                return Violation(p.name, Expectation.EVERY_STEP, p.description, Trace(tuple(steps)), False,
                                 p.explain_step(state, after))
        state = after
        steps.append(Step(action, state))
        found = failed(state)
        if found is not None:
            return found
    return None


def coverage_cell_function(model: Model[Any]) -> Any:
    """The coverage strategy's summary of a state, for ``model``: a function of a state, or ``None``.

    A model may define ``coverage_cell(state)`` itself. For student code (an
    :class:`ActorModel`) the cell is what the protocol's observation contract
    reads from every node, as a multiset (so that nodes trading places is the
    same cell), without anything that only names a node or a client's value:

    * Raft: each node's term, role, the terms of its log's entries and its commit index;
    * Paxos: each node's accepted ``(ballot, value)``, learned value and promise;
    * no protocol: no cells (the coverage strategy is then the swarm strategy).

    Messages in flight, timers and the fault budget are not part of the cell;
    the schedules kept per cell differ in them.

    Examples
    --------
    >>> from pathlib import Path
    >>> from quorumcheck.models.actor_model import load_student_file
    >>> raft = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "raft.py")
    >>> m = ActorModel(raft.RaftNode, 3, protocol="raft")
    >>> coverage_cell_function(m)(next(iter(m.init_states())))
    ((0, 0, (), 0), (0, 0, (), 0), (0, 0, (), 0))
    """
    own = getattr(model, "coverage_cell", None)
    if callable(own):
        return own
    protocol = getattr(model, "protocol", None)
    if not isinstance(model, ActorModel) or protocol not in ("raft", "paxos"):
        return None
    if protocol == "raft":
        def raft_cell(state: Any) -> Any:
            # (term, role, voted_for, entries, commit): voted_for names a node, an entry's value a client's value.
            return tuple(sorted((o[0], o[1], tuple(e[0] for e in o[3]), o[4]) for o in state.observed))

        return raft_cell

    def paxos_cell(state: Any) -> Any:
        return tuple(sorted(state.observed, key=repr))

    return paxos_cell


def epoch_summary_function(model: Model[Any]) -> Callable[[Any], Hashable] | None:
    """What the merged epoch search compares epoch-end states by, for ``model``: a function, or ``None``.

    For student code (an :class:`ActorModel` with a protocol) it is the coverage cell
    (:func:`coverage_cell_function`: what the observation contract reads from every node, as a
    multiset), the budgets spent and the partition. Two states with one summary differ only in what no
    property reads directly: messages in flight, timers, which node is which, what a node keeps beyond its
    observation. The merged search keeps the first and drops the others, which keeps its levels narrow
    enough to reach depth (:class:`~quorumcheck.explorer.epochs.EpochModel`'s ``merge``). A model that
    defines ``coverage_cell`` gets that alone; a model without cells gets ``None`` (no merged search).

    Examples
    --------
    >>> from pathlib import Path
    >>> from quorumcheck.models.actor_model import load_student_file
    >>> raft = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "raft.py")
    >>> m = ActorModel(raft.RaftNode, 3, protocol="raft", requests=1)
    >>> epoch_summary_function(m)(next(iter(m.init_states())))
    (((0, 0, (), 0), (0, 0, (), 0), (0, 0, (), 0)), (0, 0, 0, 0, 0, 0), 0)
    """
    cell = coverage_cell_function(model)
    if cell is None or not isinstance(model, ActorModel):
        return cell

    def summary(state: Any) -> Hashable:
        return cell(state), state.budget, state.partition

    return summary


def _select(model: Model[Any], names: Sequence[str] | None) -> tuple[list[Property[Any]], ...]:
    props = list(model.properties())
    if names is None:
        props = [p for p in props if p.default]
    elif list(names) != ["all"]:
        known = {p.name for p in props}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InvalidParameter(f"no property {unknown[0]!r}; the properties are: {', '.join(sorted(known))} "
                                   "(or 'all')")
        props = [p for p in props if p.name in names]
    return (
        [p for p in props if p.expectation is Expectation.ALWAYS],
        [p for p in props if p.expectation is Expectation.SOMETIMES],
        [p for p in props if p.expectation is Expectation.EVERY_STEP],
    )


def check_student(
    node: Any,
    nodes: int | None = 3,
    *,
    protocol: str = "none",
    mode: str = "exhaustive",
    seed: int | None = 0,
    runs: int | None = 200,
    steps: int = 60,
    strategy: str = "swarm",
    max_depth: int | None = None,
    max_states: int | None = None,
    timeout: float | None = None,
    properties: Sequence[str] | None = None,
    exhaustive_states: int | None = None,
    measure_coverage: bool = False,
    isolate: bool | None = None,
    memory_mb: int | None = 2048,
    keep_graph: bool | None = None,
    por: bool = False,
    movers: bool | None = None,
    store: str = "objects",
    on_progress: Callable[[str, Progress], None] | None = None,
    **model_options: Any,
) -> StudentResult:
    """Check student node classes: build the :class:`ActorModel` and search it in one of the two modes.

    Parameters
    ----------
    node, nodes
        The node class and how many nodes, or a list of classes (one per node).
    protocol : {"paxos", "raft", "none"}
        Which observation contract and standard properties apply.
    mode : {"exhaustive", "random", "epochs", "auto"}
        ``auto``: exhaustive within ``max_states`` (default :data:`AUTO_STATES`) and a share of the time limit
        (:data:`AUTO_EXHAUSTIVE_SHARE`); a
        search that does not finish goes on with the epoch search (:func:`epoch_search`; its results in
        ``merged_epochs``, ``merged_one_way_epochs``, ``epochs`` and ``one_way_epochs``) and then random schedules: walks over epochs for half of them
        when the epoch search was cut shallow (:data:`WALKS_BELOW`; counted in ``walks``), else swarm (the
        result is then the part that found the violation, else the random one, with the exhaustive part in
        ``exhaustive_prefix``).
        ``epochs``: the epoch search alone.
    seed, runs, steps
        Random mode: the seed, the number of schedules and the steps per schedule. ``runs=None``: in auto
        mode with a ``timeout``, random schedules until the time limit (what ``quorumcheck test`` does);
        otherwise :data:`RANDOM_RUNS`.
    strategy : {"swarm", "coverage"}
        Random mode: how schedules are drawn (:data:`STRATEGIES`, :func:`random_schedules`).
    max_depth, max_states, timeout
        Limits: exhaustive mode ends ``UNDETERMINED`` when one cuts the search;
        random mode uses ``timeout`` to stop generating schedules.
    properties : sequence of str, optional
        Only these properties (``["all"]``: every one, on-request ones included).
    exhaustive_states : int, optional
        The configuration's exhaustive state count, if known, for the random
        mode's coverage; ``measure_coverage=True`` measures it with an
        exhaustive run first (bounded by ``max_states`` and ``timeout``).
    isolate : bool, optional
        ``True`` (the default for a file): the handlers run in sandboxed worker
        processes, each bounded by ``memory_mb``; given class objects, their
        file is loaded there. ``False``: they run in this process (class
        objects default to this: the student's code is already here).
    keep_graph : bool, optional
        Keep the exhaustive run's state graph (for the graph view); by default
        only when not isolated.
    por : bool, default False
        Partial-order reduction (sleep sets, :class:`~quorumcheck.explorer.por.SleepSets`; ``--por``) in
        the exhaustive search: the same states, depths, verdicts and shortest counterexamples, with fewer
        steps computed. Off by default: handler calls are cached, so it saves little time, and a search
        cut by a limit meets a violation later within its level (docs/partial-order.md).
    movers : bool, optional
        The reduction by right movers (:mod:`quorumcheck.explorer.movers`) in the exhaustive search: a node's
        silent steps wait for its next step, so fewer states are stored, with the same verdicts and shortest
        counterexamples; counts are those of the reduced graph, and ``max_states`` counts the states passed
        through inside transactions as well. By default (``None``) it is on unless ``por`` chooses sleep sets;
        ``False`` searches every interleaving (``--no-reduction``), with the configuration's own counts.
    store : {"objects", "fingerprints"}, default "objects"
        Where the exhaustive search keeps the states it has seen (``--store``): every state
        object (exact), or a 64-bit fingerprint per state (a few tens of bytes instead of about
        a kilobyte; the verdict is exact up to the collision chance reported in
        ``result.fingerprints``, and no state graph is kept). For runs whose states do not fit in
        memory.
    on_progress : callable, optional
        Called about every quarter second with the running part's name (``"exhaustive"``, ``"epochs"``,
        ``"one-way epochs"``, ``"random"``) and its :class:`Progress` (for random schedules, ``queue`` is
        the schedules run and ``depth`` the longest schedule plus one).
    **model_options
        Passed to :class:`ActorModel`: ``network``, ``requests``, ``max_timeouts``,
        ``max_drops``, ``max_crashes``, ``max_partitions``, ``max_term``,
        ``handler_timeout``, ``check_determinism``, ``evaluator``, ``source``.

    Returns
    -------
    StudentResult

    Examples
    --------
    >>> from pathlib import Path
    >>> from quorumcheck.models.actor_model import load_student_file
    >>> paxos = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "paxos.py")
    >>> r = check_student(paxos.PaxosNode, 3, protocol="paxos", requests=1, max_timeouts=0, isolate=False)
    >>> r.verdict.value, r.result.distinct_states  # reduced by right movers, the default
    ('holds', 2710)
    >>> check_student(paxos.PaxosNode, 3, protocol="paxos", requests=1, max_timeouts=0, isolate=False,
    ...               movers=False).result.distinct_states  # every interleaving
    25576
    """
    if mode not in MODES:
        raise InvalidParameter(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
    if store not in STORES:
        raise InvalidParameter(f"unknown store {store!r}; choose one of: {', '.join(STORES)}")
    if strategy not in STRATEGIES:
        raise InvalidParameter(f"unknown strategy {strategy!r}; choose one of: {', '.join(STRATEGIES)}")
    properties = _check_options(runs=runs, steps=steps, on_progress=on_progress,
                                exhaustive_states=exhaustive_states, properties=properties, model_options=model_options)

    if movers is None:  # the default reduction, unless sleep sets are chosen instead
        movers = not por
    if isolate and not isinstance(node, (str, Path)):
        source = model_options.pop("source", None) or _source_file(node)
        classes = ",".join(source["classes"])
        node = f"{source['file']}:{classes}"
        if "," in classes:
            nodes = None
    model = ActorModel(node, nodes, protocol=protocol, memory_mb=memory_mb, isolate=isolate,
                       **model_options)  # parameter and class errors surface here
    started = time.perf_counter()
    ends = None if timeout is None else time.monotonic() + timeout
    if ends is not None and hasattr(model.host, "deadline"):  # workers replaced later load within it too
        model.host.deadline = ends
        # and no call outlasts it: random schedules look at the time between schedules only, and a schedule of
        # slow handlers took 20 s past --timeout 15
        model.host.stop_at = ends if model.host.stop_at is None else min(model.host.stop_at, ends)
    try:
        found = _run(model, mode=mode, seed=seed, runs=runs, steps=steps, strategy=strategy, max_depth=max_depth,
                     max_states=max_states, timeout=timeout, properties=properties,
                     exhaustive_states=exhaustive_states, measure_coverage=measure_coverage,
                     keep_graph=bool(keep_graph) and store == "objects", por=por, movers=movers, store=store,
                     on_progress=on_progress)
        terms = term_notices(model) + timer_notices(model) + idle_notices(model)
    finally:
        model.close()
    if isinstance(node, (str, Path)) and isolate is not False:  # fresh workers start from the file alone
        unconfirmed = _confirm_by_replay(found, lambda: ActorModel(node, nodes, protocol=protocol,
                                                                   memory_mb=memory_mb, isolate=isolate,
                                                                   **model_options), ends)
        if unconfirmed:
            terms.append(unconfirmed)
    off = model.property_off("votes-safe") if isinstance(model, ActorModel) else None
    if list(properties or ()) == ["all"]:
        off = None
    # votes-safe is on request only: unless asked for, that it is off is no news
    found.notices = [n for n in model.notices() if n != off] + terms
    found.seconds = time.perf_counter() - started
    output = getattr(model.host, "output", None)
    if output is not None:
        found.student_output, found.student_output_bytes = output.text(), output.total
    return found


CONFIRM_SECONDS = 30.0
"""How long replacing workers may take during a confirming replay (:func:`_confirm_by_replay`), past their first
load: a schedule that kills its workers, in a file slow to import, is left as found rather than replayed for
minutes."""


def _confirm_by_replay(found: StudentResult, fresh: Callable[[], ActorModel], ends: float | None = None) -> str | None:
    """Replay ``found``'s counterexample on new workers, and say so when it does not reproduce there.

    Between handler calls a node is only its snapshot, so a schedule should do the same from a fresh start
    as in the search. Code that keeps state where no snapshot and no watch looks (an attribute hung on
    ``sys`` or ``builtins``, another module, a file) counts calls the search made on other paths, and a
    schedule can then fail in the search and not when run: it is no counterexample. Such a violation is
    replaced by a ``state-outside-node`` finding on the same schedule, which says what happened. The code's
    own findings (:data:`CONTAINMENT_PROPERTIES`: it raised, ran out of time or memory) are not replayed.

    The replay runs within the run's time limit, ``ends`` (``time.monotonic()``); cut by it, the violation stands
    as found, and the notice returned says so.
    """
    from quorumcheck.student.trusted.workers import loads_by

    violation = found.result.violation
    if violation is None or violation.trace is None or violation.property in CONTAINMENT_PROPERTIES:
        return None  # a finding about the code itself (it raised, ran out of time or memory) stands as found
    cut = (f"the {violation.property} violation is reported as the search found it: the time limit left no time "
           "to confirm it by a replay on new workers")
    if ends is not None and time.monotonic() >= ends:
        return cut
    try:
        with loads_by(ends):
            model = fresh()
    except QuorumcheckError:  # the file would not load again (it may tell its loads apart): the violation stands
        return None
    except TimeLimitReached:
        return cut
    try:
        if hasattr(model.host, "deadline"):
            model.host.deadline = time.monotonic() + CONFIRM_SECONDS
        reproduced = _reproduces(model, violation)
    except TimeLimitReached:  # its workers died and were slow to load again, or the run's time ran out
        if ends is not None and time.monotonic() >= ends:
            return cut
        reproduced = None
    finally:
        model.close()
    if reproduced is not False:
        return None
    replaced = Violation(
        "state-outside-node", Expectation.ALWAYS, CONTAINMENT_PROPERTIES["state-outside-node"],
        violation.trace, False,
        f"this schedule violated {violation.property} in the search, but not when run again from a fresh start "
        "in new worker processes: the code keeps state between calls where quorumcheck cannot see it (an "
        "attribute on sys, builtins or another module, a file, the environment), so it is no counterexample; "
        "keep all of a node's state in self")
    found.result.violations = [replaced]
    return None


def _reproduces(model: Model[Any], violation: Violation[Any]) -> bool | None:
    """Whether ``violation``'s schedule, replayed on ``model`` as ``quorumcheck test --replay`` replays a saved one,
    matches step by step and violates its property at its end (``None``: ``model`` cannot judge it)."""
    from quorumcheck.explorer.tracefile import replay, saved_trace

    try:
        return replay(saved_trace(model, violation), model).ok
    except QuorumcheckError:  # a property the fresh model does not list (one asked for by name)
        return None


_OWN_OPTIONS = ("protocol", "memory_mb", "isolate")
"""ActorModel's keywords that check_student passes itself (not through ``**model_options``)."""


def _check_options(*, runs: Any, steps: Any, on_progress: Any, exhaustive_states: Any, properties: Any,
                   model_options: dict[str, Any]) -> list[str] | None:
    """check_student's own options, checked as ``quorumcheck test`` checks them, before any worker starts (the
    model's are checked by :class:`ActorModel`, before it starts one).

    Returns ``properties`` as a list of names (one string is one name, not its letters).
    """
    import difflib
    import inspect

    accepted = [name for name, p in inspect.signature(ActorModel.__init__).parameters.items()
                if p.kind is p.KEYWORD_ONLY and name not in _OWN_OPTIONS]
    for name in model_options:
        if name not in accepted:
            close = difflib.get_close_matches(name, [*accepted, *inspect.signature(check_student).parameters], 1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InvalidParameter(f"check_student() has no option {name!r}; {hint}the model options are: "
                                   f"{', '.join(accepted)}")
    for name, value in (("runs", runs), ("steps", steps), ("exhaustive_states", exhaustive_states)):
        if value is None and name != "steps":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameter(f"{name} must be a positive integer, got {value!r}")
    if on_progress is not None and not callable(on_progress):
        raise InvalidParameter(f"on_progress must be a function (called with the part's name and a Progress), "
                               f"got {on_progress!r}")
    return names_given(properties, "properties", "['election-safety']")


def timer_notices(model: ActorModel) -> list[str]:
    """A one-line notice when the nodes armed timers that could not fire: ``max_timeouts`` is 0 (Paxos's default).

    Examples
    --------
    >>> from quorumcheck.models.actors import Node
    >>> class Retry(Node):
    ...     def on_start(self, out):
    ...         out.set_timer("retry")
    >>> model = ActorModel(Retry, 2, max_timeouts=0, isolate=False)
    >>> _ = explore(model)
    >>> timer_notices(model)  # doctest: +ELLIPSIS
    ["the nodes arm the timer 'retry', but --max-timeouts is 0, so no timer fires in this run: ..."]
    """
    if model.limits[TIMEOUTS]:
        return []
    armed = {name for state in model.init_states() for timers in state.timers for name in timers}
    armed.update(name for outcome in model.outcomes() for how, name in outcome.timers if how == "set")
    if not armed:
        return []
    names = ", ".join(repr(n) for n in sorted(armed)[:3]) + (" and more" if len(armed) > 3 else "")
    return [f"the nodes arm the timer{'s' * (len(armed) > 1)} {names}, but --max-timeouts is 0, so no timer fires in "
            "this run: code that recovers by a timer (a retry, an election) is not checked there; give "
            "--max-timeouts 1 or more"]


def idle_notices(model: ActorModel) -> list[str]:
    """A one-line notice when nothing can happen from the initial state: no node sends in ``on_start``, no
    request is allowed and no timer can fire, so every property is judged on the initial state alone.

    Examples
    --------
    >>> from quorumcheck.models.actors import Node
    >>> class Proposer(Node):
    ...     def on_request(self, value, out):
    ...         out.broadcast(value)
    >>> idle_notices(ActorModel(Proposer, 3, requests=0, isolate=False))  # doctest: +ELLIPSIS
    ['nothing can happen in this run: no node sends a message in on_start, --requests is 0 and ...']
    >>> idle_notices(ActorModel(Proposer, 3, requests=1, isolate=False))
    []
    """
    # Read from the initial states and the budgets, not by taking steps: a step calls handlers, which a run cut by
    # its time limit has not all called (each could take the handler time limit).
    init = list(model.init_states())
    requests = model.limits[REQUESTS] and model.requestable
    timers = model.limits[TIMEOUTS] and any(armed for s in init for armed in s.timers)
    if (model.prefix or requests or timers or model.limits[CRASHES] or model.limits[PARTITIONS]
            or any(s.failure is not None or s.network for s in init)):
        return []  # (a start that failed is the finding, not a run with nothing to do)
    why = ["no node sends a message in on_start"]
    if not model.limits[REQUESTS]:
        why.append("--requests is 0")
    if not model.limits[TIMEOUTS]:
        why.append("--max-timeouts is 0")
    else:
        why.append("no node arms a timer in on_start")
    fix = ("give --requests 1 or more" if not model.limits[REQUESTS] and model.requestable
           else "give --max-timeouts 1 or more" if not model.limits[TIMEOUTS]
           else "start the protocol from on_start, on_request or on_timer")
    return [f"nothing can happen in this run: {', '.join(why[:-1]) + ' and ' + why[-1] if len(why) > 1 else why[0]}, "
            f"so every property is judged on the initial state alone; {fix}"]


def term_notices(model: ActorModel) -> list[str]:
    """A one-line notice when a Raft run's bound on terms allows fewer elections than ``max_term`` says.

    ``max_term`` bounds the term itself (a state with a higher term is checked but not explored), so
    code whose nodes start in term 1 gets one election fewer than code starting in term 0 (the examples'
    convention); nothing is said for a start in term 0, or after a scripted prefix.

    Examples
    --------
    >>> from pathlib import Path
    >>> from quorumcheck.models.actor_model import load_student_file
    >>> raft = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "raft.py")
    >>> class FromOne(raft.RaftNode):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.current_term = 1
    >>> term_notices(ActorModel(FromOne, 3, protocol="raft", max_term=2, isolate=False))  # doctest: +ELLIPSIS
    ['the nodes start in term 1 and --max-term 2 bounds the term, not the elections: ...']
    >>> term_notices(ActorModel(raft.RaftNode, 3, protocol="raft", max_term=2, isolate=False))
    []
    """
    if model.protocol != "raft" or model.prefix:
        return []
    observed = next(iter(model.init_states())).observed
    terms = [o[0] for o in observed or () if o is not None and isinstance(o[0], int)]  # a failed start has none
    start = min(terms, default=0)
    if start <= 0:
        return []
    elections = max(model.max_term - start, 0)
    return [f"the nodes start in term {start} and --max-term {model.max_term} bounds the term, not the elections: "
            f"only {elections} election{'' if elections == 1 else 's'} (up to term {model.max_term}) can be "
            f"explored; pass --max-term {model.max_term + start} for {model.max_term} elections"]


def _source_file(node: Any) -> dict[str, Any]:
    from quorumcheck.models.actor_model import _source_of
    from quorumcheck.student.worker.loading import node_classes

    source = _source_of(node_classes(node, None) if isinstance(node, (list, tuple)) else [node])
    if "file" not in source:
        raise InvalidParameter("isolate=True needs the node classes to come from a file; pass the file instead: "
                               "check_student('path/to/raft.py:RaftNode', ...)")
    return source


def _run(
    model: ActorModel, *, mode: str, seed: int | None, runs: int | None, steps: int, strategy: str,
    max_depth: int | None,
    max_states: int | None, timeout: float | None, properties: Sequence[str] | None,
    exhaustive_states: int | None, measure_coverage: bool, keep_graph: bool, por: bool = False,
    movers: bool = False, store: str = "objects", on_progress: Callable[[str, Progress], None] | None = None,
) -> StudentResult:
    prefix: CheckResult[Any] | None = None
    deadline = None if timeout is None else time.perf_counter() + timeout
    if runs is None:  # auto mode spends what its time limit leaves on random schedules
        runs = UNTIL_THE_TIME_LIMIT if mode == "auto" and deadline is not None else RANDOM_RUNS

    def left() -> float | None:  # what the time limit leaves for the next part (0: no part starts after it)
        return None if deadline is None else max(deadline - time.perf_counter(), 0.0)

    if mode in ("exhaustive", "auto"):
        bound = max_states if mode == "exhaustive" or max_states is not None else AUTO_STATES
        share = timeout * AUTO_EXHAUSTIVE_SHARE if mode == "auto" and timeout is not None else timeout
        result = explore(model, max_depth=max_depth, max_states=bound, timeout=share,
                         properties=properties, keep_graph=keep_graph, por=por, movers=movers, store=store,
                         on_progress=None if on_progress is None else partial(on_progress, "exhaustive"),
                         progress_interval=0.25)
        cut = result.verdict is Verdict.UNDETERMINED and result.stop_reason in ("max_states", "timeout")
        if mode == "exhaustive" or not cut:
            # A count reduced by movers is the reduction's, not the configuration's.
            whole = result.complete and not result.by_movers
            return StudentResult("exhaustive", result, model, handler_calls=model.handler_calls,
                                 exhaustive_states=result.distinct_states if whole else None)
        # Too large to finish: every schedule up to the last full level is safe; sample the rest.
        prefix = result
        result.graph = None
    epochs = one_way = merged = merged_one_way = None
    if mode in ("epochs", "auto"):
        # Auto mode: the epoch search goes deeper than the exhaustive part could; random schedules keep a
        # share of the time (RANDOM_RESERVE) for what lies between.
        budget = timeout if mode == "epochs" else left()
        if mode == "auto" and budget is not None:
            budget = budget - min(RANDOM_RESERVE * budget, RANDOM_RESERVE_SECONDS)
        bound = max_states if mode == "epochs" else EPOCH_STATES
        if prefix is not None and budget is not None and budget <= 0:  # the exhaustive part used the whole limit
            return StudentResult("random", replace(prefix, stop_reason="timeout"), model, seed=seed,
                                 handler_calls=model.handler_calls, exhaustive_prefix=prefix)
        by_epochs = epoch_search(model, properties=properties, timeout=budget, max_states=bound,
                                 on_phase_progress=on_progress)
        epochs, one_way, merged = by_epochs.two_way, by_epochs.one_way, by_epochs.merged
        merged_one_way = by_epochs.merged_one_way
        interrupted = by_epochs.found.stop_reason == "interrupted"
        if mode == "epochs" or by_epochs.found.violation is not None or interrupted:
            found = by_epochs.found
            if prefix is not None:  # what the exhaustive part witnessed, by a shortest trace
                found = replace(found, witnesses=[w for w in prefix.witnesses if w.trace is not None])
            return StudentResult("epochs", found, model, handler_calls=model.handler_calls,
                                 exhaustive_prefix=prefix, epochs=epochs, one_way_epochs=one_way,
                                 merged_epochs=merged, merged_one_way_epochs=merged_one_way)
    progress: dict[str, Any] = {}
    visited: set[int] = set()  # shared by the slices below: distinct states are counted once
    # (part name, strategy, share of what is left, seed): one slice unless auto mode walks.
    slices: list[tuple[str, str, float, int | None]] = [("random", strategy, 1.0, seed)]
    if (mode == "auto" and strategy == "swarm" and epochs is not None and not epochs.complete
            and max(epochs.depth - 1, 0) < WALKS_BELOW):
        # The epoch search was cut with its levels too wide to go deep (five nodes: about a hundred epochs
        # from each state); a search that tried every epoch schedule leaves walks nothing new. A short swarm
        # slice first (what swarm finds, it finds in seconds), then walks over epochs, then swarm again with
        # the next seed (the same seed would replay the first slice's schedules).
        rest = None if seed is None else seed + 1
        slices = [("random", strategy, SWARM_FIRST, seed),
                  ("epoch walks", "epochs", WALK_SHARE / (1 - SWARM_FIRST), seed),
                  ("random", strategy, 1.0, rest)]
    result: CheckResult[Any] | None = None
    asked = runs
    schedules = walks = steps_taken = 0
    seconds, longest = 0.0, 0
    for part, drawn, share, part_seed in slices:
        budget = timeout if mode == "random" else left()
        if budget is not None and share < 1.0:
            budget = budget * share
        if budget is not None and budget <= 0 and result is not None:
            break  # the time limit is spent: no slice starts after it
        part_runs = runs if runs >= UNTIL_THE_TIME_LIMIT or share >= 1.0 else max(round(runs * share), 1)
        got, count = random_schedules(model, runs=part_runs, steps=steps, seed=part_seed, timeout=budget,
                                      properties=properties, strategy=drawn, progress=progress,
                                      on_progress=None if on_progress is None else partial(on_progress, part),
                                      visited=visited)
        if got.violation is not None and "first_failure" in progress:  # counted from the random part's start
            first, when = progress["first_failure"]
            progress["first_failure"] = (first + schedules, when + seconds)
        result = got
        schedules, walks = schedules + count, walks + (count if drawn == "epochs" else 0)
        steps_taken, seconds, longest = steps_taken + got.transitions, seconds + got.seconds, max(longest, got.depth)
        if runs < UNTIL_THE_TIME_LIMIT:
            runs = max(runs - count, 1)
        if got.violation is not None or got.stop_reason == "interrupted":
            break
    assert result is not None
    if mode == "random" and result.verdict is Verdict.HOLDS and asked < UNTIL_THE_TIME_LIMIT and schedules < asked:
        # The time limit came before the schedules asked for: too little testing to call it a pass (one slow
        # schedule in a run of 200 was exit 0).
        result = replace(result, verdict=Verdict.UNDETERMINED, stop_reason="timeout")
    if len(slices) > 1:  # the counts of every slice, not the last one's only
        result = replace(result, transitions=steps_taken, seconds=seconds, depth=longest)
    if measure_coverage and exhaustive_states is None:
        # Counted after the random run, so that a configuration too large to count costs only the coverage
        # figure: the count is bounded in states (COVERAGE_STATES unless max_states says otherwise), time and
        # memory, and an incomplete count reports no coverage.
        # Within what the time limit leaves (nothing left: no coverage figure).
        rest = left()
        try:
            counted = None if rest is not None and rest <= 0 else explore(
                model, max_states=max_states or COVERAGE_STATES, timeout=rest, properties=[], keep_graph=False)
        except MemoryError:
            counted = None
        if counted is not None and counted.complete:
            exhaustive_states = counted.distinct_states
    if prefix is not None:  # a witness the exhaustive part found is a shortest one
        result.witnesses = _shortest_witnesses(prefix.witnesses, result.witnesses)
    if prefix is not None and result.verdict is Verdict.HOLDS:
        # Auto mode never calls an incomplete search a pass: every schedule up to some length was checked,
        # some deeper epoch schedules were tried, and some longer schedules sampled; the rest was not.
        result.verdict = Verdict.UNDETERMINED
        result.stop_reason = "not-exhaustive"
    return StudentResult("random", result, model, schedules=schedules, seed=seed,
                         exhaustive_states=exhaustive_states, handler_calls=model.handler_calls,
                         exhaustive_prefix=prefix, first_failure=progress.get("first_failure"), epochs=epochs,
                         one_way_epochs=one_way, merged_epochs=merged, merged_one_way_epochs=merged_one_way,
                         walks=walks)


class EpochRuns(NamedTuple):
    """What :func:`epoch_search` found, and the epoch searches it ran."""

    found: CheckResult[Any]
    """The result in the model's own terms: a violation carries the concrete schedule, expanded from its
    epochs and shrunk by :func:`minimize`. With no violation it is the last search's own result: ``HOLDS``
    when every epoch schedule was tried (no proof: orders of delivery within an epoch other than the
    network's are not tried), ``UNDETERMINED`` when a limit cut the search."""
    two_way: CheckResult[Any] | None
    """The search over two-way epochs (its states are epoch-end states, its ``depth - 1`` the epochs up to
    which every schedule was tried); ``None`` if it did not run (the merged search found the violation, or
    no time was left)."""
    one_way: CheckResult[Any] | None
    """The search that may also take one-way epochs (``None``: it did not run, because an earlier one found
    the violation, ``one_way`` was 0, or no time was left)."""
    merged: CheckResult[Any] | None = None
    """The first search, over epochs merged by protocol state (its states are the summaries it kept, its
    ``depth - 1`` the epochs up to which every kept state's epochs were tried); ``None`` if it did not run
    (the model has no summary, or ``merged`` was false)."""
    merged_one_way: CheckResult[Any] | None = None
    """The second search, merged like the first, whose schedules may also take up to ``one_way`` one-way
    epochs; ``None`` if it did not run."""


def _shortest_witnesses(exhaustive: Sequence[Witness[Any]], sampled: Sequence[Witness[Any]]) -> list[Witness[Any]]:
    """Per reachability property, the exhaustive part's witness (a shortest trace) unless it found none."""
    by_name = {w.property: w for w in exhaustive if w.trace is not None}
    return [by_name.get(w.property, w) for w in sampled]


def epoch_search(
    model: Model[Any], *, properties: Sequence[str] | None = None, timeout: float | None = None,
    max_states: int | None = None, max_depth: int | None = None,
    on_progress: Callable[[Progress], None] | None = None, one_way: int = ONE_WAY_EPOCHS,
    on_phase_progress: Callable[[str, Progress], None] | None = None, merged: bool = True,
) -> EpochRuns:
    """Search ``model`` by epochs (:class:`~quorumcheck.explorer.epochs.EpochModel`) with the one explorer.

    Up to four searches, each breadth-first, each run only if the ones before found nothing:

    1. with ``merged`` (the default) and a model that has a summary (:func:`epoch_summary_function`: student
       code with a protocol), over epochs among groups of nodes with epoch-end states *merged*: of the
       states with one summary only the first met is kept. It reaches deepest for its cost (Raft's Figure
       8 with five nodes is six epochs), but skips what the dropped states would lead to;
    2. the same, merged, over schedules that may also take up to ``one_way`` one-way epochs (only one
       node's messages to one other delivered, while the replies wait), for bugs that need a reply to
       arrive late;
    3. over epochs among groups of nodes, every epoch-end state kept (Figure 8 with three nodes is five
       epochs);
    4. the same with up to ``one_way`` one-way epochs, every epoch-end state kept.

    Each search is bounded by ``max_states`` and ``max_depth``. Under ``timeout`` each merged search takes
    at most :data:`MERGED_SHARE` of what is left, and the third at most :data:`TWO_WAY_SHARE` of what is
    left when the fourth is to run. ``on_progress`` gets each search's progress; ``on_phase_progress`` gets it
    with the search's name (``"merged epochs"``, ``"merged one-way epochs"``, ``"epochs"``, ``"one-way
    epochs"``).

    Returns
    -------
    EpochRuns
        The result in the model's own terms, and the searches' own results.

    Examples
    --------
    A Raft whose vote compares log lengths only: a node with a stale log of the same length wins an
    election and lacks an entry the cluster committed. Found from the initial state in five epochs
    (ten seconds), and shrunk to the 14 steps that matter.

    >>> from pathlib import Path
    >>> from quorumcheck.models.actor_model import load_student_file
    >>> bugs = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "raft_bugs.py")
    >>> m = ActorModel(bugs.LengthOnlyLogCheck, 3, protocol="raft", requests=2, max_timeouts=3, max_term=3)
    >>> runs = epoch_search(m)
    >>> runs.found.violation.property, len(runs.found.violation.trace), runs.merged.depth - 1, runs.two_way
    ('leader-completeness', 14, 4, None)
    >>> runs = epoch_search(m, merged=False)
    >>> runs.found.violation.property, len(runs.found.violation.trace), runs.two_way.depth - 1, runs.one_way
    ('leader-completeness', 14, 4, None)
    """
    safety, _, step_props = _select(model, properties)
    deadline = None if timeout is None else time.perf_counter() + timeout
    summary = epoch_summary_function(model) if merged else None
    # (name, one-way epochs allowed, summary, share of the time left): the merged searches first (cheap and
    # deep), two-way then one-way too; then the same keeping every epoch-end state. The last takes what is left.
    phases: list[tuple[str, int, Any, float]] = []
    if summary is not None:
        phases.append(("merged epochs", 0, summary, MERGED_SHARE))
        if one_way > 0:
            phases.append(("merged one-way epochs", one_way, summary, MERGED_SHARE))
    phases.append(("epochs", 0, None, TWO_WAY_SHARE if one_way > 0 else 1.0))
    if one_way > 0:
        phases.append(("one-way epochs", one_way, None, 1.0))
    runs: dict[str, tuple[EpochModel, CheckResult[Any]]] = {}
    last = ""
    for name, ways, merge, share in phases:
        if deadline is None:
            budget = None
        else:
            left = deadline - time.perf_counter()
            if runs and left < 1.0:
                break
            budget = left * share if runs else timeout * share  # type: ignore[operator]
        epochs = EpochModel(model, safety + step_props, one_way=ways, merge=merge)
        report = on_progress if on_phase_progress is None else partial(on_phase_progress, name)
        searched = explore(epochs, max_states=max_states, max_depth=max_depth, timeout=budget, keep_graph=False,
                           on_progress=report, progress_interval=0.25)
        runs[name], last = (epochs, searched), name
        if searched.violation is not None or searched.stop_reason == "interrupted":  # Ctrl-C ends every search
            break
    parts = {name: run[1] for name, run in runs.items()}
    found = EpochRuns(parts[last], parts.get("epochs"), parts.get("one-way epochs"), parts.get("merged epochs"),
                      parts.get("merged one-way epochs"))
    epochs, searched = runs[last]
    violation = searched.violation
    if violation is None or violation.trace is None:
        if last.startswith("merged"):  # a merged search that ran alone (the time limit) proves even less: not HOLDS
            cut = replace(searched, verdict=Verdict.UNDETERMINED, complete=False,
                          stop_reason=searched.stop_reason or "not-exhaustive")
            return found._replace(found=cut)
        return found
    concrete = _replay(model, epochs.concrete_labels(violation.trace), safety, step_props)
    # The step that ends the epoch can break an action property and an invariant at once; the explorer names
    # the first in its order, the replay the action property (it judges a step before the state it reaches).
    broken = {p.name for p in epochs.properties() if not p.holds(violation.trace.steps[-1].state)}
    if concrete is None or concrete.property not in broken:  # epochs are deterministic: cannot happen
        raise AssertionError(f"the epoch schedule violating {violation.property} did not replay")
    concrete = minimize(model, concrete, safety, step_props)
    return found._replace(found=replace(searched, violations=with_culprits(model, [concrete]), witnesses=[],
                                        model_name=model.name, bug=getattr(model, "bug", None)))


def epoch_check(
    model: Model[Any], *, properties: Sequence[str] | None = None, timeout: float | None = None,
    max_states: int | None = None, max_depth: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> CheckResult[Any]:
    """``check --search epochs``: :func:`epoch_search` on a built-in model, with a verdict ``check`` can stand by.

    A violation is the concrete, shrunk schedule, which replays and renders as any other. No violation
    is ``UNDETERMINED`` (``stop_reason`` ``"not-exhaustive"``), never ``HOLDS``: the epochs try one
    order of delivery each, so finding nothing proves nothing. The counts are the epoch search's
    (``distinct_states``: epoch-end states; ``depth - 1``: every schedule of that many epochs tried), and
    so are the limits (``max_depth``: epochs).

    Examples
    --------
    Raft whose up-to-date check compares log lengths, from the initial state: four elections, 38
    steps, which a breadth-first search with symmetry takes minutes and gigabytes to reach.

    >>> from quorumcheck.models import RaftModel
    >>> r = epoch_check(RaftModel(bug="length-only-log-check", prefix=[]))  # doctest: +SKIP
    >>> r.verdict.value, r.violation.property, len(r.violation.trace)  # doctest: +SKIP
    ('violated', 'leader-completeness', 38)
    >>> r = epoch_check(RaftModel(servers=2))
    >>> r.verdict.value, r.stop_reason
    ('undetermined', 'not-exhaustive')
    """
    found = epoch_search(model, properties=properties, timeout=timeout, max_states=max_states,
                         max_depth=None if max_depth is None else max_depth + 1,  # the explorer counts states
                         on_progress=on_progress).found
    if found.violation is None and found.verdict is Verdict.HOLDS:
        found = replace(found, verdict=Verdict.UNDETERMINED, stop_reason="not-exhaustive", complete=False)
    return found


def describe_schedule(found: StudentResult | CheckResult[Any], limit: int | None = None) -> list[str]:
    """The first violation's schedule as numbered lines (``"  3. Deliver(from=n0, to=n1, msg=...)"``).

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> r = explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"))
    >>> describe_schedule(r)[:2]
    ['  1. Phase1a(b=0)', '  2. Phase1b(a=a1, b=0)']
    """
    result = found.result if isinstance(found, StudentResult) else found
    v = result.violation
    if v is None or v.trace is None:
        return []
    lines = [f"{k:>3}. {shown_text(str(a))}" for k, a in enumerate(v.trace.actions, start=1)]  # a message: megabytes?
    if limit is not None and len(lines) > limit:
        more = len(lines) - limit
        lines = lines[:limit] + [f"     … {more} more step{'' if more == 1 else 's'}"]
    return lines


__all__ += ["RANDOM_RUNS", "UNTIL_THE_TIME_LIMIT", "coverage_cell_function", "describe_schedule", "term_notices"]
