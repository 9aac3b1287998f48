"""The search loop's semantics, on small models whose answers are known independently."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
import time

import networkx as nx
import pytest
from conftest import assert_real_path, labels
from hypothesis import given, settings
from hypothesis import strategies as st
from quorumcheck.explorer import Verdict, explore, shortest_trace
from quorumcheck.explorer.graph import GraphRecorder
from quorumcheck.models import Action, Model, PaxosModel, always, sometimes

from quorumcheck.errors import InvalidModel, InvalidParameter, Undetermined


class Counter(Model[int]):
    """x = 0, x' = x + 1: the toy spec REFERENCE.md checked on TLC 2.15."""

    name = "counter"

    def __init__(self, bound: int | None = 2, invariant_max: int = 2, goal: int | None = None) -> None:
        self.bound, self.invariant_max, self.goal = bound, invariant_max, goal

    def init_states(self) -> Iterable[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[Action, int]]:
        return [(Action("Inc"), state + 1)]

    def properties(self):  # type: ignore[no-untyped-def]
        props = [always("small", lambda x: x <= self.invariant_max, "x stays small")]
        if self.goal is not None:
            props.append(sometimes("goal", lambda x: x == self.goal, "x reaches the goal"))
        return props

    def within_boundary(self, state: int) -> bool:
        return self.bound is None or state <= self.bound


def test_constraint_semantics_match_tlc() -> None:
    # TLC 2.15: 3 distinct states, and the invariant x <= 2 is reported violated at x = 3.
    r = explore(Counter(bound=2, invariant_max=2))
    assert r.verdict is Verdict.VIOLATED
    assert r.distinct_states == 3
    v = r.violations[0]
    assert v.property == "small" and v.outside_boundary
    assert v.trace is not None and v.trace.states == [0, 1, 2, 3] and len(v.trace) == 3
    assert r.graph is not None and r.graph.number_of_nodes() == 3  # x = 3 is not stored


def test_bounded_run_holds_and_counts_the_step_leaving_the_bound() -> None:
    r = explore(Counter(bound=2, invariant_max=5))
    assert (r.verdict, r.distinct_states, r.transitions, r.depth) == (Verdict.HOLDS, 3, 3, 3)


class DictModel(Model[int]):
    """A model over an explicit directed graph: states are nodes, actions are edges."""

    name = "graph"

    def __init__(self, graph: nx.DiGraph, init: list[int], bad: set[int] = frozenset(), goal: set[int] | None = None):
        self.g, self.init, self.bad, self.goal = graph, init, bad, goal

    def init_states(self) -> list[int]:
        return self.init

    def successors(self, state: int) -> list[tuple[Action, int]]:
        return [(Action("Go", to=v), v) for v in self.g.successors(state)]

    def properties(self):  # type: ignore[no-untyped-def]
        props = [always("safe", lambda s: s not in self.bad)]
        if self.goal is not None:
            props.append(sometimes("goal", lambda s: s in self.goal))
        return props


graphs = st.integers(min_value=1, max_value=14).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
        st.lists(st.integers(0, n - 1), min_size=1, max_size=3),
    )
)


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_counts_depth_and_traces_agree_with_networkx(case: tuple[int, list[tuple[int, int]], list[int]]) -> None:
    n, edges, init = case
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    r = explore(DictModel(g, init))
    reachable = set(init).union(*(nx.descendants(g, i) for i in init))
    distance = nx.multi_source_dijkstra_path_length(g, set(init))
    assert r.verdict is Verdict.HOLDS
    assert r.distinct_states == len(reachable)
    assert r.transitions == sum(g.out_degree(v) for v in reachable)
    assert r.depth == max(distance.values()) + 1
    assert r.graph is not None
    ours = nx.relabel_nodes(r.graph, {k: d["state"] for k, d in r.graph.nodes(data=True)})
    assert set(ours.edges) == {(u, v) for u, v in g.edges if u in reachable}
    for node, data in r.graph.nodes(data=True):
        trace = shortest_trace(r.graph, node)
        assert len(trace) == distance[data["state"]] == data["depth"]


@settings(max_examples=150, deadline=None)
@given(graphs, st.data())
def test_first_violation_has_a_shortest_trace(case: tuple[int, list[tuple[int, int]], list[int]], data) -> None:  # type: ignore[no-untyped-def]
    n, edges, init = case
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    bad = set(data.draw(st.lists(st.integers(0, n - 1), max_size=3)))
    model = DictModel(g, init, bad=bad)
    distance = nx.multi_source_dijkstra_path_length(g, set(init))
    reachable_bad = [b for b in bad if b in distance]
    for keep_graph in (True, False):
        r = explore(model, keep_graph=keep_graph)
        if not reachable_bad:
            assert r.verdict is Verdict.HOLDS
            continue
        assert r.verdict is Verdict.VIOLATED
        trace = r.violations[0].trace
        assert trace is not None
        assert trace.final in bad
        assert len(trace) == min(distance[b] for b in reachable_bad)
        assert_real_path(model, trace)


def test_continue_reports_every_property_with_its_own_shortest_trace() -> None:
    g = nx.DiGraph([(0, 1), (1, 2), (2, 3), (0, 4)])

    class TwoProps(DictModel):
        def properties(self):  # type: ignore[no-untyped-def]
            return [always("not3", lambda s: s != 3), always("not4", lambda s: s != 4)]

    first = explore(TwoProps(g, [0]))
    assert [v.property for v in first.violations] == ["not4"]
    every = explore(TwoProps(g, [0]), stop_at_first=False)
    assert every.verdict is Verdict.VIOLATED and every.complete
    by_name = {v.property: v for v in every.violations}
    assert set(by_name) == {"not3", "not4"}
    assert [len(by_name["not3"].trace), len(by_name["not4"].trace)] == [3, 1]  # type: ignore[arg-type]
    assert every.distinct_states == 5


def test_unwitnessed_reachability_fails_the_run() -> None:
    r = explore(Counter(bound=3, invariant_max=10, goal=7))
    assert r.verdict is Verdict.VIOLATED
    assert [(v.property, v.trace) for v in r.violations] == [("goal", None)]
    assert not r.witnesses[0].witnessed
    ok = explore(Counter(bound=3, invariant_max=10, goal=2))
    assert ok.verdict is Verdict.HOLDS and ok.witnesses[0].trace is not None
    assert ok.witnesses[0].trace.states == [0, 1, 2]


def test_limits_end_in_undetermined_never_a_pass() -> None:
    infinite = Counter(bound=None, invariant_max=10**9)
    r = explore(infinite, max_states=50)
    assert (r.verdict, r.stop_reason, r.distinct_states, r.complete) == (Verdict.UNDETERMINED, "max_states", 50, False)
    r = explore(infinite, max_depth=10)
    assert (r.verdict, r.stop_reason, r.depth) == (Verdict.UNDETERMINED, "max_depth", 10)
    r = explore(infinite, timeout=0.2)
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "timeout")
    assert r.exit_code == 3


def test_limits_that_cut_nothing_do_not_make_a_run_undetermined() -> None:
    r = explore(PaxosModel(max_ballot=0), max_depth=9, max_states=73)
    assert (r.verdict, r.distinct_states, r.depth) == (Verdict.HOLDS, 73, 9)
    assert explore(PaxosModel(max_ballot=0), max_depth=8).verdict is Verdict.UNDETERMINED
    assert explore(PaxosModel(max_ballot=0), max_states=72).verdict is Verdict.UNDETERMINED


def test_undecidable_property_makes_the_run_undetermined() -> None:
    class Unsure(Counter):
        def properties(self):  # type: ignore[no-untyped-def]
            def judge(x: int) -> bool:
                if x == 2:
                    raise Undetermined("solver said unknown")
                return True

            return [always("unsure", judge)]

    r = explore(Unsure(bound=5))
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "unknown")


def test_badly_built_models_are_rejected_before_the_run() -> None:
    class Empty(Counter):
        def init_states(self) -> list[int]:
            return []

    with pytest.raises(InvalidModel, match="no initial state"):
        explore(Empty())

    class Twice(Counter):
        def properties(self):  # type: ignore[no-untyped-def]
            return [always("p", bool), always("p", bool)]

    with pytest.raises(InvalidModel, match="two properties named 'p'"):
        explore(Twice())
    with pytest.raises(InvalidParameter, match="max_states must be a positive number"):
        explore(Counter(), max_states=0)
    with pytest.raises(InvalidParameter, match="has no property 'agremeent'"):
        explore(PaxosModel(max_ballot=0), properties=["agremeent"])


def test_selecting_properties() -> None:
    r = explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"), properties=["validity"])
    assert r.verdict is Verdict.HOLDS and r.witnesses == []


def test_progress_callback_sees_growing_counts() -> None:
    seen = []
    explore(PaxosModel(max_ballot=1), on_progress=seen.append, progress_interval=0.0)
    assert seen, "no progress reported"
    assert [p.distinct_states for p in seen] == sorted(p.distinct_states for p in seen)
    assert all(p.depth >= 1 and p.peak_memory_bytes > 0 for p in seen)


def test_recorded_graph_equals_one_built_with_the_public_api() -> None:
    model = PaxosModel(max_ballot=0)
    r = explore(model)
    expected = nx.DiGraph()
    s0 = next(iter(model.init_states()))
    index = {s0: 0}
    queue = [s0]
    expected.add_node(0, state=s0, depth=0)
    for s in queue:
        for action, t in model.successors(s):
            if t not in index:
                index[t] = len(index)
                expected.add_node(index[t], state=t, depth=expected.nodes[index[s]]["depth"] + 1)
                queue.append(t)
            u, v = index[s], index[t]
            if expected.has_edge(u, v):
                expected.edges[u, v]["actions"].append(action)
            else:
                expected.add_edge(u, v, actions=[action])
    expected.graph["init"] = [0]
    assert r.graph is not None
    assert nx.utils.graphs_equal(r.graph, expected)


def test_graph_recorder_keeps_parallel_labels() -> None:
    rec = GraphRecorder()
    rec.add_state(0, "s", 0)
    rec.add_state(1, "t", 1)
    rec.add_transition(0, 1, Action("A"))
    rec.add_transition(0, 1, Action("B"))
    assert [str(a) for a in rec.graph.edges[0, 1]["actions"]] == ["A()", "B()"]
    assert list(rec.graph.predecessors(1)) == [0]


def test_trace_labels_read_like_the_spec() -> None:
    r = explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"))
    trace = r.violations[0].trace
    assert trace is not None
    assert labels(trace)[:1] == ["Phase1a(b=0)"]
    assert sum(lbl.startswith("Phase2a(b=0") for lbl in labels(trace)) == 2


def test_action_properties_are_checked_on_every_transition() -> None:
    from quorumcheck.models import every_step

    class Wobbly(DictModel):
        def properties(self):  # type: ignore[no-untyped-def]
            return [every_step("up", lambda s, t: t >= s, "never step down")]

    # 0 -> 1 -> 2 -> 1 (a step down into a state already seen) and 0 -> 3
    g = nx.DiGraph([(0, 1), (1, 2), (2, 1), (0, 3)])
    r = explore(Wobbly(g, [0]))
    assert r.verdict is Verdict.VIOLATED
    v = r.violations[0]
    assert (v.property, v.expectation.value) == ("up", "every-step")
    assert v.trace is not None and v.trace.states == [0, 1, 2, 1]
    assert_real_path(Wobbly(g, [0]), v.trace)
    ok = explore(Wobbly(nx.DiGraph([(0, 1), (1, 1), (1, 2)]), [0]))
    assert ok.verdict is Verdict.HOLDS and ok.transitions == 3


class SlowSetUp(Counter):
    """A counter whose properties take long to build and whose every step takes 50 ms."""

    def __init__(self, setup_seconds: float) -> None:
        super().__init__(bound=None, invariant_max=10**9)
        self.setup_seconds = setup_seconds

    def properties(self):  # type: ignore[no-untyped-def]
        end = time.perf_counter() + self.setup_seconds
        while time.perf_counter() < end:  # Python work, as building Z3 judges is: the alarm can cut it
            sum(range(1000))
        return super().properties()

    def successors(self, state: int) -> list[tuple[Action, int]]:
        time.sleep(0.05)
        return [(Action("Inc"), state + 1)]


def test_the_time_limit_binds_during_set_up() -> None:
    """Building judges for a big instance (Raft on 12 servers takes seconds) is inside --timeout too."""
    started = time.perf_counter()
    r = explore(SlowSetUp(setup_seconds=30), timeout=0.3)
    assert time.perf_counter() - started < 10  # not the 30 s the set-up would take
    assert (r.verdict, r.stop_reason, r.complete, r.distinct_states) == (Verdict.UNDETERMINED, "timeout", False, 0)


def test_the_time_limit_binds_between_transitions() -> None:
    """Each expansion takes 50 ms: the run stops after about 0.4 s, not after 512 expansions (25 s)."""
    started = time.perf_counter()
    r = explore(SlowSetUp(setup_seconds=0), timeout=0.4)
    assert time.perf_counter() - started < 10
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "timeout")
    assert 1 <= r.distinct_states < 100


def test_the_collector_resumes_after_a_search_with_its_states_in_the_oldest_generation() -> None:
    """The search pauses CPython's cyclic collector; afterwards it is on again, nothing stays frozen, and
    what the search built is not left in the young generations, where the next allocations would rescan it
    (4.4 s, then 15.8 s more, after Paxos 0..3 with symmetry and the graph)."""
    import gc

    assert gc.isenabled() and gc.get_freeze_count() == 0
    r = explore(PaxosModel(max_ballot=1), keep_graph=True)
    assert r.distinct_states == 3921
    assert gc.isenabled() and gc.get_freeze_count() == 0
    young = len(gc.get_objects(0)) + len(gc.get_objects(1))
    assert young < 1_000  # the graph alone is some 90,000 tracked objects; before the fix, half were young


def test_a_search_leaves_the_callers_frozen_objects_frozen() -> None:
    import gc

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        explore(PaxosModel(max_ballot=0))
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()


class _BackAndForth(Model[int]):
    """0 -> 1 -> 0, and 1 -> 2 outside the bound; "no step back to 0" fails only on 1 -> 0, and "below 2"
    only outside the bound: both on steps from the deepest level, to a state seen before or never stored."""

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, s: int) -> list[tuple[Action, int]]:
        return [(Action("Back"), 0), (Action("Out"), 2)] if s == 1 else [(Action("On"), 1)]

    def within_boundary(self, s: int) -> bool:
        return s < 2

    def properties(self) -> list[Any]:
        from quorumcheck.models.api import every_step

        return [every_step("no-step-back", lambda a, b: not (a == 1 and b == 0)), always("below-2", lambda s: s < 2)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_that_ends_complete_at_max_depth_has_judged_every_step(workers: int) -> None:
    """With --max-depth at the graph's own depth the last level stores nothing new, but its steps are still
    taken: each is counted, its action properties checked, and a successor outside the bound checked."""
    model = _BackAndForth()
    full = explore(model, keep_graph=False, workers=workers, stop_at_first=False)
    at_depth = explore(model, keep_graph=False, workers=workers, max_depth=2, stop_at_first=False)
    assert full.transitions == at_depth.transitions == 3
    for result in (full, at_depth):
        assert result.verdict is Verdict.VIOLATED
        assert sorted(v.property for v in result.violations) == ["below-2", "no-step-back"]
        assert [labels(v.trace) for v in sorted(result.violations, key=lambda v: v.property)] == [
            ["On()", "Out()"], ["On()", "Back()"]]
    graph = explore(model, max_depth=2, properties=["no-step-back"], stop_at_first=False)
    assert graph.graph.number_of_edges() == 2 and graph.verdict is Verdict.VIOLATED


@pytest.mark.parametrize("store", ["objects", "fingerprints"])
def test_a_count_limit_that_is_not_a_whole_number_is_refused_not_ignored(store: str) -> None:
    """The state cap is compared with ==, so max_states=10.5 never stopped the run: Paxos 0..0 passed
    with 73 states. A limit must never turn into a pass."""
    model = PaxosModel(max_ballot=0)
    with pytest.raises(InvalidParameter, match=r"^max_states must be a positive number of states \(a whole number "
                                               r">= 1\), got 10\.5; omit it for no limit$"):
        explore(model, max_states=10.5, store=store, keep_graph=False)
    for bad in (2.5, True, "3", 0):
        with pytest.raises(InvalidParameter, match=r"^max_depth must be a positive number of levels"):
            explore(model, max_depth=bad, store=store, keep_graph=False)
    for bad in (float("inf"), float("nan"), -1, "3", True):
        with pytest.raises(InvalidParameter, match=r"^timeout "):
            explore(model, timeout=bad, store=store, keep_graph=False)
    capped = explore(model, max_states=10, store=store, keep_graph=False)
    assert (capped.verdict, capped.distinct_states) == (Verdict.UNDETERMINED, 10)


def test_explore_wants_a_model_instance() -> None:
    with pytest.raises(InvalidModel, match=r"^explore\(\) needs a model instance \(a quorumcheck.models.api.Model\), "
                                           r"got None; pass e.g. PaxosModel\(\)$"):
        explore(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidModel, match=r"got 'paxos'; pass e.g. PaxosModel\(\)$"):
        explore("paxos")  # type: ignore[arg-type]
    with pytest.raises(InvalidModel, match=r"^explore\(\) needs a model instance, got the class PaxosModel; pass "
                                           r"PaxosModel\(\) \(with its parameters\)$"):
        explore(PaxosModel)  # type: ignore[arg-type]


def test_a_model_that_breaks_the_api_is_rejected_where_the_search_first_calls_it() -> None:
    """Not a TypeError from the middle of the loop: InvalidModel naming the method and the fix."""

    class InitNone(Counter):
        def init_states(self):  # type: ignore[no-untyped-def]
            return None

    class InitList(Counter):
        def init_states(self):  # type: ignore[no-untyped-def]
            return [[0]]

    class OnePropery(Counter):
        def properties(self):  # type: ignore[no-untyped-def]
            return always("small", lambda x: x < 3)

    class NotPairs(Counter):
        def successors(self, state):  # type: ignore[no-untyped-def]
            return [state + 1]

    class NoSuccessors(Counter):
        def successors(self, state):  # type: ignore[no-untyped-def]
            return None

    class ListState(Counter):
        def successors(self, state):  # type: ignore[no-untyped-def]
            return [(Action("Inc"), [state + 1])]

    class StrLabel(Counter):
        def successors(self, state):  # type: ignore[no-untyped-def]
            return [("Inc", state + 1)]

    cases = [
        (InitNone(), r"^model 'counter': init_states\(\) must return a list of states, got None$"),
        (StrLabel(), r"^model 'counter': successors\(\) must label each step with an Action, got 'Inc'; return e\.g\. "
                     r"\(Action\('Step'\), next_state\), here Action\('Inc'\)$"),
        (InitList(), r"^model 'counter': states must be hashable, but init_states\(\) gave \[0\] \(unhashable type: "
                     r"'list'\); use tuples, frozensets or NamedTuples instead of lists, sets and dicts$"),
        (OnePropery(), r"^model 'counter': properties\(\) must return a list of properties, got the single property "
                       r"'small'; return it in a list: \[always\('small', \.\.\.\)\]$"),
        (NotPairs(), r"^model 'counter': successors\(\) must return \(Action, state\) pairs, got 1; return e.g. "
                     r"\[\(Action\('Step'\), next_state\)\]$"),
        (NoSuccessors(), r"^model 'counter': successors\(\) must return a list of \(Action, state\) pairs, got None$"),
        (ListState(), r"^model 'counter': states must be hashable, but successors\(\) gave \[1\]"),
    ]
    for model, message in cases:
        for workers in (1, 2):
            with pytest.raises(InvalidModel, match=message):
                explore(model, workers=workers)


def test_an_exception_from_the_models_code_says_where_the_search_was() -> None:
    class Boom(Counter):
        def successors(self, state):  # type: ignore[no-untyped-def]
            if state == 3:
                raise ValueError("bad step")
            return super().successors(state)

    with pytest.raises(ValueError, match="bad step") as info:
        explore(Boom(bound=None, invariant_max=10))
    assert info.value.__notes__ == ["quorumcheck: raised while the search expanded a state at depth 4 of model "
                                    "'counter': 3"]


def test_one_name_is_one_name_not_its_letters() -> None:
    """properties="agreement" used to be read letter by letter ("no property 'a'")."""
    model = PaxosModel(max_ballot=0)
    one, listed, default = (explore(model, properties=names) for names in ("agreement", ["agreement"], None))
    assert one.verdict is listed.verdict is Verdict.HOLDS
    assert one.witnesses == listed.witnesses == [] != default.witnesses  # value-can-be-chosen was not checked
    assert explore(model, symmetry="Acceptor").distinct_states == explore(model, symmetry=["Acceptor"]).distinct_states
    with pytest.raises(InvalidParameter, match=r"^symmetry must be a list of names, e.g. \['Acceptor'\], or True for "
                                               r"every symmetric sort; got 1$"):
        explore(model, symmetry=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match=r"^properties must be a list of names, e.g. \['agreement'\]; got 7$"):
        explore(model, properties=7)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match=r"^properties must be a list of names, e.g. \['agreement'\]; got \[1\]$"):
        explore(model, properties=[1])  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["Paxos", "Raft"])
def test_a_bug_is_named_by_one_string(protocol: str) -> None:
    """bug=["x"] raised TypeError (unhashable) from the lookup in BUGS."""
    from quorumcheck.models import RaftModel

    model = PaxosModel if protocol == "Paxos" else RaftModel
    for bad in (["vote-twice"], 3, ("ignore-prior-votes",)):
        with pytest.raises(InvalidParameter, match=rf"^bug must be the name of one {protocol} bug \(a str\), got "
                                                   rf".*; choose one of: [a-z-]+, "):
            model(bug=bad)  # type: ignore[arg-type]


def test_a_state_that_stops_the_search_still_witnesses_what_it_reaches() -> None:
    """A state that breaks an invariant and witnesses a reachability property (a scripted prefix can end in
    one): the run stops there, and says the property was witnessed, in 0 steps here, not 'not witnessed'."""

    class Broken(Model[int]):
        def init_states(self) -> list[int]:
            return [1]

        def successors(self, s: int) -> list[tuple[Action, int]]:
            return [(Action("Up"), s + 1)]

        def properties(self) -> list[Any]:
            return [always("zero", lambda s: s == 0), sometimes("one", lambda s: s == 1)]

    result = explore(Broken())
    assert result.verdict is Verdict.VIOLATED and len(result.violation.trace) == 0
    assert [(w.property, len(w.trace)) for w in result.witnesses] == [("one", 0)]
