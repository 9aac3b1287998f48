"""prove --infer: the candidate grammar, the sample filter, and Houdini's verdict (tests/test_infer.py)."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quorumcheck.models.paxos_symbolic import paxos_system
from quorumcheck.models.raft_symbolic import raft_system
from quorumcheck.prover import prove
from quorumcheck.prover.infer import (
    Candidate, Grammar, _Builder, cone_of_influence, covering_clauses, enumerate_candidates, infer, sample_filter,
    sample_states, strengthen,
)


@pytest.fixture(scope="module")
def paxos_samples():
    """Every reachable state of Paxos with 2 acceptors, 1 value, ballots -1..0 (explicit hook)."""
    return sample_states(paxos_system(), {"Acceptor": 2, "Value": 1, "Ballot": 2, "Quorum": 1}, max_states=5000)


def test_enumerator_has_no_duplicates_and_only_well_sorted_formulas() -> None:
    system = paxos_system()
    template = {"Acceptor": 1, "Ballot": 1, "Value": 1}
    clauses = enumerate_candidates(system, template, max_literals=2, max_exists=0)
    assert len(clauses) == len(set(clauses))
    builder = _Builder(Grammar(system))
    texts = set()
    for lits in clauses:
        formula = builder.formula(Candidate(tuple(sorted(template.items())), lits))  # raises if ill-sorted
        system.signature.check(formula, "candidate")
        texts.add(builder.python(Candidate(tuple(sorted(template.items())), lits)))
    assert len(texts) == len(clauses)
    # vote(a, b, v) -> proposed(b, v) is among them, once, printed as Python a model file can use.
    assert "ForAll([a1, b1, v1], vote(a1, b1, v1) >> proposed(b1, v1))" in texts


def test_renamings_within_a_sort_are_one_candidate() -> None:
    clauses = enumerate_candidates(paxos_system(), {"Ballot": 2}, max_literals=1, max_exists=0)
    shown = [_Builder(Grammar(paxos_system())).python(Candidate((("Ballot", 2),), c)) for c in clauses]
    # b1 < b2 and b2 < b1 are one candidate (a renaming of each other); b1 == b2 is one too.
    assert sorted(shown) == ["ForAll([b1, b2], (b1 < b2))", "ForAll([b1, b2], (b1 == b2))",
                             "ForAll([b1, b2], ~(b1 < b2))", "ForAll([b1, b2], ~(b1 == b2))"]


def test_sampled_paxos_states_come_from_the_explicit_model(paxos_samples) -> None:
    states, universe, statics = paxos_samples
    assert universe["Ballot"] == (-1, 0) and universe["Value"] == (-1, "v1")
    assert statics["member"] == frozenset({("a1", "q1")})  # the fewest tuples that satisfy the axioms
    assert len(states) == 13
    assert any(st["vote"] for st in states)  # some acceptor voted
    assert all(st["max_bal"][("a1",)] in (-1, 0) for st in states)


def test_sample_filter_drops_a_false_candidate_and_keeps_a_true_one(paxos_samples) -> None:
    system = paxos_system()
    kept = sample_filter(system, [paxos_samples], max_vars=3, max_literals=2, max_exists=0,
                         per_sort={"Acceptor": 1, "Ballot": 1, "Value": 1})
    builder = _Builder(Grammar(system))
    texts = {builder.python(c) for c in kept.minimal}
    assert "ForAll([a1, b1, v1], vote(a1, b1, v1) >> proposed(b1, v1))" in texts
    # false on the samples: "no acceptor ever votes", and "every proposal is voted for"
    assert "ForAll([a1, b1, v1], ~vote(a1, b1, v1))" not in texts
    assert "ForAll([a1, b1, v1], proposed(b1, v1) >> vote(a1, b1, v1))" not in texts
    assert kept.enumerated > kept.distinct >= len(kept.minimal) > 0


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 12).flatmap(lambda width: st.tuples(
    st.just(width), st.lists(st.integers(0, (1 << width) - 1), min_size=1, max_size=9),
    st.integers(1, 3), st.lists(st.booleans(), min_size=9, max_size=9))))
def test_the_clauses_true_on_the_samples_are_those_trying_every_combination_finds(case) -> None:
    """The search guided by the samples' uncovered points finds exactly the minimal covering clauses."""
    width, masks, most, existential = case
    full = (1 << width) - 1
    existential = existential[:len(masks)]

    def covers(combo: tuple[int, ...]) -> bool:
        m = 0
        for i in combo:
            m |= masks[i]
        return m == full

    expected = [c for k in range(1, most + 1) for c in itertools.combinations(range(len(masks)), k)
                if covers(c) and sum(existential[i] for i in c) <= 1
                and not any(covers(tuple(j for j in c if j != i)) for i in c)]
    assert covering_clauses(masks, full, most, existential=existential) == expected


def test_cone_of_influence_of_paxos_agreement_is_the_whole_protocol() -> None:
    assert sorted(cone_of_influence(paxos_system(), ["agreement"])) == [
        "max_bal", "max_val", "max_vbal", "member", "proposed", "sent_1a", "sent_1b", "vote"]


def test_strengthening_adds_what_rules_out_each_counterexample_and_drops_what_cannot_be_supported() -> None:
    """Goal: one value per ballot (Voting.tla). The pool holds the two lemmas it needs and two decoys that
    rule out its first counterexample too but are not invariants; the decoys are tried first (fewer
    literals) and dropped, and the result is checked by prove on its own."""
    system = paxos_system()
    builder = _Builder(Grammar(system))
    wanted = {"ForAll([a1, b1, v1], vote(a1, b1, v1) >> proposed(b1, v1))",
              "ForAll([b1, v1, v2], (proposed(b1, v1) & proposed(b1, v2)) >> (v1 == v2))"}
    decoys = {"ForAll([a1, b1, v1], ~vote(a1, b1, v1))", "ForAll([b1, v1], ~proposed(b1, v1))"}
    pool = []
    for template, most in (({"Acceptor": 1, "Ballot": 1, "Value": 1}, 2), ({"Ballot": 1, "Value": 2}, 3),
                           ({"Ballot": 1, "Value": 1}, 1)):
        for lits in enumerate_candidates(system, template, max_literals=most, max_exists=0):
            candidate = Candidate(tuple(sorted(template.items())), lits)
            if builder.python(candidate) in wanted | decoys:
                pool.append(candidate)
    assert len(pool) == 4
    found = strengthen(system, [system.conjunct("one-value-per-ballot")], pool, builder, timeout=10)
    assert found.inductive and found.reason is None
    assert {c.description for c in found.added} == wanted and found.dropped == 2
    checked_system = dataclasses.replace(
        system, conjuncts=(*system.conjuncts, *found.added),
        invariant_sets={**system.invariant_sets, "strengthened": ("one-value-per-ballot",
                                                                  *(c.name for c in found.added))},
        safety=("one-value-per-ballot",))
    assert prove(checked_system, ["strengthened"], reach=False).verdict.value == "holds"
    # Without the lemmas it stops, and says why.
    weak = strengthen(system, [system.conjunct("one-value-per-ballot")],
                      [c for c in pool if builder.python(c) in decoys], builder, timeout=10)
    assert not weak.inductive and weak.dropped == 2
    assert weak.reason.startswith("one-value-per-ballot is not preserved by Phase2b (fails)")


def test_cone_of_influence_of_raft_election_safety_leaves_the_logs_out() -> None:
    assert cone_of_influence(raft_system(), ["election-safety"]) == [
        "current_term", "role", "elected", "member", "voted_for", "votes_granted", "request_vote",
        "vote_granted_msg", "voted"]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 14: not reached yet - at 4 variables and 3 literals the filter phase "
                   "ends in about 90 s with 42,735 minimal clauses (the shipped invariant's six among them), but "
                   "strengthening from the goal picks clauses that are true and not inductive (facts about the "
                   "current term only) and drops them again, Houdini gets too many; smaller templates cannot state "
                   "the lemmas")
def test_raft_election_inference_proves_election_safety() -> None:
    system = raft_system()
    result = infer(system, goals=["election-safety"], max_vars=4, max_literals=3, max_exists=1, max_states=1500,
                   timeout=1500)
    assert result.proved, result.to_json()
    assert result.exit_code == 0
    # Each inferred conjunct, checked by prove on its own system: inductive and implying election safety.
    inferred = dataclasses.replace(
        system, conjuncts=(*system.conjuncts, *result.conjuncts),
        invariant_sets={**system.invariant_sets, "inferred": tuple(c.name for c in result.conjuncts)},
        safety=("election-safety",))
    checked = prove(inferred, ["inferred"], reach=False)
    assert checked.verdict.value == "holds"


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="issue 14: not reached yet - the Paxos filter phase ran out of its 600 s "
                   "inside one template")
def test_paxos_agreement_is_proved_by_inference_alone_within_ten_minutes() -> None:
    result = infer(paxos_system(), max_vars=4, max_literals=3, max_exists=2, timeout=600)
    assert result.enumerated > result.surviving > 0
    assert result.proved and result.exit_code == 0


def test_infer_stops_at_its_time_limit_inside_a_large_template() -> None:
    """The filter checks the deadline inside a template too (Paxos at 4 variables: one template outlasted 600 s)."""
    import subprocess
    import sys
    import time

    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "quorumcheck", "prove", "paxos", "--infer", "--timeout", "3", "--json"],
                       capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    assert r.returncode == 3, r.stderr[-500:]
    data = json.loads(r.stdout)
    assert data["stop_reason"] == "timeout" and data["seconds"] < 3 + 5  # the total; phase_seconds per phase
    assert elapsed < 3 + 15  # start-up and Z3 included; it ran past 60 s before


def test_sampling_cut_before_its_first_state_gives_no_states() -> None:
    """A time limit that ends the explicit search before its first state (a loaded machine, `--timeout 1`) leaves no
    graph: the sample is empty, and the caller reports the timeout, instead of an internal error."""
    from quorumcheck.prover.infer import sample_states

    states, universe, _ = sample_states(paxos_system(), {"Acceptor": 3, "Ballot": 3, "Value": 2, "Quorum": 3},
                                        timeout=1e-6)
    assert states == [] and len(universe["Acceptor"]) == 3


def test_sorts_outside_the_goals_cone_get_no_elements_and_raft_elections_are_sampled_deeper() -> None:
    from quorumcheck.prover.infer import default_instances

    raft = raft_system()
    cone = cone_of_influence(raft, ["election-safety"])
    (sizes,) = default_instances(raft, cone)
    assert sizes == {**default_instances(raft)[0], "Index": 0, "Value": 0}
    paxos = paxos_system()
    assert default_instances(paxos, cone_of_influence(paxos, ["agreement"])) == default_instances(paxos)
    # With no indexes the explicit instance runs elections only: no sampled state has a log or a created entry,
    # where the instance with 3 indexes and 3 values gives both.
    states, universe, _ = sample_states(raft, sizes, max_states=300, timeout=60)
    assert universe["Index"] == () and universe["Value"] == () and len(states) == 300
    assert all(not st["log"] and not st["created"] for st in states)
    # The 300 are stratified by shape: 26 have a leader elected, where a uniform sample of the 50,000 has about 1.
    assert sum(1 for st in states if st["elected"]) == 26
    with_logs, _, _ = sample_states(raft, default_instances(raft)[0], max_states=300, timeout=60)
    assert any(st["log"] for st in with_logs) and any(st["created"] for st in with_logs)


def test_an_instance_s_static_relations_are_the_same_in_every_call() -> None:
    """Z3's choice among the smallest quorum systems depends on what it was asked before; the least renaming
    makes it one: s1 is in both quorums of 3 servers and 2 quorums, every time."""
    from quorumcheck.prover.infer import Grammar, _statics, _universe

    system = raft_system()
    grammar = Grammar(system)
    universe = _universe(grammar, {"Server": 3, "Term": 3, "Index": 0, "Value": 0, "Role": 3, "Quorum": 2})
    answers = {_statics(system, grammar, universe)["member"] for _ in range(3)}
    assert answers == {frozenset({("s1", "q1"), ("s2", "q1"), ("s1", "q2")})}


def test_no_candidate_has_a_disequality_premise_between_variables(paxos_samples) -> None:
    """forall x, y. x != y | C(x, y) is forall x. C(x, x), a clause of the smaller template: it is left out."""
    system = paxos_system()
    kept = sample_filter(system, [paxos_samples], max_vars=3, max_literals=2, max_exists=0,
                         per_sort={"Acceptor": 2, "Ballot": 1, "Value": 1})
    texts = {_Builder(Grammar(system)).python(c) for c in kept.minimal}
    assert not [c for c in kept.minimal
                if any(lt[0][0] == "eq" and not lt[1] and lt[0][1][0] == lt[0][2][0] == "var" for lt in c.literals)]
    # What such a clause would say is kept with one acceptor: a1 == a2 & vote(a1, ..) >> vote(a2, ..) is a tautology,
    # and vote(a1, b1, v1) >> proposed(b1, v1) stands for its two-acceptor variants.
    assert "ForAll([a1, b1, v1], vote(a1, b1, v1) >> proposed(b1, v1))" in texts


@settings(max_examples=100, deadline=None)
@given(common=st.integers(0, 300), rare=st.integers(1, 20), count=st.integers(1, 200), seed=st.integers(0, 3))
def test_a_stratified_sample_keeps_every_rare_shape(common: int, rare: int, count: int, seed: int) -> None:
    """Shapes are taken in turn: while the sample has room, each of the few rare states is in it."""
    import random

    from quorumcheck.prover.infer import _stratified

    states = [{"elected": frozenset(), "n": frozenset({(i,)})} for i in range(common)]
    states += [{"elected": frozenset({(1, "s1")}), "n": frozenset({(-i,)})} for i in range(1, rare + 1)]
    picked = _stratified(list(states), count, random.Random(seed))
    assert len(picked) == min(count, len(states))
    assert len({id(x) for x in picked}) == len(picked)  # no state twice

    def in_turn(first: int, second: int) -> tuple[int, int]:
        """How many of each group a sample of ``count`` takes, one of each in turn, ``first``'s group first."""
        left, took = [first, second], [0, 0]
        while sum(took) < min(count, first + second):
            for g in (0, 1):
                if left[g] and sum(took) < count:
                    left[g] -= 1
                    took[g] += 1
        return took[0], took[1]

    taken = sum(1 for x in picked if x["elected"])
    assert taken in {in_turn(rare, common)[0], in_turn(common, rare)[1]}  # the groups' order is random
