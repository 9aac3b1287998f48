"""The HTML report of a counterexample: one self-contained file that works offline.

Verdict, statistics, parameters, the trace step by step with what each step
changed, the message sequence chart and the state-graph view as inline SVG.
Buttons and the keys ← / → (Home / End) step through the trace; the current
step is highlighted in the table, in the chart (its marker, its row, the
messages it sent and received) and in the graph view (its state). There are
no external scripts, stylesheets, fonts or links: the file can be mailed or
attached to an issue as it is. Without Graphviz the report still has the trace
table and the stepping, and says why the pictures are missing.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> result = explore(model, properties=["agreement"])
>>> page = html_report(model, result.violation, result=result)
>>> page.startswith("<!DOCTYPE html>"), "http" in page, page.count('<tr class="step')
(True, False, 10)
"""

from __future__ import annotations

import html
import re
from typing import Any

from quorumcheck.explorer.diff import changes
from quorumcheck.explorer.result import CheckResult, Violation, shown_text
from quorumcheck.models.api import Model
from quorumcheck.printable import printable

from .chart import culprit_text, run_title, violation_text

__all__ = ["compact_lines", "explored_text", "html_report", "inline_svg"]


def inline_svg(svg: str, prefix: str) -> str:
    """Graphviz SVG made fit to sit inside an HTML page: no XML prolog, doctype, comments or namespace URLs.

    Every ``id`` gets ``prefix`` so that two drawings in one page never share one, and
    each element's tooltip becomes its ``<title>``, which browsers show on hover.

    Examples
    --------
    >>> svg = ('<?xml version="1.0"?>\\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN"\\n "http://x/svg11.dtd">'
    ...        '<!-- made by dot --><svg width="8pt" xmlns="http://www.w3.org/2000/svg"><g id="node1"/></svg>')
    >>> inline_svg(svg, "chart-")
    '<svg width="8pt"><g id="chart-node1"/></svg>'
    >>> inline_svg('<g id="n"><title>n1</title><g id="a_n"><a xlink:title="full state"><text/></a></g></g>', "")
    '<g id="n"><title>full state</title><g id="a_n"><a><text/></a></g></g>'
    """
    text = re.sub(r"<\?xml.*?\?>", "", svg, flags=re.DOTALL)
    text = re.sub(r"<!DOCTYPE.*?>", "", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL)
    text = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", text)
    # Browsers show an element's <title> as its tooltip; Graphviz puts the node's name there and the
    # tooltip in xlink:title. Move the tooltip into the <title>.
    text = re.sub(r'<title>[^<]*</title>(\s*<g id="[^"]*">)<a xlink:title="([^"]*)">',
                  lambda m: f"<title>{m.group(2)}</title>{m.group(1)}<a>", text)
    text = re.sub(r'\bid="([^"]*)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    return text.strip()


_STYLE = """
:root { --ink: #1f2933; --muted: #6b7280; --line: #e5e7eb; --bad: #c62828; --badbg: #fde2df;
        --hl: #f59e0b; --hlbg: #fff4d6; --panel: #f8fafc; --culprit: #b45309; --culpritbg: #fef3c7;
        --stepper-h: 46px; --chart-h: 0px; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       background: #fff; }
main { max-width: 1280px; margin: 0 auto; padding: 24px 28px 80px; }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 16px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: bold; color: #fff;
         background: var(--bad); letter-spacing: .03em; }
.badge.holds { background: #2e7d32; } .badge.undetermined { background: #b7791f; }
.verdict { font-size: 15px; margin: 10px 0; }
.explanation { background: var(--badbg); border-left: 4px solid var(--bad); padding: 8px 12px; margin: 8px 0;
               white-space: pre-line; }
.culprit-note { background: var(--culpritbg); border-left: 4px solid var(--culprit); padding: 8px 12px;
                margin: 8px 0; cursor: pointer; }
.culprit-note b { color: var(--culprit); }
.facts { display: flex; gap: 28px; flex-wrap: wrap; }
.facts table { border-collapse: collapse; }
.facts td, .facts th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
.facts th { color: var(--muted); font-weight: normal; }
.note { color: var(--muted); margin: 4px 0 10px; }
.stepper { position: sticky; top: 0; z-index: 6; background: rgba(255,255,255,.97); border-bottom: 1px solid var(--line);
           padding: 8px 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.stepper button { font: inherit; padding: 3px 11px; border: 1px solid #cbd2d9; border-radius: 6px;
                  background: #fff; cursor: pointer; display: inline-flex; align-items: center; gap: 5px; }
.stepper button svg { width: 11px; height: 11px; fill: currentColor; }
.stepper button:hover { background: var(--panel); }
.stepper .where { font-weight: bold; min-width: 8em; }
.stepper .what { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; flex: 1 1 0;
                 min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.stepper .keys { color: var(--muted); margin-left: auto; font-size: 12px; flex: none; }
/* The chart stays in view while the trace table scrolls under it. */
.chartpane { position: sticky; top: var(--stepper-h); z-index: 5; background: #fff; max-height: 52vh; overflow: auto;
             border: 1px solid var(--line); border-radius: 6px; box-shadow: 0 3px 6px -4px rgba(0,0,0,.25); }
.chartpane .figure { border: 0; }
.figure { overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
.figure > svg { max-width: 100%; height: auto; }
.figure.actual > svg { max-width: none; }
.missing { background: var(--panel); border: 1px dashed #cbd2d9; border-radius: 6px; padding: 12px; color: var(--muted); }
table.trace { border-collapse: collapse; width: 100%; }
table.trace th, table.trace td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
                                 vertical-align: top; }
table.trace th { background: var(--panel); font-weight: 600; position: sticky;
                 top: calc(var(--stepper-h) + var(--chart-h)); z-index: 4; }
table.trace tr { cursor: pointer; }
table.trace tr.current td { background: var(--hlbg); }
table.trace tr.violating td:first-child { border-left: 4px solid var(--bad); }
table.trace tr.culprit td:first-child { border-left: 4px solid var(--culprit); }
table.trace tr.culprit td { background: var(--culpritbg); }
table.trace tr.culprit.current td { background: var(--hlbg); }
table.trace .wrong { color: var(--culprit); font-weight: bold; font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; }
table.trace td.num { color: var(--muted); text-align: right; width: 3em; }
table.trace ul { margin: 0; padding-left: 1.1em; }
table.trace details summary { color: var(--muted); cursor: pointer; }
table.trace pre { margin: 4px 0 0; white-space: pre-wrap; }
.msgs { color: var(--muted); }
/* highlighting inside the drawings */
.figure svg .current ellipse, .figure svg .current polygon, .figure svg .current path {
  stroke: var(--hl) !important; stroke-width: 3.5px; }
.figure svg .steptext.current path, .figure svg .steptext.current polygon { fill: var(--hlbg) !important; stroke-width: 1.5px; }
.figure svg .guide.current path { stroke: var(--hl) !important; stroke-width: 1.6px; stroke-dasharray: none; }
body.stepping .figure svg .msg, body.stepping .figure svg .msglabel { opacity: .22; transition: opacity .15s; }
body.stepping .figure svg .msg.involved, body.stepping .figure svg .msglabel.involved { opacity: 1; }
.figure svg .msg.involved path { stroke-width: 2.6px; }
"""

_SCRIPT = """
(function () {
  var last = %(last)d, current = 0;
  var rows = document.querySelectorAll("table.trace tr.step");
  var where = document.getElementById("where"), what = document.getElementById("what");
  var stepper = document.querySelector(".stepper"), pane = document.querySelector(".chartpane");
  var head = document.querySelector("table.trace thead");
  var root = document.documentElement;
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }
  function measure() {
    root.style.setProperty("--stepper-h", stepper.offsetHeight + "px");
    root.style.setProperty("--chart-h", (pane ? pane.offsetHeight : 0) + "px");
  }
  function keepRow(row) {  /* scroll the page so that the row shows below the sticky stepper, chart and header */
    var top = stepper.offsetHeight + (pane ? pane.offsetHeight : 0) + (head ? head.offsetHeight : 0);
    var r = row.getBoundingClientRect();
    if (r.top < top) { window.scrollBy(0, r.top - top - 4); }
    else if (r.bottom > window.innerHeight) { window.scrollBy(0, Math.min(r.bottom - window.innerHeight + 4, r.top - top - 4)); }
  }
  function keepMarker() {  /* scroll the chart inside its pane so that the current step's marker shows */
    if (!pane) { return; }
    var marker = document.getElementById("chart-step_" + current);
    if (!marker) { pane.scrollTop = 0; return; }
    var m = marker.getBoundingClientRect(), p = pane.getBoundingClientRect();
    if (m.top < p.top + 20 || m.bottom > p.bottom - 20) { pane.scrollTop += m.top - p.top - p.height / 2; }
    if (m.left < p.left || m.right > p.right) { pane.scrollLeft += m.left - p.left - p.width / 2; }
  }
  function show(i, scroll) {
    current = Math.max(0, Math.min(last, i));
    each(".current", function (e) { e.classList.remove("current"); });
    each(".involved", function (e) { e.classList.remove("involved"); });
    each(".step_" + current, function (e) { e.classList.add("current"); });
    each(".send_" + current + ", .recv_" + current, function (e) { e.classList.add("involved"); });
    document.body.classList.toggle("stepping", current > 0);
    var row = rows[current];
    where.textContent = current === 0 ? "initial state" : "step " + current + " of " + last;
    what.textContent = row ? row.getAttribute("data-summary") : "";
    measure();
    if (scroll && row) { keepRow(row); }
    keepMarker();
  }
  document.getElementById("first").onclick = function () { show(0, true); };
  document.getElementById("prev").onclick = function () { show(current - 1, true); };
  document.getElementById("next").onclick = function () { show(current + 1, true); };
  document.getElementById("last").onclick = function () { show(last, true); };
  Array.prototype.forEach.call(rows, function (row, i) { row.onclick = function () { show(i, false); }; });
  each("[data-step]", function (e) { e.onclick = function () { show(+e.getAttribute("data-step"), true); }; });
  each(".figure", function (f) { f.ondblclick = function () { f.classList.toggle("actual"); measure(); }; });
  window.addEventListener("resize", measure);
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) { return; }
    var k = e.key;
    if (k === "ArrowRight" || k === "ArrowDown" && e.shiftKey) { show(current + 1, true); e.preventDefault(); }
    else if (k === "ArrowLeft") { show(current - 1, true); e.preventDefault(); }
    else if (k === "Home") { show(0, true); e.preventDefault(); }
    else if (k === "End") { show(last, true); e.preventDefault(); }
  });
  show(0, false);
})();
"""

# The stepper's icons: inline SVG, so that they look the same whatever fonts the reader has.
_ICONS = {
    "first": '<path d="M1 1h2v10H1zM11 1v10L4 6z"/>',
    "prev": '<path d="M10 1v10L2 6z"/>',
    "next": '<path d="M2 1v10l8-5z"/>',
    "last": '<path d="M9 1h2v10H9zM1 1v10l7-5z"/>',
}


def _button(name: str, text: str, key: str) -> str:
    icon = f'<svg viewBox="0 0 12 12" aria-hidden="true">{_ICONS[name]}</svg>'
    content = f"{icon}{text}" if name in ("first", "prev") else f"{text}{icon}"
    return f'<button id="{name}" title="{key}">{content}</button>'


_STOPPED = {
    "max_states": "cut at the state limit (--max-states)",
    "max_depth": "cut at the depth limit (--max-depth)",
    "timeout": "cut at the time limit (--timeout)",
    "unknown": "cut: a property could not be decided",
    "interrupted": "interrupted (Ctrl-C)",
}


def explored_text(result: CheckResult[Any]) -> str:
    """What part of the state space a run explored, in words (never "cut: None").

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> explored_text(explore(PaxosModel(max_ballot=0)))
    'every reachable state'
    >>> explored_text(explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"), properties=["agreement"]))
    'until the first violation'
    >>> explored_text(explore(PaxosModel(max_ballot=1), max_states=50))
    'cut at the state limit (--max-states)'
    """
    if result.complete:
        return "every reachable state"
    if result.stop_reason is None:
        return "until the first violation" if result.violations else "part of the state space"
    return _STOPPED.get(result.stop_reason, f"cut: {result.stop_reason}")


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return str(value)


def compact_lines(view: Any) -> list[str]:
    """A ``describe()`` view as one line per top-level key, nested values written compactly in place.

    Examples
    --------
    >>> compact_lines({"n0": {"term": 1, "log": [], "next": {}, "timers": {"a": ["election"]}}, "used": 2})
    ['n0: term=1, log=[], next={}, timers={a=[election]}', 'used: 2']
    >>> compact_lines({"msgs": ["1a(b=0)", "1b(a=a1)"], "maxBal": {"a1": 0, "a2": -1}})
    ['msgs: [1a(b=0), 1b(a=a1)]', 'maxBal: a1=0, a2=-1']
    """
    if not isinstance(view, dict):
        return [_inline(view)]
    out = []
    for key, value in view.items():
        if isinstance(value, dict) and value:
            out.append(f"{key}: " + ", ".join(f"{k}={_inline(v)}" for k, v in value.items()))
        else:
            out.append(f"{key}: {_inline(value)}")
    return out


def _e(text: Any) -> str:
    """HTML-escaped ``text``, with what is not printable (a student's ``\\x1b`` or ``\\x0b``) written out as
    :func:`~quorumcheck.printable.printable` writes it; line breaks and tabs stay."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() or c in "\n\t" else printable(c) for c in text)
    return html.escape(text, quote=True)


def _setting(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join("{" + ", ".join(map(str, v)) + "}" if isinstance(v, list) else str(v) for v in value)
    return str(value)


def html_report(
    model: Model[Any],
    violation: Violation[Any],
    *,
    result: CheckResult[Any] | None = None,
    chart_svg: str | None = None,
    graph_svg: str | None = None,
    graph_note: str | None = None,
    missing: str | None = None,
    title: str | None = None,
) -> str:
    """The HTML report of ``violation`` (which must have a trace), as one self-contained page.

    Parameters
    ----------
    model : Model
    violation : Violation
    result : CheckResult, optional
        The run, for the verdict and statistics (a replayed trace has none).
    chart_svg, graph_svg : str, optional
        The sequence chart and the graph view as drawn by Graphviz (SVG text);
        give their drawings' classes per step (as :mod:`quorumcheck.render`
        makes them) for the highlighting to work.
    graph_note : str, optional
        What the graph view shows and cuts.
    missing : str, optional
        Why a drawing is absent (shown in its place), e.g. Graphviz is not installed.
    title : str, optional
        By default the model, its parameters and its bug.

    Returns
    -------
    str

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> v = explore(model, properties=["agreement"]).violation
    >>> page = html_report(model, v, missing="Graphviz is not installed")
    >>> "Graphviz is not installed" in page, "<script src" in page
    (True, False)
    """
    trace = violation.trace
    if trace is None:
        raise ValueError(f"the violation of {violation.property} has no trace to report")
    heading = title if title is not None else run_title(model)
    headline, explanation = violation_text(violation)
    last = len(trace)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(violation.property)} violated · {_e(heading)}</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        f"<h1>{_e(heading)}</h1>",
    ]
    verdict = result.verdict.value if result is not None else "violated"
    source = "" if result is not None else " (replayed from a saved trace)"
    parts.append(f'<div class="verdict"><span class="badge {verdict}">{_e(verdict.upper())}</span> '
                 f"<b>{_e(headline)}</b>{_e(source)} · counterexample of {last} step{'s' if last != 1 else ''}"
                 "</div>")
    if explanation:
        parts.append(f'<div class="explanation">{_e(explanation)}</div>')
    culprit = violation.culprit if violation.culprit is not None and 1 <= violation.culprit.step <= last else None
    if culprit is not None:
        parts.append(
            f'<div class="culprit-note" id="culprit" data-step="{culprit.step}"><b>Went wrong at step {culprit.step}'
            f"</b> ({_e(culprit_text(culprit))})" + (f": {_e(culprit.explanation)}" if culprit.explanation else "")
            + " · click to show it</div>")
    # Facts: statistics and parameters.
    parts.append('<div class="facts">')
    if result is not None:
        stats = [
            ("distinct states", f"{result.distinct_states:,}"),
            ("transitions", f"{result.transitions:,}"),
            ("depth", str(result.depth)),
            ("time", f"{result.seconds:.2f} s ({result.states_per_second:,.0f} states/s)"),
            ("peak memory", f"{result.peak_memory_bytes / 2**20:,.0f} MiB"),
            ("explored", explored_text(result)),
        ]
        parts.append("<table>" + "".join(
            f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in stats) + "</table>")
    settings = [("model", model.name), *model.settings().items()]
    bug = getattr(model, "bug", None)
    if bug:
        settings.append(("bug", f"{bug}: {type(model).bugs.get(bug, '')}"))
    settings.append(("property", f"{violation.property} ({violation.expectation.value})"))
    parts.append("<table>" + "".join(
        f"<tr><th>{_e(k)}</th><td>{_e(_setting(v))}</td></tr>" for k, v in settings) + "</table>")
    parts.append("</div>")
    # The stepper.
    parts.append(
        '<div class="stepper">' + _button("first", "first", "Home") + _button("prev", "previous", "Left arrow")
        + _button("next", "next", "Right arrow") + _button("last", "last", "End")
        + '<span class="where" id="where"></span><span class="what" id="what"></span><span class="keys">keys: '
        "left/right arrows, Home, End · double-click a drawing for its actual size</span></div>"
    )
    # The chart: in a pane that stays in view (under the stepper) while the trace table scrolls.
    parts.append('<section class="bench">')  # the chart stays in view within this section only
    parts.append("<h2>Message sequence chart</h2>")
    if chart_svg is not None:
        parts.append(f'<div class="chartpane"><div class="figure" id="chart">{inline_svg(chart_svg, "chart-")}'
                     "</div></div>")
    else:
        parts.append(f'<div class="missing">The chart is not drawn: {_e(missing or "no drawing given")}.</div>')
    # The trace table.
    parts.append("<h2>Trace</h2>")
    parts.append('<table class="trace"><thead><tr><th>#</th><th>action</th><th>by</th><th>what changed</th>'
                 "<th>messages</th></tr></thead><tbody>")
    previous = None
    for i, step in enumerate(trace.steps):
        view = model.describe(step.state)
        sent: tuple[str, ...] = ()
        received: tuple[str, ...] = ()
        # Each text is cut at TEXT_SHOWN characters: a node of student code may hold megabytes (red-team round 15).
        if i == 0 or step.action is None:
            action, actor, sent, received = "initial state", "", (), ()
            changed = [shown_text(line) for line in compact_lines(view)]
        else:
            events = model.events(trace.steps[i - 1].state, step.action, step.state)
            action, actor = shown_text(str(step.action)), events.actor
            sent, received = tuple(map(shown_text, events.sent)), tuple(map(shown_text, events.received))
            changed = [shown_text(str(c).replace(" -> ", " → ")) for c in changes(previous, view)] or [
                "(no change: a stuttering step)"]
        wrong = culprit is not None and i == culprit.step
        summary = action if i == 0 else f"{action} · " + "; ".join(changed)
        if wrong and culprit is not None:
            summary = f"{culprit_text(culprit)} · {summary}"
        classes = f"step step_{i}" + (" violating" if i == last else "") + (" culprit" if wrong else "")
        messages = "".join(f"<div>received <code>{_e(m)}</code></div>" for m in received) + "".join(
            f"<div>sent <code>{_e(m)}</code></div>" for m in sent)
        full = "" if i == 0 else (f'<details><summary>full state</summary><pre>{_e(chr(10).join(map(shown_text, compact_lines(view))))}'
                                  "</pre></details>")
        flag = ""
        if wrong and culprit is not None:
            flag = f'<div class="wrong">{_e(culprit_text(culprit))}' + (
                f": {_e(culprit.explanation)}" if culprit.explanation else "") + "</div>"
        parts.append(
            f'<tr class="{classes}" id="row_{i}" data-summary="{_e(summary)}"><td class="num">{i}</td>'
            f'<td class="mono">{_e(action)}</td><td>{_e(actor)}</td>'
            f'<td class="mono">{flag}<ul>{"".join(f"<li>{_e(c)}</li>" for c in changed)}</ul>{full}</td>'
            f'<td class="msgs">{messages}</td></tr>'
        )
        previous = view
    parts.append("</tbody></table>")
    if explanation:
        parts.append(f'<p class="note">After step {last}: <b>{_e(headline)}</b> — {_e(explanation)}</p>')
    parts.append("</section>")
    # The graph view.
    parts.append("<h2>State graph</h2>")
    if graph_note:
        parts.append(f'<p class="note">{_e(graph_note)}. Hover a state for its full contents.</p>')
    if graph_svg is not None:
        parts.append(f'<div class="figure" id="graph">{inline_svg(graph_svg, "graph-")}</div>')
    else:
        reason = missing or "the run kept no state graph (or this is a replayed trace)"
        parts.append(f'<div class="missing">The state graph is not drawn: {_e(reason)}.</div>')
    parts.append(f"</main><script>{_SCRIPT % {'last': last}}</script></body></html>")
    return "\n".join(parts) + "\n"

