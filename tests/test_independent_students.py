"""Student code written independently of examples/ (tests/data/independent/README.md).

The deep Raft bugs are found from the initial state by auto mode (the exhaustive part is cut, the epoch
search finds them: AckLogEnd only in its second search, with one-way epochs); the correct classes give no
violation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import assert_real_path

from quorumcheck.explorer import Verdict
from quorumcheck.studenttest import check_student

DATA = Path(__file__).resolve().parent / "data" / "independent"
FIGURE_8_BUDGET = {"requests": 2, "max_timeouts": 4, "max_term": 4}


def _check(file: str, cls: str, protocol: str, **options: Any) -> Any:
    """What `quorumcheck test FILE --node-class CLS` does (auto mode), with the handlers in this process."""
    settings: dict[str, Any] = {"mode": "auto", "isolate": False}
    settings.update(options)
    return check_student(f"{DATA / file}:{cls}", 3, protocol=protocol, **settings)


def test_correct_independent_paxos_holds_exhaustively_with_one_request() -> None:
    found = _check("mypaxos.py", "Synod", "paxos", requests=1, max_timeouts=0, mode="exhaustive")
    assert found.verdict is Verdict.HOLDS and found.result.complete
    assert found.result.distinct_states == 2269  # reduced by movers; 19,744 with movers=False


@pytest.mark.slow  # 10-25 s each: the exhaustive part runs to its 200,000 states first
@pytest.mark.parametrize("cls, longest", [("FigEight", 21), ("LengthOnly", 14), ("TermOnly", 12),
                                          ("NoOverwrite", 13), ("CommitPastMatch", 15)])
def test_deep_raft_bugs_in_independent_code_are_found_from_the_initial_state(cls: str, longest: int) -> None:
    found = _check("myraft.py", cls, "raft", **FIGURE_8_BUDGET, timeout=300)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "leader-completeness"
    assert found.mode == "epochs" and len(found.violation.trace) <= longest
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # the correct code gives no violation in any part of auto mode (about a minute)
def test_correct_independent_raft_gives_no_violation() -> None:
    found = _check("myraft.py", "RaftServer", "raft", **FIGURE_8_BUDGET, timeout=300)
    assert found.verdict is Verdict.UNDETERMINED and found.violation is None


@pytest.mark.slow
def test_a_paxos_bug_in_independent_code_is_found() -> None:
    found = _check("mypaxos.py", "PromiseWithoutVote", "paxos", requests=2, max_timeouts=0, timeout=300)  # the CLI defaults
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "agreement"
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # about 25 s: the exhaustive part and the two-way epochs find nothing first
def test_acknowledging_the_whole_log_is_found_by_one_way_epochs() -> None:
    # The follower acknowledges its whole log, so a stale entry counts as replicated. The 13-step schedule
    # needs the follower's acknowledgement held back while its leader appends: epochs among groups deliver
    # every reply, so it is the second search (up to two one-way epochs) that finds it, in five epochs.
    found = _check("myraft.py", "AckLogEnd", "raft", requests=2, max_timeouts=3, max_term=3, timeout=120)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == "leader-completeness"
    assert found.mode == "epochs" and found.epochs is not None and found.epochs.violation is None
    assert found.one_way_epochs is not None and found.epochs_to_violation == 5
    assert len(found.violation.trace) == 13  # as short as the exhaustive search's (8.5 M states, 440 s)
    assert_real_path(found.model, found.violation.trace)


# -- a second outside batch (raft2.py, paxos2.py): another engineer, another style ------------------------
def test_a_second_independent_paxos_holds_or_fails_exhaustively_with_few_requests() -> None:
    correct = _check("paxos2.py", "Synod", "paxos", requests=1, max_timeouts=0, mode="exhaustive")
    assert correct.verdict is Verdict.HOLDS and correct.result.distinct_states == 2890  # 25,576 with movers=False
    found = _check("paxos2.py", "SingleAckLearner", "paxos", requests=2, max_timeouts=0)  # learns from one vote
    assert (found.mode, found.violation.property, len(found.violation.trace)) == ("exhaustive", "learned-is-chosen", 7)


@pytest.mark.slow  # 6 s each in process: the exhaustive part first, then the epoch searches
@pytest.mark.parametrize("cls, options, prop, steps", [
    ("AcceptBelowPromise", {}, "agreement", 14),
    ("LearnerMixesBallots", {}, "learned-is-chosen", 14),
    ("ForgetPromiseOnRestart", {"max_crashes": 1}, "agreement", 15),
])
def test_second_batch_paxos_bugs_are_found_by_one_way_epochs(cls: str, options: dict[str, Any], prop: str,
                                                             steps: int) -> None:
    found = _check("paxos2.py", cls, "paxos", requests=2, max_timeouts=0, timeout=300, **options)
    assert (found.mode, found.violation.property, len(found.violation.trace)) == ("epochs", prop, steps)
    # A search with one-way epochs found it (the merged one, second, since it exists), none without them.
    one_way = [part for part in (found.merged_one_way_epochs, found.one_way_epochs) if part is not None]
    assert one_way and one_way[-1].violation is not None
    assert all(part is None or part.violation is None for part in (found.merged_epochs, found.epochs))
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # about 80 s in process: every two-way epoch schedule within 100,000 states comes first
def test_second_batch_raft_stale_acknowledgement_is_found_by_one_way_epochs() -> None:
    found = _check("raft2.py", "AckWholeLogSafeLeader", "raft", **FIGURE_8_BUDGET, timeout=300)
    assert (found.mode, found.violation.property, len(found.violation.trace)) == ("epochs", "leader-completeness", 13)
    assert found.one_way_epochs is not None and found.one_way_epochs.violation is not None
    assert_real_path(found.model, found.violation.trace)


#: The third batch (raft3.py, paxos3.py; tests/data/independent/README.md): each bug with the configuration a
#: grader would give it, all other settings the CLI's defaults, and the property auto mode reports.
RAFT_DEFAULTS = {"requests": 1, "max_timeouts": 2, "max_term": 2}
PAXOS_DEFAULTS = {"requests": 2, "max_timeouts": 0}
THIRD_BATCH = [
    ("raft3.py", "VoteOnLengthOnly", "raft", {"requests": 2, "max_timeouts": 3, "max_term": 3}, "leader-completeness"),
    ("raft3.py", "CommitOldTerm", "raft", FIGURE_8_BUDGET, "leader-completeness"),
    ("raft3.py", "VoteNotDurable", "raft", {"max_crashes": 1}, "election-safety"),
    ("raft3.py", "LeaderIgnoresHigherTerm", "raft", {}, "election-safety"),
    ("raft3.py", "AlwaysTruncate", "raft", {"requests": 2}, "committed-entries-stable"),
    ("raft3.py", "CommitLogEnd", "raft", {"requests": 2}, "leader-completeness"),
    ("paxos3.py", "AdoptLowestVote", "paxos", {"requests": 3}, "agreement"),
    ("paxos3.py", "PromiseNotDurable", "paxos", {"max_crashes": 1}, "agreement"),
    ("paxos3.py", "LearnerMixesBallots", "paxos", {}, "learned-is-chosen"),
    ("paxos3.py", "AcceptIgnoringPromise", "paxos", {}, "agreement"),
    # Found by the stale-message schedules of the random part (the epochs cannot hold the promises it needs).
    ("paxos3.py", "ReuseBallotAfterRestart", "paxos", {"max_crashes": 1, "max_duplicates": 1}, "agreement"),
]


@pytest.mark.slow  # 25-120 s each in auto mode
@pytest.mark.parametrize("file, cls, protocol, options, prop", THIRD_BATCH, ids=[c[1] for c in THIRD_BATCH])
def test_the_third_batch_of_independent_bugs_is_found(file: str, cls: str, protocol: str, options: dict[str, Any],
                                                      prop: str) -> None:
    settings = {**(RAFT_DEFAULTS if protocol == "raft" else PAXOS_DEFAULTS), **options}
    # The random part runs until the time limit. paxos3.py's ReuseBallotAfterRestart is found by it only after the
    # epoch searches: 112 s into a 120 s run on an idle machine (2,596 schedules), not at all in 120 s with the
    # other core busy. The limit leaves room for a loaded machine; a bug found stops the run early.
    found = _check(file, cls, protocol, **settings, timeout=300, runs=None)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == prop
    assert_real_path(found.model, found.violation.trace)


#: The fifth batch (raft5.py, paxos5.py; tests/data/independent/README.md): Paxos with one class per role (three
#: proposer-acceptors, then a learner), as a grader gives it with a repeated --node-class.
PEERS5 = "{0},{0},{0},{1}"
FIFTH_BATCH = [
    ("raft5.py", "CommitPastNewEntries", "raft", {"requests": 2, "max_timeouts": 3}, "leader-completeness", 12),
    ("raft5.py", "LastTermOnlyVote", "raft", {"requests": 2, "max_timeouts": 3, "max_term": 3},
     "leader-completeness", 12),
    ("raft5.py", "CountOldTermReplicas", "raft", FIGURE_8_BUDGET, "leader-completeness", 21),
    ("raft5.py", "LogNotDurable", "raft", {"max_crashes": 1}, "committed-entries-stable", 7),
    ("raft5.py", "SelfCountedTwice", "raft", {}, "leader-completeness", 9),
    ("paxos5.py", PEERS5.format("HighestValueNotBallot", "Learner5"), "paxos", {"requests": 3}, "agreement", 20),
    ("paxos5.py", PEERS5.format("PromiseNotDurable", "Learner5"), "paxos", {"max_crashes": 1}, "agreement", 15),
    ("paxos5.py", PEERS5.format("Peer5", "CountsAcrossBallots"), "paxos", {}, "learned-is-chosen", 14),
    ("paxos5.py", "EvenQuorum,EvenQuorum,EvenQuorum,EvenQuorum,EvenQuorumLearner", "paxos", {}, "learned-is-chosen", 9),
    ("paxos5.py", PEERS5.format("NewRequestSameBallot", "Learner5"), "paxos", {}, "agreement", 10),
    ("paxos5.py", PEERS5.format("StalePromises", "Learner5"), "paxos", {"max_timeouts": 1}, "agreement", 15),
]


@pytest.mark.slow  # 1-40 s each in auto mode
@pytest.mark.parametrize("file, classes, protocol, options, prop, steps", FIFTH_BATCH,
                         ids=[c[1].split(",")[0] if c[1].count(",") < 4 else "EvenQuorum-4" for c in FIFTH_BATCH])
def test_the_fifth_batch_of_independent_bugs_is_found(file: str, classes: str, protocol: str, options: dict[str, Any],
                                                      prop: str, steps: int) -> None:
    settings = {**(RAFT_DEFAULTS if protocol == "raft" else PAXOS_DEFAULTS), **options}
    nodes = 3 if "," not in classes else None  # one class per node: the list gives the count
    found = check_student(f"{DATA / file}:{classes}", nodes, protocol=protocol, mode="auto", isolate=False,
                          timeout=120, runs=None, **settings)
    assert found.verdict is Verdict.VIOLATED and (found.violation.property, len(found.violation.trace)) == (prop, steps)
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # about 25 s
def test_a_bug_that_needs_five_nodes_is_found_by_the_merged_epoch_search() -> None:
    """OverwriteKeepsTail: with 3 nodes the node holding the leftover entry refuses its vote, so the bug needs
    5. Walks over epochs found it once in 154 s; the merged epoch search finds it every time, in 4 epochs."""
    found = check_student(f"{DATA / 'raft5.py'}:OverwriteKeepsTail", 5, protocol="raft", mode="auto",
                          isolate=False, timeout=300, runs=None, requests=3, max_timeouts=2, max_term=2)
    assert found.verdict is Verdict.VIOLATED and found.mode == "epochs"
    assert found.merged_epochs is not None and found.merged_epochs.violation is not None
    assert found.violation.property == "log-matching" and len(found.violation.trace) == 17
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # each runs to its time limit
@pytest.mark.parametrize("file, classes, protocol, options", [
    ("raft5.py", "Raft5", "raft", {"requests": 2, "max_timeouts": 3, "max_term": 3, "max_crashes": 1}),
    ("paxos5.py", PEERS5.format("Peer5", "Learner5"), "paxos",
     {**PAXOS_DEFAULTS, "max_crashes": 1, "max_duplicates": 1, "max_timeouts": 1}),
])
def test_the_fifth_batchs_correct_classes_give_no_violation(file: str, classes: str, protocol: str,
                                                            options: dict[str, Any]) -> None:
    found = check_student(f"{DATA / file}:{classes}", 3 if "," not in classes else None, protocol=protocol,
                          mode="auto", isolate=False, timeout=60, **options)
    assert found.violation is None and found.verdict is Verdict.UNDETERMINED


@pytest.mark.slow  # each runs to its time limit: auto mode cannot prove these bounds
@pytest.mark.parametrize("file, cls, protocol, options", [
    ("raft3.py", "RaftServer", "raft", {**FIGURE_8_BUDGET, "max_crashes": 1}),
    ("paxos3.py", "PaxosNode", "paxos", {**PAXOS_DEFAULTS, "requests": 3, "max_crashes": 1, "max_timeouts": 1}),
])
def test_the_third_batchs_correct_classes_give_no_violation(file: str, cls: str, protocol: str,
                                                            options: dict[str, Any]) -> None:
    found = _check(file, cls, protocol, **options, timeout=60)
    assert found.violation is None and found.verdict is Verdict.UNDETERMINED


#: The fourth batch (raft4.py, paxos4.py; tests/data/independent/README.md): the property auto mode reports and the
#: counterexample's length, with the configuration a grader would give each bug.
FOURTH_BATCH = [
    ("raft4.py", "StaleTermAppend", "raft", {"requests": 2}, "committed-entries-stable", 11),
    ("raft4.py", "KeepLeadingOnHigherTerm", "raft", {}, "election-safety", 8),
    ("raft4.py", "VolatileVote", "raft", {"max_crashes": 1}, "election-safety", 7),
    ("raft4.py", "ReplaceSuffix", "raft", {"requests": 2}, "committed-entries-stable", 9),
    ("raft4.py", "LengthOnlyUpToDate", "raft", {"requests": 2, "max_timeouts": 3, "max_term": 3},
     "leader-completeness", 14),
    ("raft4.py", "CommitOldTermByCount", "raft", FIGURE_8_BUDGET, "leader-completeness", 21),
    ("paxos4.py", "FirstVoteWins", "paxos", {"requests": 3}, "agreement", 20),
    ("paxos4.py", "RoundOnlyAccept", "paxos", {}, "agreement", 14),
    ("paxos4.py", "BareRoundBallots", "paxos", {}, "agreement", 14),
    ("paxos4.py", "CountMessagesNotAcceptors", "paxos", {"max_duplicates": 1}, "learned-is-chosen", 9),
    ("paxos4.py", "VolatilePromise", "paxos", {"max_crashes": 1}, "agreement", 15),
]


@pytest.mark.slow  # 0.3-19 s each in auto mode
@pytest.mark.parametrize("file, cls, protocol, options, prop, steps", FOURTH_BATCH, ids=[c[1] for c in FOURTH_BATCH])
def test_the_fourth_batch_of_independent_bugs_is_found(file: str, cls: str, protocol: str, options: dict[str, Any],
                                                       prop: str, steps: int) -> None:
    settings = {**(RAFT_DEFAULTS if protocol == "raft" else PAXOS_DEFAULTS), **options}
    found = _check(file, cls, protocol, **settings, timeout=120, runs=None)
    assert found.verdict is Verdict.VIOLATED and (found.violation.property, len(found.violation.trace)) == (prop, steps)
    assert_real_path(found.model, found.violation.trace)


@pytest.mark.slow  # each runs to its time limit: auto mode cannot prove these bounds
@pytest.mark.parametrize("file, cls, protocol, options", [
    ("raft4.py", "Raft", "raft", {"requests": 2, "max_timeouts": 3, "max_term": 3, "max_crashes": 1}),
    ("paxos4.py", "Paxos", "paxos", {**PAXOS_DEFAULTS, "max_crashes": 1, "max_duplicates": 1, "max_timeouts": 1}),
])
def test_the_fourth_batchs_correct_classes_give_no_violation(file: str, cls: str, protocol: str,
                                                             options: dict[str, Any]) -> None:
    found = _check(file, cls, protocol, **options, timeout=60)
    assert found.violation is None and found.verdict is Verdict.UNDETERMINED
