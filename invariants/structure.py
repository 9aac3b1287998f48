"""How a model exposes a state as a finite structure over its signature.

A model gives one :class:`Interpretation`: the elements of every sort (fixed for
the model instance: acceptors, values, ballots 0..B, ...), and for every
relation and function either a *reader* -- a function of the state -- or a
fixed value (a *static* symbol, such as quorum membership, which is the same in
every state). Readers must be cheap and return hashable values, because the
values of the symbols a property reads are its cache key:

* a relation reads as a ``frozenset`` of element tuples (Paxos's ``vote`` is
  simply the state's set of 2b messages, ``(acceptor, ballot, value)``);
* a function reads as a ``tuple`` of results, one per argument tuple in the
  order of ``itertools.product`` over the domain sorts' elements (a unary
  function over servers is the state's per-server tuple itself).

Elements are ints for ordered sorts and any hashable value otherwise; the
``display`` functions turn elements into the names people read (``a1``).

Examples
--------
>>> from quorumcheck.invariants.language import Signature, Sort
>>> Acceptor, Ballot = Sort("Acceptor"), Sort("Ballot", ordered=True)
>>> sig = Signature("tiny", [Acceptor, Ballot])
>>> promised = sig.function("promised", [Acceptor], Ballot)
>>> interp = Interpretation(sig, {"Acceptor": (0, 1), "Ballot": (-1, 0, 1)},
...                         {"promised": lambda state: state},
...                         display={"Acceptor": lambda a: f"a{a + 1}"})
>>> interp.read("promised", (1, -1))
(1, -1)
>>> interp.show("Acceptor", 1)
'a2'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from quorumcheck.errors import InvalidFormula

from .language import Function, Relation, Signature, Sort

__all__ = ["Interpretation", "Derived"]

Reader = Callable[[Any], Hashable]


class Derived:
    """A symbol whose value is computed from a cheaper *source* part of the state.

    The source is what the property cache keys on; ``derive`` runs only on a
    cache miss. Several symbols may share one source (Raft's ``log_len``,
    ``log_term`` and ``log_value`` all derive from the servers' logs), which
    then counts once in the footprint.

    >>> logs = lambda state: state  # the source: a tuple of logs
    >>> length = Derived(logs, lambda ls: tuple(len(l) for l in ls))
    >>> length.derive(length.source(((1, 1), (1,))))
    (2, 1)
    """

    __slots__ = ("source", "derive")

    def __init__(self, source: Reader, derive: Callable[[Any], Hashable]) -> None:
        self.source, self.derive = source, derive


class Interpretation:
    """The finite structure of a model's states over a signature.

    Parameters
    ----------
    signature : Signature
    universe : mapping of sort name to a tuple of elements
    symbols : mapping of symbol name to a reader ``f(state)``, a :class:`Derived`, or a fixed value
    display : mapping of sort name to ``f(element) -> str``, optional
    """

    def __init__(
        self,
        signature: Signature,
        universe: Mapping[str, tuple[Any, ...]],
        symbols: Mapping[str, Reader | Hashable],
        *,
        display: Mapping[str, Callable[[Any], str]] | None = None,
    ) -> None:
        self.signature = signature
        missing = [s for s in signature.sorts if s not in universe]
        if missing:
            raise InvalidFormula(f"interpretation of {signature.name} gives no elements for sort(s) {', '.join(missing)}")
        for name, elements in universe.items():
            sort = signature.sorts.get(name)
            if sort is None:
                raise InvalidFormula(f"interpretation of {signature.name} names unknown sort {name!r}")
            if not elements:
                raise InvalidFormula(f"sort {name} of {signature.name} has no elements; every sort needs at least one")
            if sort.ordered and not all(isinstance(e, int) for e in elements):
                raise InvalidFormula(f"ordered sort {name} must have int elements")
        self.universe = {name: tuple(elements) for name, elements in universe.items()}
        unknown = [n for n in symbols if n not in signature.symbols]
        if unknown:
            raise InvalidFormula(f"interpretation of {signature.name} reads unknown symbol(s) {', '.join(unknown)}")
        absent = [n for n in signature.symbols if n not in symbols]
        if absent:
            raise InvalidFormula(f"interpretation of {signature.name} gives no reader for {', '.join(absent)}")
        self.readers: dict[str, Reader] = {}
        self.static: dict[str, Hashable] = {}
        self.sources: dict[str, Reader] = {}
        """Per dynamic symbol: the function of the state its cache key reads."""
        self.derivations: dict[str, Callable[[Any], Hashable] | None] = {}
        for name, reader in symbols.items():
            if isinstance(reader, Derived):
                self.sources[name], self.derivations[name] = reader.source, reader.derive
                self.readers[name] = _compose(reader.derive, reader.source)
            elif callable(reader):
                self.readers[name] = self.sources[name] = reader
                self.derivations[name] = None
            else:
                self.static[name] = reader
        self.display = dict(display or {})
        self._positions: dict[str, dict[tuple[Any, ...], int]] = {}

    def footprint_sources(self, names: list[str]) -> list[Reader]:
        """The distinct sources behind these dynamic symbols, in order (the cache key's parts)."""
        out: list[Reader] = []
        for name in names:
            source = self.sources[name]
            if not any(source is s for s in out):
                out.append(source)
        return out

    def values(self, names: list[str], state: Any) -> dict[str, Any]:
        """The values of these symbols (and every static one) in ``state``, each source read once."""
        out = dict(self.static)
        read: dict[int, Any] = {}
        for name in names:
            source = self.sources[name]
            raw = read.get(id(source))
            if raw is None:
                raw = read[id(source)] = source(state)
            derive = self.derivations[name]
            out[name] = raw if derive is None else derive(raw)
        return out

    def elements(self, sort: Sort) -> tuple[Any, ...]:
        """The elements of ``sort``."""
        return self.universe[sort.name]

    def read(self, name: str, state: Any) -> Hashable:
        """The value of symbol ``name`` in ``state``."""
        if name in self.static:
            return self.static[name]
        return self.readers[name](state)

    def is_static(self, name: str) -> bool:
        """True when the symbol has one value in every state."""
        return name in self.static

    def show(self, sort_name: str, element: Any) -> str:
        """An element as people read it."""
        f = self.display.get(sort_name)
        return f(element) if f is not None else str(element)

    def position(self, function: Function, args: tuple[Any, ...]) -> int:
        """Index of ``args`` in a function value's tuple (``itertools.product`` order)."""
        table = self._positions.get(function.name)
        if table is None:
            domains = [self.universe[s.name] for s in function.domain]
            table = {combo: i for i, combo in enumerate(itertools.product(*domains))}
            self._positions[function.name] = table
        return table[args]
    def check_value(self, symbol: Relation | Function, value: Any) -> None:
        """Validate one symbol value's shape (used by tests and by ``Interpretation`` users)."""
        if isinstance(symbol, Relation):
            if not isinstance(value, (frozenset, set)):
                raise InvalidFormula(f"relation {symbol.name} must read as a frozenset of tuples, got {type(value).__name__}")
        else:
            size = 1
            for s in symbol.domain:
                size *= len(self.universe[s.name])
            if not isinstance(value, tuple) or len(value) != size:
                raise InvalidFormula(f"function {symbol.name} must read as a tuple of {size} results")


def _compose(derive: Callable[[Any], Hashable], source: Reader) -> Reader:
    return lambda state: derive(source(state))
