"""Typed results of a run: the verdict, the statistics, and the traces.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"))
>>> r.verdict, r.exit_code
(<Verdict.VIOLATED: 'violated'>, 1)
>>> v = r.violations[0]
>>> v.property, len(v.trace), str(v.trace.steps[-1].action)
('agreement', 9, 'Phase2b(a=a2, b=0, v=v1)')
"""

from __future__ import annotations

import builtins
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from quorumcheck.models.api import Action, Expectation

if TYPE_CHECKING:
    import networkx as nx
    from quorumcheck.models.api import Model

    from .por import PorStats

__all__ = ["JSON_SCHEMA_VERSION", "JSON_TEXT_SHOWN", "TEXT_SHOWN", "CheckResult", "Step", "Trace", "Verdict", "Violation",
           "Witness", "shown_text", "shown_view"]

JSON_SCHEMA_VERSION = 1

State = TypeVar("State")


class Verdict(enum.Enum):
    """How a run ended. ``UNDETERMINED`` is never a pass."""

    HOLDS = "holds"
    """Every state was explored; every safety property held, every reachability property was witnessed."""
    VIOLATED = "violated"
    """A safety property failed in a reachable state, or a reachability property was never witnessed."""
    UNDETERMINED = "undetermined"
    """The run was cut (states, depth or time limit) before either answer was certain."""

    @property
    def exit_code(self) -> int:
        """The CLI's exit status: 0 holds, 1 violated, 3 undetermined (2 is a usage error)."""
        return {"holds": 0, "violated": 1, "undetermined": 3}[self.value]


EXIT_INTERRUPTED = 130
"""The exit status of a run stopped by Ctrl-C (as shells report SIGINT), after printing the result so far."""


TEXT_SHOWN = 2_000
"""The most characters of one value a report shows (the text report's lines, the HTML report, the charts): a node
of student code may hold megabytes, which no reader reads (``--save-trace`` keeps every value whole)."""
JSON_TEXT_SHOWN = 10_000
"""The same for each text of a counterexample's states in ``--json`` (an adversarial submission made a 40-step
result 1.1 GB)."""


def shown_text(text: str, limit: int = TEXT_SHOWN) -> str:
    """``text``, or its first ``limit`` characters and how long it was.

    Examples
    --------
    >>> shown_text("n0.blob: " + "x" * 5000, 12)
    'n0.blob: xxx… (5,009 characters; --save-trace FILE keeps them all)'
    >>> shown_text("short")
    'short'
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters; --save-trace FILE keeps them all)"


def shown_view(view: Any, limit: int = JSON_TEXT_SHOWN) -> Any:
    """A ``describe()`` view with every text longer than ``limit`` characters cut (:func:`shown_text`), keys too.

    Examples
    --------
    >>> shown_view({"n0": {"blob": "'" + "x" * 30 + "'"}, "network": ["m"]}, 10)
    {'n0': {'blob': "'xxxxxxxxx… (32 characters; --save-trace FILE keeps them all)"}, 'network': ['m']}
    """
    if isinstance(view, str):
        return shown_text(view, limit)
    if isinstance(view, dict):
        return {shown_view(k, limit) if isinstance(k, str) else k: shown_view(v, limit) for k, v in view.items()}
    if isinstance(view, (list, tuple)):
        return [shown_view(v, limit) for v in view]
    return view


@dataclass(frozen=True)
class Step(Generic[State]):
    """One step of a trace: the action taken (``None`` for an initial state) and the state after it."""

    action: Action | None
    state: State


@dataclass(frozen=True)
class Trace(Generic[State]):
    """A path through the state graph, starting in an initial state.

    ``len(trace)`` is the number of actions; ``trace.steps[0]`` is the initial
    state with ``action=None``.
    """

    steps: tuple[Step[State], ...]

    def __len__(self) -> int:
        return len(self.steps) - 1

    @property
    def actions(self) -> list[Action]:
        """The action labels, in order."""
        return [s.action for s in self.steps[1:] if s.action is not None]

    @property
    def states(self) -> list[State]:
        """The states, initial state first."""
        return [s.state for s in self.steps]

    @property
    def final(self) -> State:
        """The last state."""
        return self.steps[-1].state

    def to_json(self, model: Model[State]) -> list[dict[str, Any]]:
        """The steps as ``[{"action": label or None, "state": describe(state)}, ...]``, each text of at most
        :data:`JSON_TEXT_SHOWN` characters (:func:`shown_view`)."""
        return [
            {"action": None if s.action is None else shown_text(str(s.action), JSON_TEXT_SHOWN),
             "state": shown_view(model.describe(s.state))}
            for s in self.steps
        ]


@dataclass(frozen=True)
class Culprit:
    """The first step of a counterexample after which an auxiliary invariant no longer holds.

    The violated property is often seen many steps after the mistake that made it
    inevitable. Auxiliary invariants (votes-safe, one-value-per-ballot, log matching, ...)
    are checked along the trace; the first step that breaks one is where it went wrong.

    ``step`` counts actions from 1, as the charts and the text number them
    (``trace.steps[step]`` is the state after it).
    """

    step: int
    property: str
    explanation: str | None = None


@dataclass(frozen=True)
class Violation(Generic[State]):
    """A property that failed, with the shortest trace that shows it.

    For a reachability property that was never witnessed there is no trace
    (``trace is None``): the failure is the absence of any witness.
    """

    property: str
    expectation: Expectation
    description: str
    trace: Trace[State] | None
    outside_boundary: bool = False
    """True when the violating state lies outside the model's bound (checked, not counted)."""
    explanation: str | None = None
    """Why the last state violates the property, in the model's own terms, when the property says."""
    culprit: Culprit | None = None
    """The first step that broke an auxiliary invariant along the trace, when one did (see `Culprit`)."""


@dataclass(frozen=True)
class Witness(Generic[State]):
    """A reachability property and the shortest trace to a state where it holds (or ``None``)."""

    property: str
    description: str
    trace: Trace[State] | None

    @builtins.property
    def witnessed(self) -> bool:
        return self.trace is not None


@dataclass(frozen=True)
class PropertyStats:
    """What checking one property cost: evaluator calls (cache misses), cache hits, seconds in the evaluator."""

    evaluator: str
    calls: int
    cache_hits: int
    seconds: float


@dataclass(frozen=True)
class FingerprintStats:
    """What a run with ``store="fingerprints"`` held, and how sure its verdict is.

    ``collision_probability`` estimates the chance that two different states had
    the same 64-bit fingerprint, so that one of them was never expanded (about
    ``states × transitions / 2**64``, as TLC's "calculated" estimate).
    """

    store_bytes: int
    collision_probability: float

    def bytes_per_state(self, states: int) -> float:
        return self.store_bytes / states if states else 0.0


@dataclass
class CheckResult(Generic[State]):
    """Everything a run found.

    Attributes
    ----------
    verdict : Verdict
    distinct_states : int
        Distinct states inside the bound (as TLC counts them).
    transitions : int
        Labelled transitions generated, stuttering steps and steps to states
        outside the bound included (one per action and parameters).
    depth : int
        The number of states on the longest shortest path from an initial
        state, as TLC reports "depth" (a model with only its initial states
        has depth 1). A run stopped at a violation reports the level it was
        expanding: the counterexample's length in steps, its violating state
        one level deeper.
    seconds : float
    peak_memory_bytes : int
        The process's peak resident set size at the end of the run.
    violations : list of Violation
        Failed properties, each with its own shortest trace; at most one
        unless the run continued past the first (``stop_at_first=False``).
    witnesses : list of Witness
        Every reachability property, witnessed or not.
    stop_reason : str or None
        Why the run was cut, for ``UNDETERMINED``: ``"max_states"``,
        ``"max_depth"``, ``"timeout"`` or ``"unknown"`` (a property could not be
        decided); ``None`` when it ran to completion or stopped at a violation.
    graph : networkx.DiGraph or None
        The state graph (see :mod:`quorumcheck.explorer.graph`), or ``None``
        when the run did not keep it.
    """

    verdict: Verdict
    model_name: str
    settings: dict[str, Any]
    bug: str | None
    distinct_states: int
    transitions: int
    depth: int
    seconds: float
    peak_memory_bytes: int
    violations: list[Violation[State]] = field(default_factory=list)
    witnesses: list[Witness[State]] = field(default_factory=list)
    stop_reason: str | None = None
    complete: bool = True
    """True when every reachable state inside the bound was explored."""
    graph: nx.DiGraph | None = field(default=None, repr=False)
    init_nodes: list[int] = field(default_factory=list, repr=False)
    judging: dict[str, PropertyStats] = field(default_factory=dict, repr=False)
    """Per property written as a formula: what judging it cost."""
    symmetry: tuple[str, ...] = ()
    """The sorts whose elements the run permuted (symmetry reduction); empty without it."""
    notices: list[str] = field(default_factory=list)
    """One-line notices about how the run was set up (a sort left unpermuted, and why)."""
    fingerprints: FingerprintStats | None = None
    """With ``store="fingerprints"``: the store's size and the fingerprint collision estimate; else ``None``."""
    workers: int = 1
    """The worker processes that searched (``explore(workers=...)``)."""
    partial_order: PorStats | None = None
    """With ``explore(por=True)`` and a model that names persistent steps or step resources: a
    :class:`~quorumcheck.explorer.por.PorStats` (which reduction, and how often it applied); else ``None``."""

    def judge_totals(self, evaluator: str | None = None) -> dict[str, Any]:
        """Calls, cache hits and seconds summed over the judged properties (of one evaluator, if given).

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> from quorumcheck.explorer import explore
        >>> explore(PaxosModel(max_ballot=1)).judge_totals("z3")["calls"] > 0
        True
        """
        stats = [s for s in self.judging.values() if evaluator is None or s.evaluator == evaluator]
        return {
            "calls": sum(s.calls for s in stats),
            "cache_hits": sum(s.cache_hits for s in stats),
            "seconds": round(sum((s.seconds for s in stats), 0.0), 4),  # a float (0.0) even when nothing was judged
        }

    @property
    def by_movers(self) -> bool:
        """Whether the run was reduced by right movers (then ``distinct_states`` counts stored states only, and
        ``partial_order.met`` the states passed through inside transactions).

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> from quorumcheck.explorer import explore
        >>> explore(PaxosModel(max_ballot=0)).by_movers
        False
        """
        return self.partial_order is not None and self.partial_order.method == "movers"

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else float(self.distinct_states)

    @property
    def exit_code(self) -> int:
        """0 holds, 1 violated, 3 undetermined, 130 interrupted by Ctrl-C without a violation."""
        if self.stop_reason == "interrupted" and self.verdict is not Verdict.VIOLATED:
            return EXIT_INTERRUPTED
        return self.verdict.exit_code

    @property
    def violation(self) -> Violation[State] | None:
        """The first violation found, or ``None``."""
        return self.violations[0] if self.violations else None

    def to_json(self, model: Model[State]) -> dict[str, Any]:
        """The stable JSON result (schema documented in docs/json-result.md)."""

        def violation(v: Violation[State]) -> dict[str, Any]:
            return {
                "property": v.property,
                "kind": v.expectation.value,
                "description": v.description,
                "outside_boundary": v.outside_boundary,
                "explanation": v.explanation,
                "culprit": None if v.culprit is None else {
                    "step": v.culprit.step, "property": v.culprit.property, "explanation": v.culprit.explanation,
                },
                "trace": None if v.trace is None else v.trace.to_json(model),
            }

        return {
            "schema": JSON_SCHEMA_VERSION,
            "model": self.model_name,
            "parameters": self.settings,
            "bug": self.bug,
            "verdict": self.verdict.value,
            "complete": self.complete,
            "stop_reason": self.stop_reason,
            "distinct_states": self.distinct_states,
            "transitions": self.transitions,
            "depth": self.depth,
            "seconds": round(self.seconds, 4),
            "states_per_second": round(self.states_per_second, 1),
            "peak_memory_bytes": self.peak_memory_bytes,
            "symmetry": list(self.symmetry),
            "store": "objects" if self.fingerprints is None else "fingerprints",
            "workers": self.workers,
            "fingerprints": None if self.fingerprints is None else {
                "store_bytes": self.fingerprints.store_bytes,
                "bytes_per_state": round(self.fingerprints.bytes_per_state(self.distinct_states), 1),
                "collision_probability": self.fingerprints.collision_probability,
            },
            "partial_order": None if self.partial_order is None else {
                "method": self.partial_order.method,
                "reduced": self.partial_order.reduced, "full": self.partial_order.full,
                "visible": self.partial_order.visible, "revisits": self.partial_order.revisits,
                "slept": self.partial_order.slept, "transactions": self.partial_order.transactions,
                "passed": self.partial_order.passed, "dropped": self.partial_order.dropped,
                "covered": self.partial_order.covered, "met": self.partial_order.met,
            },
            "notices": list(self.notices),
            "violation": violation(self.violations[0]) if self.violations else None,
            "violations": [violation(v) for v in self.violations],
            "z3": self.judge_totals("z3"),
            "properties": {
                name: {"evaluator": s.evaluator, "calls": s.calls, "cache_hits": s.cache_hits,
                       "seconds": round(s.seconds, 4)}
                for name, s in self.judging.items()
            },
            "reachability": [
                {
                    "property": w.property,
                    "description": w.description,
                    "witnessed": w.witnessed,
                    "trace": None if w.trace is None else w.trace.to_json(model),
                }
                for w in self.witnesses
            ],
        }
