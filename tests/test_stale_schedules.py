"""Stale-message schedules (quorumcheck.studenttest.StaleMessages): random mode's schedules in which the messages
from before a restart reach the node's new incarnation, for the crash-restart bugs uniform schedules miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import assert_real_path
from hypothesis import given, settings
from hypothesis import strategies as st

from quorumcheck import studenttest
from quorumcheck.models.actor_model import ActorModel, load_student_file
from quorumcheck.models.actors import Node
from quorumcheck.studenttest import StaleMessages, check_student

ROOT = Path(__file__).resolve().parent.parent
INDEPENDENT = ROOT / "tests" / "data" / "independent"


class Echo(Node):
    """A request pings every node (itself too); a ping is answered with a pong."""

    def on_request(self, value: Any, out: Any) -> None:
        out.broadcast(("ping", value), include_self=True)

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        if message[0] == "ping":
            out.send(sender, ("pong", message[1]))


def _take(model: ActorModel, rules: StaleMessages, state: Any, text: str) -> Any:
    ((action, make),) = [(a, make) for a, make in model.enabled(state) if str(a) == text]
    return rules.taken(action, make())


def _allowed(model: ActorModel, rules: StaleMessages, state: Any) -> list[str]:
    return [str(a) for a, _ in rules.allowed(state, model.enabled(state))]


def test_the_rules_hold_a_copy_and_the_old_messages_for_the_new_incarnation() -> None:
    model = ActorModel(Echo, nodes=2, requests=2, max_crashes=1, max_duplicates=1, isolate=False)
    rules = StaleMessages(model)
    s = next(iter(model.init_states()))
    s = _take(model, rules, s, "Request(node=n0, value='v1')")
    assert not [a for a in _allowed(model, rules, s) if a.startswith("Request")]  # the second waits for a restart
    s = _take(model, rules, s, "Deliver(from=n0, to=n1, msg=('ping', 'v1'))")
    pong = "Deliver(from=n1, to=n0, msg=('pong', 'v1'))"
    s = _take(model, rules, s, "Duplicate(from=n1, to=n0, msg=('pong', 'v1'))")
    assert pong in _allowed(model, rules, s)  # two copies, one held
    s = _take(model, rules, s, pong)
    assert pong not in _allowed(model, rules, s)  # the copy waits for n0's restart
    s = _take(model, rules, s, "Restart(node=n0)")
    assert _allowed(model, rules, s) == ["Request(node=n0, value='v2')"]  # the new incarnation starts first
    s = _take(model, rules, s, "Request(node=n0, value='v2')")
    assert pong in _allowed(model, rules, s)  # and then the copy from before the crash arrives


def test_held_messages_are_delivered_when_nothing_else_is_left() -> None:
    model = ActorModel(Echo, nodes=2, requests=1, max_crashes=1, isolate=False)
    rules = StaleMessages(model)
    s = next(iter(model.init_states()))
    s = _take(model, rules, s, "Request(node=n0, value='v1')")
    s = _take(model, rules, s, "Restart(node=n0)")  # n0's ping to itself waits; n0 has nothing to start
    own = "Deliver(from=n0, to=n0, msg=('ping', 'v1'))"
    assert _allowed(model, rules, s) == ["Deliver(from=n0, to=n1, msg=('ping', 'v1'))"]
    s = _take(model, rules, s, "Deliver(from=n0, to=n1, msg=('ping', 'v1'))")
    assert _allowed(model, rules, s) == ["Deliver(from=n1, to=n0, msg=('pong', 'v1'))"]  # new since the restart
    s = _take(model, rules, s, "Deliver(from=n1, to=n0, msg=('pong', 'v1'))")
    assert _allowed(model, rules, s) == [own]  # the last message left: the rules never end a schedule


def test_no_crash_no_stale_rules() -> None:
    model = ActorModel(Echo, nodes=2, requests=2, max_duplicates=1, isolate=False)
    s = next(iter(model.init_states()))
    assert not model.crashes_allowed
    assert all(model.stale_event(a) is None for a, _ in model.enabled(s))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=25))
def test_the_rules_only_narrow_the_choices(picks: list[int]) -> None:
    """Whatever a schedule did, the rules allow a non-empty subset of what is enabled (never a dead end)."""
    model = _echo_model()
    rules = StaleMessages(model)
    s = next(iter(model.init_states()))
    for pick in picks:
        options = model.enabled(s)
        if not options:
            break
        allowed = rules.allowed(s, options)
        assert allowed and all(o in options for o in allowed)
        action, make = allowed[pick % len(allowed)]
        s = rules.taken(action, make())


_ECHO: list[ActorModel] = []


def _echo_model() -> ActorModel:
    if not _ECHO:
        _ECHO.append(ActorModel(Echo, nodes=3, requests=2, max_crashes=2, max_duplicates=2, max_drops=1,
                                isolate=False))
    return _ECHO[0]


def _reuse_ballot(**options: Any) -> Any:
    paxos2 = load_student_file(INDEPENDENT / "paxos2.py")
    return check_student(paxos2.ReuseBallotAfterRestart, 3, protocol="paxos", mode="random", seed=0, runs=500,
                         requests=2, max_timeouts=0, max_crashes=1, isolate=False, keep_graph=False, **options)


def test_a_ballot_reused_after_a_restart_is_found_by_stale_message_schedules() -> None:
    """paxos2.py's proposer forgets its round counter in a crash; the bug needs promises made to the node's earlier
    incarnation to reach the new one. Uniform swarm schedules needed 21,164 tries; with stale-message schedules,
    bench/bench_stale.py measured 157 and 248 (seeds 0 and 1)."""
    found = _reuse_ballot()
    assert found.violation is not None and found.violation.property == "agreement"
    assert len(found.violation.trace) == 15
    actions = [str(a) for a in found.violation.trace.actions]
    restart = next(k for k, a in enumerate(actions) if a.startswith("Restart"))
    assert any(a.startswith("Request") for a in actions[restart:])  # the second proposal is the new incarnation's
    assert_real_path(found.model, found.violation.trace)


def test_without_stale_message_schedules_the_same_run_misses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same 500 schedules (more than three times what the stale-message schedules need) find nothing.
    monkeypatch.setattr(studenttest, "STALE_SHARE", 1)  # a draw from {0}: never a stale-message schedule
    assert _reuse_ballot().violation is None
