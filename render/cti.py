"""A counterexample to induction as a picture: the pre-state, the action, the post-state.

It speaks the charts' visual language: the states are boxes with a row per
symbol, the action is the arrow between them, and what the action changed is
amber (the charts' colour for "went wrong here"); the conjunct that fails in
the post-state is named in red.

Examples
--------
>>> from quorumcheck.models.paxos_symbolic import paxos_system
>>> from quorumcheck.prover import prove
>>> system = paxos_system()
>>> cti = prove(system, ["agreement"], reach=False).ctis()[0]
>>> "Phase2b" in cti_drawing(cti, system.signature).source
True
"""

from __future__ import annotations

import graphviz

from quorumcheck.invariants.language import Function, Signature
from quorumcheck.prover.cti import CTI, Structure

from .chart import _BAD_BORDER, _CULPRIT, _CULPRIT_FILL, _MUTED
from .dot import html_text

__all__ = ["CTIDrawing", "cti_drawing"]


class CTIDrawing:
    """A drawing for :func:`quorumcheck.render.output.write_drawing` (dot engine)."""

    engine = "dot"
    neato_no_op = None

    def __init__(self, dot: graphviz.Digraph) -> None:
        self.dot = dot

    @property
    def source(self) -> str:
        return self.dot.source


def _rows(structure: Structure, signature: Signature, before: Structure | None) -> str:
    cells = []
    for name, rows in structure.values.items():
        sym = signature.symbol(name)
        if isinstance(sym, Function):
            text = ", ".join(f"{name}({', '.join(map(str, r[:-1]))})={r[-1]}" for r in sorted(rows, key=repr))
        else:
            text = "{" + ", ".join("(" + ", ".join(map(str, r)) + ")" if len(r) != 1 else str(r[0])
                                   for r in sorted(rows, key=repr)) + "}"
        changed = before is not None and before.values.get(name) != rows
        fill = f' BGCOLOR="{_CULPRIT_FILL}"' if changed else ""
        colour = _CULPRIT if changed else "black"
        cells.append(f'<TR><TD ALIGN="LEFT"{fill}><FONT COLOR="{_MUTED}">{html_text(name)}</FONT></TD>'
                     f'<TD ALIGN="LEFT"{fill}><FONT COLOR="{colour}">{html_text(text)}</FONT></TD></TR>')
    return "".join(cells)


def cti_drawing(cti: CTI, signature: Signature) -> CTIDrawing:
    """The CTI as two state boxes joined by the action (or one box, for initiation and safety)."""
    dot = graphviz.Digraph("cti", graph_attr={"rankdir": "LR", "fontname": "Helvetica", "labelloc": "t"},
                           node_attr={"shape": "plaintext", "fontname": "Helvetica", "fontsize": "11"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "11"})
    sizes = ", ".join(f"{k} {{{', '.join(map(str, v))}}}" for k, v in cti.pre.universe.items())
    statics = "; ".join(f"{n} = " + ", ".join("(" + ", ".join(map(str, r)) + ")" for r in sorted(rs, key=repr))
                        for n, rs in cti.statics.items())
    title = (f"counterexample to induction: {cti.conjunct}" + (f" is not preserved by {cti.action}" if cti.action
                                                              else " fails"))
    verdict = cti.verdict_line()
    dot.attr(label=f"{title}\n{verdict}\n{sizes}\n{statics}")

    def box(node: str, heading: str, structure: Structure, before: Structure | None, border: str) -> None:
        label = (f'<<TABLE BORDER="1" COLOR="{border}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3">'
                 f'<TR><TD COLSPAN="2"><B>{html_text(heading)}</B></TD></TR>'
                 f'{_rows(structure, signature, before)}</TABLE>>')
        dot.node(node, label=label)

    box("pre", "pre-state (satisfies the invariant)", cti.pre, None, "#4a78a8")
    if cti.post is not None:
        box("post", f"post-state (violates {cti.conjunct})", cti.post, cti.pre, _BAD_BORDER)
        params = ", ".join(f"{k}={v}" for k, v in cti.params.items())
        dot.edge("pre", "post", label=f"{cti.action}({params})", color=_CULPRIT, fontcolor=_CULPRIT, penwidth="2")
    return CTIDrawing(dot)

