"""Partial-order reduction with sleep sets (``SleepSets``; ``explore(por=True)`` on actor models, ``test --por``).

Sleep sets must visit exactly the states of the plain search, each at its breadth-first depth, and so give the
same verdicts and the same shortest counterexamples; only the steps computed go down. These tests compare
the two searches state for state, on random actor systems (Hypothesis) and on the shipped examples, and check
the model's declaration (steps with disjoint resources commute) on whole state graphs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from quorumcheck.cli import main
from quorumcheck.explorer import Verdict, explore
from quorumcheck.models.actor_model import ActorModel
from quorumcheck.models.actors import Node

from conftest import EXAMPLES, assert_real_path, example
from random_actors import actor_systems, random_node

def states_by_depth(result: Any) -> set[tuple[Any, int]]:
    return {(d["state"], d["depth"]) for _, d in result.graph.nodes(data=True)}


def assert_same_search(model: Any, **limits: Any) -> tuple[Any, Any]:
    """Run plain and with sleep sets; the same states at the same depths, verdicts and shortest traces."""
    plain = explore(model, stop_at_first=False, keep_graph=True, **limits)
    slept = explore(model, stop_at_first=False, keep_graph=True, por=True, **limits)
    assert slept.partial_order is not None and slept.partial_order.method == "sleep"
    assert states_by_depth(slept) == states_by_depth(plain)
    assert (slept.distinct_states, slept.depth, slept.verdict, slept.stop_reason) == \
           (plain.distinct_states, plain.depth, plain.verdict, plain.stop_reason)
    assert [(v.property, len(v.trace)) for v in slept.violations] == \
           [(v.property, len(v.trace)) for v in plain.violations]
    assert {w.property: w.trace and len(w.trace) for w in slept.witnesses} == \
           {w.property: w.trace and len(w.trace) for w in plain.witnesses}
    assert slept.transitions + slept.partial_order.slept == plain.transitions
    for v in slept.violations:  # a real path of the unreduced model
        if v.trace is not None:
            assert_real_path(model, v.trace)
    return plain, slept


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor_systems())
def test_sleep_sets_visit_every_state_at_its_depth(system: tuple[type[Node], dict[str, Any]]) -> None:
    node, options = system
    assert_same_search(ActorModel(node, **options), max_depth=6)


def test_random_systems_do_sleep() -> None:
    """The comparison above is not vacuous: in a system with independent nodes, steps are asleep."""
    node = random_node(3, {(0, 0): (1, ((1, 1),)), (0, 1): (2, ((2, 0),))}, {0: (1, ((1, 0),))}, ((1, 0), (2, 0)),
                       None)
    plain, slept = assert_same_search(ActorModel(node, nodes=3, max_timeouts=2), max_depth=8)
    assert slept.partial_order.slept > plain.transitions // 4


def declaration_holds(model: ActorModel, limit: int = 700) -> int:
    """Every pair of enabled steps with disjoint resources, in every state of a search: both orders meet,
    neither disables the other, and both successors of an in-bound state in the bound keep the meeting
    state in the bound. Returns the pairs checked."""
    graph = explore(model, properties=[], max_states=limit).graph
    checked = 0
    for _, data in graph.nodes(data=True):
        s = data["state"]
        if not model.within_boundary(s):
            continue
        steps = dict(model.successors(s))
        for a, sa in steps.items():
            ra = model.step_resources(a)
            for b, sb in steps.items():
                rb = model.step_resources(b)
                if a == b or ra is None or rb is None or not ra.isdisjoint(rb) or model.halted(sa) or model.halted(sb):
                    continue
                after_a, after_b = dict(model.successors(sa)), dict(model.successors(sb))
                assert b in after_a and a in after_b, f"{a} disables {b} or the reverse, in {s}"
                assert after_a[b] == after_b[a], f"{a} and {b} do not commute in {s}"
                if model.within_boundary(sa) and model.within_boundary(sb):
                    assert model.within_boundary(after_a[b])
                checked += 1
    return checked


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor_systems())
def test_declared_resources_commute_on_random_systems(system: tuple[type[Node], dict[str, Any]]) -> None:
    node, options = system
    declaration_holds(ActorModel(node, **options), limit=400)


@pytest.mark.parametrize("file, cls, options", [
    ("paxos.py", "PaxosNode", {"protocol": "paxos", "requests": 1, "max_timeouts": 0, "max_drops": 1}),
    ("raft.py", "RaftNode", {"protocol": "raft", "requests": 1, "max_timeouts": 2, "max_crashes": 1}),
])
def test_declared_resources_commute_on_the_examples(file: str, cls: str, options: dict[str, Any]) -> None:
    assert declaration_holds(ActorModel(example(file, cls), nodes=3, **options)) > 300


def test_paxos_example_exact() -> None:
    """examples/paxos.py with one request: the plain count, 42 % of the steps asleep."""
    model = ActorModel(example("paxos.py", "PaxosNode"), nodes=3, protocol="paxos", requests=1, max_timeouts=0)
    plain, slept = explore(model, keep_graph=False), explore(model, keep_graph=False, por=True)
    assert (plain.verdict, plain.distinct_states, plain.depth, plain.transitions) == (Verdict.HOLDS, 25576, 20, 129990)
    assert (slept.verdict, slept.distinct_states, slept.depth, slept.transitions) == (Verdict.HOLDS, 25576, 20, 75548)
    assert slept.partial_order.slept == 129990 - 75548


@pytest.mark.parametrize("file, cls, options", [
    ("raft_bugs.py", "CountStaleVotes", {"protocol": "raft", "requests": 2, "max_timeouts": 4, "max_term": 4}),
    pytest.param("raft_bugs.py", "CommitToLogEnd", {"protocol": "raft", "requests": 2, "max_timeouts": 4,
                                                     "max_term": 4}, marks=pytest.mark.slow),
    ("raft_bugs.py", "VoteTwice", {"protocol": "raft", "requests": 0, "max_timeouts": 2}),
    pytest.param("paxos_bugs.py", "CountsDuplicateVotes",
                 {"protocol": "paxos", "requests": 2, "max_timeouts": 0, "max_duplicates": 1}, marks=pytest.mark.slow),
])
def test_shipped_bugs_found_alike(file: str, cls: str, options: dict[str, Any]) -> None:
    model = ActorModel(example(file, cls), nodes=3, **options)
    plain = explore(model, keep_graph=False)
    slept = explore(model, keep_graph=False, por=True)
    assert plain.verdict is slept.verdict is Verdict.VIOLATED
    assert slept.partial_order is not None and slept.partial_order.slept > 0
    # Stopped at the first violation, the counts depend on the order within the last level; its depth does not.
    assert (slept.violation.property, len(slept.violation.trace), slept.depth) == \
           (plain.violation.property, len(plain.violation.trace), plain.depth)
    assert_real_path(model, slept.violation.trace)


def test_raft_leader_append_only_keeps_the_reduction() -> None:
    """Leader Append-Only judges one server at a time, so sleep sets stay on for Raft code."""
    model = ActorModel(example("raft.py", "RaftNode"), nodes=3, protocol="raft", requests=1, max_timeouts=2)
    result = explore(model, por=True, max_states=2000, keep_graph=False)
    assert result.partial_order is not None and result.partial_order.slept > 0 and not result.notices


def test_cli_por_takes_fewer_steps_to_the_same_states() -> None:
    args = ["test", str(EXAMPLES / "paxos.py"), "--protocol", "paxos", "--requests", "1", "--mode",
            "exhaustive", "--no-isolate", "--json"]
    runner = CliRunner()
    full = runner.invoke(main, [*args, "--no-reduction"])
    reduced = runner.invoke(main, [*args[:-1], "--por"])
    assert reduced.exit_code == full.exit_code == 0, (reduced.output, full.output)
    b = json.loads(full.stdout)
    assert (b["distinct_states"], b["transitions"], b["partial_order"]) == (25576, 129990, None)
    assert "25,576 distinct states · 75,548 transitions (54,442 more asleep: sleep sets)" in reduced.output
