"""Partial-order reduction with static ample sets (``explore(por=True)``, ``check --por``)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quorumcheck.cli import main
from quorumcheck.errors import InvalidParameter
from quorumcheck.explorer import Verdict, explore
from quorumcheck.models import Action, Model, PaxosModel, RaftModel, always, every_step

from conftest import assert_real_path

pytestmark = pytest.mark.filterwarnings("ignore::quorumcheck.errors.ModelWarning")


def answers(model: Model[Any], result: Any) -> set[tuple[bool, ...]]:
    """Every combination of state-property answers that some explored state has."""
    props = [p for p in model.properties() if p.expectation.value != "every-step"]
    return {tuple(p.holds(d["state"]) for p in props) for _, d in result.graph.nodes(data=True)}


def declaration_holds(model: Model[Any]) -> list[str]:
    """Check a model's persistent steps on its whole state graph; the failures, as text.

    At every reachable state s whose persistent step a leads to s', and every other
    step b from s to t: a is still named at t (so, by induction, along every path that
    avoids a, a stays enabled) and the two orders meet: a(b(s)) == b(a(s)).
    """
    graph = explore(model, properties=[]).graph
    failures: list[str] = []
    for _, data in graph.nodes(data=True):
        s = data["state"]
        steps = list(model.successors(s))
        k = model.persistent_step(s, steps)
        if k is None:
            continue
        a, s1 = steps[k]
        for j, (b, t) in enumerate(steps):
            if j == k or t is s:
                continue
            after = list(model.successors(t))
            named = model.persistent_step(t, after)
            if named is None or after[named][0] != a:
                failures.append(f"{b} disables or changes {a}")
                continue
            if after[named][1] not in [u for c, u in model.successors(s1) if c == b]:
                failures.append(f"{a} and {b} do not commute")
    return failures


# Every bug variant, at ballots 0..1 where its whole graph is small (three variants have 90,000 states or more
# there, and promise-backwards no bound at all), else at ballot 0.
LARGE = ("accept-below-promise", "promise-backwards", "duplicate-ballots")
CONFIGS = [(bug, 0 if bug in LARGE else 1) for bug in [None, *PaxosModel.bugs]]


# -- the declaration -----------------------------------------------------------------------------
@pytest.mark.parametrize(("bug", "ballots"), CONFIGS)
def test_paxos_persistent_steps_commute_with_every_other_step(bug: str | None, ballots: int) -> None:
    assert declaration_holds(PaxosModel(max_ballot=ballots, bug=bug)) == []


class Counter(Model[tuple[int, int]]):
    """Two counters; "Bump" is declared persistent but the other step reads what it writes."""

    name = "counter"

    def init_states(self) -> list[tuple[int, int]]:
        return [(0, 0)]

    def successors(self, state: tuple[int, int]) -> list[tuple[Action, tuple[int, int]]]:
        x, y = state
        out = []
        if x < 2:
            out.append((Action("Bump"), (x + 1, y)))
        if y < 2:
            out.append((Action("Copy"), (x, max(y, x) + 1 if x else y + 1)))
        return out

    def persistent_step(self, state: tuple[int, int], steps: Any) -> int | None:
        return 0 if steps and steps[0][0].name == "Bump" else None

    def properties(self) -> list[Any]:
        return [always("y-small", lambda s: s[1] < 3, footprint=lambda s: s[1] >= 3)]


def test_a_wrong_declaration_fails_the_check() -> None:
    assert declaration_holds(Counter()) != []


# -- verdicts, answers and traces against the unreduced search --------------------------------------
@pytest.mark.parametrize(("bug", "ballots"), CONFIGS)
def test_paxos_same_verdicts_answers_and_real_traces(bug: str | None, ballots: int) -> None:
    model = PaxosModel(max_ballot=ballots, bug=bug)
    full = explore(model, stop_at_first=False, properties=["all"])
    reduced = explore(model, stop_at_first=False, properties=["all"], por=True)
    assert reduced.verdict == full.verdict
    assert {v.property for v in reduced.violations} == {v.property for v in full.violations}
    assert {w.property: w.witnessed for w in reduced.witnesses} == {w.property: w.witnessed for w in full.witnesses}
    assert answers(model, reduced) == answers(model, full)
    assert reduced.distinct_states < full.distinct_states if ballots else reduced.distinct_states <= full.distinct_states
    stats = reduced.partial_order
    assert stats is not None and stats.reduced > 0 and stats.reduced + stats.full == reduced.distinct_states
    for v in reduced.violations:
        assert v.trace is not None
        assert_real_path(model, v.trace)
        assert len(v.trace) >= len(next(f for f in full.violations if f.property == v.property).trace)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=st.sampled_from(CONFIGS), acceptors=st.integers(2, 3), values=st.integers(1, 2),
       symmetry=st.booleans())
def test_reduction_keeps_verdicts_and_answers(config: tuple[str | None, int], acceptors: int, values: int,
                                              symmetry: bool) -> None:
    bug, ballots = config
    model = PaxosModel(acceptors=acceptors, values=values, max_ballot=ballots, bug=bug)
    full = explore(model, stop_at_first=False, properties=["all"], symmetry=symmetry)
    reduced = explore(model, stop_at_first=False, properties=["all"], symmetry=symmetry, por=True)
    assert reduced.verdict == full.verdict
    assert {v.property for v in reduced.violations} == {v.property for v in full.violations}
    assert answers(model, reduced) == answers(model, full)
    assert reduced.distinct_states <= full.distinct_states


@pytest.mark.slow
def test_exact_reduced_counts() -> None:
    r = explore(PaxosModel(max_ballot=2), por=True, keep_graph=False)
    assert (r.verdict, r.distinct_states, r.depth) == (Verdict.HOLDS, 173_827, 25)
    assert r.partial_order.reduced == 3


# -- where it does not apply -------------------------------------------------------------------------
def test_a_model_without_persistent_steps_gets_a_notice_and_full_counts() -> None:
    model = RaftModel(servers=2, max_term=1)
    r = explore(model, por=True)
    assert r.partial_order is None
    assert r.distinct_states == explore(model).distinct_states
    assert len(r.notices) == 1 and "names no persistent steps" in r.notices[0]


def test_an_action_property_turns_it_off_with_a_notice() -> None:
    model = PaxosModel(max_ballot=1)
    model.properties = lambda: [every_step("ballots-grow", lambda s, t: True)]  # type: ignore[method-assign]
    r = explore(model, por=True)
    assert r.partial_order is None and r.distinct_states == 3921
    assert "not action properties (ballots-grow)" in r.notices[0]


def test_workers_are_refused() -> None:
    with pytest.raises(InvalidParameter, match="one process"):
        explore(PaxosModel(max_ballot=0), por=True, workers=2)


# -- the CLI and specs ------------------------------------------------------------------------------
def test_cli_por_json_and_text() -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--por", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["distinct_states"] == 3778 and data["partial_order"]["reduced"] == 2
    text = runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--por"])
    assert text.exit_code == 0 and "3,778 distinct states (partial-order reduced)" in text.stdout
    refused = runner.invoke(main, ["check", "paxos", "--max-ballot", "1", "--por", "--workers", "2"])
    assert refused.exit_code == 2
    assert "partial-order reduction runs in one process" in refused.output
    assert "Traceback" not in refused.output


def test_spec_limit(tmp_path: Any) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text('model = "paxos"\n[parameters]\nmax_ballot = 1\n[limits]\npor = true\n'
                    '[expect]\nverdict = "holds"\ndistinct_states = 3778\n')
    out = CliRunner().invoke(main, ["check", str(spec)])
    assert out.exit_code == 0, out.output
