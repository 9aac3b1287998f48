"""Views of the state graph, as Graphviz DOT text: the whole graph, or the neighbourhood of a trace.

Nodes are states, filled by depth (light: near an initial state; dark: deep),
initial states with a double border, states that violate a safety property
red, and the counterexample's path bold. A node's label is a short summary
(or its number, when the view is large); its tooltip in the SVG is the full
state as ``describe()`` shows it. Every node of the trace carries the class
``step_N`` (N its position in the trace, the initial state 0) so that the HTML
report can highlight it.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> result = explore(model, properties=["agreement"])
>>> view = state_graph_view(model, result.graph, trace=result.violation.trace)
>>> view.whole, len(view.nodes), len(view.path)   # 302 states: more than WHOLE_GRAPH_MAX, so the trace's neighbourhood
(False, 38, 10)
>>> state_graph_view(model, result.graph, trace=result.violation.trace, radius=20).whole   # asked for: every state
True
>>> near = state_graph_view(model, result.graph, trace=result.violation.trace, radius=1, max_nodes=30)
>>> near.whole, len(near.nodes), near.cut
(False, 30, 8)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz
import networkx as nx
from quorumcheck.explorer.result import Trace
from quorumcheck.models.api import Expectation, Model

from .chart import run_title
from .dot import FONT, MONO, fit_rows, html_text, plain

__all__ = ["WHOLE_GRAPH_MAX", "GraphView", "state_graph_view", "state_lines", "summary"]

WHOLE_GRAPH_MAX = 150
"""The most states drawn as the whole graph by default: up to this many, dot's layers (one per depth)
read well; a larger graph is drawn as the neighbourhood of the trace unless a radius is asked for."""

# Depth colours, light to dark (ColorBrewer YlGnBu, 9 classes), with a readable font colour on each.
_DEPTH_FILLS = ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#253494", "#081d58")
_DARK_FROM = 5
_BAD_FILL = "#e53935"
_PATH = "#b71c1c"
_EDGE = "#9aa5b1"
_MUTED = "#6b7280"


@dataclass(frozen=True)
class GraphView:
    """A drawn view of the state graph: which states it shows, what was cut, and its DOT source."""

    title: str
    nodes: tuple[int, ...]
    """The graph's node ids shown, in the order they were chosen (the trace's first)."""
    edges: int
    """Edges drawn between the nodes shown (one per ordered pair, labels merged)."""
    total_nodes: int
    total_edges: int
    whole: bool
    """True when every state is shown."""
    radius: int | None
    """For a neighbourhood view: how many steps (either direction) from the trace were included."""
    cut: int
    """States within the radius that the node cap left out."""
    path: tuple[int, ...]
    """The trace's node ids, initial state first (states outside the graph left out)."""
    violating: tuple[int, ...]
    """Node ids shown that violate a safety property."""
    note: str
    """One line saying what the view shows and what it leaves out."""
    dot: graphviz.Digraph = field(repr=False, compare=False)
    """The drawing."""
    engine: str = "dot"
    """The Graphviz layout engine: ``dot`` (layers by depth), or ``neato`` for a view of more than
    :data:`WHOLE_GRAPH_MAX` states."""
    neato_no_op: int | None = None

    @property
    def source(self) -> str:
        """The DOT text of the drawing."""
        return self.dot.source


def summary(view: Any, width: int = 28) -> list[str]:
    """A few short lines summarising a ``describe()`` view, for a node label.

    A dict of scalars becomes its values in a row, a list its length, a scalar
    itself; lines are cut at ``width`` characters.

    Examples
    --------
    >>> summary({"maxBal": {"a1": 0, "a2": -1}, "maxVal": {"a1": None, "a2": "v1"}, "msgs": ["1a(b=0)"]})
    ['maxBal 0 -1', 'maxVal - v1', 'msgs: 1']
    >>> summary(7)
    ['7']
    """
    if not isinstance(view, dict):
        lines = [str(len(view)) + " items" if isinstance(view, list) else str(view)]
    else:
        lines = []
        for key, value in view.items():
            if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
                lines.append(f"{key} " + " ".join("-" if v is None else str(v) for v in value.values()))
            elif isinstance(value, (list, dict)):
                lines.append(f"{key}: {len(value)}")
            else:
                lines.append(f"{key}={value}")
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def state_lines(view: Any, indent: str = "") -> list[str]:
    """A ``describe()`` view as lines of text: one per key, list items indented below it.

    Examples
    --------
    >>> print("\\n".join(state_lines({"maxBal": {"a1": 0, "a2": -1}, "msgs": ["1a(b=0)"]})))
    maxBal: a1=0, a2=-1
    msgs:
      1a(b=0)
    """
    if isinstance(view, dict):
        out = []
        for key, value in view.items():
            if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
                out.append(f"{indent}{key}: " + ", ".join(f"{k}={v}" for k, v in value.items()))
            elif isinstance(value, list):
                out.append(f"{indent}{key}: " + ("{}" if not value else ""))
                out += [f"{indent}  {item}" for item in value]
            elif isinstance(value, dict):
                out.append(f"{indent}{key}:")
                out += state_lines(value, indent + "  ")
            else:
                out.append(f"{indent}{key}: {value}")
        return out
    return [f"{indent}{view}"]


def _trace_nodes(graph: nx.DiGraph, trace: Trace[Any] | None) -> list[int]:
    if trace is None:
        return []
    states = trace.states
    canonical = graph.graph.get("canonical")
    if canonical is not None:  # a run with symmetry: the graph holds one canonical state per orbit
        states = [canonical(s) for s in states]
    wanted = set(states)
    where = {d["state"]: n for n, d in graph.nodes(data=True) if d["state"] in wanted}
    return [where[s] for s in states if s in where]


def _neighbourhood(graph: nx.DiGraph, seeds: Sequence[int], radius: int, cap: int) -> tuple[list[int], int]:
    """Nodes within ``radius`` steps (either direction) of ``seeds``, nearest first, at most ``cap``; and how many were cut."""
    chosen = list(dict.fromkeys(seeds))
    seen = set(chosen)
    frontier = list(chosen)
    cut = 0
    for _ in range(radius):
        layer = []
        for u in frontier:
            for v in list(graph.succ[u]) + list(graph.pred[u]):
                if v not in seen:
                    seen.add(v)
                    layer.append(v)
        for v in layer:
            if len(chosen) < cap:
                chosen.append(v)
            else:
                cut += 1
        frontier = layer
    return chosen, cut


def state_graph_view(
    model: Model[Any],
    graph: nx.DiGraph,
    *,
    trace: Trace[Any] | None = None,
    radius: int | None = None,
    max_nodes: int = 400,
    properties: Sequence[str] | None = None,
    title: str | None = None,
) -> GraphView:
    """Draw the state graph, whole or around a trace.

    Parameters
    ----------
    model : Model
        The model (its ``describe()`` labels the nodes, its safety properties colour them).
    graph : networkx.DiGraph
        The state graph of a run (``CheckResult.graph``).
    trace : Trace, optional
        A trace to draw bold (a counterexample); its states are always shown.
    radius : int, optional
        Show only the states within ``radius`` steps of the trace (either
        direction). By default the whole graph is shown when it has at most
        :data:`WHOLE_GRAPH_MAX` (150) and at most ``max_nodes`` states, else
        the neighbourhood of radius 1. A radius large enough to reach every
        state draws the whole graph whatever its size (an overview: a few
        hundred states are no longer readable one by one).
    max_nodes : int, default 400
        The most states to draw; nearer states are kept first, and the view's
        ``note`` says how many were cut.
    properties : sequence of str, optional
        The safety properties whose violating states are drawn red (by
        default those a run checks by default; pass the ones the run checked).
    title : str, optional
        By default the model, its parameters and its bug.

    Returns
    -------
    GraphView

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0)
    >>> view = state_graph_view(model, explore(model).graph)
    >>> view.whole, len(view.nodes), view.note
    (True, 73, 'the whole state graph: 73 states, 213 edges')
    """
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1, got {max_nodes}")
    path = _trace_nodes(graph, trace)
    total = graph.number_of_nodes()
    if radius is None and total <= min(max_nodes, WHOLE_GRAPH_MAX):
        nodes, cut, whole = list(graph.nodes), 0, True
        note = f"the whole state graph: {total:,} states, {graph.number_of_edges():,} edges"
    else:
        r = 1 if radius is None else radius
        seeds = path or list(graph.graph.get("init", []))[:1]
        nodes, cut = _neighbourhood(graph, seeds, r, max(max_nodes, len(seeds)))
        whole = len(nodes) == total
        what = "the trace" if path else "the initial state"
        note = (f"{len(nodes):,} of {total:,} states: {what} and the states within {r} step{'s' if r != 1 else ''} "
                "of it (either direction)")
        if cut:
            note += f"; {cut:,} more within that radius cut at the cap of {max(max_nodes, len(seeds)):,} states"
    if graph.graph.get("canonical") is not None:
        note += " · symmetry: one state per orbit, each drawn as its canonical member (the trace is concrete)"
    shown = set(nodes)
    safety = [p for p in model.properties() if p.expectation is Expectation.ALWAYS
              and (p.name in properties if properties is not None else getattr(p, "default", True))]
    broken: dict[int, list[str]] = {}
    for n in nodes:
        failed = [p.name for p in safety if not p.holds(graph.nodes[n]["state"])]
        if failed:
            broken[n] = failed
    heading = title if title is not None else run_title(model)
    dot, edges = _graph_dot(model, graph, nodes, shown, path, broken, heading, note)
    return GraphView(
        heading, tuple(nodes), edges, total, graph.number_of_edges(), whole, None if whole and radius is None else
        (1 if radius is None else radius), cut, tuple(path), tuple(n for n in nodes if n in broken), note, dot,
        engine="dot" if len(nodes) <= WHOLE_GRAPH_MAX else "neato",
    )


def _graph_dot(
    model: Model[Any],
    graph: nx.DiGraph,
    nodes: Sequence[int],
    shown: set[int],
    path: Sequence[int],
    broken: dict[int, list[str]],
    title: str,
    note: str,
) -> tuple[graphviz.Digraph, int]:
    position = {n: i for i, n in enumerate(path)}
    path_edges = set(itertools.pairwise(path))
    edges = [(u, v, d) for u in nodes for v, d in graph.succ[u].items() if v in shown]
    detailed = len(nodes) <= 40
    edge_labels = len(edges) <= 80
    circle = f"{max(0.34, 0.1 * len(str(max(nodes, default=0))) + 0.06):.2f}"
    # Up to WHOLE_GRAPH_MAX states, dot's layers (one per depth) read best; beyond, a force layout stays compact.
    layered = len(nodes) <= WHOLE_GRAPH_MAX
    layout = {} if layered else {"layout": "neato", "overlap": "false", "splines": "false"}
    max_depth = max((graph.nodes[n]["depth"] for n in nodes), default=0)
    legend = (f"fill: depth 0 (light) to {max_depth} (dark) · double border: initial state · red: violates a "
              "safety property · bold: the counterexample")
    g = graphviz.Digraph("states")
    g.attr("graph", rankdir="TB", fontname=FONT, fontsize="13", labelloc="t", labeljust="l", bgcolor="white",
           pad="0.3", nodesep="0.18" if not detailed else "0.3", ranksep="0.45", outputorder="edgesfirst", **layout,
           label=f'<<b>{html_text(title)}</b><br align="left"/><font point-size="10" color="{_MUTED}">'
           f'{html_text(note)}<br align="left"/>{html_text(legend)}</font><br align="left"/> >')
    g.attr("node", fontname=FONT, fontsize="9" if detailed else "8")
    g.attr("edge", fontname=FONT, fontsize="8", color=_EDGE, arrowsize="0.6", penwidth="0.8")
    for n in nodes:
        data = graph.nodes[n]
        depth = data["depth"]
        shade = min(len(_DEPTH_FILLS) - 1, round(depth * (len(_DEPTH_FILLS) - 1) / max_depth) if max_depth else 0)
        bad = n in broken
        on_path = n in position
        fill = _BAD_FILL if bad else _DEPTH_FILLS[shade]
        font = "white" if bad or shade >= _DARK_FROM else "#1f2933"
        view = model.describe(data["state"])
        hidden = sum(1 for v in graph.succ[n] if v not in shown) + sum(1 for v in graph.pred[n] if v not in shown)
        tip = [f"state {n} · depth {depth}" + (f" · trace step {position[n]}" if on_path else "")]
        if bad:
            tip.append("violates " + ", ".join(broken[n]))
        if hidden:
            tip.append(f"{hidden} neighbouring state{'s' if hidden != 1 else ''} not shown")
        tip += state_lines(view)
        classes = ["state"] + ([f"step_{position[n]}", "path"] if on_path else []) + (["violating"] if bad else [])
        if detailed:
            more = f' <font point-size="7" color="{font}">(+{hidden} not shown)</font>' if hidden else ""
            lines = summary(view) + ([f"✗ {', '.join(broken[n])}"] if bad else [])
            rows = "".join(fit_rows([f'<tr><td align="left"><font face="{MONO}" point-size="8" color="{font}">'
                                     f"{html_text(line)}</font></td></tr>" for line in lines],
                                    f'<tr><td align="left"><font point-size="7" color="{font}">… {{n}} more lines '
                                    '(in the tooltip)</font></td></tr>'))
            label = (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
                     f'<tr><td align="left"><font color="{font}"><b>#{n}</b></font>{more}</td></tr>{rows}</table>>')
            shape, size = "box", {}
        else:
            more = f'<br/><font point-size="6" color="{font}">+{hidden}</font>' if hidden else ""
            label = f'<<font color="{font}">{n}</font>{more}>'
            shape, size = "circle", {"width": circle, "height": circle, "fixedsize": "true"}
        g.node(
            f"n{n}", label=label, shape=shape, style="rounded,filled" if shape == "box" else "filled", fillcolor=fill,
            color=_PATH if on_path else ("#8a1c1c" if bad else "#5f6b7a"), penwidth="2.6" if on_path else "0.8",
            peripheries="2" if depth == 0 else None, tooltip=plain("\n".join(tip)), id=f"state_{n}",
            **{"class": " ".join(classes)}, **size,
        )
    for u, v, d in edges:
        actions = [str(a) for a in d["actions"]]
        bold = (u, v) in path_edges
        text = actions[0] + (f" (+{len(actions) - 1})" if len(actions) > 1 else "")
        edge_class = "transition" + (f" path step_{position[v]}" if bold else "")
        g.edge(
            f"n{u}", f"n{v}",
            label=f"<{html_text(text)}>" if bold or (edge_labels and u != v) else None,  # loops: tooltip only
            fontcolor=_PATH if bold else _MUTED, color=_PATH if bold else None, penwidth="2.6" if bold else None,
            arrowsize="0.8" if bold else None, weight="8" if bold else None, tooltip=plain("\n".join(actions)),
            **{"class": edge_class},
        )
    return g, len(edges)
