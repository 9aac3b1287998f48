"""What changed between two consecutive states of a trace, for people to read.

Works on :meth:`Model.describe` views (nested dicts, lists and scalars): a
dict is compared key by key (a key one side lacks is ``(absent)`` there), a
list as a multiset of items (added ``+`` / removed ``-``, with a count when
more than one copy came or went: ``+2× msg``), anything else as a value.

Values are shown as Python-like literals (:func:`show_value`): a dict with
braces (``{1: 0, 2: 0}``, ``{}`` when empty), numbers and ``None`` as
themselves. Strings in a view are the model's own text for a value
(``Follower``, ``'v1'``, ``[#1 t2 v1]``) and are shown as they are.

Examples
--------
>>> before = {"maxBal": {"a1": -1, "a2": -1}, "msgs": ["1a(b=0)"]}
>>> after = {"maxBal": {"a1": 0, "a2": -1}, "msgs": ["1a(b=0)", "1b(a=a1, b=0)", "1b(a=a1, b=0)"]}
>>> for c in changes(before, after):
...     print(c)
maxBal.a1: -1 -> 0
msgs: +2× 1b(a=a1, b=0)
>>> print(changes({"n0": {}}, {"n0": {"acks": {1: "0"}}})[0])
n0.acks: (absent) -> {1: 0}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

__all__ = ["ABSENT", "Change", "changes", "flatten", "show_value"]


class _Absent:
    """The value of a key that one of the two views does not have."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(absent)"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()
"""The old value of a key that appeared in a step, or the new value of one that went away."""


def show_value(value: Any) -> str:
    """A ``describe()`` value as one line of text, as a Python-like literal.

    Dicts get braces and ``key: value`` items, lists are shown as the
    multisets they stand for (``{a, 2× b}``), numbers, booleans and ``None``
    as Python prints them; a string is the model's text for a value and is
    shown as it is.

    Examples
    --------
    >>> show_value({"1": "0", "2": None})
    '{1: 0, 2: None}'
    >>> show_value({}), show_value([]), show_value(["m", "m", "k"]), show_value(ABSENT)
    ('{}', '{}', '{2× m, k}', '(absent)')
    """
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show_value(k)}: {show_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "{" + ", ".join(_counted(value)) + "}"
    if isinstance(value, str):
        return value
    return repr(value)


def _counted(items: Any, sign: str = "") -> list[str]:
    """Items with their multiplicity, in order of first appearance: ``["2× m", "k"]`` (``sign`` before each)."""
    counts = Counter(_key(x) for x in items)
    seen: dict[str, Any] = {}
    for x in items:
        seen.setdefault(_key(x), x)
    out = []
    for key, x in seen.items():
        n = counts[key]
        text = show_value(x)
        out.append(f"{sign}{n}× {text}" if n > 1 else f"{sign} {text}" if sign else text)
    return out


def _key(item: Any) -> str:
    return item if isinstance(item, str) else repr(item)


@dataclass(frozen=True)
class Change:
    """One difference: ``path`` (dotted), and either old/new values or added/removed items.

    ``added`` and ``removed`` hold one entry per copy (a message sent twice is
    there twice); ``old`` or ``new`` is :data:`ABSENT` for a key one side lacks.
    """

    path: str
    old: Any = None
    new: Any = None
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.added or self.removed:
            parts = _counted(self.added, "+") + _counted(self.removed, "-")
            return f"{self.path}: {', '.join(parts)}"
        return f"{self.path}: {show_value(self.old)} -> {show_value(self.new)}"


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """The differences from ``before`` to ``after``, in the order of ``after``'s keys."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for key in list(after) + [k for k in before if k not in after]:
            sub = f"{path}.{key}" if path else str(key)
            out += changes(before.get(key, ABSENT), after.get(key, ABSENT), sub)
        return out
    if isinstance(before, list) and isinstance(after, list):
        old = Counter(_key(x) for x in before)
        new = Counter(_key(x) for x in after)
        added = tuple(x for x in _surplus(after, new - old))
        removed = tuple(x for x in _surplus(before, old - new))
        return [Change(path or "state", added=added, removed=removed)] if added or removed else []
    if before != after:
        return [Change(path or "state", old=before, new=after)]
    return []


def _surplus(items: list[Any], extra: Counter[str]) -> list[Any]:
    """The copies of ``items`` counted in ``extra`` (the last copies of each), in their order."""
    wanted = Counter(extra)
    out = []
    for x in reversed(items):
        if wanted[_key(x)] > 0:
            wanted[_key(x)] -= 1
            out.append(x)
    return out[::-1]


def flatten(view: Any, path: str = "") -> list[tuple[str, Any]]:
    """A describe() view as ``(dotted path, value)`` pairs, lists kept whole.

    >>> flatten({"maxBal": {"a1": -1}, "msgs": []})
    [('maxBal.a1', -1), ('msgs', [])]
    """
    if isinstance(view, dict):
        out: list[tuple[str, Any]] = []
        for key, value in view.items():
            out += flatten(value, f"{path}.{key}" if path else str(key))
        return out
    return [(path or "state", view)]
