"""Writing DOT text, and running Graphviz's ``dot`` on it.

The drawings in :mod:`quorumcheck.render` are DOT source text built with the
small helpers here (quoting, attribute lists, HTML-like labels). Turning DOT
into SVG or PNG needs the real Graphviz ``dot`` program; :func:`find_dot`
looks it up on ``PATH`` and :func:`run_dot` raises :class:`GraphvizMissing`
when it is not there, so that callers can fall back to writing DOT files.

Examples
--------
>>> quote('say "hi"')
'"say \\\\"hi\\\\""'
>>> attributes(shape="box", label="a b")
'[shape="box", label="a b"]'
>>> html_text("a < b & c")
'a &lt; b &amp; c'
"""

from __future__ import annotations

import html
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

__all__ = [
    "FORMATS",
    "INSTALL_HINT",
    "GraphvizError",
    "GraphvizMissing",
    "attributes",
    "find_dot",
    "html_text",
    "quote",
    "run_dot",
]

FORMATS = ("dot", "svg", "png")
"""The file formats a drawing can be written in (``dot`` needs no Graphviz)."""

INSTALL_HINT = "install Graphviz (apt-get install graphviz) to get SVG and PNG"
"""What to tell a user whose machine has no ``dot``."""

FONT = "DejaVu Sans"
"""The font of every drawing: installed with Graphviz on Debian, readable when small."""

MONO = "DejaVu Sans Mono"


class GraphvizMissing(RuntimeError):
    """Graphviz's ``dot`` program is not installed (not found on ``PATH``)."""


class GraphvizError(RuntimeError):
    """``dot`` ran but failed (a bug in the DOT text we generated)."""


def quote(text: Any) -> str:
    """``text`` as a double-quoted DOT string (backslashes, quotes and newlines escaped).

    Examples
    --------
    >>> print(quote("two\\nlines"))
    "two\\nlines"
    """
    body = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{body}"'


def html_text(text: Any) -> str:
    """``text`` escaped for a Graphviz HTML-like label (``<``, ``>``, ``&``, quotes).

    Examples
    --------
    >>> html_text('"x" -> y')
    '&quot;x&quot; -&gt; y'
    """
    return html.escape(str(text), quote=True)


def attributes(**attrs: Any) -> str:
    """A DOT attribute list; values that are HTML-like labels (``<...>``) are kept as they are.

    ``None`` values are left out. A label that starts with ``<`` and ends with
    ``>`` is an HTML-like label and is written unquoted (escape its text with
    :func:`html_text`).

    Examples
    --------
    >>> attributes(label="<<b>x</b>>", color=None, penwidth=2)
    '[label=<<b>x</b>>, penwidth="2"]'
    """
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        text = str(value)
        if key in ("label", "xlabel", "headlabel", "taillabel") and text.startswith("<") and text.endswith(">"):
            parts.append(f"{key}={text}")
        else:
            parts.append(f"{key}={quote(text)}")
    return "[" + ", ".join(parts) + "]"


def find_dot() -> str | None:
    """The path of Graphviz's ``dot`` program, or ``None`` when it is not on ``PATH``.

    Examples
    --------
    >>> find_dot() is None or find_dot().endswith("dot")
    True
    """
    return shutil.which("dot")


def run_dot(source: str, fmt: str, *, args: Sequence[str] = (), timeout: float = 120.0) -> bytes:
    """Lay out DOT ``source`` with Graphviz and return the output in format ``fmt`` (``svg``, ``png``).

    ``args`` are extra ``dot`` options, such as ``("-Kneato", "-n2")`` for a
    drawing whose node and edge positions are fixed in the source.

    Raises
    ------
    GraphvizMissing
        When ``dot`` is not installed.
    GraphvizError
        When ``dot`` rejects the source or times out.

    Examples
    --------
    >>> find_dot() is None or run_dot("digraph { a -> b }", "svg").startswith(b"<?xml")
    True
    """
    exe = find_dot()
    if exe is None:
        raise GraphvizMissing(f"Graphviz's dot was not found on PATH; {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [exe, *args, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise GraphvizError(f"dot -T{fmt} did not finish within {timeout:.0f} s") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GraphvizError(f"dot -T{fmt} failed: {message[0] if message else f'exit status {done.returncode}'}")
    return done.stdout

