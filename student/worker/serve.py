"""The worker's main loop: load the student's file, then answer handler calls, one JSON line each.

Started by the trusted side (:mod:`quorumcheck.student.trusted.workers`) as
``python -m quorumcheck.student.worker`` inside the sandbox. Requests arrive
on standard input, answers leave on the descriptor named by
``QUORUMCHECK_RESPONSE_FD``; standard input is then replaced by ``/dev/null``
and the student's prints go to standard output and error, which the trusted
side captures apart from its own output. ``QUORUMCHECK_CLOCK_OFFSET`` shifts
the clocks of the ``time`` module, so that two workers disagree on the time
(the determinism check runs every call in two workers).

Requests and answers (see :mod:`quorumcheck.student.wire`)::

    {"op": "load", "file": ..., "classes": [...] | null, "nodes": n | null, "protocol": ...,
     "settings": {...}, "handler_timeout": s}       ->  {"ok": {"names": ..., ...}} | {"error": text}
    {"op": "call", "node": i, "snapshot": ..., "event": ...}  ->  {"answer": {...}}
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

from quorumcheck.errors import QuorumcheckError
from quorumcheck.student.wire import MAX_LINE, WireError, decode, encode, wall_clock_limit

__all__ = ["main"]

_perf_counter = time.perf_counter  # bound before any submission runs (the fresh processes time their import)
_process_time = time.process_time


def _shift_clocks(offset: float) -> None:
    if not offset:
        return
    real_time, real_time_ns = time.time, time.time_ns
    real_monotonic, real_monotonic_ns = time.monotonic, time.monotonic_ns
    real_perf, real_perf_ns = time.perf_counter, time.perf_counter_ns
    shift_ns = int(offset * 1e9)
    time.time = lambda: real_time() + offset  # type: ignore[assignment]
    time.time_ns = lambda: real_time_ns() + shift_ns  # type: ignore[assignment]
    time.monotonic = lambda: real_monotonic() + offset  # type: ignore[assignment]
    time.monotonic_ns = lambda: real_monotonic_ns() + shift_ns  # type: ignore[assignment]
    time.perf_counter = lambda: real_perf() + offset  # type: ignore[assignment]
    time.perf_counter_ns = lambda: real_perf_ns() + shift_ns  # type: ignore[assignment]


def main() -> None:
    """Serve the trusted side until its requests end."""
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    answer_fd = int(os.environ.pop("QUORUMCHECK_RESPONSE_FD"))
    answers = os.dup(answer_fd)
    os.close(answer_fd)
    _shift_clocks(float(os.environ.pop("QUORUMCHECK_CLOCK_OFFSET", "0") or 0))
    fresh_calls = os.environ.pop("QUORUMCHECK_FRESH_CALLS", "") == "1"
    from . import containment

    containment.QUIET = False  # what the student prints is theirs: captured by the trusted side, shown apart
    for stream in (sys.stdout, sys.stderr):  # a worker may be ended at any time: nothing waits in a buffer
        stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    runner: Any = None
    reader = _Lines(requests)
    while True:
        line = reader.next()
        if line is None:
            return
        try:
            request = decode(line)
        except WireError as e:
            _send(answers, {"error": f"quorumcheck sent a malformed request: {e}"})
            return
        op = request.get("op")
        if op == "load" and fresh_calls:
            # This worker never imports the submission: a fresh process forked from it does, for the load and then
            # for every call (student/worker/fresh.py), so nothing the submission does can act here.
            from .fresh import FreshCalls, prepare_zygote

            prepare_zygote(str(request.get("file", "")), lambda: _warm(request))
            FreshCalls((requests.fileno(), answers),
                       lambda line, prepared, load=request: _in_fresh_process(load, line, prepared), _send,
                       lambda load=request: _load(load, facts=False)).serve(requests.fileno(), answers,
                                                                      line + b"\n" + reader.buffer, _refused)
            return
        if op == "load":
            runner, reply = _load(request)
        elif op == "call" and runner is not None:
            reply = _call(runner, request)
        else:
            reply = {"error": f"unknown request {op!r}"}
        reply["seq"] = request.get("seq")
        _send(answers, reply)


_ZYGOTE_CLASSES: Any = None
"""In a fresh process: what snapshots make of the classes of the zygote it was forked from
(:class:`~quorumcheck.models.actors.LearnedClasses`), which ``gc.get_objects()`` no longer lists (they are
frozen); worked out once, in the zygote."""


def _warm(request: dict[str, Any]) -> None:
    """In the zygote, before the first fork: what each fresh process would otherwise do again for its import. Runs
    nothing of the submission's: it imports quorumcheck's modules, compiles the submission's sources (a child runs
    the compiled code only if the source it reads is the same) and notes the folders of the modules loaded so far."""
    global _ZYGOTE_CLASSES
    from quorumcheck.models.actors import learned_classes
    from quorumcheck.student.worker import calls, loading

    folder = str(Path(str(request.get("file", ""))).resolve().parent)
    _sources_only(folder)
    loading.preimport(loading.precompile(folder), folder)
    _find_nothing(folder)
    calls.note_folders()
    _ZYGOTE_CLASSES = learned_classes(o for o in gc.get_objects() if isinstance(o, type))
    _writes_vanish()  # for the fresh processes, which inherit it (the zygote opens nothing to write)


def _find_nothing(folder: str) -> None:
    """Look for a module no path holds, with the submission's folder first on the path as a fresh process puts it:
    every path entry's finder is made and lists its directory here, once, instead of in every fresh process (a
    finder looks again when its directory's time changes). Imports nothing."""
    import importlib.util

    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    try:
        importlib.util.find_spec("quorumcheck_zygote_finds_no_such_module")
    except (ImportError, ValueError):
        pass
    finally:
        if added:
            sys.path.remove(folder)


_IMPORT_SECONDS = [0.0, 0.0]
"""How long the last :func:`_load` took to import the submission (not to start its nodes): CPU time, wall-clock
time."""


def _load(request: dict[str, Any], *, facts: bool = True) -> tuple[Any, dict[str, Any]]:
    """Import the submission and start its nodes: the runner and the load's reply (``facts``: with what the
    trusted side learns of the classes, which a fresh process for one call does not need)."""
    from quorumcheck.student.worker.calls import NodeRunner
    from quorumcheck.student.worker.loading import find_node_classes, load_student_file, node_classes

    try:
        _sources_only(str(Path(request["file"]).resolve().parent))
        began, cpu = _perf_counter(), _process_time()
        module = load_student_file(request["file"], own_process=True)
        _IMPORT_SECONDS[:] = [_process_time() - cpu, _perf_counter() - began]
        found = find_node_classes(module, request.get("classes") or None)
        node: Any = found[0] if len(found) == 1 else found
        classes = node_classes(node, request.get("nodes") if len(found) == 1 else None)
        runner = NodeRunner(classes, request["protocol"], dict(request.get("settings") or {}),
                            handler_timeout=float(request.get("handler_timeout", 1.0)),
                            rotate_dicts=bool(request.get("rotate_dicts")))
        info = runner.start() if facts else runner.start(facts=False)
        info["classes"] = tuple(c.__name__ for c in found)
        # Snapshots name classes, which a worker learns as it freezes their instances; but a worker started during
        # the run (or a fresh copy for each call) thaws what others froze: it knows every class there is from the
        # start.
        gc.collect()  # a class dataclass(slots=True) replaced is garbage with the same name: not learned beside it
        runner.snapshotter.inherit(_ZYGOTE_CLASSES)
        runner.snapshotter.learn(o for o in gc.get_objects() if isinstance(o, type))
        runner.snapshotter.find_class = _class_finder(runner.snapshotter, str(Path(request["file"]).resolve().parent))
        return runner, {"ok": info}
    except QuorumcheckError as e:
        return None, {"error": str(e)}
    except Exception as e:  # noqa: BLE001 - the classes' own code (a metaclass, a descriptor) raised while read
        try:
            text = " ".join(f"{type(e).__name__}: {e}".split())
        except Exception:  # noqa: BLE001 - its __str__ raised too
            text = type(e).__name__
        text = text if len(text) <= 300 else text[:299] + "…"
        return None, {"error": f"{request['file']}: reading its node classes raised {text}; node classes must be "
                               "plain classes whose attributes can be read (see docs/student-testing.md)"}


def _class_finder(snapshotter: Any, folder: str) -> Any:
    """For a class a snapshot names that this process has not seen: import its module, if it is one of the
    submission's (a message class a handler imports from a sibling file when it first runs, in another process),
    and learn its classes. Runs inside a handler call, under its limits."""
    import importlib
    import importlib.util

    def find(name: str) -> None:
        parts = name.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module_name = ".".join(parts[:cut])
            if module_name not in sys.modules:
                try:
                    spec = importlib.util.find_spec(module_name)
                except (ImportError, ValueError):
                    continue
                origin = os.path.realpath(spec.origin) if spec is not None and spec.origin else ""
                if not origin.startswith(folder + os.sep):
                    continue  # not the submission's: never imported for a name a snapshot holds
                importlib.import_module(module_name)  # what it raises is the call's finding
            snapshotter.learn(o for o in gc.get_objects() if isinstance(o, type))
            return

    return find


def _call(runner: Any, request: dict[str, Any]) -> dict[str, Any]:
    return {"answer": runner.call(int(request["node"]), request["snapshot"], request["event"]), "seq": request.get("seq")}


def _writes_vanish() -> None:
    """In a fresh process, which may write no file: a file the submission opens for writing (or appending) in its
    private directory, the working directory that is also its ``HOME`` and ``TMPDIR``, is ``/dev/null``, so that a
    log it opens at import or writes in a handler vanishes instead of failing (honest code: ``logging`` to a file).
    Elsewhere the write is refused as before. Nothing is written, so nothing carries over to the next process."""
    import builtins
    import io

    real_open = builtins.open
    home = os.path.realpath(os.getcwd())

    def open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:  # noqa: A001 - the builtin's stand-in
        if isinstance(file, (str, bytes, os.PathLike)) and isinstance(mode, str) and any(c in mode for c in "wax+"):
            try:
                path = os.path.realpath(os.fsdecode(file))
            except (TypeError, ValueError, OSError):
                path = ""
            if path == home or path.startswith(home + os.sep):
                return real_open(os.devnull, mode.replace("x", "w"), *args, **kwargs)
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = open  # type: ignore[assignment]


def _in_fresh_process(load: dict[str, Any], line: bytes, prepared: tuple[Any, dict[str, Any]] | None = None
                      ) -> dict[str, Any]:
    """In a fresh process forked from the zygote, confined: the reply to one request line. The load's is the
    load's reply; a call's imports the submission (as ``load`` asks) and starts its nodes first, unless that was
    ``prepared`` before the request came (a process forked ahead of its call)."""
    try:
        request = decode(line)
    except WireError as e:
        return {"error": f"quorumcheck sent a malformed request: {e}"}
    op = request.get("op")
    if op == "load":
        runner, reply = _load(request)
        # Only the import counts here: a node's __init__ or on_start that hangs is a finding of the first call that
        # starts it (handlers-terminate), not a slow top level.
        # Charged as a call is (student/worker/containment.py): in CPU time, which a loaded machine does not
        # stretch, with the wall clock as the backstop for a top level that sleeps. An honest file whose top level
        # took half the limit in CPU time was refused on a busy machine and loaded on a quiet one (red-team round 16).
        (cpu, wall), limit = _IMPORT_SECONDS, float(request.get("handler_timeout", 1.0))
        took = cpu if wall <= wall_clock_limit(limit) else wall
        if runner is not None and (cpu > limit or wall > wall_clock_limit(limit)):
            reply = {"error": f"{request['file']}: importing it took {took:.1f} s; as root, each handler call runs in "
                              "a fresh process that imports it anew, within the call's time limit "
                              f"({limit:g} s, --handler-timeout): make its top level quicker"}
        return {**reply, "seq": request.get("seq")}
    if op != "call":
        return {"error": f"unknown request {op!r}", "seq": request.get("seq")}
    runner, reply = prepared if prepared is not None else _load(load, facts=False)
    if runner is None:
        from quorumcheck.student.worker.calls import failed

        return {"answer": failed(request["snapshot"], (
            "untestable", f"importing it again, in the fresh process that runs this call, failed: {reply['error']}")),
            "seq": request.get("seq")}
    return _call(runner, request)


def _refused(line: bytes) -> dict[str, Any]:
    """The reply to a request no fresh process could be forked for."""
    from quorumcheck.student.worker.calls import failed

    request = decode(line)
    why = "quorumcheck could not start a fresh process for it (each call runs in one): the worker was not allowed one"
    if request.get("op") != "call":
        return {"error": why, "seq": request.get("seq")}
    return {"answer": failed(request["snapshot"], ("untestable", why)), "seq": request.get("seq")}


_SOURCES_ONLY: set[str] = set()


def _sources_only(folder: str) -> None:
    """Imports from the submission's folder find ``.py`` files (and packages of them) only, compiled from their
    source: no sourceless ``.pyc``, no cached bytecode, and no compiled extension, which the grader cannot read (a
    ``helper.pyc`` compiled from another student's Raft ran as the submission's own helper)."""
    import importlib.machinery

    from .loading import SourcesOnlyLoader

    if folder in _SOURCES_ONLY:
        return
    _SOURCES_ONLY.add(folder)

    def hook(path: str) -> Any:
        if os.path.realpath(path) != folder and not os.path.realpath(path).startswith(folder + os.sep):
            raise ImportError  # not the submission's: the next hook finds it as usual
        # Compiled from the source, never from a __pycache__ beside it (SourcesOnlyLoader); the standard library
        # keeps its bytecode, so a module a handler imports is not compiled again in every fresh copy.
        loader = (SourcesOnlyLoader, importlib.machinery.SOURCE_SUFFIXES)
        return importlib.machinery.FileFinder(path, loader)

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def _send(fd: int, reply: dict[str, Any]) -> None:
    from quorumcheck.student.worker.calls import failed

    seq = reply.get("seq")
    try:
        data = encode(reply)
    except (ValueError, TypeError, RecursionError) as e:
        if reply.get("answer") is None:
            data = encode({"error": f"the answer could not be encoded: {e}", "seq": seq})
        else:
            why = f"the node's state could not be sent: {type(e).__name__}: {e}"
            data = encode({"answer": failed((), ("untestable", why)), "seq": seq})
    if len(data) > MAX_LINE:
        why = f"the node's state is too large to send ({len(data):,} bytes; the limit is {MAX_LINE:,})"
        data = encode({"answer": failed((), ("untestable", why)), "seq": seq})
    _write_all(fd, data)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _Lines:
    """Lines from a raw stream, each at most MAX_LINE bytes."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.buffer = b""

    def next(self) -> bytes | None:
        while b"\n" not in self.buffer:
            chunk = self.stream.read(1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE + 1:
                return None
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line
