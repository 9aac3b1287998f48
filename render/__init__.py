"""Pictures: counterexamples and state graphs drawn with Graphviz, and the HTML report.

* :func:`sequence_chart` -- the message sequence chart of a trace (one lane
  per process, an arrow per message received, the violation highlighted);
* :func:`state_graph_view` -- the whole state graph, or the neighbourhood of a trace;
* :func:`html_report` -- one self-contained HTML page with both, the trace
  step by step, and keyboard stepping;
* :func:`render_counterexample` -- all of them written to a folder, as DOT,
  SVG and PNG (the latter two need Graphviz's ``dot``; without it the DOT files
  are written and :attr:`Written.graphviz_missing` is set).

The drawings are :class:`graphviz.Digraph` objects (the ``graphviz`` package
writes their DOT text and runs Graphviz, through :func:`quorumcheck.render.dot.pipe`,
which makes a missing Graphviz one line on how to install it). Nothing here prints.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> v = explore(model, properties=["agreement"]).violation
>>> sequence_chart(model, v.trace, violation=v).lanes
('proposer b0', 'a1', 'a2')
"""

from .chart import Arrow, ChartStep, SequenceChart, sequence_chart
from .dot import INSTALL_HINT, GraphvizError, GraphvizMissing, find_dot
from .graphview import GraphView, state_graph_view
from .output import ALL_FORMATS, Written, draw, render_counterexample, write_drawing
from .report import html_report

__all__ = [
    "ALL_FORMATS",
    "INSTALL_HINT",
    "Arrow",
    "ChartStep",
    "GraphView",
    "GraphvizError",
    "GraphvizMissing",
    "SequenceChart",
    "Written",
    "draw",
    "find_dot",
    "html_report",
    "render_counterexample",
    "sequence_chart",
    "state_graph_view",
    "write_drawing",
]
