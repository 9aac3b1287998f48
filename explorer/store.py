"""Where the search keeps the states it has seen: state objects, or 64-bit fingerprints.

The breadth-first loop in :mod:`quorumcheck.explorer.search` asks its store two
things: "have you seen this state?" (:meth:`find`) and "remember this one, reached
from that node by that action" (:meth:`add`). Two stores answer:

* :class:`ObjectStore` (the default, ``--store objects``) keeps every state
  object in a dict. Its verdict is exact.
* :class:`FingerprintStore` (``--store fingerprints``) keeps, per state, a 64-bit
  fingerprint of a canonical, process-independent encoding of the state (see
  :class:`Fingerprinter`) in an open-addressing table of 8-byte slots, plus the
  state's parent in a compact array. It keeps no state objects, so a run needs a
  few tens of bytes per state instead of hundreds. Two different states with the
  same fingerprint would be taken for one (the second never expanded), so a HOLDS
  verdict is exact only up to that chance: :meth:`FingerprintStore.collision_probability`
  estimates it, as TLC does. A counterexample is rebuilt by re-executing the model
  from the initial state along the fingerprints of its path.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=1), store="fingerprints", keep_graph=False)
>>> r.verdict.value, r.distinct_states, r.depth
('holds', 3921, 17)
"""

from __future__ import annotations

import dataclasses
import struct
import sys
from array import array
from collections.abc import Callable, Iterable
from typing import Any

import xxhash

from quorumcheck.models.api import Action

from quorumcheck.errors import InvalidModel

from .result import Step, Trace

__all__ = ["STORES", "FingerprintStore", "FingerprintTable", "Fingerprinter", "KeySet", "ObjectStore", "make_store", "reexecute"]

STORES = ("objects", "fingerprints")
"""The names ``explore(store=...)`` and ``--store`` accept."""

_MASK = (1 << 64) - 1
_h = xxhash.xxh3_64_intdigest
_TUPLE_SEED, _SET_SEED, _INT_SEED, _STR_SEED, _FLOAT_SEED = 0x7475706C65, 0x736574, 0x696E74, 0x737472, 0x666C74
_NONE = _h(b"None")
_pack = struct.Struct


class Fingerprinter:
    """A 64-bit fingerprint of a state's value, the same in every process and on every machine.

    The fingerprint is a function of the state's *value* as Python's ``==`` sees it,
    so it agrees with the object store on which states are the same: tuples
    (named or not) by their items in order, ``frozenset`` and ``set`` by their
    elements in any order, ``dict`` by its items, ``int`` (and ``bool``, which
    equals ``0`` or ``1``), ``float`` (as the int it equals, else by its IEEE
    bytes), ``str``, ``bytes``, ``None``. It is built with xxHash
    (XXH3) from the parts' fingerprints, never from Python's ``hash()``, whose
    value for a string changes with every process (``PYTHONHASHSEED``).

    Sets are combined by a sum of their elements' fingerprints (order-free), then
    mixed again. Fingerprints of recently seen parts are kept in a bounded memo,
    because a state's successors share most of its parts.

    Examples
    --------
    >>> f = Fingerprinter()
    >>> f((1, frozenset({"a", "b"}))) == f((1, frozenset({"b", "a"})))
    True
    >>> f((1, 2)) == f((2, 1))
    False
    >>> 0 < f((1, "x")) < 2 ** 64
    True
    """

    def __init__(self, memo_limit: int = 1 << 16) -> None:
        self._memo: dict[Any, int] = {None: _NONE}
        self._limit = memo_limit
        self._packers: dict[int, struct.Struct] = {}

    def __call__(self, value: Any) -> int:
        f = self._part(value)
        return f or 1  # 0 marks an empty slot in FingerprintTable

    def _part(self, x: Any) -> int:
        """The fingerprint of ``x``: from the memo, or computed (and memoised)."""
        try:
            f = self._memo.get(x)
        except TypeError:  # unhashable (a list or dict inside a state): no memo
            return self._fresh(x, False)
        return self._fresh(x, True) if f is None else f

    def _fresh(self, x: Any, hashable: bool) -> int:
        """Compute the fingerprint of ``x``, which is not in the memo, and memoise it if ``hashable``."""
        t = type(x)
        if t is int or t is bool:
            f = _h(b"%d" % x, _INT_SEED)
        elif t is str:
            f = _h(x.encode("utf-8", "surrogatepass"), _STR_SEED)
        elif x is None:
            return _NONE
        elif isinstance(x, tuple):
            n = len(x)
            packer = self._packers.get(n)
            if packer is None:
                packer = self._packers[n] = _pack(f"<{n}Q")
            f = _h(packer.pack(*self._parts(x)), _TUPLE_SEED + n)
        elif isinstance(x, (frozenset, set)):
            f = _h(struct.pack("<QQ", sum(self._parts(x)) & _MASK, len(x)), _SET_SEED)
        elif isinstance(x, dict):
            part = self._part
            f = _h(struct.pack("<QQ", sum(part((k, v)) for k, v in x.items()) & _MASK, len(x)), _SET_SEED + 1)
        elif isinstance(x, bytes):
            f = _h(x, _STR_SEED + 1)
        elif t is float:  # 2.0 == 2, so it fingerprints as the int; any other float by its IEEE bytes
            if x.is_integer():
                return self._part(int(x))
            f = _h(struct.pack("<d", x), _FLOAT_SEED)
        elif isinstance(x, (int, str)):  # subclasses (enums over int or str) compare as their value
            return self._part(int(x) if isinstance(x, int) else str(x))
        elif dataclasses.is_dataclass(x):  # equal only to the same class with equal fields
            f = self._part((type(x).__qualname__, tuple(getattr(x, a.name) for a in dataclasses.fields(x))))
        else:
            raise InvalidModel(
                f"cannot fingerprint a state holding a {t.__name__} ({x!r}); states for --store fingerprints must be "
                "built from tuples, frozensets, dicts, dataclasses, ints, floats, strs, bytes and None (or use --store objects)"
            )
        if hashable:
            memo = self._memo
            if len(memo) >= self._limit:
                memo.clear()
                memo[None] = _NONE
            memo[x] = f
        return f

    def _parts(self, x: tuple[Any, ...] | frozenset[Any] | set[Any]) -> list[int]:
        """The fingerprints of ``x``'s elements, in its iteration order.

        The elements are looked up in the memo in one pass at C speed (sibling
        states share most of their parts); only the missing ones are computed.
        """
        try:
            fps = list(map(self._memo.get, x))
        except TypeError:  # an unhashable element (a list inside a state): no memo for this one
            part = self._part
            return [part(e) for e in x]
        if None in fps:
            fresh = self._fresh
            return [fresh(e, True) if f is None else f for e, f in zip(x, fps)]
        return fps  # type: ignore[return-value]


class KeySet(set):  # type: ignore[type-arg]
    """The keys of the states a worker owns, with the object store: a plain ``set`` of ints.

    Faster than :class:`FingerprintTable` (its look-ups run in C, the table's in
    Python: 2.7 % of a Raft worker's time went to adding and probing keys), at
    about 60 bytes per key instead of 16 to 32; with the object store the states
    themselves take several times that.

    Examples
    --------
    >>> k = KeySet(); k.add(12345); 12345 in k, len(k), k.nbytes > 0
    (True, 1, True)
    """

    @property
    def nbytes(self) -> int:
        return sys.getsizeof(self) + len(self) * sys.getsizeof(1 << 63)


class FingerprintTable:
    """A set of nonzero 64-bit integers in one flat array of 8-byte slots (linear probing).

    It grows by doubling when more than half full, so it needs 16 to 32 bytes
    per fingerprint and holds no Python object per entry.

    Examples
    --------
    >>> t = FingerprintTable()
    >>> t.add(12345), t.add(12345), 12345 in t, 7 in t, len(t)
    (True, False, True, False, 1)
    """

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1
        while size < 2 * capacity:
            size <<= 1
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self._count = 0
        self._vacant = (0, 0)  # (fingerprint, empty slot) of the last failed look-up

    def __len__(self) -> int:
        return self._count

    def _slot(self, fp: int) -> int:
        """The slot that holds ``fp``, or the empty slot where it would go (linear probing)."""
        slots, mask = self._slots, self._mask
        i = fp & mask
        while True:
            s = slots[i]
            if s == fp or s == 0:
                return i
            i = (i + 1) & mask

    def __contains__(self, fp: int) -> bool:
        slots, mask = self._slots, self._mask
        i = fp & mask
        while True:  # _slot() inlined: this is called once per successor
            s = slots[i]
            if s == fp:
                return True
            if s == 0:
                self._vacant = (fp, i)  # where add() will put it, if it follows
                return False
            i = (i + 1) & mask

    def add(self, fp: int) -> bool:
        """Insert ``fp`` (nonzero); True if it was not there before."""
        known, i = self._vacant
        if known != fp or self._slots[i] != 0:
            i = self._slot(fp)
            if self._slots[i] == fp:
                return False
        self._slots[i] = fp
        self._count += 1
        if 2 * self._count > self._mask:
            self._grow()
        return True

    def _grow(self) -> None:
        self._vacant = (0, 0)
        old = self._slots
        size = 2 * len(old)
        slots = array("Q", bytes(8 * size))
        mask = size - 1
        for fp in old:
            if fp:
                i = fp & mask
                while slots[i]:
                    i = (i + 1) & mask
                slots[i] = fp
        self._slots, self._mask = slots, mask

    @property
    def nbytes(self) -> int:
        """Bytes held by the table's slots."""
        return len(self._slots) * 8


class ObjectStore:
    """Every state object in a dict (state -> node number): exact, and what the graph needs."""

    exact = True
    name = "objects"

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.states: list[Any] = []
        self.parent: list[int] = []
        self.via: list[Action | None] = []

    def __len__(self) -> int:
        return len(self.states)

    def find(self, state: Any) -> int | None:
        return self.ids.get(state)

    def add(self, state: Any, parent: int, action: Action | None) -> int:
        v = len(self.states)
        self.ids[state] = v
        self.states.append(state)
        self.parent.append(parent)
        self.via.append(action)
        return v

    def path(self, node: int) -> Trace[Any]:
        """The BFS-tree path from an initial state to ``node``."""
        nodes = []
        v = node
        while v >= 0:
            nodes.append(v)
            v = self.parent[v]
        nodes.reverse()
        return Trace(tuple(Step(self.via[n], self.states[n]) for n in nodes))

    def memory_bytes(self) -> int | None:
        return None


class FingerprintStore:
    """64-bit fingerprints in a :class:`FingerprintTable`, parents in compact arrays; no state objects.

    Parameters
    ----------
    successors : callable
        The model's successor function, to rebuild traces by re-execution.
    canonical : callable, optional
        The symmetry reduction's canonical form, applied before fingerprinting
        successors while rebuilding a trace (the stored fingerprints are of
        canonical states).
    """

    exact = False
    name = "fingerprints"

    def __init__(self, successors: Callable[[Any], Iterable[tuple[Action, Any]]],
                 canonical: Callable[[Any], Any] | None = None) -> None:
        self.fingerprint = Fingerprinter()
        self.table = FingerprintTable()
        self.fps = array("Q")
        self.parent = array("q")
        self.roots: list[Any] = []  # the initial states (few), where re-execution starts
        self._successors = successors
        self._canonical = canonical
        self._last: tuple[Any, int] = (None, 0)  # find() then add() of one state fingerprints it once

    def __len__(self) -> int:
        return len(self.fps)

    def find(self, state: Any) -> int | None:
        """-1 (seen: the node number is not kept) or None (new)."""
        last, fp = self._last
        if last is not state:
            fp = self.fingerprint(state)
            self._last = (state, fp)
        return -1 if fp in self.table else None

    def key(self, state: Any) -> int:
        """The state's fingerprint, kept for the :meth:`find` or :meth:`add` of the same state that follows."""
        fp = self.fingerprint(state)
        self._last = (state, fp)
        return fp

    def add(self, state: Any, parent: int, action: Action | None) -> int:
        last, fp = self._last
        if last is not state:
            fp = self.fingerprint(state)
        self.table.add(fp)
        v = len(self.fps)
        self.fps.append(fp)
        self.parent.append(parent)
        if parent < 0:
            self.roots.append(state)
        return v

    def path(self, node: int) -> Trace[Any]:
        """Rebuild the path to ``node`` by re-executing the model along its parents' fingerprints."""
        chain = []
        v = node
        while v >= 0:
            chain.append(self.fps[v])
            v = self.parent[v]
        chain.reverse()
        return reexecute(chain, self.roots, self._successors, self._canonical, self.fingerprint)

    def memory_bytes(self) -> int:
        """Bytes held per the store's arrays: the table, the fingerprints and the parents."""
        return self.table.nbytes + self.fps.itemsize * len(self.fps) + self.parent.itemsize * len(self.parent)

    def collision_probability(self, transitions: int, others: int = 0, other_lookups: int = 0) -> float:
        """An estimate of the chance that some state was wrongly taken as seen.

        Each of the ``transitions`` look-ups could meet any of the ``n`` stored
        fingerprints by chance, so the chance is at most about ``n × transitions / 2**64``
        (the union bound TLC's "calculated" estimate also rests on). ``others`` more
        fingerprints kept beside the store (the reduction by movers keeps those of the
        states met inside transactions), looked up ``other_lookups`` more times, count alike.
        """
        n = len(self) + others
        return min(1.0, n * max(transitions + other_lookups, 1) / 2.0 ** 64)


def reexecute(fingerprints: list[int], roots: list[Any], successors: Callable[[Any], Iterable[tuple[Action, Any]]],
              canonical: Callable[[Any], Any] | None, fingerprint: Callable[[Any], int]) -> Trace[Any]:
    """The trace through states with these fingerprints, found by re-executing the model from a root.

    Each step takes the first successor (canonicalised, when ``canonical`` is
    given) whose fingerprint is the next one, as TLC rebuilds its traces.
    """
    start = next(s for s in roots if fingerprint(s) == fingerprints[0])
    steps = [Step(None, start)]
    state = start
    for want in fingerprints[1:]:
        for action, t in successors(state):
            c = t if canonical is None else canonical(t)
            if fingerprint(c) == want:
                steps.append(Step(action, c))
                state = c
                break
        else:  # pragma: no cover - only a nondeterministic model gets here
            raise InvalidModel(
                f"re-executing a trace found no successor with the stored fingerprint at step {len(steps)}: the "
                "model's successors changed between two calls; it must be deterministic for --store fingerprints"
            )
    return Trace(tuple(steps))


def make_store(name: str, successors: Callable[[Any], Iterable[tuple[Action, Any]]],
               canonical: Callable[[Any], Any] | None) -> ObjectStore | FingerprintStore:
    """The store called ``name`` (one of :data:`STORES`)."""
    if name == "objects":
        return ObjectStore()
    return FingerprintStore(successors, canonical)

