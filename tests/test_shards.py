"""Parallel search (explore(workers=N), --workers N): the counts, depth, verdicts and trace lengths of one process."""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import pytest
from click.testing import CliRunner

from quorumcheck.cli import main
from quorumcheck.errors import InvalidParameter, Undetermined
from quorumcheck.explorer import Verdict, explore
from quorumcheck.models import PaxosModel, RaftModel
from quorumcheck.models.api import Action, Model, always
from test_json_schema import validator



@pytest.mark.parametrize("workers, store, symmetry, states, transitions", [
    (2, "objects", False, 3921, 22994),
    (3, "fingerprints", False, 3921, 22994),
    (2, "fingerprints", True, 443, 2577),
])
def test_counts_and_depth_equal_one_process(workers: int, store: str, symmetry: bool, states: int,
                                            transitions: int) -> None:
    r = explore(PaxosModel(max_ballot=1), workers=workers, store=store, symmetry=symmetry, keep_graph=False)
    assert (r.verdict, r.distinct_states, r.transitions, r.depth) == (Verdict.HOLDS, states, transitions, 17)
    assert r.workers == workers and r.complete
    assert [w.property for w in r.witnesses if w.witnessed] == ["value-can-be-chosen"]
    assert len(r.witnesses[0].trace) == 6  # the shortest witness, as one process finds it


@pytest.mark.parametrize("bug", ["ignore-prior-votes", "small-phase2-quorum",
                                 pytest.param("promise-backwards", marks=pytest.mark.slow)])
def test_every_counterexample_is_shortest_and_replays(bug: str) -> None:
    one = explore(PaxosModel(max_ballot=1, bug=bug), keep_graph=False)
    two = explore(PaxosModel(max_ballot=1, bug=bug), workers=2, keep_graph=False)
    assert two.verdict == one.verdict == Verdict.VIOLATED
    assert two.violation.property == one.violation.property
    assert len(two.violation.trace) == len(one.violation.trace)
    model = PaxosModel(max_ballot=1, bug=bug)
    state = two.violation.trace.steps[0].state
    for step in two.violation.trace.steps[1:]:
        assert model.next_state(state, str(step.action)) == step.state
        state = step.state
    assert two.violation.explanation is not None and two.violation.culprit is not None


def test_a_raft_bug_with_fingerprints_and_symmetry() -> None:
    one = explore(RaftModel(bug="vote-twice"), keep_graph=False)
    two = explore(RaftModel(bug="vote-twice"), workers=2, store="fingerprints", symmetry=True)
    assert two.violation.property == one.violation.property == "election-safety"
    assert len(two.violation.trace) == len(one.violation.trace) == 16


def test_continue_and_max_depth_as_one_process() -> None:
    model = dict(max_ballot=1, bug="ignore-prior-votes")
    one = explore(PaxosModel(**model), stop_at_first=False, keep_graph=False)
    two = explore(PaxosModel(**model), stop_at_first=False, workers=2)
    assert [(v.property, len(v.trace)) for v in two.violations] == [(v.property, len(v.trace)) for v in one.violations]
    assert (two.distinct_states, two.transitions, two.depth) == (one.distinct_states, one.transitions, one.depth)
    for depth in (5, 9):  # cut; exactly enough (Paxos 0..0 has depth 9: nothing new lies beyond)
        one = explore(PaxosModel(max_ballot=0), max_depth=depth, keep_graph=False)
        two = explore(PaxosModel(max_ballot=0), max_depth=depth, workers=2)
        assert (two.verdict, two.stop_reason, two.distinct_states, two.depth) == (
            one.verdict, one.stop_reason, one.distinct_states, one.depth)


def test_limits_end_undetermined() -> None:
    r = explore(PaxosModel(max_ballot=1), workers=2, max_states=500)
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "max_states")
    assert 500 <= r.distinct_states < 3921  # the limit is checked at the end of a level


@pytest.mark.parametrize("limit", [72, 73, 74])
def test_a_state_limit_at_the_state_count_gives_one_processs_verdict(limit: int) -> None:
    # Paxos 0..0 has 73 states. With the limit at exactly 73 one process holds (it never needs a 74th), and two
    # workers said undetermined: states were still queued, although the next level found nothing new.
    one = explore(PaxosModel(max_ballot=0), max_states=limit, keep_graph=False)
    two = explore(PaxosModel(max_ballot=0), max_states=limit, workers=2)
    assert (two.verdict, two.stop_reason) == (one.verdict, one.stop_reason)
    assert one.verdict is (Verdict.UNDETERMINED if limit < 73 else Verdict.HOLDS)


class Exploding(Model[int]):
    """Counts up; expanding ``fatal`` kills the process that does it (a worker), or raises Undetermined."""

    name = "exploding"

    def __init__(self, fatal: int, how: str) -> None:
        self.fatal, self.how, self.parent = fatal, how, os.getpid()

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[Action, int]]:
        if state == self.fatal and os.getpid() != self.parent:
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise Undetermined("the solver answered unknown")
        return [(Action("Inc"), state + 1), (Action("Twice"), 2 * state + 1)] if state < 200 else []

    def properties(self) -> Any:
        return [always("small", lambda x: x < 10**6)]


def test_a_worker_that_dies_ends_the_run_undetermined_never_a_pass() -> None:
    r = explore(Exploding(fatal=37, how="kill"), workers=2)
    assert (r.verdict, r.stop_reason, r.complete) == (Verdict.UNDETERMINED, "worker-died", False)
    assert any("worker" in n and "died (killed by signal 9)" in n for n in r.notices)
    r = explore(Exploding(fatal=37, how="unknown"), workers=2)
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "unknown")
    assert explore(Exploding(fatal=-1, how="kill"), workers=2).verdict is Verdict.HOLDS


def test_bad_worker_counts_are_one_line_errors() -> None:
    with pytest.raises(InvalidParameter, match="workers must be a whole number from 1 to 64, got 0"):
        explore(PaxosModel(max_ballot=0), workers=0)
    with pytest.raises(InvalidParameter, match="store='fingerprints' keeps no state objects, so it cannot keep the "
                                               "state graph"):
        explore(PaxosModel(max_ballot=0), workers=2, store="fingerprints", keep_graph=True)


def _graph_by_states(result: Any) -> tuple[dict[Any, int], set[tuple[Any, Any, tuple[str, ...]]], list[Any]]:
    g = result.graph
    nodes = {d["state"]: d["depth"] for _, d in g.nodes(data=True)}
    edges = {(g.nodes[u]["state"], g.nodes[v]["state"], tuple(sorted(map(str, d["actions"]))))
             for u, v, d in g.edges(data=True)}
    return nodes, edges, [g.nodes[i]["state"] for i in g.graph["init"]]


@pytest.mark.parametrize("workers, symmetry, model", [
    (2, False, "paxos"), (3, False, "paxos"), (2, True, "paxos"), (2, False, "raft"), (3, True, "raft"),
])
def test_the_workers_gather_the_graph_one_process_builds(workers: int, symmetry: bool, model: str) -> None:
    from quorumcheck.explorer.graph import labelled_transitions, shortest_trace

    def make() -> Any:
        return PaxosModel(max_ballot=1) if model == "paxos" else RaftModel(max_term=1, values=1, max_log=1)

    props = None if model == "paxos" else ["election-safety"]  # terms up to 1 commit nothing: no witness wanted
    one = explore(make(), symmetry=symmetry, properties=props)
    assert explore(make(), symmetry=symmetry, workers=workers, properties=props).graph is None  # on request only
    many = explore(make(), symmetry=symmetry, workers=workers, properties=props, keep_graph=True)
    assert many.verdict is one.verdict is Verdict.HOLDS and many.graph is not None
    # The same states at the same depths, the same labelled edges, the same initial states.
    assert _graph_by_states(many) == _graph_by_states(one)
    assert labelled_transitions(many.graph) == labelled_transitions(one.graph)
    assert many.graph.number_of_nodes() == many.distinct_states
    # Shortest traces read from the gathered graph are as long as each state's depth.
    for node in list(many.graph.nodes)[:: max(1, many.distinct_states // 50)]:
        assert len(shortest_trace(many.graph, node)) == many.graph.nodes[node]["depth"]


def test_the_cli_runs_with_workers_and_its_json_validates() -> None:
    r = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "1", "--workers", "2", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["distinct_states"], data["depth"], data["workers"]) == (3921, 17, 2)
    assert "2 workers: states were shared out and told apart across workers by 64-bit hashes" in r.stderr
    validator("check-result.schema.json").validate(data)  # the schemas and registry of test_json_schema.py
    r = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "1", "--bug", "ignore-prior-votes",
                                  "--workers", "2"])
    assert r.exit_code == 1 and "VIOLATED: agreement" in r.output and "counterexample to agreement: 12 steps" in r.output


def test_progress_is_reported_once_per_level_with_the_sums() -> None:
    seen: list[Any] = []
    r = explore(PaxosModel(max_ballot=1), workers=2, on_progress=seen.append)
    assert [p.depth for p in seen] == sorted(p.depth for p in seen)  # one report per level, in order
    assert seen[-1].distinct_states == r.distinct_states == 3921 and seen[-1].transitions == r.transitions


class Bounded(Model[int]):
    """Counts up by 1 or 3 within ``x <= 10``; the states beyond it are checked, never expanded."""

    name = "bounded"

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[Action, int]]:
        return [(Action("Inc"), state + 1), (Action("Jump"), state + 3)]

    def within_boundary(self, state: int) -> bool:
        return state <= 10

    def properties(self) -> Any:
        return [always("not-twelve", lambda x: x != 12)]


@pytest.mark.parametrize("workers", [2, 3])
def test_a_violation_beyond_the_bound_is_found_as_one_process_finds_it(workers: int) -> None:
    # 12 is reached only from 9, 10 or 11 (11 is beyond the bound, so never expanded): depth 4 via 0-3-6-9-12.
    one = explore(Bounded(), keep_graph=False)
    many = explore(Bounded(), workers=workers, keep_graph=False)
    assert one.verdict is many.verdict is Verdict.VIOLATED
    assert [str(s.action) for s in many.violation.trace.steps[1:]] == ["Jump()"] * 4
    assert many.violation.trace.steps[-1].state == 12 and len(one.violation.trace) == len(many.violation.trace)
    held = explore(Bounded(), workers=workers, properties=[], keep_graph=True)
    assert (held.verdict, held.distinct_states, held.transitions) == (Verdict.HOLDS, 11, 22)
    assert sorted(held.graph.nodes[n]["state"] for n in held.graph) == list(range(11))


@pytest.mark.parametrize("model", [PaxosModel(max_ballot=1), RaftModel(max_term=2, values=1, max_log=1)],
                         ids=["paxos", "raft"])
def test_a_state_from_another_process_gets_the_models_shared_parts_back(model: Any) -> None:
    import pickle

    states = [d["state"] for _, d in explore(model, keep_graph=True, max_states=3000).graph.nodes(data=True)]
    for state in states[::7]:
        copy = pickle.loads(pickle.dumps(state))
        shared = model.share(copy)
        assert shared == state and hash(shared) == hash(state)
        # Every frozenset part (messages, elections, allLogs) is the very object the model built.
        assert all(a is b for a, b in zip(shared, state) if isinstance(a, frozenset))
