"""How a model declares interchangeable elements, and how a permutation acts on them.

A *sort* of a model is symmetric (a scalarset, in Ip and Dill's words) when
renaming its elements maps every behaviour of the model to another behaviour:
the acceptors and the values of Paxos, the servers and the values of Raft. A
model declares such sorts with :meth:`Model.symmetric_sorts
<quorumcheck.models.api.Model.symmetric_sorts>` (sort name to the number of
elements, numbered ``0..n-1`` inside the state) and implements
:meth:`Model.permute <quorumcheck.models.api.Model.permute>`, which applies one
:class:`Permutation` to a state. The explorer does the rest
(:mod:`quorumcheck.explorer.symmetry`): it stores one canonical state per orbit
and turns every counterexample back into a concrete trace.

Examples
--------
>>> p = Permutation({"Acceptor": (1, 2, 0)})
>>> p("Acceptor", 0), p("Acceptor", -1), p.mask("Acceptor", 0b011)
(1, -1, 6)
>>> p.place("Acceptor", ("x", "y", "z"))
('z', 'x', 'y')
>>> p.inverse()("Acceptor", 1)
0
>>> [str(q) for q in group({"Value": 2})]
['Value: id', 'Value: 0->1 1->0']
"""

from __future__ import annotations

import itertools
from operator import itemgetter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["Permutation", "group"]


class Permutation:
    """A renaming of the elements of one or more sorts: ``maps[sort][i]`` is the new name of ``i``.

    Elements are ints ``0..n-1``; a negative int (the ``-1`` that models use
    for "none") is left alone. Sorts not in ``maps`` are not renamed.

    Parameters
    ----------
    maps : mapping of str to tuple of int
        For each renamed sort, the image of every element.

    Examples
    --------
    >>> p = Permutation({"Server": (2, 0, 1)})
    >>> p("Server", 2), p("Value", 0), p.is_identity
    (1, 0, False)
    >>> p.reorder_fn("Server")(("a", "b", "c"))
    ('b', 'c', 'a')
    """

    __slots__ = ("_hash", "_key", "is_identity", "maps")

    def __init__(self, maps: Mapping[str, Sequence[int]]) -> None:
        self.maps: dict[str, tuple[int, ...]] = {k: tuple(v) for k, v in sorted(maps.items())}
        for sort, image in self.maps.items():
            if sorted(image) != list(range(len(image))):
                raise ValueError(f"{sort}: {image} is not a permutation of 0..{len(image) - 1}")
        self._key = tuple(self.maps.items())
        self._hash = hash(self._key)
        self.is_identity: bool = all(image == tuple(range(len(image))) for image in self.maps.values())
        """True when no element is renamed."""

    def __call__(self, sort: str, element: int) -> int:
        """The new name of ``element`` of ``sort`` (negative ints, "none", stay)."""
        image = self.maps.get(sort)
        if image is None or element < 0:
            return element
        return image[element]

    def of(self, sort: str) -> tuple[int, ...] | None:
        """The image tuple of ``sort``, or ``None`` when the sort is not renamed."""
        return self.maps.get(sort)

    def mask(self, sort: str, mask: int) -> int:
        """A bitmask of elements of ``sort``, renamed."""
        image = self.maps.get(sort)
        if image is None:
            return mask
        out = 0
        i = 0
        while mask:
            if mask & 1:
                out |= 1 << image[i]
            mask >>= 1
            i += 1
        return out

    def place(self, sort: str, seq: Sequence[Any]) -> tuple[Any, ...]:
        """A sequence indexed by ``sort``, re-indexed: element ``i``'s entry moves to position ``p(i)``."""
        image = self.maps.get(sort)
        if image is None:
            return tuple(seq)
        out: list[Any] = [None] * len(seq)
        for i, x in enumerate(seq):
            out[image[i]] = x
        return tuple(out)

    def reorder_fn(self, sort: str) -> Any:
        """A fast function that does :meth:`place` for ``sort`` (for per-element tuples in hot loops)."""
        image = self.maps.get(sort)
        if image is None:
            return tuple
        inverse = [0] * len(image)
        for i, j in enumerate(image):
            inverse[j] = i
        if len(image) == 1:
            return tuple
        return itemgetter(*inverse)

    def inverse(self) -> Permutation:
        """The permutation that undoes this one."""
        maps = {}
        for sort, image in self.maps.items():
            inverse = [0] * len(image)
            for i, j in enumerate(image):
                inverse[j] = i
            maps[sort] = tuple(inverse)
        return Permutation(maps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Permutation) and self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        parts = []
        for sort, image in self.maps.items():
            moved = " ".join(f"{i}->{j}" for i, j in enumerate(image) if i != j)
            parts.append(f"{sort}: {moved or 'id'}")
        return "; ".join(parts) or "id"

    def __repr__(self) -> str:
        return f"Permutation({self.maps!r})"


def group(sorts: Mapping[str, int]) -> Iterator[Permutation]:
    """Every permutation of the product of the full symmetric groups of ``sorts``, identity first.

    With sorts of sizes n1, n2, ... there are n1! * n2! * ... of them (Paxos
    with 3 acceptors and 2 values: 12). This is the group TLC's
    ``Permutations(A) \\cup Permutations(V)`` generates: its orbits are what
    TLC's SYMMETRY counts.

    Examples
    --------
    >>> len(list(group({"Acceptor": 3, "Value": 2})))
    12
    >>> next(group({"Acceptor": 3})).is_identity
    True
    """
    names = sorted(sorts)
    for images in itertools.product(*(itertools.permutations(range(sorts[n])) for n in names)):
        yield Permutation(dict(zip(names, images)))
