"""Writing drawings and reports to files, with or without Graphviz.

DOT text needs nothing; SVG and PNG need Graphviz's ``dot``. When ``dot`` is
missing the DOT files are still written, the SVG and PNG are skipped, and the
returned :class:`Written` says so (``graphviz_missing``), so that the command
line can print one line on how to install Graphviz. The HTML report is always
written; without Graphviz it holds the trace table but no pictures.

Examples
--------
>>> import tempfile, pathlib
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> result = explore(model, properties=["agreement"])
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> written = render_counterexample(model, result.violation, folder, result=result, formats=("dot", "html"))
>>> sorted(p.name for p in written.paths)
['paxos-agreement-chart.dot', 'paxos-agreement-graph.dot', 'paxos-agreement-report.html']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import graphviz
from quorumcheck.explorer.result import CheckResult, Violation
from quorumcheck.models.api import Model

from .chart import sequence_chart
from .dot import INSTALL_HINT, find_dot, pipe
from .graphview import state_graph_view
from .report import html_report

__all__ = ["ALL_FORMATS", "Drawing", "Written", "draw", "render_counterexample", "write_drawing"]

ALL_FORMATS = ("dot", "svg", "png", "html")
"""What ``render_counterexample`` can write: the drawings as DOT, SVG and PNG, and the HTML report."""


class Drawing(Protocol):
    """What every drawing has: the :class:`graphviz.Digraph`, its DOT text, and how Graphviz lays it out."""

    @property
    def dot(self) -> graphviz.Digraph: ...

    @property
    def source(self) -> str: ...

    @property
    def engine(self) -> str: ...

    @property
    def neato_no_op(self) -> int | None: ...


@dataclass(frozen=True)
class Written:
    """What was written, and what was not."""

    paths: tuple[Path, ...]
    graphviz_missing: bool = False
    """True when ``dot`` was not found: SVG and PNG were skipped (DOT files were written)."""
    notes: tuple[str, ...] = ()
    """Lines for the user: what a graph view cut, what was skipped and why."""


def draw(drawing: Drawing, fmt: str) -> bytes:
    """``drawing`` in format ``fmt``: its DOT text for ``"dot"``, else the output of Graphviz's ``drawing.engine``.

    Raises :class:`~quorumcheck.render.dot.GraphvizMissing` (one line saying how to install
    Graphviz) when Graphviz is needed and not installed.

    Examples
    --------
    >>> from quorumcheck.render.dot import find_dot
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> v = explore(model, properties=["agreement"]).violation
    >>> chart = sequence_chart(model, v.trace, violation=v)
    >>> b"digraph chart {" in draw(chart, "dot")
    True
    >>> find_dot() is None or draw(chart, "svg").startswith(b"<?xml")
    True
    """
    if fmt == "dot":
        return drawing.source.encode("utf-8")
    return pipe(drawing.dot, fmt, engine=drawing.engine, neato_no_op=drawing.neato_no_op)


def write_drawing(drawing: Drawing, path: str | Path, formats: Sequence[str] = ("dot", "svg", "png")) -> Written:
    """Write ``drawing`` as ``path`` with each format's suffix (``chart.dot``, ``chart.svg``, ...).

    Without Graphviz only the DOT file is written (it is written then even
    when ``"dot"`` is not among ``formats``, so that nothing is lost), and
    ``graphviz_missing`` is set.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> v = explore(model, properties=["agreement"]).violation
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "chart"
    >>> [p.name for p in write_drawing(sequence_chart(model, v.trace, violation=v), out, ["dot"]).paths]
    ['chart.dot']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    missing = False
    for fmt in formats:
        if fmt != "dot" and find_dot() is None:
            missing = True
            continue
        target = path.with_name(f"{path.name}.{fmt}")
        target.write_bytes(draw(drawing, fmt))
        written.append(target)
    if missing and "dot" not in formats:
        target = path.with_name(f"{path.name}.dot")
        target.write_bytes(draw(drawing, "dot"))
        written.append(target)
    return Written(tuple(written), missing)


def render_counterexample(
    model: Model[Any],
    violation: Violation[Any],
    folder: str | Path,
    *,
    name: str | None = None,
    result: CheckResult[Any] | None = None,
    formats: Sequence[str] = ALL_FORMATS,
    radius: int | None = None,
    max_nodes: int = 400,
    properties: Sequence[str] | None = None,
) -> Written:
    """Write the sequence chart, the state-graph view and the HTML report of one violation into ``folder``.

    Files are ``NAME-chart.{dot,svg,png}``, ``NAME-graph.{dot,svg,png}`` and
    ``NAME-report.html``, with ``NAME`` by default ``MODEL-PROPERTY``. The
    graph view needs ``result.graph`` (a run that kept its graph); ``radius``
    and ``max_nodes`` choose it as in :func:`state_graph_view`, and
    ``properties`` (the properties the run checked) which states are red.

    Returns
    -------
    Written
        The files, whether Graphviz was missing, and notes (the graph view's
        cut, anything skipped).

    Examples
    --------
    >>> import tempfile
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> result = explore(model, properties=["agreement"])
    >>> written = render_counterexample(model, result.violation, tempfile.mkdtemp(), name="dup",
    ...                                 result=result, radius=1, max_nodes=20, formats=("dot",))
    >>> [p.name for p in written.paths], written.notes[0][:32]
    (['dup-chart.dot', 'dup-graph.dot'], 'graph view: 20 of 302 states: th')
    """
    if violation.trace is None:
        raise ValueError(f"the violation of {violation.property} has no trace to draw")
    for fmt in formats:
        if fmt not in ALL_FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(ALL_FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{model.name}-{violation.property}"
    pictures = [f for f in formats if f != "html"]
    have_dot = find_dot() is not None
    chart = sequence_chart(model, violation.trace, violation=violation)
    graph = None
    notes: list[str] = []
    if result is not None and result.graph is not None:
        graph = state_graph_view(model, result.graph, trace=violation.trace, radius=radius, max_nodes=max_nodes,
                                 properties=properties)
        notes.append(f"graph view: {graph.note}")
    else:
        notes.append("no graph view: the run kept no state graph" if result is not None
                     else "no graph view: a saved trace has no state graph (check --render draws one)")
    paths: list[Path] = []
    svgs: dict[str, str] = {}
    for kind, drawing in (("chart", chart), ("graph", graph)):
        if drawing is None:
            continue
        if pictures:
            paths += write_drawing(drawing, folder / f"{stem}-{kind}", pictures).paths
        if "html" in formats and have_dot:
            svg_path = folder / f"{stem}-{kind}.svg"
            svgs[kind] = svg_path.read_text("utf-8") if "svg" in pictures else draw(drawing, "svg").decode("utf-8")
    if "html" in formats:
        report = html_report(
            model, violation, result=result, chart_svg=svgs.get("chart"), graph_svg=svgs.get("graph"),
            graph_note=None if graph is None else graph.note,
            missing=None if have_dot else f"Graphviz's dot is not installed; {INSTALL_HINT}",
        )
        target = folder / f"{stem}-report.html"
        target.write_text(report, encoding="utf-8")
        paths.append(target)
    if not have_dot and pictures:
        notes.append(f"Graphviz's dot was not found: wrote DOT files only; {INSTALL_HINT}")
    return Written(tuple(paths), not have_dot, tuple(notes))

