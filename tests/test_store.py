"""The fingerprint store: exact counts and traces equal to the object store's, fingerprints the same in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quorumcheck.errors import InvalidParameter
from quorumcheck.explorer import explore
from quorumcheck.explorer.frontier import DiskFrontier
from quorumcheck.explorer.store import FingerprintTable, Fingerprinter
from quorumcheck.models import PaxosModel, RaftModel

from click.testing import CliRunner

from quorumcheck.cli import main


def run_cli(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, args)

# -- the fingerprint function ----------------------------------------------------------------

leaves = st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=4), st.none(), st.binary(max_size=4),
                   st.floats(allow_nan=False) | st.sampled_from([0.5, 1.0, -0.0, 2.0]))  # 2.0 == 2: one fingerprint
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(tuple),
        st.frozensets(inner.filter(lambda x: not isinstance(x, bytes)), max_size=4),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(values, values)
def test_fingerprints_agree_with_equality(x: object, y: object) -> None:
    f = Fingerprinter()
    if x == y:
        assert f(x) == f(y)
    else:
        assert f(x) != f(y)  # a 2**-64 chance per pair: a failure here is a real bug


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=2, max_size=8, unique=True))
def test_a_set_fingerprint_ignores_order(items: list[int]) -> None:
    f = Fingerprinter()
    forward = frozenset(("m", i) for i in items)
    backward = frozenset(("m", i) for i in reversed(items))
    assert f((1, forward)) == f((1, backward))
    assert f((1, forward)) != f((1, frozenset(("m", i) for i in items[1:])))


def test_named_tuples_and_bools_fingerprint_as_the_values_they_equal() -> None:
    f = Fingerprinter()
    state = next(iter(PaxosModel(max_ballot=0).init_states()))
    assert f(state) == f(tuple(state))
    assert f((True, 0)) == f((1, 0))
    assert f((1, 0)) != f((0, 1))


def test_fingerprints_are_the_same_in_every_process() -> None:
    """Python's hash() of a string changes with PYTHONHASHSEED; a fingerprint must not."""
    code = (
        "from quorumcheck.explorer.store import Fingerprinter\n"
        "print(Fingerprinter()((1, 'v1', frozenset({('1b', 'a1', 0), ('1b', 'a2', 0), 'x'}), None, b'z')))\n"
    )
    seen = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        seen.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                check=True).stdout)
    assert len(seen) == 1


def test_frozen_dataclasses_fingerprint_by_class_and_fields() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Node:
        term: int
        log: tuple[str, ...]

    @dataclass(frozen=True)
    class Other:
        term: int
        log: tuple[str, ...]

    f = Fingerprinter()
    assert f((Node(1, ("a",)),)) == f((Node(1, ("a",)),)) != f((Node(2, ("a",)),))
    assert f(Node(1, ())) != f(Other(1, ()))


def test_student_state_with_floats_is_fingerprinted() -> None:
    """Student nodes may hold floats (a back-off, a timestamp); --store fingerprints takes them."""
    from quorumcheck.models.actor_model import ActorModel
    from quorumcheck.models.actors import Node

    class Backoff(Node):
        def __init__(self) -> None:
            self.delay = 0.5

        def on_start(self, out):  # type: ignore[no-untyped-def]
            if self.id == 0:
                out.broadcast(("ping", 1.25))

        def on_message(self, sender, message, out):  # type: ignore[no-untyped-def]
            self.delay *= 1.5

    plain = explore(ActorModel(Backoff, nodes=3), keep_graph=False)
    stored = explore(ActorModel(Backoff, nodes=3), store="fingerprints")
    assert stored.verdict.value == plain.verdict.value == "holds"
    assert (stored.distinct_states, stored.transitions) == (plain.distinct_states, plain.transitions) == (4, 4)


def test_an_object_that_cannot_be_fingerprinted_is_a_clear_error() -> None:
    with pytest.raises(Exception, match="cannot fingerprint a state holding a object"):
        Fingerprinter()((1, object()))


@settings(max_examples=100, deadline=None)
@given(st.lists(values, max_size=30), st.integers(2, 40))
def test_a_long_lived_fingerprinter_agrees_with_a_fresh_one(xs: list[object], memo_limit: int) -> None:
    # One fingerprinter serves a whole run; its memo fills, is cleared, and holds ints and strs too.
    shared = Fingerprinter(memo_limit=memo_limit)
    assert [shared(x) for x in xs] == [Fingerprinter()(x) for x in xs]


# -- the table ---------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 2**64 - 1) | st.integers(1, 64), max_size=400))
def test_the_table_behaves_as_a_set(fps: list[int]) -> None:
    table = FingerprintTable(capacity=4)
    model: set[int] = set()
    for fp in fps:
        assert (fp in table) == (fp in model)
        assert table.add(fp) == (fp not in model)
        model.add(fp)
    assert len(table) == len(model)
    assert all(fp in table for fp in model)
    assert table.nbytes <= 8 * max(16, 4 * len(model))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 40)), max_size=300))
def test_the_table_stays_a_set_when_lookups_and_adds_interleave(ops: list[tuple[bool, int]]) -> None:
    # add() reuses the empty slot the last failed lookup found; any other lookup in between must not mislead it.
    table = FingerprintTable(capacity=2)
    model: set[int] = set()
    for is_add, fp in ops:
        if is_add:
            assert table.add(fp) == (fp not in model)
            model.add(fp)
        else:
            assert (fp in table) == (fp in model)
    assert sorted(fp for fp in range(1, 41) if fp in table) == sorted(model)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 60), st.integers(1, 7), st.integers(0, 20))
def test_the_disk_frontier_gives_back_what_was_appended_in_order(n: int, batch: int, resident: int) -> None:
    frontier = DiskFrontier(batch=batch, resident=resident)
    items = [(k, ("state", k, frozenset({k % 3}))) for k in range(n)]
    for item in items:
        frontier.append(item)
    assert len(frontier) == n and bool(frontier) == (n > 0)
    assert list(frontier) == items and list(frontier) == items  # iterable twice
    frontier.close()


# -- the search with fingerprints --------------------------------------------------------------


@pytest.mark.parametrize("symmetry, states, transitions", [(False, 3921, 22994), (True, 443, 2577)])
def test_paxos_counts_equal_the_object_store(symmetry: bool, states: int, transitions: int) -> None:
    objects = explore(PaxosModel(max_ballot=1), keep_graph=False, symmetry=symmetry)
    prints = explore(PaxosModel(max_ballot=1), store="fingerprints", symmetry=symmetry)
    assert (objects.distinct_states, objects.transitions, objects.depth) == (states, transitions, 17)
    assert (prints.distinct_states, prints.transitions, prints.depth) == (states, transitions, 17)
    assert prints.verdict.value == "holds" and prints.graph is None
    assert prints.fingerprints is not None and objects.fingerprints is None
    assert 0 < prints.fingerprints.collision_probability < 1e-9


def test_a_raft_bug_gives_the_same_counts_and_trace() -> None:
    objects = explore(RaftModel(bug="vote-twice"), keep_graph=False)
    prints = explore(RaftModel(bug="vote-twice"), store="fingerprints")
    assert prints.verdict.value == objects.verdict.value == "violated"
    assert (prints.distinct_states, prints.transitions, prints.depth) == (
        objects.distinct_states, objects.transitions, objects.depth)
    assert prints.violation.trace == objects.violation.trace and len(prints.violation.trace) == 16


@pytest.mark.parametrize("bug", [
    pytest.param(bug, marks=() if bug in ("ignore-prior-votes", "small-phase2-quorum") else pytest.mark.slow)
    for bug in PaxosModel.bugs])
def test_every_paxos_bug_gives_the_same_trace(bug: str) -> None:
    """Re-execution along the fingerprints rebuilds exactly the parent-link trace."""
    objects = explore(PaxosModel(max_ballot=1, bug=bug), keep_graph=False)
    prints = explore(PaxosModel(max_ballot=1, bug=bug), store="fingerprints")
    assert prints.verdict == objects.verdict
    if objects.violation is not None:
        assert prints.violation is not None and prints.violation.property == objects.violation.property
        assert prints.violation.trace == objects.violation.trace
        assert prints.distinct_states == objects.distinct_states


def test_a_symmetric_counterexample_is_concrete_and_replays() -> None:
    model = PaxosModel(max_ballot=1, bug="ignore-prior-votes")
    r = explore(model, store="fingerprints", symmetry=True)
    trace = r.violation.trace
    assert len(trace) == 12
    state = trace.steps[0].state
    for step in trace.steps[1:]:
        assert model.next_state(state, str(step.action)) == step.state
        state = step.state


def test_the_store_needs_no_graph_and_a_known_name() -> None:
    with pytest.raises(InvalidParameter, match="cannot keep the state graph; pass keep_graph=False"):
        explore(PaxosModel(max_ballot=0), store="fingerprints", keep_graph=True)
    with pytest.raises(InvalidParameter, match="unknown store 'bloom'; choose one of: objects, fingerprints"):
        explore(PaxosModel(max_ballot=0), store="bloom")


def test_the_cli_reports_the_store_and_the_collision_chance() -> None:
    r = run_cli(["check", "paxos", "--max-ballot", "1", "--store", "fingerprints"])
    assert r.exit_code == 0
    assert "3,921 distinct states · 22,994 transitions · depth 17" in r.output
    assert "fingerprint store:" in r.output and "bytes per state) · chance of a fingerprint collision ≈ " in r.output
    r = run_cli(["check", "paxos", "--max-ballot", "1", "--store", "fingerprints", "--json"])
    data = json.loads(r.output)
    assert data["store"] == "fingerprints" and data["distinct_states"] == 3921
    assert set(data["fingerprints"]) == {"store_bytes", "bytes_per_state", "collision_probability"}
    data = json.loads(run_cli(["check", "paxos", "--max-ballot", "0", "--json"]).output)
    assert data["store"] == "objects" and data["fingerprints"] is None


@pytest.mark.slow
def test_paxos_0_2_with_fingerprints() -> None:
    r = explore(PaxosModel(max_ballot=2), store="fingerprints")
    assert (r.distinct_states, r.transitions, r.depth) == (185369, 1316583, 25)
    assert r.fingerprints.bytes_per_state(r.distinct_states) < 100
