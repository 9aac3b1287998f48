"""Raft: exact agreement with TLC on raft.tla, the known bugs, real counterexamples, parameters."""

from __future__ import annotations

import json

import pytest
from conftest import assert_real_path, labels
from hypothesis import given, settings
from hypothesis import strategies as st
from quorumcheck.explorer import CheckResult, Verdict, explore
from quorumcheck.models import BUILTIN_MODELS, RaftModel
from quorumcheck.models.api import Expectation
from quorumcheck.models.raft import (
    CANDIDATE,
    FIGURE_8_B_3,
    FIGURE_8_C_5,
    LEADER,
    LEADER_WITH_LONE_ENTRY,
    Election,
    RaftState,
)

from quorumcheck.errors import InvalidParameter
from quorumcheck.runspec import build_model

TLC = {"servers": 3, "values": 1, "max_term": 2, "max_log": 0, "max_copies": 1, "max_in_flight": 1}


# -- exact counts ---------------------------------------------------------------------------
def test_small_configuration_exact_count() -> None:
    # The semantics that reproduce TLC's 705,532 below, without Restart and DropMessage.
    r = explore(RaftModel(**TLC, restarts=False, loss=False))
    assert r.verdict is Verdict.HOLDS
    assert (r.distinct_states, r.depth, r.transitions) == (77_933, 40, 670_374)
    assert r.graph is not None and r.graph.number_of_nodes() == 77_933


@pytest.mark.slow
@pytest.mark.parametrize("duplication", [True, False])
def test_distinct_states_and_depth_match_tlc(duplication: bool) -> None:
    # With one message in flight a duplicate always leaves the bound: the count cannot change.
    r = explore(RaftModel(**TLC, restarts=True, duplication=duplication, loss=True), keep_graph=False)
    assert r.verdict is Verdict.HOLDS
    assert (r.distinct_states, r.depth) == (705_532, 39)
    assert r.transitions == (8_683_473 if duplication else 8_062_662)


@pytest.mark.slow
def test_the_default_model_is_tlcs_configuration() -> None:
    r = explore(RaftModel(), keep_graph=False)
    assert (r.verdict, r.distinct_states, r.depth) == (Verdict.HOLDS, 705_532, 39)


@pytest.mark.slow
def test_tlc_counts_every_history_variable() -> None:
    # Without allLogs, voterLog, the elections' votes and the messages' mlog the count is smaller.
    r = explore(RaftModel(**TLC, history=False), keep_graph=False)
    assert (r.distinct_states, r.depth) == (669_819, 39)


def test_history_only_refines_the_state() -> None:
    # history=False is a quotient: same depth, fewer states, and the same verdict.
    small = {"servers": 2, "max_term": 3, "max_log": 1}
    full, quotient = explore(RaftModel(**small), keep_graph=False), explore(RaftModel(**small, history=False))
    assert quotient.distinct_states < full.distinct_states
    assert quotient.depth == full.depth and quotient.verdict is full.verdict is Verdict.HOLDS


# -- the known bugs ---------------------------------------------------------------------------
# bug, violated property, shortest trace after the bug's default prefix, run in the default suite?
BUGS = [
    ("vote-twice", "election-safety", 16, True),
    ("forget-vote-on-restart", "election-safety", 18, True),
    ("count-stale-votes", "election-safety", 18, False),  # the trace test below runs it with symmetry by default
    ("no-log-check", "leader-completeness", 25, False),
    ("length-only-log-check", "leader-completeness", 28, False),
    ("commit-old-term", "leader-completeness", 31, False),
    ("accept-stale-append", "leader-completeness", 30, False),
    ("truncate-on-append", "leader-completeness", 19, False),  # test_symmetry.py runs its spec with symmetry by default
    ("commit-to-log-end", "leader-completeness", 22, False),  # test_symmetry.py runs its spec with symmetry by default
]


def _bug_params() -> list:  # type: ignore[type-arg]
    return [
        pytest.param(bug, prop, length, id=bug, marks=[] if fast else [pytest.mark.slow])
        for bug, prop, length, fast in BUGS
    ]


def test_every_bug_is_listed() -> None:
    assert sorted(b for b, *_ in BUGS) == sorted(RaftModel.bugs) == sorted(RaftModel.BUG_DEFAULTS)


_RUNS: dict[str, tuple[RaftModel, CheckResult[RaftState]]] = {}


def _run_bug(bug: str) -> tuple[RaftModel, CheckResult[RaftState]]:
    """Explore a bug at its default bounds, once per test session."""
    if bug not in _RUNS:
        model = RaftModel(bug=bug)
        _RUNS[bug] = (model, explore(model, keep_graph=False))
    return _RUNS[bug]


@pytest.mark.parametrize(("bug", "prop", "length"), _bug_params())
def test_each_bug_is_found_with_its_default_bounds(bug: str, prop: str, length: int) -> None:
    model, r = _run_bug(bug)
    assert r.verdict is Verdict.VIOLATED
    v = r.violations[0]
    assert v.property == prop
    assert v.trace is not None and len(v.trace) == length
    assert_real_path(model, v.trace)
    # the property really fails in the last state and in no earlier one
    check = next(p for p in model.properties() if p.name == prop)
    assert not check.condition(v.trace.final)
    assert all(check.condition(s) for s in v.trace.states[:-1])
    assert v.explanation


def test_vote_twice_trace_matches_reference_granularity() -> None:
    # REFERENCE.md: at raft.tla's granularity, 3 servers, terms <= 2, the shortest trace has 16 steps:
    # two timeouts, four votes of three steps each, two BecomeLeader.
    r = explore(RaftModel(bug="vote-twice"))
    trace = r.violations[0].trace
    assert trace is not None
    steps = labels(trace)
    assert len(steps) == 16
    assert sum(s.startswith("Timeout(") for s in steps) == 2
    assert sum(s.startswith("BecomeLeader(") for s in steps) == 2
    assert sum(s.startswith("RequestVote(") for s in steps) == 4
    assert any(s.startswith("Receive(RequestVoteResponse ") and s.endswith(" granted)") for s in steps)
    # Z3's witness: the term and the two servers elected in it
    assert r.violations[0].explanation in ("t = 2, s = s1, s2 = s2", "t = 2, s = s1, s2 = s3", "t = 2, s = s2, s2 = s3",
                                           "t = 2, s = s2, s2 = s1", "t = 2, s = s3, s2 = s1", "t = 2, s = s3, s2 = s2")
    assert sum(1 for s in trace.final.servers if s.role == LEADER) == 2


def test_the_correct_model_holds_within_a_bugs_bounds() -> None:
    r = explore(RaftModel(max_term=2, max_log=0, restarts=False, loss=False, history=False))
    assert r.verdict is Verdict.HOLDS
    assert [w.property for w in r.witnesses if w.witnessed] == ["leader-elected"]


def test_count_stale_votes_trace_counts_a_vote_from_an_older_term() -> None:
    # With symmetry (5 s instead of 25): the same shortest length, and a concrete trace of the plain model.
    r = explore(RaftModel(bug="count-stale-votes"), symmetry=True, keep_graph=False)
    assert len(r.violations[0].trace) == 18
    trace = r.violations[0].trace
    assert trace is not None
    # some candidate takes in a granted response of term 2 while it is in term 3
    for before, after in zip(trace.steps, trace.steps[1:]):
        a = str(after.action)
        if a.startswith("Receive(RequestVoteResponse") and "term=2 granted" in a:
            dest = int(a.split("->s")[1].split()[0]) - 1
            if before.state.servers[dest].current_term == 3:
                break
    else:
        pytest.fail("no stale vote was counted")


# -- Figure 8 ---------------------------------------------------------------------------------
def test_figure_8_prefix_reaches_state_c() -> None:
    m = RaftModel(servers=5, max_term=5, max_log=1, prefix=FIGURE_8_C_5)
    (start,) = m.init_states()
    d = m.describe(start)
    assert d["log"] == {"s1": "[#1 t2 v1]", "s2": "[#1 t2 v1]", "s3": "[#1 t2 v1]", "s4": "[]", "s5": "[#1 t3 v1]"}
    assert d["state"]["s1"] == d["state"]["s5"] == "Leader"
    assert d["currentTerm"]["s1"] == 4 and d["currentTerm"]["s5"] == 3
    assert d["matchIndex"]["s1"] == {"s1": 0, "s2": 1, "s3": 1, "s4": 0, "s5": 0}
    # the entry of term 2 is on a majority, but the correct leader must not commit it ...
    correct = m.next_state(start, "AdvanceCommitIndex(i=s1)")
    assert correct is not None and correct.servers[0].commit_index == 0
    # ... while the bug commits it by counting replicas
    buggy = RaftModel(servers=5, max_term=5, max_log=1, prefix=FIGURE_8_C_5, bug="commit-old-term")
    (start,) = buggy.init_states()
    committed = buggy.next_state(start, "AdvanceCommitIndex(i=s1)")
    assert committed is not None and committed.servers[0].commit_index == 1


@pytest.mark.slow
def test_figure_8_on_five_servers() -> None:
    m = RaftModel(servers=5, max_term=5, max_log=1, restarts=False, loss=False, history=False,
                  prefix=FIGURE_8_C_5, bug="commit-old-term")
    r = explore(m, keep_graph=False)
    v = r.violations[0]
    assert (v.property, len(v.trace)) == ("leader-completeness", 18)  # type: ignore[arg-type]
    assert v.trace is not None
    assert_real_path(m, v.trace)
    assert "AdvanceCommitIndex(i=s1)" in labels(v.trace)


def test_scripted_starts_replay() -> None:
    assert len(LEADER_WITH_LONE_ENTRY) == 10 and len(FIGURE_8_B_3) == 20 and len(FIGURE_8_C_5) == 61
    (s,) = RaftModel(max_term=3, max_log=1, prefix=FIGURE_8_B_3).init_states()
    assert [x.role for x in s.servers][:2] == [LEADER, LEADER]
    assert [x.log for x in s.servers] == [((2, 0),), ((3, 0),), ()]


# -- labels, steps, bounds ----------------------------------------------------------------------
def test_labels_name_servers_and_messages() -> None:
    m = RaftModel()
    (s0,) = m.init_states()
    s1 = m.next_state(s0, "Timeout(i=s1)")
    assert s1 is not None and s1.servers[0].role == CANDIDATE
    s2 = m.next_state(s1, "RequestVote(i=s1, j=s2)")
    assert s2 is not None
    steps = [str(a) for a, _ in m.successors(s2)]
    request = "RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0"
    assert f"Receive({request})" in steps and f"DropMessage({request})" in steps
    s3 = m.next_state(s2, f"Receive({request})")  # UpdateTerm: s2 adopts term 2, the request stays
    assert s3 is not None and s3.servers[1].current_term == 2 and s3.messages == s2.messages
    s4 = m.next_state(s3, f"Receive({request})")  # now it is handled: the vote is granted
    assert s4 is not None and s4.servers[1].voted_for == 0
    assert "Receive(RequestVoteResponse s2->s1 term=2 granted)" in [str(a) for a, _ in m.successors(s4)]
    action = next(a for a, _ in m.successors(s4) if a.name == "Receive")
    assert action.args == {"type": "RequestVoteResponse", "source": "s2", "dest": "s1", "term": 2}


def test_stuttering_steps_return_the_same_state() -> None:
    m = RaftModel(history=False)
    (s0,) = m.init_states()
    assert all(t is s0 for a, t in m.successors(s0) if a.name == "Restart")


def test_out_of_bound_successors_are_checked_not_counted() -> None:
    # terms <= 1: every Timeout leaves the bound, so no leader can be elected (a reachability failure).
    r = explore(RaftModel(max_term=1))
    assert r.distinct_states == 2  # the initial state, and the same variables once allLogs = {<<>>}
    assert r.verdict is Verdict.VIOLATED
    assert [(v.property, v.expectation) for v in r.violations] == [("leader-elected", Expectation.SOMETIMES)]


def test_within_boundary_is_tlcs_constraint() -> None:
    m = RaftModel(max_term=2, max_log=1, max_copies=2, max_in_flight=2, duplication=True)
    (s0,) = m.init_states()
    s = m.next_state(m.next_state(s0, "Timeout(i=s1)"), "RequestVote(i=s1, j=s2)")  # type: ignore[arg-type]
    assert s is not None and m.within_boundary(s)
    dup = m.next_state(s, "DuplicateMessage(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)")
    assert dup is not None and m.within_boundary(dup)  # two copies, two in flight
    three = m.next_state(dup, "DuplicateMessage(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)")
    assert three is not None and not m.within_boundary(three)
    higher = m.next_state(s, "Timeout(i=s1)")
    assert higher is not None and not m.within_boundary(higher)  # term 3


def test_reachability_properties() -> None:
    names = [p.name for p in RaftModel(max_log=1).properties()]
    assert names == ["election-safety", "election-safety-state", "log-matching", "commit-within-log",
                     "leader-completeness", "state-machine-safety", "leader-append-only", "committed-entries-stable",
                     "leader-elected", "entry-committed"]
    assert [p.name for p in RaftModel(max_log=1).properties() if not p.default] == ["commit-within-log",
                                                                                   "committed-entries-stable"]
    assert "entry-committed" not in [p.name for p in RaftModel(max_log=0).properties()]
    assert "entry-committed" not in [p.name for p in RaftModel(max_log=1, election_only=True).properties()]
    r = explore(RaftModel(servers=2, max_term=3, max_log=1))
    assert r.verdict is Verdict.HOLDS and all(w.witnessed for w in r.witnesses)
    committed = next(w for w in r.witnesses if w.property == "entry-committed")
    assert committed.trace is not None and "AdvanceCommitIndex(i=s" in " ".join(labels(committed.trace))


def test_leader_append_only_is_an_action_property() -> None:
    m = RaftModel(max_log=1)
    prop = next(p for p in m.properties() if p.name == "leader-append-only")
    assert prop.expectation is Expectation.EVERY_STEP
    (s0,) = m.init_states()
    leader = s0.servers[0]._replace(current_term=2, role=LEADER, log=((2, 0),))
    before = s0._replace(servers=(leader, *s0.servers[1:]))
    after = s0._replace(servers=(leader._replace(log=()), *s0.servers[1:]))
    assert prop.holds_on_step(before, before) and not prop.holds_on_step(before, after)
    # a new term may change the log
    stepped_down = s0._replace(servers=(leader._replace(current_term=3, log=()), *s0.servers[1:]))
    assert prop.holds_on_step(before, stepped_down)


def test_properties_on_crafted_states() -> None:
    m = RaftModel(max_log=2, values=2)
    props = {p.name: p for p in m.properties()}
    (s0,) = m.init_states()
    two = s0._replace(elections=frozenset({Election(2, 0, (), 0, ()), Election(2, 1, (), 0, ())}))
    assert not props["election-safety"].holds(two)
    a, b = s0.servers[0], s0.servers[1]
    mismatch = s0._replace(servers=(a._replace(log=((2, 0), (3, 0))), b._replace(log=((2, 1), (3, 0))), s0.servers[2]))
    assert not props["log-matching"].holds(mismatch)
    diverged = s0._replace(servers=(a._replace(log=((2, 0),), commit_index=1),
                                    b._replace(log=((3, 0),), commit_index=1), s0.servers[2]))
    assert not props["state-machine-safety"].holds(diverged)
    leader = s0._replace(servers=(a._replace(log=((2, 0),), commit_index=1, current_term=2),
                                  b._replace(role=LEADER, current_term=3, log=()), s0.servers[2]))
    assert not props["leader-completeness"].holds(leader)
    assert m.explain_logs(leader).startswith("s1 Follower term 2: [#1 t2 v1 |]; s2 Leader term 3: [|]")


def test_log_property_explanations_name_the_entry_and_the_server() -> None:
    m = RaftModel(max_log=2, values=2)
    props = {p.name: p for p in m.properties()}
    (s0,) = m.init_states()
    a, b, c = s0.servers
    mismatch = s0._replace(servers=(a._replace(log=((2, 0), (3, 0))), b._replace(log=((2, 1), (3, 0))), c))
    assert props["log-matching"].explain(mismatch) == (
        "s1 has #1 t2 v1 and s2 has #1 t2 v2: one index and term, two values")
    below = s0._replace(servers=(a._replace(log=((1, 0), (3, 0))), b._replace(log=((2, 0), (3, 0))), c))
    assert not props["log-matching"].holds(below)
    assert props["log-matching"].explain(below) == (
        "s1 and s2 both hold an entry of term 3 at index 2, but differ at index 1: s1 has #1 t1 v1, s2 has #1 t2 v1")
    diverged = s0._replace(servers=(a._replace(log=((2, 0),), commit_index=1),
                                    b._replace(log=((3, 1),), commit_index=1), c))
    assert props["state-machine-safety"].explain(diverged) == (
        "s1 and s2 committed different entries at index 1: s1 has #1 t2 v1, s2 has #1 t3 v2")
    leader = s0._replace(servers=(a._replace(log=((2, 0),), commit_index=1, current_term=2),
                                  b._replace(role=LEADER, current_term=3, log=()), c))
    assert props["leader-completeness"].explain(leader) == (
        "leader s2 (term 3) lacks #1 t2 v1, which s1 has committed (commit index 1)")
    cut = s0._replace(servers=(a._replace(role=LEADER, current_term=2, log=((2, 0),), commit_index=1),
                               b._replace(current_term=2, log=(), commit_index=1), c))
    assert not props["commit-within-log"].holds(cut)
    assert props["commit-within-log"].explain(cut) == "s2's commit index 1 runs past the end of its log (0 entries: [])"
    assert props["state-machine-safety"].explain(cut) == (
        "s1 committed #1 t2 v1, but s2, whose commit index 1 covers index 1, has no entry there (its log has 0 "
        "entries)")
    two = s0._replace(servers=(a._replace(role=LEADER, current_term=2), b._replace(role=LEADER, current_term=2), c))
    assert props["election-safety-state"].explain(two) == "s1 and s2 are both leader in term 2"


# -- presentation, settings ---------------------------------------------------------------------
def test_describe_is_json_and_names_everything() -> None:
    m, r = _run_bug("vote-twice")
    trace = r.violations[0].trace
    assert trace is not None
    final = m.describe(trace.final)
    json.dumps(trace.to_json(m))
    assert set(final) >= {"currentTerm", "state", "votedFor", "log", "commitIndex", "votesResponded",
                          "votesGranted", "nextIndex", "matchIndex", "messages", "elections"}
    assert sorted(final["state"].values()).count("Leader") == 2
    assert json.loads(json.dumps(RaftModel().describe(RaftModel().init_states()[0])))["allLogs"] == []


def test_registered_and_buildable_from_settings() -> None:
    assert BUILTIN_MODELS["raft"] is RaftModel
    m = RaftModel(servers=["a", "b", "c"], values=["x"], max_term=3, max_log=1, election_only=True)
    again = build_model("raft", m.settings())
    assert again.settings() == m.settings()
    assert [p.name for p in RaftModel.parameters][:6] == [
        "servers", "values", "max_term", "max_log", "max_copies", "max_in_flight"]


def test_bug_defaults_fill_only_unset_parameters() -> None:
    m = RaftModel(bug="truncate-on-append")
    assert (m.max_term, m.max_log, m.max_in_flight, m.restarts, m.history) == (2, 1, 2, False, False)
    m = RaftModel(bug="truncate-on-append", max_in_flight=3, history=True)
    assert (m.max_in_flight, m.history) == (3, True)
    assert RaftModel(bug="commit-old-term").prefix == FIGURE_8_B_3
    assert RaftModel(bug="commit-old-term", prefix=[]).prefix == ()


def test_a_bugs_scripted_start_that_no_longer_fits_says_how_to_drop_it() -> None:
    with pytest.raises(InvalidParameter, match=r"default start of bug commit-old-term; pass prefix=\[\]"):
        RaftModel(bug="commit-old-term", servers=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"servers": 0}, "servers must be at least 1 (got 0)"),
        ({"values": ["v1", "v1"]}, "values lists 'v1' twice"),
        ({"max_term": 0}, "max_term must be at least 1 (got 0); terms start at 1"),
        ({"max_term": "2"}, "max_term must be an integer, not '2'"),
        ({"max_log": -1}, "max_log must be at least 0 (got -1)"),
        ({"max_copies": 0}, "max_copies must be at least 1 (got 0)"),
        ({"max_in_flight": 0}, "max_in_flight must be at least 1 (got 0); with 0 no message could be sent"),
        ({"restarts": "yes"}, "restarts must be true or false, not 'yes'"),
        ({"bug": "off-by-one"}, "unknown Raft bug 'off-by-one'; choose one of: vote-twice"),
        ({"prefix": "Timeout(i=s1)"}, "prefix must be a list of action labels"),
        ({"prefix": ["Timeout(i=s9)"]}, "prefix step 1 'Timeout(i=s9)' is not enabled"),
        ({"prefix": ["Timeout(i=s1)", "Timeout(i=s1)"]}, "prefix step 2 'Timeout(i=s1)' leaves the bounds"),
    ],
)
def test_bad_parameters_are_rejected_when_built(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidParameter) as info:
        RaftModel(**kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


# -- random walks (Hypothesis) ------------------------------------------------------------------
WALK_MODEL = RaftModel(max_term=4, max_log=2, max_copies=2, max_in_flight=3, duplication=True, values=2)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_random_walks_keep_every_property_and_replay_every_label(choices: list[int]) -> None:
    m = WALK_MODEL
    props = m.properties()
    safety = [p for p in props if p.expectation is Expectation.ALWAYS]
    steps = [p for p in props if p.expectation is Expectation.EVERY_STEP]
    (state,) = m.init_states()
    for choice in choices:
        successors = m.successors(state)
        texts = [str(a) for a, _ in successors]
        assert len(texts) == len(set(texts)), "two enabled steps share a label"
        action, following = successors[choice % len(successors)]
        assert m.next_state(state, str(action)) == following
        assert isinstance(following, RaftState)
        for p in safety:
            assert p.condition(following), f"{p.name} fails after {action}"
        for p in steps:
            assert p.condition(state, following), f"{p.name} fails on {action}"
        if m.within_boundary(following):
            state = following
