"""The modelling API: what a model is, as the explorer sees it.

A model is a small object (compare Stateright's ``Model`` trait):

* :meth:`Model.init_states` -- the initial states;
* :meth:`Model.successors` -- for a state, every enabled action with its
  successor state, as ``(Action, state)`` pairs;
* :meth:`Model.properties` -- named :class:`Property` values: safety
  invariants (:func:`always`) that must hold in every reachable state, and
  reachability properties (:func:`sometimes`) that must hold in *some* reachable
  state, so that a model that never does anything cannot pass vacuously;
* :meth:`Model.within_boundary` -- an optional bound with TLC ``CONSTRAINT``
  semantics: a successor outside it is checked against the safety properties
  but neither counted nor expanded.

States must be immutable and hashable, because the explorer deduplicates them in
a dict and stores them as graph node attributes. Fast states are flat: tuples
or ``typing.NamedTuple`` of small ints, with collections as ``frozenset``
(whose hash CPython caches) or sorted tuples. Avoid strings inside states that
are put into sets: ``str`` hashes are salted per process, so set iteration order,
and with it which of several equally short counterexamples is found, would
change from run to run. Keep names (acceptor ``a1``, value ``v2``) for
:meth:`Model.describe` and the action labels, and ints inside the state.

Examples
--------
A complete model: a counter that may go up by one or two, with a bound.

>>> from quorumcheck.models import Model, Action, always, sometimes
>>> class Counter(Model):
...     name = "counter"
...     def init_states(self):
...         return [0]
...     def successors(self, state):
...         return [(Action("Add", n=1), state + 1), (Action("Add", n=2), state + 2)]
...     def properties(self):
...         return [always("small", lambda s: s < 10), sometimes("five", lambda s: s == 5)]
...     def within_boundary(self, state):
...         return state <= 6
>>> from quorumcheck.explorer import explore
>>> result = explore(Counter())
>>> result.verdict.value, result.distinct_states
('holds', 7)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from quorumcheck.errors import InvalidParameter

from .symmetry import Permutation

__all__ = [
    "Action",
    "Expectation",
    "Model",
    "Parameter",
    "Property",
    "State",
    "StepEvents",
    "always",
    "sometimes",
]

State = TypeVar("State", bound=Hashable)


class Action:
    """A readable, hashable label of one transition: ``Phase2a(b=1, v=v2)``.

    Parameters
    ----------
    name : str
        The action's name, as the specification names it (``Phase2a``).
    **args
        Its parameters, in the order they should be printed.

    Examples
    --------
    >>> a = Action("Phase2a", b=1, v="v2")
    >>> str(a), a.name, a.args["v"]
    ('Phase2a(b=1, v=v2)', 'Phase2a', 'v2')
    >>> a == Action("Phase2a", b=1, v="v2")
    True

    Two steps that print alike but differ (two messages whose classes share a name) are told apart by an
    identity that is compared but not printed (:meth:`keyed`):

    >>> x, y = Action.keyed(("nt", "a.Ping"), "Deliver", msg="Ping()"), Action.keyed(("dc", "b.Ping"), "Deliver", msg="Ping()")
    >>> str(x) == str(y), x == y
    (True, False)
    """

    __slots__ = ("_hash", "_identity", "_items", "_text", "name")

    def __init__(self, name: str, **args: Any) -> None:
        self.name = name
        self._items = tuple(args.items())
        self._identity: Hashable = None
        self._hash = hash((name, self._items))
        inner = ", ".join(f"{k}={v}" for k, v in self._items)
        self._text = f"{name}({inner})"

    @classmethod
    def keyed(cls, identity: Hashable, name: str, **args: Any) -> Action:
        """An action that equals only actions of the same ``identity`` (compared, never printed).

        A model whose printed arguments may not tell two steps apart (the text of a student's message) gives each
        step what does, so that the search, its reductions and its caches keep them apart.
        """
        action = cls(name, **args)
        action._identity = identity
        action._hash = hash((name, action._items, identity))
        return action

    @property
    def args(self) -> dict[str, Any]:
        """The parameters as a dict (a copy)."""
        return dict(self._items)

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Action({self._text})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.name == other.name and self._items == other._items and self._identity == other._identity

    def __hash__(self) -> int:
        return self._hash


class Expectation(enum.Enum):
    """What a property expects of the reachable states."""

    ALWAYS = "always"
    """A safety invariant: it must hold in every reachable state."""
    SOMETIMES = "sometimes"
    """A reachability property: it must hold in at least one reachable state."""
    EVERY_STEP = "every-step"
    """An action property: ``condition(before, after)`` must hold on every transition."""


@dataclass(eq=False)
class Property(Generic[State]):
    """A named property of a model's states.

    Build one with :func:`always` or :func:`sometimes`.

    Parameters
    ----------
    name : str
        Short identifier, used by ``--invariant`` and in results (``agreement``).
    expectation : Expectation
        ``ALWAYS`` (safety) or ``SOMETIMES`` (reachability).
    condition : callable
        ``condition(state) -> bool``; for an ``EVERY_STEP`` property,
        ``condition(before, after) -> bool``.
    description : str
        One line for humans ("at most one value is chosen").
    formula, judge : optional
        Set by :func:`quorumcheck.invariants.formula_property` for properties
        written in the first-order language.
    explainer : callable, optional
        ``explainer(state) -> str``: a witness in the model's own terms, shown
        with a violation ("v1 chosen in ballot 0 by {a1, a2}; ...").
    step_explainer : callable, optional
        For an ``EVERY_STEP`` property, ``step_explainer(before, after) -> str``:
        what the violating step changed; without it, ``explainer(after)``.
    footprint : callable, optional
        ``footprint(state) -> hashable``: the part of the state the condition
        reads. When given, the condition is evaluated once per distinct
        footprint value and the answer is cached, which makes checking cheap
        when many states share a footprint (Paxos agreement reads only the 2b
        messages: 185,369 states, 1,611 distinct vote sets).
    """

    name: str
    expectation: Expectation
    condition: Callable[[State], bool]
    description: str = ""
    footprint: Callable[[State], Hashable] | None = None
    explainer: Callable[[State], str | None] | None = None
    step_explainer: Callable[[State, State], str | None] | None = None
    formula: Any = None
    """The first-order formula the property was written as, if any (shown by ``quorumcheck list``)."""
    judge: Any = None
    """What evaluates the formula (a :class:`quorumcheck.invariants.Judge`), with its statistics."""
    default: bool = True
    """Checked when no properties are named; False for auxiliary lemmas checked on request."""
    node_local: bool = False
    """An action property that judges each node's own state before and after a step, and holds for a node
    that does not change. Sleep sets (:class:`~quorumcheck.explorer.por.SleepSets`) preserve such a property:
    a step they skip changes one node exactly as a step they took did."""
    evaluations: int = field(default=0, repr=False)
    """How often the condition itself ran (cache misses, or every check without a footprint)."""
    cache_hits: int = field(default=0, repr=False)
    """How often a cached answer was reused."""
    _cache: dict[Hashable, bool] = field(default_factory=dict, repr=False)
    _last_key: Any = field(default=None, repr=False)
    _last_answer: bool = field(default=True, repr=False)

    def explain(self, state: State) -> str | None:
        """Why the property fails (or holds) in ``state``, in the model's terms; ``None`` if it cannot say."""
        return None if self.explainer is None else self.explainer(state)

    def explain_step(self, before: State | None, after: State) -> str | None:
        """Why an action property fails on the step from ``before`` to ``after``: what the step changed when the
        property says (:attr:`step_explainer`), else :meth:`explain` of ``after``.

        >>> p = every_step("up", lambda s, t: t > s, step_explainer=lambda s, t: f"{s} fell to {t}")
        >>> p.explain_step(3, 2), every_step("up", lambda s, t: t > s).explain_step(3, 2)
        ('3 fell to 2', None)
        """
        if self.step_explainer is not None and before is not None:
            return self.step_explainer(before, after)
        return self.explain(after)

    def holds(self, state: State) -> bool:
        """Evaluate the property on one state (cached by footprint when one is given).

        Examples
        --------
        >>> p = always("even", lambda s: s % 2 == 0, footprint=lambda s: s % 2)
        >>> p.holds(4), p.holds(7), p.holds(8)
        (True, False, True)
        """
        if self.footprint is None:
            self.evaluations += 1
            return bool(self.condition(state))
        key = self.footprint(state)
        if key is self._last_key:  # consecutive states often share the very same footprint object
            self.cache_hits += 1
            return self._last_answer
        cached = self._cache.get(key)
        if cached is None:
            self.evaluations += 1
            cached = self._cache[key] = bool(self.condition(state))
        else:
            self.cache_hits += 1
        self._last_key, self._last_answer = key, cached
        return cached

    def holds_on_step(self, before: State, after: State) -> bool:
        """Evaluate an action property on one transition (cached on both footprints).

        Examples
        --------
        >>> p = every_step("monotone", lambda s, t: t >= s)
        >>> p.holds_on_step(1, 2), p.holds_on_step(2, 1)
        (True, False)
        """
        if self.footprint is None:
            self.evaluations += 1
            return bool(self.condition(before, after))  # type: ignore[call-arg]
        first, second = self.footprint(before), self.footprint(after)
        last = self._last_key
        if last is not None and first is last[0] and second is last[1]:
            self.cache_hits += 1
            return self._last_answer
        key = (first, second)
        cached = self._cache.get(key)
        if cached is None:
            self.evaluations += 1
            cached = self._cache[key] = bool(self.condition(before, after))  # type: ignore[call-arg]
        else:
            self.cache_hits += 1
        self._last_key, self._last_answer = key, cached
        return cached

    def clear_cache(self) -> None:
        """Forget cached answers and reset the counters."""
        self._cache.clear()
        self.evaluations = self.cache_hits = 0
        self._last_key = None


def always(
    name: str,
    condition: Callable[[State], bool],
    description: str = "",
    *,
    footprint: Callable[[State], Hashable] | None = None,
    explain: Callable[[State], str] | None = None,
) -> Property[State]:
    """A safety invariant: ``condition`` must hold in every reachable state.

    Examples
    --------
    >>> p = always("nonnegative", lambda s: s >= 0, "the counter never goes below zero")
    >>> p.expectation.value, p.holds(3)
    ('always', True)
    """
    return Property(name, Expectation.ALWAYS, condition, description, footprint, explain)


def sometimes(
    name: str,
    condition: Callable[[State], bool],
    description: str = "",
    *,
    footprint: Callable[[State], Hashable] | None = None,
    explain: Callable[[State], str] | None = None,
) -> Property[State]:
    """A reachability property: ``condition`` must hold in at least one reachable state.

    A run that never witnesses it fails, so a model that never decides cannot
    pass its safety properties vacuously.

    Examples
    --------
    >>> p = sometimes("decided", lambda s: s == 5, "a value can be chosen")
    >>> p.expectation.value
    'sometimes'
    """
    return Property(name, Expectation.SOMETIMES, condition, description, footprint, explain)


def every_step(
    name: str,
    condition: Callable[[State, State], bool],
    description: str = "",
    *,
    footprint: Callable[[State], Hashable] | None = None,
    explain: Callable[[State], str] | None = None,
    step_explainer: Callable[[State, State], str] | None = None,
) -> Property[State]:
    """An action property: ``condition(before, after)`` must hold on every transition.

    Checked on every labelled transition the search generates (stuttering steps
    and steps leaving the bound included). Raft's Leader Append-Only is one: a
    leader's log before a step is a prefix of its log after it, within a term.
    A violation's trace ends with the offending step.

    Examples
    --------
    >>> p = every_step("monotone", lambda s, t: t >= s, "the counter never goes down")
    >>> p.expectation.value
    'every-step'
    """
    return Property(name, Expectation.EVERY_STEP, condition, description, footprint, explain,  # type: ignore[arg-type]
                    step_explainer)


@dataclass(frozen=True)
class Parameter:
    """One typed, documented model parameter, shared by the CLI and specs/.

    Parameters
    ----------
    name : str
        Python name (``max_ballot``); the CLI flag is ``--max-ballot``.
    kind : str
        ``"int"``, ``"bool"`` (a ``--name/--no-name`` switch), ``"names"`` (a
        count or a list of distinct names), ``"quorums"`` (a list of lists
        of names), or ``"labels"`` (a list of action labels; on the command
        line a file of labels, one per line, or a saved trace, since labels
        contain commas).
    default : object
        Value when not given.
    help : str
        One line for ``--help`` and ``quorumcheck list``.
    """

    name: str
    kind: str
    default: Any
    help: str

    @property
    def flag(self) -> str:
        """The CLI flag, e.g. ``--max-ballot``."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class StepEvents:
    """Who took one step of a trace, and which messages it sent and received.

    Returned by :meth:`Model.events`; the sequence chart (``quorumcheck.render``)
    draws one lane per ``actor`` and one arrow per message receipt.

    Parameters
    ----------
    actor : str
        The process that took the step, as people name it: ``"a1"``,
        ``"proposer b0"``, ``"s2"``. Steps with the same actor share a lane.
    sent : tuple of str
        Identifiers of the messages this step put on the network, newly.
    received : tuple of str
        Identifiers of the messages this step received (read and acted on).

    Examples
    --------
    >>> e = StepEvents("a1", sent=("1b(a=a1, b=0)",), received=("1a(b=0)",))
    >>> e.actor, e.received
    ('a1', ('1a(b=0)',))
    >>> StepEvents("Tick")
    StepEvents(actor='Tick', sent=(), received=())
    """

    actor: str
    sent: tuple[str, ...] = ()
    received: tuple[str, ...] = ()


class Model(Generic[State]):
    """Base class of every model. Subclass it and implement the four methods.

    Class attributes
    ----------------
    name : str
        The model's name on the command line (``paxos``).
    parameters : tuple of Parameter
        The constructor's keyword parameters, typed and documented.
    bugs : mapping of str to str
        Known bugs selectable with ``bug=NAME`` / ``--bug NAME``, with one-line
        descriptions. Empty for models without mutations.
    """

    name: ClassVar[str] = "model"
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    bugs: ClassVar[Mapping[str, str]] = {}
    evaluator: str = "z3"
    """How properties written as first-order formulas are judged: ``"z3"`` or ``"python"``."""

    # -- what every model implements -------------------------------------------
    def init_states(self) -> Iterable[State]:
        """The initial states."""
        raise NotImplementedError(f"{type(self).__name__} must implement init_states()")

    def successors(self, state: State) -> Iterable[tuple[Action, State]]:
        """Every enabled action in ``state`` with the state it leads to.

        A stuttering step (an enabled action that changes nothing) is returned
        too, with ``state`` itself as the successor; the explorer keeps it as a
        self-loop so that transition counts compare with TLC's.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement successors()")

    def properties(self) -> Sequence[Property[State]]:
        """The named properties to check (safety and reachability)."""
        return ()

    def within_boundary(self, state: State) -> bool:
        """Whether ``state`` is inside the model's bound (TLC's ``CONSTRAINT``).

        The default has no bound. Override it for models whose state space is
        infinite; the explorer skips the call when it is not overridden.
        """
        return True

    # -- optional: symmetry -------------------------------------------------------
    def symmetric_sorts(self) -> Mapping[str, int]:
        """The sorts whose elements are interchangeable, each with its number of elements.

        Inside a state the elements of a sort are the ints ``0..n-1`` (a
        negative int means "none" and is never renamed). Declare a sort only if
        renaming its elements maps every step of the model to a step, and the
        initial states and the bound to themselves: acceptors and values in
        Paxos, servers and values in Raft. ``explore(model, symmetry=True)``
        (``check --symmetry``) then stores one state per orbit. The default
        declares none.

        A declaration is checked: :func:`quorumcheck.explorer.check_symmetry`
        tests that every declared permutation commutes with :meth:`successors`
        and with every property, and each run with symmetry does so on its
        first states. See :mod:`quorumcheck.models.symmetry`.
        """
        return {}

    def permute(self, state: State, perm: Permutation) -> State:
        """``state`` with the elements of the symmetric sorts renamed by ``perm``.

        Needed only by a model that declares :meth:`symmetric_sorts`.

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> from quorumcheck.models.symmetry import Permutation
        >>> m = PaxosModel(max_ballot=0)
        >>> s = m.next_state(m.next_state(next(iter(m.init_states())), "Phase1a(b=0)"), "Phase1b(a=a1, b=0)")
        >>> m.describe(m.permute(s, Permutation({"Acceptor": (2, 0, 1), "Value": (0, 1)})))["maxBal"]
        {'a1': -1, 'a2': -1, 'a3': 0}
        """
        raise NotImplementedError(
            f"{type(self).__name__} declares symmetric sorts but does not implement permute(state, perm)"
        )

    def symmetry_notices(self) -> Sequence[str]:
        """One line per sort this instance leaves out of :meth:`symmetric_sorts`, and why.

        Shown by runs with symmetry, so that a sort that is usually permuted
        is not left out silently (Paxos with a quorum system that singles out
        an acceptor). The default has none.
        """
        return ()

    def element_signatures(self, state: State) -> Mapping[str, Sequence[Any]]:
        """Optional speed-up for symmetry: per symmetric sort, a sortable key for each element.

        The key of element ``i`` in ``state`` must equal the key of element
        ``g(i)`` in ``permute(state, g)`` for every renaming ``g`` (a server's
        term, role and log length, say, but not whom it voted for). The
        canonicaliser then only tries the renamings that sort the keys, usually
        one, instead of all n! of them. Sorts left out are tried in full. The
        default gives no keys; :func:`quorumcheck.explorer.check_symmetry` tests them.
        """
        return {}

    # -- optional, with sensible defaults ----------------------------------------
    def describe(self, state: State) -> Any:
        """A JSON-friendly view of ``state`` (nested dicts, lists, scalars).

        Used for the JSON result, the step-by-step diff in human output, and
        saved traces. The default handles NamedTuples and plain values.
        """
        if hasattr(state, "_asdict"):
            return {k: _jsonable(v) for k, v in state._asdict().items()}
        return _jsonable(state)

    def replay_view(self, view: Any) -> Any:
        """What a replay compares of a :meth:`describe` view: the view itself, unless parts of it name where the
        code is rather than what it did (student code's failures name a file and line, which a renamed file or
        an added comment moves without changing the behaviour).

        >>> Model().replay_view({"x": 1})
        {'x': 1}
        """
        return view

    def persistent_step(self, state: State, steps: Sequence[tuple[Action, State]]) -> int | None:
        """The index in ``steps`` of a step that alone is a persistent set in ``state``; ``None`` if none is.

        Partial-order reduction (:mod:`quorumcheck.explorer.por`, ``check --por``)
        then follows that step only, where it changes no property's answer and
        leads to a new state. Override it only with a proof: along *every* path
        from ``state`` that does not take the step, every step taken must be
        independent of it (neither enables nor disables it, and the two commute).
        A step that only adds a message no other step can send, and that only
        the receipt of that very message depends on, qualifies (Paxos.tla's
        ``Phase1a``). The default names none, so the reduction does nothing.

        Parameters
        ----------
        state : State
        steps : sequence of (Action, State)
            ``list(self.successors(state))``.

        Returns
        -------
        int or None

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> m = PaxosModel(max_ballot=1)
        >>> s0 = next(iter(m.init_states()))
        >>> steps = m.successors(s0)
        >>> str(steps[m.persistent_step(s0, steps)][0])
        'Phase1a(b=0)'
        """
        return None

    def step_resources(self, action: Action) -> frozenset[Hashable] | None:
        """What a step touches: steps with disjoint resources are independent; ``None``: it touches everything.

        Partial-order reduction with sleep sets (:class:`~quorumcheck.explorer.por.SleepSets`,
        ``explore(por=True)``, ``quorumcheck test --por``) uses it. Override it only with a proof
        that, in every reachable state where two steps with disjoint resources are both enabled, neither
        disables the other and the two orders reach the same state; and that the bound decomposes: if a state
        and both one-step successors are inside it, so is the state after both. The actor model names the node
        whose handler runs and the budget the step spends; steps of two nodes then commute, because each
        changes only its own node and adds messages to a bag. The default names none, so sleep sets are off.

        Examples
        --------
        >>> from quorumcheck.models.actors import Node
        >>> from quorumcheck.models.actor_model import ActorModel
        >>> m = ActorModel(Node, nodes=2, max_timeouts=1)
        >>> sorted(m.step_resources(Action("Timer", node="n1", timer="t")))
        ['n1', 'timeouts']
        """
        return None

    def right_mover(self, state: State, action: Action, after: State) -> Hashable | None:
        """The actor of a *silent* step ``state --action--> after``, or ``None`` for any other step.

        The reduction by movers (:class:`~quorumcheck.explorer.movers.Movers`, ``explore(movers=True)``,
        on by default in ``quorumcheck test``) lets the actor of a silent step move on at once, and never
        stores the state in between. Override it only with a proof that a step it names, in every state
        where it is enabled,

        * changes nothing any property of the model reads, nor the bound, nor whether a state is
          :meth:`halted`, and spends no budget;
        * is a *right mover*: for every step ``e`` whose :meth:`step_actor` is another actor (or ``None``),
          if ``e`` is enabled after it then ``e`` was enabled before it, it is still enabled after ``e``,
          and the two orders reach the same state; unless ``e`` halts (:meth:`halted`), and then the two
          halted states agree in everything a property reads.

        The actor model names a delivery whose handler sends nothing and changes nothing the
        observation contract reads (a vote counted towards a quorum not yet reached): it only removes
        its message and changes its own node. The default names none.

        Examples
        --------
        >>> from quorumcheck.models.actors import Node
        >>> from quorumcheck.models.actor_model import ActorModel
        >>> class Quiet(Node):
        ...     def on_start(self, out):
        ...         out.send(1 - self.id, "hi")
        >>> m = ActorModel(Quiet, nodes=2)
        >>> s0 = next(iter(m.init_states()))
        >>> [(str(a), m.right_mover(s0, a, t)) for a, t in m.successors(s0)]  # doctest: +NORMALIZE_WHITESPACE
        [("Deliver(from=n0, to=n1, msg='hi')", 'n1'), ("Deliver(from=n1, to=n0, msg='hi')", 'n0')]
        """
        return None

    def step_actor(self, action: Action) -> Hashable | None:
        """The actor whose own state a step reads and changes (a node), ``None`` for a step that has none.

        The reduction by movers continues a silent step of an actor with that actor's steps only
        (:meth:`right_mover`); a step of another actor, or of none, must commute with it. The default
        names none.
        """
        return None

    def actor_steps(self, state: State, actor: Hashable) -> list[tuple[Action, State]]:
        """The steps of ``actor`` (:meth:`step_actor`) enabled in ``state``, with their successors.

        The reduction by movers asks for them inside a transaction. The default filters
        :meth:`successors`; a model may compute only the actor's own.
        """
        return [(a, t) for a, t in self.successors(state) if self.step_actor(a) == actor]

    def movers_off(self) -> str | None:
        """Why the reduction by movers cannot apply to this run (a fault that can disable a silent step), or ``None``."""
        return None

    def share(self, state: State) -> State:
        """``state`` itself, or an equal state built from the parts this model's successors share.

        A worker of a sharded search (``explore(workers=N)``) receives about half its
        states from other processes, and unpickling copies every part. A model whose
        successors reuse equal parts, and whose caches compare them by identity, gets
        them back here, so a received state costs what a state it built itself costs.
        The default shares nothing.

        Examples
        --------
        >>> import pickle
        >>> from quorumcheck.models import PaxosModel
        >>> m = PaxosModel(max_ballot=0)
        >>> t = m.successors(next(iter(m.init_states())))[0][1]
        >>> copy = pickle.loads(pickle.dumps(t))
        >>> copy.msgs_1a is t.msgs_1a, m.share(copy).msgs_1a is t.msgs_1a, m.share(copy) == t
        (False, True, True)
        """
        return state

    def halted(self, state: State) -> bool:
        """True for a state that has no successors whatever the budgets (the actor model: a handler failed).

        Sleep sets never postpone a step that leads to such a state, because it disables every other step.
        """
        return False

    def events(self, before: State, action: Action, after: State) -> StepEvents:
        """Who took the step ``before --action--> after``, and the messages it sent and received.

        Used only for pictures (the message sequence chart of a trace), never
        by the search, so it may be slow. The default names the actor after
        the action (``Action("Tick")`` is actor ``"Tick"``) and reports no
        messages; a message-passing model overrides it. The contract:

        * ``actor`` is one process (acceptor ``"a1"``, ``"proposer b0"``,
          server ``"s2"``). Trailing digits sort naturally, and actors that
          differ only in them (``s1``, ``s2``, ``s10``) share a group of lanes.
        * A message identifier is a readable string that names the message
          completely (every field), identical where it is sent and where it is
          received: ``"1b(a=a1, b=0, mbal=-1, mval=None)"``. Using the strings
          :meth:`describe` shows lets people match the chart with the state.
        * ``sent`` lists only messages this step puts on the network; a step
          that re-sends a message already present in a set of messages (a
          stuttering step) sends nothing new.
        * ``received`` lists the messages the step read to be enabled. Where
          messages persist in a set (``Paxos.tla``'s ``msgs``) one message may be
          received by many steps: report it each time. Where a receipt removes
          the message from a bag (a Raft model with a message bag), report it
          once. The chart matches a receipt with the earliest sending of that
          identifier not yet received, else with the latest one.
        * A message sent and never received within the trace is drawn as such.

        Parameters
        ----------
        before, after : State
            The states before and after the step.
        action : Action
            The step's label.

        Returns
        -------
        StepEvents

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> m = PaxosModel(max_ballot=0)
        >>> s0 = next(iter(m.init_states()))
        >>> s1 = m.next_state(s0, "Phase1a(b=0)")
        >>> m.events(s0, Action("Phase1a", b=0), s1)
        StepEvents(actor='proposer b0', sent=('1a(b=0)',), received=())
        >>> Model().events(0, Action("Tick"), 1)
        StepEvents(actor='Tick', sent=(), received=())
        """
        return StepEvents(action.name)

    def settings(self) -> dict[str, Any]:
        """The parameters this instance was built with, JSON-friendly."""
        return {}

    @property
    def has_boundary(self) -> bool:
        """True when the model overrides :meth:`within_boundary`."""
        return type(self).within_boundary is not Model.within_boundary

    def next_state(self, state: State, action: Action | str) -> State | None:
        """The successor of ``state`` by ``action`` (or its label), or ``None`` if disabled.

        Examples
        --------
        >>> from quorumcheck.models import PaxosModel
        >>> m = PaxosModel(max_ballot=0)
        >>> s0 = next(iter(m.init_states()))
        >>> m.next_state(s0, "Phase1a(b=0)") is not None
        True
        >>> m.next_state(s0, "Phase2b(a=a1, b=0, v=v1)") is None
        True
        """
        text = str(action)
        for label, successor in self.successors(state):
            if str(label) == text:
                return successor
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (frozenset, set)):
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return repr(value)


MAX_ELEMENTS = 12
"""The most acceptors, values, servers (...) a parameter may ask for: beyond it a search is hopeless."""

HANDLER_SECONDS = (0.05, 600.0)
"""The handler time limits taken (student code): below 0.05 s a sandboxed call's own overhead would count as
the student's time, and a handler running ten minutes is stuck."""

MAX_BOUND = 1000
"""The largest numeric bound (ballots, terms, log length, budgets) a parameter may ask for."""


def _power_of_two(n: int) -> str:
    """2**n as ``1.1e+15``, or ``about 10^308`` where a float cannot hold it."""
    return f"{2 ** n:.1e}" if n < 1000 else f"about 10^{int(n * 0.30103)}"


_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")


def check_names(param: str, value: int | Sequence[str], prefix: str, example: str) -> tuple[str, ...]:
    """Validate a "count or list of distinct names" parameter and return the names.

    Examples
    --------
    >>> check_names("values", 2, "v", "values=2")
    ('v1', 'v2')
    >>> check_names("values", ["red", "blue"], "v", "values=2")
    ('red', 'blue')
    """
    if isinstance(value, bool):
        raise InvalidParameter(f"{param} must be a count or a list of names, not {value!r}; pass e.g. {example}")
    if isinstance(value, int):
        if value < 1:
            raise InvalidParameter(f"{param} must be at least 1 (got {value}); pass e.g. {example}")
        if value > MAX_ELEMENTS:
            raise InvalidParameter(f"{param}={value} is hopeless for an exhaustive search: the states grow "
                                   f"exponentially with it (the subsets of {value} elements alone number "
                                   f"{_power_of_two(value)}); 3 to 5 is usual; give at most {MAX_ELEMENTS}")
        return tuple(f"{prefix}{i + 1}" for i in range(value))
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidParameter(
            f"{param} must be a count or a list of names, not {type(value).__name__} {value!r}; pass e.g. {example}"
        )
    names = tuple(value)
    if not names:
        raise InvalidParameter(f"{param} must not be empty; pass e.g. {example}")
    if len(names) > MAX_ELEMENTS:
        raise InvalidParameter(f"{param} lists {len(names)} names: hopeless for an exhaustive search; give at most "
                               f"{MAX_ELEMENTS}")
    for n in names:
        if not isinstance(n, str) or not n:
            raise InvalidParameter(f"{param} must be non-empty strings, got {n!r}; pass e.g. {example}")
    if len(names) == 1 and names[0].lower() in _NUMBER_WORDS:  # `--acceptors three`: one acceptor named "three"
        count = _NUMBER_WORDS.index(names[0].lower()) + 1
        raise InvalidParameter(f"{param} names one element, {names[0]!r}; for {count}, give the number: "
                               f"{param}={count} (or name each: {prefix}1,{prefix}2,...)")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InvalidParameter(f"{param} lists {n!r} twice; names must be distinct")
        seen.add(n)
    return names
