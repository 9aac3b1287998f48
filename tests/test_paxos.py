"""Paxos: exact agreement with TLC on Paxos.tla, the known bugs, and real counterexamples."""

from __future__ import annotations

import warnings

import pytest
from conftest import assert_real_path, labels
from quorumcheck.explorer import Verdict, explore, labelled_transitions
from quorumcheck.models import PaxosModel
from quorumcheck.invariants import evaluate, standard
from quorumcheck.models.paxos import Msg2b


def chosen_values(model: PaxosModel, state: object) -> set[int]:
    """The values chosen in ``state``, by the plain-Python evaluator (the properties use Z3)."""
    interp = model.interpretation()
    values = {name: interp.read(name, state) for name in interp.signature.symbols}
    chosen = standard.CHOSEN_MIXING_BALLOTS if model.bug == "learner-mixes-ballots" else standard.CHOSEN
    return {e for e in interp.universe["Value"] if evaluate(chosen(standard.Value(e)), interp.universe, values)}

from quorumcheck.errors import InvalidParameter, ModelWarning


@pytest.mark.parametrize(
    ("max_ballot", "states", "depth", "transitions"),
    [(0, 73, 9, 309), (1, 3921, 17, 22994),
     pytest.param(2, 185_369, 25, 1_316_583, marks=pytest.mark.slow)],  # 8 s; README's first command runs it too
)
def test_distinct_states_and_depth_match_tlc(max_ballot: int, states: int, depth: int, transitions: int) -> None:
    r = explore(PaxosModel(acceptors=3, values=2, max_ballot=max_ballot))
    assert r.verdict is Verdict.HOLDS
    assert (r.distinct_states, r.depth, r.transitions) == (states, depth, transitions)
    assert r.graph is not None
    assert r.graph.number_of_nodes() == states
    # Paxos has no bound, so every generated transition is an edge label in the graph.
    assert labelled_transitions(r.graph) == transitions


def test_equal_state_parts_are_one_object() -> None:
    """Successors share every row, message set and message equal to one built before (memory and hashing
    depend on it: 185,369 states of 0..2 hold 1,611 distinct vote sets)."""
    r = explore(PaxosModel(max_ballot=1), properties=[])
    states = [data["state"] for _, data in r.graph.nodes(data=True)]
    assert len(states) == 3921
    for k, field in enumerate(states[0]._fields):
        parts = [s[k] for s in states]
        assert len({id(p) for p in parts}) == len(set(parts)), field
    messages = [m for s in states for part in (s.msgs_1b, s.msgs_2a, s.msgs_2b) for m in part]
    assert len({id(m) for m in messages}) == len(set(messages)) == 28
    assert all(type(row) is tuple for s in states for row in (s.max_bal, s.max_vbal, s.max_val))  # not a Msg2b


def test_graph_mode_and_parent_mode_agree() -> None:
    with_graph = explore(PaxosModel(max_ballot=1))
    without = explore(PaxosModel(max_ballot=1), keep_graph=False)
    assert without.graph is None
    assert (with_graph.distinct_states, with_graph.transitions, with_graph.depth) == (
        without.distinct_states,
        without.transitions,
        without.depth,
    )
    a = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"))
    b = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"), keep_graph=False)
    assert labels(a.violations[0].trace) == labels(b.violations[0].trace)


BUGS = [
    # bug, max ballot where it is found, shortest trace, and the largest max ballot where it is not
    ("accept-below-promise", 1, 12, 0),
    ("ignore-prior-votes", 1, 12, 0),
    ("promise-backwards", 1, 12, 0),
    ("adopt-any-vote", 2, 17, 1),
    ("small-phase1-quorum", 1, 10, 0),
    ("small-phase2-quorum", 1, 10, 0),
    ("duplicate-ballots", 0, 9, None),
]


@pytest.mark.parametrize(("bug", "ballot", "length", "safe_below"), BUGS)
def test_each_bug_violates_agreement_with_a_shortest_real_trace(
    bug: str, ballot: int, length: int, safe_below: int | None
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        model = PaxosModel(acceptors=3, values=2, max_ballot=ballot, bug=bug)
    r = explore(model)
    assert r.verdict is Verdict.VIOLATED
    v = r.violations[0]
    assert v.property == "agreement"
    assert v.trace is not None and len(v.trace) == length
    assert_real_path(model, v.trace)
    # the last state really has two chosen values, and no earlier one does
    assert len(chosen_values(model, v.trace.final)) == 2
    assert all(len(chosen_values(model, s)) <= 1 for s in v.trace.states[:-1])
    if safe_below is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelWarning)
            assert explore(PaxosModel(max_ballot=safe_below, bug=bug)).verdict is Verdict.HOLDS


def test_accept_below_promise_trace_content() -> None:
    r = explore(PaxosModel(max_ballot=1, bug="accept-below-promise"))
    trace = r.violations[0].trace
    assert trace is not None
    # the defining step: an acceptor that promised ballot 1 votes in ballot 0
    final = labels(trace)[-1]
    assert final.startswith("Phase2b(") and "b=0" in final
    before = trace.steps[-2].state
    assert before.max_bal[1] == 1  # a2 had promised ballot 1 ...
    assert trace.final.max_vbal[1] == 0  # ... and voted in ballot 0
    assert r.violations[0].explanation == "v = v1, w = v2; chosen(v1): b = 0, Q = {a1, a2}; chosen(v2): b = 1, Q = {a1, a2}"


def test_learner_mixes_ballots_pools_votes_across_ballots() -> None:
    correct = PaxosModel()
    with pytest.warns(ModelWarning, match="needs ballots 0..3"):  # the states below are built by hand
        buggy = PaxosModel(bug="learner-mixes-ballots")
    votes = frozenset({Msg2b(0, 0, 0), Msg2b(1, 1, 0)})  # a1 voted v1 in ballot 0, a2 voted v1 in ballot 1
    state = next(iter(correct.init_states()))._replace(msgs_2b=votes)
    assert chosen_values(correct, state) == set()
    assert chosen_values(buggy, state) == {0}
    reach = {p.name: p for p in buggy.properties()}["value-can-be-chosen"]
    assert reach.holds(state)


def test_reachability_witness_is_a_shortest_decision() -> None:
    r = explore(PaxosModel(max_ballot=1))
    (w,) = r.witnesses
    assert w.property == "value-can-be-chosen" and w.trace is not None
    # 1a, two 1b, 2a, two 2b: the fewest steps that choose a value with majorities of 3
    assert len(w.trace) == 6
    assert labels(w.trace)[0] == "Phase1a(b=0)"
    assert len(chosen_values(PaxosModel(), w.trace.final)) == 1


def test_stuttering_steps_are_self_loops() -> None:
    m = PaxosModel(max_ballot=0)
    s0 = next(iter(m.init_states()))
    s1 = m.next_state(s0, "Phase1a(b=0)")
    assert s1 is not None and m.next_state(s1, "Phase1a(b=0)") == s1
    r = explore(m)
    assert r.graph is not None
    assert r.graph.has_edge(1, 1) and [str(a) for a in r.graph.edges[1, 1]["actions"]] == ["Phase1a(b=0)"]


def test_explicit_quorums_and_names() -> None:
    m = PaxosModel(acceptors=["x", "y", "z"], values=["red", "blue"], max_ballot=0, quorums=[["x", "y"], ["y", "z"]])
    r = explore(m)
    assert r.verdict is Verdict.HOLDS
    assert m.settings()["quorums"] == [["x", "y"], ["y", "z"]]
    w = r.witnesses[0].trace
    assert w is not None and "a=y" in " ".join(labels(w))  # every quorum needs y


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"acceptors": 0}, "acceptors must be at least 1 (got 0)"),
        ({"values": ["v1", "v1"]}, "values lists 'v1' twice"),
        ({"values": []}, "values must not be empty"),
        ({"acceptors": ["three"]}, "acceptors names one element, 'three'; for 3, give the number: acceptors=3"),
        ({"max_ballot": -1}, "max_ballot must be at least 0"),
        ({"max_ballot": "2"}, "max_ballot must be an integer"),
        ({"bug": "off-by-one"}, "unknown Paxos bug 'off-by-one'; choose one of: accept-below-promise"),
        ({"acceptors": 4, "quorums": [["a1", "a2"], ["a3", "a4"]]}, "do not intersect"),
        ({"quorums": [["a1", "a9"]]}, "unknown acceptor 'a9'"),
        ({"quorums": []}, "quorums must be a non-empty list"),
        # From a tampered trace file: a list where a name belongs was a TypeError (exit 4).
        ({"quorums": [[["a1"]]]}, "names unknown acceptor"),
    ],
)
def test_bad_parameters_are_rejected_when_built(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message.replace("(", r"\(").replace(")", r"\)")):
        PaxosModel(**kwargs)


def test_non_intersecting_quorums_by_design_warn() -> None:
    with pytest.warns(ModelWarning, match="need not intersect"):
        PaxosModel(bug="small-phase2-quorum")


def test_a_bug_given_too_few_ballots_to_show_gets_a_warning() -> None:
    import warnings

    from quorumcheck.errors import ModelWarning

    with pytest.warns(ModelWarning, match=r"bug adopt-any-vote needs ballots 0\.\.2 .* pass --max-ballot 2"):
        PaxosModel(max_ballot=1, bug="adopt-any-vote")
    with pytest.warns(ModelWarning, match=r"bug accept-below-promise needs ballots 0\.\.1"):
        PaxosModel(max_ballot=0, bug="accept-below-promise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PaxosModel(max_ballot=2, bug="adopt-any-vote")
        PaxosModel(max_ballot=0, bug="duplicate-ballots")
        PaxosModel(max_ballot=0)
