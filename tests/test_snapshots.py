"""What a node snapshot keeps: every dataclass attribute, dict insertion order, and the reserved ``id``/``peers``.

Between handler calls a node exists only as its snapshot (models/actors.py), so whatever the snapshot
loses silently changes the student's program. These tests pin down that a snapshot gives back what plain
Python would have: the attributes a dataclass has besides its fields, the order of a dict, and that a
node which sets quorumcheck's ``id`` or ``peers`` is told so instead of silently getting them back.
"""

from __future__ import annotations

import dataclasses
import enum
import gc
import math
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quorumcheck.errors import InvalidStudentCode
from quorumcheck.models import actors
from quorumcheck.models.actors import Node, Out, Snapshotter, new_node, restore_node, show, snapshot_node
from quorumcheck.studenttest import check_student


# -- values used below -------------------------------------------------------------------------------------
@dataclasses.dataclass
class RaftState:
    """A course Raft's state object: ``__post_init__`` adds attributes that are not fields."""

    term: int
    voted_for: int | None = None

    def __post_init__(self) -> None:
        self.votes: set[int] = set()
        self.cache: dict[str, int] = {}


@dataclasses.dataclass(frozen=True)
class FrozenEntry:
    term: int
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.term, self.value))


POST_INIT_CALLS: list[int] = []


@dataclasses.dataclass
class Counted:
    """Counts its ``__post_init__`` runs, to show that a restore does not run it again."""

    n: int

    def __post_init__(self) -> None:
        POST_INIT_CALLS.append(self.n)
        self.doubled = 2 * self.n


@dataclasses.dataclass(slots=True)
class SlotBase:
    x: int


@dataclasses.dataclass(slots=True)
class SlotPoint(SlotBase):
    y: int
    label: str = "p"


@dataclasses.dataclass
class Box:
    value: Any


class Pair(NamedTuple):
    a: Any
    b: Any


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def _same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are the same value of the same types, dicts and dataclass attributes in the same order."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return repr(a) == repr(b)
    if isinstance(a, dict):  # dicts are kept by content: their order is not part of the value
        return len(a) == len(b) and all(any(_same(ka, kb) and _same(va, vb) for kb, vb in b.items())
                                        for ka, va in a.items())
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (set, frozenset)):
        return a == b and all(any(_same(x, y) for y in b) for x in a)
    if dataclasses.is_dataclass(a):
        return _same(_attributes(a), _attributes(b))
    return bool(a == b)


def _attributes(obj: Any) -> dict[str, Any]:
    """Every attribute of an instance: its set slots, then its ``__dict__`` in order."""
    found = {}
    for name in actors._slot_attributes(type(obj)):
        try:
            found[name] = object.__getattribute__(obj, name)
        except AttributeError:
            pass
    found.update(getattr(obj, "__dict__", {}))
    return found


# -- 1. dataclasses keep every attribute ---------------------------------------------------------------------
def test_dataclass_keeps_attributes_set_in_post_init() -> None:
    snap = Snapshotter()
    state = RaftState(term=2)
    state.votes.add(1)
    state.cache["k"] = 3
    back = snap.thaw(snap.freeze(state))
    assert back == state and back.votes == {1} and back.cache == {"k": 3}
    assert list(vars(back)) == ["term", "voted_for", "votes", "cache"]


def test_dataclass_keeps_attributes_added_after_construction() -> None:
    snap = Snapshotter()
    box = Box(1)
    box.extra = 5  # type: ignore[attr-defined]
    back = snap.thaw(snap.freeze(box))
    assert back.extra == 5 and _same(back, box)


def test_frozen_dataclass_keeps_every_attribute() -> None:
    snap = Snapshotter()
    entry = FrozenEntry(1, "x")
    back = snap.thaw(snap.freeze(entry))
    assert back == entry and back.key == (1, "x")  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.term = 2  # type: ignore[misc]
    assert hash(back) == hash(entry)


def test_restore_does_not_run_init_or_post_init_again() -> None:
    snap = Snapshotter()
    value = Counted(4)
    value.doubled = 100  # changed after construction: a second __post_init__ would reset it
    POST_INIT_CALLS.clear()
    back = snap.thaw(snap.freeze(value))
    assert POST_INIT_CALLS == [] and back.n == 4 and back.doubled == 100


def test_slots_dataclass_keeps_its_slots_and_leaves_unset_ones_unset() -> None:
    snap = Snapshotter()
    point = SlotPoint(1, 2)
    frozen = snap.freeze(point)
    assert frozen == ("dc", f"{__name__}.SlotPoint", ("x", "y", "label"), 1, 2, "p")
    back = snap.thaw(frozen)
    assert back == point and not hasattr(back, "__dict__")
    unset = object.__new__(SlotPoint)
    object.__setattr__(unset, "y", 7)
    back = snap.thaw(snap.freeze(unset))
    assert back.y == 7 and not hasattr(back, "x")


def test_dataclass_attributes_are_restored_in_insertion_order() -> None:
    snap = Snapshotter()
    box = Box(1)
    box.z = 1  # type: ignore[attr-defined]
    box.a = 2  # type: ignore[attr-defined]
    back = snap.thaw(snap.freeze(box))
    assert list(vars(back)) == ["value", "z", "a"]


def test_equal_dataclasses_freeze_equally() -> None:
    snap = Snapshotter()
    assert snap.freeze(RaftState(1)) == snap.freeze(RaftState(1))
    assert snap.freeze(RaftState(1)) != snap.freeze(RaftState(2))
    one, other = RaftState(1), RaftState(1)
    other.votes.add(2)  # equal as dataclasses (== compares fields), but not the same state
    assert snap.freeze(one) != snap.freeze(other)
    assert snap.freeze(snap.thaw(snap.freeze(other))) == snap.freeze(other)


def test_dataclass_shows_as_a_constructor_call_with_its_other_attributes() -> None:
    snap = Snapshotter()
    state = RaftState(3)
    state.votes.add(0)
    assert snap.show(snap.freeze(state)) == "RaftState(term=3, voted_for=None, votes={0}, cache={})"
    assert snap.show(snap.freeze(SlotPoint(1, 2))) == "SlotPoint(x=1, y=2, label='p')"


def test_an_unsnapshottable_attribute_that_is_not_a_field_is_named() -> None:
    class Holder(Node):
        def __init__(self) -> None:
            self.state = RaftState(0)
            self.state.on_vote = print  # type: ignore[attr-defined]

    with pytest.raises(InvalidStudentCode, match=r"^Holder\.state\.on_vote holds a function"):
        snapshot_node(new_node(Holder, 0, 1), Snapshotter())


class DataclassRaft(Node):
    """A natural port of a course Raft: its state in a dataclass whose ``__post_init__`` adds ``votes``."""

    def __init__(self) -> None:
        self.state = RaftState(term=0)

    def on_start(self, out: Out) -> None:
        if self.id == 0:
            out.set_timer("election")

    def on_timer(self, name: str, out: Out) -> None:
        self.state.term += 1
        self.state.votes = {self.id}
        out.broadcast(("vote?", self.state.term))

    def on_message(self, sender: int, message: Any, out: Out) -> None:
        if message[0] == "vote?":
            out.send(sender, ("vote", message[1]))
        elif message[1] == self.state.term:
            self.state.votes.add(sender)  # AttributeError when the snapshot lost `votes`


def test_a_node_with_dataclass_state_runs_as_plain_python_would() -> None:
    # Before: every delivery of a vote raised AttributeError (`votes` lost), blamed on the student.
    found = check_student(DataclassRaft, 3, max_timeouts=1, isolate=False, movers=False)  # every state
    assert found.verdict.value == "holds", found.violation
    # The start, then every downset of {ask n1 < n1's vote, ask n2 < n2's vote}: 1 + 3 * 3 states, the
    # ones where a vote was delivered (and added to state.votes) among them.
    assert found.result.complete and found.result.distinct_states == 10


# -- 2. dicts are kept by content; code that depends on their order is reported ------------------------------
def test_dicts_are_kept_by_content_in_a_canonical_order() -> None:
    snap = Snapshotter()
    assert snap.freeze({"b": 1, "a": 2}) == snap.freeze({"a": 2, "b": 1}) == ("d", ("a", 2), ("b", 1))
    assert list(snap.thaw(snap.freeze({2: "b", 0: "a", 1: "c"}))) == [0, 1, 2]
    assert list(Snapshotter(rotate_dicts=True).thaw(snap.freeze({2: "b", 0: "a", 1: "c"}))) == [1, 2, 0]
    assert snap.freeze({1: "x", "1": "y"}) == snap.freeze({"1": "y", 1: "x"})  # mixed key types: by their text


def test_dict_shows_in_its_canonical_order() -> None:
    assert show(Snapshotter().freeze({"z": [1], "a": {"b": None, "a": True}})) == \
        "{'a': {'a': True, 'b': None}, 'z': [1]}"


def test_sets_stay_canonical() -> None:
    snap = Snapshotter()
    assert snap.freeze({3, 1, 2}) == snap.freeze({2, 3, 1}) == ("s", 1, 2, 3)
    assert snap.freeze(frozenset({"b", "a"})) == ("f", "a", "b")
    assert snap.freeze({1, "a"}) == snap.freeze({"a", 1})


class FirstVoter(Node):
    """Leads with whoever voted first: ``next(iter(self.votes))``, which depends on the dict's insertion order."""

    def __init__(self) -> None:
        self.votes: dict[int, bool] = {}
        self.leader: int | None = None

    def on_message(self, sender: int, message: Any, out: Out) -> None:
        self.votes[sender] = True
        self.leader = next(iter(self.votes))

    def on_start(self, out: Out) -> None:
        if self.id != 0:
            out.send(0, "vote")


def test_a_handler_that_depends_on_a_dicts_order_is_reported_in_process() -> None:
    # The third vote finds two in the dict: which came first decides the leader.
    found = check_student(FirstVoter, 4, mode="exhaustive", isolate=False)
    v = found.violation
    assert v.property == "handlers-are-deterministic" and len(v.trace) == 3
    assert "did different things when run twice" in v.explanation and "a dict's key order" in v.explanation


def test_a_handler_that_depends_on_a_dicts_order_is_reported_by_the_workers(tmp_path: Path) -> None:
    student = tmp_path / "first_voter.py"
    student.write_text("from quorumcheck.models.actors import Node\n"
                       "class FirstVoter(Node):\n"
                       "    def __init__(self):\n"
                       "        self.votes = {}\n"
                       "        self.leader = None\n"
                       "    def on_start(self, out):\n"
                       "        if self.id != 0:\n"
                       "            out.send(0, 'vote')\n"
                       "    def on_message(self, sender, message, out):\n"
                       "        self.votes[sender] = True\n"
                       "        self.leader = next(iter(self.votes))\n")
    found = check_student(str(student), 4, mode="exhaustive")
    v = found.violation
    assert v.property == "handlers-are-deterministic" and len(v.trace) == 3
    assert v.explanation.endswith("self.leader became 1 in one and 2 in the other (hash(), set order, the clock, "
                                  "random, id(), or a dict's key order?)")


MIDDLE_VOTER = """\
from quorumcheck.models.actors import Node
class MiddleVoter(Node):
    def __init__(self):
        self.votes = {}
        self.leader = None
    def on_start(self, out):
        if self.id != 0:
            out.send(0, 'vote')
    def on_message(self, sender, message, out):
        if len(self.votes) == 3:
            self.leader = list(self.votes)[1]  # the middle of three keys: the same key in sorted and reversed order
        self.votes[sender] = True
"""


@pytest.mark.parametrize("isolate", [False, True])
def test_a_handler_that_reads_the_middle_of_three_keys_is_reported(tmp_path: Path, isolate: bool) -> None:
    student = tmp_path / "middle_voter.py"
    student.write_text(MIDDLE_VOTER)
    found = check_student(str(student), 5, mode="exhaustive", isolate=isolate)
    v = found.violation
    assert v is not None and v.property == "handlers-are-deterministic" and len(v.trace) == 4
    assert "self.leader became 2 in one and 3 in the other" in v.explanation


class DictBroadcaster(Node):
    """Broadcasts by looping over a dict's keys, as a Raft leader loops over ``next_index``: a restored dict
    iterates in another order, but the messages to each node are the same, in the same order."""

    def __init__(self) -> None:
        self.next_index = {p: 1 for p in self.peers}
        self.rounds = 0

    def on_start(self, out: Out) -> None:
        if self.id == 0:
            out.set_timer("beat")

    def on_timer(self, name: str, out: Out) -> None:
        self.rounds += 1
        for peer in self.next_index:
            out.send(peer, ("append", self.rounds))
            out.send(peer, ("commit", self.rounds))


@pytest.mark.parametrize("network", ["ordered", "unordered"])
def test_a_broadcast_in_a_dicts_order_is_not_reported(network: str) -> None:
    found = check_student(DictBroadcaster, 3, mode="exhaustive", isolate=False, network=network, max_timeouts=2)
    assert found.violation is None and found.verdict.value == "holds"


RESENDER = """\
from quorumcheck.models.actors import Node
class Resender(Node):
    def __init__(self):
        self.pending = {}
        self.acked = set()
    def on_start(self, out):
        if self.id == 0:
            self.pending = {"r2": "b", "r1": "a", "r3": "c"}
            out.send(0, "resend")
    def on_message(self, sender, message, out):
        if message == "resend":
            for rid, value in self.pending.items():  # several messages to one node, in the dict's order
                out.send(1, ("req", rid, value))
        elif message[0] == "req":
            self.acked.add(message[1])
"""


@pytest.mark.parametrize("isolate", [False, True], ids=["in-process", "workers"])
@pytest.mark.parametrize("network, nondeterministic", [("unordered", False), ("unordered-duplicating", False),
                                                       ("ordered", True)])
def test_the_order_of_messages_to_one_node_matters_only_on_fifo_channels(tmp_path: Path, isolate: bool, network: str,
                                                                        nondeterministic: bool) -> None:
    # A bag keeps no order: the same messages to one node in another order were reported as nondeterminism.
    (tmp_path / "resender.py").write_text(RESENDER)
    found = check_student(str(tmp_path / "resender.py"), 2, mode="exhaustive", isolate=isolate, network=network)
    if nondeterministic:
        assert found.violation is not None and found.violation.property == "handlers-are-deterministic"
        assert """ in the other (""" in found.violation.explanation and "to n1" in found.violation.explanation
    else:
        assert found.violation is None and found.verdict.value == "holds"


# -- 3. id and peers are reserved ---------------------------------------------------------------------------
PEERS_MESSAGE = ("{cls} sets self.peers, which quorumcheck reserves (it holds the other nodes' numbers); "
                 "keep your own list under another name, e.g. self.members")
ID_MESSAGE = ("{cls} sets self.id, which quorumcheck reserves (it holds this node's number); "
              "keep your own value under another name, e.g. self.name")


class OwnPeers(Node):
    def __init__(self) -> None:
        self.peers = [p for p in range(5) if p != self.id]  # type: ignore[assignment]


class Renumbers(Node):
    def __init__(self) -> None:
        self.count = 0

    def on_timer(self, name: str, out: Out) -> None:
        self.id = self.id + 10


class ForgetsPeers(Node):
    def on_start(self, out: Out) -> None:
        del self.peers


def test_setting_peers_in_init_is_an_error_naming_class_and_attribute() -> None:
    with pytest.raises(InvalidStudentCode) as info:
        snapshot_node(new_node(OwnPeers, 0, 3), Snapshotter())
    assert str(info.value) == PEERS_MESSAGE.format(cls="OwnPeers")


def test_setting_id_in_a_handler_after_a_restore_is_an_error() -> None:
    snap = Snapshotter()
    node = restore_node(Renumbers, 1, 3, snapshot_node(new_node(Renumbers, 1, 3), snap), snap)
    snapshot_node(node, snap)  # untouched: fine
    node.on_timer("t", Out(node, 3, snap))
    with pytest.raises(InvalidStudentCode) as info:
        snapshot_node(node, snap)
    assert str(info.value) == ID_MESSAGE.format(cls="Renumbers")


def test_deleting_peers_is_an_error() -> None:
    snap = Snapshotter()
    node = new_node(ForgetsPeers, 0, 2)
    node.on_start(Out(node, 2, snap))
    with pytest.raises(InvalidStudentCode, match=r"^ForgetsPeers deletes self\.peers, which quorumcheck reserves"):
        snapshot_node(node, snap)


@pytest.mark.parametrize("same", [
    lambda node: setattr(node, "peers", tuple(node.peers)),
    lambda node: setattr(node, "peers", tuple(p for p in node.peers)),
    lambda node: setattr(node, "id", int(str(node.id))),
])
def test_setting_them_to_what_quorumcheck_set_is_fine(same: Any) -> None:
    node = new_node(Node, 1, 3)
    same(node)
    assert snapshot_node(node, Snapshotter()) == ()


@pytest.mark.parametrize("change", [
    lambda node: setattr(node, "peers", list(node.peers)),
    lambda node: setattr(node, "peers", (0, 2, 3)),
    lambda node: setattr(node, "peers", (2, 0)),
    lambda node: setattr(node, "id", True),
    lambda node: setattr(node, "id", 1.0),
])
def test_any_other_value_is_an_error(change: Any) -> None:
    node = new_node(Node, 1, 3)
    change(node)
    with pytest.raises(InvalidStudentCode, match="which quorumcheck reserves"):
        snapshot_node(node, Snapshotter())


def test_the_reserved_check_holds_for_every_node_of_a_run() -> None:
    snap = Snapshotter()
    nodes = [restore_node(Node, i, 4, (), snap) for i in range(4)] + [new_node(Node, i, 4) for i in range(4)]
    assert [snapshot_node(n, snap) for n in nodes] == [()] * 8
    assert [n.peers for n in nodes[:4]] == [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]


def test_the_reserved_values_are_forgotten_with_their_node() -> None:
    gc.collect()
    before = len(actors._RESERVED)
    nodes = [new_node(Node, 0, 2) for _ in range(50)]
    assert len(actors._RESERVED) == before + 50
    del nodes
    gc.collect()
    assert len(actors._RESERVED) == before


def _reported(node: type[Node]) -> str:
    """What a check of ``node`` says: the InvalidStudentCode it raises, or the finding it reports."""
    try:
        found = check_student(node, 3, protocol="paxos", requests=1, max_timeouts=0, isolate=False)
    except InvalidStudentCode as e:
        return str(e)
    assert found.violation is not None, "a node that sets self.peers must not pass"
    return str(found.violation.explanation)


def test_a_check_of_a_node_that_sets_peers_says_so() -> None:
    from pathlib import Path

    from quorumcheck.models.actor_model import load_student_file

    paxos = load_student_file(Path(__file__).resolve().parent.parent / "examples" / "paxos.py")

    class MyPaxos(paxos.PaxosNode):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.peers = sorted(self.peers)

    assert PEERS_MESSAGE.format(cls="MyPaxos") in _reported(MyPaxos)


# -- properties: freeze and thaw ----------------------------------------------------------------------------
_scalars = (st.integers(-5, 5) | st.floats(allow_nan=False, width=32) | st.text(max_size=3)
            | st.binary(max_size=2) | st.booleans() | st.none() | st.sampled_from(Color))
_hashables = st.recursive(
    _scalars,
    lambda inner: (st.tuples(inner, inner) | st.frozensets(inner, max_size=3)
                   | st.builds(Pair, inner, inner) | st.lists(inner, max_size=3).map(tuple)),
    max_leaves=6,
)
_names = st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True)


def _boxed(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A dataclass with a field and up to three attributes that are not fields."""

    def build(value: Any, extra: dict[str, Any]) -> Box:
        box = Box(value)
        for name, v in extra.items():
            setattr(box, name, v)
        return box

    return st.builds(build, inner, st.dictionaries(_names.filter(lambda n: n != "value"), inner, max_size=3))


_values = st.recursive(
    _hashables,
    lambda inner: (st.lists(inner, max_size=4) | st.dictionaries(_hashables, inner, max_size=4)
                   | st.sets(_hashables, max_size=4) | _boxed(inner) | st.builds(Pair, inner, inner)),
    max_leaves=20,
)


def _reordered(value: Any) -> Any:
    """An equal value with every set, frozenset and dict built in another insertion order."""
    t = type(value)
    if t in (set, frozenset):
        return t(reversed([_reordered(v) for v in value]))
    if t is dict:
        return {_reordered(k): _reordered(v) for k, v in reversed(list(value.items()))}
    if t in (list, tuple):
        return t(_reordered(v) for v in value)
    if t is Pair:
        return Pair(*(_reordered(v) for v in value))
    if t is Box:
        box = Box(_reordered(value.value))
        for name, v in vars(value).items():
            setattr(box, name, _reordered(v))
        return box
    return value


@settings(max_examples=150, deadline=None)
@given(_values)
def test_thaw_gives_back_the_frozen_value_with_its_types(value: Any) -> None:
    snap = Snapshotter()
    frozen = snap.freeze(value)
    hash(frozen)
    back = snap.thaw(frozen)
    assert _same(back, value)
    assert snap.freeze(back) == frozen


@settings(max_examples=150, deadline=None)
@given(_values)
def test_equal_values_freeze_equally_whatever_their_set_and_dict_order(value: Any) -> None:
    snap = Snapshotter()
    assert snap.freeze(_reordered(value)) == snap.freeze(value)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(_hashables, _hashables | st.lists(_scalars, max_size=2), min_size=2, max_size=5))
def test_dicts_in_other_orders_freeze_equally_and_thaw_in_both_orders(value: dict[Any, Any]) -> None:
    snap = Snapshotter()
    frozen = snap.freeze(value)
    assert snap.freeze(dict(reversed(list(value.items())))) == frozen
    forward = snap.thaw(frozen)
    snap.rotate_dicts = True
    other = snap.thaw(frozen)
    assert forward == other == value and list(other) == list(forward)[1:] + list(forward)[:1]
    # every position holds another key, so code that reads any one position sees the difference
    assert all(a != b for a, b in zip(list(forward), list(other)))


_printable = st.recursive(
    st.integers() | st.text(max_size=4) | st.booleans() | st.none() | st.binary(max_size=3)
    | st.floats(allow_nan=False),
    lambda inner: (st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
                   | st.dictionaries(st.integers() | st.text(max_size=3), inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(_printable)
def test_show_prints_values_as_python_prints_them_restored(value: Any) -> None:
    snap = Snapshotter()
    frozen = snap.freeze(value)
    assert show(frozen) == repr(snap.thaw(frozen))


@given(st.floats(allow_nan=False))
def test_floats_keep_their_sign_and_value(x: float) -> None:
    snap = Snapshotter()
    back = snap.thaw(snap.freeze({"x": x}))["x"]
    assert back == x and math.copysign(1.0, back) == math.copysign(1.0, x)


# -- a float is not the int it equals ----------------------------------------------------------------------
def _typed(value: Any) -> Any:
    """``value`` with every scalar paired with its type (and a float's sign), sets and dicts by content."""
    t = type(value)
    if t is float:
        return ("float", repr(value))
    if t in (list, tuple):
        return (t.__name__, tuple(_typed(v) for v in value))
    if t in (set, frozenset):
        return (t.__name__, frozenset(_typed(v) for v in value))
    if t is dict:
        return ("dict", frozenset((_typed(k), _typed(v)) for k, v in value.items()))
    return (t.__name__, value)


_numbers = st.integers(-2, 2) | st.floats(-2, 2).map(lambda x: float(round(x))) | st.booleans() | st.just(-0.0)
_numeric = st.recursive(_numbers, lambda inner: st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
                        | st.dictionaries(_numbers, inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(_numeric, _numeric)
def test_values_freeze_equally_only_when_they_are_the_same_types_and_values(a: Any, b: Any) -> None:
    # 1 == 1.0 == True and 0.0 == -0.0 in Python, with equal hashes: were they frozen alike, a state reached with
    # the float would be taken for the one with the int, and a path only the float takes would never run.
    snap = Snapshotter()
    assert (snap.freeze(a) == snap.freeze(b)) == (_typed(a) == _typed(b))
    assert _typed(snap.thaw(snap.freeze(a))) == _typed(a)


class Halver(Node):
    """Node 1 gets "a-reset" and "b-halve" in either order. Halving first leaves 1.0 where reset first leaves 1, so
    both orders end in states equal in Python (1.0 == 1); then a timer slices by the step, which raises for 1.0."""

    def __init__(self) -> None:
        self.step = 2
        self.seen = 0

    def on_start(self, out: Out) -> None:
        if self.id == 0:
            out.send(1, "a-reset")
            out.send(1, "b-halve")

    def on_message(self, sender: int, message: Any, out: Out) -> None:
        if message == "a-reset" and self.step == 2:
            self.step = 1
        elif message == "b-halve" and self.step == 2:
            self.step = self.step / 2
        self.seen += 1
        if self.seen == 2:
            out.set_timer("retry")

    def on_timer(self, name: str, out: Out) -> None:
        out.send(0, ["a", "b"][self.step:])


def test_a_float_state_is_not_merged_with_the_int_it_equals() -> None:
    found = check_student(Halver, 2, mode="exhaustive", isolate=False, network="unordered", max_timeouts=1)
    v = found.violation
    assert v is not None and v.property == "handlers-do-not-crash" and len(v.trace) == 3
    assert [str(step.action) for step in v.trace.steps[1:]][:2] == ["Deliver(from=n0, to=n1, msg='b-halve')",
                                                                    "Deliver(from=n0, to=n1, msg='a-reset')"]
    assert "slice indices must be integers" in v.explanation


class Caps(enum.Flag):
    VOTE = 1
    LEAD = 2


def test_a_combination_of_flag_members_is_kept_by_value() -> None:
    # It froze as the name 'VOTE|LEAD', which no member has: restoring it raised KeyError inside quorumcheck,
    # reported as the correct node's crash.
    snap = Snapshotter()
    for value in (Caps.VOTE | Caps.LEAD, Caps(0), Caps.VOTE):
        back = snap.thaw(snap.freeze(value))
        assert back is value or back == value
    assert show(snap.freeze(Caps.VOTE | Caps.LEAD)) == str(Caps.VOTE | Caps.LEAD) == "Caps.VOTE|LEAD"
    assert show(snap.freeze(Caps(0))) == "Caps(0)" and show(snap.freeze(Caps.LEAD)) == "Caps.LEAD"


def test_two_nans_in_a_set_or_among_dict_keys_cannot_be_kept() -> None:
    # Restored through the wire, every NaN is one object: {nan, nan} (two elements in Python) came back with one.
    from quorumcheck.models.actors import Unsnapshottable

    snap = Snapshotter()
    assert snap.freeze({float("nan"), 1}) is not None and snap.freeze({"x": float("nan")}) is not None
    for value in ({float("nan"), float("nan")}, {(1, float("nan")): 0, (2, float("nan")): 1}):
        with pytest.raises(Unsnapshottable) as info:
            snap.freeze(value)
        assert "two NaNs in one set or among one dict's keys" in info.value.describe("self.marks")


@dataclasses.dataclass(eq=False)
class VotesSet(set):  # type: ignore[type-arg]
    """A set that also carries a term: a dataclass whose contents are no attribute."""

    term: int = 0


@dataclasses.dataclass
class Entries(list):  # type: ignore[type-arg]
    term: int = 0


def test_a_dataclass_that_is_also_a_set_list_or_dict_cannot_be_kept() -> None:
    # Kept as a dataclass, its elements were lost (VotesSet(term=0)), and restoring it called object.__new__ on
    # a set subclass: TypeError inside a correct node's handler, reported as the student's crash.
    from quorumcheck.models.actors import Unsnapshottable

    snap = Snapshotter()
    for value, builtin in ((VotesSet(), "set"), (Entries(), "list")):
        value.extend([1]) if isinstance(value, list) else value.add(1)
        with pytest.raises(Unsnapshottable) as info:
            snap.freeze(value)
        assert info.value.describe("self.votes") == (
            f"self.votes holds a {type(value).__name__} dataclass that is also a {builtin} (a snapshot keeps a "
            f"dataclass's attributes, not a {builtin}'s contents; hold the {builtin} in a field instead)")


class _Info(NamedTuple):
    term: int


class Info(_Info):  # no __slots__ = (): its instances take attributes besides the fields
    pass


class SlottedInfo(_Info):
    __slots__ = ()


def test_a_named_tuple_holding_attributes_besides_its_fields_cannot_be_kept() -> None:
    # Kept by its fields alone, info.lenient came back unset: a node that voted twice once it was set held (red
    # team, round 8).
    from quorumcheck.models.actors import Unsnapshottable

    snap = Snapshotter()
    info = Info(1)
    assert snap.thaw(snap.freeze(info)) == info  # without attributes it is a named tuple like any other
    info.lenient = True  # type: ignore[attr-defined]
    with pytest.raises(Unsnapshottable) as caught:
        snap.freeze(info)
    assert caught.value.describe("self.info") == (
        "self.info holds an instance of Info, a named tuple with attributes besides its fields (a snapshot keeps a "
        "named tuple's fields only; add them as fields, or give the subclass __slots__ = ())")
    assert snap.thaw(snap.freeze(SlottedInfo(2))) == SlottedInfo(2)


def test_classes_inherited_from_a_zygote_act_as_if_learned_here() -> None:
    # A fresh process for one handler call inherits what its zygote learned of its classes (going over them
    # again cost every process a page copy per class) and learns only its own.
    import collections

    from quorumcheck.models.actors import Unsnapshottable, learned_classes

    zygote_twin, own_twin = collections.namedtuple("Twin", "a"), collections.namedtuple("Twin", "a")
    learned = learned_classes([SlottedInfo, Info, int, Entries, zygote_twin])
    frozen = Snapshotter().freeze(SlottedInfo(3))
    fresh = Snapshotter()
    fresh.inherit(learned)
    fresh.learn([own_twin])
    thawed = fresh.thaw(frozen)
    assert thawed == SlottedInfo(3) and type(thawed) is SlottedInfo
    # One learned here shares the key of one inherited: neither thaws by it; the first frozen is the one it names.
    with pytest.raises(InvalidStudentCode, match="cannot restore a .*Twin: two classes of that name exist"):
        fresh.thaw(Snapshotter().freeze(own_twin(1)))
    assert type(fresh.thaw(fresh.freeze(own_twin(1)))) is own_twin
    with pytest.raises(Unsnapshottable):
        fresh.freeze(zygote_twin(1))
    # A class made later with the key of an inherited one is refused, as if that one had been learned here.
    later = Snapshotter()
    later.inherit(learned)
    late_info = collections.namedtuple("SlottedInfo", SlottedInfo._fields, module=SlottedInfo.__module__)
    with pytest.raises(Unsnapshottable):
        later.freeze(late_info(3))
    assert type(later.thaw(frozen)) is SlottedInfo


def test_classes_learned_ahead_thaw_where_none_was_frozen() -> None:
    # A worker started during the run (or a fresh copy of the loaded code for each call) thaws what other
    # processes froze: it learns every class at load. Two that a snapshot cannot tell apart are left to be named
    # when one is frozen.
    import collections

    frozen = Snapshotter().freeze(SlottedInfo(3))
    fresh = Snapshotter()
    assert len(fresh.learn([SlottedInfo, Info, int, Entries])) == 2  # the keys of the two named tuples
    assert fresh.thaw(frozen) == SlottedInfo(3) and type(fresh.thaw(frozen)) is SlottedInfo
    first, second = collections.namedtuple("Twin", "a"), collections.namedtuple("Twin", "a")
    both = Snapshotter()
    both.learn([first, second])
    with pytest.raises(InvalidStudentCode, match=r"^cannot restore a (tests\.)?test_snapshots\.Twin: two classes of "
                                                 r"that name exist, .* give each class a name of its own"):
        both.thaw(Snapshotter().freeze(first(1)))
    both.freeze(first(1))
    from quorumcheck.models.actors import Unsnapshottable

    with pytest.raises(Unsnapshottable):
        both.freeze(second(1))


def test_named_tuples_of_one_factory_are_told_apart_by_their_fields() -> None:
    # namedtuple("Msg", fields) for every message type: the snapshot kept a class by its name only, so a Prepare
    # came back as a Promise (TypeError: Expected 2 arguments, got 1, reported as the student's crash).
    import collections

    from quorumcheck.models.actors import Unsnapshottable

    prepare = collections.namedtuple("Msg", "ballot")  # type: ignore[name-match]
    promise = collections.namedtuple("Msg", "ballot accepted")  # type: ignore[name-match]
    snap = Snapshotter()
    frozen = [snap.freeze(prepare(1)), snap.freeze(promise(1, None))]
    back = [snap.thaw(f) for f in frozen]
    assert [type(b) for b in back] == [prepare, promise] and back == [(1,), (1, None)]
    accept = collections.namedtuple("Msg", "ballot value")  # type: ignore[name-match]
    accepted = collections.namedtuple("Msg", "ballot value")  # type: ignore[name-match]
    snap.freeze(accept(1, "v"))
    with pytest.raises(Unsnapshottable) as info:  # the same name and fields: nothing tells them apart
        snap.freeze(accepted(1, "v"))
    assert info.value.describe("message") == (
        "message holds an instance of a second class named test_snapshots.Msg (with the same fields): a snapshot "
        "keeps an object by its class's name, so it could come back as the other class; give each class a name of "
        "its own")


def test_a_set_holding_nan_freezes_alike_whatever_its_iteration_order() -> None:
    # A NaN is neither below, above nor equal to anything, and its hash is its object's address, so another process
    # iterates the same set in another order and sorted() left the NaN where iteration put it: a correct handler
    # was called nondeterministic (red-team round 15). The elements are put in one order from any order.
    import itertools

    snap = Snapshotter()
    frozen = [snap.freeze(v) for v in (float("nan"), 0.5, 2.5, -1.0)]
    orders = {repr(actors._canonical(list(order))) for order in itertools.permutations(frozen)}
    assert orders == {"[('fl', -1.0), ('fl', 0.5), ('fl', 2.5), ('fl', nan)]"}
