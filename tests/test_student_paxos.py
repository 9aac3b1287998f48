"""Student Paxos (examples/paxos.py) passes; each classic bug (examples/paxos_bugs.py) is caught.

Measured on this machine (3 nodes, unordered network, 2 client requests, no timer firings):
the correct node's one-request configuration has 25,576 states; the random mode finds each bug
with seed 0 in the schedules listed below, shrunk to the given length; the exhaustive mode finds
a shortest counterexample (SmallQuorum: 10 steps in 238,724 states).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import assert_real_path
from quorumcheck.cli import main
from quorumcheck.errors import InvalidParameter
from quorumcheck.explorer import Verdict
from quorumcheck.models.actor_model import ActorModel, load_student_file

from quorumcheck.studenttest import check_student

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PAXOS = load_student_file(EXAMPLES / "paxos.py")
BUGS = load_student_file(EXAMPLES / "paxos_bugs.py")

#: bug -> (violated property, options, seed, runs, the most steps the shrunk schedule may have)
RANDOM = {
    "AcceptBelowPromise": ("agreement", {}, 0, 1000, 14),
    "IgnorePriorVotes": ("agreement", {}, 0, 1000, 14),
    "PromiseBackwards": ("agreement", {}, 0, 1000, 14),
    "AdoptAnyVote": ("agreement", {"requests": 3}, 1, 3000, 20),  # three proposals: the hardest
    "SmallQuorum": ("agreement", {}, 0, 1000, 10),
    "DuplicateBallots": ("agreement", {}, 0, 1000, 14),
    "LearnerMixesBallots": ("learned-is-chosen", {}, 0, 1000, 15),
    "ForgetsPromiseOnCrash": ("agreement", {"max_crashes": 1}, 0, 1000, 15),
    "CountsDuplicateVotes": ("learned-is-chosen", {"max_duplicates": 1}, 0, 1000, 12),
}


def _check(node: Any, **options: Any) -> Any:
    settings: dict[str, Any] = {"requests": 2, "max_timeouts": 0, "isolate": False, "keep_graph": False}
    settings.update(options)
    return check_student(node, 3, protocol="paxos", **settings)


def test_correct_paxos_one_proposal_exhaustively() -> None:
    found = _check(PAXOS.PaxosNode, requests=1)
    assert found.verdict is Verdict.HOLDS and found.result.complete
    assert (found.result.distinct_states, found.result.depth) == (2710, 17)  # reduced by right movers, the default
    assert [(w.property, len(w.trace)) for w in found.result.witnesses] == [("value-can-be-chosen", 7),
                                                                            ("value-can-be-learned", 9)]
    plain = _check(PAXOS.PaxosNode, requests=1, movers=False)  # every interleaving: the same answers
    assert plain.verdict is Verdict.HOLDS and (plain.result.distinct_states, plain.result.depth) == (25576, 20)
    assert [(w.property, len(w.trace)) for w in plain.result.witnesses] == [("value-can-be-chosen", 7),
                                                                            ("value-can-be-learned", 9)]


@pytest.mark.slow  # ~12 s; test_student_deep.py's coverage run on the correct Paxos is in the default suite
def test_correct_paxos_two_proposals_random() -> None:
    found = _check(PAXOS.PaxosNode, mode="random", runs=500, steps=80)
    assert found.verdict is Verdict.HOLDS and not found.result.complete
    assert found.schedules >= 500  # schedules that overran Hypothesis's buffer do not count as examples


@pytest.mark.slow  # ~20 s of schedules
def test_correct_paxos_with_retries_and_a_crash_random() -> None:
    found = _check(PAXOS.PaxosNode, mode="random", runs=300, steps=80, max_timeouts=2, max_crashes=1, max_duplicates=2)
    assert found.verdict is Verdict.HOLDS


def test_random_coverage_of_a_known_configuration() -> None:
    found = _check(PAXOS.PaxosNode, requests=1, mode="random", runs=300, exhaustive_states=25576)
    assert found.coverage is not None and 0.0 < found.coverage < 1.0
    assert found.result.distinct_states == round(found.coverage * 25576)


@pytest.mark.parametrize(
    "bug",
    # AdoptAnyVote needs three proposals and about 30 s of schedules; three more take 7-11 s each: -m slow
    [pytest.param(b, marks=pytest.mark.slow)
     if b in ("AdoptAnyVote", "CountsDuplicateVotes", "ForgetsPromiseOnCrash", "PromiseBackwards") else b
     for b in RANDOM],
)
def test_bug_is_caught_by_random_schedules(bug: str) -> None:
    prop, options, seed, runs, longest = RANDOM[bug]
    node = getattr(BUGS, bug)
    found = _check(node, mode="random", seed=seed, runs=runs, **options)
    assert found.verdict is Verdict.VIOLATED
    v = found.violation
    assert v.property == prop == BUGS.BUGS[bug]
    assert len(v.trace) <= longest
    assert_real_path(found.model, v.trace)
    assert " chosen in ballot " in v.explanation or " learned " in v.explanation


def test_where_a_restart_went_wrong_the_forgotten_attributes_are_named() -> None:
    # votes-safe broke at the restart, and its explanation named only the vote it could no longer trust: what the
    # crash made the node forget was left for the student to find (batch 12).
    found = _check(BUGS.ForgetsPromiseOnCrash, mode="epochs", max_crashes=1)
    v = found.violation
    assert v.property == "agreement" and len(v.trace) == 15
    assert v.culprit.step == 11 and str(v.trace.steps[11].action) == "Restart(node=n1)"
    assert v.culprit.explanation.endswith(
        "; the restart reset n1's accepted, ballot, promised, promises, proposed, value: a node keeps across a crash "
        "only what its class lists in durable (durable = ('round',))")


def test_where_it_went_wrong_after_a_restart_the_restart_is_named() -> None:
    # Batch 13: the acceptor keeps its vote on disk and its promise in memory. votes-safe breaks at the step after
    # the restart, and said only that n1 "promised nothing"; the restart that made it forget is named now.
    data = Path(__file__).resolve().parent / "data" / "independent" / "paxos6.py"
    found = _check(f"{data}:PromiseOnlyInMemory", mode="epochs", max_crashes=1)
    v = found.violation
    assert v.property == "agreement" and len(v.trace) == 15 and v.culprit.step == 11
    assert str(v.trace.steps[10].action) == "Restart(node=n1)"
    assert "n1 can still vote: it promised nothing" in v.culprit.explanation
    assert v.culprit.explanation.endswith(
        "; n1 restarted at step 10, which reset its promised: a node keeps across a crash only what its class lists "
        "in durable (durable = ('accepted', 'round'))")


@pytest.mark.slow  # ~16 s: 111,643 states (238,724 without movers); the shortest-schedule property is also tested
def test_exhaustive_mode_finds_a_shortest_counterexample() -> None:  # on Raft by default
    found = _check(BUGS.SmallQuorum)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "agreement"
    assert len(found.violation.trace) == 10
    assert found.result.distinct_states == 111643


@pytest.mark.slow
@pytest.mark.parametrize("bug, length", [("IgnorePriorVotes", 14), ("DuplicateBallots", 14),
                                         ("LearnerMixesBallots", 14), ("AcceptBelowPromise", 14)])
def test_exhaustive_mode_on_two_proposals(bug: str, length: int) -> None:
    found = _check(getattr(BUGS, bug))
    assert found.violation.property == BUGS.BUGS[bug] and len(found.violation.trace) == length


def test_fingerprint_store_counts_and_finds_what_the_object_store_does() -> None:
    """--store fingerprints: the same states, depth and verdict, a few tens of bytes per state, and a
    counterexample rebuilt by re-executing the student's handlers that is a real, shortest schedule."""
    found = _check(PAXOS.PaxosNode, requests=1, store="fingerprints", movers=False)
    assert found.verdict is Verdict.HOLDS and found.result.complete
    assert (found.result.distinct_states, found.result.depth) == (25576, 20)  # the object store's figures
    stats = found.result.fingerprints
    assert stats is not None and 0 < stats.bytes_per_state(25576) < 100 and 0 < stats.collision_probability < 1e-6
    buggy = _check(BUGS.CountsDuplicateVotes, requests=2, max_duplicates=1, store="fingerprints", max_states=200_000)
    assert buggy.violation.property == "learned-is-chosen"
    assert len(buggy.violation.trace) == 9  # the object store's shortest schedule (docs/student-testing.md)
    assert_real_path(buggy.model, buggy.violation.trace)
    with pytest.raises(InvalidParameter, match="unknown store 'disk'; choose one of: objects, fingerprints"):
        _check(PAXOS.PaxosNode, requests=1, store="disk")


def test_cli_store_fingerprints() -> None:
    runner = CliRunner()
    args = ["test", str(EXAMPLES / "paxos.py"), "--protocol", "paxos", "--requests", "1", "--store", "fingerprints"]
    done = runner.invoke(main, [*args, "--mode", "exhaustive", "--json"])
    assert done.exit_code == 0, done.output
    r = json.loads(done.stdout)
    assert (r["verdict"], r["distinct_states"], r["depth"], r["store"]) == ("holds", 2710, 17, "fingerprints")
    assert r["partial_order"]["method"] == "movers"
    assert r["fingerprints"]["collision_probability"] < 1e-6
    text = runner.invoke(main, [*args, "--mode", "exhaustive", "--no-isolate"])  # the same run, printed
    assert text.exit_code == 0 and "bytes per state" in text.output and "chance of a fingerprint collision" in text.output
    refused = runner.invoke(main, [*args, "--mode", "random"])
    assert refused.exit_code == 2 and refused.output.count("\n") == 1
    assert "--store applies to the exhaustive search" in refused.output
    epochs = runner.invoke(main, [*args, "--mode", "epochs"])
    assert epochs.exit_code == 2 and epochs.output.count("\n") == 1 and "--store applies" in epochs.output


def test_failing_schedule_replays_from_its_trace_file(tmp_path: Path) -> None:
    from quorumcheck.explorer.tracefile import (
        load_trace,
        replay,
        save_trace,
        saved_trace,
    )

    found = _check(BUGS.SmallQuorum, mode="random")
    path = save_trace(saved_trace(found.model, found.violation), tmp_path / "trace.json")
    saved = load_trace(path)
    outcome = replay(saved, ActorModel.from_settings(saved.parameters))
    assert outcome.ok and outcome.steps_replayed == len(found.violation.trace)
    fixed = dict(saved.parameters, classes=["PaxosNode"], file=str(EXAMPLES / "paxos.py"))
    assert not replay(saved, ActorModel.from_settings(fixed)).ok  # the correct code does not reproduce it


def test_the_chart_draws_one_lane_per_node() -> None:
    from quorumcheck.render import sequence_chart

    found = _check(BUGS.SmallQuorum, mode="random")
    chart = sequence_chart(found.model, found.violation.trace, violation=found.violation)
    assert set(chart.lanes) <= {"n0", "n1", "n2"}
    assert any(a.message.startswith("Accept(") and a.receiver is not None for a in chart.arrows)


ROLES = load_student_file(EXAMPLES / "paxos_roles.py")


def test_one_class_per_role_via_nodes_list() -> None:
    from quorumcheck.models.actor_model import find_node_classes

    assert [c.__name__ for c in find_node_classes(ROLES)] == ["Proposer", "Proposer", "Acceptor", "Acceptor",
                                                              "Acceptor", "Learner"]
    correct = check_student(ROLES.NODES, None, protocol="paxos", requests=1, isolate=False)
    assert correct.verdict is Verdict.HOLDS and correct.result.distinct_states == 239  # 635 with movers=False
    assert correct.model.contract.acceptors == (2, 3, 4) and correct.model.contract.learners == (5,)


def test_a_buggy_role_is_found_with_a_shortest_schedule() -> None:
    """16,426 states under movers, about 4 s (77,118 and 20 s without): the bug needs both proposers' requests."""
    buggy = check_student(ROLES.BUGGY, None, protocol="paxos", requests=2, isolate=False, keep_graph=False)
    v = buggy.violation
    assert v.property == "agreement" and len(v.trace) == 14 and buggy.result.distinct_states == 12788
    assert_real_path(buggy.model, v.trace)
    # Only proposers define on_request, so only they receive client requests.
    assert {a.args["node"] for a in v.trace.actions if a.name == "Request"} <= {"n0", "n1"}


def test_counting_duplicate_votes_shows_only_when_the_network_duplicates() -> None:
    node = BUGS.CountsDuplicateVotes
    assert _check(node, requests=1).verdict is Verdict.HOLDS  # 2,710 states, as for the correct node
    found = _check(node, requests=1, max_duplicates=1)
    v = found.violation
    assert v.property == "learned-is-chosen" and len(v.trace) == 9 and found.result.distinct_states == 1649  # 3,861 plain
    assert [a.name for a in v.trace.actions][-3:] == ["Duplicate", "Deliver", "Deliver"]
    assert v.explanation.startswith("n0 learned 'v1', which no majority of acceptors accepted in one ballot")


def test_every_shipped_bug_is_tested() -> None:
    assert set(BUGS.BUGS) == set(RANDOM) and len(BUGS.BUGS) >= 6


class LateLearner(PAXOS.PaxosNode):  # type: ignore[name-defined]
    """Sets ``learned`` only when it learns, and learns from one vote: the role was read at start, when the node
    had no ``learned``, so the wrong value went unjudged (HOLDS, exhaustively, with one request)."""

    def __init__(self) -> None:
        super().__init__()
        del self.learned

    def on_timer(self, name: str, out: Any) -> None:
        pass

    def on_accepted(self, sender: int, m: Any, out: Any) -> None:
        if getattr(self, "learned", None) is None:
            self.learned = m.value


def test_a_role_attribute_first_set_after_start_is_reported() -> None:
    found = _check(LateLearner, requests=1, mode="exhaustive")
    v = found.violation
    assert found.verdict is Verdict.VIOLATED and v.property == "node-state-testable"
    assert v.explanation.endswith(
        ": LateLearner.learned was set after the node started, so it was not read as the 'learned' observation "
        "(a node's roles are read when it starts) and would go unjudged; set self.learned = None in __init__, or, "
        "if it is something else, name the attribute otherwise")
    assert "msg=Accepted(" in str(v.trace.steps[-1].action)  # its first Accepted message: the earliest it can be


OWN_ORDER_BALLOTS = '''\
import dataclasses, functools
from paxos import PaxosNode  # examples/paxos.py, beside it

@functools.total_ordering
@dataclasses.dataclass(frozen=True)
class Ballot:
    owner: int
    number: int  # compared first, though declared second
    def __lt__(self, other):
        return (self.number, self.owner) < (other.number, other.owner)

class OwnOrder(PaxosNode):
    def new_ballot(self):
        return Ballot(self.id, self.round)
'''


@pytest.mark.parametrize("order, on", [("own", False), ("fields", True)])
def test_votes_safe_is_off_with_a_notice_when_ballots_order_themselves(tmp_path: Path, order: str, on: bool) -> None:
    # votes-safe ranks ballots; the trusted side ranked Ballot(owner=1, number=2) below Ballot(owner=2, number=1)
    # by its fields, where the class's own order says above, and reported a correct Paxos (--invariant all).
    source = OWN_ORDER_BALLOTS
    (tmp_path / "paxos.py").write_text((EXAMPLES / "paxos.py").read_text())
    if order == "fields":  # the same fields, compared in declared order: what the snapshot does too
        source = source.replace("@functools.total_ordering\n@dataclasses.dataclass(frozen=True)",
                                "@dataclasses.dataclass(frozen=True, order=True)")
        source = source.replace("    def __lt__(self, other):\n        return (self.number, self.owner) < "
                                "(other.number, other.owner)\n", "")
    (tmp_path / "own.py").write_text(source)
    model = ActorModel(str(tmp_path / "own.py:OwnOrder"), 3, protocol="paxos", requests=1)
    try:
        names = [p.name for p in model.properties()]
        notices = model.notices()
    finally:
        model.close()
    assert ("votes-safe" in names) is on
    off = [n for n in notices if n.startswith("votes-safe is off")]
    assert off == ([] if on else [
        "votes-safe is off: your class Ballot orders itself (an own __lt__, or an ordered enum such as an IntEnum), "
        "and quorumcheck compares ballots without running your code, by their fields in declared order: it cannot "
        "tell before the run whether a ballot will hold it, and would misjudge one that did; to have votes-safe "
        "checked, give such classes no order of their own, even one no ballot holds (@dataclass(order=True) or a "
        "NamedTuple with the fields in the order they compare, a plain Enum)"])
    if not on:  # asked for by name, it is a one-line error saying why, not "no property 'votes-safe'"
        with pytest.raises(InvalidParameter, match=r"^votes-safe is off: your class Ballot orders itself"):
            check_student(str(tmp_path / "own.py:OwnOrder"), 3, protocol="paxos", requests=1,
                          properties=["votes-safe"])
        # The run says so where votes-safe would have been checked (every property), and not where it would not
        # (by default it is on request only: a class that ordered itself gave the notice to every run).
        for properties, said in ((["all"], True), (None, False)):
            found = check_student(str(tmp_path / "own.py:OwnOrder"), 3, protocol="paxos", requests=1,
                                  properties=properties, max_states=200)
            assert found.violation is None
            assert any(n.startswith("votes-safe is off") for n in found.notices) is said, found.notices


def test_a_class_that_orders_itself_where_no_acceptor_shows_its_promise_is_no_crash(tmp_path: Path) -> None:
    # votes-safe is off there for two reasons, and the notice of the one was dropped though it was never given:
    # "ValueError: list.remove(x): x not in list", an internal error.
    (tmp_path / "phases.py").write_text(
        "import enum\nfrom quorumcheck.models.actors import Node\n"
        "class Phase(enum.IntEnum):\n    IDLE = 0\n"
        "class N(Node):\n"
        "    def __init__(self):\n"
        "        self.accepted = None\n        self.learned = None\n        self.phase = Phase.IDLE\n"
        "    def on_message(self, sender, m, out):\n        pass\n")
    found = check_student(str(tmp_path / "phases.py"), 3, protocol="paxos", requests=0, max_timeouts=0)
    assert found.result.distinct_states == 1
    assert not any(n.startswith("votes-safe is off") for n in found.notices), found.notices


@pytest.mark.parametrize("when", ["__init__", "on_request"])
def test_a_proposer_may_count_its_promises_under_the_name_promised(tmp_path: Path, when: str) -> None:
    # Only an acceptor's promised is its promise: a proposer's own count (self.promised = 0 in __init__) was
    # recorded as a ballot and compared with the acceptors' ((1, 0) "cannot be compared with 0"), a finding
    # against correct code.
    source = (EXAMPLES / "paxos_roles.py").read_text()
    if when == "__init__":
        source = source.replace("        self.proposed = False\n\n    def ballot(self)",
                                "        self.proposed = False\n        self.promised = 0  # promises for my ballot\n\n"
                                "    def ballot(self)", 1)
    else:  # made only when it first proposes: not an acceptor's promise taken up late either
        source = source.replace("        self.value = value\n", "        self.value = value\n        self.promised = 0\n", 1)
    source = source.replace("        self.promises[sender] = message[2]\n",
                            "        self.promises[sender] = message[2]\n        self.promised = len(self.promises)\n", 1)
    assert source.count("self.promised = ") == 2 + (EXAMPLES / "paxos_roles.py").read_text().count("self.promised = ")
    assert source.count("        self.promised = 0") == 1
    (tmp_path / "roles.py").write_text(source)
    found = check_student(str(tmp_path / "roles.py"), None, protocol="paxos", requests=1, mode="exhaustive")
    assert found.verdict is Verdict.HOLDS, found.violation and found.violation.explanation
    assert found.result.distinct_states == 239


class PropertyLearner(PAXOS.PaxosNode):  # type: ignore[name-defined]
    """Exposes ``learned`` as a property over state made in on_start (AttributeError right after __init__), and
    learns from one vote: roles were read after __init__ only, so it was no learner and the bug held."""

    def on_start(self, out: Any) -> None:
        self.mine: dict[str, Any] = {"value": None}

    @property
    def learned(self) -> Any:  # type: ignore[override]
        return self.mine["value"]

    @learned.setter
    def learned(self, value: Any) -> None:  # the base class's self.learned = None: ignored
        pass

    def on_timer(self, name: str, out: Any) -> None:
        pass

    def on_accepted(self, sender: int, m: Any, out: Any) -> None:
        if self.mine["value"] is None:
            self.mine["value"] = m.value


class LateForwarding(PAXOS.PaxosNode):  # type: ignore[name-defined]
    """Answers ``learned`` through ``__getattr__`` from an object made at its first Accepted message: the
    observation appears only then, after the roles were read."""

    def __init__(self) -> None:
        super().__init__()
        del self.learned

    def __getattr__(self, name: str) -> Any:
        if name == "learned" and "box" in self.__dict__:
            return self.__dict__["box"]["value"]
        raise AttributeError(name)

    def on_timer(self, name: str, out: Any) -> None:
        pass

    def on_accepted(self, sender: int, m: Any, out: Any) -> None:
        self.__dict__.setdefault("box", {"value": m.value})


def test_a_computed_learned_is_read_once_the_node_has_started() -> None:
    found = _check(PropertyLearner, requests=1, mode="exhaustive")
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "learned-is-chosen"
    late = _check(LateForwarding, requests=1, mode="exhaustive")
    assert late.verdict is Verdict.VIOLATED and late.violation.property == "node-state-testable"
    assert "LateForwarding.learned was set after the node started" in late.violation.explanation


def test_a_paxos_without_learners_says_that_no_learner_is_judged() -> None:
    model = ActorModel(ROLES.NODES[:-1], None, protocol="paxos", requests=1)  # the proposers and acceptors only
    assert [p.name for p in model.properties() if p.default][-2:] == ["agreement", "value-can-be-chosen"]
    assert ("no node has the attribute 'learned', so no learner is judged (learner-agreement and learned-is-chosen "
            "are not checked); a learner sets self.learned = None in __init__") in model.notices()
    assert not any("no learner" in n for n in ActorModel(ROLES.NODES, None, protocol="paxos").notices())


class IntBallotsFromMinusInfinity(PAXOS.PaxosNode):  # type: ignore[name-defined]
    """Int ballots (round * 10 + id), and an acceptor that promised nothing holds -inf: Python compares them,
    but the frozen -inf ("fl", -inf) did not compare with an int ("cannot be compared", a finding)."""

    def __init__(self) -> None:
        super().__init__()
        self.promised = float("-inf")

    def new_ballot(self) -> Any:
        return self.round * 10 + self.id

    def on_prepare(self, sender: int, m: Any, out: Any) -> None:
        if m.ballot >= self.promised:
            self.promised = m.ballot
            out.send(sender, PAXOS.Promise(m.ballot, self.accepted))

    def on_accept(self, sender: int, m: Any, out: Any) -> None:
        if m.ballot >= self.promised:
            self.promised = m.ballot
            self.accepted = (m.ballot, m.value)
            out.broadcast(PAXOS.Accepted(m.ballot, m.value), include_self=True)


class FloatPromises(IntBallotsFromMinusInfinity):
    """Keeps its promise as a float (``float(m.ballot)``) and its vote with the int: 1.0 == 1 in Python, so they
    are one ballot. Ranked apart, votes-safe was violated on this correct code, and its explanation compared a
    frozen float with an int (TypeError, exit 4)."""

    def on_prepare(self, sender: int, m: Any, out: Any) -> None:
        if m.ballot >= self.promised:
            self.promised = float(m.ballot)
            out.send(sender, PAXOS.Promise(m.ballot, self.accepted))

    def on_accept(self, sender: int, m: Any, out: Any) -> None:
        if m.ballot >= self.promised:
            self.promised = float(m.ballot)
            self.accepted = (m.ballot, m.value)
            out.broadcast(PAXOS.Accepted(m.ballot, m.value), include_self=True)


@pytest.mark.parametrize("node", [IntBallotsFromMinusInfinity, FloatPromises])
def test_int_ballots_compare_with_floats(node: Any) -> None:
    found = _check(node, requests=1, mode="exhaustive", properties=["all"])
    assert found.verdict is Verdict.HOLDS, found.violation and found.violation.explanation
    assert found.result.distinct_states == 2710


def test_a_ballot_class_nested_in_the_node_class_turns_votes_safe_off_too(tmp_path: Path) -> None:
    # Only module-level classes were looked at: the same Ballot declared inside the node class left votes-safe on.
    (tmp_path / "paxos.py").write_text((EXAMPLES / "paxos.py").read_text())
    nested = OWN_ORDER_BALLOTS.replace("@functools.total_ordering\n@dataclasses.dataclass(frozen=True)\nclass Ballot:",
                                       "def _make():\n    @functools.total_ordering\n"
                                       "    @dataclasses.dataclass(frozen=True)\n    class Ballot:")
    nested = nested.replace("\n    owner: int\n    number: int  # compared first, though declared second\n"
                            "    def __lt__(self, other):\n        return (self.number, self.owner) < "
                            "(other.number, other.owner)\n",
                            "\n        owner: int\n        number: int\n        def __lt__(self, other):\n"
                            "            return (self.number, self.owner) < (other.number, other.owner)\n"
                            "    return Ballot\n")
    nested = nested.replace("class OwnOrder(PaxosNode):\n", "class OwnOrder(PaxosNode):\n    Ballot = _make()\n")
    nested = nested.replace("return Ballot(self.id, self.round)", "return self.Ballot(self.id, self.round)")
    assert "    class Ballot:" in nested and "Ballot = _make()" in nested
    (tmp_path / "own.py").write_text(nested)
    model = ActorModel(str(tmp_path / "own.py:OwnOrder"), 3, protocol="paxos", requests=1)
    try:
        assert "votes-safe" not in [p.name for p in model.properties()]
        assert any(n.startswith("votes-safe is off: your class Ballot orders itself") for n in model.notices())
    finally:
        model.close()


class PropertyRaises(PropertyLearner):
    """Its ``learned`` property reads state made only by the first Accepted message: it raises until then."""

    def on_start(self, out: Any) -> None:
        pass

    def on_accepted(self, sender: int, m: Any, out: Any) -> None:
        self.mine = {"value": m.value}


def test_a_contract_property_that_raises_is_named_as_such() -> None:
    # It was "PropertyRaises has no attribute 'learned' ... set self.learned in __init__", for a class that defines it.
    found = _check(PropertyRaises, requests=1, mode="exhaustive")
    assert found.violation is not None and found.violation.property == "node-state-testable"
    assert found.violation.explanation.endswith(
        "reading PropertyRaises.learned, which the 'learned' observation reads, raised AttributeError: "
        "'PropertyRaises' object has no attribute 'mine'; it must answer once the node has started (None until it "
        "has a value)")
