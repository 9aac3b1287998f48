"""Loading a student's file and finding its node classes (beside the student's code: importing runs it).

In a grading run this happens only inside the sandboxed worker
(:mod:`quorumcheck.student.worker.serve`); the trusted side learns the classes'
names, durable attributes and roles as plain data. Every failure is a
one-line :class:`~quorumcheck.errors.InvalidStudentCode`.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.machinery
import importlib.util
import inspect
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from quorumcheck.errors import InvalidParameter, InvalidStudentCode
from quorumcheck.models.actors import Node

from .containment import call_contained

__all__ = ["SourcesOnlyLoader", "check_class", "find_node_classes", "load_student_file", "node_classes", "precompile",
           "preimport"]


class SourcesOnlyLoader(importlib.machinery.SourceFileLoader):
    """Loads a ``.py`` file compiled from its source, never from cached bytecode: a ``__pycache__/raft.cpython-311.pyc``
    with an unchecked hash, left beside ``raft.py``, would run instead of it (someone else's correct Raft graded
    for a buggy source). The standard library and installed packages keep their cached bytecode."""

    def get_code(self, fullname: str) -> Any:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        compiled = _COMPILED.get(path)
        if compiled is not None and compiled[0] == source:
            return compiled[1]
        return self.source_to_code(source, path)


_COMPILED: dict[str, tuple[bytes, Any]] = {}
"""Sources compiled ahead (:func:`precompile`): path to (source, code). A module's code object is used only for the
very source it was compiled from."""

PRECOMPILE_BYTES = 4 << 20
""":func:`precompile` compiles at most this many bytes of source (the rest is compiled where it is imported)."""


def precompile(folder: str) -> set[str]:
    """Compile the ``.py`` files of a submission's folder and its subfolders, without running them, so that each
    fresh process that imports the submission (one per handler call, as root) does not compile it again: the names
    of the modules they import absolutely (``import x.y``, ``from x import y``). A file that does not compile, or
    that comes past :data:`PRECOMPILE_BYTES`, is left to the import, which reports it."""
    imported: set[str] = set()
    budget, entries = PRECOMPILE_BYTES, 0
    for root, dirs, files in os.walk(folder):
        entries += len(dirs) + len(files)
        if entries > 10_000:  # not a submission's folder alone: the rest is compiled where it is imported
            return imported
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(root, name)
            try:  # a regular file only: opening a FIFO named x.py would block the worker (red-team round 14)
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                try:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        continue
                    with os.fdopen(fd, "rb", closefd=False) as f:
                        source = f.read(budget + 1)
                finally:
                    os.close(fd)
            except OSError:
                continue
            if len(source) > budget:
                return imported
            budget -= len(source)
            try:
                code = compile(source, path, "exec", dont_inherit=True)
                tree = ast.parse(source, path)
            except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
                continue
            _COMPILED[path] = (source, code)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module)
    return imported


def preimport(names: set[str], folder: str) -> None:
    """Import the modules of ``names`` that are not the submission's (the standard library's, installed packages):
    in the zygote of the fresh processes, so that each does not import them again. A name that is also a file or
    folder of the submission's is left alone (there the submission's shadows it), and so is one that fails."""
    for name in sorted(names):
        top = name.split(".")[0]
        if name in sys.modules or not top.isidentifier() or os.path.exists(os.path.join(folder, top)) \
                or os.path.exists(os.path.join(folder, top + ".py")):
            continue
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            continue
        origin = os.path.realpath(spec.origin) if spec is not None and spec.origin else ""
        if spec is None or origin.startswith(folder + os.sep):
            continue
        try:
            importlib.import_module(name)
        except (Exception, SystemExit):  # noqa: BLE001 - the import in the fresh process reports it
            continue


def not_a_file(path: Path) -> str:
    """Why ``path``, which is not a regular file, cannot be loaded.

    >>> not_a_file(Path("/nonexistent/raft.py")), not_a_file(Path("/")), not_a_file(Path("/dev/null"))
    ('no such file', 'a folder', 'not a regular file (a device or a pipe)')
    """
    return ("no such file" if not path.exists() else "a folder" if path.is_dir()
            else "not a regular file (a device or a pipe)")


def load_student_file(path: str | Path, *, time_limit_seconds: float = 10.0, own_process: bool = False) -> Any:
    """Import a student's Python file as a module; every failure is a one-line InvalidStudentCode.

    The file's directory is put on ``sys.path`` while it is imported, so that it
    may import its sibling files. Importing runs the file's top level under a
    time limit. With ``own_process`` (a worker, whose process is the
    submission's alone) the directory stays there, so that a function may import
    a sibling when it runs, and a sibling that imports the file by its own name
    (``import raft`` in a helper of ``raft.py``) gets this module, not a second
    copy with classes of its own, unless that name is another module's.

    Examples
    --------
    >>> load_student_file("/nonexistent/raft.py")
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: /nonexistent/raft.py: no such file
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidStudentCode(f"{path}: {not_a_file(path)}")
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
    name = f"quorumcheck_student_{resolved.stem}_{digest}"
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__quorumcheck_mtime__", None) == resolved.stat().st_mtime_ns:
        return existing
    spec = importlib.util.spec_from_file_location(name, resolved, loader=SourcesOnlyLoader(name, str(resolved)))
    if spec is None or spec.loader is None:
        raise InvalidStudentCode(f"{path}: not a Python file quorumcheck can import")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__quorumcheck_student__"] = True
    module.__dict__["__quorumcheck_mtime__"] = resolved.stat().st_mtime_ns
    sys.modules[name] = module
    if own_process and resolved.stem.isidentifier() and resolved.stem not in sys.modules:
        try:
            elsewhere = importlib.util.find_spec(resolved.stem) is not None  # the standard library's, an installed one
        except (ImportError, ValueError):
            elsewhere = True
        if not elsewhere:
            sys.modules[resolved.stem] = module
    folder = str(resolved.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    problem: str | None = None
    try:
        failure = call_contained(spec.loader.exec_module, (module,), time_limit=time_limit_seconds)
        if failure is not None:
            problem = f"importing it {failure.verb}"
    except InvalidStudentCode as e:
        problem = str(e)
    finally:
        if added and not own_process:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
    if problem is not None:
        del sys.modules[name]
        if sys.modules.get(resolved.stem) is module:
            del sys.modules[resolved.stem]
        raise InvalidStudentCode(f"{path}: {problem}")
    return module


def find_node_classes(namespace: Any, names: Sequence[str] | None = None) -> list[type[Node]]:
    """The node classes a module defines (or the ones named), in definition order.

    With ``names``, each must be a Node subclass in the module. Without, the
    module must define exactly one Node subclass, or a list ``NODES`` of node
    classes (one per node).

    Examples
    --------
    >>> import types
    >>> find_node_classes(types.SimpleNamespace(__name__="empty"))
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidStudentCode: empty defines no node class: write `class MyNode(Node):` with `from quorumcheck.models.actors import Node` (see docs/student-testing.md)
    """
    where = getattr(namespace, "__file__", None) or getattr(namespace, "__name__", "the module")
    members = vars(namespace)
    module_name = getattr(namespace, "__name__", None)
    nodes = {k: v for k, v in members.items() if isinstance(v, type) and issubclass(v, Node) and v is not Node}
    own_names = [k for k, v in nodes.items() if v.__module__ == module_name]
    if names:
        found = []
        for n in names:
            cls = members.get(n)
            if isinstance(cls, type) and not issubclass(cls, Node):
                raise InvalidStudentCode(f"{n} in {where} is not a node class: write `class {n}(Node):` with "
                                         "`from quorumcheck.models.actors import Node`")
            if not isinstance(cls, type):
                imported = [k for k in nodes if k not in own_names]
                listed = ", ".join(own_names) or "none"
                if imported:
                    listed += f" (and imported: {', '.join(imported)})"
                raise InvalidStudentCode(f"{where} has no node class {n!r}; its node classes: {listed}")
            found.append(cls)
        return found
    if "NODES" in members:
        listed = members["NODES"]
        if not isinstance(listed, (list, tuple)) or not listed or not all(
                isinstance(c, type) and issubclass(c, Node) for c in listed):
            empty = " (it is empty)" if isinstance(listed, (list, tuple)) and not listed else ""
            raise InvalidStudentCode(f"{where}: NODES must be a list of node classes, one per node{empty}; "
                                     "list them, or delete NODES to test one class on every node")
        return list(listed)
    own = [nodes[k] for k in own_names]
    if not own:
        imported = sorted(nodes)
        if imported:  # e.g. `from my_raft import RaftNode` in a file that is only that line
            raise InvalidStudentCode(
                f"{where} defines no node class of its own, and imports {', '.join(imported)}; name the one to "
                f"test: --node-class {imported[0]} (or path.py:{imported[0]}), or test the file that defines it"
            )
        raise InvalidStudentCode(
            f"{where} defines no node class: write `class MyNode(Node):` with "
            "`from quorumcheck.models.actors import Node` (see docs/student-testing.md)"
        )
    if len(own) > 1:
        # Subclasses of another class in the file (buggy variants, roles) need choosing.
        raise InvalidStudentCode(
            f"{where} defines several node classes ({', '.join(c.__name__ for c in own)}); choose one with "
            "--node-class NAME, or list one class per node in NODES = [...]"
        )
    return own


def node_classes(node: Any, nodes: int | None) -> tuple[type[Node], ...]:
    """The class of each node: ``node`` repeated ``nodes`` times (default 3), or the list given."""
    if isinstance(node, type):
        count = 3 if nodes is None else nodes
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidParameter(f"nodes must be an integer >= 1, got {count!r}")
        classes: tuple[type[Node], ...] = (node,) * count
    elif isinstance(node, Sequence) and node and all(isinstance(c, type) for c in node):
        if nodes is not None and nodes != len(node):
            raise InvalidParameter(f"nodes={nodes} but {len(node)} node classes were given; give one or the other")
        classes = tuple(node)
    else:
        raise InvalidParameter(f"node must be a Node subclass or a list of them (one per node), got {node!r}")
    for cls in dict.fromkeys(classes):
        check_class(cls)
    return classes


def _holds_slots(slots: Any) -> bool:
    """Whether a class's ``__slots__`` declares any: ``__slots__ = ()`` (a habit of mixins) adds none, so the node's
    attributes all stay in its ``__dict__``, where the snapshots read them."""
    if slots is None:
        return False
    if isinstance(slots, str):
        return True
    try:
        return len(slots) > 0
    except TypeError:  # an iterator: whatever it yielded became slots
        return True


_HANDLERS = {"on_start": ("out",), "on_message": ("sender", "message", "out"), "on_timer": ("name", "out"),
             "on_request": ("value", "out")}
"""The handlers quorumcheck calls, with the arguments it passes them (positionally, after ``self``)."""


def _check_handlers(cls: type) -> None:
    """Refuse, in one line, a handler that cannot take the arguments quorumcheck passes: its ``TypeError`` would
    otherwise be the first call's finding, with no word of the signature expected."""
    for hook, wanted in _HANDLERS.items():
        raw = inspect.getattr_static(cls, hook, None)
        if raw is None or raw is inspect.getattr_static(Node, hook, None) or isinstance(raw, classmethod):
            continue
        function = raw.__func__ if isinstance(raw, staticmethod) else raw
        if not callable(function):
            raise InvalidStudentCode(f"{cls.__name__}.{hook} is not a method; write def {hook}(self, "
                                     f"{', '.join(wanted)})")
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):
            continue
        arguments = (None,) * (len(wanted) + (0 if isinstance(raw, staticmethod) else 1))
        try:
            signature.bind(*arguments)
        except TypeError:
            raise InvalidStudentCode(f"{cls.__name__}.{hook}{signature} cannot take the arguments quorumcheck "
                                     f"passes; write def {hook}(self, {', '.join(wanted)})") from None


def check_class(cls: type) -> None:
    """Refuse, in one line, a class that is not a usable node class."""
    name = cls.__name__
    if not issubclass(cls, Node):
        raise InvalidStudentCode(
            f"{name} is not a node class: write `class {name}(Node):` with "
            "`from quorumcheck.models.actors import Node` (see docs/student-testing.md)"
        )
    if any(_holds_slots(vars(k).get("__slots__")) for k in cls.__mro__ if k is not Node and k is not object):
        raise InvalidStudentCode(f"{name} uses __slots__; node state must be plain attributes (remove __slots__)")
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        signature = None
    if signature is not None:
        required = [p.name for p in list(signature.parameters.values())[1:]
                    if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required:
            raise InvalidStudentCode(
                f"{name}.__init__ takes {', '.join(required)}; it must take no arguments besides self "
                "(quorumcheck sets self.id and self.peers before calling it)"
            )
    _check_handlers(cls)
    durable = getattr(cls, "durable", ())
    if not isinstance(durable, (tuple, list, set, frozenset)) or not all(isinstance(d, str) for d in durable):
        raise InvalidStudentCode(f"{name}.durable must be a tuple of attribute names, e.g. durable = "
                                 f"('current_term', 'voted_for', 'log'), got {durable!r}")
