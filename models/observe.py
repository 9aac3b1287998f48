"""The observation contract: what quorumcheck reads from student nodes to judge the standard properties.

A protocol's properties are the formulas of :mod:`quorumcheck.invariants.standard`,
never a second copy: a :class:`Contract` reads a few named attributes from
every node after each step (its *observation*), keeps the history some
properties need (every vote ever cast, every leader ever elected) in the
state, and gives an :class:`~quorumcheck.invariants.Interpretation` of the
states over the standard signature, from which :func:`formula_property`
makes the properties.

Paxos (:class:`PaxosContract`) -- a node that has an attribute ``accepted`` is
an acceptor, one that has ``learned`` is a learner (a node may be both):

``accepted``
    ``None``, or the ``(ballot, value)`` this acceptor last accepted. Ballots
    may be ints, tuples such as ``(round, node_id)``, or any comparable value.
``learned``
    ``None``, or the value this learner has learned.
``promised`` (optional)
    ``None``, or the highest ballot this acceptor promised; when every
    acceptor has it, ``votes-safe`` can be checked too.

Raft (:class:`RaftContract`) -- every node is a server and has:

``current_term`` (int), ``role`` (``"follower"``, ``"candidate"`` or
``"leader"``, any case, or an enum with those names), ``voted_for`` (shown,
not judged), ``log`` (a list whose first element is log index 1; each entry a
``(term, value)`` pair, or a record with ``term`` and ``value`` or
``command``), ``commit_index`` (how many log entries are committed: the Raft
paper's 1-based index of the last committed entry, 0 for none).

Any of these may be a method or property instead of an attribute, and a class
may rename them: ``observe = {"current_term": "term"}``.

Examples
--------
>>> from quorumcheck.models.actors import Node, Snapshotter, new_node
>>> class Acceptor(Node):
...     def __init__(self):
...         self.accepted = ((1, 0), "v1")
>>> contract = PaxosContract([Acceptor] * 3, Snapshotter())
>>> nodes = [new_node(Acceptor, i, 3) for i in range(3)]
>>> contract.setup(nodes)
>>> contract.observe(0, nodes[0])
((('t', 1, 0), 'v1'), None, None)
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quorumcheck.invariants import Interpretation

from quorumcheck.errors import InvalidStudentCode

from .actors import Node, Snapshotter, node_name, show
from .api import Property

__all__ = ["CONTRACTS", "MAX_NUMBER", "Contract", "NoContract", "PaxosContract", "RaftContract", "contract_named"]

_ABSENT = object()

MAX_NUMBER = 10_000
"""The largest Raft term (``current_term``, a log entry's term) and ``commit_index`` the contract reads; a larger
one is a ``node-state-testable`` finding. The properties are judged over every term and index up to the largest
in a state, so a student's ``10**18`` must not become a universe (or a ``range``) of that size. No run within
quorumcheck's bounds gets near it (``max_term``, ``requests`` and ``max_timeouts`` are at most 1,000 each, and a
term grows by one per election); at this bound one state is judged in about a second."""


def renamed(cls: Any, field: str) -> str:
    """The attribute of ``cls`` that holds the contract field ``field`` (``observe = {"current_term": "term"}``).

    A malformed ``observe`` is refused when the contract is built (:func:`check_observe`); here it reads as no
    rename.
    """
    mapping = getattr(cls, "observe", None) or {}
    name = mapping.get(field, field) if isinstance(mapping, Mapping) else field
    return name if isinstance(name, str) else field


def check_observe(cls: Any, contract: type[Contract]) -> None:
    """:class:`InvalidStudentCode`, in one line, unless ``cls.observe`` maps the contract's field names to
    attribute names of the class: a list, a string, a key or value that is not a string, or a key that is not one
    of the contract's fields would otherwise be ignored without a word (a misspelled field is then never renamed).

    >>> class Node:
    ...     observe = {"curent_term": "term"}
    >>> check_observe(Node, RaftContract)
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: Node.observe has the key 'curent_term', which is not a field of the raft \
contract (did you mean 'current_term'?); its keys are the contract's field names (current_term, role, voted_for, log, \
commit_index) and its values your attribute names, e.g. observe = {'current_term': 'term'}
    """
    fields = contract.FIELDS
    mapping = getattr(cls, "observe", None)
    if not fields or mapping is None:
        return  # no contract fields to rename ("none"), or observe = None: nothing is renamed
    name = getattr(cls, "__name__", "the node class")
    hint = (f"its keys are the contract's field names ({', '.join(fields)}) and its values your attribute names, "
            f"e.g. observe = {{{contract.OBSERVE_EXAMPLE[0]!r}: {contract.OBSERVE_EXAMPLE[1]!r}}}")
    if not isinstance(mapping, Mapping):
        raise InvalidStudentCode(f"{name}.observe must be a dict, got {_short(mapping)}; {hint}")
    for key, value in mapping.items():
        if not isinstance(key, str):
            raise InvalidStudentCode(f"{name}.observe has the key {_short(key)}, which is not a field name (a string) "
                                     f"of the {contract.name} contract; {hint}")
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1, cutoff=0.8)  # a misspelling, not a guess
            guess = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidStudentCode(f"{name}.observe has the key {key!r}, which is not a field of the "
                                     f"{contract.name} contract{guess}; {hint}")
        if not isinstance(value, str) or not value.isidentifier():
            raise InvalidStudentCode(f"{name}.observe[{key!r}] must be the name of your attribute that holds "
                                     f"{key} (a string), got {_short(value)}; {hint}")


def _short(value: Any) -> str:
    """``repr`` of a value from the student's class, cut to one short line."""
    try:
        text = repr(value)
    except Exception:  # a student's __repr__ that raises
        text = f"a {type(value).__name__}"
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _missing(cls: str, name: str, field: str) -> InvalidStudentCode:
    return InvalidStudentCode(
        f"{cls} has no attribute {name!r}, which the {field!r} observation reads; set "
        f"self.{name} in __init__ (or rename it: observe = {{{field!r}: 'your_name'}})"
    )


def computed_fields(cls: Any, fields: Sequence[str]) -> tuple[str, ...]:
    """The contract fields that ``cls`` computes (a method or property, or whatever its own ``__getattr__``
    answers for a name the class does not define) rather than keeps as an attribute, and those its class gives a
    default (``learned = None`` in the class body): a node that never sets such a field on itself has it from the
    class, which its snapshot (the instance's own attributes) does not hold, so the field is read beside the
    student's code, as Python reads it.

    >>> class Learner:
    ...     learned = None  # a class-level default
    ...     def __init__(self):
    ...         self.accepted = None
    >>> computed_fields(Learner, ["accepted", "learned"])
    ('learned',)
    """
    forwards = callable(getattr(cls, "__getattr__", None))  # e.g. to the dataclasses the node keeps its state in
    out = []
    for field in fields:
        name = renamed(cls, field)  # the class's own property, method or default, or what __getattr__ answers
        if _defines(cls, name) or (forwards and getattr(cls, name, None) is None):
            out.append(field)
    return tuple(out)


def _defines(cls: type, name: str) -> bool:
    """Whether ``cls`` (or a base other than ``object``) defines ``name`` itself: a property, a method, a class
    attribute."""
    return any(name in vars(k) for k in cls.__mro__ if k is not object)


def _has(node: Node, field: str) -> bool:
    """Whether a started node has the contract field: an attribute, or one its class defines (a property that
    cannot answer yet still says which observation the class means to expose)."""
    name = renamed(type(node), field)
    try:
        if hasattr(node, name):
            return True
    except BaseException:  # noqa: BLE001 - a property that raises something else than AttributeError
        return True
    return _defines(type(node), name)


def _pair(frozen: Any) -> tuple[Any, Any] | None:
    """A frozen 2-tuple, 2-list or 2-field NamedTuple as the pair of its frozen items."""
    if type(frozen) is tuple and frozen:
        if frozen[0] in ("t", "l") and len(frozen) == 3:
            return frozen[1], frozen[2]
        if frozen[0] == "nt" and len(frozen) == 5:
            return frozen[3], frozen[4]
    return None


def _record(frozen: Any) -> dict[Any, Any] | None:
    """A frozen dict, dataclass or NamedTuple as a mapping of its keys or fields to their frozen values."""
    if type(frozen) is not tuple or not frozen:
        return None
    if frozen[0] == "d":
        return dict(frozen[1:])
    if frozen[0] in ("nt", "dc") and len(frozen) >= 3:
        return dict(zip(frozen[2], frozen[3:]))
    return None


class Contract:
    """What a protocol's nodes expose, and the properties judged on it. The base class judges nothing.

    Parameters
    ----------
    classes : sequence of Node subclasses
        The class of each node, in node order.
    snapshotter : Snapshotter
        The model's, to freeze observed values.
    """

    name = "none"
    description = "no protocol: only the containment properties (handlers-do-not-crash, ...)"
    FIELDS: tuple[str, ...] = ()
    """The contract fields a node may expose (and a class may rename with ``observe``)."""
    OBSERVE_EXAMPLE: tuple[str, str] = ("", "")
    """A rename for the error messages: ``observe = {field: attribute}``."""
    evaluator = "z3"
    """The judge that is faster for this protocol's formulas (measured; either gives the same answers)."""

    def __init__(self, classes: Sequence[type[Node]], snapshotter: Snapshotter, **settings: Any) -> None:
        self.classes = tuple(classes)
        for k, cls in enumerate(self.classes):
            if all(cls is not other for other in self.classes[:k]):  # classes need not be hashable (stand-ins)
                check_observe(cls, type(self))
        self.nodes = len(self.classes)
        self.snapshotter = snapshotter
        self.settings = settings
        self.wide: dict[str, tuple[Any, ...]] | None = None
        """The larger universe a state beyond the small one is being judged in (see :meth:`judged`)."""
        self.started_with: dict[str, tuple[int, ...]] = {}
        """Per contract field, the nodes that had it when they started (:meth:`adopt`), read or not."""
        self.orders_itself: tuple[str, ...] = ()
        """The student's classes that order themselves otherwise than their snapshots do (``"module.Qualname"``,
        :func:`~quorumcheck.models.actors.orders_itself`): properties that rank their values by order are off."""

    def setup(self, started: Sequence[Node]) -> None:
        """Learn each node's roles from the freshly started nodes (before the first observation)."""
        self.adopt(self.roles(started))

    def roles(self, started: Sequence[Node]) -> dict[str, tuple[int, ...]]:
        """Which nodes play which role, read from the freshly started nodes (beside the student's code)."""
        return {}

    def adopt(self, roles: dict[str, tuple[int, ...]]) -> None:
        """Take the roles :meth:`roles` read (on the trusted side, as plain data)."""

    def fields_of(self, index: int) -> tuple[str, ...]:
        """The contract fields node ``index`` exposes (after :meth:`adopt`)."""
        return ()

    def notices(self) -> list[str]:
        """What the user should know about the properties this run can judge (one line each)."""
        return []

    def _attribute(self, index: int, field: str) -> str:
        """The student's own name for a contract field of node ``index`` (``observe = {...}``), for messages."""
        klass = self.classes[index]
        name = renamed(klass, field)
        return f"{klass.__name__}.{name}" + (f" (the {field!r} observation)" if name != field else "")

    def read(self, index: int, node: Node, field: str) -> Any:
        """One contract field of a live node, frozen (beside the student's code: a method may run)."""
        cls = self.classes[index]
        name = renamed(cls, field)
        try:
            value = getattr(node, name)
        except AttributeError as e:
            if _defines(type(node), name):  # a property that raised
                raise InvalidStudentCode(f"reading {cls.__name__}.{name}, which the {field!r} observation reads, "
                                         f"raised AttributeError: {e}; it must answer once the node has started "
                                         f"(None until it has a value)") from None
            raise _missing(cls.__name__, name, field) from None
        return self.snapshotter.freeze(value() if callable(value) else value)

    def observe(self, index: int, node: Node) -> Hashable:
        """The observation of a live node: its contract fields read and frozen, then :meth:`observe_frozen`."""
        return self.observe_frozen(index, {f: self.read(index, node, f) for f in self.fields_of(index)})

    def observation_from(self, index: int, snapshot: Sequence[tuple[str, Any]],
                         computed: dict[str, Any]) -> Hashable:
        """The observation of a node from its snapshot (the trusted side's way: no student code runs).

        Fields the class computes (methods, properties) come from ``computed``, read
        beside the student's code; every other field is the snapshot's attribute.
        """
        attributes = dict(snapshot)
        values = {}
        cls = self.classes[index]
        for field in self.fields_of(index):
            if field in computed:
                values[field] = computed[field]
                continue
            name = renamed(cls, field)
            if name not in attributes:
                raise _missing(cls.__name__, name, field)
            values[field] = attributes[name]
        for field in self.FIELDS:  # a role is read from the freshly started node: one taken up later goes unjudged
            name = renamed(cls, field)
            if (name in attributes and field not in values and index not in self.started_with.get(field, ())
                    and self.would_read(index, field)):
                raise InvalidStudentCode(self._late_text(cls, name, field))
        return self.observe_frozen(index, values)

    def taken_up_late(self, index: int, node: Node) -> str | None:
        """Beside the student's code, after a call: a contract field that the node did not have when it started and
        has now (a property or ``__getattr__`` that answers only now), which would go unjudged; else ``None``."""
        cls = self.classes[index]
        for field in self.FIELDS:
            if (field in self.fields_of(index) or index in self.started_with.get(field, ())
                    or not self.would_read(index, field)):
                continue
            name = renamed(cls, field)
            try:
                there = hasattr(node, name)
            except BaseException:  # noqa: BLE001 - a __getattr__ that raises something else: not there either
                there = False
            if there:
                return self._late_text(cls, name, field)
        return None

    def would_read(self, index: int, field: str) -> bool:
        """Whether node ``index``'s ``field`` would be an observation had the node started with it."""
        return True

    @staticmethod
    def _late_text(cls: Any, name: str, field: str) -> str:
        return (f"{cls.__name__}.{name} was set after the node started, so it was not read as the {field!r} "
                f"observation (a node's roles are read when it starts) and would go unjudged; set "
                f"self.{name} = None in __init__, or, if it is something else, name the attribute otherwise")

    def observe_frozen(self, index: int, values: dict[str, Any]) -> Hashable:
        """The observation from the frozen values of node ``index``'s contract fields (one implementation for
        both sides of the trust boundary)."""
        return None

    def initial_history(self, observations: Sequence[Hashable]) -> Hashable:
        """The history in the initial state."""
        return None

    def record(self, history: Hashable, index: int, observation: Hashable) -> Hashable:
        """The history after node ``index`` is observed as ``observation``."""
        return history

    def may_request(self, observed: Sequence[Hashable], index: int) -> bool:
        """Whether a client request may go to node ``index`` now."""
        return True

    def within_boundary(self, observed: Sequence[Hashable]) -> bool:
        """Whether the observations are inside the protocol's bound (Raft: terms up to ``max_term``)."""
        return True

    def properties(self, evaluator: str) -> list[Property[Any]]:
        """The protocol's properties."""
        return []

    def describe(self, observed: Sequence[Hashable], history: Hashable) -> dict[str, Any]:
        """What the properties read, for people (empty by default)."""
        return {}

    # -- judging with a small universe, and an exact fallback ----------------------------------------
    def overflow(self, state: Any) -> bool:
        """True when a state holds more elements than the interpretation's universe (then judged exactly)."""
        return False

    def universe_of(self, states: Sequence[Any]) -> dict[str, tuple[Any, ...]]:
        """A universe large enough for these states."""
        raise NotImplementedError

    def judged(self, interpretation: Interpretation, kind: str, name: str, formula: Any, description: str,
               evaluator: str, explain: Callable[[Any], str] | None = None, default: bool = True) -> Property[Any]:
        """:func:`formula_property` over the contract's small universe, judged exactly beyond it.

        The universe is kept small, because the Z3 judge grounds every
        quantifier over it once; a state with more ballots, terms or values
        than it holds is judged by the Python evaluator over a universe made
        for that state.
        """
        from quorumcheck.invariants import evaluate, formula_property
        prop = formula_property(kind, name, formula, interpretation, description, evaluator=evaluator,
                                default=default)
        judge, fixed = prop.judge, prop.condition
        overflow, universe_of = self.overflow, self.universe_of

        def condition(*states: Any) -> bool:
            if not any(overflow(s) for s in states):
                return fixed(*states)
            universe = universe_of(states)
            self.wide = universe
            try:
                values = [interpretation.values(judge.footprint, s) for s in states]
            finally:
                self.wide = None
            return evaluate(formula, universe, values[0], values[1] if len(values) > 1 else None)

        prop.condition = condition
        if explain is not None:
            prop.explainer = explain
        return prop


class NoContract(Contract):
    """No protocol: only the containment properties are checked.

    >>> NoContract([], Snapshotter()).properties("z3")
    []
    """


class PaxosContract(Contract):
    """Single-decree Paxos: acceptors expose ``accepted``, learners ``learned`` (see the module docstring).

    Properties (from :mod:`quorumcheck.invariants.standard`): ``agreement``
    (at most one value is chosen -- accepted by a majority of acceptors in one
    ballot), ``learner-agreement``, ``learned-is-chosen``, ``value-can-be-chosen``
    and ``value-can-be-learned`` by default; ``one-value-per-ballot`` and
    (with ``promised``) ``votes-safe`` on request.

    Examples
    --------
    >>> from quorumcheck.models.actors import Node, Snapshotter, new_node
    >>> class P(Node):
    ...     def __init__(self):
    ...         self.accepted = None
    ...         self.learned = None
    >>> c = PaxosContract([P] * 3, Snapshotter())
    >>> c.setup([new_node(P, i, 3) for i in range(3)])
    >>> c.acceptors, c.learners
    ((0, 1, 2), (0, 1, 2))
    >>> [p.name for p in c.properties("python")]  # doctest: +NORMALIZE_WHITESPACE
    ['agreement', 'learner-agreement', 'learned-is-chosen', 'one-value-per-ballot',
     'value-can-be-chosen', 'value-can-be-learned']
    """

    name = "paxos"
    description = "single-decree Paxos: acceptors expose `accepted`, learners `learned`"
    FIELDS = ("accepted", "learned", "promised")
    OBSERVE_EXAMPLE = ("accepted", "last_accepted")

    def __init__(self, classes: Sequence[type[Node]], snapshotter: Snapshotter, *, values: Sequence[Any] = (),
                 ballot_capacity: int = 4, **settings: Any) -> None:
        super().__init__(classes, snapshotter, **settings)
        self.value_capacity = len(values) + 1
        self.ballot_capacity = ballot_capacity
        self._values: dict[Hashable, int] = {}
        for v in values:
            self._value_code(snapshotter.freeze(v))
        self.acceptors: tuple[int, ...] = ()
        self.learners: tuple[int, ...] = ()
        self.promisers: tuple[int, ...] = ()
        self._memo: tuple[Any, Any] = (None, None)

    def roles(self, started: Sequence[Node]) -> dict[str, tuple[int, ...]]:
        return {field: tuple(i for i, n in enumerate(started) if _has(n, field))
                for field in ("accepted", "learned", "promised")}

    def adopt(self, roles: dict[str, tuple[int, ...]]) -> None:
        self.started_with = {field: tuple(roles.get(field, ())) for field in self.FIELDS}
        self.acceptors = tuple(roles.get("accepted", ()))
        self.learners = tuple(roles.get("learned", ()))
        # A promise is an acceptor's: a proposer may count its own promises under that name.
        self.promisers = tuple(i for i in roles.get("promised", ()) if i in self.acceptors)
        if not self.acceptors and roles.get("unbuilt"):  # __init__ failed: the first call reports it
            self.acceptors = tuple(roles["unbuilt"])  # as acceptors, so that the properties have some
        if not self.acceptors:
            names = ", ".join(sorted({c.__name__ for c in self.classes}))
            raise InvalidStudentCode(
                f"no Paxos acceptor: none of {names} has an attribute 'accepted' (None or the (ballot, value) it "
                "last accepted); set self.accepted = None in the acceptor's __init__ (see docs/student-testing.md)"
            )

    def notices(self) -> list[str]:
        """What the user should know about the properties this run can judge (one line each)."""
        out = []
        if not self.learners:
            out.append("no node has the attribute 'learned', so no learner is judged (learner-agreement and "
                       "learned-is-chosen are not checked); a learner sets self.learned = None in __init__")
        return out + [self.votes_safe_off()] if self._promises_known() and self.orders_itself else out

    def votes_safe_off(self) -> str:
        """Why ``votes-safe`` is off when the student's classes order themselves (:attr:`orders_itself`)."""
        names = ", ".join(name.rsplit(".", 1)[-1] for name in self.orders_itself[:3])
        more = f" and {len(self.orders_itself) - 3} more" if len(self.orders_itself) > 3 else ""
        one = len(self.orders_itself) == 1
        return (f"votes-safe is off: your class{'' if one else 'es'} {names}{more} order{'s' if one else ''} "
                f"{'itself' if one else 'themselves'} (an own __lt__, or an ordered enum such as an IntEnum), and "
                "quorumcheck compares ballots without running your code, by their fields in declared order: it "
                f"cannot tell before the run whether a ballot will hold {'it' if one else 'one'}, and would misjudge "
                "one that did; to have votes-safe checked, give such classes no order of their own, even one no "
                "ballot holds (@dataclass(order=True) or a NamedTuple with the fields in the order they compare, a "
                "plain Enum)")

    def would_read(self, index: int, field: str) -> bool:
        return field != "promised" or index in self.acceptors  # a promise is an acceptor's

    def _promises_known(self) -> bool:
        """Whether every acceptor exposes its promise, which ``votes-safe`` needs."""
        return bool(self.promisers) and set(self.promisers) >= set(self.acceptors)

    def fields_of(self, index: int) -> tuple[str, ...]:
        return tuple(field for field, holders in (("accepted", self.acceptors), ("learned", self.learners),
                                                   ("promised", self.promisers)) if index in holders)

    def observe_frozen(self, index: int, values: dict[str, Any]) -> Hashable:
        accepted = values.get("accepted")
        if accepted is not None:
            pair = _pair(accepted)
            if pair is None:
                raise InvalidStudentCode(f"{self._attribute(index, 'accepted')} must be None or a (ballot, value) "
                                         f"pair, got {show(accepted)}")
            accepted = pair
            _ordered_ballot(accepted[0], self._attribute(index, "accepted"))
        promised = values.get("promised")
        if promised is not None:
            _ordered_ballot(promised, self._attribute(index, "promised"))
        return (accepted, values.get("learned"), promised)

    def initial_history(self, observations: Sequence[Hashable]) -> Hashable:
        history: Hashable = (frozenset(), frozenset(), (None,) * self.nodes)
        for i, o in enumerate(observations):
            history = self.record(history, i, o)
        return history

    def record(self, history: Hashable, index: int, observation: Hashable) -> Hashable:
        """The history with node ``index``'s vote, learned value and promise; :class:`InvalidStudentCode` when its
        ballot cannot be compared with one already seen (the properties rank the ballots in their order)."""
        parts: Any = history
        votes, learned, promised = parts
        seen: Any = observation
        accepted, value, promise = seen
        if accepted is not None:
            vote = (index, accepted[0], accepted[1])
            if vote not in votes:
                self._comparable(parts, accepted[0], index, "accepted")
                votes = votes | {vote}
        if value is not None and (index, value) not in learned:
            learned = learned | {(index, value)}
        if promised[index] != promise:
            if promise is not None:
                self._comparable((votes, learned, promised), promise, index, "promised")
            promised = promised[:index] + (promise,) + promised[index + 1:]
        return (votes, learned, promised)

    def _comparable(self, history: Any, ballot: Hashable, index: int, field: str) -> None:
        """:class:`InvalidStudentCode` unless ``ballot`` compares with every ballot in ``history``."""
        votes, _, promised = history
        held = [(b, f"that {node_name(a)} accepted") for a, b, _ in votes]
        held += [(p, f"that {node_name(a)} promised") for a, p in enumerate(promised) if p is not None]
        for other, how in held:
            try:
                ballot_order(other) < ballot_order(ballot)  # noqa: B015 - only whether they compare
            except TypeError:
                raise InvalidStudentCode(
                    f"{self._attribute(index, field)} holds the ballot {show(ballot)}, which cannot be compared with "
                    f"the ballot {show(other)} {how}; Paxos ballots must be comparable with each other (all ints, "
                    "or all tuples of ints, ...)"
                ) from None

    # -- the interpretation over standard.PAXOS_LEARNERS ---------------------------------------------
    def _value_code(self, value: Hashable) -> int:
        code = self._values.get(value)
        if code is None:
            code = self._values[value] = len(self._values)
        return code

    def overflow(self, state: Any) -> bool:
        ranks = self._ballot_ranks(state.history)
        if len(ranks) > self.ballot_capacity:
            return True
        if len(self._values) <= self.value_capacity:
            return False
        votes, learned, _ = state.history
        cap, code = self.value_capacity, self._value_code
        return any(code(v) >= cap for _, _, v in votes) or any(code(v) >= cap for _, v in learned)

    def universe_of(self, states: Sequence[Any]) -> dict[str, tuple[Any, ...]]:
        ballots = max(len(self._ballot_ranks(s.history)) for s in states)
        universe = dict(self._universe)
        universe["Ballot"] = (-1, *range(max(ballots, self.ballot_capacity)))
        universe["Value"] = tuple(range(max(len(self._values), self.value_capacity)))
        return universe

    def _ballot_ranks(self, history: Any) -> dict[Hashable, int]:
        """Ballots ranked in their own order (ranks compare as the ballots do; -1 is "none")."""
        if self._memo[0] is history:
            return self._memo[1]
        votes, _, promised = history
        ballots = {b for _, b, _ in votes} | {p for p in promised if p is not None}
        keys = {b: ballot_order(b) for b in ballots}
        try:
            # Ballots Python holds equal (1 and 1.0) are one ballot: one rank.
            order = sorted(set(keys.values()))
        except TypeError:
            shown = ", ".join(sorted(show(b) for b in ballots))
            raise InvalidStudentCode(f"Paxos ballots must be comparable with each other (all ints, or all tuples "
                                     f"of ints, ...), got {shown}") from None
        rank = {key: k for k, key in enumerate(order)}
        ranks = {b: rank[key] for b, key in keys.items()}
        self._memo = (history, ranks)
        return ranks

    def interpretation(self) -> Interpretation:
        """The states as finite structures over ``standard.PAXOS_LEARNERS``.

        Ballots are ranked within each state (any comparable ballots become
        ``0, 1, ...`` in their order, ``-1`` is none); values are numbered once
        for the whole run; quorums are the majorities of the acceptors.
        """
        from quorumcheck.invariants import Derived, Interpretation, standard
        acceptors = self.acceptors
        size = len(acceptors) // 2 + 1
        quorums = tuple(sum(1 << a for a in q) for q in itertools.combinations(acceptors, size))
        source = attrgetter("history")
        value_code = self._value_code
        ranks = self._ballot_ranks

        def vote(h: Any) -> frozenset[tuple[int, int, int]]:
            r = ranks(h)
            return frozenset((a, r[b], value_code(v)) for a, b, v in h[0])

        def proposed(h: Any) -> frozenset[tuple[int, int]]:
            r = ranks(h)
            return frozenset((r[b], value_code(v)) for _, b, v in h[0])

        def max_bal(h: Any) -> tuple[int, ...]:
            r = ranks(h)
            return tuple(-1 if h[2][a] is None else r[h[2][a]] for a in acceptors)

        def learned(h: Any) -> frozenset[tuple[int, int]]:
            return frozenset((node, value_code(v)) for node, v in h[1])

        self._universe = {
            "Acceptor": acceptors,
            "Learner": self.learners or acceptors,
            "Value": tuple(range(self.value_capacity)),
            "Ballot": (-1, *range(self.ballot_capacity)),
            "Quorum": quorums,
        }
        return Interpretation(
            standard.PAXOS_LEARNERS,
            self._universe,
            {
                "vote": Derived(source, vote),
                "proposed": Derived(source, proposed),
                "max_bal": Derived(source, max_bal),
                "learned": Derived(source, learned),
                "member": frozenset((a, q) for q in quorums for a in acceptors if q >> a & 1),
            },
            display={"Acceptor": node_name, "Learner": node_name},
        )

    def properties(self, evaluator: str) -> list[Property[Any]]:
        from quorumcheck.invariants import standard
        interp = self.interpretation()

        def judged(kind: str, name: str, formula: Any, description: str, explain: Any = None,
                   default: bool = True) -> Property[Any]:
            return self.judged(interp, kind, name, formula, description, evaluator, explain, default)

        props = [judged("always", "agreement", standard.PAXOS_AGREEMENT,
                        "at most one value is chosen (accepted by a majority of acceptors in one ballot)",
                        self.explain_chosen)]
        if self.learners:
            props += [
                judged("always", "learner-agreement", standard.LEARNER_AGREEMENT,
                       "no two learners learn different values", self.explain_learned),
                judged("always", "learned-is-chosen", standard.LEARNED_IS_CHOSEN,
                       "a learner learns only a chosen value", self.explain_learned_not_chosen),
            ]
        props.append(judged("always", "one-value-per-ballot", standard.ONE_VALUE_PER_BALLOT,
                            "no two acceptors accept different values in one ballot", self.explain_one_value_per_ballot,
                            default=False))
        if self._promises_known() and not self.orders_itself:
            props.append(judged("always", "votes-safe", standard.VOTES_SAFE,
                                "every accepted value is safe at its ballot (Voting.tla)", self.explain_votes_safe,
                                default=False))
        props.append(judged("sometimes", "value-can-be-chosen", standard.VALUE_CHOSEN, "a value can be chosen"))
        if self.learners:
            props.append(judged("sometimes", "value-can-be-learned", standard.VALUE_LEARNED,
                                "a learner can learn a value"))
        return props

    # -- explanations, in the student's own values ---------------------------------------------------
    def chosen(self, history: Any) -> list[tuple[Hashable, Hashable, tuple[int, ...]]]:
        """``(value, ballot, acceptors)`` for every value accepted by a majority in one ballot."""
        votes = history[0]
        majority = len(self.acceptors) // 2 + 1
        by_ballot: dict[tuple[Hashable, Hashable], list[int]] = {}
        for a, b, v in votes:
            by_ballot.setdefault((b, v), []).append(a)
        found = [(v, b, tuple(sorted(who))) for (b, v), who in by_ballot.items() if len(who) >= majority]
        return sorted(found, key=lambda f: (show(f[1]), show(f[0])))

    def explain_chosen(self, state: Any) -> str:
        parts = [f"{show(v)} chosen in ballot {show(b)} by {', '.join(map(node_name, who))}"
                 for v, b, who in self.chosen(state.history)]
        return "; ".join(parts)

    def votes(self, history: Any) -> list[Any]:
        """Every vote in the history, with the acceptor's name, the ballot and its text, the value's text."""
        from .paxos import Vote

        return [Vote(node_name(a), ballot_order(b), show(b), show(v)) for a, b, v in history[0]]

    def explain_one_value_per_ballot(self, state: Any) -> str:
        """Two votes for different values in one ballot, in the student's own ballots and values."""
        from .paxos import explain_one_value_per_ballot

        return explain_one_value_per_ballot(self.votes(state.history))

    def explain_votes_safe(self, state: Any) -> str:
        """A vote that was not safe at its ballot, in the student's own ballots and values (Voting.tla)."""
        from .paxos import explain_votes_safe

        ranks = self._ballot_ranks(state.history)
        promised = state.history[2]
        names = [node_name(a) for a in self.acceptors]
        promises = {node_name(a): promised[a] for a in self.acceptors}
        texts = {n: ("nothing" if p is None else f"ballot {show(p)}") for n, p in promises.items()}
        keys = {n: None if p is None else ballot_order(p) for n, p in promises.items()}  # ordered as Python does
        quorums = [frozenset(q) for q in itertools.combinations(names, len(names) // 2 + 1)]
        ballots = list({ballot_order(b): show(b) for b in sorted(ranks, key=ranks.__getitem__)}.items())
        return explain_votes_safe(self.votes(state.history), ballots, keys, texts, quorums)

    def explain_learned(self, state: Any) -> str:
        learned = sorted(state.history[1], key=lambda p: (p[0], show(p[1])))
        return "; ".join(f"{node_name(n)} learned {show(v)}" for n, v in learned)

    def explain_learned_not_chosen(self, state: Any) -> str:
        chosen = {show(v) for v, _, _ in self.chosen(state.history)}
        bad = sorted({(n, show(v)) for n, v in state.history[1] if show(v) not in chosen})
        votes = sorted((a, show(b), show(v)) for a, b, v in state.history[0])
        accepted = ", ".join(f"{node_name(a)} {v} in ballot {b}" for a, b, v in votes) or "nothing"
        return "; ".join(f"{node_name(n)} learned {v}, which no majority of acceptors accepted in one ballot"
                         for n, v in bad) + f" (accepted so far: {accepted})"

    def describe(self, observed: Sequence[Hashable], history: Any) -> dict[str, Any]:
        return {"chosen": [f"{show(v)} in ballot {show(b)}" for v, b, _ in self.chosen(history)]}


# -- Raft ----------------------------------------------------------------------------------------------------
ROLES = ("Follower", "Candidate", "Leader")
_ROLE_CODES = {"follower": 0, "candidate": 1, "leader": 2}
FOLLOWER, CANDIDATE, LEADER = 0, 1, 2


class RaftContract(Contract):
    """Raft: every node exposes ``current_term``, ``role``, ``voted_for``, ``log`` and ``commit_index``.

    Properties (from :mod:`quorumcheck.invariants.standard`): ``election-safety``
    (history form: at most one leader per term, ever), ``log-matching``,
    ``leader-completeness``, ``state-machine-safety``, ``leader-append-only``
    (an action property), and the reachability properties ``leader-elected``
    and ``entry-committed`` (with client requests); ``election-safety-state`` on
    request. Terms are bounded by ``max_term`` (states beyond it are checked
    but not expanded).

    Examples
    --------
    >>> from quorumcheck.models.actors import Node, Snapshotter, new_node
    >>> class S(Node):
    ...     def __init__(self):
    ...         self.current_term, self.role, self.voted_for = 1, "leader", self.id
    ...         self.log, self.commit_index = [(1, "v1")], 1
    >>> c = RaftContract([S] * 3, Snapshotter(), max_term=2)
    >>> c.setup([new_node(S, i, 3) for i in range(3)])
    >>> c.observe(0, new_node(S, 0, 3))
    (1, 2, 0, ((1, 'v1'),), 1)
    """

    name = "raft"
    description = "Raft: every node exposes current_term, role, voted_for, log and commit_index"
    evaluator = "python"
    FIELDS = ("current_term", "role", "voted_for", "log", "commit_index")
    OBSERVE_EXAMPLE = ("current_term", "term")

    def __init__(self, classes: Sequence[type[Node]], snapshotter: Snapshotter, *, values: Sequence[Any] = (),
                 max_term: int = 2, max_log: int = 2, **settings: Any) -> None:
        super().__init__(classes, snapshotter, **settings)
        self.max_term = max_term
        self.max_log = max_log
        self.term_capacity = max_term + 2
        self.index_capacity = int(settings.get("requests", max_log)) + 1
        self.value_capacity = len(values) + 1
        self._values: dict[Hashable, int] = {}
        for v in values:
            self._value_code(snapshotter.freeze(v))

    def fields_of(self, index: int) -> tuple[str, ...]:
        return self.FIELDS

    def roles(self, started: Sequence[Node]) -> dict[str, tuple[int, ...]]:
        return {"server": tuple(i for i, n in enumerate(started) if any(_has(n, f) for f in self.FIELDS))}

    def adopt(self, roles: dict[str, tuple[int, ...]]) -> None:
        # A node that lacks one field is a finding about it (node-state-testable); a system in which no node has
        # any is not Raft code, or not renamed: the wrong protocol, a usage error.
        if not roles.get("server") and not roles.get("unbuilt"):  # a node __init__ failed for: its call reports it
            names = ", ".join(sorted({c.__name__ for c in self.classes}))
            raise InvalidStudentCode(
                f"no Raft server: none of {names} has any of the attributes {', '.join(self.FIELDS)}; if it is not "
                "Raft, choose --protocol paxos (or none), else set them in __init__ or rename them with observe = "
                "{'current_term': 'your_name', ...} (see docs/student-testing.md)")

    def observe_frozen(self, index: int, values: dict[str, Any]) -> Hashable:
        def attribute(field: str) -> str:
            return self._attribute(index, field)

        term = values["current_term"]
        if type(term) is not int or term < 0:
            raise InvalidStudentCode(f"{attribute('current_term')} must be an int >= 0, got {show(term)}")
        _within_bound(term, attribute("current_term"))
        role = _role(values["role"], attribute("role"))
        log = values["log"]
        if type(log) is not tuple or not log or log[0] not in ("l", "t"):
            raise InvalidStudentCode(f"{attribute('log')} must be a list of entries, got {show(log)}")
        entries = tuple(self._entry(e, attribute("log")) for e in log[1:])
        commit = values["commit_index"]
        if type(commit) is not int or commit < 0:
            raise InvalidStudentCode(
                f"{attribute('commit_index')} must be an int >= 0 (the number of committed entries, 0 for none), "
                f"got {show(commit)}"
            )
        _within_bound(commit, attribute("commit_index"))
        return (term, role, values["voted_for"], entries, commit)

    def _entry(self, entry: Any, where: str) -> tuple[int, Hashable]:
        """A frozen log entry as ``(term, frozen value)``: a ``(term, value)`` pair, or a record (dict,
        dataclass, NamedTuple) with ``term`` and ``value`` or ``command``."""
        record = _record(entry)
        if record is not None and (entry[0] in ("d", "dc") or "term" in record):
            if "value" not in record and "command" not in record:
                raise InvalidStudentCode(
                    f"{where} entries that are records need a 'term' and a 'value' (or 'command'), got "
                    f"{show(entry)}; name the field value or command, or store (term, value) pairs"
                )
            term, value = record.get("term"), record.get("value", record.get("command"))
        else:
            pair = _pair(entry)
            if pair is None:
                raise InvalidStudentCode(f"{where} entries must be (term, value) pairs, got {show(entry)}")
            term, value = pair
        if type(term) is not int:
            raise InvalidStudentCode(
                f"{where} entries need an int term: (term, value) pairs or records with .term and .value, "
                f"got {show(entry)}"
            )
        _within_bound(term, f"a term in {where}")
        return (term, value)

    def initial_history(self, observations: Sequence[Hashable]) -> Hashable:
        history: Hashable = frozenset()
        for i, o in enumerate(observations):
            history = self.record(history, i, o)
        return history

    def record(self, history: Hashable, index: int, observation: Hashable) -> Hashable:
        term, role = observation[0], observation[1]  # type: ignore[index]
        if role == LEADER and (term, index) not in history:  # type: ignore[operator]
            return history | {(term, index)}  # type: ignore[operator]
        return history

    def may_request(self, observed: Sequence[Hashable], index: int) -> bool:
        return observed[index][1] == LEADER  # type: ignore[index]

    def within_boundary(self, observed: Sequence[Hashable]) -> bool:
        max_term, max_log = self.max_term, self.max_log
        for o in observed:
            if o[0] > max_term or len(o[3]) > max_log:  # type: ignore[index]
                return False
        return True

    # -- the interpretation over standard.RAFT --------------------------------------------------------
    def _value_code(self, value: Hashable) -> int:
        code = self._values.get(value)
        if code is None:
            code = self._values[value] = len(self._values)
        return code

    def _sizes(self, state: Any) -> tuple[int, int, int]:
        """The largest term, log length (and commit index), and value code in a state."""
        terms = [o[0] for o in state.observed] + [t for t, _ in state.history]
        terms += [t for o in state.observed for t, _ in o[3]]
        indexes = [max(len(o[3]), o[4]) for o in state.observed]
        codes = [self._value_code(v) for o in state.observed for _, v in o[3]]
        return max(terms, default=0), max(indexes, default=0), max(codes, default=-1)

    def overflow(self, state: Any) -> bool:
        term, index, code = self._sizes(state)
        return term >= self.term_capacity or index >= self.index_capacity or code >= self.value_capacity

    def universe_of(self, states: Sequence[Any]) -> dict[str, tuple[Any, ...]]:
        sizes = [self._sizes(s) for s in states]
        universe = dict(self._universe)
        universe["Term"] = tuple(range(max(self.term_capacity, *(t + 1 for t, _, _ in sizes))))
        universe["Index"] = tuple(range(max(self.index_capacity, *(i + 1 for _, i, _ in sizes))))
        universe["Value"] = (-1, *range(max(self.value_capacity, *(c + 1 for _, _, c in sizes))))
        return universe

    def interpretation(self) -> Interpretation:
        """The states as finite structures over ``standard.RAFT`` (terms and indexes as themselves).

        Function values are tuples over the *current* universe of indexes: the
        small one, or a larger one for a state beyond it (see :meth:`Contract.judged`).
        """
        from quorumcheck.invariants import Derived, Interpretation, standard
        servers = tuple(range(self.nodes))
        value_code = self._value_code
        small = self.index_capacity

        # One source per group of symbols, so that a property is judged again only when what it reads
        # changes (log matching reads only the logs, not the terms or the votes).
        # The columns of the observations, split once per observations tuple: a step that changes no
        # observation keeps the same tuple object, and every property reads the same state in turn.
        memo: list[Any] = [None, None, None, None]

        def columns(state: Any) -> tuple[Any, ...]:
            observed = state.observed
            if memo[0] is observed:
                return memo[1]
            if memo[2] is observed:
                return memo[3]
            split = tuple(zip(*observed))
            memo[2], memo[3] = memo[0], memo[1]
            memo[0], memo[1] = observed, split
            return split

        def terms(state: Any) -> tuple[int, ...]:
            return columns(state)[0]

        def roles(state: Any) -> tuple[int, ...]:
            return columns(state)[1]

        def logs(state: Any) -> tuple[Any, ...]:
            return columns(state)[3]

        def commits(state: Any) -> tuple[int, ...]:
            return columns(state)[4]

        def width() -> int:
            return small if self.wide is None else len(self.wide["Index"])

        def log_term(logs: Any) -> tuple[int, ...]:
            n = width()
            return tuple(log[i - 1][0] if 1 <= i <= len(log) else 0 for log in logs for i in range(n))

        def log_value(logs: Any) -> tuple[int, ...]:
            n = width()
            return tuple(value_code(log[i - 1][1]) if 1 <= i <= len(log) else -1 for log in logs for i in range(n))

        self._universe = {
            "Server": servers,
            "Term": tuple(range(self.term_capacity)),
            "Index": tuple(range(small)),
            "Value": (-1, *range(self.value_capacity)),
            "Role": ROLES,
        }
        return Interpretation(
            standard.RAFT,
            self._universe,
            {
                "current_term": terms,
                "role": Derived(roles, lambda codes: tuple(ROLES[c] for c in codes)),
                "log_len": Derived(logs, lambda logs: tuple(len(log) for log in logs)),
                "log_term": Derived(logs, log_term),
                "log_value": Derived(logs, log_value),
                "commit_index": commits,
                "elected": attrgetter("history"),
            },
            display={"Server": node_name},
        )

    def properties(self, evaluator: str) -> list[Property[Any]]:
        from quorumcheck.invariants import standard
        interp = self.interpretation()

        def judged(kind: str, name: str, formula: Any, description: str, explain: Any = None,
                   default: bool = True) -> Property[Any]:
            return self.judged(interp, kind, name, formula, description, evaluator, explain, default)

        from .raft import LOG_EXPLAINERS, log_step_explainer

        def about_logs(explain: Callable[[Any], str]) -> Callable[[Any], str]:
            return lambda state: explain(self.server_logs(state))

        explainers: dict[str, Any] = {"election-safety": self.explain_elections, "leader-elected": None,
                                      "entry-committed": None}
        explainers.update({name: about_logs(explain) for name, explain in LOG_EXPLAINERS.items()})
        found = []
        for name, p in standard.RAFT_PROPERTIES.items():
            if name == "entry-committed" and not self.settings.get("requests", 0):
                continue
            prop = judged(p.kind, name, p.formula, p.description, explainers.get(name, self.explain_logs),
                          default=name != "election-safety-state" and name not in standard.RAFT_ON_REQUEST)
            prop.node_local = p.node_local  # each server is one node: its observation is its own
            prop.step_explainer = log_step_explainer(name, self.server_logs)
            found.append(prop)
        return found

    # -- explanations ---------------------------------------------------------------------------------
    def explain_elections(self, state: Any) -> str:
        by_term: dict[int, list[int]] = {}
        for t, s in state.history:
            by_term.setdefault(t, []).append(s)
        # "acted as leader", not "elected": a leader that adopts a higher term and keeps leading is one too.
        return "; ".join(f"term {t}: " + " and ".join(node_name(s) for s in sorted(who)) + " each acted as leader"
                         for t, who in sorted(by_term.items()) if len(who) > 1)

    def server_logs(self, state: Any) -> list[Any]:
        """What the log properties read at every node, as :class:`~quorumcheck.models.raft.ServerLog` views."""
        from .raft import ServerLog

        return [ServerLog(node_name(i), ROLES[o[1]], o[0], tuple((t, show(v)) for t, v in o[3]), o[4])
                for i, o in enumerate(state.observed)]

    def explain_logs(self, state: Any) -> str:
        return "; ".join(
            f"{node_name(i)} {ROLES[o[1]].lower()} term {o[0]}, log {_log_text(o[3])}, commit_index {o[4]}"
            for i, o in enumerate(state.observed)
        )

    def describe(self, observed: Sequence[Hashable], history: Any) -> dict[str, Any]:
        return {"elected": [f"term {t}: {node_name(s)}" for t, s in sorted(history)]}


def ballot_order(frozen: Any) -> Any:
    """A frozen ballot as a value that orders as the ballot does in Python: a float by its value (so an int ballot
    and a ``float('-inf')`` start compare), a tuple, list, named tuple or dataclass by its items in order.

    >>> sorted([3, ("fl", float("-inf")), ("fl", 2.5)], key=ballot_order)
    [('fl', -inf), ('fl', 2.5), 3]
    >>> ballot_order(("t", 1, ("fl", 0.5))) < ballot_order(("t", 1, 2))
    True
    """
    if type(frozen) is not tuple or not frozen:
        return frozen
    tag = frozen[0]
    if tag == "fl":
        return frozen[1]
    if tag in ("t", "l"):
        return tuple(ballot_order(v) for v in frozen[1:])
    if tag in ("nt", "dc"):
        return tuple(ballot_order(v) for v in frozen[3:])
    return frozen


def _ordered_ballot(ballot: Any, what: str) -> None:
    """:class:`InvalidStudentCode` when a frozen ballot holds a NaN: it compares as neither less, equal nor
    greater than any ballot, so ranking the ballots would give an arbitrary order and arbitrary verdicts."""
    stack = [ballot]
    while stack:
        v = stack.pop()
        if type(v) is float and v != v:
            raise InvalidStudentCode(f"{what} holds the ballot {show(ballot)}, which is or holds a NaN: NaN is not "
                                     "ordered, and the properties compare ballots; use ints or tuples of ints")
        if type(v) is tuple:
            stack.extend(v)


def _within_bound(number: int, what: str) -> None:
    """:class:`InvalidStudentCode` when a term or index the student's code set is beyond :data:`MAX_NUMBER`."""
    if number > MAX_NUMBER:
        raise InvalidStudentCode(
            f"{what} is {_number_text(number)}, beyond the {MAX_NUMBER:,} quorumcheck reads (the properties are "
            "judged over every term and index up to the largest; terms grow by one per election, and commit_index "
            "counts committed entries)"
        )


def _number_text(number: int) -> str:
    """An int as text, a huge one by its size (``str()`` of ``10**5000`` raises, and would be a page long).

    >>> _number_text(10**18), _number_text(10**5000)
    ('1000000000000000000', 'a number of about 5,000 digits')
    """
    if number.bit_length() <= 128:
        return str(number)
    return f"a number of about {round(number.bit_length() * 0.30103):,} digits"


def _log_text(entries: Sequence[tuple[int, Hashable]]) -> str:
    from .raft import log_notation

    return log_notation([(t, show(v)) for t, v in entries])


def _role(frozen: Any, where: str) -> int:
    """A frozen role (a string, or an enum member named after the role) as its code; ``where`` names the
    student's attribute in the error."""
    name = frozen[2] if type(frozen) is tuple and len(frozen) == 3 and frozen[0] == "e" else frozen
    if isinstance(name, str):
        code = _ROLE_CODES.get(name.strip().lower())
        if code is not None:
            return code
    raise InvalidStudentCode(
        f"{where} must be 'follower', 'candidate' or 'leader' (any case, or an enum with those names), got "
        f"{show(frozen)}"
    )


CONTRACTS: dict[str, type[Contract]] = {"none": NoContract, "paxos": PaxosContract, "raft": RaftContract}
"""The observation contracts by protocol name."""


def contract_named(name: str) -> type[Contract]:
    """The contract class of a protocol name.

    >>> contract_named("raft").__name__
    'RaftContract'
    >>> contract_named("zab")
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: unknown protocol 'zab'; choose one of: none, paxos, raft
    """
    from quorumcheck.errors import InvalidParameter

    cls = CONTRACTS.get(name)
    if cls is None:
        raise InvalidParameter(f"unknown protocol {name!r}; choose one of: {', '.join(CONTRACTS)}")
    return cls
