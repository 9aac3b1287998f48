"""The message sequence chart of a trace, as Graphviz DOT text.

One lane per process (the ``actor`` of :meth:`Model.events`), time flowing
down, one row per step. On the left each step's number, action and what it
changed; on its actor's lane a numbered marker. Each receipt of a message is an
arrow from the step that sent it to the step that received it (a message kept
in a set can be received several times: one arrow per receipt), straight when
that is clear and curved round other markers when not; a message never received
within the trace ends in a dashed stub and a dot, labelled "never received";
the violating step is red, and a red note under the chart names the property,
its description and its explanation. The step where it went wrong
(``Violation.culprit``), when known, is amber, labelled "went wrong here:
PROPERTY", and named in the note.

For the HTML report every element carries ids and classes per step: a step's
marker has ``id="step_N"`` and classes ``step step_N`` (and ``violating`` or
``culprit``), its text ``steptext step_N``; a message arrow and its label have ``msg`` / ``msglabel`` and
``send_N recv_M`` (sent at step N, received at step M).

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> violation = explore(model, properties=["agreement"]).violation
>>> chart = sequence_chart(model, violation.trace, violation=violation)
>>> chart.lanes
('proposer b0', 'a1', 'a2')
>>> len(chart.arrows), len(chart.unreceived)   # 10 receipts, 4 votes nobody receives
(14, 4)
>>> "digraph chart {" in chart.source
True
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import graphviz
from quorumcheck.explorer.diff import Change, changes
from quorumcheck.explorer.result import Culprit, Trace, Violation
from quorumcheck.models.api import Model

from .dot import FONT, HTML_TEXT_LIMIT, MONO, fit_rows, html_text, plain

__all__ = [
    "Arrow",
    "ChartStep",
    "SequenceChart",
    "chart_steps",
    "culprit_text",
    "lane_order",
    "match_messages",
    "run_title",
    "sequence_chart",
    "violation_text",
]

# Colours: lanes by group, messages by kind (the text before "(" in the identifier).
_LANE_FILLS = ("#dbe9f6", "#e3f1df", "#f3e6f5", "#fdf0d5", "#e0f2f1")
_LANE_BORDERS = ("#4a78a8", "#5b8f4f", "#8e5a9e", "#b07d1a", "#2e7d74")
_MESSAGE_COLOURS = ("#1f77b4", "#2ca02c", "#e07b00", "#8c4fb3", "#17a2b8", "#d6336c", "#6c757d")
_BAD_FILL = "#fde2df"
_BAD_BORDER = "#c62828"
_CULPRIT = "#b45309"  # amber: where it went wrong, apart from the red of where it was seen
_CULPRIT_FILL = "#fef3c7"
_LIFELINE = "#b0b8c2"
_MUTED = "#6b7280"


@dataclass(frozen=True)
class ChartStep:
    """One step of the chart: its number (1 is the first action), action, actor, changes and messages."""

    number: int
    action: str
    actor: str
    changes: tuple[str, ...]
    """What the step changed, as :func:`quorumcheck.explorer.diff.changes` says it, except the messages
    it sent (drawn as arrows); ``("(no change: a stuttering step)",)`` when nothing changed."""
    sent: tuple[str, ...]
    received: tuple[str, ...]


@dataclass(frozen=True)
class Arrow:
    """One receipt of a message: sent at step ``sender`` (``None``: before the trace), received at ``receiver``.

    ``receiver`` is ``None`` for a message sent and never received within the trace.
    """

    message: str
    sender: int | None
    receiver: int | None


@dataclass(frozen=True)
class SequenceChart:
    """A drawn message sequence chart: what it shows, and its DOT source."""

    title: str
    lanes: tuple[str, ...]
    steps: tuple[ChartStep, ...]
    arrows: tuple[Arrow, ...]
    """Every receipt (``receiver`` set) and every never-received message (``receiver is None``)."""
    violating_step: int | None
    """The number of the step into the violating state (the last step), when a violation is drawn."""
    culprit: Culprit | None
    """Where the counterexample went wrong (``Violation.culprit``), when known and within the trace."""
    dot: graphviz.Digraph = field(repr=False, compare=False)
    """The drawing. Node and edge positions are fixed in it: ``neato -n2`` draws it exactly (plain
    ``dot`` honours the nodes' positions but draws the arrows straight)."""
    engine: str = "neato"
    """The Graphviz layout engine that draws :attr:`dot` as laid out ..."""
    neato_no_op: int | None = 2
    """... with ``-n2``: positions as given."""

    @property
    def source(self) -> str:
        """The DOT text of the drawing."""
        return self.dot.source

    @property
    def unreceived(self) -> tuple[Arrow, ...]:
        """The messages sent and never received within the trace."""
        return tuple(a for a in self.arrows if a.receiver is None)


def run_title(model: Model[Any]) -> str:
    """One line naming the model, its parameters and its bug.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> run_title(PaxosModel(max_ballot=0, bug="duplicate-ballots"))
    'paxos · acceptors=a1,a2,a3 · values=v1,v2 · max_ballot=0 · bug=duplicate-ballots'
    """
    parts = [model.name]
    for key, value in model.settings().items():
        if isinstance(value, list):
            value = ",".join("+".join(map(str, v)) if isinstance(v, list) else str(v) for v in value)
        elif key == "file":  # student code: the file's name says enough in a picture
            value = str(value).replace("\\", "/").rsplit("/", 1)[-1]
        parts.append(f"{key}={value}")
    bug = getattr(model, "bug", None)
    if bug:
        parts.append(f"bug={bug}")
    return " · ".join(parts)


def chart_steps(model: Model[Any], trace: Trace[Any]) -> list[ChartStep]:
    """The trace's steps with their actors, messages and changes, from :meth:`Model.events` and ``describe()``.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> step = chart_steps(model, explore(model, properties=["agreement"]).violation.trace)[1]
    >>> step.actor, step.received, step.changes
    ('a1', ('1a(b=0)',), ('maxBal.a1: -1 → 0',))
    """
    out = []
    steps = trace.steps
    previous_view = model.describe(steps[0].state)
    for number, (before, after) in enumerate(itertools.pairwise(steps), start=1):
        assert after.action is not None  # only the initial step has no action
        events = model.events(before.state, after.action, after.state)
        view = model.describe(after.state)
        found = changes(previous_view, view)
        shown = [_arrowed(str(c)) for c in _without_sent(found, set(events.sent))] if found else [_NO_CHANGE]
        out.append(ChartStep(
            number, str(after.action), events.actor, tuple(shown), tuple(events.sent), tuple(events.received)
        ))
        previous_view = view
    return out


def _arrowed(text: str) -> str:
    return text.replace(" -> ", " → ")


def _without_sent(found: Sequence[Change], sent: set[str]) -> list[Change]:
    """Drop the "+ message" items that the chart draws as arrows."""
    out = []
    for change in found:
        if change.added and sent:
            added = tuple(x for x in change.added if str(x) not in sent)
            if not added and not change.removed:
                continue
            change = Change(change.path, change.old, change.new, added, change.removed)
        out.append(change)
    return out


def _group(actor: str) -> str:
    return re.sub(r"\d+$", "", actor)


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def lane_order(actors: Sequence[str]) -> tuple[str, ...]:
    """The lanes, left to right: groups (``proposer b``, ``a``, ``s``) in order of first appearance, natural order within.

    Examples
    --------
    >>> lane_order(["proposer b1", "a2", "proposer b0", "a10", "a1"])
    ('proposer b0', 'proposer b1', 'a1', 'a2', 'a10')
    """
    groups: dict[str, set[str]] = {}
    for actor in actors:
        groups.setdefault(_group(actor), set()).add(actor)
    return tuple(a for members in groups.values() for a in sorted(members, key=_natural))


def match_messages(steps: Sequence[ChartStep]) -> list[Arrow]:
    """Pair every receipt with a sending step; list the messages never received.

    A receipt is matched with the earliest earlier sending of the same
    identifier not received yet, else with the latest earlier sending (a
    message kept in a set, received again); with none it was sent before the
    trace (``sender=None``).

    Examples
    --------
    >>> s = [ChartStep(1, "Send", "p", (), ("m",), ()), ChartStep(2, "Get", "q", (), (), ("m",)),
    ...      ChartStep(3, "Get", "r", (), (), ("m",)), ChartStep(4, "Send", "p", (), ("n",), ())]
    >>> [(a.message, a.sender, a.receiver) for a in match_messages(s)]
    [('m', 1, 2), ('m', 1, 3), ('n', 4, None)]
    """
    sends: dict[str, list[int]] = {}
    received_sends: set[tuple[str, int]] = set()
    arrows: list[Arrow] = []
    for step in steps:
        for message in step.received:
            earlier = sends.get(message, [])
            fresh = [s for s in earlier if (message, s) not in received_sends]
            sender = fresh[0] if fresh else (earlier[-1] if earlier else None)
            if sender is not None:
                received_sends.add((message, sender))
            arrows.append(Arrow(message, sender, step.number))
        for message in step.sent:
            sends.setdefault(message, []).append(step.number)
    for step in steps:
        for message in step.sent:
            if (message, step.number) not in received_sends:
                arrows.append(Arrow(message, step.number, None))
    return arrows


def sequence_chart(
    model: Model[Any],
    trace: Trace[Any],
    *,
    violation: Violation[Any] | None = None,
    title: str | None = None,
) -> SequenceChart:
    """Draw ``trace`` as a message sequence chart (DOT text in ``.source``).

    Parameters
    ----------
    model : Model
        The model the trace belongs to; its :meth:`Model.events` names actors
        and messages, its ``describe()`` gives the per-step changes.
    trace : Trace
        A trace of ``model`` (a violation's, or any other).
    violation : Violation, optional
        When given, the last state is highlighted with the property, its
        description and its explanation; the step of its ``culprit`` (where it
        went wrong) is marked amber and labelled "went wrong here: PROPERTY".
    title : str, optional
        The chart's title; by default the model, its parameters and its bug.

    Returns
    -------
    SequenceChart

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=1, bug="accept-below-promise")
    >>> v = explore(model, properties=["agreement"]).violation
    >>> chart = sequence_chart(model, v.trace, violation=v)
    >>> chart.lanes, chart.violating_step
    (('proposer b0', 'proposer b1', 'a1', 'a2'), 12)
    >>> sum(1 for a in chart.arrows if a.message == "1a(b=0)")   # one message, received twice
    2
    """
    steps = chart_steps(model, trace)
    lanes = lane_order([s.actor for s in steps]) if steps else ()
    arrows = match_messages(steps)
    violating = len(steps) if violation is not None and steps else None
    culprit = violation.culprit if violation is not None else None
    if culprit is not None and not 1 <= culprit.step <= len(steps):
        culprit = None
    heading = title if title is not None else run_title(model)
    chart = SequenceChart(heading, lanes, tuple(steps), tuple(arrows), violating, culprit, graphviz.Digraph())
    return dataclasses.replace(chart, dot=_chart_dot(chart, violation))


# -- layout ----------------------------------------------------------------------------------
# The chart is laid out here, not by Graphviz: every node has a pinned position
# (``pos="x,y!"``) and every arrow its spline (``pos="e,..."``), which ``neato -n2``
# draws as given. That keeps lanes straight and rows in time order, which dot's
# ranking does not. Text is monospaced, so its width is known without Graphviz.
# Units are points, y downwards (negated in the DOT text).
_CHAR = 0.602  # advance width of DejaVu Sans Mono, in ems
_ACTION_PT, _CHANGE_PT, _LABEL_PT = 10.0, 9.0, 9.0
_LINE = 1.32  # line height, in ems
_PAD_X, _PAD_Y = 9.0, 6.0
_ROW_GAP, _TEXT_GAP, _HEADER_H, _MARKER = 8.0, 24.0, 26.0, 20.0
_GUIDE = "#d5dae1"
_MIN_PITCH = 34.0  # rows are at least this far apart, so that arrows between them have room
_MARKER_ROOM = _MARKER + 16  # a label near a marker would seem to belong to it
_CLEAR = 7.0  # how close an arrow may pass by a marker it does not touch


@dataclass
class _Box:
    x: float
    y: float
    w: float
    h: float

    def overlap(self, other: _Box) -> float:
        dx = min(self.x + self.w / 2, other.x + other.w / 2) - max(self.x - self.w / 2, other.x - other.w / 2)
        dy = min(self.y + self.h / 2, other.y + other.h / 2) - max(self.y - self.h / 2, other.y - other.h / 2)
        return dx * dy if dx > 0 and dy > 0 else 0.0


Point = tuple[float, float]


@dataclass(frozen=True)
class _Curve:
    """A quadratic Bezier arrow p -> q with control point c, drawn from ``start`` to ``base`` (then the arrowhead)."""

    p: Point
    c: Point
    q: Point
    start: float
    base: float
    tip: float

    def at(self, t: float) -> Point:
        (px, py), (cx, cy), (qx, qy) = self.p, self.c, self.q
        u = 1 - t
        return (u * u * px + 2 * u * t * cx + t * t * qx, u * u * py + 2 * u * t * cy + t * t * qy)

    def _blossom(self, s: float, t: float) -> Point:
        (px, py), (cx, cy), (qx, qy) = self.p, self.c, self.q
        w0, w1, w2 = (1 - s) * (1 - t), (1 - s) * t + s * (1 - t), s * t
        return (w0 * px + w1 * cx + w2 * qx, w0 * py + w1 * cy + w2 * qy)

    def pos(self) -> str:
        """The edge's ``pos`` for ``neato -n2``: the piece [start, base] as one cubic, and the arrowhead's tip."""
        p0, p2 = self.at(self.start), self.at(self.base)
        p1 = self._blossom(self.start, self.base)
        c1 = (p0[0] + 2 / 3 * (p1[0] - p0[0]), p0[1] + 2 / 3 * (p1[1] - p0[1]))
        c2 = (p2[0] + 2 / 3 * (p1[0] - p2[0]), p2[1] + 2 / 3 * (p1[1] - p2[1]))
        tip = self.at(self.tip)
        return f"e,{_pt(tip)} " + " ".join(_pt(x) for x in (p0, c1, c2, p2))


def _pt(point: Point) -> str:
    return f"{point[0]:.1f},{-point[1]:.1f}"


def _solve(f: Any, lo: float, hi: float) -> float:
    """Bisection for the t in [lo, hi] where the monotone predicate ``f`` turns true."""
    for _ in range(30):
        mid = (lo + hi) / 2
        if f(mid):
            hi = mid
        else:
            lo = mid
    return hi


_SAMPLES = 40
_ARROW_LENGTH = 7.0  # Graphviz draws an arrowhead 10 * arrowsize points long


def _route(p: Point, q: Point, rp: float, rq: float, markers: Sequence[_Box], drawn: set[tuple[int, int]]) -> _Curve:
    """The arrow from marker centre ``p`` (radius ``rp``) to ``q`` (``rq``): straight if that is clear, else bent.

    Candidates bulge ever more to either side; a candidate that passes within
    ``_CLEAR`` of another marker is rejected (the arrow would seem to start or end
    there), and one that runs along arrows already drawn costs more. The chosen
    curve's cells are added to ``drawn``.
    """
    dx, dy = q[0] - p[0], q[1] - p[1]
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length
    same_lane = abs(dx) < 1
    bulges = (36, -36, 56, -56, 80) if same_lane else (0, 14, -14, 28, -28, 44, -44, 62, -62, 84, -84)
    best: tuple[float, _Curve, list[tuple[int, int]]] | None = None
    for bulge in bulges:
        if same_lane:
            bulge = abs(bulge) if bulge > 0 else -abs(bulge)
            nx, ny = 1.0, 0.0  # bulge to the right first
        c = ((p[0] + q[0]) / 2 + 2 * bulge * nx, (p[1] + q[1]) / 2 + 2 * bulge * ny)
        curve = _Curve(p, c, q, 0.0, 1.0, 1.0)
        samples = [curve.at(i / _SAMPLES) for i in range(_SAMPLES + 1)]
        hits = sum(1 for s in samples for m in markers if math.dist(s, (m.x, m.y)) < m.w / 2 + _CLEAR)
        cells = [(int(x // 4), int(y // 4)) for x, y in samples[4:-4]]
        crowding = sum(1 for cell in cells if cell in drawn)
        score = 1000 * hits + 2 * crowding + abs(bulge) / 10
        if best is None or score < best[0]:
            best = (score, curve, cells)
        if hits == 0 and crowding == 0:
            break
    assert best is not None
    curve, cells = best[1], best[2]
    drawn.update(cells)
    start = _solve(lambda t: math.dist(curve.at(t), p) >= rp + 0.5, 0.0, 0.5)
    tip = _solve(lambda t: math.dist(curve.at(t), q) < rq + 0.5, 0.5, 1.0)
    tip_point = curve.at(tip)
    base = _solve(lambda t: math.dist(curve.at(t), tip_point) < _ARROW_LENGTH, start, tip)
    return _Curve(p, curve.c, q, start, base, tip)


def _kind(message: str) -> str:
    return message.split("(", 1)[0]


def _mono(chars: int, size: float) -> float:
    return chars * _CHAR * size


def _pos(x: float, y: float) -> str:
    return f"{x:.1f},{-y:.1f}!"


def _node(g: graphviz.Digraph, name: str, box: _Box | None, **attrs: Any) -> None:
    if box is not None:
        attrs.setdefault("pos", _pos(box.x, box.y))
        attrs.setdefault("width", f"{box.w / 72:.3f}")
        attrs.setdefault("height", f"{box.h / 72:.3f}")
    if "tooltip" in attrs:
        attrs["tooltip"] = plain(attrs["tooltip"])
    g.node(name, **attrs)


def _edge(g: graphviz.Digraph, tail: str, head: str, **attrs: Any) -> None:
    if "tooltip" in attrs:
        attrs["tooltip"] = plain(attrs["tooltip"])
    g.edge(tail, head, **attrs)


def _label_lines(text: str, limit: int = 24) -> list[str]:
    """A message identifier on one line, or on two split at a ", " when it is long."""
    parts = text.split(", ")
    if len(text) <= limit or len(parts) < 2:
        return [text]
    cut = min(range(1, len(parts)), key=lambda i: max(len(", ".join(parts[:i])) + 1, len(", ".join(parts[i:]))))
    return [", ".join(parts[:cut]) + ",", ", ".join(parts[cut:])]


def _label_size(lines: Sequence[str], extra: str = "") -> tuple[float, float]:
    width = _mono(max(len(x) for x in [*lines, extra]), _LABEL_PT) + 6
    return width, (len(lines) + (1 if extra else 0)) * _LABEL_PT * _LINE + 3


def _text_node(
    g: graphviz.Digraph, name: str, lines: Sequence[str], x: float, y: float, colour: str, extra: str = "",
    **attrs: Any,
) -> _Box:
    """A small label on a white background (hiding the lines behind it), centred at (x, y)."""
    box = _Box(x, y, *_label_size(lines, extra))
    label = f'<<font face="{MONO}" point-size="{_LABEL_PT:g}" color="{colour}">'
    label += "<br/>".join(html_text(line) for line in lines) + "</font>"
    if extra:
        label += f'<br/><font point-size="8" color="{_MUTED}"><i>{html_text(extra)}</i></font>'
    _node(g, name, box, label=label + ">", shape="box", style="filled", fillcolor="#ffffffe6",
          color="#ffffff00", penwidth="0", margin="0.02,0.01", fixedsize="true", **attrs)
    return box


def culprit_text(culprit: Culprit) -> str:
    """The short label of the step where a counterexample went wrong.

    Examples
    --------
    >>> culprit_text(Culprit(3, "votes-safe", "a1 voted for v2 in ballot 1 after v1 was safe"))
    'went wrong here: votes-safe'
    """
    return f"went wrong here: {culprit.property}"


def _title_lines(title: str, width: float, size: float = 13.0) -> list[str]:
    """The title split at " · " into lines no wider than ``width`` points (bold DejaVu Sans, ~0.66 em a character)."""
    limit = max(24, int(width / (0.66 * size)))
    lines: list[str] = []
    for part in title.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= limit:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def _chart_dot(chart: SequenceChart, violation: Violation[Any] | None) -> graphviz.Digraph:
    lanes, steps = chart.lanes, chart.steps
    index = {lane: i for i, lane in enumerate(lanes)}
    groups = list(dict.fromkeys(_group(lane) for lane in lanes))
    lane_style = {lane: groups.index(_group(lane)) % len(_LANE_FILLS) for lane in lanes}
    kinds = list(dict.fromkeys(_kind(a.message) for a in chart.arrows))
    message_colour = {k: _MESSAGE_COLOURS[i % len(_MESSAGE_COLOURS)] for i, k in enumerate(kinds)}
    culprit = chart.culprit
    culprit_step = culprit.step if culprit is not None else None
    culprit_line = culprit_text(culprit) if culprit is not None else ""

    # Columns: the step texts on the left, then one lane per actor at a fixed spacing.
    def text_lines(s: ChartStep) -> list[str]:
        return [culprit_line] * (s.number == culprit_step) + list(s.changes)

    text_w = {s.number: _mono(3, _ACTION_PT) + 9 + max([_mono(min(len(s.action), HTML_TEXT_LIMIT + 28), _ACTION_PT)]
                                                  + [_mono(min(len(c), HTML_TEXT_LIMIT + 28), _CHANGE_PT)
                                                     for c in text_lines(s)]) + 2 * _PAD_X
              for s in steps}
    text_h = {s.number: (_ACTION_PT + len(text_lines(s)) * _CHANGE_PT) * _LINE + 2 * _PAD_Y for s in steps}
    text_col = max(text_w.values(), default=100.0)
    longest = max((_label_size([a.message])[0] for a in chart.arrows), default=80.0)
    spacing = max(150.0, min(230.0, 0.9 * longest + 10), max((_mono(len(n), 10.5) + 40 for n in lanes), default=0))
    xs = [text_col + _TEXT_GAP + spacing * (i + 0.5) for i in range(len(lanes))]
    right = xs[-1] + spacing / 2 if xs else text_col
    rows: dict[int, float] = {}  # step -> y of its action line (the marker's centre)
    y = _HEADER_H + 14
    for s in steps:
        rows[s.number] = y + _PAD_Y + _ACTION_PT * _LINE / 2
        y += max(text_h[s.number] + _ROW_GAP, _MIN_PITCH)
    bottom = y

    g = graphviz.Digraph(
        "chart",
        comment="A message sequence chart drawn by quorumcheck. Positions are fixed: "
                "`neato -n2 -Tsvg THIS.dot -o chart.svg` draws it exactly (plain dot draws straight arrows).",
    )
    g.attr("node", fontname=FONT, fontsize="10", fixedsize="true")
    g.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    markers: dict[int, _Box] = {}
    avoid: list[_Box] = []
    # Lanes: a header and a dashed lifeline down to the bottom.
    for i, lane in enumerate(lanes):
        style = lane_style[lane]
        header = _Box(xs[i], _HEADER_H / 2, _mono(len(lane), 10.5) + 26, _HEADER_H)
        avoid.append(header)
        _node(g, f"lane_{i}", header, label=f"<<b>{html_text(lane)}</b>>", shape="box", style="rounded,filled",
              fillcolor=_LANE_FILLS[style], color=_LANE_BORDERS[style], penwidth="1.4", fontsize="10.5",
              id=f"lane_{i}", **{"class": "lane"})
        _node(g, f"end_{i}", None, pos=_pos(xs[i], bottom), shape="point", width="0.01", height="0.01", style="invis")
        _edge(g, f"lane_{i}", f"end_{i}", arrowhead="none", color=_LIFELINE, style="dashed", penwidth="1.1",
              **{"class": "lifeline"})
    # Steps: the text on the left, a numbered marker on the actor's lane, a faint guide between them.
    for s in steps:
        bad = s.number == chart.violating_step
        wrong = s.number == culprit_step
        style = lane_style[s.actor]
        lines = [f"step {s.number}: {s.action} (by {s.actor})"]
        if wrong and culprit is not None:
            lines.append(culprit_line + (f" ({culprit.explanation})" if culprit.explanation else ""))
        tooltip = "\n".join(lines + list(s.changes) + [f"sent {m}" for m in s.sent]
                            + [f"received {m}" for m in s.received])
        cls = f"step_{s.number}" + (" violating" if bad else "") + (" culprit" if wrong else "")
        border = _BAD_BORDER if bad else _CULPRIT if wrong else None
        text = _Box(text_w[s.number] / 2, rows[s.number] - _PAD_Y - _ACTION_PT * _LINE / 2 + text_h[s.number] / 2,
                    text_w[s.number], text_h[s.number])
        _node(g, f"text_{s.number}", text, label=_step_label(s, bad, text.w - 2 * _PAD_X, culprit_line if wrong else ""),
              shape="box", style="rounded,filled",
              fillcolor=_BAD_FILL if bad else _CULPRIT_FILL if wrong else "white", color=border or "white",
              penwidth="1.6" if border else "0", margin="0,0", tooltip=tooltip, id=f"text_{s.number}",
              **{"class": f"steptext {cls}"})
        marker = _Box(xs[index[s.actor]], rows[s.number], _MARKER, _MARKER)
        markers[s.number] = marker
        avoid.append(_Box(marker.x, marker.y, _MARKER_ROOM, _MARKER_ROOM))  # labels keep their distance
        _node(g, f"step_{s.number}", marker, label=str(s.number), shape="circle", style="filled",
              fillcolor=border or "white", fontcolor="white" if border else "#1f2933",
              color=border or _LANE_BORDERS[style], penwidth="2.4" if wrong else "1.6", fontsize="8.5",
              peripheries="2" if wrong else None, tooltip=tooltip, id=f"step_{s.number}",
              **{"class": f"step {cls}"})
        _node(g, f"guide_{s.number}", None, pos=_pos(text.x + text.w / 2 + 2, rows[s.number]),
              shape="point", width="0.01", height="0.01", style="invis")
        _edge(g, f"guide_{s.number}", f"step_{s.number}", arrowhead="none", color=border or _GUIDE, style="dotted",
              penwidth="1.0", **{"class": f"guide {cls}"})
    extent = max([right] + [b.x + b.w / 2 for b in avoid])
    # The violation note, under the step texts.
    if violation is not None and chart.violating_step is not None:
        headline, explanation = violation_text(violation)
        lines = [line for line in _wrap(explanation, 60) if line]
        wrong_lines: list[str] = []
        if culprit is not None and culprit_step in markers:
            wrong_lines = _wrap(f"went wrong at step {culprit.step}: {culprit.property}"
                                + (f": {culprit.explanation}" if culprit.explanation else ""), 60)
        chars = max([len(headline) + 2] + [len(line) for line in lines + wrong_lines])
        note = _Box(0, 0, chars * 0.6 * 10 + 30, (len(lines) + len(wrong_lines) + 1) * 10 * _LINE + 18)
        note.x, note.y = note.w / 2, bottom + 6 + note.h / 2
        body = "".join(f'<tr><td align="left">{html_text(line)}</td></tr>' for line in lines)
        body += "".join(f'<tr><td align="left"><font color="{_CULPRIT}">{html_text(line)}</font></td></tr>'
                        for line in wrong_lines)
        _node(g, "violation", note, label=(
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="2">'
            f'<tr><td align="left"><font color="{_BAD_BORDER}"><b>✗ {html_text(headline)}</b></font></td></tr>'
            f"{body}</table>>"),
            shape="note", style="filled", fillcolor="#fff5f4", color=_BAD_BORDER, penwidth="1.4",
            id="violation", **{"class": f"violation step_{chart.violating_step}"})
        avoid.append(note)
    # Messages never received / received but sent before the trace: a short stub beside the marker.
    stubs: dict[tuple[int, int], int] = {}
    receipts: list[tuple[int, Arrow, str]] = []
    for k, arrow in enumerate(chart.arrows):
        colour = message_colour[_kind(arrow.message)]
        if arrow.sender is not None and arrow.receiver is not None:
            receipts.append((k, arrow, colour))
            continue
        lost = arrow.receiver is None
        number = arrow.sender if lost else arrow.receiver
        assert number is not None
        sign = 1 if lost else -1
        nth = stubs.get((number, sign), 0)
        stubs[(number, sign)] = nth + 1
        m = markers[number]
        dot_x, dot_y = m.x + sign * 40, m.y + nth * 26
        point = f"{'lost' if lost else 'found'}_{k}"
        _node(g, point, _Box(dot_x, dot_y, 6.5, 6.5), shape="circle", style="filled", label="",
              color=colour, fillcolor=colour)
        extra = "never received" if lost else "sent before the trace"
        lines = _label_lines(arrow.message, 30)
        width = _label_size(lines, extra)[0]
        cls = f"send_{number}" if lost else f"recv_{number}"
        rect = _text_node(g, f"msglabel_{k}", lines, dot_x + sign * (7 + width / 2), dot_y, colour, extra,
                          id=f"msglabel_{k}", **{"class": f"msglabel {cls}"})
        avoid.append(rect)
        ends = (f"step_{number}", point) if lost else (point, f"step_{number}")
        _edge(g, ends[0], ends[1], color=colour, penwidth="1.2", style="dashed", id=f"msg_{k}",
              tooltip=f"{arrow.message}: {extra}", **{"class": f"msg {cls}" + (" unreceived" if lost else "")})
    # Receipts: an arrow from the sending step to the receiving step; straight when it can be, else a
    # gentle curve that keeps clear of the other markers and of the arrows already drawn.
    receipts.sort(key=lambda item: (abs((item[1].receiver or 0) - (item[1].sender or 0)), item[0]))
    drawn: set[tuple[int, int]] = set()  # grid cells (4 pt) that arrows pass through
    for k, arrow, colour in receipts:
        assert arrow.sender is not None and arrow.receiver is not None
        a, b = markers[arrow.sender], markers[arrow.receiver]
        others = [m for n, m in markers.items()
                  if n not in (arrow.sender, arrow.receiver) and min(a.y, b.y) - 20 < m.y < max(a.y, b.y) + 20]
        curve = _route((a.x, a.y), (b.x, b.y), a.w / 2, b.w / 2, others, drawn)
        cls = f"send_{arrow.sender} recv_{arrow.receiver}"
        _edge(g, f"step_{arrow.sender}", f"step_{arrow.receiver}", color=colour, penwidth="1.3", id=f"msg_{k}",
              pos=curve.pos(), tooltip=f"{arrow.message}: sent at step {arrow.sender}, received at step "
              f"{arrow.receiver}", **{"class": f"msg {cls}"})
        rect = _place_label(g, k, arrow.message, curve, avoid, colour, cls)
        avoid.append(rect)
    extent = max([extent] + [b.x + b.w / 2 for b in avoid])
    _node(g, "corner", None, pos=_pos(right, 0), shape="point", width="0.01", height="0.01", style="invis")
    # The title wraps at the drawing's width, so that the lanes, not the title, set the picture's width.
    title = "".join(f"<b>{html_text(line)}</b><br align=\"left\"/>" for line in _title_lines(chart.title, extent))
    g.attr("graph", layout="neato", inputscale="72", splines="false", outputorder="edgesfirst", fontname=FONT,
           fontsize="13", labelloc="t", labeljust="l", bgcolor="white", pad="0.3",
           label=f'<{title}<font point-size="10" color="{_MUTED}">'
           f'{html_text(_subtitle(chart, violation))}</font><br align="left"/> >')
    return g


def _place_label(
    g: graphviz.Digraph, k: int, message: str, curve: _Curve, avoid: Sequence[_Box], colour: str, cls: str
) -> _Box:
    """The label of receipt ``k`` near its arrow, where it covers the least of the markers and labels drawn.

    Candidates lie along the arrow, centred on it or beside it (above, below, left, right); an
    arrow from a lane to itself has its label to the right of its bulge, clear of the lane's markers.
    """
    lines = _label_lines(message)
    width, height = _label_size(lines)
    same_lane = abs(curve.p[0] - curve.q[0]) < 1
    best: tuple[float, float, float] | None = None
    for f in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82, 0.1, 0.9):
        px, py = curve.at(curve.start + (curve.base - curve.start) * f)
        shifts = [(width / 2 + 4, 0.0)] if same_lane else [
            (0.0, 0.0), (0.0, height / 2 + 2), (0.0, -height / 2 - 2), (width / 2 + 6, 0.0), (-width / 2 - 6, 0.0)]
        for sx, sy in shifts:
            probe = _Box(px + sx, py + sy, width + 4, height + 2)
            score = sum(probe.overlap(o) * (20 if o.w == _MARKER_ROOM else 5) for o in avoid) + abs(sx) / 4 + abs(sy)
            if best is None or score < best[0]:
                best = (score, px + sx, py + sy)
        if best is not None and best[0] == 0:
            break
    assert best is not None
    return _text_node(g, f"msglabel_{k}", lines, best[1], best[2], colour, id=f"msglabel_{k}",
                      **{"class": f"msglabel {cls}"})


_NO_CHANGE = "(no change: a stuttering step)"


def violation_text(violation: Violation[Any]) -> tuple[str, str]:
    """The headline and the explanation shown for a violation.

    Examples
    --------
    >>> from quorumcheck.explorer import Violation
    >>> from quorumcheck.models import Expectation
    >>> violation_text(Violation("agreement", Expectation.ALWAYS, "at most one value is chosen", None,
    ...                          explanation="v1 and v2 chosen"))
    ('agreement violated: at most one value is chosen', 'v1 and v2 chosen')
    """
    headline = f"{violation.property} violated" + (f": {violation.description}" if violation.description else "")
    explanation = violation.explanation or ""
    if violation.outside_boundary:
        explanation = (explanation + " " if explanation else "") + "(the last state is outside the model's bound)"
    return headline, explanation


def _wrap(text: str, width: int) -> list[str]:
    """Split at "; " and spaces so that no line is much longer than ``width``."""
    lines: list[str] = []
    for part in text.split("; "):
        line = ""
        for word in part.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lines


def _step_label(step: ChartStep, bad: bool, width: float, culprit: str = "") -> str:
    """The step's text: its number in a narrow right-aligned column, then the action, ``culprit`` and the changes.

    Columns, not leading spaces, do the indenting: Graphviz's PNG renderer drops leading spaces.
    """
    colour = _BAD_BORDER if bad else "#1f2933"
    number_w = int(_mono(3, _ACTION_PT))
    rows = [(
        f'<tr><td align="right" width="{number_w}"><font face="{MONO}" point-size="{_ACTION_PT:g}" '
        f'color="{_MUTED}">{step.number}</font></td><td width="9"></td><td align="left"><font face="{MONO}" '
        f'point-size="{_ACTION_PT:g}" color="{colour}"><b>{html_text(step.action)}</b></font></td></tr>'
    )]
    if culprit:
        rows.append(f'<tr><td></td><td></td><td align="left"><font point-size="{_CHANGE_PT:g}" '
                    f'color="{_CULPRIT}"><b>{html_text(culprit)}</b></font></td></tr>')
    for line in step.changes:
        rows.append(f'<tr><td></td><td></td><td align="left"><font face="{MONO}" point-size="{_CHANGE_PT:g}" '
                    f'color="#4b5563">{html_text(line)}</font></td></tr>')
    rows = fit_rows(rows, f'<tr><td></td><td></td><td align="left"><font point-size="{_CHANGE_PT:g}" '
                          f'color="{_MUTED}">… {{n}} more changes (in the tooltip and the report)</font></td></tr>')
    # A table as wide as the box, cells aligned left: every step's text starts at the same x.
    return (f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="0" '
            f'width="{int(width)}">' + "".join(rows) + "</table>>")


def _subtitle(chart: SequenceChart, violation: Violation[Any] | None) -> str:
    n = len(chart.steps)
    what = f"counterexample to {violation.property}" if violation is not None else "trace"
    return f"{what} · {n} step{'s' if n != 1 else ''} · time flows down · an arrow per message received"
