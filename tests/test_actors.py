"""The actor API, snapshots, network semantics, faults, containment, the `test` command and the pytest plugin."""

from __future__ import annotations

import dataclasses
import enum
import gc
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from conftest import assert_real_path, labels
from hypothesis import given
from hypothesis import strategies as st
from quorumcheck.explorer import Verdict, explore
from quorumcheck.models.actor_model import (
    ActorModel,
    find_node_classes,
    load_student_file,
)
from quorumcheck.models.actors import (
    Node,
    Out,
    Snapshotter,
    new_node,
    restore_node,
    snapshot_node,
)

from quorumcheck.errors import InvalidParameter, InvalidStudentCode
from quorumcheck.models.api import HANDLER_SECONDS
from quorumcheck.studenttest import check_student, random_schedules

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
QUORUMCHECK = [sys.executable, "-m", "quorumcheck"]


# -- snapshots -------------------------------------------------------------------------------------------
class Entry(NamedTuple):
    term: int
    value: str


@dataclasses.dataclass
class Record:
    name: str
    tags: list[str]


class Role(enum.Enum):
    FOLLOWER = "f"
    LEADER = "l"


@pytest.mark.parametrize("value", [
    0, -3, 2.5, "x", b"raw", None, True, False, (1, "a"), [1, [2, 3]], {"a": 1, 2: [3]}, {1, 2}, frozenset({"x"}),
    Entry(1, "v"), Record("r", ["t"]), Role.LEADER, {"log": [Entry(2, "w")], "roles": {Role.FOLLOWER}},
])
def test_freeze_thaw_round_trip(value: Any) -> None:
    snap = Snapshotter()
    frozen = snap.freeze(value)
    hash(frozen)
    back = snap.thaw(frozen)
    assert back == value and type(back) is type(value)
    assert snap.freeze(back) == frozen


def test_freezing_is_canonical_and_keeps_types_apart() -> None:
    snap = Snapshotter()
    assert snap.freeze({3, 1, 2}) == snap.freeze({2, 3, 1})
    assert snap.freeze({"b": 1, "a": 2}) == snap.freeze({"a": 2, "b": 1})
    assert snap.freeze([1, 2]) != snap.freeze((1, 2))
    assert snap.freeze(True) != snap.freeze(1)
    assert snap.freeze({1, "a"}) == snap.freeze({"a", 1})  # mixed types sort by their text


@pytest.mark.parametrize("value, kind", [
    (lambda: 1, "a function"),
    (threading.Lock(), "(a lock)"),
    (open(__file__), "an open file"),  # noqa: SIM115 - the point is an open file in node state
    (object(), "an instance of object"),
])
def test_unsnapshottable_state_names_class_and_attribute(value: Any, kind: str) -> None:
    class Holder(Node):
        def __init__(self) -> None:
            self.ok = 1
            self.cache = {"k": [1, value]}

    with pytest.raises(InvalidStudentCode) as info:
        snapshot_node(new_node(Holder, 0, 1), Snapshotter())
    message = str(info.value)
    assert message.startswith("Holder.cache['k'][1] holds") and kind in message


def test_restore_builds_fresh_objects() -> None:
    class Keeper(Node):
        def __init__(self) -> None:
            self.items = [1]

    snap = Snapshotter()
    frozen = snapshot_node(new_node(Keeper, 0, 2), snap)
    first, second = restore_node(Keeper, 0, 2, frozen, snap), restore_node(Keeper, 0, 2, frozen, snap)
    first.items.append(2)
    assert second.items == [1] and first.id == 0 and first.peers == (1,)


def test_out_validates_its_arguments() -> None:
    node = new_node(Node, 0, 2)
    out = Out(node, 2, Snapshotter())
    with pytest.raises(ValueError, match="there is no node 2"):
        out.send(2, "x")
    with pytest.raises(ValueError, match="timer names are strings"):
        out.set_timer(5)  # type: ignore[arg-type]
    out.set_timer("e" * 200)
    with pytest.raises(ValueError, match=r"out.cancel_timer\(\) with a name of 201 characters: timer names are at "
                                         r"most 200 characters"):
        out.cancel_timer("e" * 201)
    assert out.timers == [("set", "e" * 200)]
    with pytest.raises(InvalidStudentCode, match="sent a message quorumcheck cannot snapshot"):
        out.send(1, {"f": print})


def test_node_class_errors_name_the_fix() -> None:
    class Args(Node):
        def __init__(self, peers: Any) -> None:
            self.peers = peers

    class Plain:
        pass

    with pytest.raises(InvalidStudentCode, match="must take no arguments besides self"):
        ActorModel(Args, 3)
    with pytest.raises(InvalidStudentCode, match="is not a node class"):
        ActorModel(Plain, 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameter, match="unknown network"):
        ActorModel(Node, 3, network="fifo")
    with pytest.raises(InvalidStudentCode, match="no node class .* has on_request"):
        ActorModel(Node, 3, requests=1)


def test_a_handler_that_cannot_take_quorumcheck_s_arguments_is_refused_at_load() -> None:
    # It used to be the first call's finding, a bare TypeError with no word of the signature expected (batch 12).
    class NoSender(Node):
        def on_message(self, message: Any, out: Any) -> None:
            pass

    class FlexibleAndStatic(Node):
        def on_message(self, *args: Any) -> None:
            pass

        @staticmethod
        def on_timer(name: str, out: Any) -> None:
            pass

    with pytest.raises(InvalidStudentCode, match=r"^NoSender\.on_message\(self, message: 'Any', out: 'Any'\) -> "
                                                 r"'None' cannot take the arguments quorumcheck passes; write def "
                                                 r"on_message\(self, sender, message, out\)$"):
        ActorModel(NoSender, 2)
    ActorModel(FlexibleAndStatic, 2, isolate=False).close()


def test_slots_are_refused_only_when_they_hold_state() -> None:
    # A slot's value is not in the node's __dict__, where snapshots read state; `__slots__ = ()` (a mixin's habit)
    # declares none, so such a node is tested as usual.
    class Mixin:
        __slots__ = ()

    class Counter(Mixin, Node):
        __slots__ = ()

        def __init__(self) -> None:
            self.ticks = 0

        def on_start(self, out: Any) -> None:
            if self.id == 0:
                out.send(1, "tick")

        def on_message(self, sender: int, message: Any, out: Any) -> None:
            self.ticks += 1

    class Slotted(Node):
        __slots__ = ("ticks",)

    class OneSlot(Node):
        __slots__ = "ticks"

    result = explore(ActorModel(Counter, 2))
    assert (result.verdict, result.distinct_states) == (Verdict.HOLDS, 2)
    for cls in (Slotted, OneSlot):
        with pytest.raises(InvalidStudentCode, match=f"^{cls.__name__} uses __slots__; node state must be plain "
                                                     r"attributes \(remove __slots__\)$"):
            ActorModel(cls, 2)


# -- network semantics and faults ---------------------------------------------------------------------------
class Sender(Node):
    """n0 sends two numbered messages to n1; n1 records the order it receives them."""

    def __init__(self) -> None:
        self.got: list[int] = []

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.send(1, 1)
            out.send(1, 2)

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        self.got.append(message)


def _final_orders(model: ActorModel, **limits: Any) -> set[tuple[int, ...]]:
    result = explore(model, **limits)
    assert result.verdict is (Verdict.UNDETERMINED if limits else Verdict.HOLDS)
    return {tuple(dict(result.graph.nodes[n]["state"].nodes[1])["got"][1:]) for n in result.graph.nodes}


@pytest.mark.parametrize("network, orders", [
    ("ordered", {(), (1,), (1, 2)}),
    ("unordered", {(), (1,), (2,), (1, 2), (2, 1)}),
])
def test_network_semantics(network: str, orders: set[tuple[int, ...]]) -> None:
    assert _final_orders(ActorModel(Sender, 2, network=network)) == orders


def test_duplicating_network_redelivers() -> None:
    # A message stays in flight after delivery, so n1's list grows without bound: cut the search at depth 4.
    orders = _final_orders(ActorModel(Sender, 2, network="unordered-duplicating"), max_depth=4)
    assert (1, 1) in orders and (2, 1, 2) in orders


def test_drops_are_bounded() -> None:
    model = ActorModel(Sender, 2, network="ordered", max_drops=1)
    orders = _final_orders(model)
    assert (2,) in orders  # the first message was lost; FIFO delivered the second
    result = explore(model)
    assert all(n_state.budget[2] <= 1 for n_state in (result.graph.nodes[n]["state"] for n in result.graph.nodes))


class Durable(Node):
    durable = ("kept",)

    def __init__(self) -> None:
        self.kept = 0
        self.lost = 0

    def on_start(self, out: Any) -> None:
        out.set_timer("tick")

    def on_timer(self, name: str, out: Any) -> None:
        self.kept += 1
        self.lost += 1


def test_crash_keeps_durable_attributes_and_reruns_start() -> None:
    model = ActorModel(Durable, 1, max_timeouts=1, max_crashes=1)
    s0 = next(iter(model.init_states()))
    s1 = model.next_state(s0, "Timer(node=n0, timer=tick)")
    assert s1 is not None and s1.timers == ((),)
    s2 = model.next_state(s1, "Restart(node=n0)")
    assert s2 is not None
    assert dict(s2.nodes[0]) == {"kept": 1, "lost": 0} and s2.timers == (("tick",),)
    assert model.next_state(s2, "Restart(node=n0)") is None  # one crash allowed


def test_partition_blocks_cross_deliveries_until_healed() -> None:
    model = ActorModel(Sender, 2, max_partitions=1)
    s0 = next(iter(model.init_states()))
    split = model.next_state(s0, "Partition(groups={n0} | {n1})")
    assert split is not None
    assert [a.name for a, _ in model.successors(split)] == ["Heal"]
    healed = model.next_state(split, "Heal()")
    assert any(a.name == "Deliver" for a, _ in model.successors(healed))
    assert not any(a.name == "Partition" for a, _ in model.successors(healed))  # the budget is spent


def test_events_for_the_sequence_chart() -> None:
    model = ActorModel(Sender, 2)
    s0 = next(iter(model.init_states()))
    action, s1 = model.successors(s0)[0]
    events = model.events(s0, action, s1)
    assert events.actor == "n1" and events.received == ("1 n0→n1",) and events.sent == ()


# -- containment ---------------------------------------------------------------------------------------------
class Misbehaving(Node):
    """n1 misbehaves on the second message it handles, the way a test chooses."""

    how = "raise"

    def __init__(self) -> None:
        self.count = 0

    def on_start(self, out: Any) -> None:
        out.broadcast("go")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        self.count += 1
        if self.id != 1 or self.count < 2:
            return
        if self.how == "raise":
            raise KeyError("missing")
        if self.how == "loop":
            while True:
                pass
        if self.how == "swallow":
            while True:
                try:
                    while True:
                        pass
                except BaseException:  # noqa: BLE001, S110 - a student who swallows everything
                    pass
        if self.how == "random":
            import random

            self.count = random.random()
        if self.how == "global":
            _CALLS.append(1)
            self.count = len(_CALLS)
        if self.how == "bad-send":
            out.send(9, "x")


_CALLS: list[int] = []


@pytest.mark.parametrize("how, prop, text", [
    ("raise", "handlers-do-not-crash", "raised KeyError: 'missing' at test_actors.py"),
    ("loop", "handlers-terminate", "s of CPU time"),  # 0.2 s used, or less on a machine busy enough for the backstop
    ("random", "handlers-are-deterministic", "drew from the shared random generator"),
    ("global", "state-outside-node", "changed the module global test_actors._CALLS from [] to [1] (state outside the node"),
    ("bad-send", "handlers-do-not-crash", "there is no node 9"),
])
def test_misbehaving_handlers_are_findings_with_a_schedule(how: str, prop: str, text: str) -> None:
    cls = type(f"Misbehaving_{how.replace('-', '_')}", (Misbehaving,), {"how": how})
    model = ActorModel(cls, 3, handler_timeout=0.2)
    result = explore(model)
    assert result.verdict is Verdict.VIOLATED
    v = result.violation
    assert v.property == prop and text in v.explanation
    assert len(v.trace) == 2 and labels(v.trace)[-1].startswith("Deliver(from=")
    assert_real_path(model, v.trace)


class NoVotedFor(Node):
    """A Raft server without voted_for: its initial state already fails the contract."""

    def __init__(self) -> None:
        self.current_term, self.role, self.log, self.commit_index = 0, "follower", [], 0


def test_a_failed_state_witnesses_no_reachability_property() -> None:
    """It read "leader-elected witnessed in 0 steps" beside the failure of the very state that 'witnessed' it."""
    result = explore(ActorModel(NoVotedFor, 3, protocol="raft", requests=0, isolate=False))
    assert result.verdict is Verdict.VIOLATED and result.violation.property == "node-state-testable"
    assert [(w.property, w.witnessed) for w in result.witnesses] == [("leader-elected", False)]


class SlowOnce(Node):
    """Sends a ping; the first handler call in the whole run sleeps past the time limit (a loaded machine)."""

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.send(1, "ping")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        flag = Path(os.environ["QC_TEST_SLOW_ONCE"])  # outside the node and the watched modules
        if not flag.exists():
            flag.write_text("slept")
            time.sleep(0.5)


def test_a_call_that_misses_its_time_limit_once_is_run_again_before_it_counts(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is wall-clock time: a quick handler slowed down once (a loaded grading machine) is not a finding;
    one that misses it every time still is (test_misbehaving_handlers_are_findings_with_a_schedule, "loop")."""
    monkeypatch.setenv("QC_TEST_SLOW_ONCE", str(tmp_path / "flag"))
    result = explore(ActorModel(SlowOnce, 2, handler_timeout=0.2, protocol="none"))
    assert (tmp_path / "flag").read_text() == "slept"  # the first call did miss the limit
    assert result.verdict is Verdict.HOLDS and result.distinct_states == 2


class Keeper(Node):
    """Sends a ping, and keeps what it receives."""

    def __init__(self) -> None:
        self.kept: list[tuple[int, str]] = []

    def on_start(self, out: Any) -> None:
        if self.id == 0:
            out.send(1, "ping")

    def on_message(self, sender: int, message: Any, out: Any) -> None:
        self.kept.append((sender, message))


def test_a_collection_while_the_node_is_read_is_not_charged_to_the_handler() -> None:
    """In-process, the collector's pass reads the search's whole heap; reading the node's state after a call, under
    the same time limit, must not pay for it (it once made a "node-state-testable" finding of a correct node)."""
    model = ActorModel(Keeper, 2, handler_timeout=0.2, protocol="none")

    def slow_pass(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and signal.getitimer(signal.ITIMER_REAL)[0] > 0:  # inside a time limit
            time.sleep(0.3)

    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.callbacks.append(slow_pass)
    gc.set_threshold(1)  # a pass at nearly every allocation
    gc.enable()
    try:
        (start,) = model.init_states()
        after = [t for _, t in model.successors(start)]
    finally:
        gc.callbacks.remove(slow_pass)
        gc.set_threshold(*threshold)
        if not enabled:
            gc.disable()
    assert start.failure is None and after and all(t.failure is None for t in after)


def test_a_handler_that_swallows_every_timeout_is_stopped_by_the_trusted_side(tmp_path: Path) -> None:
    # The worker's own alarm cannot stop this handler; the trusted side's deadline kills the worker.
    student = tmp_path / "swallow.py"
    student.write_text("from quorumcheck.models.actors import Node\n"
                       "class Swallower(Node):\n"
                       "    def on_start(self, out):\n"
                       "        out.broadcast('x')\n"
                       "    def on_message(self, sender, message, out):\n"
                       "        while True:\n"
                       "            try:\n"
                       "                while True:\n"
                       "                    pass\n"
                       "            except BaseException:\n"
                       "                pass\n")
    found = check_student(str(student), 2, handler_timeout=0.2)
    v = found.violation
    assert v.property == "handlers-terminate" and len(v.trace) == 1
    assert "did not return within 9 s (the worker was stopped)" in v.explanation  # 5 * (2 * 0.2 + 1) + 2


def test_student_code_that_kills_its_process_is_a_finding() -> None:
    found = check_student(str(ROOT / "tests" / "data" / "exits.py"), 2)
    v = found.violation
    assert found.exit_code == 1 and v.property == "handlers-do-not-crash" and len(v.trace) == 1
    assert v.explanation == ("n1 (Exits) on_message(0, 'x') ended the worker process (exit status 3: os._exit, "
                             "sys.exit in a thread, or closing quorumcheck's channel?)")


def test_memory_hog_is_a_finding_in_the_worker() -> None:
    found = check_student(str(ROOT / "tests" / "data" / "hog.py"), 2, memory_mb=300)
    assert found.violation.property == "handlers-within-memory"
    assert "MemoryError" in found.violation.explanation and len(found.violation.trace) == 1


# -- loading student files ------------------------------------------------------------------------------------
def test_loading_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("def f(:\n    pass\n")
    with pytest.raises(InvalidStudentCode, match=r"broken.py: importing it raised SyntaxError"):
        load_student_file(broken)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(InvalidStudentCode, match="defines no node class"):
        find_node_classes(load_student_file(empty))
    with pytest.raises(InvalidStudentCode, match="defines several node classes"):
        find_node_classes(load_student_file(EXAMPLES / "paxos_bugs.py"))


_HEADER = ("from quorumcheck.models.actors import Node\n"
           "class S(Node):\n"
           "    def __init__(self):\n"
           "        self.current_term, self.role, self.voted_for, self.log, self.commit_index = 0, 'follower', None, [], 0\n"
           "    def on_start(self, out):\n"
           "        out.set_timer('t')\n")


@pytest.mark.parametrize("source, exit_code, text", [
    ("import no_such_module_xyz\n", 2, "importing it raised ModuleNotFoundError: No module named 'no_such_module_xyz' "
                                        "at student.py:1 in <module>"),
    # Its 10 s of CPU time stop it (on a very busy machine, the wall-clock backstop first: either says a loop).
    pytest.param("while True:\n    pass\n", 2, "(an infinite loop?) at student.py:1 in <module>",
                 marks=pytest.mark.slow),  # waits out the 10 s import limit
    (_HEADER + "    def on_timer(self, name, out):\n        import sys; sys.exit(4)\n", 1,
     "handlers-do-not-crash violated: n0 (S) on_timer('t') raised SystemExit: 4 at student.py:8 in on_timer"),
    (_HEADER + "    def on_timer(self, name, out):\n        def f(n): return f(n + 1)\n        f(0)\n", 1,
     "handlers-do-not-crash violated: n0 (S) on_timer('t') raised RecursionError: maximum recursion depth exceeded "
     "at student.py:8 in f"),
    # What the contract cannot read is a finding about the code (exit 1, with the schedule), never a usage
    # error: student code must not be able to choose exit 2 on the path that violates a property.
    (_HEADER + "    def on_timer(self, name, out):\n        out.broadcast(object())\n", 1,
     "node-state-testable violated: n0 (S) on_timer('t'): S (node 0) sent a message quorumcheck cannot snapshot: "
     "message holds an instance of object"),
    # Not the student's class: no dataclass to make of it (the hint said to).
    (_HEADER.replace("    def __init__(self):\n", "    def __init__(self):\n        import random; self.rng = random.Random(1)\n"),
     1, "S.rng holds an instance of random.Random (keep it out of self: make it at module level, like a logger, or "
        "keep in self the plain data it is made from, like a Random's seed or getstate())"),
    # A standard container is the student's data: hold it in the plain type (the hint said to keep it out of self).
    (_HEADER.replace("    def __init__(self):\n", "    def __init__(self):\n        import collections; "
                                                      "self.votes = collections.defaultdict(set)\n"),
     1, "S.votes holds a collections.defaultdict (a snapshot keeps plain dicts, lists, sets and tuples: use a dict, "
        "with self.d.setdefault(key, []) or self.d.get(key, 0) where a default is wanted)"),
    (_HEADER.replace("'follower'", "'boss'"), 1,
     "node-state-testable violated: n0 (S) __init__/on_start: S.role must be 'follower', 'candidate' or 'leader'"),
    # A durable that is not a tuple of names is refused in one line (None made the worker's own check raise).
    (_HEADER.replace("class S(Node):\n", "class S(Node):\n    durable = None\n"), 2,
     "S.durable must be a tuple of attribute names, e.g. durable = ('current_term', 'voted_for', 'log'), got None"),
    # An __init__ that raises before it sets the contract's fields is a finding about the code, not "no Raft
    # server" (exit 2): no node could be built, so no node shows the fields.
    (_HEADER.replace("    def __init__(self):\n", "    def __init__(self):\n        self.x = self.typo\n"), 1,
     "handlers-do-not-crash violated: n0 (S) __init__/on_start raised AttributeError: 'S' object has no attribute "
     "'typo' at student.py:4 in __init__"),
    # A renamed contract field is named as the student wrote it.
    (_HEADER.replace("self.role,", "self.status,").replace("'follower'", "'folower'")
     .replace("class S(Node):\n", "class S(Node):\n    observe = {'role': 'status'}\n"), 1,
     "S.status (the 'role' observation) must be 'follower', 'candidate' or 'leader'"),
    # A log entry that is a record without a value is refused, not read as None.
    (_HEADER.replace("[], 0\n", "[{'term': 0, 'cmd': 'x'}], 0\n"), 1,
     "S.log entries that are records need a 'term' and a 'value' (or 'command'), got {'cmd': 'x', 'term': 0}"),
])
def test_student_files_that_go_wrong_give_one_line_or_a_finding(tmp_path: Path, source: str, exit_code: int,
                                                                 text: str) -> None:
    (tmp_path / "student.py").write_text(source)
    run = _cli("student.py", "--protocol", "raft", "--max-timeouts", "1", cwd=tmp_path)
    assert run.returncode == exit_code, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    if exit_code == 2:
        assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1 and text in run.stderr
    else:
        assert text in run.stdout


@dataclasses.dataclass
class _ServerState:
    current_term: int = 0
    role: str = "follower"
    voted_for: int | None = None
    log: list[Any] = dataclasses.field(default_factory=list)
    commit_index: int = 0


class Forwarding(Node):
    """Keeps its Raft fields in a dataclass and shows them through ``__getattr__``."""

    def __init__(self) -> None:
        self.state = _ServerState()

    def __getattr__(self, name: str) -> Any:
        if name == "state":
            raise AttributeError(name)
        return getattr(self.state, name)


def test_contract_fields_shown_through_getattr_are_read() -> None:
    # They were "RaftNode has no attribute 'current_term'" (node-state-testable), though hasattr() says it has.
    model = ActorModel(Forwarding, 3, protocol="raft", isolate=False)
    start = next(iter(model.init_states()))
    assert start.failure is None, start.failure
    assert [o[0] for o in start.observed] == [0, 0, 0]


def test_a_global_set_between_calls_in_process_is_not_the_handlers_doing(tmp_path: Path) -> None:
    # A script that defines its node class in __main__ and binds the model to a global before exploring: the
    # global appears between the model's set-up and its first call. Only what a call changes is a finding.
    (tmp_path / "script.py").write_text("from quorumcheck.models.actors import Node\n"
                                        "class Quiet(Node):\n    pass\n")
    module = load_student_file(tmp_path / "script.py")
    model = ActorModel(module.Quiet, 2, protocol="none", isolate=False)
    module.m = model  # what `m = ActorModel(...)` does in the script
    result = explore(model)
    assert result.verdict is Verdict.HOLDS and result.distinct_states == 1


def test_a_submission_that_is_a_symbolic_link_says_which_file_is_tested(tmp_path: Path) -> None:
    (tmp_path / "alice.py").write_text(_HEADER)
    (tmp_path / "bob.py").symlink_to(tmp_path / "alice.py")
    run = _cli("bob.py", "--protocol", "raft", "--max-timeouts", "1", cwd=tmp_path)
    assert f"bob.py is a symbolic link: the file tested is {(tmp_path / 'alice.py').resolve()}" in run.stderr


def test_a_file_that_only_imports_a_node_class_names_it(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(_HEADER)
    (tmp_path / "submission.py").write_text("from mine import S\n")
    run = _cli("submission.py", "--protocol", "raft", "--max-timeouts", "1", cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
    assert "submission.py defines no node class of its own, and imports S; name the one to test: --node-class S" \
        in run.stderr
    named = _cli("submission.py", "--protocol", "raft", "--max-timeouts", "1", "--node-class", "S", cwd=tmp_path)
    assert named.returncode in (0, 1) and "classes=S " in named.stdout, named.stdout + named.stderr


# -- random mode ---------------------------------------------------------------------------------------------
def test_random_mode_is_deterministic_under_a_seed() -> None:
    bugs = load_student_file(EXAMPLES / "raft_bugs.py")

    def run(seed: int) -> list[str]:
        found = check_student(bugs.VoteTwice, 3, protocol="raft", mode="random", seed=seed, runs=200,
                              isolate=False, requests=0, max_timeouts=2)
        return labels(found.violation.trace)

    assert run(3) == run(3)


def test_random_mode_on_a_plain_model() -> None:
    from quorumcheck.models import PaxosModel

    result, runs = random_schedules(PaxosModel(max_ballot=0, bug="duplicate-ballots"), runs=300, seed=1)
    assert result.verdict is Verdict.VIOLATED and result.violation.property == "agreement"
    assert len(result.violation.trace) <= 12 and 1 <= runs <= 300  # schedules until the failure, not its shrinking
    assert not result.complete


@pytest.mark.parametrize("runs", [1, 7, 40])
def test_runs_is_the_exact_number_of_schedules_when_none_fails(runs: int) -> None:
    """Hypothesis runs a few more examples than max_examples; --runs N must mean N schedules."""
    from quorumcheck.models import PaxosModel

    for strategy in ("swarm", "coverage"):
        result, drawn = random_schedules(PaxosModel(max_ballot=0), runs=runs, seed=2, strategy=strategy)
        assert result.verdict is Verdict.HOLDS and drawn == runs


# -- the `test` command ---------------------------------------------------------------------------------------
def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*QUORUMCHECK, "test", *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          check=False)


def test_cli_finds_renders_saves_and_replays(tmp_path: Path) -> None:
    trace = tmp_path / "trace.json"
    run = _cli("examples/raft_bugs.py", "--node-class", "VoteTwice", "--protocol", "raft", "--requests", "0",
               "--render", str(tmp_path / "out"), "--save-trace", str(trace))
    assert run.returncode == 1, run.stderr
    assert "VIOLATED: election-safety" in run.stdout
    assert "counterexample to election-safety: 6 steps" in run.stdout
    assert re.search(r"election-safety violated: term 1: n\d and n\d each acted as leader", run.stdout)
    assert (tmp_path / "out" / "raft-election-safety-chart.svg").exists()
    assert (tmp_path / "out" / "raft-election-safety-report.html").exists()
    replayed = _cli("--replay", str(trace))
    assert replayed.returncode == 0 and "REPLAYS: all 6 steps match" in replayed.stdout
    regression = _cli("--replay", str(trace), "--expect", "fixed")  # a CI check that the bug stays fixed
    assert regression.returncode == 1 and "STILL REPRODUCES: --expect fixed" in regression.stdout
    saved = json.loads(trace.read_text())
    assert saved["model"] == "actors" and saved["parameters"]["classes"] == ["VoteTwice"]
    # The generic commands take a student trace too: `quorumcheck replay` and `quorumcheck render`.
    generic = subprocess.run([sys.executable, "-m", "quorumcheck", "replay", str(trace)], capture_output=True,
                             text=True, cwd=ROOT)
    assert generic.returncode == 0 and "REPLAYS: all 6 steps match the model" in generic.stdout, generic.stderr
    drawn = subprocess.run([sys.executable, "-m", "quorumcheck", "render", str(trace), "--format", "dot"],
                           capture_output=True, text=True, cwd=ROOT)
    assert drawn.returncode == 0, drawn.stderr
    chart = trace.with_suffix(".dot").read_text()
    lanes = re.findall(r"lane_\d+ \[label=<<b>(n\d)</b>>", chart)
    assert len(lanes) >= 2 and lanes == sorted(lanes) and set(lanes) <= {"n0", "n1", "n2"}  # a lane per acting node
    # Six steps: two timeouts and four deliveries, each an arrow from its sending step to its receiving one.
    assert len(re.findall(r'class="msg send_\d+ recv_\d+"', chart)) == 4


def test_cli_json_and_exit_codes(tmp_path: Path) -> None:
    ok = _cli("examples/raft.py", "--protocol", "raft", "--requests", "1", "--max-timeouts", "1", "--json")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["verdict"] == "holds" and data["distinct_states"] == 1405 and data["student"]["mode"] == "exhaustive"
    assert data["partial_order"]["method"] == "movers" and data["student"]["exhaustive_states"] is None
    plain = _cli("examples/raft.py", "--protocol", "raft", "--requests", "1", "--max-timeouts", "1", "--json",
                 "--no-reduction")
    data = json.loads(plain.stdout)
    assert (plain.returncode, data["verdict"], data["distinct_states"], data["partial_order"]) == (0, "holds", 12595, None)
    assert data["student"]["exhaustive_states"] == 12595
    cut = _cli("examples/raft.py", "--protocol", "raft", "--mode", "exhaustive", "--max-states", "100")
    assert cut.returncode == 3 and "UNDETERMINED" in cut.stdout
    assert re.search(r"no violation in any schedule of up to \d+ steps", cut.stdout)


@pytest.mark.parametrize("args, message", [
    (["nowhere.py", "--protocol", "raft"], "nowhere.py: no such file"),
    (["examples/paxos_bugs.py", "--protocol", "paxos"], "defines several node classes"),
    (["examples/paxos.py"], "choose the protocol"),
    (["examples/raft.py", "--protocol", "raft", "--node-class", "Nope"], "has no node class 'Nope'"),
    # raft_bugs.py imports RaftNode: named as imported, beside the file's own classes
    (["examples/raft_bugs.py", "--protocol", "raft", "--node-class", "Nope"], "(and imported: RaftNode)"),
    (["examples/raft.py", "--protocol", "raft", "--node-class", "RequestVote"],
     "examples/raft.py is not a node class: write `class RequestVote(Node):`"),
])
def test_cli_usage_errors_are_one_line(args: list[str], message: str) -> None:
    run = _cli(*args)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


# -- the pytest plugin ----------------------------------------------------------------------------------------
def test_pytest_plugin_reports_the_schedule_and_the_chart(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "test_grade.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "from raft import RaftNode\n"
        "from raft_bugs import VoteTwice\n\n"
        "def test_correct(quorumcheck):\n"
        "    quorumcheck.check_raft(RaftNode, nodes=3, runs=100, requests=0)\n\n"
        "def test_buggy(quorumcheck):\n"
        "    quorumcheck.check_raft(VoteTwice, nodes=3, requests=0)\n"
    )
    junit = tmp_path / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}",
         f"--quorumcheck-render={tmp_path / 'charts'}", "test_grade.py"],
        capture_output=True, text=True, cwd=course, timeout=300, check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "quorumcheck: election-safety violated" in run.stdout
    assert "1. Timer(node=" in run.stdout and "sequence chart:" in run.stdout
    chart = tmp_path / "charts" / "test_buggy" / "raft-election-safety-chart.svg"
    assert chart.exists() and str(chart) in run.stdout
    assert "election-safety violated" in junit.read_text()


def test_auto_mode_is_exhaustive_when_it_finishes_and_samples_when_it_does_not() -> None:
    raft = load_student_file(EXAMPLES / "raft.py")
    bugs = load_student_file(EXAMPLES / "raft_bugs.py")
    small = check_student(bugs.VoteTwice, 3, protocol="raft", mode="auto", requests=0, isolate=False)
    assert small.mode == "exhaustive" and small.exhaustive_prefix is None
    assert small.violation.property == "election-safety" and len(small.violation.trace) == 6

    large = check_student(raft.RaftNode, 3, protocol="raft", mode="auto", requests=1, max_timeouts=1,
                          max_states=1500, runs=50, isolate=False)
    # Never a pass: the search was cut and random schedules are no proof (exit 3).
    assert large.mode == "random" and large.verdict is Verdict.UNDETERMINED and not large.result.complete
    assert large.result.stop_reason == "not-exhaustive" and large.exit_code == 3
    prefix = large.exhaustive_prefix
    # Under movers (the default) the states met inside transactions count against the limit too.
    assert prefix is not None and prefix.stop_reason == "max_states" and prefix.partial_order.method == "movers"
    assert prefix.distinct_states + prefix.partial_order.met >= 1500
    # Every state within checked_steps steps was reached: the exhaustive count up to that depth is smaller.
    assert large.checked_steps == prefix.depth - 1
    up_to = explore(large.model, max_depth=large.checked_steps + 1, properties=[], keep_graph=False, movers=True)
    assert up_to.distinct_states <= prefix.distinct_states
    assert large.to_json()["student"]["exhaustive_prefix"]["every_schedule_up_to_steps"] == large.checked_steps
    # Between the two, the epoch search ran to the end of the budgets (one timeout, one request).
    assert large.epochs is not None and large.epochs.complete and large.epochs.violation is None
    assert large.checked_epochs == large.epochs.depth - 1 >= 3


def test_cli_auto_mode_says_how_far_the_exhaustive_part_got() -> None:
    run = _cli("examples/raft.py", "--protocol", "raft", "--max-states", "2000", "--runs", "30", "--max-timeouts", "1")
    assert run.returncode == 3, run.stderr
    assert ("UNDETERMINED: not exhaustive: the search was cut, and neither epochs nor random schedules found a "
            "violation") in run.stdout
    found = re.search(r"mode: auto · the exhaustive search reached the state limit at ([\d,]+) states and ([\d,]+) more "
                     r"inside transactions \(\d+\.\d\d s\): "
                     r"every schedule of up to \d+ steps is checked; then epochs merged by protocol state · [\d,]+ "
                     r"kept \(\d+\.\d\d s\), every kept schedule tried \(\d epochs at most\); "
                     r"then merged with up to 2 one-way epochs · [\d,]+ kept \(\d+\.\d\d s\), every kept schedule "
                     r"tried \(\d epochs at most\); "
                     r"then epochs · [\d,]+ epoch-end states "
                     r"\(\d+\.\d\d s\), every epoch schedule tried \(\d epochs at most\); "
                     r"then with up to 2 one-way epochs · [\d,]+ epoch-end states \(\d+\.\d\d s\), every such "
                     r"schedule tried \(\d epochs at most\); then random · \d+ schedules \(seed 0\)", run.stdout)
    assert found is not None and 2000 <= sum(int(n.replace(",", "")) for n in found.groups()) < 2100


@pytest.mark.parametrize("network, orders", [
    # One extra copy of either message: FIFO puts the copy at the end of the channel.
    ("ordered", {(), (1,), (1, 2), (1, 2, 1), (1, 2, 2)}),
    ("unordered", {(), (1,), (2,), (1, 1), (2, 2), (1, 2), (2, 1), (1, 1, 2), (1, 2, 1), (2, 1, 1),
                   (2, 2, 1), (2, 1, 2), (1, 2, 2)}),
])
def test_duplicates_are_bounded(network: str, orders: set[tuple[int, ...]]) -> None:
    model = ActorModel(Sender, 2, network=network, max_duplicates=1)
    assert _final_orders(model) == orders
    duplicates = [a for a in labelled_actions(model) if a.startswith("Duplicate(")]
    assert duplicates and all(a.startswith("Duplicate(from=n0, to=n1, msg=") for a in duplicates)
    with pytest.raises(InvalidParameter, match="delivers every message any number of times already"):
        ActorModel(Sender, 2, network="unordered-duplicating", max_duplicates=1)


def labelled_actions(model: ActorModel) -> set[str]:
    result = explore(model)
    return {str(a) for _, _, data in result.graph.edges(data=True) for a in data["actions"]}


def test_plugin_in_auto_mode_reports_a_shortest_schedule(tmp_path: Path) -> None:
    from quorumcheck.pytest_plugin import StudentChecker

    bugs = load_student_file(EXAMPLES / "raft_bugs.py")
    checker = StudentChecker("auto", None, tmp_path / "drawn")
    with pytest.raises(pytest.fail.Exception) as failed:
        checker.check_raft(bugs.VoteTwice, nodes=3, requests=0)
    message = str(failed.value)
    assert message.startswith("quorumcheck: election-safety violated (at most one leader is elected per term)")
    assert "found by exhaustive mode, a shortest schedule of 6 steps:" in message
    assert len(re.findall(r"^\s+\d\. ", message, re.M)) == 6
    assert (tmp_path / "drawn" / "trace.json").exists()


def test_a_collection_of_our_heap_is_not_charged_to_a_students_handler() -> None:
    """In-process, the collector's passes read the search's heap (1.4 s for a one-line handler once, which made
    deterministic code "non-deterministic"); a handler's time limit counts the handler only."""
    import gc
    import time

    from quorumcheck.student.worker.containment import call_contained

    def slow_pass(phase: str, info: dict[str, int]) -> None:  # stands in for a pass over millions of objects
        if phase == "start":
            time.sleep(0.3)

    def allocates() -> None:  # a handler that keeps enough objects to start the collector several times
        kept = [[] for _ in range(5_000)]
        assert len(kept) == 5_000

    assert gc.isenabled()
    gc.callbacks.append(slow_pass)
    try:
        assert call_contained(allocates, (), time_limit=0.25) is None
        assert gc.isenabled()  # back on after the call
        gc.disable()
        assert call_contained(allocates, (), time_limit=0.25) is None
        assert not gc.isenabled()  # a caller that paused it (the search) keeps it paused
    finally:
        gc.callbacks.remove(slow_pass)
        gc.enable()


def test_a_handler_call_leaves_the_callers_time_limit_running() -> None:
    """In-process, a search's time limit is an interval timer too; a handler call used to switch it off."""
    import signal
    import time

    from quorumcheck.student.worker.containment import call_contained

    rang: list[float] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: rang.append(time.monotonic()))
    try:
        signal.setitimer(signal.ITIMER_REAL, 10.0)
        assert call_contained(time.sleep, (0.2,), time_limit=1.0) is None
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 9.0 < left < 9.85  # running on, less the call's 0.2 s
        signal.setitimer(signal.ITIMER_REAL, 0.1)  # a limit that runs out during the call rings right after it
        assert call_contained(time.sleep, (0.3,), time_limit=1.0) is None
        time.sleep(0.05)
        assert len(rang) == 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_time_limit_charges_cpu_time_not_waiting() -> None:
    """A quick call on a loaded machine waits for the CPU: with a wall-clock limit a 1 s handler limit once made
    reading a correct node's state a finding under load (slow suite, 2026-11-30). The limit is CPU time now; the
    wall clock is a backstop at twice the limit plus 1 s."""
    import os
    import signal
    import subprocess
    import time

    from quorumcheck.student.worker.containment import call_contained

    def descheduled() -> None:  # this process is stopped for 0.5 s, as by a scheduler that runs others first
        subprocess.run(["sh", "-c", f"kill -STOP {os.getpid()}; sleep 0.5; kill -CONT {os.getpid()}"], check=True)

    started = time.monotonic()
    assert call_contained(descheduled, (), time_limit=0.1) is None  # 0.5 s of wall clock, almost no CPU
    assert time.monotonic() - started >= 0.5
    looped = call_contained(lambda: [0 for _ in iter(int, 1)], (), time_limit=0.1)  # CPU time runs out
    assert looped is not None and looped.text.startswith("used 0.1 s of CPU time without returning (an infinite loop?)")
    slept = call_contained(time.sleep, (5,), time_limit=0.1)  # no CPU time: the backstop, 2 * 0.1 + 1 s
    assert slept is not None and slept.text.startswith(
        "did not return within 1.2 s, using almost no CPU time (sleeping, or waiting for something?)")
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0) and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_call_that_never_blocked_gets_more_wall_clock_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wall-clock backstop is for calls that sleep or block. One that never gave up the processor of its own
    accord (no voluntary context switch) was runnable all along and waited its turn on a loaded machine: once, in
    the slow suite beside the attack tests on 2 cores, a correct node's quick call "did not return within 3 s,
    using almost no CPU time". Such a call gets two more backstops, and the finding then names the load."""
    import signal
    import time

    import quorumcheck.student.worker.containment as containment

    started = time.monotonic()
    assert containment.call_contained(time.sleep, (1.5,), time_limit=0.01) is not None  # it slept: 1.02 s
    assert time.monotonic() - started < 1.4
    monkeypatch.setattr(containment, "_voluntary_switches", lambda: 7)  # as if it never blocked
    containment.new_call()  # a call's extra backstops are shared by its runs; the worker resets them per call
    started = time.monotonic()
    assert containment.call_contained(time.sleep, (1.5,), time_limit=0.01) is None  # past one backstop, within 3
    assert 1.5 <= time.monotonic() - started < 2.5
    late = containment.call_contained(time.sleep, (5,), time_limit=0.01)  # the one backstop left: 2.04 s
    assert late is not None and late.text.startswith("did not return within 2.04 s, using ")
    containment.new_call()
    late = containment.call_contained(time.sleep, (5,), time_limit=0.01)
    assert late is not None and late.kind == "timeout"
    assert late.text.startswith("did not return within 3.06 s, using ")
    assert "never waiting for anything: it waited its turn for a processor all along (the machine was overloaded; " \
           "run fewer checks at once)" in late.text
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0) and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@given(st.floats(min_value=HANDLER_SECONDS[0], max_value=HANDLER_SECONDS[1]))
def test_the_worker_s_limits_end_before_the_grader_s_deadline(limit: float) -> None:
    """Two runs of a call and the reading of the node's state, each stopped at the latest by the wall-clock
    backstop (and the extra backstops a call that waited for a processor may have), fit inside the trusted side's
    deadline, so a worker reports where the call was before it is killed;
    and the backstop is above the CPU limit, so a call is never stopped by the wall clock before it could use it."""
    from quorumcheck.student.wire import call_deadline, wall_clock_limit

    from quorumcheck.student.wire import WALL_EXTENSIONS

    assert limit < wall_clock_limit(limit)
    assert (3 + WALL_EXTENSIONS) * wall_clock_limit(limit) + 1.0 < call_deadline(limit)


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "workers"])
def test_a_class_level_default_is_read_as_python_reads_it(tmp_path: Path, isolate: bool) -> None:
    """``learned = None`` in the class body, never set on the node until it learns: the node has the attribute, as
    Python reads it. It was "has no attribute 'learned'" (an independent student, batch 11), because the trusted
    side read the field from the snapshot, which holds the instance's own attributes only."""
    from quorumcheck.studenttest import check_student

    (tmp_path / "paxos.py").write_text((Path(__file__).resolve().parent.parent / "examples" / "paxos.py").read_text())
    (tmp_path / "classdefault.py").write_text(
        "from paxos import PaxosNode\n\n\nclass ClassDefault(PaxosNode):\n    learned = None\n\n"
        "    def __init__(self):\n        super().__init__()\n        del self.learned  # the class's default stands\n")
    found = check_student(str(tmp_path / "classdefault.py:ClassDefault"), 3, protocol="paxos", requests=1,
                          max_timeouts=0, isolate=isolate)
    assert found.verdict is Verdict.HOLDS and found.result.distinct_states == 2710  # as examples/paxos.py
    assert {w.property: len(w.trace) - 1 for w in found.result.witnesses} == {
        "value-can-be-chosen": 6, "value-can-be-learned": 8}


def test_a_durable_attribute_that_init_does_not_set_gets_a_notice(tmp_path: Path) -> None:
    from quorumcheck.studenttest import check_student

    (tmp_path / "paxos.py").write_text((Path(__file__).resolve().parent.parent / "examples" / "paxos.py").read_text())
    (tmp_path / "typo.py").write_text('from paxos import PaxosNode\n\n\nclass Typo(PaxosNode):\n'
                                      '    durable = ("promised", "acepted", "round")\n')
    found = check_student(str(tmp_path / "typo.py"), 3, protocol="paxos", requests=1, max_timeouts=0,
                          max_crashes=1, max_states=500)
    typos = [n for n in found.notices if "durable" in n]
    assert typos == ["Typo declares durable 'acepted', which its __init__ does not set: a crash keeps nothing under "
                     "that name (a typo?)"]


# -- the observe mapping -------------------------------------------------------------------------------------
_RAFT_FIELDS = "(current_term, role, voted_for, log, commit_index)"


@pytest.mark.parametrize("observe, text", [
    (["current_term", "term"], "Renaming.observe must be a dict, got ['current_term', 'term']"),
    ("term", "Renaming.observe must be a dict, got 'term'"),
    ({"current_term": 5}, "Renaming.observe['current_term'] must be the name of your attribute that holds "
                          "current_term (a string), got 5"),
    ({1: "term"}, "Renaming.observe has the key 1, which is not a field name (a string) of the raft contract"),
    ({"term": "current_term"}, "Renaming.observe has the key 'term', which is not a field of the raft contract;"),
    ({"current_term": "term", "curent_role": "role"},
     "Renaming.observe has the key 'curent_role', which is not a field of the raft contract;"),
    ({"curent_term": "term"}, "the key 'curent_term', which is not a field of the raft contract (did you mean "
                              "'current_term'?)"),
])
def test_a_malformed_observe_mapping_is_refused_in_one_line(observe: Any, text: str) -> None:
    class Renaming(Node):
        def __init__(self) -> None:
            self.term, self.role, self.voted_for, self.log, self.commit_index = 0, "follower", None, [], 0

    Renaming.observe = observe  # type: ignore[assignment]
    with pytest.raises(InvalidStudentCode) as refused:
        ActorModel(Renaming, 3, protocol="raft", max_timeouts=1)
    message = str(refused.value)
    assert text in message and "\n" not in message
    # It names the fix: the contract's fields, and an example.
    assert message.endswith(f"its keys are the contract's field names {_RAFT_FIELDS} and its values your attribute "
                            "names, e.g. observe = {'current_term': 'term'}")


def test_a_paxos_observe_mapping_lists_the_paxos_fields() -> None:
    class Acc(Node):
        observe = {"accept": "acc"}

        def __init__(self) -> None:
            self.acc = None

    with pytest.raises(InvalidStudentCode, match=re.escape(
            "Acc.observe has the key 'accept', which is not a field of the paxos contract (did you mean "
            "'accepted'?); its keys are the contract's field names (accepted, learned, promised) and its values "
            "your attribute names, e.g. observe = {'accepted': 'last_accepted'}")):
        ActorModel(Acc, 3, protocol="paxos")
    # Without a protocol nothing is read, so nothing is renamed: a class written for Raft still runs.
    Acc.observe = {"current_term": "term"}
    assert explore(ActorModel(Acc, 2)).verdict is Verdict.HOLDS


def test_a_malformed_observe_mapping_is_a_usage_error_from_the_worker(tmp_path: Path) -> None:
    source = _HEADER.replace("self.current_term,", "self.term,").replace(
        "class S(Node):\n", "class S(Node):\n    observe = {'current_term': 'term', 'curent_role': 'role'}\n")
    (tmp_path / "student.py").write_text(source)
    run = _cli("student.py", "--protocol", "raft", "--max-timeouts", "1", cwd=tmp_path)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1
    assert "S.observe has the key 'curent_role', which is not a field of the raft contract" in run.stderr


@pytest.mark.parametrize("acc, shown", [
    ("(*self.accepted, 0)", "((1, 0), 'v1', 0)"),
    ("{'ballot': self.accepted[0], 'value': self.accepted[1]}", "{'ballot': (1, 0), 'value': 'v1'}"),
])
def test_a_renamed_paxos_observation_is_named_as_the_student_wrote_it(acc: str, shown: str) -> None:
    paxos = load_student_file(EXAMPLES / "paxos.py")
    namespace: dict[str, Any] = {"PaxosNode": paxos.PaxosNode}
    exec(  # noqa: S102 - a subclass whose renamed observation is malformed
        "class Renamed(PaxosNode):\n"
        "    observe = {'accepted': 'acc'}\n"
        "    @property\n"
        f"    def acc(self):\n        return None if self.accepted is None else {acc}\n", namespace)
    result = check_student(namespace["Renamed"], 3, protocol="paxos", mode="exhaustive", requests=1, isolate=False)
    assert result.violation is not None and result.violation.property == "node-state-testable"
    explanation = result.violation.explanation
    assert (f"Renamed.acc (the 'accepted' observation) must be None or a (ballot, value) pair, got {shown}"
            in explanation)
    assert "Renamed.accepted" not in explanation


# -- the pytest plugin's messages ------------------------------------------------------------------------------
def test_plugin_takes_a_nodes_files_own_count(tmp_path: Path) -> None:
    # The fixture passed nodes=3 whatever the file said: a file with a NODES list of 6 was refused ("nodes=3 but 6
    # node classes were given"), where the CLI, given no --nodes, runs it.
    from quorumcheck.pytest_plugin import StudentChecker

    found = StudentChecker("exhaustive", None, tmp_path).check_paxos(str(EXAMPLES / "paxos_roles.py"), requests=1)
    assert found.model.count == 6 and found.result.distinct_states == 239
    raft = load_student_file(EXAMPLES / "raft.py")  # one class: 3 nodes, as before
    assert StudentChecker("exhaustive", None, tmp_path).check_raft(raft.RaftNode, requests=0).model.count == 3


def test_plugin_usage_errors_fail_once_without_a_chained_exception(tmp_path: Path) -> None:
    from quorumcheck.pytest_plugin import StudentChecker

    raft = load_student_file(EXAMPLES / "raft.py")
    with pytest.raises(pytest.fail.Exception) as failed:
        StudentChecker(None, None, tmp_path).check_raft(raft.RaftNode, nodes=0)
    assert str(failed.value) == "quorumcheck: nodes must be an integer >= 1, got 0"
    # pytest prints an exception's __context__ first ("During handling of the above exception, another
    # exception occurred"): the error must not be raised inside the except block that caught it.
    assert failed.value.__context__ is None and failed.value.__cause__ is None
    # As pytest shows it: the message once, no banner.
    (tmp_path / "test_usage.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXAMPLES)!r})\nfrom raft import RaftNode\n\n"
        "def test_nodes0(quorumcheck):\n    quorumcheck.check_raft(RaftNode, nodes=0)\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rN", "test_usage.py"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "During handling" not in run.stdout
    assert run.stdout.count("nodes must be an integer >= 1, got 0") == 1, run.stdout


def test_plugin_auto_mode_undetermined_names_each_part_with_its_own_counts(tmp_path: Path) -> None:
    from quorumcheck.pytest_plugin import StudentChecker

    raft = load_student_file(EXAMPLES / "raft.py")
    with pytest.raises(pytest.fail.Exception) as failed:
        StudentChecker("auto", None, tmp_path).check_raft(raft.RaftNode, requests=0, max_timeouts=2, max_states=50,
                                                           runs=20, steps=10)
    assert str(failed.value) == (
        "quorumcheck: UNDETERMINED: no violation found, but the exhaustive search reached its state limit "
        "(max_states) at 50 states, with every schedule of up to 2 steps checked; then the epoch search merged by "
        "protocol state tried every epoch from each of 9 protocol states, up to 2 epochs; then the merged epoch search "
        "with one-way epochs tried every epoch from each of 50 protocol states, up to 4 epochs; then the epoch search "
        "tried every "
        "epoch schedule of up to 4 epochs; then the epoch search with one-way epochs tried every epoch schedule of "
        "up to 5 epochs; then 20 random schedules (seed 0) ran; that is no proof: lower the bounds (requests, "
        "max_timeouts) or raise max_states or timeout so that the exhaustive search finishes")


def test_plugin_exhaustive_mode_undetermined_says_what_was_checked(tmp_path: Path) -> None:
    from quorumcheck.pytest_plugin import StudentChecker

    raft = load_student_file(EXAMPLES / "raft.py")
    with pytest.raises(pytest.fail.Exception) as failed:
        StudentChecker("exhaustive", None, tmp_path).check_raft(raft.RaftNode, requests=0, max_states=50)
    assert str(failed.value) == (
        "quorumcheck: UNDETERMINED: no violation found, but the exhaustive search reached its state limit "
        "(max_states) at 50 states, with every schedule of up to 2 steps checked; lower the bounds (requests, "
        "max_timeouts), raise max_states or timeout, or use mode='random'")


def test_plugin_messages_count_in_the_singular(tmp_path: Path) -> None:
    from quorumcheck.pytest_plugin import StudentChecker

    namespace: dict[str, Any] = {}
    exec(_HEADER.replace("'follower'", "'boss'"), namespace)  # noqa: S102 - a role the contract cannot read
    with pytest.raises(pytest.fail.Exception) as failed:
        StudentChecker(None, None, tmp_path / "boss").check_raft(namespace["S"], requests=0, max_timeouts=1)
    lines = str(failed.value).splitlines()
    assert lines[1] == "found by random mode (seed 0, 1 schedule) in the initial state, before any step:"
    assert "S.role must be 'follower', 'candidate' or 'leader'" in lines[2]

    raft = load_student_file(EXAMPLES / "raft.py")
    with pytest.raises(pytest.fail.Exception) as failed:  # no timer fires: no election, one state
        StudentChecker("exhaustive", None, tmp_path / "none").check_raft(raft.RaftNode, requests=0, max_timeouts=0)
    assert str(failed.value).splitlines() == ["quorumcheck: leader-elected violated (a leader can be elected)",
                                              "  it was never witnessed in 1 state"]


def test_plugin_names_the_scripted_prefix_before_the_schedule(tmp_path: Path) -> None:
    # The schedule's steps need the prefix's: the message listed them without it (the CLI says "after the N steps").
    from quorumcheck.pytest_plugin import StudentChecker

    bugs = load_student_file(EXAMPLES / "raft_bugs.py")
    prefix = ["Timer(node=n0, timer=election)"]
    with pytest.raises(pytest.fail.Exception) as failed:
        StudentChecker("exhaustive", None, tmp_path / "p").check_raft(bugs.VoteTwice, requests=0, max_timeouts=2,
                                                                      prefix=prefix)
    lines = str(failed.value).splitlines()
    assert lines[1].endswith("after the 1 step of the scripted prefix:") and lines[2] == f"  prefix 1. {prefix[0]}"


def test_a_run_where_nothing_can_happen_says_so_and_names_the_missing_option() -> None:
    # Paxos with no client request proposes nothing: "value-can-be-chosen was never witnessed" alone reads as a
    # bug in the code, where the run gave it nothing to do.
    class Proposer(Node):
        def __init__(self) -> None:
            self.value: Any = None

        def on_request(self, value: Any, out: Any) -> None:
            self.value = value
            out.broadcast(value)

    idle = ("nothing can happen in this run: no node sends a message in on_start, --requests is 0 and --max-timeouts "
            "is 0, so every property is judged on the initial state alone; give --requests 1 or more")
    found = check_student(Proposer, 2, requests=0, max_timeouts=0, isolate=False)
    assert found.result.distinct_states == 1 and idle in found.notices
    found = check_student(Proposer, 2, requests=1, max_timeouts=0, isolate=False)
    assert found.result.distinct_states > 1 and not any(n.startswith("nothing can happen") for n in found.notices)


def test_a_call_cut_between_its_request_and_its_answer_leaves_no_stale_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # A time limit (a signal) or Ctrl-C can land while the trusted side waits for a worker's answer. That answer
    # used to stay in the pipe and reach the next call, which then failed a correct submission as "answered out of
    # turn" (red-team round 15: a correct Raft whose handlers take 0.3 s, in auto mode's later phases).
    from quorumcheck.explorer.search import TimeLimitReached
    from quorumcheck.student.trusted.workers import _Worker

    model = ActorModel(str(ROOT / "examples" / "raft.py"), 3, protocol="raft", requests=0, max_timeouts=1)
    try:
        explore(model, max_states=3)
        original = _Worker.receive
        cut: list[_Worker] = []

        def receive(self: _Worker, *args: Any, **kwargs: Any) -> dict[str, Any]:
            if not cut:
                cut.append(self)
                raise TimeLimitReached()
            return original(self, *args, **kwargs)

        monkeypatch.setattr(_Worker, "receive", receive)
        assert explore(model, max_states=60).stop_reason == "timeout" and cut
        monkeypatch.setattr(_Worker, "receive", original)
        after = explore(model)
        assert after.verdict is Verdict.HOLDS and after.violation is None, after.violation
    finally:
        model.close()


def test_the_memory_limit_is_read_after_each_new_handler_answer() -> None:
    # A handler answer can be tens of megabytes; memory was read only every 64 steps, so a run of a few big steps
    # overshot --max-memory by hundreds of megabytes without stopping (red-team round 15: 843 MiB for 500).
    from quorumcheck.models.actor_model import resident_bytes

    class Grow(Node):
        def __init__(self) -> None:
            self.blob: tuple[int, ...] = ()

        def on_start(self, out: Any) -> None:
            if self.id == 0:
                out.send(1, 0)

        def on_message(self, sender: int, message: Any, out: Any) -> None:
            self.blob = tuple(range(message * 10**7, message * 10**7 + 1_000_000))  # about 36 MB a state
            if message < 12:
                out.send(sender, message + 1)

    limit = resident_bytes() // 2**20 + 150
    result = explore(ActorModel(Grow, 2, isolate=False, max_memory_mb=limit))
    assert result.stop_reason == "memory" and result.distinct_states < 12
    assert result.peak_memory_bytes < (limit + 120) * 2**20


def test_state_nested_too_deep_is_named_as_such_and_no_idle_notice_follows(tmp_path: Path) -> None:
    # Honest but unreadable: a dict nested 195 deep. The finding said "answered something malformed", and the run
    # (whose start failed) added that nothing could happen in it (red-team round 15).
    student = tmp_path / "deep.py"
    student.write_text("from quorumcheck.models.actors import Node\n"
                       "class Deep(Node):\n"
                       "    def __init__(self):\n"
                       "        self.deep = {'leaf': 0}\n"
                       "        for _ in range(195):\n"
                       "            self.deep = {'k': self.deep}\n")
    found = check_student(str(student), 2, requests=0, max_timeouts=0)
    assert found.violation.property == "handlers-do-not-crash" and len(found.violation.trace) == 0
    assert found.violation.explanation == ("n0 (Deep) __init__/on_start answered a value nested deeper than 200 "
                                           "levels, which quorumcheck does not read; keep node state and messages "
                                           "flatter")
    assert not any(n.startswith("nothing can happen") for n in found.notices)


def test_a_node_class_whose_attributes_raise_when_read_is_one_line(tmp_path: Path) -> None:
    # A metaclass property raising when quorumcheck reads `durable` ended the worker at load, reported as "ended
    # the worker process (exit status 1: os._exit, ...?)", which hid the cause (red-team round 15).
    student = tmp_path / "meta.py"
    student.write_text("from quorumcheck.models.actors import Node\n"
                       "class Meta(type):\n"
                       "    @property\n"
                       "    def durable(cls):\n"
                       "        raise ValueError('no durable here')\n"
                       "class N(Node, metaclass=Meta):\n"
                       "    pass\n")
    with pytest.raises(InvalidStudentCode, match=r"meta\.py: reading its node classes raised ValueError: no durable "
                                                 r"here; node classes must be plain classes"):
        check_student(str(student), 2)


def test_a_handler_that_returns_its_messages_is_told_they_go_nowhere(tmp_path: Path) -> None:
    # A student returned the messages to send; the run said only that no leader was ever elected (batch 12).
    student = tmp_path / "returns.py"
    student.write_text("from quorumcheck.models.actors import Node\n"
                       "class R(Node):\n"
                       "    def on_start(self, out):\n"
                       "        if self.id == 0:\n"
                       "            out.send(1, 'ping')\n"
                       "    def on_message(self, sender, message, out):\n"
                       "        return [(sender, 'pong')]\n")
    said = ("R.on_message returned a list, which quorumcheck ignores: a handler sends with out.send(to, message) or "
            "out.broadcast(message), and returns nothing")
    for isolate in (True, False):
        found = check_student(str(student), 2, isolate=isolate)
        assert found.verdict is Verdict.HOLDS and said in found.notices, found.notices
    quiet = check_student(str(ROOT / "examples" / "raft.py"), 3, protocol="raft", requests=1, max_timeouts=1)
    assert not any("which quorumcheck ignores" in n for n in quiet.notices)


def test_a_destination_or_timer_name_that_lies_about_itself_is_judged_by_its_value() -> None:
    # An int subclass whose comparisons always pass (node 99 of 2) and a str subclass whose len() says 1 (10,000
    # characters) passed Out's checks; the trusted side then refused the answer as "does the code write to
    # quorumcheck's channel?" (red-team round 15). Out reads their plain values.
    class Liar(int):
        def __ge__(self, other: object) -> bool:
            return True

        def __lt__(self, other: object) -> bool:
            return True

    class Short(str):
        def __len__(self) -> int:
            return 1

    class Sends(Node):
        def on_start(self, out: Any) -> None:
            if self.id == 0:
                out.send(Liar(99), "x")

    class Arms(Node):
        def on_start(self, out: Any) -> None:
            out.set_timer(Short("t" * 10_000))

    for cls, says in ((Sends, "raised ValueError: out.send(99, ...): there is no node 99; nodes are 0..1"),
                      (Arms, "raised ValueError: out.set_timer() with a name of 10,000 characters")):
        found = check_student(cls, 2, isolate=False)
        assert found.violation.property == "handlers-do-not-crash" and says in found.violation.explanation
