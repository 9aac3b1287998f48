"""Raft's election and log replication as a symbolic transition system: the proof of election safety and log
matching, CTIs, and the formulas' agreement with the explicit model (each explicit step is a step of its symbolic
action)."""

from __future__ import annotations

from collections import deque

import pytest
from quorumcheck.invariants.language import And, Exists, ForAll, Formula, Function, Iff
from quorumcheck.invariants.z3backend import FiniteCheck
from quorumcheck.models.raft import AE_REQUEST, CANDIDATE, RaftModel
from quorumcheck.models.raft_symbolic import (
    STATE, entry_evidence, raft_election_interpretation, raft_system, vote_evidence,
)
from quorumcheck.prover.cti import CTI, Structure, reachability
from quorumcheck.prover.induction import prove


def test_inductive_invariant_proves_election_safety_and_log_matching() -> None:
    system = raft_system()
    r = prove(system, reach=False)
    assert r.verdict.value == "holds"
    assert system.safety == ("election-safety", "log-matching")
    assert len(r.obligations) == 224  # 16 initiation + 13 actions x 16 conjuncts; both properties are conjuncts
    assert {o.status for o in r.obligations} == {"proved"}


def test_the_election_part_alone_is_inductive_but_does_not_imply_log_matching() -> None:
    r = prove(raft_system(), ["election"], reach=False)
    assert [(o.kind, o.status) for o in r.obligations if o.status != "proved"] == [("safety", "fails")]
    assert len(r.obligations) == 7 + 13 * 7 + 1
    assert r.failures()[0].line() == "FAILS    the invariant does not imply log-matching"


def test_first_attempt_is_not_inductive() -> None:
    r = prove(raft_system(), ["first-attempt"])
    assert r.verdict.value == "violated"
    assert len(r.obligations) == 3 + 13 * 3
    assert [(o.action, o.conjunct) for o in r.failures()] == [
        ("HandleRequestVote", "one-vote-per-term"), ("BecomeLeader", "election-safety"),
        ("ClientRequest", "log-matching"), ("HandleAppendEntries", "log-matching")]
    cti = r.failures()[1].cti
    assert cti is not None and cti.action == "BecomeLeader" and cti.conjunct == "election-safety"
    assert set(cti.params) == {"i", "Q"}
    # the new leader's term already has a leader in the pre-state, and none other after
    leader = cti.params["i"]
    term = next(tt for s, tt in cti.pre.values["current_term"] if s == leader)
    assert any(tt == term and s != leader for tt, s in cti.pre.values["elected"])
    assert (term, leader) in cti.post.values["elected"]
    assert r.failures()[0].line() == "FAILS    conjunct one-vote-per-term is not preserved by action HandleRequestVote"
    # Z3's minimal CTIs differ with what the process solved before (two or three servers, one quorum of all
    # or of one server), but every one keeps all servers in term 1 with a server that is not a follower (two
    # leaders; candidates counting everyone's votes; leaders appending), and the first Timeout leaves term 1. So
    # the explicit instance of their sizes (max_term 1) reaches only its initial state: unreachable, strengthen
    # the invariant. The log CTIs hold an entry at index 1: their instance has logs (max_log=1).
    for cti in r.ctis():
        n = len(cti.pre.universe["Server"])
        assert cti.pre.universe["Term"] == (1,)
        assert cti.reach is not None and cti.reach.reachable is False and cti.reach.states == 1
        assert cti.reach.note.startswith(f"not among the 1 reachable states of raft with servers={_names(n)}, ")
        max_log = 1 if cti.conjunct == "log-matching" else 0
        assert f", max_term=1, max_log={max_log}, max_copies=1, max_in_flight={n}, " in cti.reach.note
        assert f"election_only={max_log == 0}" in cti.reach.note
        assert cti.verdict_line().startswith("unreachable: strengthen the invariant")
    # ClientRequest appends an entry of the leader's term where its log has nothing; another log holds an entry
    # of that index and term with another value.
    cti = r.failures()[2].cti
    i, index, value = cti.params["i"], cti.params["n"], cti.params["v"]
    term = next(tt for s, tt in cti.pre.values["current_term"] if s == i)
    assert (i, index, term, value) in cti.post.values["log"]
    assert any(s != i and (n, tt) == (index, term) and vv != value for s, n, tt, vv in cti.pre.values["log"])


def test_log_first_attempt_needs_one_creator_per_term() -> None:
    # The election's invariant, log-matching, and "entries in logs and in flight were created, once per index and
    # term": ClientRequest breaks uniqueness, because nothing says a leader holds the entries of its own term.
    r = prove(raft_system(), ["log-first-attempt"])
    assert len(r.obligations) == 11 + 13 * 11
    assert [(o.action, o.conjunct) for o in r.failures()] == [
        ("ClientRequest", "log-matching"), ("ClientRequest", "one-entry-per-index-term")]
    cti = r.failures()[1].cti
    i, index, value = cti.params["i"], cti.params["n"], cti.params["v"]
    term = next(tt for s, tt in cti.pre.values["current_term"] if s == i)
    assert (i, "Leader") in cti.pre.values["role"]
    assert any((n, tt) == (index, term) and vv != value for n, tt, vv in cti.pre.values["created"])
    assert not any(s == i and n == index for s, n, _tt, _vv in cti.pre.values["log"])
    assert cti.reach is not None and cti.reach.reachable is False and "max_log=1" in cti.reach.note


def _names(n: int) -> list[str]:
    return [f"s{k}" for k in range(1, n + 1)]


def _pre(universe: dict, **values: frozenset) -> CTI:
    """A CTI whose pre-state has these values (the rest empty), with one quorum of every server."""
    empty = dict.fromkeys(STATE, frozenset())
    statics = {"member": frozenset((srv, "Q1") for srv in universe["Server"])}
    return CTI("some-conjunct", None, {}, Structure(universe, {**empty, **values}), None, statics)


UNIVERSE = {"Server": ("s1", "s2"), "Term": (1, 2), "Role": ("Follower", "Candidate", "Leader"), "Quorum": ("Q1",)}


def test_a_reachable_pre_state_is_found_with_its_vote_history() -> None:
    # s2 timed out, asked s1 for its vote, and s1 (after adopting term 2) granted it: four steps of raft.tla
    # (Timeout, RequestVote, Receive as UpdateTerm, Receive as the grant). The CTI names the candidate s2 and
    # the explicit instance s1: the servers are renamed. It needs the history: voted(s1, 2, s2).
    terms = frozenset({("s1", 2), ("s2", 2)})
    roles = frozenset({("s1", "Follower"), ("s2", "Candidate")})
    voted = frozenset({("s1", 2, "s2")})
    cti = _pre(UNIVERSE, current_term=terms, role=roles, voted_for=frozenset({("s1", "s2")}),
               vote_granted_msg=frozenset({("s1", "s2", 2)}), voted=voted)
    found = reachability(raft_system(), cti)
    assert found.reachable is True and len(found.trace) == 4
    assert [str(st.action) for st in found.trace.steps[1:]] == [
        "Timeout(i=s1)", "RequestVote(i=s1, j=s2)",
        "Receive(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)",
        "Receive(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)"]
    assert found.trace.steps[-1].state[1] == {(1, 2, 0)}  # the ghost: s2 voted for s1 in term 2
    # The same state without its vote history is not reachable: the vote was cast.
    forgotten = _pre(UNIVERSE, **{**cti.pre.values, "voted": frozenset()})
    assert reachability(raft_system(), forgotten).reachable is False


def test_one_timeout_is_one_step() -> None:
    universe = {**UNIVERSE, "Server": ("s1",)}  # one server: a search of 71 states
    candidate = _pre(universe, current_term=frozenset({("s1", 2)}), role=frozenset({("s1", "Candidate")}))
    found = reachability(raft_system(), candidate)
    assert found.reachable is True and [str(st.action) for st in found.trace.steps[1:]] == ["Timeout(i=s1)"]
    assert found.note == ("reached in 1 steps of raft with servers=['s1'], values=['v1'], max_term=2, max_log=0, "
                          "max_copies=1, max_in_flight=1, restarts=True, duplication=False, loss=True, "
                          "election_only=True, history=False, quorums=[['s1']]")


def test_roles_are_literals_never_renamed() -> None:
    # Two leaders in term 1 would be the initial state if Leader and Follower could be swapped like servers.
    universe = {**UNIVERSE, "Term": (1,)}
    two_leaders = _pre(universe, current_term=frozenset({("s1", 1), ("s2", 1)}),
                       role=frozenset({("s1", "Leader"), ("s2", "Leader")}))
    assert reachability(raft_system(), two_leaders).reachable is False
    followers = _pre(universe, current_term=two_leaders.pre.values["current_term"],
                     role=frozenset({("s1", "Follower"), ("s2", "Follower")}))
    assert len(reachability(raft_system(), followers).trace) == 0


def test_the_ctis_quorums_elect_even_when_they_are_not_majorities() -> None:
    # One quorum {s2} of two servers (Z3 finds such CTIs): s1 leads term 2 with s2's vote alone, in six steps
    # (Timeout, RequestVote, UpdateTerm, the grant, its count, BecomeLeader) -- impossible with majorities.
    won = _pre(UNIVERSE, current_term=frozenset({("s1", 2), ("s2", 2)}),
               role=frozenset({("s1", "Leader"), ("s2", "Follower")}), voted_for=frozenset({("s2", "s1")}),
               votes_granted=frozenset({("s1", "s2")}), voted=frozenset({("s2", 2, "s1")}),
               elected=frozenset({(2, "s1")}))
    alone = CTI(won.conjunct, None, {}, won.pre, None, {"member": frozenset({("s2", "Q1")})})
    found = reachability(raft_system(), alone)
    assert found.reachable is True and len(found.trace) == 6 and found.note.endswith("quorums=[['s2']]")
    assert str(found.trace.steps[-1].action) == "BecomeLeader(i=s1)"
    # Swapping the servers would swap the quorum too: s2 elected by s1's vote alone is not reachable.
    swapped = {"s1": "s2", "s2": "s1"}
    mirrored = Structure(UNIVERSE, {k: frozenset(tuple(swapped.get(x, x) for x in row) for row in rows)
                                    for k, rows in won.pre.values.items()})
    assert reachability(raft_system(), CTI("c", None, {}, mirrored, None, alone.statics)).reachable is False


def _step_formula(system, action) -> Formula:
    """(exists params. body) & frame: the action as one closed formula over the pre- and post-state."""
    sig = system.signature
    frame = []
    for name in system.frame_symbols(action):
        sym = sig.symbol(name)
        args = [sort.var(f"f{k}") for k, sort in enumerate(sym.domain)]
        same = (sym.after(*args) == sym(*args)) if isinstance(sym, Function) else Iff(sym.after(*args), sym(*args))
        frame.append(ForAll(args, same) if args else same)
    step = Exists(list(action.params), action.body) if action.params else action.body
    return And(step, *frame)  # the frame reads no parameter: outside the existential, it is grounded once


def _expected(model: RaftModel, state, label, after) -> str:
    """The symbolic action that must describe this explicit step."""
    if label.name in ("Timeout", "RequestVote", "BecomeLeader", "Restart", "ClientRequest"):
        return label.name
    if label.name == "AppendEntries":  # a request without an entry is not in the vocabulary: nothing changes
        return "AppendEntries" if after.messages != state.messages and any(
            m[0] == AE_REQUEST and m[6] for m, _c in after.messages - state.messages) else "DropMessage"
    if label.name in ("DropMessage", "DuplicateMessage", "AdvanceCommitIndex"):
        return "DropMessage"  # leaves the vocabulary unchanged or removes messages
    assert label.name == "Receive", label
    kind, term = label.args["type"], label.args["term"]
    dest = model.servers.index(label.args["dest"])
    current = state.servers[dest].current_term
    if term > current:
        return "UpdateTerm"
    if kind == "RequestVoteRequest":
        return "HandleRequestVote"
    if kind == "RequestVoteResponse":
        granted = " denied" not in str(label)  # the label reads "... term=2 granted" or "... denied"
        return "HandleRequestVoteResponse" if term == current and granted else "DropMessage"
    if kind == "AppendEntriesRequest" and term == current and state.servers[dest].role == CANDIDATE:
        return "StepDown"
    if kind == "AppendEntriesRequest":  # the follower's log grows (append), shrinks (conflict) or stays (reply)
        before, now = len(state.servers[dest].log), len(after.servers[dest].log)
        return "HandleAppendEntries" if now > before else "TruncateLog" if now < before else "DropMessage"
    return "DropMessage"


class _StepChecker:
    """Checks explicit steps of a small Raft instance against the symbolic actions, with the ghost histories.

    An action's formula is grounded over the instance's universe when first needed (HandleRequestVote and
    AppendEntries take about a second each).
    """

    def __init__(self, model: RaftModel) -> None:
        self.model = model
        self.system = raft_system()
        self.interp = raft_election_interpretation(self.model)
        self.checks: dict[str, FiniteCheck] = {}
        self.names = list(STATE)
        self.seen: list[str] = []

    def holds(self, action: str, pre, post) -> bool:
        if action not in self.checks:
            formula = _step_formula(self.system, self.system.action(action))
            self.checks[action] = FiniteCheck(formula, self.interp.universe, self.interp.static)
        return self.checks[action].holds(pre, post)

    def check(self, u, ghost_u, label, v):
        """Assert that u -> v is a step of its symbolic action; v's ghosts (votes, created entries)."""
        ghost_v = (ghost_u[0] | vote_evidence(self.model, v), ghost_u[1] | entry_evidence(v))
        want = _expected(self.model, u, label, v)
        pre = self.interp.values(self.names, (u, *ghost_u))
        post = self.interp.values(self.names, (v, *ghost_v))
        assert self.holds(want, pre, post), f"{label} from {u} is not a {want} step"
        self.seen.append(want)
        return ghost_v

    def ghost(self, state):
        return vote_evidence(self.model, state), entry_evidence(state)

    def walk(self, state, script: list[str], ghost=None):
        """Follow the steps whose labels start with these prefixes, checking each; the last state and ghosts."""
        ghost = self.ghost(state) if ghost is None else ghost
        for prefix in script:
            (label, after), = [(a, t) for a, t in self.model.successors(state) if str(a).startswith(prefix)]
            ghost = self.check(state, ghost, label, after)
            state = after
        return state, ghost

    def bfs(self, start, ghost, limit: int) -> int:
        """Check every step out of the first ``limit`` states of a breadth-first search from ``start``."""
        model = self.model
        ghosts = {start: ghost}
        queue, expanded = deque([start]), 0
        while queue and expanded < limit:
            u = queue.popleft()
            expanded += 1
            for label, v in model.successors(u):
                ghost_v = self.check(u, ghosts[u], label, v)
                if v not in ghosts:
                    ghosts[v] = ghost_v
                    if model.within_boundary(v):
                        queue.append(v)
        return expanded


@pytest.fixture(scope="module")
def checker() -> _StepChecker:
    return _StepChecker(RaftModel(servers=3, max_term=2, max_log=0, election_only=True, history=False))


def test_explicit_steps_of_a_bfs_satisfy_their_symbolic_actions(checker: _StepChecker) -> None:
    checker.seen.clear()
    start = next(iter(checker.model.init_states()))
    assert checker.bfs(start, checker.ghost(start), 300) == 300 and len(checker.seen) == 3375
    assert set(checker.seen) == {a.name for a in checker.system.actions} - {
        "BecomeLeader", "StepDown", "ClientRequest", "AppendEntries", "HandleAppendEntries", "TruncateLog"}


ELECTION = ["Timeout(i=s1)", "RequestVote(i=s1, j=s1)", "Receive(RequestVoteRequest s1->s1",
            "Receive(RequestVoteResponse s1->s1 term=2 granted", "RequestVote(i=s1, j=s2)",
            "Receive(RequestVoteRequest s1->s2", "Receive(RequestVoteRequest s1->s2",
            "Receive(RequestVoteResponse s2->s1 term=2 granted", "BecomeLeader(i=s1)"]
"""s1 wins term 2 with its own vote and s2's."""


def test_an_election_and_a_step_down_satisfy_their_symbolic_actions(checker: _StepChecker) -> None:
    # The BFS above stops before any leader is elected: walk one election, then a rival candidate of the
    # leader's term steps down on its AppendEntries request and then answers it as a follower.
    checker.seen.clear()
    script = [*ELECTION, "Timeout(i=s3)", "AppendEntries(i=s1, j=s3)", "Receive(AppendEntriesRequest s1->s3",
              "Receive(AppendEntriesRequest s1->s3"]
    state, (ghost, created_) = checker.walk(next(iter(checker.model.init_states())), script)
    assert checker.seen == ["Timeout", "RequestVote", "HandleRequestVote", "HandleRequestVoteResponse",
                            "RequestVote", "UpdateTerm", "HandleRequestVote", "HandleRequestVoteResponse",
                            "BecomeLeader", "Timeout", "DropMessage", "StepDown", "DropMessage"]
    assert ghost == {(0, 2, 0), (1, 2, 0)}  # s1 and s2 voted for s1 in term 2
    assert created_ == frozenset()
    assert {(e.term, e.leader) for e in state.elections} == {(2, 0)}


@pytest.fixture(scope="module")
def log_checker() -> _StepChecker:
    return _StepChecker(RaftModel(servers=2, max_term=2, max_log=1, history=False))


def test_replication_steps_of_a_bfs_satisfy_their_symbolic_actions(log_checker: _StepChecker) -> None:
    # After s1's election (two servers, logs of one entry, one message in flight), every step out of every state
    # the search from there reaches: ClientRequest, AppendEntries with and without an entry, the follower's
    # append, commits, responses (DropMessage: nothing in the vocabulary changes), restarts and timeouts.
    log_checker.seen.clear()
    leader, ghost = log_checker.walk(next(iter(log_checker.model.init_states())), ELECTION)
    log_checker.seen.clear()
    assert log_checker.bfs(leader, ghost, 1000) == 37
    counts = {name: log_checker.seen.count(name) for name in sorted(set(log_checker.seen))}
    assert counts == {"AppendEntries": 7, "ClientRequest": 20, "DropMessage": 81, "HandleAppendEntries": 2,
                      "Restart": 74, "Timeout": 54}


def test_a_conflicting_entry_is_truncated(log_checker: _StepChecker) -> None:
    # A follower holding an entry of term 1 at index 1 receives the term-2 leader's entry for index 1: raft.tla
    # removes its last entry (the entry stays in flight, and the next delivery appends). With two servers no
    # term-1 entry exists (nobody leads term 1), so the follower's log is written in: the check is of the step.
    model = log_checker.model
    state, ghost = log_checker.walk(next(iter(model.init_states())),
                                    [*ELECTION, "ClientRequest(i=s1, v=v1)", "AppendEntries(i=s1, j=s2)"])
    follower = state.servers[1]._replace(log=((1, 0),))
    state = state._replace(servers=(state.servers[0], follower))
    ghost = (ghost[0], ghost[1] | {(1, 1, 0)})
    log_checker.seen.clear()
    state, ghost = log_checker.walk(state, ["Receive(AppendEntriesRequest s1->s2"] * 2, ghost)
    assert log_checker.seen == ["TruncateLog", "HandleAppendEntries"]
    assert state.servers[1].log == ((2, 0),) and ghost[1] == {(1, 1, 0), (1, 2, 0)}


def test_a_replicated_entry_is_reachable() -> None:
    # s1 leads term 2, appends v1 and sends it to s2, which appends it: twelve steps of raft.tla with logs.
    universe = {**UNIVERSE, "Index": (1,), "Value": ("v1",)}
    leader = _pre(universe, current_term=frozenset({("s1", 2), ("s2", 2)}),
                  role=frozenset({("s1", "Leader"), ("s2", "Follower")}),
                  voted_for=frozenset({("s1", "s1"), ("s2", "s1")}),
                  votes_granted=frozenset({("s1", "s1"), ("s1", "s2")}),
                  voted=frozenset({("s1", 2, "s1"), ("s2", 2, "s1")}), elected=frozenset({(2, "s1")}),
                  log=frozenset({("s1", 1, 2, "v1"), ("s2", 1, 2, "v1")}), created=frozenset({(1, 2, "v1")}),
                  append_entry=frozenset({("s2", 2, 1, 2, "v1")}))
    found = reachability(raft_system(), leader)
    assert found.reachable is True and len(found.trace) == 12
    assert found.note.startswith("reached in 12 steps of raft with servers=['s1', 's2'], values=['v1'], max_term=2, "
                                 "max_log=1, ")
    assert [str(st.action) for st in found.trace.steps[-3:]] == [
        "ClientRequest(i=s1, v=v1)", "AppendEntries(i=s1, j=s2)",
        "Receive(AppendEntriesRequest s1->s2 term=2 prevLogIndex=0 prevLogTerm=0 entries=[#1 t2 v1] commitIndex=0)"]
    assert found.trace.steps[-1].state[2] == {(1, 2, 0)}  # the ghost: entry 1 of term 2 was created


def test_handle_request_vote_grants_only_one_candidate_per_term(checker: _StepChecker) -> None:
    # The grant condition is real: s3 grants s1 in term 2, but not once it voted for s2 in term 2.
    model, interp = checker.model, checker.interp

    def grants(pre, post) -> bool:
        return checker.holds("HandleRequestVote", pre, post)

    state = next(iter(model.init_states()))
    for label in ("Timeout(i=s1)", "Timeout(i=s3)", "RequestVote(i=s1, j=s3)"):
        state = model.next_state(state, label)
    pre = interp.values(list(STATE), (state, frozenset()))
    assert pre["request_vote"] == frozenset({(0, 2, 2)})  # s1 -> s3, term 2
    post = dict(pre, request_vote=frozenset(), voted_for=frozenset({(2, 0)}), voted=frozenset({(2, 2, 0)}),
                vote_granted_msg=frozenset({(2, 0, 2)}))
    assert grants(pre, post)
    assert grants(pre, dict(pre, request_vote=frozenset()))  # denied (the log check is a free choice)
    twice_pre = dict(pre, voted_for=frozenset({(2, 1)}), voted=frozenset({(2, 2, 1)}))
    twice_post = dict(post, voted=frozenset({(2, 2, 1), (2, 2, 0)}))
    assert not grants(twice_pre, twice_post)


def test_a_cti_with_a_term_below_every_literal_still_reads_as_integers() -> None:
    """Candidates hold no typing facts (terms start at 1), so Z3's CTI can need a term below Term(1). It is read
    as integers like any other, so that inference can evaluate its candidates there."""
    from quorumcheck.invariants.system import Conjunct
    from quorumcheck.models import raft_symbolic as r
    from quorumcheck.invariants.evaluate import evaluate
    from quorumcheck.prover.cti import pre_state
    from quorumcheck.prover.induction import Checker

    system = raft_system()
    above = ForAll(r.s, (r.role(r.s) == r.CANDIDATE_ROLE) >> (r.current_term(r.s) > r.Term(1)))
    claim = Conjunct("candidates-above-one", above, "a candidate's term is above the first")
    (timeout,) = [a for a in system.actions if a.name == "Timeout"]
    ob = Checker(system, 10.0).consecution([claim], timeout, claim, with_cti=True)
    assert ob.status == "fails" and ob.cti is not None
    universe, pre = pre_state(system, ob.cti)
    assert all(isinstance(t, int) for t in universe["Term"]) and min(universe["Term"]) < 1
    assert min(pre["current_term"]) < 1  # a server's term below the initial one (Z3 picks how many servers)
    assert evaluate(claim.formula, universe, pre)  # the claim holds before the step (no candidate yet)
