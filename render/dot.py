"""Graphviz through the ``graphviz`` Python package: text helpers for labels, and running a layout engine.

The drawings in :mod:`quorumcheck.render` are :class:`graphviz.Digraph` objects;
the package writes their DOT text (quoting included) and runs Graphviz's
programs. What is left here is what the package leaves to its callers: escaping
text for an HTML-like label (:func:`html_text`) or for a plain attribute such as
a tooltip (:func:`plain`), each with what is not printable written out
(:func:`quorumcheck.printable.printable`: a student's timer named ``"election\\x0b"``
is drawn as ``election\\x0b``, since XML 1.0, and so Graphviz's SVG, has no place for
most control characters, even escaped), and :func:`pipe`, which runs an engine and
turns the package's errors into ours, so that a missing Graphviz is one line saying
how to install it.

Examples
--------
>>> html_text("a < b & c")
'a &lt; b &amp; c'
>>> import graphviz
>>> g = graphviz.Digraph("g")
>>> g.node("a", tooltip=plain('say "hi"\\nand <go>'))
>>> print(g.source.splitlines()[1].strip())
a [tooltip="say \\"hi\\"\\nand <go>"]
"""

from __future__ import annotations

import html
import shutil
from typing import Any

import graphviz

from quorumcheck.printable import printable

__all__ = [
    "FONT",
    "INSTALL_HINT",
    "MONO",
    "GraphvizError",
    "GraphvizMissing",
    "find_dot",
    "html_text",
    "pipe",
    "plain",
]

INSTALL_HINT = "install Graphviz (apt-get install graphviz) to get SVG and PNG"
"""What to tell a user whose machine has no ``dot``."""

FONT = "DejaVu Sans"
"""The font of every drawing: installed with Graphviz on Debian, readable when small."""

MONO = "DejaVu Sans Mono"


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` program is not installed (not found on ``PATH``)."""


class GraphvizError(RuntimeError):
    """``dot`` ran but failed (a bug in the DOT text we generated)."""


def html_text(text: Any) -> str:
    """``text`` escaped for a Graphviz HTML-like label (``<``, ``>``, ``&``, quotes), on one line, with what is
    not printable written out.

    Examples
    --------
    >>> html_text('"x" -> y')
    '&quot;x&quot; -&gt; y'
    >>> html_text("p\\\\")  # Graphviz folds two backslashes into one, even in an HTML label
    'p\\\\\\\\'
    >>> print(html_text("t\\x1b[2J\\x0b"))  # each written out (its backslash doubled, as any other)
    t\\\\x1b[2J\\\\x0b
    """
    return html.escape(printable(text), quote=True).replace("\\", "\\\\")


def plain(text: Any) -> str:
    """``text`` as a literal attribute value: backslashes kept, newlines as line breaks, never an HTML label.

    For attributes such as ``tooltip`` that Graphviz reads as escape strings
    (where ``\\n`` is a line break and ``\\N`` the node's name).

    Examples
    --------
    >>> print(plain("C:\\\\x\\ntwo"))
    C:\\\\x\\ntwo
    >>> print(plain("&lt;v&gt;"))  # SVG keeps what looks like an entity: the ampersand is escaped first
    &amp;lt;v&amp;gt;
    >>> print(plain("t\\x0b\\x1b"))  # what is not printable is written out (newlines stay line breaks)
    t\\\\x0b\\\\x1b
    """
    return graphviz.nohtml("\\n".join(printable(line).replace("&", "&amp;").replace("\\", "\\\\")
                                       for line in str(text).split("\n")))


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` program, or ``None`` when it is not on ``PATH``.

    Examples
    --------
    >>> find_dot() is None or find_dot().endswith("dot")
    True
    """
    return shutil.which("dot")


def pipe(drawing: graphviz.Digraph, fmt: str, *, engine: str = "dot", neato_no_op: int | None = None) -> bytes:
    """Lay out ``drawing`` with Graphviz's ``engine`` and return the output in format ``fmt`` (``svg``, ``png``).

    ``neato_no_op=2`` (with ``engine="neato"``) draws a graph whose node and
    edge positions are fixed in it exactly as given (``neato -n2``).

    Raises
    ------
    GraphvizMissing
        When Graphviz is not installed (one line saying how to install it).
    GraphvizError
        When Graphviz rejects the drawing.

    Examples
    --------
    >>> import graphviz
    >>> g = graphviz.Digraph()
    >>> g.edge("a", "b")
    >>> find_dot() is None or pipe(g, "svg").startswith(b"<?xml")
    True
    """
    try:
        return drawing.pipe(format=fmt, engine=engine, neato_no_op=neato_no_op, quiet=True)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissing(f"Graphviz's dot was not found on PATH; {INSTALL_HINT}") from None
    except graphviz.CalledProcessError as e:
        stderr = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else str(e.stderr or "")
        lines = stderr.strip().splitlines()
        raise GraphvizError(f"{engine} -T{fmt} failed: {lines[0] if lines else f'exit status {e.returncode}'}") from None
