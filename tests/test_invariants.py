"""The first-order property language: well-formedness, Z3 = Python, witnesses, statistics."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
import z3
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from quorumcheck.cli import main
from quorumcheck.errors import InvalidFormula, InvalidParameter, Undetermined
from quorumcheck.explorer import Verdict, explore
from quorumcheck.invariants import (
    Definition,
    Exists,
    FiniteCheck,
    ForAll,
    Interpretation,
    Judge,
    Signature,
    Sort,
    Translator,
    evaluate,
    formula_property,
    standard,
)
from quorumcheck.models import Action, Model, PaxosModel

# -- well-formedness, at definition time ----------------------------------------------------------------
Node = Sort("Node")
Level = Sort("Level", ordered=True)
SIG = Signature("toy", [Node, Level])
link = SIG.relation("link", Node, Node)
mark = SIG.relation("mark", Node)
level = SIG.function("level", [Node], Level)
x, y = Node.vars("x y")
lv = Level.var("l")


def test_sort_mismatch_names_the_argument_and_the_fix() -> None:
    with pytest.raises(InvalidFormula, match=r"link expects \(Node, Node\) but argument 2 is l of sort Level"):
        link(x, lv)
    with pytest.raises(InvalidFormula, match="compares sort Node with sort Level"):
        x == lv  # noqa: B015
    with pytest.raises(InvalidFormula, match="sort Node is not ordered"):
        x < y  # noqa: B015
    with pytest.raises(InvalidFormula, match="takes 2 argument"):
        link(x)


def test_unbound_variable_is_rejected_when_the_property_is_defined() -> None:
    interp = Interpretation(SIG, {"Node": (0, 1), "Level": (0, 1)}, {"link": frozenset(), "mark": frozenset(),
                                                                     "level": (0, 0)})
    with pytest.raises(InvalidFormula, match="property lonely uses the unbound variable"):
        formula_property("always", "lonely", link(x, y), interp)
    with pytest.raises(InvalidFormula, match="definition d uses the unbound variable"):
        Definition("d", [x], link(x, y))


def test_unknown_relation_and_unknown_sort_are_rejected() -> None:
    stranger = Sort("Stranger")
    other = Signature("other", [Node])
    foreign = other.relation("foreign", Node)
    interp = Interpretation(SIG, {"Node": (0,), "Level": (0,)}, {"link": frozenset(), "mark": frozenset(),
                                                                 "level": (0,)})
    with pytest.raises(InvalidFormula, match="uses foreign, which signature toy does not declare; declared: link"):
        formula_property("always", "p", ForAll(x, foreign(x)), interp)
    with pytest.raises(InvalidFormula, match="quantifies s over sort Stranger, which signature toy does not declare"):
        formula_property("always", "p", ForAll(stranger.var("s"), mark(x) | ~mark(x)).__class__(
            "forall", ((stranger.var("s"), x), mark(x))), interp)
    with pytest.raises(InvalidFormula, match="no relation or function 'lnk'"):
        SIG.symbol("lnk")


def test_formulas_refuse_python_truthiness_and_state_properties_refuse_after() -> None:
    with pytest.raises(InvalidFormula, match="use &, |, ~ and >>"):
        bool(mark(x))
    interp = Interpretation(SIG, {"Node": (0,), "Level": (0,)}, {"link": frozenset(), "mark": lambda s: s,
                                                                 "level": (0,)})
    with pytest.raises(InvalidFormula, match="reads the successor state"):
        formula_property("always", "p", ForAll(x, mark.after(x)), interp)
    with pytest.raises(InvalidParameter, match="unknown evaluator 'cvc5'"):
        Judge("p", ForAll(x, mark(x)), interp, "cvc5")


# -- Z3 and Python agree ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("bug", "ballot"), [(None, 1), ("duplicate-ballots", 0), ("learner-mixes-ballots", 1)])
def test_z3_and_python_agree_on_every_state_of_paxos(bug: str | None, ballot: int) -> None:
    model = PaxosModel(max_ballot=ballot, bug=bug)
    r = explore(model, stop_at_first=False, properties=["all"])
    assert r.graph is not None and r.complete
    z3_props = model.properties()
    model.evaluator = "python"
    py_props = model.properties()
    disagreements = 0
    outcomes = set()
    for _, data in r.graph.nodes(data=True):
        s = data["state"]
        for zp, pp in zip(z3_props, py_props):
            a, b = zp.judge.decide(s), pp.judge.decide(s)
            outcomes.add((zp.name, a))
            disagreements += a != b
    assert disagreements == 0
    if bug == "duplicate-ballots":  # both answers occur, so agreement is not vacuous
        assert ("agreement", False) in outcomes and ("agreement", True) in outcomes


@st.composite
def structures_and_formulas(draw: Any) -> tuple[dict[str, tuple[int, ...]], dict[str, Any], Any]:
    nodes = tuple(range(draw(st.integers(1, 3))))
    levels = tuple(range(draw(st.integers(1, 3))))
    pairs = list(itertools.product(nodes, nodes))
    values = {
        "link": frozenset(draw(st.lists(st.sampled_from(pairs), max_size=6))),
        "mark": frozenset((n,) for n in draw(st.lists(st.sampled_from(nodes), max_size=3))),
        "level": tuple(draw(st.sampled_from(levels)) for _ in nodes),
    }
    variables = [Node.var("x"), Node.var("y"), Node.var("z")]

    def node_term() -> Any:
        return draw(st.sampled_from(variables))

    def build(depth: int) -> Any:
        choice = draw(st.integers(0, 8 if depth > 0 else 3))
        if choice == 0:
            return link(node_term(), node_term())
        if choice == 1:
            return mark(node_term())
        if choice == 2:
            return node_term() == node_term()
        if choice == 3:
            return level(node_term()) <= level(node_term()) if draw(st.booleans()) else level(node_term()) < Level(1)
        if choice == 4:
            return ~build(depth - 1)
        if choice == 5:
            return build(depth - 1) & build(depth - 1)
        if choice == 6:
            return build(depth - 1) | build(depth - 1)
        if choice == 7:
            return build(depth - 1) >> build(depth - 1)
        v = draw(st.sampled_from(variables))
        return (ForAll if draw(st.booleans()) else Exists)(v, build(depth - 1))

    body = build(3)
    formula = ForAll(variables, body) if draw(st.booleans()) else Exists(variables, body)
    return {"Node": nodes, "Level": levels}, values, formula


@settings(max_examples=300, deadline=None)
@given(structures_and_formulas())
def test_z3_and_python_agree_on_generated_structures(case: tuple[dict[str, Any], dict[str, Any], Any]) -> None:
    universe, values, formula = case
    assert FiniteCheck(formula, universe, {}).holds(values) == evaluate(formula, universe, values)


# -- witnesses, statistics, unknown ------------------------------------------------------------------------
def test_z3_witness_names_the_chosen_values_ballots_and_quorums() -> None:
    r = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"))
    v = r.violation
    assert v is not None and v.property == "agreement"
    assert v.explanation == "v = v1, w = v2; chosen(v1): b = 0, Q = {a2, a3}; chosen(v2): b = 1, Q = {a1, a2}"


def test_judging_statistics_count_one_call_per_distinct_footprint() -> None:
    r = explore(PaxosModel(max_ballot=1))
    agreement = r.judging["agreement"]
    assert agreement.evaluator == "z3"
    # every distinct state asks the cache once; only distinct vote sets reach Z3
    assert agreement.calls + agreement.cache_hits == r.distinct_states
    distinct_vote_sets = {d["state"].msgs_2b for _, d in r.graph.nodes(data=True)}  # type: ignore[union-attr]
    assert agreement.calls == len(distinct_vote_sets)
    totals = r.judge_totals("z3")
    assert totals["calls"] == sum(s.calls for s in r.judging.values())


def test_z3_unknown_makes_the_run_undetermined(monkeypatch: pytest.MonkeyPatch) -> None:
    from quorumcheck.invariants import z3backend

    monkeypatch.setattr(z3backend.z3core, "Z3_solver_check_assumptions", lambda *args: z3.Z3_L_UNDEF)
    r = explore(PaxosModel(max_ballot=0))
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "unknown")
    check = FiniteCheck(ForAll(x, mark(x)), {"Node": (0,)}, {})
    with pytest.raises(Undetermined, match="Z3 answered unknown"):
        check.holds({"mark": frozenset()})


def test_ctrl_c_inside_a_judges_query_interrupts_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Z3 takes SIGINT for itself and answers unknown ("interrupted from keyboard"). The judges' fast path called
    Z3 directly, not through solve(), so a Ctrl-C landing there was an unknown, not an interrupt (CI once waited
    a minute for a Ctrl-C that check paxos never saw)."""
    from quorumcheck.invariants import z3backend

    monkeypatch.setattr(z3backend.z3core, "Z3_solver_check_assumptions", lambda *args: z3.Z3_L_UNDEF)
    monkeypatch.setattr(z3.Solver, "reason_unknown", lambda self: "interrupted from keyboard")
    check = FiniteCheck(ForAll(x, mark(x)), {"Node": (0,)}, {})
    with pytest.raises(KeyboardInterrupt):
        check.holds({"mark": frozenset()})
    r = explore(PaxosModel(max_ballot=0))
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "interrupted")


class Climb(Model[int]):
    """A counter that may climb or (wrongly) fall back, with an action property in the language."""

    name = "climb"

    def __init__(self, evaluator: str = "z3") -> None:
        self.evaluator = evaluator

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[Action, int]]:
        out = [(Action("Up"), min(state + 1, 3))]
        if state == 2:
            out.append((Action("Fall"), 0))
        return out

    def properties(self):  # type: ignore[no-untyped-def]
        counter = Sort("Counter", ordered=True)
        sig = Signature("climb", [counter])
        value = sig.function("value", [], counter)
        interp = Interpretation(sig, {"Counter": (0, 1, 2, 3)}, {"value": lambda s: (s,)})
        return [
            formula_property("every-step", "never-falls", value() <= value.after(), interp, "the counter never falls",
                             evaluator=self.evaluator),
        ]


@pytest.mark.parametrize("evaluator", ["z3", "python"])
def test_action_property_written_as_a_formula(evaluator: str) -> None:
    r = explore(Climb(evaluator))
    assert r.verdict is Verdict.VIOLATED
    v = r.violation
    assert v is not None and v.property == "never-falls"
    assert v.trace is not None and v.trace.states == [0, 1, 2, 0]


def test_symbolic_translation_keeps_quantifiers_for_proofs() -> None:
    t = Translator()
    agreement = t.formula(standard.PAXOS_AGREEMENT)
    assert z3.is_quantifier(agreement)
    solver = z3.Solver()
    # one value per ballot, quorum intersection and "chosen" imply agreement within one ballot: a tiny proof
    solver.add(z3.Not(t.formula(ForAll(x, mark(x) | ~mark(x)))))
    assert solver.check() == z3.unsat


# -- the CLI ---------------------------------------------------------------------------------------------------
def test_cli_evaluator_python_gives_the_same_answer_and_json_reports_z3_statistics() -> None:
    runner = CliRunner()
    a = json.loads(runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--json"]).stdout)
    b = json.loads(runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--json", "--evaluator", "python"]).stdout)
    assert (a["verdict"], a["distinct_states"]) == (b["verdict"], b["distinct_states"]) == ("holds", 3921)
    assert a["z3"]["calls"] > 0 and a["z3"]["cache_hits"] > 0 and a["z3"]["seconds"] >= 0
    assert b["z3"]["calls"] == 0 and b["properties"]["agreement"]["evaluator"] == "python"
    out = runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--stats"]).stdout
    assert "judging:" in out and "agreement" in out and "cache hits" in out


def test_cli_list_shows_formulas_and_definitions() -> None:
    out = CliRunner().invoke(main, ["list"]).stdout
    assert "forall v:Value, w:Value. ((chosen(v) & chosen(w)) -> v = w)" in out
    assert "where chosen(v:Value) := exists b:Ballot, Q:Quorum." in out
    assert "votes-safe" in out and "(on request" in out


def test_inductive_invariant_parts_hold_on_correct_paxos_and_break_first_on_a_bug() -> None:
    r = explore(PaxosModel(max_ballot=1), properties=["one-value-per-ballot", "votes-safe"])
    assert r.verdict is Verdict.HOLDS
    bugged = explore(PaxosModel(max_ballot=1, bug="accept-below-promise"), properties=["all"])
    assert bugged.violation is not None and bugged.violation.property == "votes-safe"
    assert bugged.violation.trace is not None and len(bugged.violation.trace) < 12


def test_a_property_too_large_to_ground_is_judged_in_python_with_the_same_answers() -> None:
    """Grounding runs at about 30,000 instances a second; beyond GROUNDING_LIMIT the property is judged in Python
    (a student's Paxos with 15 requests spent the whole time limit grounding votes-safe's 2.2 M instances)."""
    from quorumcheck.invariants.z3backend import GROUNDING_LIMIT, grounding_instances

    symmetric = ForAll([x, y], link(x, y) >> link(y, x))

    def interpretation(n: int) -> Interpretation:
        return Interpretation(SIG, {"Node": tuple(range(n)), "Level": (0,)},
                              {"link": lambda s: s, "mark": frozenset(), "level": (0,) * n})

    assert grounding_instances(symmetric, {"Node": tuple(range(300)), "Level": (0,)}) == 90_000 > GROUNDING_LIMIT
    big = Judge("symmetric", symmetric, interpretation(300))
    assert big.too_large and big.stats.evaluator == "python"
    small = Judge("symmetric", symmetric, interpretation(3))
    assert not small.too_large and small.stats.evaluator == "z3"
    for links, holds in ((frozenset({(1, 2), (2, 1)}), True), (frozenset({(1, 2)}), False), (frozenset(), True)):
        assert big.decide(links) is holds and small.decide(links) is holds
    assert big.witness(frozenset({(1, 2)})) is None  # no Z3 model to read the witness from


class Transitive(Model[frozenset]):  # type: ignore[type-arg]
    """One state, and a property whose Python evaluation over 400 nodes takes about a minute (64 M triples)."""

    name = "transitive"

    def init_states(self) -> list[frozenset]:  # type: ignore[type-arg]
        return [frozenset()]

    def successors(self, state: frozenset) -> list[tuple[Action, frozenset]]:  # type: ignore[type-arg]
        return []

    def properties(self):  # type: ignore[no-untyped-def]
        z = Node.var("z")
        interp = Interpretation(SIG, {"Node": tuple(range(400)), "Level": (0,)},
                                {"link": lambda s: s, "mark": frozenset(), "level": (0,) * 400})
        return [formula_property("always", "transitive", ForAll([x, y, z], (link(x, y) & link(y, z)) >> link(x, z)),
                                 interp, evaluator="python")]


def test_the_time_limit_cuts_a_long_python_evaluation_of_one_state() -> None:
    """The time limit used to be read only between states, so one evaluation of a large property outran it."""
    import time

    started = time.perf_counter()
    r = explore(Transitive(), timeout=0.5)
    assert time.perf_counter() - started < 10
    assert r.verdict is Verdict.UNDETERMINED and r.stop_reason == "timeout"


def test_random_schedules_cut_a_long_python_evaluation_too() -> None:
    import time

    from quorumcheck.studenttest import random_schedules

    started = time.perf_counter()
    result, schedules = random_schedules(Transitive(), runs=5, steps=3, timeout=0.5)
    assert time.perf_counter() - started < 10
    assert result.verdict is Verdict.UNDETERMINED and result.stop_reason == "timeout" and schedules <= 1
