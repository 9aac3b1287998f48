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
from quorumcheck.explorer.result import CheckResult, Violation
from quorumcheck.models.api import Model

from .chart import run_title, violation_text
from .graphview import state_lines

__all__ = ["html_report", "inline_svg"]


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
        --hl: #f59e0b; --hlbg: #fff4d6; --panel: #f8fafc; }
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
.facts { display: flex; gap: 28px; flex-wrap: wrap; }
.facts table { border-collapse: collapse; }
.facts td, .facts th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
.facts th { color: var(--muted); font-weight: normal; }
.note { color: var(--muted); margin: 4px 0 10px; }
.stepper { position: sticky; top: 0; z-index: 5; background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
           padding: 8px 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.stepper button { font: inherit; padding: 3px 11px; border: 1px solid #cbd2d9; border-radius: 6px;
                  background: #fff; cursor: pointer; }
.stepper button:hover { background: var(--panel); }
.stepper .where { font-weight: bold; min-width: 8em; }
.stepper .what { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.stepper .keys { color: var(--muted); margin-left: auto; font-size: 12px; }
.figure { overflow: auto; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
.figure svg { max-width: 100%; height: auto; }
.figure.actual svg { max-width: none; }
.missing { background: var(--panel); border: 1px dashed #cbd2d9; border-radius: 6px; padding: 12px; color: var(--muted); }
table.trace { border-collapse: collapse; width: 100%; }
table.trace th, table.trace td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
                                 vertical-align: top; }
table.trace th { background: var(--panel); font-weight: 600; position: sticky; top: 44px; }
table.trace tr { cursor: pointer; }
table.trace tr.current td { background: var(--hlbg); }
table.trace tr.violating td:first-child { border-left: 4px solid var(--bad); }
table.trace td.num { color: var(--muted); text-align: right; width: 3em; }
table.trace ul { margin: 0; padding-left: 1.1em; }
table.trace details summary { color: var(--muted); cursor: pointer; }
table.trace pre { margin: 4px 0 0; white-space: pre-wrap; }
.msgs { color: var(--muted); }
/* highlighting inside the drawings */
svg .current ellipse, svg .current polygon, svg .current path { stroke: var(--hl) !important; stroke-width: 3.5px; }
svg .steptext.current path, svg .steptext.current polygon { fill: var(--hlbg) !important; stroke-width: 1.5px; }
svg .guide.current path { stroke: var(--hl) !important; stroke-width: 1.6px; stroke-dasharray: none; }
body.stepping svg .msg, body.stepping svg .msglabel { opacity: .22; transition: opacity .15s; }
body.stepping svg .msg.involved, body.stepping svg .msglabel.involved { opacity: 1; }
svg .msg.involved path { stroke-width: 2.6px; }
"""

_SCRIPT = """
(function () {
  var last = %(last)d, current = 0;
  var rows = document.querySelectorAll("table.trace tr.step");
  var where = document.getElementById("where"), what = document.getElementById("what");
  function each(selector, fn) { Array.prototype.forEach.call(document.querySelectorAll(selector), fn); }
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
    if (scroll && row && row.scrollIntoView) { row.scrollIntoView({block: "nearest"}); }
  }
  document.getElementById("first").onclick = function () { show(0, true); };
  document.getElementById("prev").onclick = function () { show(current - 1, true); };
  document.getElementById("next").onclick = function () { show(current + 1, true); };
  document.getElementById("last").onclick = function () { show(last, true); };
  Array.prototype.forEach.call(rows, function (row, i) { row.onclick = function () { show(i, false); }; });
  each(".figure", function (f) { f.ondblclick = function () { f.classList.toggle("actual"); }; });
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


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


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
    # Facts: statistics and parameters.
    parts.append('<div class="facts">')
    if result is not None:
        stats = [
            ("distinct states", f"{result.distinct_states:,}"),
            ("transitions", f"{result.transitions:,}"),
            ("depth", str(result.depth)),
            ("time", f"{result.seconds:.2f} s ({result.states_per_second:,.0f} states/s)"),
            ("peak memory", f"{result.peak_memory_bytes / 2**20:,.0f} MiB"),
            ("explored", "every reachable state" if result.complete else f"cut: {result.stop_reason}"),
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
        '<div class="stepper"><button id="first" title="Home">⏮</button>'
        '<button id="prev" title="←">◀ previous</button><button id="next" title="→">next ▶</button>'
        '<button id="last" title="End">⏭</button><span class="where" id="where"></span>'
        '<span class="what" id="what"></span><span class="keys">keys: ← → Home End · double-click a '
        "drawing for its actual size</span></div>"
    )
    # The chart.
    parts.append("<h2>Message sequence chart</h2>")
    if chart_svg is not None:
        parts.append(f'<div class="figure" id="chart">{inline_svg(chart_svg, "chart-")}</div>')
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
        if i == 0 or step.action is None:
            action, actor, sent, received = "initial state", "", (), ()
            changed = state_lines(view)
        else:
            events = model.events(trace.steps[i - 1].state, step.action, step.state)
            action, actor, sent, received = str(step.action), events.actor, events.sent, events.received
            changed = [str(c).replace(" -> ", " → ") for c in changes(previous, view)] or [
                "(no change: a stuttering step)"]
        summary = action if i == 0 else f"{action} · " + "; ".join(changed)
        classes = f"step step_{i}" + (" violating" if i == last else "")
        messages = "".join(f"<div>received <code>{_e(m)}</code></div>" for m in received) + "".join(
            f"<div>sent <code>{_e(m)}</code></div>" for m in sent)
        full = "" if i == 0 else (f'<details><summary>full state</summary><pre>{_e(chr(10).join(state_lines(view)))}'
                                  "</pre></details>")
        parts.append(
            f'<tr class="{classes}" id="row_{i}" data-summary="{_e(summary)}"><td class="num">{i}</td>'
            f'<td class="mono">{_e(action)}</td><td>{_e(actor)}</td>'
            f'<td class="mono"><ul>{"".join(f"<li>{_e(c)}</li>" for c in changed)}</ul>{full}</td>'
            f'<td class="msgs">{messages}</td></tr>'
        )
        previous = view
    parts.append("</tbody></table>")
    if explanation:
        parts.append(f'<p class="note">After step {last}: <b>{_e(headline)}</b> — {_e(explanation)}</p>')
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

