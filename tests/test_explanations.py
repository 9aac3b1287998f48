"""The text of a counterexample: culprits, explanations, value and log notation, message counts, notices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from quorumcheck.cli import main
from quorumcheck.explorer import Culprit, explore
from quorumcheck.explorer.diff import changes, show_value
from quorumcheck.models import PaxosModel, RaftModel
from quorumcheck.models.actor_model import ActorModel
from quorumcheck.models.actors import Node, Snapshotter, new_node
from quorumcheck.models.observe import PaxosContract

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# -- 3. the culprit: the first step after which an invariant is false -----------------------------------
def test_the_accept_below_promise_chart_points_at_step_10() -> None:
    code, out, _ = run("check", str(ROOT / "specs" / "paxos-bug-accept-below-promise.toml"))
    assert code == 1
    lines = out.splitlines()
    assert "  10  Phase2b(a=a1, b=0, v=v1)  <- went wrong here: votes-safe broke" in lines
    assert lines[-1] == (
        "        went wrong at step 10 (Phase2b(a=a1, b=0, v=v1)): votes-safe broke: a1 voted for v2 in ballot 1, "
        "but v2 was not safe there: in ballot 0 every quorum has a member that voted for another value or can "
        "still vote (a1 voted for v1; a3 can still vote: it promised nothing)")


def test_the_culprit_is_in_the_json_violation() -> None:
    code, out, _ = run("check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots", "--json")
    assert code == 1
    data = json.loads(out)
    assert data["violation"]["culprit"] == {
        "step": 7, "property": "one-value-per-ballot", "explanation": "in ballot 0, a1 voted for both v1 and v2"}
    assert data["violations"][0]["culprit"] == data["violation"]["culprit"]
    code, out, _ = run("check", "paxos", "--max-ballot", "0", "--json")
    assert code == 0 and json.loads(out)["violation"] is None


def test_a_culprit_at_the_last_step_of_the_violated_property_itself_is_not_repeated() -> None:
    code, out, _ = run("check", "paxos", "--max-ballot", "1", "--bug", "small-phase2-quorum")
    assert code == 1 and "went wrong" not in out  # only agreement breaks, at the last step


def test_builtin_truncate_on_append_names_the_commit_bound_first() -> None:
    # The first 16 steps of the shortest trace (s1 leads term 2, commits #1 t2 v1 stored on s2; an old
    # heartbeat to s2 is still in flight); the search finds the last 3.
    prefix = [
        "Timeout(i=s1)", "RequestVote(i=s1, j=s2)", "RequestVote(i=s1, j=s1)",
        "Receive(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)",
        "Receive(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)",
        "Receive(RequestVoteRequest s1->s1 term=2 lastLogTerm=0 lastLogIndex=0)",
        "Receive(RequestVoteResponse s2->s1 term=2 granted)", "Receive(RequestVoteResponse s1->s1 term=2 granted)",
        "BecomeLeader(i=s1)", "AppendEntries(i=s1, j=s2)", "ClientRequest(i=s1, v=v1)", "AppendEntries(i=s1, j=s2)",
        "Receive(AppendEntriesRequest s1->s2 term=2 prevLogIndex=0 prevLogTerm=0 entries=[#1 t2 v1] commitIndex=0)",
        "Receive(AppendEntriesRequest s1->s2 term=2 prevLogIndex=0 prevLogTerm=0 entries=[#1 t2 v1] commitIndex=0)",
        "Receive(AppendEntriesResponse s2->s1 term=2 success matchIndex=1)", "AdvanceCommitIndex(i=s1)",
    ]
    v = explore(RaftModel(bug="truncate-on-append", prefix=prefix)).violation
    assert (v.property, len(v.trace)) == ("leader-completeness", 3)
    assert v.explanation == ("s2's commit index 1 runs past the end of its log (0 entries): it committed index 1 "
                             "and no longer holds it, while leader s1 (term 2) has #1 t2 v1")
    assert v.culprit == Culprit(3, "commit-within-log", "s2's commit index 1 runs past the end of its log (0 "
                                "entries: []); also false after this step: state-machine-safety, leader-completeness")


# -- 5. values as Python-like literals ---------------------------------------------------------------
def test_dicts_print_with_braces_real_types_and_absent_keys() -> None:
    assert show_value({"1": "1", "2": "None"}) == "{1: 1, 2: None}"
    assert show_value({}) == "{}" and show_value({"s1": {"s1": 1}}) == "{s1: {s1: 1}}"
    before = {"n0": {"acks": {}, "match_index": {}}}
    after = {"n0": {"acks": {"1": "1", "2": "None"}, "match_index": {"1": "0"}}, "extra": {"a": 1}}
    assert [str(c) for c in changes(before, after)] == [
        "n0.acks.1: (absent) -> 1", "n0.acks.2: (absent) -> None", "n0.match_index.1: (absent) -> 0",
        "extra: (absent) -> {a: 1}"]
    assert [str(c) for c in changes(after, before)][-1] == "extra: {a: 1} -> (absent)"


def test_student_state_text_shows_empty_dicts_and_new_keys() -> None:
    code, out, _ = run("test", str(ROOT / "examples" / "raft_bugs.py"), "--protocol", "raft", "--node-class",
                       "VoteTwice", "--requests", "0", "--max-timeouts", "2", "--no-isolate")
    assert code == 1
    lines = out.splitlines()
    assert ("        n0: commit_index=0, current_term=0, log=[], match_index={}, next_index={}, role='follower', "
            "voted_for=None, votes=set()") in lines
    assert "        n0.match_index.1: (absent) -> 0" in lines and "        n0.next_index.2: (absent) -> 1" in lines
    assert "        timers: n0={election}, n1={election}, n2={election}" in lines


def test_raft_text_shows_nested_dicts_as_literals_and_what_else_broke_at_the_last_step() -> None:
    code, out, _ = run("check", "raft", "--bug", "vote-twice")
    assert code == 1
    lines = out.splitlines()
    assert "        nextIndex: s1={s1: 1, s2: 1, s3: 1}, s2={s1: 1, s2: 1, s3: 1}, s3={s1: 1, s2: 1, s3: 1}" in lines
    assert "  16  BecomeLeader(i=s2)  <- went wrong here: election-safety-state broke" in lines
    assert lines[-1] == ("        went wrong at step 16 (BecomeLeader(i=s2)): election-safety-state broke: s1 and s2 "
                         "are both leader in term 2; also false after this step: election-safety")


# -- 6. multiplicity ----------------------------------------------------------------------------------
class _Twice(Node):
    """n0 sends n1 two identical pings; n1 answers a ping with two identical pongs."""

    def __init__(self) -> None:
        self.pings = 0

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.send(1, "ping")
            out.send(1, "ping")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        self.pings += 1
        if message == "ping":
            out.send(sender, "pong")
            out.send(sender, "pong")


def test_network_changes_count_identical_copies() -> None:
    model = ActorModel(_Twice, 2, isolate=False)
    (s0,) = model.init_states()
    view = model.describe(s0)
    assert show_value(view["network"]) == "{2× 'ping' n0→n1}"
    action, s1 = next((a, t) for a, t in model.successors(s0) if a.name == "Deliver")
    assert [str(c) for c in changes(view, model.describe(s1))] == [
        "n1.pings: 0 -> 1", "network: +2× 'pong' n1→n0, - 'ping' n0→n1"]
    assert str(changes({"m": ["x"]}, {"m": ["x", "x", "x"]})[0]) == "m: +2× x"


# -- 7. one value per ballot, in real ballots and values ----------------------------------------------
def test_one_value_per_ballot_names_the_ballot_and_the_values() -> None:
    v = explore(PaxosModel(max_ballot=0, bug="duplicate-ballots"), properties=["one-value-per-ballot"]).violation
    assert v.explanation == "in ballot 0, a1 voted for both v1 and v2"

    class Acceptor(Node):
        def __init__(self) -> None:
            self.accepted = None
            self.promised = None

    contract = PaxosContract([Acceptor] * 3, Snapshotter(), values=("v1", "v2"))
    contract.setup([new_node(Acceptor, i, 3) for i in range(3)])
    props = {p.name: p for p in contract.properties("python")}
    b10, b21 = ("t", 1, 0), ("t", 2, 1)  # the ballots (1, 0) and (2, 1), frozen as the contract reads them

    class State:
        observed = ()
        history = (frozenset({(0, b10, "v1"), (1, b10, "v2"), (2, b21, "v2")}), frozenset(), (b10, b10, b21))

    assert not props["one-value-per-ballot"].holds(State())
    assert props["one-value-per-ballot"].explain(State()) == "in ballot (1, 0), n0 voted for 'v1' and n1 voted for 'v2'"

    class Unsafe:
        observed = ()
        history = (frozenset({(0, b10, "v1"), (1, b21, "v2")}), frozenset(), (b10, b21, None))

    assert not props["votes-safe"].holds(Unsafe())
    assert props["votes-safe"].explain(Unsafe()) == (
        "n1 voted for 'v2' in ballot (2, 1), but 'v2' was not safe there: in ballot (1, 0) every quorum has a "
        "member that voted for another value or can still vote (n0 voted for 'v1'; n2 can still vote: it promised "
        "nothing)")


# -- 8. terms that start at 1 -------------------------------------------------------------------------
def test_a_run_whose_terms_start_at_1_says_how_many_elections_the_bound_allows(tmp_path: Path) -> None:
    student = tmp_path / "from_one.py"
    student.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'examples')!r})\n"
        "from raft import RaftNode\n\n"
        "class FromOne(RaftNode):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.current_term = 1\n",
        encoding="utf-8",
    )
    code, out, err = run("test", str(student), "--protocol", "raft", "--requests", "0", "--max-timeouts", "1",
                         "--no-isolate")
    assert code == 0, out + err
    assert ("quorumcheck: notice: the nodes start in term 1 and --max-term 2 bounds the term, not the elections: "
            "only 1 election (up to term 2) can be explored; pass --max-term 3 for 2 elections") in err.splitlines()
    code, _, err = run("test", str(ROOT / "examples" / "raft.py"), "--protocol", "raft", "--requests", "0",
                       "--max-timeouts", "1", "--no-isolate")
    assert code == 0 and "bounds the term" not in err
