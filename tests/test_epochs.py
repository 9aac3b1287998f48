"""The epoch search (quorumcheck.explorer.epochs): what an epoch is, and that its schedules are concrete.

An epoch is a trigger (a timer, request, restart or fault) and then every delivery among a group of
nodes, in the network's order. The search over epochs is the one breadth-first explorer on a model
whose steps are epochs; a violation is expanded back into the underlying model's steps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_real_path
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quorumcheck.errors import InvalidParameter
from quorumcheck.explorer import Step, Trace, Verdict, explore
from quorumcheck.explorer.epochs import EpochModel, EpochState
from quorumcheck.models import Action, Model, always
from quorumcheck.models.actor_model import ActorModel, load_student_file
from quorumcheck.models.api import Expectation, Property
from quorumcheck.models.actors import Node
from quorumcheck.studenttest import _replay, _select, check_student, epoch_search

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RAFT = load_student_file(EXAMPLES / "raft.py")
RAFT_BUGS = load_student_file(EXAMPLES / "raft_bugs.py")


class Relay(Node):
    """n0's timer sends a token to n1, which passes it on to n2; each counts the tokens it saw."""

    def __init__(self) -> None:
        self.seen = 0

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.set_timer("go")

    def on_timer(self, name: str, out: Any) -> None:
        out.send(1, "token")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        self.seen += 1
        if self.id == 1:
            out.send(2, "token")


def _seen(state: Any, i: int) -> int:
    return dict(state.nodes[i])["seen"]


def _relay(**options: Any) -> ActorModel:
    return ActorModel(Relay, 3, max_timeouts=1, isolate=False, **options)


def test_an_epoch_is_a_trigger_and_every_delivery_within_its_group() -> None:
    model = _relay()
    epochs = EpochModel(model, [])
    (start,) = epochs.init_states()
    steps = {str(a): s.state for a, s in epochs.successors(start)}
    # Groups contain the trigger's node and have two nodes or more; a Settle with nothing to deliver is no step.
    assert sorted(steps) == ["Epoch(first=Timer(node=n0, timer=go), among={n0, n1, n2})",
                             "Epoch(first=Timer(node=n0, timer=go), among={n0, n1})",
                             "Epoch(first=Timer(node=n0, timer=go), among={n0, n2})"]
    everyone = steps["Epoch(first=Timer(node=n0, timer=go), among={n0, n1, n2})"]
    assert [_seen(everyone, i) for i in range(3)] == [0, 1, 1] and everyone.network == ()
    # Among n0 and n1 the token reaches n1, and n1's token to n2 waits in the network.
    split = steps["Epoch(first=Timer(node=n0, timer=go), among={n0, n1})"]
    assert [_seen(split, i) for i in range(3)] == [0, 1, 0] and len(split.network) == 1
    # A later Settle among n1 and n2 delivers what waited.
    after = {str(a): s.state for a, s in epochs.successors(EpochState(split))}
    assert [_seen(after["Settle(among={n1, n2})"], i) for i in range(3)] == [0, 1, 1]
    assert "Settle(among={n0, n1})" not in after  # nothing to deliver between n0 and n1


def test_on_a_network_that_keeps_messages_an_epoch_delivers_each_once() -> None:
    """The duplicating network keeps what it delivered: an epoch took the same token up to 200 times (epoch
    searches there reached a few hundred states in a minute, and missed what they find elsewhere)."""
    model = _relay(network="unordered-duplicating")
    epochs = EpochModel(model, [])
    (start,) = epochs.init_states()
    ((action, end),) = [(a, t) for a, t in epochs.successors(start) if str(a).endswith("among={n0, n1, n2})")]
    assert epochs.concrete_labels(Trace((Step(None, start), Step(action, end)))) == [
        "Timer(node=n0, timer=go)", "Deliver(from=n0, to=n1, msg='token')", "Deliver(from=n1, to=n2, msg='token')"]
    assert [_seen(end.state, i) for i in range(3)] == [0, 1, 1] and len(end.state.network) == 2  # both still there


class StaleAck(Node):
    """n0's timer writes its next version to n1, and n0 takes any acknowledgement for its *current* version
    (the acknowledgement does not say which write it answers): a late one confirms a write n1 never got."""

    def __init__(self) -> None:
        self.version = self.confirmed = self.stored = 0

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.set_timer("write")

    def on_timer(self, name: str, out: Any) -> None:
        self.version += 1
        out.send(1, ("write", self.version))
        out.set_timer("write")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        if message[0] == "write":
            self.stored = message[1]
            out.send(0, ("ack",))
        else:
            self.confirmed = self.version


def _field(state: Any, i: int, name: str) -> int:
    return dict(state.nodes[i])[name]


CONFIRMED_IS_STORED = always("confirmed-is-stored", lambda s: _field(s, 0, "confirmed") <= _field(s, 1, "stored"),
                             "n0 confirms only versions n1 stored")


def test_a_one_way_epoch_delivers_one_nodes_messages_to_another_and_holds_the_replies() -> None:
    model = ActorModel(StaleAck, 2, max_timeouts=2, isolate=False)
    epochs = EpochModel(model, [], one_way=1)
    (start,) = epochs.init_states()
    steps = {str(a): s for a, s in epochs.successors(start)}
    # Both directions are offered; n1→n0 delivers nothing after the write, so it ends where the trigger
    # did, and an end reached without a one-way epoch is never reached again with one.
    assert sorted(steps) == ["Epoch(first=Timer(node=n0, timer=write), among=n0→n1)",
                             "Epoch(first=Timer(node=n0, timer=write), among=n1→n0)",
                             "Epoch(first=Timer(node=n0, timer=write), among={n0, n1})"]
    held = steps["Epoch(first=Timer(node=n0, timer=write), among=n0→n1)"]
    assert (_field(held.state, 1, "stored"), _field(held.state, 0, "confirmed")) == (1, 0)
    assert [m[:2] for m in held.state.network] == [(1, 0)] and held.one_way == 1  # the ack waits
    assert steps["Epoch(first=Timer(node=n0, timer=write), among={n0, n1})"].one_way == 0
    # One one-way epoch allowed, one taken: from there on, only epochs among groups.
    assert all("→" not in str(a) for a, _ in epochs.successors(held))


def test_a_late_reply_needs_two_one_way_epochs() -> None:
    model = ActorModel(StaleAck, 2, max_timeouts=2, isolate=False)
    # Among groups, the write and its ack always both arrive before the next write: nothing is found.
    for ways in (0, 1):
        assert explore(EpochModel(model, [CONFIRMED_IS_STORED], one_way=ways)).verdict is Verdict.HOLDS
    # The ack held back while n0 writes again, then delivered alone: two one-way epochs.
    epochs = EpochModel(model, [CONFIRMED_IS_STORED], one_way=2)
    result = explore(epochs)
    assert result.verdict is Verdict.VIOLATED
    assert [str(a) for a in result.violation.trace.actions] == [
        "Epoch(first=Timer(node=n0, timer=write), among=n0→n1)", "Epoch(first=Timer(node=n0, timer=write), among=n1→n0)"]
    assert epochs.concrete_labels(result.violation.trace) == [
        "Timer(node=n0, timer=write)", "Deliver(from=n0, to=n1, msg=('write', 1))", "Timer(node=n0, timer=write)",
        "Deliver(from=n1, to=n0, msg=('ack',))"]
    # It is a real schedule, and as short as the exhaustive search's shortest counterexample.
    model.properties = lambda *_, **__: [CONFIRMED_IS_STORED]  # type: ignore[method-assign]
    found = _replay(model, epochs.concrete_labels(result.violation.trace), [CONFIRMED_IS_STORED], [])
    assert found is not None and found.property == "confirmed-is-stored"
    assert_real_path(model, found.trace)
    shortest = explore(model).violation
    assert shortest is not None and len(shortest.trace) == len(found.trace) == 4


def test_an_invariant_broken_inside_an_epoch_stops_it_there() -> None:
    # "n2 never gets a token" breaks at the relay's second delivery: the epoch ends there, and its
    # expansion stops at that step.
    model = _relay()
    never_two = always("n2-quiet", lambda s: _seen(s, 2) == 0, "n2 never gets a token")
    epochs = EpochModel(model, [never_two])
    result = explore(epochs)
    assert result.verdict is Verdict.VIOLATED and result.violation.property == "n2-quiet"
    concrete = epochs.concrete_labels(result.violation.trace)
    assert concrete == ["Timer(node=n0, timer=go)", "Deliver(from=n0, to=n1, msg='token')",
                        "Deliver(from=n1, to=n2, msg='token')"]


def test_an_action_property_is_judged_on_every_step_inside_an_epoch() -> None:
    model = _relay()
    # An action property: no step raises n1's count while n2's is still zero (violated by the first delivery).
    step = Property("n1-after-n2", Expectation.EVERY_STEP,
                    lambda before, after: not (_seen(after, 1) > _seen(before, 1) and _seen(after, 2) == 0))
    epochs = EpochModel(model, [step])
    result = explore(epochs)
    v = result.violation
    assert v.property == "n1-after-n2" and v.trace.final.broken == "n1-after-n2"
    assert epochs.concrete_labels(v.trace) == ["Timer(node=n0, timer=go)", "Deliver(from=n0, to=n1, msg='token')"]
    # Replayed on the underlying model, it is the same action-property violation.
    found = _replay(model, epochs.concrete_labels(v.trace), [], [step])
    assert found is not None and found.expectation is Expectation.EVERY_STEP and len(found.trace) == 2


def test_an_epoch_stops_at_the_bound() -> None:
    # Raft with terms up to 1: an epoch that leaves the bound ends at the step that left it (TLC's CONSTRAINT:
    # that state is checked, but nothing is explored past it, within the epoch or after it).
    from quorumcheck.explorer import Step, Trace

    model = ActorModel(RAFT.RaftNode, 3, protocol="raft", requests=0, max_timeouts=3, max_term=1, isolate=False)
    safety, _, step_props = _select(model, None)
    epochs = EpochModel(model, safety + step_props)
    result = explore(epochs, keep_graph=True)
    assert result.verdict is Verdict.HOLDS
    stored = [data["state"] for _, data in result.graph.nodes(data=True)]
    assert all(model.within_boundary(s.state) for s in stored)
    left = 0
    for start in stored:
        for action, end in epochs.successors(start):
            if model.within_boundary(end.state):
                continue
            left += 1
            s = start.state
            for label in epochs.concrete_labels(Trace((Step(None, start), Step(action, end)))):
                assert model.within_boundary(s), f"{action} went on past the bound"
                s = next(t for a, t in model.successors(s) if str(a) == label)
            assert s == end.state
    assert left > 0


def test_a_model_that_is_not_message_passing_is_a_one_line_error() -> None:
    class Counter(Model):
        name = "counter"

        def init_states(self) -> list[int]:
            return [0]

        def successors(self, s: int) -> list[tuple[Action, int]]:
            return [(Action("Inc"), s + 1)]

    with pytest.raises(InvalidParameter, match="model 'counter' is not message passing .* so it cannot be searched "
                                               "by epochs"):
        EpochModel(Counter(), [])


def _epoch_states_reachable(model: ActorModel) -> tuple[set[Any], set[Any]]:
    safety, _, step_props = _select(model, None)
    epochs = explore(EpochModel(model, safety + step_props), keep_graph=True)
    concrete = explore(model, keep_graph=True, properties=[])
    return ({d["state"].state for _, d in epochs.graph.nodes(data=True)},
            {d["state"] for _, d in concrete.graph.nodes(data=True)})


def test_every_epoch_end_state_is_a_reachable_state() -> None:
    # An under-approximation: the epochs reach a subset of the concrete states (far fewer of them).
    model = ActorModel(RAFT.RaftNode, 3, protocol="raft", requests=0, max_timeouts=2, isolate=False)
    ends, reachable = _epoch_states_reachable(model)
    assert ends <= reachable
    assert len(ends) < len(reachable) // 10


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=6))
def test_an_epoch_schedule_replays_step_by_step_on_the_underlying_model(choices: list[int]) -> None:
    """Any path of epochs, expanded into the model's steps, is a real path to the same state."""
    from quorumcheck.explorer import Step, Trace

    model = ActorModel(RAFT.RaftNode, 3, protocol="raft", requests=1, max_timeouts=3, max_term=3, isolate=False)
    epochs = EpochModel(model, [])
    state = next(iter(epochs.init_states()))
    steps = [Step(None, state)]
    for c in choices:
        successors = epochs.successors(state)
        if not successors:
            break
        action, state = successors[c % len(successors)]
        steps.append(Step(action, state))
    concrete = epochs.concrete_labels(Trace(tuple(steps)))
    s = next(iter(model.init_states()))
    path = [Step(None, s)]
    for label in concrete:
        action, s = next((a, t) for a, t in model.successors(s) if str(a) == label)
        path.append(Step(action, s))
    assert_real_path(model, Trace(tuple(path)))
    assert s == state.state


def test_epochs_mode_from_python_finds_a_shrunk_concrete_schedule() -> None:
    found = check_student(RAFT_BUGS.NoLogCheck, 3, protocol="raft", mode="epochs", requests=1, max_timeouts=2,
                          isolate=False)
    assert found.mode == "epochs" and found.verdict is Verdict.VIOLATED
    assert found.violation.property == "leader-completeness"
    assert_real_path(found.model, found.violation.trace)
    # The epoch schedule ran more steps than the shrunk one keeps.
    runs = epoch_search(found.model)
    assert runs.two_way is None  # the merged search found it first
    for raw in (runs.merged, epoch_search(found.model, merged=False).two_way):
        assert len(found.violation.trace) <= len(EpochModel(found.model, []).concrete_labels(raw.violation.trace))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quorumcheck", "test", *args], capture_output=True, text=True,
                          check=False, timeout=300, cwd=ROOT)


def test_cli_epochs_mode_exit_codes() -> None:
    found = _cli("examples/raft_bugs.py", "--node-class", "NoLogCheck", "--protocol", "raft", "--requests", "1",
                 "--mode", "epochs")
    assert found.returncode == 1, found.stderr
    assert "VIOLATED: leader-completeness" in found.stdout
    assert "mode: epochs merged by protocol state · " in found.stdout and "the violation found in epoch" in found.stdout
    holds = _cli("examples/raft.py", "--protocol", "raft", "--requests", "0", "--mode", "epochs")
    assert holds.returncode == 0, holds.stderr
    assert "NO FAILING SCHEDULE (epoch search, not a proof)" in holds.stdout
    assert "every epoch schedule tried" in holds.stdout
    cut = _cli("examples/raft.py", "--protocol", "raft", "--mode", "epochs", "--max-states", "5")
    assert cut.returncode == 3, cut.stderr
    assert "UNDETERMINED" in cut.stdout and "tried before the state limit" in cut.stdout


# -- the built-in Raft (check --search epochs) ---------------------------------------------------------
def test_raft_deliveries_are_enabled_steps_between_the_servers_they_name() -> None:
    """On every state of a small Raft, each step an epoch takes by itself is one of the model's steps,
    from and to the servers its action names, with Receive(m) first."""
    from quorumcheck.models import RaftModel

    model = RaftModel(max_term=3, max_log=1, restarts=False, loss=False, history=False)
    graph = explore(model, keep_graph=True, properties=[], max_states=20_000).graph
    servers = list(model.servers)
    checked = 0
    for _, data in graph.nodes(data=True):
        s = data["state"]
        steps = {a: t for a, t in model.successors(s)}
        deliveries = model.deliveries(s)
        kinds = [a.name for _, _, a, _ in deliveries]
        assert kinds == sorted(kinds, key=lambda k: k != "Receive")  # receives first
        for src, dst, action, make in deliveries:
            assert steps[action] == make()
            if action.name == "Receive":
                assert (servers[src], servers[dst]) == (action.args["source"], action.args["dest"])
            else:
                assert servers[src] == action.args["i"] and servers[dst] == action.args.get("j", action.args["i"])
                assert model.actor_of(action) == src
            checked += 1
    assert checked > 10_000


@pytest.mark.parametrize(("bug", "prop", "length"), [("no-log-check", "leader-completeness", 25),
                                                     ("commit-to-log-end", "leader-completeness", 22)])
def test_epochs_find_builtin_raft_bugs_with_a_real_trace(bug: str, prop: str, length: int) -> None:
    from quorumcheck.models import RaftModel
    from quorumcheck.studenttest import epoch_check

    model = RaftModel(bug=bug)
    found = epoch_check(model)
    assert found.verdict is Verdict.VIOLATED and found.violation.property == prop
    assert len(found.violation.trace) == length  # shrunk: here as short as breadth-first search's
    assert_real_path(model, found.violation.trace)
    assert found.distinct_states < 1_000  # epoch-end states, against 490,622-803,762 states breadth-first


def test_epoch_search_reports_progress_phase_by_phase() -> None:
    from quorumcheck.explorer import Progress
    from quorumcheck.models import RaftModel
    from quorumcheck.studenttest import epoch_search

    reports: list[tuple[str, Progress]] = []
    runs = epoch_search(RaftModel(bug="count-stale-votes"), max_states=2500,
                        on_phase_progress=lambda phase, p: reports.append((phase, p)))
    assert reports, "the clock is read every 512 expansions, and 512 epochs take longer than a quarter second"
    phases = [phase for k, (phase, _) in enumerate(reports) if k == 0 or reports[k - 1][0] != phase]
    assert phases == ["epochs", "one-way epochs"][:len(phases)]  # in turn, each once; no merged phases here
    for phase, searched in (("epochs", runs.two_way), ("one-way epochs", runs.one_way)):
        counts = [p.distinct_states for name, p in reports if name == phase]
        if counts:  # each search counts its own states, from zero
            assert searched is not None and counts == sorted(counts) and counts[-1] <= searched.distinct_states
            assert max(p.depth for name, p in reports if name == phase) - 1 <= searched.depth  # never beyond


def test_epochs_on_the_correct_raft_are_undetermined_never_holds() -> None:
    from quorumcheck.models import RaftModel
    from quorumcheck.studenttest import epoch_check

    found = epoch_check(RaftModel(servers=2))
    assert found.violation is None and not found.complete  # as every undetermined result
    assert (found.verdict, found.stop_reason) == (Verdict.UNDETERMINED, "not-exhaustive")


def _check_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quorumcheck", "check", *args], capture_output=True, text=True,
                          check=False, timeout=300, cwd=ROOT)


def test_cli_check_search_epochs(tmp_path: Path) -> None:
    saved = tmp_path / "trace.json"
    found = _check_cli("raft", "--bug", "commit-to-log-end", "--search", "epochs", "--save-trace", str(saved))
    assert found.returncode == 1, found.stderr
    assert "VIOLATED: leader-completeness" in found.stdout and "epoch-end states" in found.stdout
    assert "counterexample to leader-completeness: 22 steps" in found.stdout
    replayed = subprocess.run([sys.executable, "-m", "quorumcheck", "replay", str(saved)], capture_output=True,
                              text=True, check=False, timeout=120, cwd=ROOT)
    assert replayed.returncode == 0 and "REPLAYS: all 22 steps match the model" in replayed.stdout
    shallow = _check_cli("raft", "--bug", "commit-to-log-end", "--search", "epochs", "--max-depth", "3")
    assert shallow.returncode == 3, shallow.stderr  # --max-depth counts epochs; this bug needs 4
    assert "the depth limit (--max-depth) was reached" in shallow.stdout and "(up to 3 epochs deep)" in shallow.stdout
    nothing = _check_cli("raft", "--servers", "2", "--search", "epochs")
    assert nothing.returncode == 3, nothing.stderr
    assert "UNDETERMINED: no violation in any schedule of up to 4 epochs, which is no proof" in nothing.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("raft", "--search", "epochs", "--symmetry"), "--search epochs does not combine with --symmetry"),
    (("raft", "--search", "epochs", "--workers", "2"), "--search epochs does not combine with --workers"),
    (("raft", "--search", "epochs", "--store", "fingerprints"),
     "--search epochs does not combine with --store fingerprints"),
    (("paxos", "--search", "epochs"), "model 'paxos' is not message passing (no nodes that deliver messages to each "
                                      "other), so it cannot be searched by epochs; epochs take student code or the "
                                      "built-in raft: drop --search epochs"),
])
def test_cli_search_epochs_bad_combinations_are_one_line_errors(args: tuple[str, ...], message: str) -> None:
    failed = _check_cli(*args)
    assert failed.returncode == 2
    assert message in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    assert "Traceback" not in failed.stderr


def test_spec_search_epochs_is_validated(tmp_path: Path) -> None:
    from quorumcheck.errors import InvalidSpec
    from quorumcheck.runspec import load_spec

    path = tmp_path / "spec.toml"
    path.write_text('model = "raft"\n[limits]\nsearch = "dfs"\n')
    with pytest.raises(InvalidSpec, match=r"\[limits\] search must be one of bfs, epochs, got 'dfs'"):
        load_spec(path)
    path.write_text('model = "raft"\n[limits]\nsearch = "epochs"\nsymmetry = true\n')
    with pytest.raises(InvalidSpec, match=r'\[limits\] search = "epochs" does not combine with symmetry'):
        load_spec(path)
    # Named by the spec, not by a --search the user never gave (the CLI sweep of 2026-12-03).
    path.write_text('model = "paxos"\n[limits]\nsearch = "epochs"\n')
    with pytest.raises(InvalidSpec, match=r'spec\.toml: \[limits\] search = "epochs" takes message passing models '
                                          r'\(the built-in raft\), and paxos is not one; drop it from \[limits\]$'):
        load_spec(path)
    path.write_text('model = "raft"\nbug = "commit-to-log-end"\n[limits]\nsearch = "epochs"\n'
                    '[expect]\nverdict = "violated"\ntrace_length = 22\n')
    spec = load_spec(path)
    assert spec.mismatches(spec.run()) == []


def test_an_epoch_ending_in_a_step_that_breaks_two_properties_replays() -> None:
    """TruncateOnAppend: the merged search's last epoch ends in a step that loses a committed entry
    (committed-entries-stable, an action property) and leaves a leader without it (leader-completeness).
    The explorer names the invariant, the replay the action property; it used to be taken for an epoch
    that did not replay (an AssertionError)."""
    found = check_student(RAFT_BUGS.TruncateOnAppend, 3, protocol="raft", mode="epochs", requests=2, max_timeouts=1,
                          isolate=False)
    assert found.merged_epochs is not None and found.merged_epochs.violation is not None
    assert found.merged_epochs.violation.property == "leader-completeness"
    assert found.violation.property == "committed-entries-stable" and len(found.violation.trace) == 8
    assert_real_path(found.model, found.violation.trace)


def test_merged_epoch_states_compare_by_their_summary() -> None:
    a, b = EpochState("s1", merged="cell"), EpochState("s2", merged="cell")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert EpochState("s1") != EpochState("s2") and a != EpochState("s2", merged="other")
    assert a != EpochState("s2", broken="p", merged="cell") and a != EpochState("s2", one_way=1, merged="cell")


def test_the_merged_search_never_drops_a_violating_state() -> None:
    """Two pings make one cell with the merge below (it forgets who was pinged); the violating state must be
    kept although its summary was met first in a state that holds."""

    class Pings(Model[Any]):
        name = "pings"
        epoch_nodes = 2

        def init_states(self) -> list[Any]:
            return [(0, 0, ())]

        def deliveries(self, s: Any) -> Any:
            for k, dst in enumerate(s[2]):
                got = list(s[:2])
                got[dst] += 1
                rest = s[2][:k] + s[2][k + 1:]
                yield 1 - dst, dst, Action("Deliver", to=dst), lambda got=got, rest=rest: (*got, rest)

        def actor_of(self, action: Action) -> Any:
            return action.args.get("node")

        def successors(self, s: Any) -> list[tuple[Action, Any]]:
            out = [(a, make()) for _, _, a, make in self.deliveries(s)]
            for i in (0, 1):
                if s == (0, 0, ()):  # one timer fires, once: pinging n1 is fine, pinging n0 is not
                    out.append((Action("Timer", node=i), (*s[:2], s[2] + (1 - i,))))
            return out

    never_n0 = always("n0-never-pinged", lambda s: s[0] == 0)
    epochs = EpochModel(Pings(), [never_n0], merge=lambda s: s[0] + s[1])
    result = explore(epochs)
    assert result.violation is not None and result.violation.property == "n0-never-pinged"
    assert epochs.concrete_labels(result.violation.trace)[-1] == "Deliver(to=0)"


def test_a_late_reply_is_found_by_the_merged_search_with_one_way_epochs() -> None:
    """CountStaleVotes counts a vote granted in an earlier term: the reply must arrive late, which no epoch
    among a group delivers. The merged search tries every kept state's epochs and finds nothing; the merged
    search with one-way epochs, second, finds it; the full searches do not run."""
    found = check_student(RAFT_BUGS.CountStaleVotes, 3, protocol="raft", mode="epochs", requests=0,
                          max_timeouts=3, max_term=3, isolate=False)
    assert found.merged_epochs is not None and found.merged_epochs.complete
    assert found.merged_epochs.violation is None
    assert found.merged_one_way_epochs is not None and found.merged_one_way_epochs.violation is not None
    assert found.epochs is None and found.one_way_epochs is None
    assert found.violation.property == "election-safety" and len(found.violation.trace) == 7
    assert found.epochs_to_violation == len(found.merged_one_way_epochs.violation.trace)
    assert_real_path(found.model, found.violation.trace)
