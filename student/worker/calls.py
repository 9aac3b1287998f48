"""Running one handler call on one node snapshot, beside the student's code.

:class:`NodeRunner` is what a worker does for the trusted side: it builds the
nodes (:meth:`NodeRunner.start`), and for a request "node ``i`` in snapshot
``s`` receives event ``e``" restores a fresh node from the snapshot, calls the
handler contained (:func:`~quorumcheck.student.worker.containment.call_contained`),
and answers with plain data: the new snapshot, the sends, the timer
operations, what the observation contract reads from the node, or the
failure. It also watches the state *outside* the nodes (:class:`OutsideState`):
module globals, class attributes, closures and default arguments of the
student's code; a call that changes any of them is reported as
``state-outside-node``, naming the variable.

Events: ``("s",)`` start, ``("c",)`` start after a crash (the snapshot holds
the durable attributes), ``("m", sender, message)``, ``("t", timer)``,
``("r", value)``.

Examples
--------
>>> from quorumcheck.models.actors import Node
>>> class Echo(Node):
...     def __init__(self):
...         self.seen = 0
...     def on_message(self, sender, message, out):
...         self.seen += 1
...         out.send(sender, message)
>>> runner = NodeRunner((Echo, Echo), "none", {}, handler_timeout=1.0)
>>> runner.start()["names"]
('Echo', 'Echo')
>>> answer = runner.call(1, (("seen", 0),), ("m", 0, "hi"))
>>> answer["snapshot"], answer["sends"], answer["failure"]
((('seen', 1),), ((0, 'hi'),), None)
"""

from __future__ import annotations

import enum
import functools
import gc
import itertools
import operator
import pickle
import os
import random
import sys
import types
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

from quorumcheck.errors import InvalidStudentCode
from quorumcheck.models.actors import FRAMEWORK_ATTRIBUTES, Node, Out, Snapshotter, new_node, restore_node, \
    orders_itself, snapshot_node
from quorumcheck.models.observe import computed_fields, contract_named, renamed

from quorumcheck.student.wire import MAX_SENDS, MAX_TIMER_CALLS

from .containment import call_contained, collector_paused, is_search_limit, new_call, time_limit

__all__ = ["NodeRunner", "OutsideState", "failed", "note_folders"]


class NodeRunner:
    """Builds and runs the student's nodes, one handler call at a time, answering in plain data.

    Parameters
    ----------
    classes : sequence of Node subclasses
        The class of each node.
    protocol : str
        The observation contract (``"paxos"``, ``"raft"``, ``"none"``).
    settings : dict
        The contract's settings (values, bounds), as the trusted side's contract has them.
    handler_timeout : float
        Seconds one call may take before it is interrupted here.
    watch_outside : bool, default True
        Report calls that change state outside the nodes (module, class, closure state).
    rotate_dicts : bool, default False
        Restore dicts in sorted key order rotated by one, so that every position holds another key (the
        determinism check's second worker: a handler whose effect depends on a dict's insertion order then
        differs between the two).
    """

    def __init__(self, classes: Sequence[type[Node]], protocol: str, settings: dict[str, Any], *,
                 handler_timeout: float = 1.0, watch_outside: bool = True, interruptible: bool = False,
                 rotate_dicts: bool = False) -> None:
        self.classes = tuple(classes)
        self.count = len(self.classes)
        self.snapshotter = Snapshotter(rotate_dicts=rotate_dicts)
        self.contract = contract_named(protocol)(self.classes, self.snapshotter, **settings)
        self.handler_timeout = handler_timeout
        self.interruptible = interruptible
        self.outside = OutsideState(self.classes, self.snapshotter) if watch_outside else None
        self.computed: tuple[tuple[str, ...], ...] = ((),) * self.count

    def start(self, *, facts: bool = True) -> dict[str, Any]:
        """Build a fresh node of each class: their names, durable attributes, who takes requests, the roles (with
        ``facts``, also what :func:`_class_facts` finds)."""
        started: list[Node] = []
        unbuilt: list[int] = []
        for i, cls in enumerate(self.classes):
            # A node that cannot even be built is reported by the first call ("s"), with the schedule.
            call_contained(lambda: started.append(new_node(cls, i, self.count)), (),  # noqa: B023
                           time_limit=self.handler_timeout, interruptible=self.interruptible)
            if len(started) <= i:
                started.append(Node())
                unbuilt.append(i)
                continue
            # Its roles are what it has once started: on_start too (what it sends here goes nowhere). A failing
            # on_start is reported by the first call, too.
            node = started[i]
            call_contained(lambda: node.on_start(Out(node, self.count, self.snapshotter)), (),  # noqa: B023
                           time_limit=self.handler_timeout, interruptible=self.interruptible)
        roles = self.contract.roles(started)
        if unbuilt:  # its roles are unknown: a protocol missing a role is then the failure's finding, not an error
            roles["unbuilt"] = tuple(unbuilt)
        self.contract.adopt(roles)
        self.computed = tuple(computed_fields(c, self.contract.fields_of(i)) for i, c in enumerate(self.classes))
        if self.outside is not None:
            self.outside.rebase()
        return {
            "names": tuple(c.__name__ for c in self.classes),
            "durable": tuple(tuple(getattr(c, "durable", ())) for c in self.classes),
            "requestable": tuple(callable(getattr(c, "on_request", None)) for c in self.classes),
            "roles": roles,
            "renames": tuple({f: renamed(c, f) for f in self.contract.fields_of(i) if renamed(c, f) != f}
                             for i, c in enumerate(self.classes)),
            "computed": self.computed,
            # In a worker every module from the submission's folder is the student's; in this process (tests,
            # a student's own script) only the node classes' modules are.
            **(_class_facts(self.classes, folders=not self.interruptible) if facts else {}),
        }

    def call(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> dict[str, Any]:
        """Node ``i``, restored from ``snapshot``, handles ``event``: what it did, as plain data.

        The answer's keys: ``snapshot``, ``sends`` (``(receiver, frozen message)``), ``timers``
        (``("set" | "cancel", name)``), ``computed`` (the contract fields the class computes with a method or
        property, read here; the trusted side reads the others from the snapshot), ``failure`` (``None``, or ``(kind, text)`` with
        kind ``exception``, ``timeout``, ``memory``, ``untestable`` or ``outside``).
        """
        cls, n, snap = self.classes[i], self.count, self.snapshotter
        box: list[Any] = []
        returned: list[Any] = []
        kind = event[0]

        def call() -> None:
            returned.clear()
            if kind in ("s", "c"):
                node = new_node(cls, i, n)
                for name, frozen in snapshot:  # a restart puts back the durable attributes
                    node.__dict__[name] = snap.thaw(frozen)
                out = Out(node, n, snap)
                box.append((node, out))
                returned.append(node.on_start(out))
            else:
                node = restore_node(cls, i, n, snapshot, snap)
                out = Out(node, n, snap)
                box.append((node, out))
                if kind == "m":
                    returned.append(node.on_message(event[1], snap.thaw(event[2]), out))
                elif kind == "t":
                    returned.append(node.on_timer(event[1], out))
                else:
                    returned.append(node.on_request(snap.thaw(event[1]), out))  # type: ignore[attr-defined]

        if self.outside is not None:  # what changed between calls is not this call's doing (in-process: the
            self.outside.rebase()      # caller's own script may set a global of the module that holds the classes)
        new_call()
        generator = random.getstate()
        failure = call_contained(call, (), time_limit=self.handler_timeout, interruptible=self.interruptible)
        changed = self.outside.changed() if self.outside is not None else None
        if failure is not None and failure.kind == "timeout" and changed is None:
            # The limit is CPU time, which load does not stretch, but its wall-clock backstop is not, and CPU time
            # varies a little between runs; a call that cannot finish misses the limit twice. The call starts
            # again from the same snapshot (handlers are deterministic), so only a second miss is a finding.
            box.clear()
            failure = call_contained(call, (), time_limit=self.handler_timeout, interruptible=self.interruptible)
            changed = self.outside.changed() if self.outside is not None else None
        if random.getstate() != generator and failure is None:
            random.setstate(generator)
            return failed(snapshot, ("nondeterministic", "drew from the shared random generator (random.random(), "
                                      "random.choice(), ...): a handler must do the same on the same node state and "
                                      "input; to randomise, derive choices from the node's state"))
        if box and box[0][1].error is not None:  # a message that cannot be snapshotted, whatever the handler did
            return failed(snapshot, ("untestable", str(box[0][1].error)))
        if failure is not None:
            return failed(snapshot, (failure.kind, failure.verb))
        if changed is not None:
            return failed(snapshot, ("outside", changed))
        node, out = box[0]
        try:
            with collector_paused(), time_limit(self.handler_timeout):
                frozen = snapshot_node(node, snap)
                computed = tuple((f, self.contract.read(i, node, f)) for f in self.computed[i])
                late = self.contract.taken_up_late(i, node)  # a computed field (a property) that works only now
        except InvalidStudentCode as e:
            return failed(snapshot, ("untestable", str(e)))
        except BaseException as e:  # noqa: BLE001 - a property or method the contract read raised
            if self.interruptible and (isinstance(e, KeyboardInterrupt) or is_search_limit(e)):
                raise
            return failed(snapshot, ("untestable", f"reading the node's state raised {type(e).__name__}: {e}"))
        changed = self.outside.changed() if self.outside is not None else None
        if changed is not None:
            return failed(snapshot, ("outside", changed))
        if late is not None:
            return failed(snapshot, ("untestable", late))
        if len(out.sends) > MAX_SENDS:
            return failed(snapshot, ("untestable", f"sent {len(out.sends):,} messages in one call; quorumcheck takes "
                                                   f"at most {MAX_SENDS:,} (each message in flight is a step to "
                                                   "explore from every state that holds it)"))
        if len(out.timers) > MAX_TIMER_CALLS:
            return failed(snapshot, ("untestable", f"set or cancelled timers {len(out.timers):,} times in one call; "
                                                   f"quorumcheck takes at most {MAX_TIMER_CALLS:,} (a node needs a "
                                                   "few: an election timer, a heartbeat)"))
        # What a handler returns is ignored; that it returned something is worth a word (messages returned instead
        # of sent with `out` go nowhere). Only the type's name crosses, and it feeds a notice, never the verdict.
        gave = type(returned[0]).__name__[:40] if returned and returned[0] is not None else None
        return {"snapshot": frozen, "sends": tuple(out.sends), "timers": tuple(out.timers), "computed": computed,
                "failure": None, "returned": gave}


def _class_facts(classes: Sequence[type[Node]], *, folders: bool) -> dict[str, tuple[str, ...]]:
    """What the trusted side needs to know of the student's classes (those of the node classes' modules, and with
    ``folders`` of every module from their files' folders), which it never sees:

    ``orders_itself``
        those that order themselves otherwise than their snapshots do
        (:func:`~quorumcheck.models.actors.orders_itself`), by their snapshot names (``"module.Qualname"``): the
        trusted side cannot rank such ballots;
    ``ambiguous_names``
        the short names two or more of them share (a ``Ping`` named tuple and a ``Ping`` dataclass): messages of
        those classes are shown with their qualified names, or two steps would print alike.
    """
    own = [m for m in dict.fromkeys(sys.modules.get(c.__module__) for c in classes) if m is not None]
    modules = own
    if folders:
        places = [_folder_of(m.__file__) for m in own if isinstance(getattr(m, "__file__", None), str)]
        modules = [m for m in list(sys.modules.values())
                   if isinstance(getattr(m, "__file__", None), str)
                   and any(_folder_of(m.__file__) == p or _folder_of(m.__file__).startswith(p + os.sep)
                           for p in places)]
    names = {m.__name__ for m in modules}
    if folders:  # a worker's heap is the student's: every class of theirs that exists, wherever it is kept
        found = [v for v in gc.get_objects() if isinstance(v, type)]
    else:  # this process's heap is the search's: the modules' classes, and the classes nested in them
        found, todo = [], [v for m in modules for v in list(vars(m).values()) if isinstance(v, type)]
        while todo:
            cls = todo.pop()
            if isinstance(cls.__module__, str) and cls.__module__ in names and cls not in found:
                found.append(cls)
                todo.extend(v for v in list(vars(cls).values()) if isinstance(v, type))
    by_name: dict[str, set[str]] = {}
    ordering = set()
    for c in found:
        module, name, qualname = (getattr(c, "__dict__", {}).get(k, getattr(c, k, None))
                                  for k in ("__module__", "__name__", "__qualname__"))
        if not (type(module) is str and type(name) is str and type(qualname) is str and module in names):
            continue  # not a class of theirs, or one whose names are not text (a class's own business)
        by_name.setdefault(name, set()).add(f"{module}.{qualname}")
        try:
            if orders_itself(c):
                ordering.add(f"{module}.{qualname}")
        except Exception:  # noqa: BLE001 - a metaclass that raises on attribute access: it may order itself
            ordering.add(f"{module}.{qualname}")
    return {"orders_itself": tuple(sorted(ordering)),
            "ambiguous_names": tuple(sorted(name for name, paths in by_name.items() if len(paths) > 1))}


def failed(snapshot: tuple[Any, ...], failure: tuple[str, str]) -> dict[str, Any]:
    """The answer of a call that failed: the node unchanged, nothing sent, and why (``(kind, text)``)."""
    return {"snapshot": snapshot, "sends": (), "timers": (), "computed": (), "failure": failure}


# -- state outside the nodes ---------------------------------------------------------------------------
class OutsideState:
    """The state of the student's code that is not in any node: watched for changes between calls.

    Watched: every module loaded from the student's folder (its globals, and
    the set of its global names), the node classes and the classes those
    modules define (their attributes that are not functions), and the
    closures and default arguments of the functions and methods there.
    Module, class and closure state is invisible to node snapshots, so a call
    that changes it makes the search unsound; :meth:`changed` names it.

    Examples
    --------
    >>> import types
    >>> from quorumcheck.models.actors import Node
    >>> module = types.ModuleType("student_mod")
    >>> module.CALLS = 0
    >>> class Counting(Node):
    ...     pass
    >>> Counting.__module__ = "student_mod"
    >>> watch = OutsideState((Counting,), Snapshotter(), modules=[module])
    >>> watch.changed() is None
    True
    >>> module.CALLS += 1
    >>> watch.changed()
    'changed the module global student_mod.CALLS from 0 to 1 (state outside the node: keep it in self)'
    """

    def __init__(self, classes: Sequence[type], snapshotter: Snapshotter,
                 modules: Sequence[types.ModuleType] | None = None) -> None:
        self.snapshotter = snapshotter
        self.modules = list(modules) if modules is not None else _student_modules(classes)
        seen: dict[type, None] = {}
        for cls in classes:
            for k in cls.__mro__:
                if k is not object and k is not Node:
                    seen[k] = None
        for module in self.modules:
            for value in vars(module).values():
                if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                    seen[value] = None
        self.classes = list(seen)
        # The files the student wrote: closures and defaults are watched only in functions written there
        # (not in what Python made for them, such as a NamedTuple's _make, or in an imported dataclass()).
        self.files = {getattr(m, "__file__", None) for m in self.modules} - {None}
        self._held: list[tuple[tuple[str, ...], tuple[Any, ...]]] | None = None
        self._last: dict[tuple[str, ...], Hashable] = {}
        self._volatile: list[tuple[tuple[str, ...], Any]] = []
        self.baseline: dict[tuple[str, ...], Hashable] = {}
        self.rebase()

    def rebase(self) -> None:
        """Take the current outside state as the one calls must leave unchanged."""
        self.baseline = self._read()

    def changed(self) -> str | None:
        """What changed since the baseline, in one sentence (the baseline moves on); ``None`` if nothing."""
        now = self._read()
        if now == self.baseline:
            return None
        before, self.baseline = self.baseline, now
        for key in sorted(set(before) | set(now)):
            if before.get(key, _MISSING) != now.get(key, _MISSING):
                return _sentence(key, before.get(key, _MISSING), now.get(key, _MISSING))
        return None  # pragma: no cover - the dicts differ, so some key does

    def _namespaces(self) -> list[Any]:
        return [vars(m) for m in self.modules] + [vars(c) for c in self.classes]

    def _read(self) -> dict[tuple[str, ...], Hashable]:
        """The outside state's fingerprints, by where they were read.

        A handler call reads it twice, so the common case is fast: while every watched namespace still
        binds the very same objects to the same names (checked by identity, holding the objects so that
        their ids cannot be reused), only the values that can change in place are fingerprinted again --
        containers, objects, closure cells, and mutable default arguments; numbers, strings and tuples of
        them cannot.
        """
        held = [(tuple(ns), tuple(ns.values())) for ns in self._namespaces()]
        last = self._held
        if last is not None and all(
                a[0] == b[0] and len(a[1]) == len(b[1]) and all(map(operator.is_, a[1], b[1]))
                for a, b in zip(held, last)):
            out = dict(self._last)
            for key, fetch in self._volatile:
                out[key] = fetch()
            return out
        self._volatile = []
        out = self._full_read()
        self._held, self._last = held, out
        return out

    def _watch(self, out: dict[tuple[str, ...], Hashable], key: tuple[str, ...], value: Any,
               fetch: Any) -> None:
        """Record ``value``'s fingerprint under ``key``; ``fetch()`` fingerprints it again if it can change."""
        out[key] = self._print(value)
        if not _immutable(value):
            self._volatile.append((key, fetch))

    def _full_read(self) -> dict[tuple[str, ...], Hashable]:
        out: dict[tuple[str, ...], Hashable] = {}
        for module in self.modules:
            name = module.__name__
            namespace = vars(module)
            out[("names", name)] = tuple(sorted(k for k in namespace if not k.startswith("__")))
            for key, value in list(namespace.items()):
                if key.startswith("__"):
                    continue
                if isinstance(value, types.FunctionType):
                    self._function(out, f"{_short(name)}.{key}", value)
                elif not _is_code(value):
                    self._watch(out, ("global", _short(name), key), value,
                                lambda ns=namespace, k=key: self._print(ns.get(k)))
        for cls in self.classes:
            where = cls.__qualname__
            namespace = vars(cls)
            made = _made_by_python(cls)
            out[("names", where)] = tuple(sorted(k for k in namespace if not k.startswith("__")))
            for key, value in list(namespace.items()):
                if key in made:
                    continue
                if key.startswith("__") or key in FRAMEWORK_ATTRIBUTES or key in ("durable", "observe"):
                    if key in ("durable", "observe"):
                        self._watch(out, ("class", where, key), value,
                                    lambda ns=namespace, k=key: self._print(ns.get(k)))
                    continue
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if isinstance(value, types.FunctionType):
                    self._function(out, f"{where}.{key}", value)
                elif not _is_code(value):
                    self._watch(out, ("class", where, key), value,
                                lambda ns=namespace, k=key: self._print(ns.get(k)))
                    if isinstance(value, enum.Enum) and not _immutable(value.value):
                        # A member freezes as its name; its value can be a list that a handler appends to.
                        self._watch(out, ("class", where, f"{key}.value"), value.value,
                                    lambda m=value: self._print(m.value))
            defaults = getattr(cls, "_field_defaults", None) if "_field_defaults" in made else None
            if defaults and not all(_immutable(v) for v in defaults.values()):
                # a named tuple's mutable default: one list shared by every instance that omits the field
                self._watch(out, ("class", where, "_field_defaults"), dict(defaults),
                            lambda c=cls: self._print(dict(c._field_defaults)))
        return out

    def _function(self, out: dict[tuple[str, ...], Hashable], where: str, function: types.FunctionType) -> None:
        if function.__code__.co_filename not in self.files:
            return  # not the student's function: imported, or made by Python (a NamedTuple's _make)
        if function.__defaults__:
            self._watch(out, ("defaults", where), function.__defaults__,
                        lambda f=function: self._print(f.__defaults__))
        if function.__kwdefaults__:
            self._watch(out, ("defaults", where), function.__kwdefaults__,
                        lambda f=function: self._print(f.__kwdefaults__))
        for name, cell in zip(function.__code__.co_freevars, function.__closure__ or ()):
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if not _is_code(value):
                out[("closure", where, name)] = self._print(value)
                self._volatile.append((("closure", where, name), lambda c=cell: self._cell(c)))

    def _cell(self, cell: Any) -> Hashable:
        try:
            value = cell.cell_contents
        except ValueError:
            return None
        return self._print(value)

    def _print(self, value: Any) -> Hashable:
        """A comparable fingerprint of a value, tagged by how it was taken: ``("frozen", ...)``, else
        ``("pickle", ..., its repr or None)``, else ``("repr", ...)``; ``None`` when none can be taken.
        """
        try:
            return ("frozen", self.snapshotter.freeze(value))
        except Exception:  # noqa: BLE001 - not snapshottable: try the next fingerprint
            pass
        try:
            text: str | None = repr(value)
        except Exception:  # noqa: BLE001
            text = None
        if text is not None and (" at 0x" in text or len(text) > 200):
            text = None  # an identity, or too long to show
        try:
            return ("pickle", pickle.dumps(value, protocol=4), text)  # the text only shows it (count(1) to count(2))
        except Exception:  # noqa: BLE001
            pass
        return None if text is None else ("repr", text)


_MISSING = object()
_ATOMS = (int, float, complex, str, bytes, bool, type(None))


def _immutable(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` can never change while it stays the same object (exact built-in types only)."""
    t = type(value)
    if t in _ATOMS:
        return True
    if (t is tuple or t is frozenset) and depth < 8 and len(value) <= 1000:
        return all(_immutable(v, depth + 1) for v in value)
    return False


_FIELD_GETTER = type(__import__("collections").namedtuple("_Probe", "x").x)
"""The type of a named tuple's field accessors (a descriptor, like ``property``)."""


def _is_code(value: Any) -> bool:
    return isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType,
                              types.MethodType, property, functools.partial, functools._lru_cache_wrapper,
                              _FIELD_GETTER))


def _made_by_python(cls: type) -> frozenset[str]:
    """The class attributes Python's machinery made and keeps, not the student: an Enum's ``_sunder_`` tables
    (its members stay watched) and a named tuple's ``_fields`` and ``_field_defaults``."""
    if isinstance(cls, enum.EnumMeta):
        return frozenset(k for k in vars(cls) if len(k) > 2 and k[0] == k[-1] == "_" and k[1] != "_")
    if issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return frozenset(("_fields", "_field_defaults"))
    return frozenset()


def _short(module: str) -> str:
    """A student module's name as the student wrote it (``raft`` for ``quorumcheck_student_raft_1a2b``)."""
    if module.startswith("quorumcheck_student_"):
        return module[len("quorumcheck_student_"):].rsplit("_", 1)[0]
    return module


def _sentence(key: tuple[str, ...], before: Any, after: Any) -> str:
    from quorumcheck.models.actors import show

    def text(v: Any) -> str:
        if v is _MISSING:
            return "(unset)"
        if v is not None and v[0] == "frozen":
            return show(v[1])
        if v is not None and v[0] == "pickle" and v[2] is not None:
            return v[2]
        return v[1] if v is not None and v[0] == "repr" else "another value"

    kind = key[0]
    if kind == "names":
        added = sorted(set(after if after is not _MISSING else ()) - set(before if before is not _MISSING else ()))
        what = f"added {', '.join(added)} to" if added else "removed names from"
        return f"{what} {key[1]} (state outside the node: keep it in self)"
    label = {"global": "the module global", "class": "the class attribute", "defaults":
             "the default arguments of", "closure": "the closure variable"}[kind]
    where = ".".join(key[1:]) if kind != "closure" else f"{key[2]} of {key[1]}"
    change = f" from {text(before)} to {text(after)}"
    if len(change) > 160:
        change = ""
    return f"changed {label} {where}{change} (state outside the node: keep it in self)"


def _student_modules(classes: Sequence[type]) -> list[types.ModuleType]:
    """The modules loaded from the folders the node classes' files are in.

    In a fresh process (:func:`note_folders` ran in its zygote), the modules its zygote had loaded are looked up by
    folder, and only those imported since are gone over: each module touched is a page of the zygote's memory
    to copy. The node classes' own modules are always among them."""
    folders = set()
    for cls in classes:
        file = getattr(sys.modules.get(cls.__module__), "__file__", None)
        if isinstance(file, str):
            folders.add(_folder_of(file))
    if _INHERITED is not None and len(sys.modules) >= _INHERITED[0]:
        count, by_folder = _INHERITED
        candidates = [m for folder in folders for m in by_folder.get(folder, ())]
        candidates += itertools.islice(reversed(sys.modules.values()), len(sys.modules) - count)
        candidates += (sys.modules.get(cls.__module__) for cls in classes)
    else:
        candidates = list(sys.modules.values())
    modules: dict[int, types.ModuleType] = {}
    for module in candidates:
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and _folder_of(file) in folders:
            modules[id(module)] = module  # type: ignore[assignment]
    return list(modules.values())


_FOLDERS: dict[str, str] = {}


def _folder_of(file: str) -> str:
    """The folder a module's file is in, with every link resolved (remembered: a fresh process for one call finds
    those of the modules its zygote had loaded, :func:`note_folders`)."""
    folder = _FOLDERS.get(file)
    if folder is None:
        folder = _FOLDERS[file] = str(Path(file).resolve().parent)
    return folder


_INHERITED: tuple[int, dict[str, list[types.ModuleType]]] | None = None
"""In the zygote of the fresh processes and in each of them: how many modules the zygote had loaded, and those
modules by folder (:func:`note_folders`)."""


def note_folders() -> None:
    """Remember the folder of every module loaded so far, and the modules by folder (in the zygote of the fresh
    processes, which import the submission for each call and look for its modules)."""
    global _INHERITED
    by_folder: dict[str, list[types.ModuleType]] = {}
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            by_folder.setdefault(_folder_of(file), []).append(module)
    _INHERITED = (len(sys.modules), by_folder)
