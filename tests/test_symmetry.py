"""Symmetry reduction: TLC's SYMMETRY counts, concrete traces, and declarations that are checked."""

from __future__ import annotations

import itertools
from pathlib import Path
import json
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from click.testing import CliRunner

from quorumcheck.cli import main
from quorumcheck.errors import InvalidModel, InvalidParameter
from quorumcheck.explorer import Verdict, check_symmetry, explore
from quorumcheck.explorer.symmetry import SymmetryReduction
from quorumcheck.models import Action, Model, PaxosModel, RaftModel, always, every_step
from quorumcheck.models.symmetry import Permutation, group
from quorumcheck.runspec import load_spec

from conftest import assert_real_path

pytestmark = pytest.mark.filterwarnings("ignore::quorumcheck.errors.ModelWarning")


def replays(model: Model[Any], trace: Any) -> bool:
    """The trace starts at a real initial state and every step is a real step of the unreduced model."""
    assert_real_path(model, trace)
    return True


# -- TLC's counts ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("ballots", "states", "depth"), [(0, 15, 9), (1, 443, 17), (2, 17153, 25)])
def test_paxos_orbit_counts_equal_tlc_symmetry(ballots: int, states: int, depth: int) -> None:
    r = explore(PaxosModel(acceptors=3, values=2, max_ballot=ballots), symmetry=True)
    assert (r.verdict, r.distinct_states, r.depth) == (Verdict.HOLDS, states, depth)
    assert r.symmetry == ("Acceptor", "Value") and r.notices == []


@pytest.mark.slow
def test_raft_tlc_configuration_under_permutations_of_server() -> None:
    r = load_spec("specs/raft-tlc.toml").run(symmetry=True)
    assert (r.verdict, r.distinct_states, r.depth) == (Verdict.HOLDS, 118001, 39)


def test_symmetry_on_one_sort_only() -> None:
    # Acceptors alone: more orbits than under acceptors and values, fewer than none.
    r = explore(PaxosModel(max_ballot=1), symmetry=["Acceptor"])
    assert r.symmetry == ("Acceptor",)
    assert 443 < r.distinct_states < 3921


# -- concrete counterexamples ------------------------------------------------------------------
PAXOS_BUGS = [(bug, ballots) for bug in PaxosModel.bugs for ballots in (0, 1)]


@pytest.mark.parametrize(("bug", "ballots"), PAXOS_BUGS)
def test_paxos_bugs_same_verdict_and_shortest_length_under_symmetry(bug: str, ballots: int) -> None:
    plain = explore(PaxosModel(max_ballot=ballots, bug=bug))
    reduced = explore(PaxosModel(max_ballot=ballots, bug=bug), symmetry=True)
    assert reduced.verdict is plain.verdict
    assert reduced.distinct_states < plain.distinct_states
    if plain.violation is not None and plain.violation.trace is not None:
        assert reduced.violation.property == plain.violation.property
        assert len(reduced.violation.trace) == len(plain.violation.trace)
        model = PaxosModel(max_ballot=ballots, bug=bug)
        assert replays(model, reduced.violation.trace)
        prop = next(p for p in model.properties() if p.name == reduced.violation.property)
        assert not prop.holds(reduced.violation.trace.final)


RAFT_BUGS = [
    "vote-twice",
    pytest.param("forget-vote-on-restart", marks=pytest.mark.slow),
    pytest.param("count-stale-votes", marks=pytest.mark.slow),
    pytest.param("truncate-on-append", marks=pytest.mark.slow),
    pytest.param("commit-to-log-end", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("bug", RAFT_BUGS)
def test_raft_bugs_found_with_concrete_traces_under_symmetry(bug: str) -> None:
    plain = explore(RaftModel(bug=bug))
    reduced = explore(RaftModel(bug=bug), symmetry=True)
    assert plain.verdict is reduced.verdict is Verdict.VIOLATED
    assert reduced.violation.property == plain.violation.property
    assert len(reduced.violation.trace) == len(plain.violation.trace)
    assert reduced.distinct_states * 4 < plain.distinct_states
    model = RaftModel(bug=bug)
    trace = reduced.violation.trace
    if reduced.violation.outside_boundary:  # the last step leaves the bound: check it separately
        *_, before, last = trace.steps
        assert any(a == last.action and t == last.state for a, t in model.successors(before.state))
    assert replays(model, trace)


def test_action_property_violation_is_concrete() -> None:
    # An action property's violation ends with the offending step: the lifted step must break it itself.
    class Recolouring(RuleModel):
        def properties(self) -> list[Any]:
            def keeps(before: tuple[Proc, ...], after: tuple[Proc, ...]) -> bool:
                return all(p.colour < 0 or p.colour == q.colour for p, q in zip(before, after))

            return [every_step("colours-stay", keeps, "a painted process keeps its colour")]

    model = Recolouring(3, 2, 2, frozenset({0, 1}), frozenset({1}), frozenset({0, 1}))
    plain, reduced = explore(model), explore(model, symmetry=True)
    assert reduced.violation.property == plain.violation.property == "colours-stay"
    assert len(reduced.violation.trace) == len(plain.violation.trace)
    *_, before, after = reduced.violation.trace.states
    assert not model.properties()[0].holds_on_step(before, after)
    assert replays(model, reduced.violation.trace)


@pytest.mark.parametrize(
    ("bug", "prefix"),
    [
        ("vote-twice", ["Timeout(i=s2)", "RequestVote(i=s2, j=s3)"]),  # an asymmetric start: s2 stands out
        pytest.param("length-only-log-check", None, marks=pytest.mark.slow),  # LEADER_WITH_LONE_ENTRY, 38 steps
    ],
)
def test_scripted_start_is_kept_in_the_concrete_trace(bug: str, prefix: list[str] | None) -> None:
    model = RaftModel(bug=bug, prefix=prefix)
    start = next(iter(model.init_states()))
    assert SymmetryReduction(model, model.symmetric_sorts()).canonical(start) != start or prefix is None
    r = explore(model, symmetry=True)
    assert r.verdict is Verdict.VIOLATED
    assert r.violation.trace.states[0] == start
    assert len(r.violation.trace) == len(explore(RaftModel(bug=bug, prefix=prefix)).violation.trace)
    assert replays(model, r.violation.trace)


def run_cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    result.returncode = result.exit_code
    return result


def test_cli_symmetry_json_replay_and_render(tmp_path: Any) -> None:
    trace_file = tmp_path / "t.json"
    out = run_cli("check", "paxos", "--max-ballot", "1", "--bug", "accept-below-promise", "--symmetry", "--json",
                  "--save-trace", str(trace_file), "--render", str(tmp_path / "r"))
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    # Stopped at the violation: fewer states than the 8,063 the plain run stores before it.
    assert data["distinct_states"] < 8063
    assert (data["symmetry"], data["notices"]) == (["Acceptor", "Value"], [])
    assert len(data["violation"]["trace"]) == 13
    replay = run_cli("replay", str(trace_file))
    assert "REPLAYS: all 12 steps match the model, and agreement is violated in the last state" in replay.stdout
    assert (tmp_path / "r" / "paxos-agreement-graph.svg").exists()
    graph_dot = (tmp_path / "r" / "paxos-agreement-graph.dot").read_text()
    assert "step_12" in graph_dot  # the concrete trace's last state is found in the graph of orbits


def test_cli_symmetry_in_text_output() -> None:
    out = run_cli("check", "paxos", "--max-ballot", "1", "--symmetry")
    assert out.returncode == 0
    assert "443 distinct states (orbits under Acceptor × Value)" in out.stdout


# -- declarations are checked ------------------------------------------------------------------
@pytest.mark.parametrize(
    "model",
    [
        PaxosModel(max_ballot=1),
        PaxosModel(acceptors=4, values=2, max_ballot=1),
        PaxosModel(max_ballot=1, bug="small-phase2-quorum"),
        PaxosModel(max_ballot=1, bug="adopt-any-vote"),
        RaftModel(max_term=3, max_log=1, values=2),
        RaftModel(max_term=2, max_log=2, values=2, max_in_flight=2, max_copies=2, duplication=True),
        RaftModel(bug="commit-to-log-end", values=2),
    ],
    ids=["paxos", "paxos-4-acceptors", "paxos-small-quorum", "paxos-adopt-any", "raft-2-values",
         "raft-duplication", "raft-commit-bug"],
)
def test_declared_symmetries_commute_with_successors_and_properties(model: Model[Any]) -> None:
    props = [p for p in model.properties()]
    found = check_symmetry(model, max_states=800, properties=props)
    assert found.ok, (found.successors, found.properties)
    assert found.states > 100


def test_asymmetric_quorums_keep_acceptors_unpermuted() -> None:
    m = PaxosModel(quorums=[["a1", "a2"], ["a2", "a3"]], max_ballot=1)
    assert m.symmetric_sorts() == {"Value": 2}
    r = explore(m, symmetry=True)
    assert r.symmetry == ("Value",)
    assert r.notices == ["symmetry: Acceptor is not permuted because the quorum system does not treat all "
                         "acceptors alike"]


class _LyingPaxos(PaxosModel):
    """Declares acceptors symmetric although its quorums single out a2."""

    def symmetric_sorts(self) -> dict[str, int]:
        return {"Acceptor": 3, "Value": 2}


def test_a_wrong_declaration_is_an_error() -> None:
    m = _LyingPaxos(quorums=[["a1", "a2"], ["a2", "a3"]], max_ballot=1)
    found = check_symmetry(m, max_states=500)
    assert "Acceptor" in found.successors and "Value" not in found.successors
    with pytest.raises(InvalidModel, match=r"declares Acceptor symmetric, but it is not"):
        explore(m, symmetry=True)


class _WithFavourite(PaxosModel):
    """Adds a property in plain Python that names acceptor a1."""

    def properties(self) -> list[Any]:
        return [*super().properties(), always("a1-never-votes-in-ballot-1", lambda s: s.max_vbal[0] < 1)]


def test_a_property_naming_an_element_turns_its_sort_off() -> None:
    r = explore(_WithFavourite(max_ballot=1), symmetry=True, stop_at_first=True)
    assert r.symmetry == ("Value",)
    assert len(r.notices) == 1 and r.notices[0].startswith("symmetry: Acceptor is not permuted because")
    assert "a1-never-votes-in-ballot-1" in r.notices[0]
    plain = explore(_WithFavourite(max_ballot=1))
    assert r.violation.property == plain.violation.property == "a1-never-votes-in-ballot-1"
    assert len(r.violation.trace) == len(plain.violation.trace)


def test_a_formula_naming_an_element_turns_its_sort_off() -> None:
    from quorumcheck.invariants import formula_property, standard

    class Named(PaxosModel):
        def properties(self) -> list[Any]:
            interp = self.interpretation()
            sig = standard.PAXOS
            acceptor = sig.sorts["Acceptor"]
            b, v = sig.sorts["Ballot"].var("b"), sig.sorts["Value"].var("v")
            formula = standard.ForAll([b, v], ~sig.symbol("vote")(acceptor(0), b, v))
            own = formula_property("always", "first-acceptor-never-votes", formula, interp, "a1 never votes",
                                   evaluator="python")
            return [*super().properties(), own]

    r = explore(Named(max_ballot=0), symmetry=True)
    assert r.symmetry == ("Value",)
    assert r.notices == ["symmetry: Acceptor is not permuted because property first-acceptor-never-votes names the "
                         "particular element 0"]


def test_symmetry_on_a_model_without_symmetric_sorts_is_a_clear_error() -> None:
    class Counter(Model):
        name = "counter"

        def init_states(self) -> list[int]:
            return [0]

        def successors(self, s: int) -> list[tuple[Action, int]]:
            return [(Action("Inc"), s + 1)] if s < 3 else []

    with pytest.raises(InvalidParameter, match="declares no symmetric sorts"):
        explore(Counter(), symmetry=True)
    with pytest.raises(InvalidParameter, match="has no symmetric sort 'Ballot'"):
        explore(PaxosModel(max_ballot=0), symmetry=["Ballot"])


@pytest.mark.parametrize(
    "model",
    [PaxosModel(max_ballot=1, bug="accept-below-promise"), pytest.param(RaftModel(bug="vote-twice"),
                                                                        marks=pytest.mark.slow)],
    ids=["paxos", "raft"],
)
def test_property_answers_reachable_with_and_without_symmetry_are_equal(model: Model[Any]) -> None:
    """Every combination of property answers that some reachable state has is reached under symmetry too."""
    if True:
        props = [p for p in model.properties() if p.expectation.value != "every-step"]

        def answers(result: Any) -> set[tuple[bool, ...]]:
            return {tuple(p.holds(d["state"]) for p in props) for _, d in result.graph.nodes(data=True)}

        plain = explore(model, stop_at_first=False, properties=["all"])
        reduced = explore(model, stop_at_first=False, properties=["all"], symmetry=True)
        assert answers(plain) == answers(reduced)
        assert {v.property for v in plain.violations} == {v.property for v in reduced.violations}


# -- orbit counts of random symmetric models against brute force -------------------------------------
class Proc(NamedTuple):
    level: int
    colour: int  # -1: none


class RuleModel(Model[tuple[Proc, ...]]):
    """Random rules applied alike to every process: symmetric in processes and in colours by construction."""

    name = "rules"

    def __init__(self, procs: int, colours: int, levels: int, climb: frozenset[int], paint: frozenset[int],
                 copy: frozenset[int]) -> None:
        self.procs, self.colours, self.levels = procs, colours, levels
        self.climb, self.paint, self.copy = climb, paint, copy

    def init_states(self) -> list[tuple[Proc, ...]]:
        return [tuple(Proc(0, -1) for _ in range(self.procs))]

    def successors(self, s: tuple[Proc, ...]) -> list[tuple[Action, tuple[Proc, ...]]]:
        out = []
        for i, p in enumerate(s):
            if p.level in self.climb and p.level + 1 < self.levels:
                out.append((Action("Climb", i=i), s[:i] + (Proc(p.level + 1, p.colour),) + s[i + 1:]))
            if p.level in self.paint:
                for c in range(self.colours):
                    out.append((Action("Paint", i=i, c=c), s[:i] + (Proc(p.level, c),) + s[i + 1:]))
            for j, q in enumerate(s):
                if j != i and p.level in self.copy and q.colour >= 0:
                    out.append((Action("Copy", i=i, j=j), s[:i] + (Proc(p.level, q.colour),) + s[i + 1:]))
        return out

    def symmetric_sorts(self) -> dict[str, int]:
        return {"Proc": self.procs, "Colour": self.colours}

    def permute(self, s: tuple[Proc, ...], perm: Permutation) -> tuple[Proc, ...]:
        moved = perm.place("Proc", s)
        return tuple(Proc(p.level, perm("Colour", p.colour)) for p in moved)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    procs=st.integers(1, 4),
    colours=st.integers(1, 2),
    levels=st.integers(1, 3),
    climb=st.frozensets(st.integers(0, 2)),
    paint=st.frozensets(st.integers(0, 2)),
    copy=st.frozensets(st.integers(0, 2)),
)
def test_orbit_counts_equal_brute_force(procs: int, colours: int, levels: int, climb: frozenset[int],
                                        paint: frozenset[int], copy: frozenset[int]) -> None:
    model = RuleModel(procs, colours, levels, climb, paint, copy)
    plain = explore(model)
    perms = list(group(model.symmetric_sorts()))
    orbits = {frozenset(model.permute(d["state"], g) for g in perms) for _, d in plain.graph.nodes(data=True)}
    reduced = explore(model, symmetry=True)
    assert reduced.distinct_states == len(orbits)
    assert reduced.depth == plain.depth
    # The canonical member is a function of the orbit.
    red = SymmetryReduction(model, model.symmetric_sorts())
    for orbit in itertools.islice(orbits, 20):
        assert len({red.canonical(s) for s in orbit}) == 1


class _DeepGlitch(RuleModel):
    """Process 0 may glitch at the top while processes 1 and 2 are one and two levels below it, and no process in
    another order: an asymmetry deep in the state space, which the check before a run cannot see, and which
    the orbit's representative hides (without the watch, the reduced run HOLDS)."""

    def successors(self, s: tuple[Proc, ...]) -> list[tuple[Action, tuple[Proc, ...]]]:
        out = super().successors(s)
        if [p.level for p in s[:3]] == [self.levels - 1, self.levels - 2, self.levels - 3]:
            out.append((Action("Glitch"), (Proc(self.levels, s[0].colour),) + s[1:]))
        return out

    def properties(self) -> list[Any]:
        return [always("no-glitch", lambda s: all(p.level < self.levels for p in s))]


def test_a_declaration_wrong_only_deep_in_the_state_space_stops_the_run() -> None:
    model = _DeepGlitch(3, 1, 8, frozenset(range(8)), frozenset(), frozenset())
    plain = explore(model)
    assert plain.verdict is Verdict.VIOLATED and len(plain.violation.trace) == 19  # 18 climbs, the glitch
    assert check_symmetry(model, max_states=200).ok  # what every run checks before it starts
    assert not check_symmetry(model, max_states=1000).ok
    with pytest.raises(InvalidModel, match=r"declares Proc symmetric, but it is not: in a state the run reached"):
        explore(model, symmetry=True)
    # The symmetric model it extends runs through the same watch untouched.
    fine = RuleModel(3, 1, 8, frozenset(range(8)), frozenset(), frozenset())
    assert explore(fine, symmetry=True).distinct_states == 120  # multisets of 3 levels out of 8


class _CountsOneShort(RuleModel):
    def symmetric_sorts(self) -> dict[str, int]:
        return {"Proc": self.procs - 1}


class _PermutesToAList(RuleModel):
    def permute(self, s: tuple[Proc, ...], perm: Permutation) -> Any:
        return list(super().permute(s, perm))


def test_a_wrong_element_count_or_a_permute_that_returns_no_state_is_named() -> None:
    with pytest.raises(InvalidModel, match=r"model 'rules': permute\(\) raised IndexError: tuple index out of "
                                           r"range when renaming Proc by \[Proc: 0->1 1->0\]; symmetric_sorts\(\) "
                                           r"says Proc has 2 elements \(0\.\.1\)"):
        explore(_CountsOneShort(3, 1, 2, frozenset({0}), frozenset(), frozenset()), symmetry=True)
    with pytest.raises(InvalidModel, match=r"permute\(\) returned a list for a state that is a tuple"):
        explore(_PermutesToAList(3, 1, 2, frozenset({0}), frozenset(), frozenset()), symmetry=True)


def test_permutation_helpers() -> None:
    p = Permutation({"S": (2, 0, 1)})
    seq = ("a", "b", "c")
    assert p.place("S", seq) == p.reorder_fn("S")(seq) == ("b", "c", "a")
    assert p.inverse().place("S", p.place("S", seq)) == seq
    assert p.mask("S", 0b101) == 0b110
    with pytest.raises(ValueError, match="not a permutation"):
        Permutation({"S": (0, 0)})


# -- every shipped spec: the same verdict, property and shortest length under symmetry ----------------
SPECS = sorted(Path(__file__).resolve().parent.parent.joinpath("specs").glob("*.toml"))
_FAST = {"paxos-b0", "paxos-b1", "paxos-bug-accept-below-promise", "paxos-bug-duplicate-ballots",
         "paxos-bug-ignore-prior-votes", "paxos-bug-small-phase1-quorum", "paxos-bug-small-phase2-quorum",
         "paxos-bug-promise-backwards", "raft-bug-vote-twice"}  # the Raft specs with logs take 7-8 s each


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.stem, marks=[] if p.stem in _FAST else [pytest.mark.slow])
     # A spec searched by epochs is refused with symmetry (the epoch search does not reduce): not such a spec.
     for p in SPECS if "symmetry" not in p.stem and load_spec(p).limits.search != "epochs"],
)
def test_every_spec_meets_its_verdict_and_trace_length_under_symmetry(path: Path) -> None:
    spec = load_spec(path)
    r = spec.run(symmetry=True)
    e = spec.expect
    assert r.verdict.value == e.verdict
    if e.property is not None:
        assert r.violation.property == e.property
    if e.trace_length is not None:
        assert len(r.violation.trace) == e.trace_length
        assert_real_path(spec.build_model(), r.violation.trace) if not r.violation.outside_boundary else None
    if e.depth is not None and e.verdict == "holds":
        assert r.depth == e.depth
