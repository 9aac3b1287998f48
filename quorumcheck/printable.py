"""Text from a student's code, made safe to print and to draw: what it holds is shown, never obeyed.

A student chooses the names of its classes, attributes, timers, enum members
and record fields, the text of its exceptions, and what it prints. Printed as
they are, a name holding ``\\x1b[2J`` would clear the grader's terminal (and a
newline would forge a line of the report, a fake verdict say); drawn as they
are, a control character makes Graphviz's SVG output ill-formed XML, which it
refuses. :func:`printable` writes every character that is not printable as
Python's ``repr()`` would, and leaves the rest, ordinary Unicode included, as it
is: a name that was printable prints unchanged.

Examples
--------
>>> printable("RaftNode\\x1b[2J\\x1b[HHOLDS")
'RaftNode\\\\x1b[2J\\\\x1b[HHOLDS'
>>> print(printable("election\\x0b"), printable("Evil\\nHOLDS"), printable("évité ⏎ λ→μ"))
election\\x0b Evil\\nHOLDS évité ⏎ λ→μ
"""

from __future__ import annotations

from typing import Any

__all__ = ["printable"]


def printable(text: Any) -> str:
    """``str(text)`` with each character that is not printable (C0 and C1 controls, ``DEL``, newlines and tabs,
    bidirectional overrides and other format characters, unassigned code points) written out as ``repr()``
    writes it in a string (``\\x1b``, ``\\n``, ``\\u202e``); everything printable, backslashes included, as it is.

    The result is one line, holds no character a terminal obeys, and is valid in XML 1.0.

    Examples
    --------
    >>> printable("ok: n0 -> n1 · 'v1'")
    "ok: n0 -> n1 · 'v1'"
    >>> printable("\\t\\r\\x00\\x7f\\x85\\u202e\\U000e0001") == r"\\t\\r\\x00\\x7f\\x85\\u202e\\U000e0001"
    True
    >>> printable(3)
    '3'
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
