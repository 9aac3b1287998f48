"""Pictures: the sequence chart, the state-graph views, the HTML report, the CLI's --render, no-Graphviz fallback.

The drawings are checked by what they contain (parsed DOT text, and SVG XML when
Graphviz is installed), not only by the files existing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from click.testing import CliRunner
from quorumcheck.explorer import CheckResult, Violation, explore
from quorumcheck.models import Action, Model, PaxosModel, always
from quorumcheck.models.api import StepEvents
from quorumcheck.render import (
    draw,
    find_dot,
    html_report,
    render_counterexample,
    sequence_chart,
    state_graph_view,
)

from quorumcheck.cli import main

needs_dot = pytest.mark.skipif(find_dot() is None, reason="Graphviz's dot is not installed")


# -- a small DOT reader for the text the graphviz package writes ------------------------------------
def _attributes(text: str) -> dict[str, str]:
    """``[k="v" label=<...> w=0.5]`` -> dict (quoted strings unescaped, HTML labels kept as they are)."""
    out: dict[str, str] = {}
    i, n = text.index("[") + 1, len(text)
    while i < n:
        while i < n and text[i] in " \t,]":
            i += 1
        if i >= n:
            break
        eq = text.index("=", i)
        key = text[i:eq].strip()
        i = eq + 1
        if text[i] == '"':
            j, chars = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    j += 1
                    chars.append({"n": "\n"}.get(text[j], text[j]))
                else:
                    chars.append(text[j])
                j += 1
            out[key], i = "".join(chars), j + 1
        elif text[i] == "<":
            depth, j = 0, i
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            out[key], i = text[i:j], j
        else:
            j = i
            while j < n and text[j] not in " \t,]":
                j += 1
            out[key], i = text[i:j].strip(), j
    return out


def parse_dot(source: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """Node and edge statements (one per line, as graphviz.Digraph writes them) with their attributes."""
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    for line in source.splitlines():
        line = line.strip()
        edge = re.match(r"^(\w+) -> (\w+) (\[.*\])$", line)
        node = re.match(r"^(\w+) (\[.*\])$", line)
        if edge:
            edges.append((edge.group(1), edge.group(2), _attributes(edge.group(3))))
        elif node and node.group(1) not in ("graph", "node", "edge"):
            nodes[node.group(1)] = _attributes(node.group(2))
    return nodes, edges


def text_of(label: str) -> str:
    """The visible text of an HTML-like label (line breaks become spaces)."""
    if label.startswith("<") and label.endswith(">"):
        label = label[1:-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", label.replace("<br/>", " "))).strip()


def classes(attrs: dict[str, str]) -> set[str]:
    return set(attrs.get("class", "").split())


# -- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def below() -> tuple[PaxosModel, CheckResult[Any], Violation[Any]]:
    """Paxos 0..1 with accept-below-promise: the 12-step agreement counterexample."""
    model = PaxosModel(max_ballot=1, bug="accept-below-promise")
    result = explore(model, properties=["agreement"])
    assert result.violation is not None and len(result.violation.trace) == 12
    return model, result, result.violation


@pytest.fixture(scope="module")
def duplicate() -> tuple[PaxosModel, CheckResult[Any], Violation[Any]]:
    """Paxos 0..0 with duplicate-ballots: 9 steps, 302 states."""
    model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    result = explore(model, properties=["agreement"])
    assert result.violation is not None and len(result.violation.trace) == 9
    assert result.distinct_states == 302
    return model, result, result.violation


@pytest.fixture(scope="module")
def raft_votes_twice() -> tuple[Any, Violation[Any]]:
    """Raft with vote-twice at its default bounds: 16 steps, with messages a server sends itself."""
    from quorumcheck.models import RaftModel

    model = RaftModel(bug="vote-twice", history=False)
    v = explore(model, keep_graph=False).violation
    assert v is not None and v.property == "election-safety" and len(v.trace) == 16
    return model, v


# -- the sequence chart ----------------------------------------------------------------------------------
def test_chart_has_one_lane_per_process_in_order(below: Any) -> None:
    model, _, v = below
    chart = sequence_chart(model, v.trace, violation=v)
    nodes, edges = parse_dot(chart.source)
    lanes = [text_of(a["label"]) for name, a in sorted(nodes.items()) if name.startswith("lane_")]
    assert lanes == ["proposer b0", "proposer b1", "a1", "a2"] == list(chart.lanes)
    # every lane has a lifeline, and every step's marker sits on its actor's lane (same x)
    assert sum(1 for _, _, a in edges if "lifeline" in classes(a)) == 4
    x_of_lane = {text_of(nodes[f"lane_{i}"]["label"]): nodes[f"lane_{i}"]["pos"].split(",")[0] for i in range(4)}
    actors = {3: "a1", 6: "proposer b0", 8: "proposer b1", 12: "a2"}
    for step, actor in actors.items():
        assert nodes[f"step_{step}"]["pos"].split(",")[0] == x_of_lane[actor]
    # time flows down: markers' y decreases (Graphviz's y grows upwards)
    ys = [float(nodes[f"step_{i}"]["pos"].split(",")[1].rstrip("!")) for i in range(1, 13)]
    assert ys == sorted(ys, reverse=True) and len(set(ys)) == 12


def test_chart_draws_an_arrow_per_receipt_with_its_message(below: Any) -> None:
    model, _, v = below
    nodes, edges = parse_dot(sequence_chart(model, v.trace, violation=v).source)
    receipts = [(t, h, a) for t, h, a in edges if "msg" in classes(a) and t.startswith("step_") and h.startswith("step_")]
    # 1a(b=0) and 1a(b=1) each reach two acceptors; two quorums of 1b messages; each 2a reaches two acceptors
    assert len(receipts) == 12
    labels = Counter(text_of(nodes[f"msglabel_{a['id'].split('_')[1]}"]["label"]) for _, _, a in receipts)
    assert labels == Counter({
        "1a(b=0)": 2, "1a(b=1)": 2, "2a(b=0, v=v1)": 2, "2a(b=1, v=v2)": 2,
        "1b(a=a1, b=0, mbal=-1, mval=None)": 1, "1b(a=a2, b=0, mbal=-1, mval=None)": 1,
        "1b(a=a1, b=1, mbal=-1, mval=None)": 1, "1b(a=a2, b=1, mbal=-1, mval=None)": 1,
    })
    for tail, head, a in receipts:
        sender, receiver = int(tail.split("_")[1]), int(head.split("_")[1])
        assert sender < receiver
        assert {f"send_{sender}", f"recv_{receiver}"} <= classes(a)
    # the 2a message of ballot 0 goes from Phase2a(b=0) (step 6) to a1 (step 10) and a2 (step 12)
    assert {(t, h) for t, h, a in receipts if "2a(b=0" in a["tooltip"]} == {("step_6", "step_10"), ("step_6", "step_12")}


def test_a_message_kept_in_the_set_is_drawn_once_per_receipt(duplicate: Any) -> None:
    model, _, v = duplicate
    _, edges = parse_dot(sequence_chart(model, v.trace, violation=v).source)
    promise = "1b(a=a1, b=0, mbal=-1, mval=None)"
    arrows = [(t, h) for t, h, a in edges if a.get("tooltip", "").startswith(promise + ":")]
    assert arrows == [("step_2", "step_4"), ("step_2", "step_5")]  # both Phase2a steps received it


def test_messages_never_received_end_in_a_marked_stub(below: Any) -> None:
    model, _, v = below
    chart = sequence_chart(model, v.trace, violation=v)
    nodes, edges = parse_dot(chart.source)
    stubs = [(t, h, a) for t, h, a in edges if "unreceived" in classes(a)]
    assert sorted(t for t, _, _ in stubs) == ["step_10", "step_11", "step_12", "step_9"]
    texts = sorted(text_of(nodes[f"msglabel_{a['id'].split('_')[1]}"]["label"]) for _, _, a in stubs)
    assert texts == sorted(f"2b(a={acc}, b={b}, v={val}) never received"
                           for acc in ("a1", "a2") for b, val in ((0, "v1"), (1, "v2")))
    assert all(a.get("style") == "dashed" for _, _, a in stubs)
    assert len(chart.unreceived) == 4


def test_steps_are_labelled_with_action_and_changes(below: Any) -> None:
    model, _, v = below
    nodes, _ = parse_dot(sequence_chart(model, v.trace, violation=v).source)
    assert text_of(nodes["text_3"]["label"]) == "3 Phase1b(a=a1, b=0) maxBal.a1: -1 → 0"
    assert text_of(nodes["text_12"]["label"]) == (
        "12 Phase2b(a=a2, b=0, v=v1) maxBal.a2: 1 → 0 maxVBal.a2: 1 → 0 maxVal.a2: v2 → v1")
    assert text_of(nodes["text_1"]["label"]) == "1 Phase1a(b=0)"  # what it sent is the arrow
    assert "sent 1a(b=0)" in nodes["step_1"]["tooltip"]


def test_the_violating_step_is_highlighted_with_property_and_explanation(below: Any) -> None:
    model, _, v = below
    nodes, _ = parse_dot(sequence_chart(model, v.trace, violation=v).source)
    highlighted = [name for name, a in nodes.items() if "violating" in classes(a)]
    assert sorted(highlighted) == ["step_12", "text_12"]
    assert nodes["step_12"]["fillcolor"] != nodes["step_11"]["fillcolor"]
    note = text_of(nodes["violation"]["label"])
    assert note.startswith("✗ agreement violated: at most one value is chosen")
    for part in v.explanation.split("; "):
        assert part in note
    assert "step_12" in classes(nodes["violation"])


def test_chart_without_a_violation_and_generic_models() -> None:
    class Relay(Model[int]):
        """p sends m1 to itself, q receives a message sent before the trace; Tick has no events."""

        name = "relay"

        def init_states(self) -> list[int]:
            return [0]

        def successors(self, state: int) -> list[tuple[Action, int]]:
            names = ["Send", "Get", "Tick"]
            return [(Action(names[state]), state + 1)] if state < 3 else []

        def properties(self) -> list[Any]:
            return [always("short", lambda s: s < 3)]

        def events(self, before: int, action: Action, after: int) -> StepEvents:
            if action.name == "Send":
                return StepEvents("p", sent=("m1",))
            if action.name == "Get":
                return StepEvents("p", received=("m1", "m0"))
            return super().events(before, action, after)

    model = Relay()
    v = explore(model).violation
    chart = sequence_chart(model, v.trace)
    assert chart.lanes == ("p", "Tick") and chart.violating_step is None
    assert [(a.message, a.sender, a.receiver) for a in chart.arrows] == [("m1", 1, 2), ("m0", None, 2)]
    nodes, edges = parse_dot(chart.source)
    assert "violation" not in nodes
    assert any(t.startswith("bend") or (t, h) == ("step_1", "step_2") for t, h, _ in edges)
    assert any(t.startswith("found_") and h == "step_2" for t, h, _ in edges)


@needs_dot
def test_chart_svg_keeps_ids_and_classes_per_step(below: Any) -> None:
    model, _, v = below
    svg = ET.fromstring(draw(sequence_chart(model, v.trace, violation=v), "svg"))
    groups = {g.get("id"): set((g.get("class") or "").split()) for g in svg.iter("{http://www.w3.org/2000/svg}g")}
    assert {"node", "step", "step_12", "violating"} <= groups["step_12"]
    assert sum(1 for c in groups.values() if "msg" in c) == 16  # 12 receipts and 4 stubs
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for lane in ("proposer b0", "proposer b1", "a1", "a2"):
        assert lane in texts


# -- state-graph views ----------------------------------------------------------------------------------
def test_whole_graph_view_of_a_tiny_model(duplicate: Any) -> None:
    model, result, v = duplicate
    # 302 states are more than a readable whole graph: asked for (a radius reaching every state), it is drawn,
    # as an overview laid out by neato
    view = state_graph_view(model, result.graph, trace=v.trace, radius=20, properties=["agreement"])
    nodes, edges = parse_dot(view.source)
    states = {n: a for n, a in nodes.items() if n.startswith("n")}
    assert view.whole and len(states) == 302 and len(edges) == result.graph.number_of_edges() == 872
    assert view.engine == "neato"
    path = [n for n, a in states.items() if "path" in classes(a)]
    assert len(path) == 10 and len(view.path) == 10
    assert sum(1 for _, _, a in edges if "path" in classes(a)) == 9
    assert states["n0"].get("peripheries") == "2"  # the initial state
    red = [n for n, a in states.items() if "violating" in classes(a)]
    assert red == [f"n{view.path[-1]}"]  # the run stopped at its only agreement violation
    depths = {a["fillcolor"] for n, a in states.items() if n not in red}
    assert len(depths) > 5  # coloured by depth
    assert "maxBal: a1=-1, a2=-1, a3=-1" in states["n0"]["tooltip"]  # the full state in the tooltip


def test_by_default_only_a_small_graph_is_drawn_whole(duplicate: Any) -> None:
    model, result, v = duplicate
    view = state_graph_view(model, result.graph, trace=v.trace, properties=["agreement"])
    assert not view.whole and view.radius == 1 and len(view.nodes) == 38 and view.engine == "dot"
    assert view.note == "38 of 302 states: the trace and the states within 1 step of it (either direction)"
    small = PaxosModel(max_ballot=0)
    whole = state_graph_view(small, explore(small).graph)
    assert whole.whole and whole.note == "the whole state graph: 73 states, 213 edges" and whole.engine == "dot"


def test_neighbourhood_view_has_the_nodes_within_the_radius(duplicate: Any) -> None:
    model, result, v = duplicate
    graph = result.graph
    view = state_graph_view(model, graph, trace=v.trace, radius=1, properties=["agreement"])
    undirected = graph.to_undirected(as_view=True)
    expected: set[int] = set()
    for n in view.path:
        expected |= set(nx.single_source_shortest_path_length(undirected, n, cutoff=1))
    nodes, _ = parse_dot(view.source)
    assert {int(n[1:]) for n in nodes if re.fullmatch(r"n\d+", n)} == expected
    assert len(expected) == 38 and not view.whole and view.cut == 0
    capped = state_graph_view(model, graph, trace=v.trace, radius=1, max_nodes=30)
    capped_nodes, _ = parse_dot(capped.source)
    assert sum(1 for n in capped_nodes if re.fullmatch(r"n\d+", n)) == 30
    assert capped.cut == 8 and "8 more within that radius cut at the cap of 30 states" in capped.note
    assert set(capped.path) <= set(capped.nodes)  # the trace is always kept


def test_large_graph_defaults_to_the_neighbourhood(below: Any) -> None:
    model, result, v = below
    view = state_graph_view(model, result.graph, trace=v.trace, max_nodes=100)
    assert not view.whole and view.radius == 1 and len(view.nodes) <= 100
    assert view.note.startswith(f"{len(view.nodes)} of 8,063 states")


# -- the HTML report --------------------------------------------------------------------------------------
class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.tags: Counter[str] = Counter()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.ids += [v for k, v in attrs if k == "id" and v]


def _assert_offline(page: str) -> None:
    lowered = page.lower()
    for needle in ("http:", "https:", "//cdn", "<script src", "<link href", "@import", "url("):
        assert needle not in lowered, needle


@needs_dot
def test_report_is_self_contained_with_chart_graph_and_steps(below: Any, tmp_path: Path) -> None:
    model, result, v = below
    written = render_counterexample(model, v, tmp_path, result=result, properties=["agreement"], max_nodes=120)
    report = next(p for p in written.paths if p.suffix == ".html")
    page = report.read_text()
    _assert_offline(page)
    parser = _Ids()
    parser.feed(page)
    assert page.count("<svg width=") == 2 and parser.tags["script"] == 1  # the chart and the graph view
    assert len(parser.ids) == len(set(parser.ids))  # the two drawings' ids do not clash
    assert page.count('<tr class="step step_') == 13
    assert "8,063" in page and "accept-below-promise" in page and v.explanation.split(";")[0] in page
    assert "ArrowRight" in page and "ArrowLeft" in page  # stepping by keys
    assert 'class="node step step_12 violating"' in page  # the chart's highlighted step
    assert "maxBal.a2: 1 → 0" in page  # a per-step diff in the table
    assert {p.suffix for p in written.paths} == {".dot", ".svg", ".png", ".html"}
    png = next(p for p in written.paths if p.name.endswith("chart.png")).read_bytes()
    assert png.startswith(b"\x89PNG")


def test_report_without_drawings_still_has_the_trace(below: Any) -> None:
    model, result, v = below
    page = html_report(model, v, result=result, missing="Graphviz is not installed")
    _assert_offline(page)
    assert page.count('<tr class="step step_') == 13 and "<svg width=" not in page and "class=\"chartpane\"" not in page
    assert "The chart is not drawn: Graphviz is not installed" in page


# -- without Graphviz ------------------------------------------------------------------------------------
@pytest.fixture()
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert find_dot() is None


def test_without_graphviz_dot_files_and_report_are_written(no_dot: None, duplicate: Any, tmp_path: Path) -> None:
    model, result, v = duplicate
    written = render_counterexample(model, v, tmp_path / "out", result=result)
    assert written.graphviz_missing
    assert sorted(p.name for p in written.paths) == [
        "paxos-agreement-chart.dot", "paxos-agreement-graph.dot", "paxos-agreement-report.html"]
    assert any("apt-get install graphviz" in n for n in written.notes)
    page = (tmp_path / "out" / "paxos-agreement-report.html").read_text()
    assert page.count('<tr class="step step_') == 10 and "not drawn" in page


def test_cli_without_graphviz_says_how_to_install_it(no_dot: None, tmp_path: Path) -> None:
    out = tmp_path / "pics"
    run = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots",
                                    "--invariant", "agreement", "--render", str(out)])
    assert run.exit_code == 1, run.output  # the verdict, as without --render
    assert "Traceback" not in run.output + run.stderr
    install = [line for line in run.stderr.splitlines() if "apt-get install graphviz" in line]
    assert len(install) == 1
    assert sorted(p.suffix for p in out.iterdir()) == [".dot", ".dot", ".html"]


# -- the CLI -----------------------------------------------------------------------------------------------
@needs_dot
def test_check_render_writes_every_picture(tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots",
                                    "--invariant", "agreement", "--render", str(tmp_path), "--render-name", "dup",
                                    "--graph-radius", "1", "--graph-max-nodes", "20"])
    assert run.exit_code == 1
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["dup-chart.dot", "dup-chart.png", "dup-chart.svg", "dup-graph.dot", "dup-graph.png",
                     "dup-graph.svg", "dup-report.html"]
    assert "20 of 302 states" in run.stdout and "cut at the cap of 20 states" in run.stdout
    graph_nodes, _ = parse_dot((tmp_path / "dup-graph.dot").read_text())
    assert sum(1 for n in graph_nodes if re.fullmatch(r"n\d+", n)) == 20


def test_check_render_with_json_keeps_stdout_json(tmp_path: Path) -> None:
    import json

    run = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots",
                                    "--invariant", "agreement", "--json", "--render", str(tmp_path)])
    assert json.loads(run.stdout)["verdict"] == "violated"
    assert "rendered agreement" in run.stderr



def test_raft_chart_has_a_lane_per_server_and_an_arrow_per_receipt(raft_votes_twice: Any) -> None:
    model, v = raft_votes_twice
    chart = sequence_chart(model, v.trace, violation=v)
    assert chart.lanes == ("s1", "s2")
    # Four votes, each a request and a response, all received: eight arrows, none dangling.
    assert len(chart.arrows) == 8 and not chart.unreceived
    assert {a.message for a in chart.arrows if a.receiver == 11} == {
        "RequestVoteRequest s2->s1 term=2 lastLogTerm=0 lastLogIndex=0"}
    assert all(a.sender is not None and a.sender < a.receiver for a in chart.arrows)


# -- the defects users filed ------------------------------------------------------------------------------
def test_graphviz_missing_is_one_line_saying_how_to_install_it(no_dot: None, below: Any) -> None:
    from quorumcheck.render import GraphvizMissing

    model, _, v = below
    chart = sequence_chart(model, v.trace, violation=v)
    assert draw(chart, "dot").startswith(b"// A message sequence chart drawn by quorumcheck.")  # needs no Graphviz
    with pytest.raises(GraphvizMissing) as info:
        draw(chart, "svg")
    assert str(info.value) == ("Graphviz's dot was not found on PATH; install Graphviz (apt-get install graphviz) "
                               "to get SVG and PNG")


def test_chart_is_drawn_by_neato_n2_through_the_graphviz_package(below: Any) -> None:
    import graphviz

    model, _, v = below
    chart = sequence_chart(model, v.trace, violation=v)
    assert isinstance(chart.dot, graphviz.Digraph) and (chart.engine, chart.neato_no_op) == ("neato", 2)
    assert chart.source == chart.dot.source


def test_a_message_to_oneself_is_labelled_beside_its_loop_not_on_the_markers(raft_votes_twice: Any) -> None:
    model, v = raft_votes_twice
    nodes, edges = parse_dot(sequence_chart(model, v.trace, violation=v).source)

    def box(attrs: dict[str, str]) -> tuple[float, float, float, float]:
        x, y = (float(c) for c in attrs["pos"].rstrip("!").split(","))
        w, h = float(attrs["width"]) * 72, float(attrs["height"]) * 72
        return x - w / 2, x + w / 2, y - h / 2, y + h / 2

    markers = {n: box(a) for n, a in nodes.items() if re.fullmatch(r"step_\d+", n)}
    loops = [(t, h, a) for t, h, a in edges if "msg" in classes(a) and t.startswith("step_") and h.startswith("step_")
             and nodes[t]["pos"].split(",")[0] == nodes[h]["pos"].split(",")[0]]
    assert len(loops) == 4  # s1 and s2 each ask themselves for a vote and answer
    for _, _, a in loops:
        left, right, low, high = box(nodes[f"msglabel_{a['id'].split('_')[1]}"])
        for m_left, m_right, m_low, m_high in markers.values():
            assert right < m_left or left > m_right or high < m_low or low > m_high  # no overlap with any marker


def test_the_chart_title_wraps_so_that_the_lanes_set_the_width(raft_votes_twice: Any) -> None:
    model, v = raft_votes_twice
    chart = sequence_chart(model, v.trace, violation=v)
    title = re.search(r"graph \[.*label=<(.*)> labeljust", chart.source).group(1)  # type: ignore[union-attr]
    lines = re.findall(r"<b>(.*?)</b>", title)
    assert " · ".join(lines) == chart.title and len(lines) == 2
    nodes, _ = parse_dot(chart.source)
    widest = max(float(a["pos"].split(",")[0]) + float(a.get("width", "0")) * 36 for a in nodes.values())
    assert all(len(line) * 0.66 * 13 <= widest for line in lines)


def test_the_step_that_went_wrong_is_marked_in_chart_and_report(below: Any) -> None:
    import dataclasses

    from quorumcheck.explorer.result import Culprit

    model, result, v = below
    wrong = dataclasses.replace(v, culprit=Culprit(7, "votes-safe", "a1 voted for v2 in ballot 1, v1 was safe"))
    chart = sequence_chart(model, wrong.trace, violation=wrong)
    assert chart.culprit == wrong.culprit
    nodes, edges = parse_dot(chart.source)
    assert sorted(n for n, a in nodes.items() if "culprit" in classes(a)) == ["step_7", "text_7"]
    assert text_of(nodes["text_7"]["label"]) == "7 Phase1b(a=a2, b=1) went wrong here: votes-safe maxBal.a2: 0 → 1"
    assert nodes["step_7"]["fillcolor"] not in (nodes["step_6"]["fillcolor"], nodes["step_12"]["fillcolor"])
    assert "went wrong here: votes-safe (a1 voted for v2 in ballot 1, v1 was safe)" in nodes["step_7"]["tooltip"]
    assert "went wrong at step 7: votes-safe: a1 voted for v2 in ballot 1, v1 was safe" in text_of(
        nodes["violation"]["label"])
    assert [a["class"] for t, h, a in edges if h == "step_7" and t == "guide_7"] == ["guide step_7 culprit"]
    page = html_report(model, wrong, result=result)
    assert re.findall(r'<tr class="([^"]*culprit[^"]*)"', page) == ["step step_7 culprit"]
    assert ('<div class="wrong">went wrong here: votes-safe: a1 voted for v2 in ballot 1, v1 was safe</div>'
            in page)
    assert ('<div class="culprit-note" id="culprit" data-step="7"><b>Went wrong at step 7</b> (went wrong here: '
            "votes-safe): a1 voted for v2 in ballot 1, v1 was safe · click to show it</div>") in page
    # without a culprit (or one outside the trace) nothing is marked
    assert "culprit-note\" id" not in html_report(model, dataclasses.replace(v, culprit=None), result=result)
    outside = dataclasses.replace(v, culprit=Culprit(13, "votes-safe"))
    assert sequence_chart(model, outside.trace, violation=outside).culprit is None


def test_report_says_what_was_explored_never_cut_none(below: Any) -> None:
    model, result, v = below
    page = html_report(model, v, result=result)
    assert "<tr><th>explored</th><td>until the first violation</td></tr>" in page and "None" not in page.split(
        "<h2>")[0]
    model0 = PaxosModel(max_ballot=1)
    cut = explore(model0, max_states=50)
    from quorumcheck.render.report import explored_text

    assert explored_text(cut) == "cut at the state limit (--max-states)"


def test_report_buttons_use_no_glyphs_that_fonts_lack(below: Any) -> None:
    model, result, v = below
    page = html_report(model, v, result=result)
    for glyph in ("⏮", "⏭", "◀", "▶"):
        assert glyph not in page
    stepper = page.split('<div class="stepper">', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'<button id="(\w+)"[^>]*>(?:<svg[^>]*>.*?</svg>)?(\w+)', stepper) == [
        ("first", "first"), ("prev", "previous"), ("next", "next"), ("last", "last")]


def test_report_shows_nested_values_compactly(below: Any) -> None:
    from quorumcheck.render.report import compact_lines

    view = {"n0": {"current_term": 0, "match_index": {}, "votes": "set()"}, "timers": {"n0": ["election"]},
            "network": {}, "used": {"timeouts": 0}}
    assert compact_lines(view) == ["n0: current_term=0, match_index={}, votes=set()", "timers: n0=[election]",
                                   "network: {}", "used: timeouts=0"]
    model, result, v = below
    page = html_report(model, v, result=result)
    first_row = page.split('id="row_0"', 1)[1].split("</tr>", 1)[0]
    assert "<li>maxBal: a1=-1, a2=-1, a3=-1</li>" in first_row and "<li>msgs: []</li>" in first_row


def test_names_with_backslashes_and_entity_like_text_are_drawn_as_written(tmp_path: Path) -> None:
    """Graphviz folds two backslashes into one even in HTML labels, and keeps '&lt;' in an SVG tooltip as an
    entity: an acceptor named p\\\\ drew like p\\, and a value named &lt;v&gt; showed as <v>."""
    from quorumcheck.render.dot import html_text, plain

    assert html_text("p\\\\") == "p\\\\\\\\" and plain("&lt;v&gt;") == "&amp;lt;v&amp;gt;"
    model = PaxosModel(acceptors=["p\\", "p\\\\", "q"], values=["&lt;v&gt;", "w"], max_ballot=1,
                       bug="accept-below-promise")
    result = explore(model, keep_graph=False)
    svg = sequence_chart(model, result.violation.trace, violation=result.violation).dot.pipe("svg").decode()
    lanes = re.findall(r'font-size="10.50">(p\\[^<]*)</text>', svg)
    assert sorted(lanes) == ["p\\", "p\\\\"]
    assert "&lt;v&gt;" not in svg.replace("&amp;lt;v&amp;gt;", "")  # every mention reads &lt;v&gt;, never <v>


@needs_dot
def test_control_characters_in_a_students_names_are_drawn_written_out(tmp_path: Path) -> None:
    """A timer named "election\\x0b", or a class or attribute name holding a terminal escape, went into the DOT
    text as it was: Graphviz's SVG was ill-formed XML ("not well-formed (invalid token)"), so the drawing failed
    (quorumcheck test --render exited 4, and the pytest plugin showed that error instead of the violation).
    Each name is drawn written out, as repr() would write it; printable Unicode stays as it is."""
    from quorumcheck.models.actors import Node
    from quorumcheck.studenttest import check_student

    class Crashes(Node):
        def __init__(self) -> None:
            setattr(self, "x\x1b[2Jé", 1)

        def on_start(self, out: Any) -> None:
            out.set_timer("election\x0b")

        def on_timer(self, name: str, out: Any) -> None:
            raise ValueError("boom")

    node = type("Node\x0b\x1b[8m", (Crashes,), {})
    found = check_student(node, 2, protocol="none", mode="exhaustive", isolate=False, keep_graph=True)
    v = found.violation
    assert v is not None and v.property == "handlers-do-not-crash" and len(v.trace) == 1
    written = render_counterexample(found.model, v, tmp_path, name="names", result=found.result,
                                    formats=("dot", "svg", "html"))
    assert sorted(p.name for p in written.paths) == ["names-chart.dot", "names-chart.svg", "names-graph.dot",
                                                     "names-graph.svg", "names-report.html"]
    for picture in ("names-chart.svg", "names-graph.svg"):
        svg = (tmp_path / picture).read_text(encoding="utf-8")
        ET.fromstring(svg)  # well-formed XML
        assert not [c for c in svg if not c.isprintable() and c not in "\n\t"], picture
        assert "classes=Node\\x0b\\x1b[8m · protocol=none" in svg, picture  # the title
    assert "n0: x\\x1b[2Jé=1" in (tmp_path / "names-graph.svg").read_text(encoding="utf-8")  # a state's tooltip
    chart = (tmp_path / "names-chart.svg").read_text(encoding="utf-8")
    assert "Timer(node=n0, timer=election\\x0b)" in chart
    assert "n0 (Node\\x0b\\x1b[8m) on_timer(&#39;election\\x0b&#39;) raised ValueError: boom" in chart


HUGE_STATE = '''\
from quorumcheck.models.actors import Node
class Grows(Node):
    def __init__(self):
        self.big = list(range(3_000))  # prints as some 17,000 characters: more than Graphviz reads in one label
        self.hits = 0
    def on_start(self, out):
        if self.id == 0:
            out.send(1, 'go')
            out.send(1, 'stop')
    def on_message(self, sender, message, out):
        if message == 'stop' and self.hits:
            raise RuntimeError('done')
        self.big[0] -= 1
        self.hits += 1
'''


@needs_dot
def test_a_state_longer_than_graphviz_reads_is_drawn_cut_short(tmp_path: Path) -> None:
    # Graphviz refuses an HTML label or a quoted string longer than 16,384 characters; it stopped reading and the
    # broken pipe was reported as "cannot write None" with exit 2, in place of the violation's exit 1.
    student = tmp_path / "grows.py"
    student.write_text(HUGE_STATE)
    out = tmp_path / "drawn"
    result = CliRunner().invoke(main, ["test", str(student), "--protocol", "none", "--mode", "exhaustive", "--render",
                                       str(out)])
    assert result.exit_code == 1, result.output
    assert "VIOLATED: handlers-do-not-crash" in result.stdout and "could not draw" not in result.output
    svg = (out / "none-handlers-do-not-crash-chart.svg").read_text()
    ET.fromstring(svg)
    assert "characters more)" in svg and "n1.big: [0, 1, 2, 3" in svg
    assert max(map(len, (out / "none-handlers-do-not-crash-chart.dot").read_text().splitlines())) < 16_384


def test_a_drawing_graphviz_refuses_is_a_notice_and_the_verdict_stands(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from quorumcheck.render import GraphvizError
    import quorumcheck.render as render

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise GraphvizError("neato -Tsvg failed: it stopped reading the drawing")

    monkeypatch.setattr(render, "render_counterexample", refuse)
    student = tmp_path / "grows.py"
    student.write_text(HUGE_STATE)
    result = CliRunner().invoke(main, ["test", str(student), "--protocol", "none", "--mode", "exhaustive", "--render",
                                       str(tmp_path / "d")])
    assert result.exit_code == 1 and "VIOLATED: handlers-do-not-crash" in result.stdout
    assert ("quorumcheck: notice: could not draw the counterexample (neato -Tsvg failed: it stopped reading the "
            "drawing); the verdict stands") in result.stderr
    result = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "1", "--bug", "accept-below-promise",
                                       "--render", str(tmp_path / "e")])
    assert result.exit_code == 1 and "could not draw the counterexample" in result.stderr
