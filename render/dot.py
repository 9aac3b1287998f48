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

import bisect
import html
import itertools
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
    "fit_rows",
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


HTML_TEXT_LIMIT = 300
"""The most characters of one text a label shows: Graphviz refuses an HTML-like label longer than 16,384
characters, and a node's state can print longer than that (a list of 2,000 numbers). The tooltips and the
report's tables show more (:data:`~quorumcheck.explorer.result.TEXT_SHOWN` characters of each value), the trace file
keeps the whole text."""

PLAIN_LINE_LIMIT = 1_000
"""The most characters of one line of a tooltip (:func:`plain`)."""

PLAIN_TEXT_LIMIT = 12_000
"""The most characters of a whole tooltip, escaped: Graphviz reads no quoted string longer than 16,384."""

HTML_LABEL_LIMIT = 14_000
"""The most characters of markup one label's rows may take (:func:`fit_rows`), under Graphviz's 16,384."""


def html_text(text: Any, limit: int = HTML_TEXT_LIMIT) -> str:
    """``text`` escaped for a Graphviz HTML-like label (``<``, ``>``, ``&``, quotes), on one line, with what is
    not printable written out, and cut after ``limit`` characters.

    Examples
    --------
    >>> html_text('"x" -> y')
    '&quot;x&quot; -&gt; y'
    >>> html_text("p\\\\")  # Graphviz folds two backslashes into one, even in an HTML label
    'p\\\\\\\\'
    >>> print(html_text("t\\x1b[2J\\x0b"))  # each written out (its backslash doubled, as any other)
    t\\\\x1b[2J\\\\x0b
    >>> html_text("n0.big: [" + "1, " * 400 + "]", limit=20)
    'n0.big: [1, 1, 1, 1,… (1,190 characters more)'
    """
    shown = printable(text)
    if len(shown) > limit:
        shown = f"{shown[:limit]}… ({len(shown) - limit:,} characters more)"
    return html.escape(shown, quote=True).replace("\\", "\\\\")


def fit_rows(rows: list[str], more: str, budget: int = HTML_LABEL_LIMIT) -> list[str]:
    """The first of ``rows`` (each a label's markup) that fit in ``budget`` characters, then ``more`` (markup
    with ``{n}``, the number of rows left out), so that a label stays within what Graphviz reads.

    Examples
    --------
    >>> fit_rows(["<tr>a</tr>"] * 5, "<tr>{n} more</tr>", budget=40)
    ['<tr>a</tr>', '<tr>a</tr>', '<tr>3 more</tr>']
    >>> fit_rows(["<tr>a</tr>"] * 2, "<tr>{n} more</tr>", budget=40)
    ['<tr>a</tr>', '<tr>a</tr>']
    """
    if sum(map(len, rows)) <= budget:
        return rows
    kept: list[str] = []
    used = len(more)
    for row in rows:
        if used + len(row) > budget:
            break
        kept.append(row)
        used += len(row)
    return kept + [more.format(n=f"{len(rows) - len(kept):,}")]


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
    >>> len(plain("x" * 5_000)), plain("x" * 5_000)[-30:]  # Graphviz reads no quoted string over 16,384 characters
    (1025, 'xxxxx… (4,000 characters more)')
    >>> plain("\\n".join(["y" * 900] * 20))[-14:]
    '… 7 more lines'
    """
    lines = []
    for line in map(printable, str(text).split("\n")):
        if len(line) > PLAIN_LINE_LIMIT:
            line = f"{line[:PLAIN_LINE_LIMIT]}… ({len(line) - PLAIN_LINE_LIMIT:,} characters more)"
        lines.append(line.replace("&", "&amp;").replace("\\", "\\\\"))
    # Graphviz refuses a quoted string longer than 16,384 characters (its quotes escaped, so counted twice).
    used = list(itertools.accumulate(len(line) + line.count('"') + 2 for line in lines))
    if used[-1] > PLAIN_TEXT_LIMIT:
        kept = bisect.bisect_right(used, PLAIN_TEXT_LIMIT - 40)
        lines = lines[:kept] + [f"… {len(lines) - kept:,} more lines"]
    return graphviz.nohtml("\\n".join(lines))


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
    except BrokenPipeError:  # it stopped reading what it was given: it refused the drawing part way
        raise GraphvizError(f"{engine} -T{fmt} failed: it stopped reading the drawing") from None
    except graphviz.CalledProcessError as e:
        stderr = e.stderr.decode("utf-8", "replace") if isinstance(e.stderr, bytes) else str(e.stderr or "")
        lines = stderr.strip().splitlines()
        raise GraphvizError(f"{engine} -T{fmt} failed: {lines[0] if lines else f'exit status {e.returncode}'}") from None
