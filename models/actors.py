"""The actor API: a protocol as node classes with handlers, as Stateright's actors are.

A node is a subclass of :class:`Node`. Its state is plain Python attributes,
set up in ``__init__(self)``; it acts only through the :class:`Out` object its
handlers receive, never by touching a network or a clock:

* ``on_start(self, out)`` -- the node boots (and reboots after a crash);
* ``on_message(self, sender, message, out)`` -- a message arrives;
* ``on_timer(self, name, out)`` -- a timer set with ``out.set_timer(name)`` fires;
* ``on_request(self, value, out)`` -- a client asks the node to propose ``value``
  (optional: only nodes that define it receive client requests).

``out.send(to, message)``, ``out.broadcast(message)``, ``out.set_timer(name)``
and ``out.cancel_timer(name)`` are the only effects. quorumcheck sets
``self.id`` (this node's number, 0, 1, ...) and ``self.peers`` (the other nodes'
numbers) before ``__init__`` runs, so ``__init__`` takes no arguments.

Between steps quorumcheck keeps each node as a *snapshot*: its attributes frozen
into a canonical hashable form (:class:`Snapshotter`), so that states can be
compared, hashed and stored, and a node is restored into a fresh object before
each handler call. Attribute values may be ints, floats, strings, bytes,
booleans, ``None``, tuples, lists, dicts, sets, frozensets, enums, and
dataclasses or NamedTuples of those; anything else (an open file, a lambda, a
lock, a thread) is an :class:`~quorumcheck.errors.InvalidStudentCode` error
naming the class and the attribute. A snapshot keeps every attribute of a
dataclass (also those that are not fields). Dicts and sets are kept by
content, in a canonical order: code whose behaviour depends on a dict's
insertion order is reported by the determinism check, which restores dicts in
another order. ``id`` and ``peers`` are quorumcheck's: a node that sets them is
an error too (see docs/student-testing.md, "What a snapshot keeps").

Examples
--------
A node that answers every ping with a pong:

>>> class Ponger(Node):
...     def __init__(self):
...         self.pings = 0
...     def on_message(self, sender, message, out):
...         if message == "ping":
...             self.pings += 1
...             out.send(sender, "pong")
>>> snap = Snapshotter()
>>> node = new_node(Ponger, 1, 2)
>>> out = Out(node, 2, snap)
>>> node.on_message(0, "ping", out)
>>> out.sends, snapshot_node(node, snap)
([(0, 'pong')], (('pings', 1),))
"""

from __future__ import annotations

import dataclasses
import enum
import math
import sys
import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, ClassVar, NoReturn

from quorumcheck.errors import InvalidParameter, InvalidStudentCode

__all__ = [
    "FRAMEWORK_ATTRIBUTES",
    "NETWORKS",
    "Node",
    "Out",
    "Snapshotter",
    "Unsnapshottable",
    "network_named",
    "new_node",
    "node_name",
    "orders_itself",
    "restore_node",
    "snapshot_node",
]

NETWORKS = ("ordered", "unordered", "unordered-duplicating")
"""The network semantics, by name.

``ordered``
    FIFO per channel (sender, receiver): a channel delivers its oldest message first.
``unordered``
    A bag: any message in flight can be delivered next, once.
``unordered-duplicating``
    A set, as Paxos.tla's ``msgs``: a sent message stays and can be delivered
    any number of times, in any order.
"""

FRAMEWORK_ATTRIBUTES = frozenset({"id", "peers"})
"""Attributes quorumcheck sets on every node; they are not part of its snapshot, and a node must not set them."""


def network_named(name: str) -> str:
    """Validate a network semantics name.

    Examples
    --------
    >>> network_named("unordered")
    'unordered'
    >>> network_named("fifo")
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: unknown network 'fifo'; choose one of: ordered, unordered, unordered-duplicating
    """
    if name not in NETWORKS:
        raise InvalidParameter(f"unknown network {name!r}; choose one of: {', '.join(NETWORKS)}")
    return name


def node_name(index: int) -> str:
    """How node ``index`` is named in traces and charts.

    >>> node_name(2)
    'n2'
    """
    return f"n{index}"


class Node:
    """Base class of a protocol's nodes. Subclass it and write the handlers you need.

    Class attributes
    ----------------
    durable : tuple of str
        The attributes that survive a crash (written to stable storage). After
        a crash quorumcheck builds a fresh node with ``__init__``, puts back the
        durable attributes, and calls ``on_start`` again.
    observe : mapping of str to str
        Renames for the observation contract, when your attributes are called
        differently: ``observe = {"current_term": "term"}`` (see
        docs/student-testing.md).

    Attributes set by quorumcheck
    -----------------------------
    id : int
        This node's number, ``0 .. nodes - 1``.
    peers : tuple of int
        The other nodes' numbers.

    Examples
    --------
    >>> class Counter(Node):
    ...     durable = ("count",)
    ...     def __init__(self):
    ...         self.count = 0
    ...     def on_start(self, out):
    ...         out.set_timer("tick")
    ...     def on_timer(self, name, out):
    ...         self.count += 1
    ...         out.set_timer("tick")
    >>> node = new_node(Counter, 0, 3)
    >>> node.id, node.peers, node.count
    (0, (1, 2), 0)
    """

    durable: ClassVar[tuple[str, ...]] = ()
    observe: ClassVar[dict[str, str]] = {}

    id: int
    peers: tuple[int, ...]

    def on_start(self, out: Out) -> None:
        """The node boots (also after a crash). The default does nothing."""

    def on_message(self, sender: int, message: Any, out: Out) -> None:
        """A message from node ``sender`` arrives. The default ignores it."""

    def on_timer(self, name: str, out: Out) -> None:
        """The timer ``name`` fires. The default ignores it."""


class Out:
    """What one handler call does: the messages it sends and the timers it sets or cancels.

    Messages are snapshotted when they are sent, so changing the object
    afterwards changes nothing in flight. A misuse (a node that does not
    exist, a timer name that is not a string) raises ``ValueError`` at the call,
    as a real network library would; unless the handler catches it, it is
    reported as a finding of ``handlers-do-not-crash``.

    Parameters
    ----------
    node : Node
        The node whose handler is running.
    nodes : int
        How many nodes there are.
    snapshotter : Snapshotter

    Examples
    --------
    >>> node = new_node(Node, 0, 3)
    >>> out = Out(node, 3, Snapshotter())
    >>> out.broadcast(("prepare", 1))
    >>> out.set_timer("retry"); out.cancel_timer("retry"); out.set_timer("election", after=0.15)
    >>> out.sends, out.timers
    ([(1, ('t', 'prepare', 1)), (2, ('t', 'prepare', 1))], [('set', 'retry'), ('cancel', 'retry'), ('set', 'election')])
    >>> out.send(5, "hello")
    Traceback (most recent call last):
    ...
    ValueError: out.send(5, ...): there is no node 5; nodes are 0..2
    """

    __slots__ = ("_node", "_nodes", "_snapshotter", "error", "sends", "timers")

    def __init__(self, node: Node, nodes: int, snapshotter: Snapshotter) -> None:
        self._node = node
        self._nodes = nodes
        self._snapshotter = snapshotter
        self.sends: list[tuple[int, Hashable]] = []
        """``(receiver, frozen message)`` in the order sent."""
        self.timers: list[tuple[str, str]] = []
        """``("set" | "cancel", name)`` in the order done."""
        self.error: InvalidStudentCode | None = None
        """A message that could not be snapshotted (raised again after the handler returns)."""

    def send(self, to: int, message: Any) -> None:
        """Send ``message`` to node ``to`` (which may be this node itself)."""
        if not isinstance(to, bool) and isinstance(to, int):
            to = int.__index__(to)  # its value as a plain int: a subclass's own comparisons and repr are not asked
        if isinstance(to, bool) or not isinstance(to, int) or not 0 <= to < self._nodes:
            raise ValueError(f"out.send({to!r}, ...): there is no node {to!r}; nodes are 0..{self._nodes - 1}")
        try:
            frozen = self._snapshotter.freeze(message)
        except Unsnapshottable as e:
            cls = type(self._node).__name__
            self.error = InvalidStudentCode(
                f"{cls} (node {self._node.id}) sent a message quorumcheck cannot snapshot: {e.describe('message')}; "
                f"{_SUPPORTED}"
            )
            raise self.error from None
        self.sends.append((to, frozen))

    def broadcast(self, message: Any, *, include_self: bool = False) -> None:
        """Send ``message`` to every other node (and to this one too with ``include_self=True``)."""
        for to in range(self._nodes):
            if to != self._node.id or include_self:
                self.send(to, message)

    def set_timer(self, name: str, after: float | None = None) -> None:
        """Arm the timer ``name``; it fires at some later step (``after`` is accepted and ignored).

        Firing is nondeterministic: quorumcheck tries every moment. Setting an
        armed timer again leaves it armed once.
        """
        if not isinstance(name, str):
            raise ValueError(f"out.set_timer({name!r}): timer names are strings, e.g. out.set_timer('election')")
        name = str.__str__(name)  # its text as a plain str: a subclass's own len() is not asked
        _short_timer_name("set_timer", name)
        self.timers.append(("set", name))

    def cancel_timer(self, name: str) -> None:
        """Disarm the timer ``name`` (nothing happens if it is not armed)."""
        if not isinstance(name, str):
            raise ValueError(f"out.cancel_timer({name!r}): timer names are strings, e.g. out.cancel_timer('election')")
        name = str.__str__(name)
        _short_timer_name("cancel_timer", name)
        self.timers.append(("cancel", name))


TIMER_NAME_LIMIT = 200
"""The longest timer name (characters): a timer is a name, not a place for data."""


def _short_timer_name(method: str, name: str) -> None:
    if len(name) > TIMER_NAME_LIMIT:
        raise ValueError(f"out.{method}() with a name of {len(name):,} characters: timer names are at most "
                         f"{TIMER_NAME_LIMIT} characters (a timer is a name, e.g. 'election'; keep data in self)")


def new_node(cls: type[Node], index: int, nodes: int) -> Node:
    """A fresh node of class ``cls``: ``id`` and ``peers`` set, then ``__init__()`` called.

    Examples
    --------
    >>> new_node(Node, 1, 3).peers
    (0, 2)
    """
    node = cls.__new__(cls)
    peers = _peers(index, nodes)
    node.__dict__["id"] = index
    node.__dict__["peers"] = peers
    _reserve(node, index, peers)
    node.__init__()  # type: ignore[misc]
    return node


def snapshot_node(node: Node, snapshotter: Snapshotter, only: tuple[str, ...] | None = None) -> tuple[Any, ...]:
    """The node's attributes as a canonical hashable snapshot: ``((name, frozen value), ...)`` sorted by name.

    Parameters
    ----------
    only : tuple of str, optional
        Snapshot just these attributes (the durable ones, at a crash).

    Raises
    ------
    InvalidStudentCode
        An attribute holds something that cannot be snapshotted; the message
        names the class, the attribute and the part of its value. Or the node
        set (or deleted) ``id`` or ``peers``, which quorumcheck reserves: they
        are not in the snapshot, so the node would silently get quorumcheck's
        values back at the next restore.

    Examples
    --------
    >>> class Bad(Node):
    ...     def __init__(self):
    ...         self.handlers = {"ping": lambda m: m}
    >>> snapshot_node(new_node(Bad, 0, 1), Snapshotter())
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: Bad.handlers['ping'] holds a function, which quorumcheck cannot snapshot; ...
    >>> class Members(Node):
    ...     def __init__(self):
    ...         self.peers = [p for p in range(5) if p != self.id]
    >>> snapshot_node(new_node(Members, 0, 3), Snapshotter())
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: Members sets self.peers, which quorumcheck reserves (it holds the other nodes' numbers); keep your own list under another name, e.g. self.members
    """
    attributes = node.__dict__
    _check_reserved(node, attributes)
    names = sorted(attributes) if only is None else [n for n in only if n in attributes]
    freeze = snapshotter.freeze
    out = []
    for name in names:
        if name in FRAMEWORK_ATTRIBUTES:
            continue
        try:
            out.append((name, freeze(attributes[name])))
        except Unsnapshottable as e:
            raise InvalidStudentCode(
                f"{type(node).__name__}.{e.describe(name)}, which quorumcheck cannot snapshot; {_SUPPORTED}"
            ) from None
    return tuple(out)


def restore_node(cls: type[Node], index: int, nodes: int, snapshot: tuple[Any, ...], snapshotter: Snapshotter) -> Node:
    """A fresh object of ``cls`` holding the attributes of ``snapshot`` (``__init__`` is not called).

    Examples
    --------
    >>> snap = Snapshotter()
    >>> node = restore_node(Node, 0, 2, (("votes", ("s", 1, 2)),), snap)
    >>> node.votes, node.peers
    ({1, 2}, (1,))
    """
    node = cls.__new__(cls)
    attributes = node.__dict__
    peers = _peers(index, nodes)
    attributes["id"] = index
    attributes["peers"] = peers
    _reserve(node, index, peers)
    thaw = snapshotter.thaw
    for name, frozen in snapshot:
        attributes[name] = thaw(frozen)
    return node


_PEERS: dict[tuple[int, int], tuple[int, ...]] = {}

_RESERVED: dict[int, tuple[weakref.ref[Node], int, tuple[int, ...]]] = {}
"""Per live node built by :func:`new_node` or :func:`restore_node`, keyed by ``id(node)``: a weak
reference to it and the ``id`` and ``peers`` quorumcheck gave it. Kept out of the node, where its
code cannot reach it; an entry goes when its node does."""


def _peers(index: int, nodes: int) -> tuple[int, ...]:
    """The other nodes' numbers, one shared tuple per ``(index, nodes)``."""
    peers = _PEERS.get((index, nodes))
    if peers is None:
        peers = _PEERS[index, nodes] = tuple(i for i in range(nodes) if i != index)
    return peers


def _reserve(node: Node, index: int, peers: tuple[int, ...]) -> None:
    """Remember the ``id`` and ``peers`` quorumcheck gives ``node``, for :func:`_check_reserved`."""
    key = id(node)
    try:
        ref = weakref.ref(node, lambda _, key=key: _RESERVED.pop(key, None))
    except TypeError:  # no __weakref__ slot: not a Node subclass quorumcheck accepts; left unchecked
        return
    _RESERVED[key] = (ref, index, peers)


_MISSING = object()

_RESERVED_TEXT = {
    "id": "it holds this node's number); keep your own value under another name, e.g. self.name",
    "peers": "it holds the other nodes' numbers); keep your own list under another name, e.g. self.members",
}


def _check_reserved(node: Node, attributes: dict[str, Any]) -> None:
    """:class:`InvalidStudentCode` if the node changed the ``id`` or ``peers`` quorumcheck gave it.

    A node quorumcheck did not build (no :func:`new_node` or :func:`restore_node`) is not checked.

    Examples
    --------
    >>> class Renumbered(Node):
    ...     def on_start(self, out):
    ...         self.id = 7
    >>> node = new_node(Renumbered, 1, 3)
    >>> _check_reserved(node, node.__dict__)
    >>> node.on_start(None)
    >>> _check_reserved(node, node.__dict__)
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: Renumbered sets self.id, which quorumcheck reserves (it holds this node's number); ...
    """
    entry = _RESERVED.get(id(node))
    if entry is None or entry[0]() is not node:
        return
    _, index, peers = entry
    ident = attributes.get("id", _MISSING)
    if ident is not index and (type(ident) is not int or ident != index):
        _reserved_error(node, "id", ident)
    mine = attributes.get("peers", _MISSING)
    if mine is not peers and (type(mine) is not tuple or mine != peers):
        _reserved_error(node, "peers", mine)


def _reserved_error(node: Node, name: str, value: Any) -> NoReturn:
    verb = "deletes" if value is _MISSING else "sets"
    raise InvalidStudentCode(
        f"{type(node).__name__} {verb} self.{name}, which quorumcheck reserves ({_RESERVED_TEXT[name]}"
    )


_SUPPORTED = (
    "keep node state and messages to ints, floats, str, bytes, bool, None, tuples, lists, dicts, sets, "
    "frozensets, enums, and dataclasses or NamedTuples of those (see docs/student-testing.md)"
)


class _NaNs:
    """What :func:`_one_nan` refuses: NaNs that a set or a dict's keys hold apart."""


class _SameName:
    """What :meth:`Snapshotter._register` refuses: a second class that a snapshot could not tell from the first."""

    def __init__(self, name: str) -> None:
        self.name = name


def _has_nan(frozen: Any) -> bool:
    t = type(frozen)
    if t is tuple:
        return any(_has_nan(x) for x in frozen)
    return t is float and frozen != frozen


def _one_nan(frozen: list[Any]) -> None:
    """:class:`Unsnapshottable` when two of a set's elements (or a dict's keys) hold a NaN: NaN is not equal to
    itself, so Python keeps two NaNs apart by identity, which a snapshot does not keep (it restores one NaN
    object), and the node would come back with fewer elements than it had."""
    if len(frozen) > 1 and sum(1 for x in frozen if type(x) is tuple and _has_nan(x)) > 1:
        raise Unsnapshottable(_NaNs())


class Unsnapshottable(Exception):
    """A value (or a part of it) that :meth:`Snapshotter.freeze` cannot represent."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value
        self.path: list[str] = []

    def describe(self, root: str) -> str:
        """``root[path] holds a <kind>``, e.g. ``handlers['ping'] holds a function``."""
        return f"{root}{''.join(reversed(self.path))} holds {_kind(self.value)}"


def _builtin_base(cls: type) -> type | None:
    """The built-in class other than ``object`` that ``cls`` derives from (``set`` for ``class Votes(set)``), if any.

    Such an instance holds contents (a set's elements, a list's items) that are no attribute, which a dataclass's
    snapshot would lose; and it cannot be rebuilt without running its class's ``__new__``.
    """
    return next((base for base in cls.__mro__[1:] if base is not object and base.__module__ == "builtins"), None)


def _class_kind(t: type) -> tuple[str, str, tuple[str, ...]] | None:
    """How a snapshot holds instances of ``t``: ``(tag, name, fields)``; ``None`` if it cannot."""
    name = f"{t.__module__}.{t.__qualname__}"
    if issubclass(t, enum.Enum):
        return ("e", name, ())
    if issubclass(t, tuple) and hasattr(t, "_fields") and hasattr(t, "_make"):
        return ("nt", name, tuple(t._fields))
    if dataclasses.is_dataclass(t) and _builtin_base(t) is None:
        return ("dc", name, _slot_attributes(t))
    return None


class _NamedTupleAttributes:
    """What a snapshot cannot hold: a named tuple with attributes besides its fields (a subclass without slots)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls



@dataclasses.dataclass(frozen=True)
class LearnedClasses:
    """What :meth:`Snapshotter.learn` made of some classes, worked out once for many processes that inherit it
    (:meth:`Snapshotter.inherit`): a fresh process for each handler call knows its zygote's classes so, without
    going over them (each class it touches is a page of its parent's memory it must copy).

    Attributes
    ----------
    kinds : dict
        Each class a snapshot can hold and tell apart: its tag, its snapshot name and its field names.
    classes : dict
        Those classes by the key a snapshot names them by.
    keys : frozenset
        Every key some class had, the ones two classes shared (and so neither holds) included.
    """

    kinds: Mapping[type, tuple[str, str, tuple[str, ...]]]
    classes: Mapping[Any, type]
    keys: frozenset[Any]


def _bound_by_its_module(cls: type) -> bool:
    """Whether ``cls`` is what its module binds under its qualified name, read without running any code (no
    ``__getattr__``). ``@dataclass(slots=True)`` makes a second class of the same name and binds that one; with
    ``frozen=True`` too, the first stays alive (its ``__setattr__`` refers to it), so two classes share a name."""
    module = sys.modules.get(getattr(cls, "__module__", None) or "")
    if module is None:
        return False
    found: Any = module
    for part in str(getattr(cls, "__qualname__", "")).split("."):
        try:
            found = vars(found).get(part)
        except TypeError:
            return False
        if found is None:
            return False
    return found is cls


def learned_classes(classes: Iterable[Any]) -> LearnedClasses:
    """What a :class:`Snapshotter` learns of ``classes``, to be inherited.

    Examples
    --------
    >>> from typing import NamedTuple
    >>> class Ping(NamedTuple):
    ...     n: int
    >>> learned = learned_classes([Ping, int])
    >>> snap = Snapshotter()
    >>> snap.inherit(learned)
    >>> snap.thaw(Snapshotter().freeze(Ping(3)))
    Ping(n=3)
    """
    snapshotter = Snapshotter()
    keys = snapshotter.learn(classes)
    return LearnedClasses(dict(snapshotter._kinds), dict(snapshotter._classes), frozenset(keys))


def _kind(value: Any) -> str:
    import inspect
    import io
    import threading

    if isinstance(value, _SameName):
        return (f"an instance of a second class named {_as_written(value.name)} (with the same fields): a snapshot "
                "keeps an object by its class's name, so it could come back as the other class; give each class "
                "a name of its own")
    if isinstance(value, _NamedTupleAttributes):
        return (f"an instance of {value.cls.__name__}, a named tuple with attributes besides its fields (a snapshot "
                "keeps a named tuple's fields only; add them as fields, or give the subclass __slots__ = ())")
    if isinstance(value, _NaNs):
        return ("two NaNs in one set or among one dict's keys (NaN is not equal to itself, so Python keeps them "
                "apart by identity, which a snapshot cannot keep; use None or a flag instead of NaN)")
    if inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value):
        return "a function"
    if isinstance(value, io.IOBase):
        return "an open file"
    if isinstance(value, threading.Thread):
        return "a thread"
    if type(value).__module__ == "_thread":
        return f"a {type(value).__name__} (a lock)"
    if inspect.isgenerator(value):
        return "a generator"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if inspect.ismodule(value):
        return f"the module {value.__name__}"
    if dataclasses.is_dataclass(value):
        builtin = _builtin_base(type(value))
        if builtin is not None:
            return (f"a {type(value).__name__} dataclass that is also a {builtin.__name__} (a snapshot keeps a "
                    f"dataclass's attributes, not a {builtin.__name__}'s contents; hold the {builtin.__name__} "
                    "in a field instead)")
        return f"a {type(value).__name__} dataclass with a field of an unsupported type"
    module = type(value).__module__
    where = "" if module.startswith("quorumcheck_student_") or module in ("__main__", "builtins") else f"{module}."
    name = f"{module}.{type(value).__qualname__}"
    plain = _PLAIN_INSTEAD.get(name)
    if plain is not None:
        return f"{'an' if name[0] in 'aeiou' else 'a'} {name} (a snapshot keeps plain dicts, lists, sets and tuples: {plain})"
    if module.split(".")[0] in sys.stdlib_module_names and module != "builtins":
        # Not the student's class, so not theirs to turn into a dataclass: a Random, a Logger, a deque's cousins.
        return (f"an instance of {where}{type(value).__qualname__} (keep it out of self: make it at module level, "
                "like a logger, or keep in self the plain data it is made from, like a Random's seed or getstate())")
    return f"an instance of {where}{type(value).__qualname__} (make it a dataclass or NamedTuple)"


_PLAIN_INSTEAD = {
    "collections.defaultdict": "use a dict, with self.d.setdefault(key, []) or self.d.get(key, 0) where a default "
                               "is wanted",
    "collections.Counter": "use a dict of counts, self.d[key] = self.d.get(key, 0) + 1",
    "collections.OrderedDict": "use a dict, and a list of its keys if their order matters (a snapshot keeps a "
                               "dict's items, not their order)",
    "collections.deque": "use a list, with append() and pop(0)",
    "array.array": "use a list",
}
"""The standard library's containers students reach for, and the plain type to hold the same data in."""

_LEAF = (int, str, bytes, type(None))


class Snapshotter:
    """Freezes Python values into a canonical hashable form, renders and restores them.

    The frozen form of a scalar (int, str, bytes, ``None``) is itself;
    every other value is a tuple whose first item is a tag: ``("b", True)``,
    ``("fl", 1.0)`` (a bool or a float equals an int, ``True == 1 == 1.0``,
    and untagged would be taken for it, so a path that only the float takes
    would never run; ``-0.0`` is ``("fl", -0.0, "-0")``, as it equals
    ``0.0``), ``("ef", "mod.Flags", 3, "A|B")`` a combination of
    ``enum.Flag`` members (kept by value, shown by name),
    ``("t", ...)`` a tuple, ``("l", ...)`` a list, ``("d", (k, v), ...)`` a dict,
    ``("s", ...)`` a set, ``("f", ...)`` a frozenset, ``("e", "mod.Cls", name)``
    an enum member, ``("nt", "mod.Cls", field names, values...)`` a NamedTuple,
    ``("dc", "mod.Cls", attribute names, values...)`` a dataclass.

    Dicts, sets and frozensets are kept by content, sorted (by their keys'
    text where they do not compare), so equal ones freeze equally whatever
    their insertion order: the state space does not multiply by the orders
    messages arrive in. A dict thaws in that sorted key order, or, with
    ``rotate_dicts=True``, rotated by one (the first key last), an order in
    which every position holds another key: the determinism check runs every
    call once each way, so a handler whose effect depends on a dict's
    insertion order (``next(iter(d))``, ``list(d)[1]``) is reported rather
    than judged on an order plain Python would not have had. A dataclass keeps *every*
    attribute of the instance, its slots and its ``__dict__`` in insertion
    order, not only its fields: an attribute set in ``__post_init__`` or added
    later survives. It is restored as pickle and :func:`copy.deepcopy` restore
    it, without calling ``__init__`` or ``__post_init__`` again. Frozen forms hold only
    ints, floats, strings, bytes and tuples: they pickle, and compare and
    print the same in every process.

    Examples
    --------
    >>> from typing import NamedTuple
    >>> class Entry(NamedTuple):
    ...     term: int
    ...     value: str
    >>> snap = Snapshotter()
    >>> frozen = snap.freeze({"log": [Entry(1, "x")], "voted": {2, 1}, "leader": True})
    >>> snap.show(frozen)
    "{'leader': True, 'log': [Entry(term=1, value='x')], 'voted': {1, 2}}"
    >>> snap.thaw(frozen)["log"][0].term
    1
    >>> snap.freeze({1, 2}) == snap.freeze({2, 1}), snap.freeze((1, 2)) == snap.freeze([1, 2])
    (True, False)
    >>> snap.freeze({"a": 1, "b": 2}) == snap.freeze({"b": 2, "a": 1})
    True
    >>> list(Snapshotter(rotate_dicts=True).thaw(snap.freeze({"a": 1, "b": 2, "c": 3})))
    ['b', 'c', 'a']

    A dataclass keeps the attributes that are not fields:

    >>> @dataclasses.dataclass
    ... class State:
    ...     term: int
    ...     def __post_init__(self):
    ...         self.votes = set()
    >>> state = State(3)
    >>> state.votes.add(1)
    >>> frozen = snap.freeze(state)
    >>> snap.show(frozen)
    'State(term=3, votes={1})'
    >>> snap.thaw(frozen).votes
    {1}
    """

    def __init__(self, *, rotate_dicts: bool = False) -> None:
        self.rotate_dicts = rotate_dicts
        """Thaw dicts in sorted key order rotated by one (the determinism check's second run)."""
        self._kinds: dict[type, tuple[str, str, tuple[str, ...]]] = {}
        """Per class: its tag, its name, and its field names (NamedTuple) or slot attribute names (dataclass)."""
        self._classes: dict[Any, type] = {}
        """Classes by their snapshot name (a named tuple's with its fields)."""
        self._base: LearnedClasses | None = None
        """Classes learned elsewhere (:meth:`inherit`), taken into the two dicts above as they are first used."""
        self._masked: set[Any] = set()
        """Keys of :attr:`_base` that a class learned here shares: neither is known by that key."""
        self._shared: set[Any] = set()
        """Keys that two classes :meth:`learn` met shared, so that neither is known by them (said when one is
        restored)."""
        self._nans = 0
        """NaNs frozen so far: a set or dict is searched for two only when it made two (:func:`_one_nan`)."""
        self.find_class: Callable[[str], None] | None = None
        """Called with the snapshot name of a class this process has not seen (a worker forked before the class's
        module was first imported, in a handler): it may import that module and :meth:`learn` its classes."""

    # -- freezing ---------------------------------------------------------------------------------
    def freeze(self, value: Any) -> Hashable:
        """The canonical hashable form of ``value``; :class:`Unsnapshottable` if it has none."""
        t = type(value)
        if t is int or t is str or value is None:
            return value
        freeze = self.freeze
        try:
            if t is tuple:
                return ("t", *[freeze(v) for v in value])
            if t is list:
                return ("l", *[freeze(v) for v in value])
            if t is dict:
                nans = self._nans
                items = [(freeze(k), freeze(v)) for k, v in value.items()]
                if self._nans - nans > 1:  # only then can two keys hold a NaN
                    _one_nan([k for k, _ in items])
                return ("d", *_canonical(items, _key_text))
            if t is set or t is frozenset:
                nans = self._nans
                elements = [freeze(v) for v in value]
                if self._nans - nans > 1:
                    _one_nan(elements)
                return ("s" if t is set else "f", *_canonical(elements))
            if t is bool:
                return ("b", value)
            if t is float:  # 1.0 == 1 and hashes alike: untagged, a float would merge with an int and its path go unrun
                if value != value:
                    self._nans += 1
                return ("fl", value) if value or math.copysign(1.0, value) > 0 else ("fl", value, "-0")
            if t in _LEAF:
                return value
        except Unsnapshottable as e:
            e.path.append(self._locate(t, value))
            raise
        kind = self._kinds.get(t)
        if kind is None:
            kind = self._inherited(t) or self._register(t, value)
        tag, name, fields = kind
        if tag == "e":
            member = value.name
            if member is None or member not in t.__members__:  # a combination of enum.Flag members, or none
                if type(value.value) is not int:
                    raise Unsnapshottable(value)
                return ("ef", name, value.value, member or "")
            return ("e", name, member)
        if tag == "dc":
            return self._freeze_dataclass(value, name, fields)
        if t.__dictoffset__ and vars(value):  # a named tuple's subclass without slots, given an attribute
            raise Unsnapshottable(_NamedTupleAttributes(t))
        values = []
        for field in fields:
            try:
                values.append(freeze(getattr(value, field)))
            except Unsnapshottable as e:
                e.path.append(f".{field}")
                raise
        return (tag, name, fields, *values)

    def _freeze_dataclass(self, value: Any, name: str, slots: tuple[str, ...]) -> Hashable:
        """``("dc", name, attribute names, values...)``: every attribute the instance has, its slots
        (those that are set) and then its ``__dict__`` in insertion order."""
        freeze = self.freeze
        names: list[str] = []
        values: list[Hashable] = []
        items: list[tuple[str, Any]] = []
        for slot in slots:
            try:
                items.append((slot, object.__getattribute__(value, slot)))
            except AttributeError:  # an unset slot is no attribute
                pass
        attributes = getattr(value, "__dict__", None)
        if attributes:
            items.extend(attributes.items())
        for attribute, v in items:
            try:
                values.append(freeze(v))
            except Unsnapshottable as e:
                e.path.append(f".{attribute}")
                raise
            names.append(attribute)
        return ("dc", name, tuple(names), *values)

    def _locate(self, t: type, container: Any) -> str:
        """The path step from ``container`` to its first part that cannot be frozen (``[3]``, ``['key']``)."""

        def fails(v: Any) -> bool:
            try:
                self.freeze(v)
            except Unsnapshottable:
                return True
            return False

        if t is dict:
            for k, v in container.items():
                if fails(k):
                    return " (a key)"
                if fails(v):
                    return f"[{k!r}]"
        elif t in (tuple, list):
            for i, v in enumerate(container):
                if fails(v):
                    return f"[{i}]"
        return " (an element)"

    def _register(self, t: type, value: Any) -> tuple[str, str, tuple[str, ...]]:
        kind = _class_kind(t)
        if kind is None:
            raise Unsnapshottable(value)
        # Named tuples made by one factory share a name (namedtuple("Msg", fields)): their fields tell them apart.
        name = kind[1]
        key = (name, kind[2]) if kind[0] == "nt" else name
        base = self._base
        if self._classes.get(key, t) is not t or (
                base is not None and key not in self._masked and base.classes.get(key, t) is not t):
            raise Unsnapshottable(_SameName(name))
        self._kinds[t] = kind
        self._classes[key] = t
        return kind

    def inherit(self, learned: LearnedClasses | None) -> None:
        """Know the classes of ``learned`` (:func:`learned_classes`) as if learned here, each taken in when first
        frozen or thawed. Call it before :meth:`learn`, which then tells the classes it learns from these."""
        self._base = learned

    def _inherited(self, t: type) -> tuple[str, str, tuple[str, ...]] | None:
        """``t``'s kind, taken in from :attr:`_base` (``None`` if it has none there, or shares its key)."""
        base = self._base
        kind = None if base is None else base.kinds.get(t)
        if kind is None:
            return None
        key = (kind[1], kind[2]) if kind[0] == "nt" else kind[1]
        if key in self._masked or self._classes.get(key, t) is not t:
            return None
        self._kinds[t] = kind
        self._classes[key] = t
        return kind

    def _inherited_class(self, key: Any) -> type | None:
        """The class of :attr:`_base` known by ``key``, taken in (``None`` if none, or if a class here shares it)."""
        base = self._base
        t = None if base is None or key in self._masked else base.classes.get(key)
        if t is None or t in self._kinds:
            return None
        self._kinds[t] = base.kinds[t]  # type: ignore[union-attr]
        self._classes[key] = t
        return t

    def learn(self, classes: Iterable[Any]) -> set[Any]:
        """Know these classes before any of their instances is frozen, so that snapshots taken elsewhere (another
        process) thaw here. Classes a snapshot cannot hold are passed over; two a snapshot could not tell apart are
        both left out (one inherited, :meth:`inherit`, too), so the first instance frozen says so. Returns the keys
        the classes had."""
        found: dict[Any, list[tuple[type, tuple[str, str, tuple[str, ...]]]]] = {}
        base = self._base
        for t in classes:
            try:
                if not isinstance(t, type) or t in self._kinds or (base is not None and t in base.kinds):
                    kind = None
                else:
                    kind = _class_kind(t)
            except Exception:  # noqa: BLE001 - a class whose attributes raise: learned when first frozen, if ever
                kind = None
            if kind is not None:
                found.setdefault((kind[1], kind[2]) if kind[0] == "nt" else kind[1], []).append((t, kind))
        for key, same in found.items():
            if len(same) > 1:  # the one its module binds by its name, if one is: the other is left over
                same = [entry for entry in same if _bound_by_its_module(entry[0])] or same
            if base is not None and key in base.keys:
                self._masked.add(key)  # a class here and one inherited share it: neither is known by it
            elif len(same) > 1:
                self._shared.add(key)
            elif key not in self._classes:
                t, kind = same[0]
                self._kinds[t] = kind
                self._classes[key] = t
        return set(found)

    # -- restoring ---------------------------------------------------------------------------------
    def thaw(self, frozen: Any) -> Any:
        """A fresh Python value equal to the one that was frozen."""
        if type(frozen) is not tuple:
            return frozen
        tag = frozen[0]
        thaw = self.thaw
        if tag == "t":
            return tuple([thaw(v) for v in frozen[1:]])
        if tag == "l":
            return [thaw(v) for v in frozen[1:]]
        if tag == "d":
            items = frozen[2:] + frozen[1:2] if self.rotate_dicts else frozen[1:]
            return {thaw(k): thaw(v) for k, v in items}
        if tag == "s":
            return {thaw(v) for v in frozen[1:]}
        if tag == "f":
            return frozenset(thaw(v) for v in frozen[1:])
        if tag == "b" or tag == "fl":
            return frozen[1]
        key = (frozen[1], frozen[2]) if tag == "nt" else frozen[1]
        cls: Any = self._classes.get(key)
        if cls is None:
            cls = self._inherited_class(key)
        if cls is None and self.find_class is not None:
            self.find_class(frozen[1])
            cls = self._classes.get(key)
        if cls is None:
            if key in self._shared or key in self._masked:
                raise InvalidStudentCode(f"cannot restore a {frozen[1]}: two classes of that name exist, and a "
                                         "snapshot keeps an object by its class's name; give each class a name of its "
                                         "own (a class made inside a function is one per call)")
            raise InvalidStudentCode(f"cannot restore a {frozen[1]}: the class was never seen in this process")
        if tag == "e":
            return cls[frozen[2]]
        if tag == "ef":
            return cls(frozen[2])
        if tag == "nt":
            return cls._make([thaw(v) for v in frozen[3:]])  # type: ignore[attr-defined]
        # A dataclass, as pickle restores it: no __init__ or __post_init__; slots set with
        # object.__setattr__ (frozen dataclasses too), the rest put in __dict__ in its order.
        obj = object.__new__(cls)
        slots = self._kinds[cls][2]
        attributes = None
        for attribute, v in zip(frozen[2], frozen[3:]):
            if attribute in slots:
                object.__setattr__(obj, attribute, thaw(v))
            else:
                if attributes is None:
                    attributes = obj.__dict__
                attributes[attribute] = thaw(v)
        return obj

    # -- rendering ----------------------------------------------------------------------------------
    def show(self, frozen: Any) -> str:
        """The frozen value as Python would print it (sets in their canonical order).

        >>> Snapshotter().show(("t", "prepare", ("t", 1, 0)))
        "('prepare', (1, 0))"
        """
        return show(frozen)


def show(frozen: Any, qualify: frozenset[str] = frozenset()) -> str:
    """Render a frozen value as Python would print the value (needs no class registry).

    ``qualify`` names the classes (by their short names) to print with their module and qualified name: two
    classes that share a name would otherwise print alike.

    Examples
    --------
    >>> show(("d", ("a", ("l", 1, 2)), ("b", ("s",))))
    "{'a': [1, 2], 'b': set()}"
    >>> show(("e", "mod.Role", "LEADER"))
    'Role.LEADER'
    >>> show(("dc", "mod.State", ("term", "cache"), 2, ("d",)))
    'State(term=2, cache={})'
    >>> show(("t", ("nt", "a.Ping", ()), ("dc", "b.f.<locals>.Ping", ())), qualify=frozenset({"Ping"}))
    '(a.Ping(), b.f.<locals>.Ping())'
    """
    if type(frozen) is not tuple:
        return repr(frozen)
    tag = frozen[0]
    items = frozen[1:]
    if tag == "t":
        inner = ", ".join(show(v, qualify) for v in items)
        return f"({inner},)" if len(items) == 1 else f"({inner})"
    if tag == "l":
        return "[" + ", ".join(show(v, qualify) for v in items) + "]"
    if tag == "d":
        return "{" + ", ".join(f"{show(k, qualify)}: {show(v, qualify)}" for k, v in items) + "}"
    if tag == "s":
        return "{" + ", ".join(show(v, qualify) for v in items) + "}" if items else "set()"
    if tag == "f":
        return "frozenset({" + ", ".join(show(v, qualify) for v in items) + "})" if items else "frozenset()"
    if tag == "b" or tag == "fl":
        return repr(frozen[1])
    short = frozen[1].rsplit(".", 1)[-1]
    if short in qualify:
        short = _as_written(frozen[1])
    if tag == "e":
        return f"{short}.{frozen[2]}"
    if tag == "ef":
        return f"{short}.{frozen[3]}" if frozen[3] else f"{short}({frozen[2]})"
    fields = frozen[2]
    return f"{short}(" + ", ".join(f"{f}={show(v, qualify)}" for f, v in zip(fields, frozen[3:])) + ")"


def _as_written(path: str) -> str:
    """A class's ``module.qualname`` as the student wrote it: the module a submission is loaded as
    (``quorumcheck_student_raft_1a2b3c4d5e``, named after its path) shown as its file's name (``raft``).

    >>> _as_written("quorumcheck_student_my_raft_1a2b3c4d5e.f.<locals>.Ping"), _as_written("helpers.Ping")
    ('my_raft.f.<locals>.Ping', 'helpers.Ping')
    """
    module, _, rest = path.partition(".")
    if module.startswith("quorumcheck_student_"):
        module = module[len("quorumcheck_student_"):].rsplit("_", 1)[0]
    return f"{module}.{rest}" if rest else module


def _canonical(items: list[Any], text: Any = show) -> list[Any]:
    """Frozen values in a canonical order: their own when comparable, else by their text.

    "Comparable" means a total order: a NaN compares neither below, above nor equal to anything, so ``sorted``
    leaves it where the set's iteration put it, which differs between processes; such items are ordered by text.

    Examples
    --------
    >>> nan = float("nan")
    >>> _canonical([2.5, nan, 0.5]) == _canonical([nan, 0.5, 2.5]) == _canonical([0.5, 2.5, nan])
    True
    """
    try:
        ordered = sorted(items)
    except TypeError:
        return sorted(items, key=text)
    if all(a < b or a == b for a, b in zip(ordered, ordered[1:])):
        return ordered
    return sorted(items, key=text)


def _key_text(item: tuple[Any, Any]) -> str:
    return show(item[0])


_ORDER_METHODS = ("__lt__", "__le__", "__gt__", "__ge__")


def orders_itself(cls: type) -> bool:
    """Whether instances of ``cls`` order in a way their snapshots (:meth:`Snapshotter.freeze`) do not: a class
    with its own ``__lt__`` (``functools.total_ordering``, a comparison by other fields first), or an ordered enum
    (frozen by member name). The trusted side orders frozen values and never runs the student's code.

    A ``@dataclass(order=True)`` and a plain named tuple compare their fields in the order they are declared, as
    their snapshots do.

    Examples
    --------
    >>> import dataclasses, enum, functools
    >>> @dataclasses.dataclass(frozen=True, order=True)
    ... class Plain:
    ...     number: int
    ...     owner: int
    >>> @functools.total_ordering
    ... @dataclasses.dataclass(frozen=True)
    ... class Own:
    ...     owner: int
    ...     number: int
    ...     def __lt__(self, other):
    ...         return (self.number, self.owner) < (other.number, other.owner)
    >>> class Level(enum.IntEnum):
    ...     LOW = 2
    ...     HIGH = 1
    >>> orders_itself(Plain), orders_itself(Own), orders_itself(Level), orders_itself(tuple)
    (False, True, True, False)
    """
    if isinstance(cls, enum.EnumMeta):
        return any(getattr(cls, m) is not getattr(object, m) for m in _ORDER_METHODS)
    for method in _ORDER_METHODS:
        owner = next((k for k in cls.__mro__ if method in vars(k)), object)
        if owner is object or owner.__module__ == "builtins":
            continue
        params = vars(owner).get("__dataclass_params__")
        if params is not None and params.order:
            continue  # generated by @dataclass(order=True): the fields in their order
        return True
    return False


def _slot_attributes(cls: type) -> tuple[str, ...]:
    """The instance attributes that live in ``cls``'s slots (base classes first, names mangled).

    >>> @dataclasses.dataclass(slots=True)
    ... class Point:
    ...     x: int
    ...     y: int
    >>> _slot_attributes(Point)
    ('x', 'y')
    """
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        slots = klass.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            if slot.startswith("__") and not slot.endswith("__"):
                slot = f"_{klass.__name__.lstrip('_')}{slot}"
            if slot not in names:
                names.append(slot)
    return tuple(names)
