"""What changed between two consecutive states of a trace, for people to read.

Works on :meth:`Model.describe` views (nested dicts, lists and scalars): a
dict is compared key by key, a list as a set of items (added ``+`` / removed
``-``), anything else as a value.

Examples
--------
>>> before = {"maxBal": {"a1": -1, "a2": -1}, "msgs": ["1a(b=0)"]}
>>> after = {"maxBal": {"a1": 0, "a2": -1}, "msgs": ["1a(b=0)", "1b(a=a1, b=0)"]}
>>> for c in changes(before, after):
...     print(c)
maxBal.a1: -1 -> 0
msgs: + 1b(a=a1, b=0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "changes", "flatten"]


@dataclass(frozen=True)
class Change:
    """One difference: ``path`` (dotted), and either old/new values or added/removed items."""

    path: str
    old: Any = None
    new: Any = None
    added: tuple[Any, ...] = ()
    removed: tuple[Any, ...] = ()

    def __str__(self) -> str:
        if self.added or self.removed:
            parts = [f"+ {x}" for x in self.added] + [f"- {x}" for x in self.removed]
            return f"{self.path}: {', '.join(parts)}"
        return f"{self.path}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    return "None" if value is None else str(value)


def changes(before: Any, after: Any, path: str = "") -> list[Change]:
    """The differences from ``before`` to ``after``, in the order of ``after``'s keys."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[Change] = []
        for key in list(after) + [k for k in before if k not in after]:
            sub = f"{path}.{key}" if path else str(key)
            out += changes(before.get(key), after.get(key), sub)
        return out
    if isinstance(before, list) and isinstance(after, list):
        old = {repr(x): x for x in before}
        new = {repr(x): x for x in after}
        added = tuple(new[k] for k in new if k not in old)
        removed = tuple(old[k] for k in old if k not in new)
        return [Change(path or "state", added=added, removed=removed)] if added or removed else []
    if before != after:
        return [Change(path or "state", old=before, new=after)]
    return []


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
