"""The reduction by right movers (``explore(movers=True)``; on by default in ``quorumcheck test``).

A silent step (a delivery whose handler sends nothing and changes no observation) is followed at once by its
node's next step, and the states in between are not stored. It must keep every verdict, every violated and
witnessed property, and the set of reachable property answers, and every counterexample must be a real schedule.
These tests compare the reduced and the plain search on random actor systems whose observations and history
change (Hypothesis), on the shipped examples and bugs, check the model's declaration (silent steps are right
movers) on whole state graphs, and run it through the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings

from quorumcheck.cli import main
from quorumcheck.errors import InvalidParameter
from quorumcheck.explorer import Verdict, explore
from quorumcheck.explorer.movers import resolve_movers
from quorumcheck.models import observe
from quorumcheck.models.actor_model import ActorModel, ActorState
from quorumcheck.models.actors import Node
from quorumcheck.models.api import Expectation, Property, always, sometimes

from conftest import EXAMPLES, assert_real_path, example
from random_actors import actor_systems, random_node



class TwoContract(observe.Contract):
    """A test protocol: a node is observed as ``x == 2``; the history is the set of nodes ever observed so."""

    name = "two"

    def fields_of(self, index: int) -> tuple[str, ...]:
        return ("x",)

    def observe_frozen(self, index: int, values: dict[str, Any]) -> Hashable:
        return values["x"] == 2

    def initial_history(self, observations: Sequence[Hashable]) -> Hashable:
        return frozenset(i for i, o in enumerate(observations) if o)

    def record(self, history: Hashable, index: int, observation: Hashable) -> Hashable:
        return history | {index} if observation else history  # type: ignore[operator]

    def properties(self, evaluator: str) -> list[Property[Any]]:
        return [always("not-all-two", lambda s: not all(s.observed), "some node has x != 2"),
                always("two-once", lambda s: len(s.history) <= 1, "at most one node ever has x == 2"),
                sometimes("some-two", lambda s: any(s.observed), "some node has x == 2")]


@pytest.fixture(autouse=True)
def two_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(observe.CONTRACTS, "two", TwoContract)


def footprints(result: Any) -> set[tuple[Any, ...]]:
    """What the properties read, in every stored state: observations, history and failure."""
    return {(s.observed, s.history, s.failure) for _, s in result.graph.nodes(data="state")}


def assert_same_answers(model: ActorModel, max_states: int | None = None) -> tuple[Any, Any] | None:
    """Run plain and reduced to the end: the same verdicts, violations, witnesses and reachable footprints.
    ``None`` when the plain search has more than ``max_states`` states (a system too large to compare)."""
    plain = explore(model, stop_at_first=False, keep_graph=True, max_states=max_states)
    if not plain.complete:
        return None
    reduced = explore(model, stop_at_first=False, keep_graph=True, movers=True)
    assert reduced.complete
    assert reduced.partial_order is not None and reduced.partial_order.method == "movers"
    # A limit at the reported depth stores every state: transactions that pass deeper end in states stored already.
    # It may still call itself cut (a transaction held past the limit whose end it cannot tell is stored, found
    # with a crash and a duplicate allowed: stop 47), and is then undetermined, never a wrong verdict.
    limited = explore(model, stop_at_first=False, keep_graph=False, movers=True, max_depth=max(reduced.depth, 1))
    assert limited.distinct_states == reduced.distinct_states
    assert limited.verdict is (reduced.verdict if limited.complete or limited.violations else Verdict.UNDETERMINED)
    assert reduced.verdict is plain.verdict
    # The same properties violated and witnessed, each by a shortest schedule (depth is counted in steps).
    assert {v.property: v.trace and len(v.trace) for v in reduced.violations} == \
           {v.property: v.trace and len(v.trace) for v in plain.violations}
    assert {w.property: w.trace and len(w.trace) for w in reduced.witnesses} == \
           {w.property: w.trace and len(w.trace) for w in plain.witnesses}
    assert footprints(reduced) == footprints(plain)
    assert reduced.distinct_states <= plain.distinct_states
    props = {p.name: p for p in model.properties()}
    for v in reduced.violations:  # a real schedule of the unreduced model, ending where the property fails
        if v.trace is None:  # a reachability property never witnessed
            continue
        assert_real_path(model, v.trace)
        assert not props[v.property].holds(v.trace.final)
        assert not any(str(a).startswith("Steps(") for a in v.trace.actions)
    for w in reduced.witnesses:
        if w.trace is not None:
            assert_real_path(model, w.trace)
            assert props[w.property].holds(w.trace.final)
    return plain, reduced


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(actor_systems(protocol="two", partitions=False, bounded=True))
def test_movers_keep_every_answer_on_random_systems(system: tuple[type[Node], dict[str, Any]]) -> None:
    node, options = system
    assume(assert_same_answers(ActorModel(node, **options), max_states=30_000) is not None)


def test_random_systems_do_reduce() -> None:
    """The comparison above is not vacuous: silent steps are taken inside transactions, and states go."""
    node = random_node(3, {(0, 0): (1, ((1, 1),)), (1, 1): (2, ()), (0, 1): (0, ())}, {0: (1, ((1, 0),))},
                       ((1, 0), (2, 1), (1, 1)), None, bounded=True)
    compared = assert_same_answers(ActorModel(node, nodes=3, protocol="two", max_timeouts=2))
    assert compared is not None
    plain, reduced = compared
    assert reduced.partial_order.transactions > 0 and reduced.partial_order.passed > 0
    assert reduced.distinct_states < plain.distinct_states * 0.8


def movers_commute(model: ActorModel, limit: int = 600) -> int:
    """The declaration, on every state of a search: a silent step changes no footprint, spends no budget, and
    commutes to the right with every step of another node (that step was enabled before it, it stays enabled
    after that step, and the two orders meet; a step that fails ends the run, and its failure reads the same
    either way). Returns the pairs checked."""
    graph = explore(model, properties=[], max_states=limit).graph
    checked = 0
    for _, s in graph.nodes(data="state"):
        for a, t in model.successors(s):
            owner = model.right_mover(s, a, t)
            if owner is None:
                continue
            assert (t.observed, t.history, t.failure, t.budget) == (s.observed, s.history, None, s.budget)
            before = dict(model.successors(s))
            for e, u in model.successors(t):
                if model.step_actor(e) == owner:
                    continue
                assert e in before, f"{e} is enabled only after the silent step {a}"
                if model.halted(u):  # a failure ends the run: the two failures must read alike
                    assert (u.observed, u.history, u.failure) == \
                           (before[e].observed, before[e].history, before[e].failure)
                    checked += 1
                    continue
                again = dict(model.successors(before[e]))
                assert a in again, f"{e} disables the silent step {a}"
                assert again[a] == u, f"{a} and {e} do not commute"
                assert model.right_mover(before[e], a, again[a]) == owner
                checked += 1
    return checked


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actor_systems(protocol="two", partitions=False, bounded=True))
def test_silent_steps_are_right_movers_on_random_systems(system: tuple[type[Node], dict[str, Any]]) -> None:
    node, options = system
    movers_commute(ActorModel(node, **options), limit=300)


@pytest.mark.parametrize("file, cls, options", [
    ("paxos.py", "PaxosNode", {"protocol": "paxos", "requests": 1, "max_timeouts": 0, "max_drops": 1,
                               "max_duplicates": 1}),
    ("raft.py", "RaftNode", {"protocol": "raft", "requests": 1, "max_timeouts": 2, "max_crashes": 1}),
])
def test_silent_steps_are_right_movers_on_the_examples(file: str, cls: str, options: dict[str, Any]) -> None:
    assert movers_commute(ActorModel(example(file, cls), nodes=3, **options)) > 300


def test_paxos_example_exact() -> None:
    """examples/paxos.py with one request: 25,576 states plain, 2,710 reduced; the same answers. (10,240 before
    transactions covered by a shorter one were left out: a learner's silent votes and its acceptor's steps commute.)"""
    model = ActorModel(example("paxos.py", "PaxosNode"), nodes=3, protocol="paxos", requests=1, max_timeouts=0)
    compared = assert_same_answers(model)
    assert compared is not None
    plain, reduced = compared
    assert (plain.verdict, plain.distinct_states, plain.depth) == (Verdict.HOLDS, 25576, 20)
    assert (reduced.verdict, reduced.distinct_states, reduced.depth) == (Verdict.HOLDS, 2710, 17)
    assert reduced.partial_order.transactions > 10000 and reduced.partial_order.passed > 1000
    assert reduced.partial_order.covered == 2482
    assert {w.property: len(w.trace) - 1 for w in plain.witnesses} == \
           {"value-can-be-chosen": 6, "value-can-be-learned": 8}


def test_max_states_counts_the_states_met_inside_transactions() -> None:
    """A budget of states is one of memory and work: the states met inside transactions count beside the stored."""
    model = ActorModel(example("paxos.py", "PaxosNode"), nodes=3, protocol="paxos", requests=1, max_timeouts=0)
    full = explore(model, movers=True, keep_graph=False)
    po = full.partial_order
    assert (full.distinct_states, po.met, po.passed) == (2710, 9384, 9384)  # every state met was passed through
    assert explore(model, movers=True, keep_graph=False, max_states=2710 + 9384).complete
    cut = explore(model, movers=True, keep_graph=False, max_states=5000)
    assert cut.verdict is Verdict.UNDETERMINED and cut.stop_reason == "max_states"
    assert cut.distinct_states < 5000 <= cut.distinct_states + cut.partial_order.met
    # The plain search stores every state it meets: the same budget stops it after as many, and no deeper.
    plain = explore(model, keep_graph=False, max_states=5000)
    assert plain.distinct_states == 5000 and plain.depth <= cut.depth


def test_transactions_under_way_are_taken_up_in_breadth_first_order() -> None:
    """A transaction's end is met where the plain search meets its state, not after the whole level: a learner
    that counts messages (a 9-step violation that ends a transaction) is found within 100,000 stored and met
    states, as the plain search finds it in 61,056 (taking transactions last needed more than 200,000; before
    covered transactions were left out, 37,116 stored and 37,945 met)."""
    data = Path(__file__).resolve().parent / "data" / "independent" / "paxos4.py"
    model = ActorModel(f"{data}:CountMessagesNotAcceptors", nodes=3, protocol="paxos", requests=2, max_timeouts=0,
                       max_duplicates=1, isolate=False)  # the search's order is tested, not the sandbox
    found = explore(model, movers=True, keep_graph=False, max_states=100_000)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "learned-is-chosen"
    assert len(found.violation.trace) == 9 and found.depth == 9
    assert (found.distinct_states, found.partial_order.met) == (22576, 30196)
    assert_real_path(model, found.violation.trace)


@pytest.mark.parametrize("file, cls, options, prop", [
    ("raft_bugs.py", "CountStaleVotes", {"protocol": "raft", "requests": 2, "max_timeouts": 4, "max_term": 4},
     "election-safety"),
    ("raft_bugs.py", "VoteTwice", {"protocol": "raft", "requests": 0, "max_timeouts": 2}, "election-safety"),
    pytest.param("paxos_bugs.py", "SmallQuorum", {"protocol": "paxos", "requests": 2, "max_timeouts": 0},
                 "agreement", marks=pytest.mark.slow),  # 15 s reduced, 8 s plain
])
def test_shipped_bugs_found_at_the_same_length(file: str, cls: str, options: dict[str, Any], prop: str) -> None:
    model = ActorModel(example(file, cls), nodes=3, **options)
    plain = explore(model, keep_graph=False)
    reduced = explore(model, keep_graph=False, movers=True)
    assert plain.verdict is reduced.verdict is Verdict.VIOLATED
    assert reduced.violation.property == plain.violation.property == prop
    assert len(reduced.violation.trace) == len(plain.violation.trace)
    assert_real_path(model, reduced.violation.trace)
    # With fingerprints the trace is rebuilt by re-executing whole transactions from the initial state.
    printed = explore(model, keep_graph=False, movers=True, store="fingerprints")
    assert printed.violation.property == prop and len(printed.violation.trace) == len(plain.violation.trace)
    assert_real_path(model, printed.violation.trace)


def test_movers_turn_off_with_a_notice() -> None:
    node = example("paxos.py", "PaxosNode")
    parted = explore(ActorModel(node, nodes=3, protocol="paxos", requests=1, max_timeouts=0, max_partitions=1),
                     movers=True, max_states=50)
    assert parted.partial_order is None
    assert parted.notices == ["reduction by movers is off: a partition can cut a message off from its receiver, so "
                              "a delivery cannot wait; every interleaving is searched"]
    # An action property that reads more than one node: the notice names it and the flag that checks it.
    pair = Property("learned-together", Expectation.EVERY_STEP, lambda before, after: True)
    reduction, notices = resolve_movers(ActorModel(node, nodes=3, protocol="paxos", requests=1), [pair])
    assert reduction is None
    assert notices == [
        "reduction by movers is off: it preserves state invariants, reachability and action properties that judge "
        "one node at a time, not learned-together, so every interleaving is searched"]
    with pytest.raises(InvalidParameter, match="choose one reduction"):
        explore(ActorModel(node, nodes=3, protocol="paxos", requests=1), movers=True, por=True)
    with pytest.raises(InvalidParameter, match="one process"):
        explore(ActorModel(node, nodes=3, protocol="paxos", requests=1), movers=True, workers=2)


def test_cli_movers(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["test", str(EXAMPLES / "paxos.py"), "--protocol", "paxos", "--requests", "1", "--mode", "exhaustive"]
    text = runner.invoke(main, args)  # the default reduction of quorumcheck test is by movers
    assert text.exit_code == 0 and "2,710 distinct states (reduced by movers: " in text.output, text.output
    assert " · depth 17 · " in text.output
    plain = runner.invoke(main, [*args, "--no-reduction", "--json", "--no-isolate"])  # the count, not the sandbox
    assert plain.exit_code == 0 and json.loads(plain.stdout)["distinct_states"] == 25576
    assert json.loads(plain.stdout)["partial_order"] is None
    bug = ["test", str(EXAMPLES / "raft_bugs.py"), "--protocol", "raft", "--node-class", "VoteTwice", "--requests",
           "0", "--mode", "exhaustive", "--movers", "--json", "--save-trace", str(tmp_path / "t.json")]
    found = runner.invoke(main, bug)
    assert found.exit_code == 1, found.output
    r = json.loads(found.stdout)
    assert (r["verdict"], r["violation"]["property"], r["partial_order"]["method"]) == ("violated", "election-safety",
                                                                                       "movers")
    replayed = runner.invoke(main, ["test", "--replay", str(tmp_path / "t.json")])
    assert replayed.exit_code == 0 and "Steps(" not in replayed.output, replayed.output
    for pair in (["--movers", "--por"], ["--no-reduction", "--movers"], ["--por", "--no-reduction"]):
        both = runner.invoke(main, [*args, *pair])
        assert both.exit_code == 2 and both.output.count("\n") == 1 and "exclude each other" in both.output
    epochs = runner.invoke(main, [*args[:-2], "--mode", "epochs", "--no-reduction"])
    assert epochs.exit_code == 2 and "the epoch search does not reduce" in epochs.output
    random = runner.invoke(main, [*args[:-2], "--mode", "random", "--no-reduction"])
    assert random.exit_code == 2 and "--no-reduction applies to the exhaustive search" in random.output
    # The search's own notice (movers off) is printed too, not only listed in --json's top-level notices.
    parted = runner.invoke(main, [*args, "--max-partitions", "1", "--max-states", "50"])
    assert parted.exit_code == 3 and ("quorumcheck: notice: reduction by movers is off: a partition can cut a message "
                                      "off from its receiver") in parted.stderr


def test_max_depth_counts_steps() -> None:
    """--max-depth N means N steps with movers too: every schedule of up to N steps is covered, deeper is cut."""
    model = ActorModel(example("paxos.py", "PaxosNode"), nodes=3, protocol="paxos", requests=1, max_timeouts=0)
    for depth in (6, 7, 12):
        plain = explore(model, keep_graph=False, max_depth=depth)
        reduced = explore(model, keep_graph=False, max_depth=depth, movers=True)
        assert plain.stop_reason == reduced.stop_reason == "max_depth"
        assert reduced.depth == plain.depth == depth
        assert reduced.distinct_states < plain.distinct_states
        # The witness of a value chosen (6 steps) is found within a cut of 7, at the same length.
        assert {w.property: w.trace and len(w.trace) for w in reduced.witnesses} == \
               {w.property: w.trace and len(w.trace) for w in plain.witnesses}
    full = explore(model, keep_graph=False, max_depth=25, movers=True)
    assert full.complete and full.depth == 17
    # Transactions pass through states deeper than 17 and end in stored ones, or in states a shorter transaction
    # covers: a limit of 17 cuts nothing, and one of 16 does.
    assert explore(model, keep_graph=False, max_depth=17, movers=True).complete
    assert explore(model, keep_graph=False, max_depth=16, movers=True).stop_reason == "max_depth"



@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "workers"])
def test_two_messages_that_print_alike_are_two_steps(isolate: bool) -> None:
    """Labels are by text; two messages that print alike once shared one label, and the reduction judged the
    silent one's handler for both and dropped the delivery that leads to the violation (HOLDS)."""
    from quorumcheck.studenttest import check_student
    student = Path(__file__).resolve().parent / "data" / "attacks" / "twin_messages.py:SilentTwin"
    runs = [check_student(str(student), 2, protocol="raft", requests=0, max_timeouts=0, max_term=1,
                          mode=mode, isolate=isolate, movers=movers)
            for mode, movers in (("exhaustive", None), ("exhaustive", False), ("epochs", None))]
    for found in runs:
        v = found.violation
        assert v is not None and v.property == "election-safety"
        # Classes that share a name print with their qualified names: the two deliveries read apart, so a saved
        # schedule, a prefix and the epoch search (which go by the printed label) follow the right one.
        assert [str(step.action) for step in v.trace.steps[1:]] == [
            "Deliver(from=n0, to=n1, msg=twin_messages._other.<locals>.Ping())", "Deliver(from=n1, to=n0, msg='z')"]
