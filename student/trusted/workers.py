"""Sandboxed workers, from the trusted side: start them, ask for handler calls, validate, kill.

The trusted process never imports the student's file. :class:`WorkerHost` is
what an :class:`~quorumcheck.models.actor_model.ActorModel` asks "what does
node ``i`` in snapshot ``s`` do on event ``e``?"; it answers with plain data
checked for shape and size, or with a failure that is a finding about the
student's code:

* a call that does not answer within its deadline (enforced here, not by a
  signal inside the worker): its worker's whole process tree is killed
  (``handlers-terminate``);
* a worker that dies (``os._exit``, a segfault, a signal, running out of
  memory) or answers something malformed (``handlers-do-not-crash``,
  ``handlers-within-memory``);
* with ``determinism=True``, every call runs in two workers that differ in
  hash seed and clock; different answers are ``handlers-are-deterministic``;
* a call that changes module, class or closure state is ``state-outside-node``
  (found by the worker; its worker is then replaced, so nothing carries over).

Examples
--------
>>> from pathlib import Path
>>> example = Path(__file__).resolve().parents[2] / "examples" / "raft.py"
>>> host = WorkerHost(StudentSource(str(example)), 3, "raft", {"max_term": 2})
>>> host.start()["names"]
('RaftNode', 'RaftNode', 'RaftNode')
>>> answer = host.call(0, host.start_snapshot(0), ("t", "election"))
>>> answer["failure"] is None, [dst for dst, _ in answer["sends"]]
(True, [1, 2])
>>> host.close()
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import contextvars
import ctypes
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from quorumcheck.errors import InvalidParameter, InvalidStudentCode
from quorumcheck.models.actors import TIMER_NAME_LIMIT
from quorumcheck.printable import printable
from quorumcheck.student.wire import MAX_LINE, MAX_SENDS, MAX_TIMER_CALLS, TooDeep, WireError, call_deadline, decode, encode, frozen

from .sandbox import UNIQUE_UID_BASE, Confinement, capabilities, confine, fresh_calls, private_directory, \
    stage_directory, sweep_stale_directories

__all__ = ["OutputCapture", "StudentSource", "WorkerHost", "WorkerLost", "agreed"]

LOAD_SECONDS = 60.0
"""The longest a worker may take to start and import the student's file."""

CPU_SECONDS = 3600.0
"""Each worker's CPU time limit (``RLIMIT_CPU``), a backstop behind the per-call deadlines: a worker only
runs handler calls, a few seconds of CPU in a long run."""

OUTPUT_LIMIT = 64 * 1024
"""How much of the student's output is kept (the rest is counted, not kept)."""

_FAILURE_KINDS = ("exception", "timeout", "memory", "untestable", "outside", "nondeterministic")


@dataclass(frozen=True)
class StudentSource:
    """Where the node classes are: a file, and optionally which classes in it.

    Examples
    --------
    >>> StudentSource.parse("student/raft.py:RaftNode")
    StudentSource(file='student/raft.py', classes=('RaftNode',))
    >>> StudentSource.parse("roles.py:Proposer,Acceptor,Acceptor").classes
    ('Proposer', 'Acceptor', 'Acceptor')
    >>> StudentSource.parse("alice_10:00/raft.py:RaftNode")
    StudentSource(file='alice_10:00/raft.py', classes=('RaftNode',))
    """

    file: str
    classes: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, text: str) -> StudentSource:
        """``"path.py"`` or ``"path.py:Class"`` or ``"path.py:A,B,C"`` (one class per node); the path may hold a
        colon itself (a folder named by a time, ``alice_10:00/raft.py``)."""
        text = str(text)
        path, _, names = (text, "", "") if text.endswith(".py") else text.rpartition(":")
        if not path.endswith(".py"):
            raise InvalidParameter(f"{text!r} does not name a Python file; write 'path/to/file.py' or "
                                   "'path/to/file.py:NodeClass'")
        classes = tuple(n.strip() for n in names.split(",")) if names else None
        if classes is not None and not all(classes):
            raise InvalidParameter(f"{text!r} has an empty class name; write 'file.py:NodeClass'")
        return cls(path, classes)


class WorkerLost(Exception):
    """A worker that did not answer: it timed out, died, or answered something malformed."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind
        self.text = text


class OutputCapture:
    """What the student's code printed: the first :data:`OUTPUT_LIMIT` bytes kept, the rest counted."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.total = 0
        self._lock = threading.Lock()

    def feed(self, stream: Any) -> None:
        """Read ``stream`` to its end (in a thread)."""
        while True:
            try:
                chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            with self._lock:
                self.total += len(chunk)
                room = OUTPUT_LIMIT - len(self.head)
                if room > 0:
                    self.head += chunk[:room]

    def text(self) -> str:
        """The kept output, decoded leniently."""
        with self._lock:
            return self.head.decode("utf-8", errors="replace")


_LIVE: weakref.WeakSet[_Worker] = weakref.WeakSet()
_PR_SET_CHILD_SUBREAPER = 36


def _kill_all() -> None:
    for worker in list(_LIVE):
        worker.kill()


atexit.register(_kill_all)


class _Worker:
    """One worker process in the sandbox."""

    def __init__(self, confinement: Confinement, *, memory_mb: int | None, hash_seed: int, clock_offset: float,
                 capture: OutputCapture | None, cpu_seconds: float | None, fresh: bool = False) -> None:
        self.uid: int | None = None  # set only when no other process can have it (then swept by it)
        if confinement.unique_users:
            # A user of its own: no other process (another worker, another student's) shares it, so the
            # worker can neither signal nor trace nor read anything of theirs, and what it leaves is its own.
            self.uid = _fresh_uid()
            confinement = replace(confinement, drop_to=self.uid)
        self.confinement = confinement
        self.workdir = private_directory(confinement)
        self.stage = stage_directory()
        read_answers, write_answers = os.pipe()
        env = {"PATH": "/usr/bin:/bin", "HOME": self.workdir, "LANG": "C.UTF-8", "PYTHONHASHSEED": str(hash_seed),
               "PYTHONDONTWRITEBYTECODE": "1", "QUORUMCHECK_RESPONSE_FD": str(write_answers),
               "QUORUMCHECK_CLOCK_OFFSET": repr(clock_offset), "TMPDIR": self.workdir,
               "QUORUMCHECK_FRESH_CALLS": "1" if fresh else "0"}
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]
        _become_subreaper()
        workdir, stage = self.workdir, self.stage

        def before_exec() -> None:  # pragma: no cover - runs in the child between fork and exec
            confine(confinement, memory_mb=memory_mb, cpu_seconds=cpu_seconds, workdir=workdir, stage=stage,
                    one_child=fresh)

        try:
            self.process = subprocess.Popen(
                [sys.executable, "-B", "-s", "-m", "quorumcheck.student.worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE if capture is not None else subprocess.DEVNULL,
                stderr=subprocess.STDOUT, env=env, pass_fds=(write_answers,), preexec_fn=before_exec,
                cwd=self.workdir,
            )
        finally:
            os.close(write_answers)
        self.fresh = fresh
        self.answers = read_answers
        self.buffer = b""
        self.dead = False
        self.sequence = 0
        if capture is not None:
            threading.Thread(target=capture.feed, args=(self.process.stdout,), daemon=True).start()
        _LIVE.add(self)

    def send(self, message: dict[str, Any]) -> None:
        if self.dead:
            raise WorkerLost("died", "the worker had already ended")
        try:
            assert self.process.stdin is not None
            # A random token, not a count: the request reaches the student's code (up the stack of a handler), and
            # a count told it how many calls the search had made, the same in both workers, so a bug could hide
            # after the first few levels (red-team round 16). The answer must carry it back.
            self.sequence = secrets.randbits(62)
            self.process.stdin.write(encode({**message, "seq": self.sequence}))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._lost() from None

    def receive(self, seconds: float, deadline: float | None = None) -> dict[str, Any]:
        """The next answer, waiting ``seconds`` at most (or until ``deadline``, a ``time.monotonic()`` shared by
        the workers answering one call)."""
        deadline = time.monotonic() + seconds if deadline is None else deadline
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            # An answer already in the pipe is read even past the deadline: this process may have been the slow
            # one (a collector's pass over the search's heap), and its pauses are not the worker's.
            ready, _, _ = select.select([self.answers], [], [], min(max(remaining, 0.0), 1.0))
            if not ready:
                if remaining <= 0:
                    self.kill()
                    raise WorkerLost("timeout", f"did not return within {seconds:g} s (the worker was stopped)")
                continue
            try:
                chunk = os.read(self.answers, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                raise self._lost()
            self.buffer += chunk
            if len(self.buffer) > MAX_LINE + 1:
                self.kill()
                raise WorkerLost("malformed", f"answered more than {MAX_LINE:,} bytes at once")
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            reply = decode(line)
        except WireError as e:
            self.kill()
            if isinstance(e, TooDeep):  # honest code can do this: say what to change
                raise WorkerLost("malformed", f"answered {e} levels, which quorumcheck does not read; keep node "
                                              "state and messages flatter") from None
            raise WorkerLost("malformed", f"answered something malformed ({e})") from None
        if reply.get("seq") != self.sequence or self.buffer:
            # A second writer on the channel (a forked copy of the worker?), or answers out of turn.
            self.kill()
            raise WorkerLost("malformed", "answered out of turn (a second process writing to quorumcheck's "
                                          "channel?)")
        return reply

    def _lost(self) -> WorkerLost:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code == -signal.SIGXCPU or code == 128 + signal.SIGXCPU:
            return WorkerLost("timeout", "used up the worker's CPU time limit (the worker was stopped)")
        if code is not None and code < 0:
            number = -code
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
            if number in (signal.SIGKILL, signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
                hint = {signal.SIGSEGV: "a crash in C code?", signal.SIGBUS: "a crash in C code?",
                        signal.SIGABRT: "abort()?", signal.SIGKILL: "killed: out of memory, or killed itself?"}
                why = hint[signal.Signals(number)]
            else:
                why = "a signal the code sent itself?"
            return WorkerLost("died", f"ended the worker process (killed by {name}: {why})")
        return WorkerLost("died", f"ended the worker process (exit status {code}: os._exit, sys.exit in a "
                                  "thread, or closing quorumcheck's channel?)")

    def __del__(self) -> None:
        # A model dropped without close() must not leave its workers running.
        try:
            self.kill()
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown
            pass

    def kill(self) -> None:
        if getattr(self, "dead", True):
            return
        self.dead = True
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL was sent
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            os.close(self.answers)
        except OSError:
            pass
        _sweep(self.uid, self.process.pid)
        if self.uid is not None:
            _remove_files_of(self.uid)
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.stage, ignore_errors=True)
        _LIVE.discard(self)


_SWEPT: list[int] = []


def _sweep_once() -> None:
    """Once per process: remove what killed grading runs left in the temporary folder."""
    if not _SWEPT:
        _SWEPT.append(sweep_stale_directories())


_UIDS = iter(range(1 << 30))


def _fresh_uid() -> int:
    """A user id no account has, distinct for every worker of this process (and, by pid, of others)."""
    return UNIQUE_UID_BASE + (os.getpid() % 100_000) * 1_000 + next(_UIDS) % 1_000


def _become_subreaper() -> None:
    """Orphaned descendants of a worker (a double fork) become our children, so they can be found and killed."""
    try:
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _sweep(uid: int | None, sid: int) -> None:
    """Kill what a worker left behind: processes of its own user (when it has one), or of its session.

    Orphans of a worker become our children (we are a subreaper); a worker running as its own user
    cannot have started any (no new processes), so this is a second line. Our own other children are
    never touched: they run as our user, in our session.
    """
    me = os.getpid()
    try:
        entries = os.listdir("/proc")
    except OSError:  # pragma: no cover
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            owner = os.stat(f"/proc/{entry}").st_uid
        except OSError:
            continue
        ppid, session = int(fields[1]), int(fields[3])
        if (uid is not None and owner == uid) or (ppid == me and session == sid):
            try:
                os.kill(int(entry), signal.SIGKILL)
                if ppid == me:
                    os.waitpid(int(entry), 0)
            except (OSError, ChildProcessError):
                pass


def _remove_files_of(uid: int) -> None:
    """Delete what a worker of its own user wrote to the machine's shared temporary directories."""
    import stat as stat_module

    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                if stat_module.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass


class WorkerHost:
    """Runs handler calls in sandboxed worker processes; the trusted side's only way to run student code.

    Parameters
    ----------
    source : StudentSource
        The student's file and classes.
    nodes : int, optional
        How many nodes, when the file gives one class.
    protocol : str
        The observation contract.
    settings : dict
        The contract's settings (as :class:`~quorumcheck.models.actor_model.ActorModel` passes them).
    handler_timeout : float
        CPU seconds per call inside the worker, with a wall-clock backstop at twice that plus one second (a call
        that misses either is run once more before it counts); the deadline here is
        :func:`~quorumcheck.student.wire.call_deadline`: three backstops (both runs, and reading the node's state
        after the second) plus two seconds.
    memory_mb : int, optional
        Each worker's address-space limit.
    determinism : bool, default True
        Run every call in a second worker with another hash seed and clock, and compare.
    cpu_seconds : float, optional
        Each worker's CPU time limit (:data:`CPU_SECONDS`); a worker that reaches it is killed, and the call
        it was running is a ``handlers-terminate`` finding.
    """

    def __init__(self, source: StudentSource, nodes: int | None, protocol: str, settings: dict[str, Any], *,
                 handler_timeout: float = 1.0, memory_mb: int | None = 2048, determinism: bool = True,
                 cpu_seconds: float | None = CPU_SECONDS) -> None:
        self.source = source
        self.nodes = nodes
        self.protocol = protocol
        self.settings = settings
        self.handler_timeout = handler_timeout
        self.memory_mb = memory_mb
        self.determinism = determinism
        self.cpu_seconds = cpu_seconds
        folder = str(Path(source.file).resolve().parent)
        _sweep_once()
        self.confinement = capabilities((folder,))
        self.output = OutputCapture()
        self.info: dict[str, Any] | None = None
        self.workers: list[_Worker | None] = [None, None] if determinism else [None]
        self.restarts = 0
        self.calls = 0
        self.deadline: float | None = None
        """The run's time limit (``time.monotonic()``), set by :func:`~quorumcheck.studenttest.check_student`: a
        worker replaced after that is not loaded again (its file may take long to import, each time), and a
        replacement's load may not outlast it; :class:`~quorumcheck.explorer.search.TimeLimitReached` instead."""
        self.ordered_network = True
        """Whether the order of the messages to one node matters (FIFO channels), for the determinism check; the
        model sets it from its network."""
        self.stop_at: float | None = _LOADS_BY.get()
        """A hard end (``time.monotonic()``): no load outlasts it and no call starts after it
        (:class:`~quorumcheck.explorer.search.TimeLimitReached` instead). The confirming replay's share of the
        run's time limit: it is set, by :func:`loads_by`, before the workers' first load."""

    @property
    def missing(self) -> tuple[str, ...]:
        """The sandbox measures not available on this machine (one phrase each)."""
        return self.confinement.missing

    # -- starting ---------------------------------------------------------------------------------------
    def _load_request(self) -> dict[str, Any]:
        return {"op": "load", "file": str(Path(self.source.file).resolve()),
                "classes": list(self.source.classes) if self.source.classes else None, "nodes": self.nodes,
                "protocol": self.protocol, "settings": self.settings, "handler_timeout": self.handler_timeout}

    def _spawn(self, k: int) -> _Worker:
        # The second worker differs in everything plain Python leaves open: the hash seed, the clock, and
        # the order dicts come back in.
        # The last worker (the second, with the determinism check) runs each call in a fresh copy of the loaded
        # code (student/worker/fresh.py): the answers the search takes are then those of calls that no earlier call
        # can have influenced, and the first worker's, which keeps its state, must agree.
        worker = _Worker(self.confinement, memory_mb=self.memory_mb, hash_seed=1 + k, clock_offset=1e6 * k + 0.5 * k,
                         capture=self.output if k == 0 else None, cpu_seconds=self.cpu_seconds,
                         fresh=self._fresh(k))
        worker.send({**self._load_request(), "rotate_dicts": k == 1})
        self.workers[k] = worker
        return worker

    def _loaded(self, worker: _Worker, respawned: bool = False) -> dict[str, Any]:
        limit = LOAD_SECONDS
        if respawned and self.deadline is not None:
            limit = min(limit, max(self.deadline - time.monotonic(), 0.0))
        if self.stop_at is not None:
            limit = min(limit, max(self.stop_at - time.monotonic(), 0.0))
        try:
            reply = worker.receive(limit)
        except WorkerLost as e:
            if limit < LOAD_SECONDS and e.kind == "timeout":
                worker.kill()
                raise _time_limit() from None
            raise InvalidStudentCode(f"{self.source.file}: loading it {e.text}") from None
        if "error" in reply:
            worker.kill()
            raise InvalidStudentCode(_line(str(reply["error"])))
        return self._valid_info(reply.get("ok"))

    def start(self) -> dict[str, Any]:
        """Start the workers and load the student's file: the classes' names, durable attributes, roles."""
        if self.info is not None:
            return self.info
        spawned = [self._spawn(k) for k in range(len(self.workers))]
        infos = [self._loaded(w) for w in spawned]
        if any(i != infos[0] for i in infos[1:]):
            self.close()
            raise InvalidStudentCode(f"{self.source.file}: loading it gave different classes or roles in two "
                                     "processes (randomness or the clock at import time?)")
        self.info = infos[0]
        return self.info

    def start_snapshot(self, i: int) -> tuple[Any, ...]:
        """The snapshot of node ``i`` after ``__init__`` and ``on_start`` (a convenience for examples)."""
        return self.call(i, (), ("s",))["snapshot"]

    def _valid_info(self, info: Any) -> dict[str, Any]:
        try:
            names, durable, requestable, roles, classes = (info["names"], info["durable"], info["requestable"],
                                                           info["roles"], info["classes"])
            renames, computed, orders_itself = info["renames"], info["computed"], info["orders_itself"]
            ambiguous = info["ambiguous_names"]
            count = len(names)
            ok_fields = (type(renames) is tuple and len(renames) == count and type(computed) is tuple
                         and len(computed) == count
                         and all(type(r) is dict and all(type(k) is str and type(v) is str for k, v in r.items())
                                 for r in renames)
                         and all(type(c) is tuple and all(type(f) is str for f in c) for c in computed))
            ok = (count >= 1 and all(type(n) is str for n in names) and len(durable) == count
                  and all(type(d) is tuple and all(type(a) is str for a in d) for d in durable)
                  and len(requestable) == count and all(type(r) is bool for r in requestable)
                  and type(roles) is dict and all(type(v) is tuple and all(type(x) is int and 0 <= x < count
                                                                          for x in v) for v in roles.values())
                  and all(type(c) is str for c in classes) and ok_fields
                  and type(orders_itself) is tuple and all(type(c) is str for c in orders_itself)
                  and type(ambiguous) is tuple and all(type(c) is str for c in ambiguous))
        except (KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise InvalidStudentCode(f"{self.source.file}: the worker described the node classes malformedly "
                                     "(does the file tamper with quorumcheck?)")
        # The node count is the grader's, not the worker's (a worker that reports another was changed by the code
        # it runs): classes named by the grader (--node-class) run one per node, or one on the nodes asked for (3 by
        # default); only a file whose classes the grader left to it sets its own count (a NODES list).
        asked = self.source.classes
        if asked and len(asked) > 1:
            expected = len(asked)
        elif not asked and len(classes) > 1:
            expected = len(classes)
        else:
            expected = 3 if self.nodes is None else self.nodes
        if count != expected or (asked and len(classes) != len(asked)):
            raise InvalidStudentCode(f"{self.source.file}: the worker reported {count} node{'s' * (count != 1)} where "
                                     f"{expected} were asked for (does the file tamper with quorumcheck?)")
        return {"names": tuple(names), "durable": tuple(durable), "requestable": tuple(requestable),
                "roles": dict(roles), "classes": tuple(classes), "renames": tuple(renames),
                "computed": tuple(computed), "orders_itself": tuple(orders_itself),
                "ambiguous_names": tuple(ambiguous)}

    # -- calls -----------------------------------------------------------------------------------------------
    def call(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> dict[str, Any]:
        """What node ``i`` in ``snapshot`` does on ``event``: validated plain data, or a failure."""
        self.start()
        if self.stop_at is not None and time.monotonic() >= self.stop_at:
            raise _time_limit()
        self.calls += len(self.workers)
        request = {"op": "call", "node": i, "snapshot": snapshot, "event": event}
        deadline = call_deadline(self.handler_timeout)
        answers: list[dict[str, Any]] = []
        sent: list[_Worker | WorkerLost] = []
        try:
            for k in range(len(self.workers)):
                try:
                    worker = self.workers[k]
                    if worker is None or worker.dead:
                        if self.deadline is not None and time.monotonic() >= self.deadline:
                            raise _time_limit()
                        self.restarts += 1
                        worker = self._spawn(k)
                        self._loaded(worker, respawned=True)
                    worker.send(request)
                    sent.append(worker)
                except WorkerLost as e:
                    sent.append(e)
                except InvalidStudentCode as e:
                    sent.append(WorkerLost("died", f"could not be restarted: {e}"))
            until = time.monotonic() + deadline  # the workers run the call side by side: one deadline for both
            cut = self.stop_at is not None and self.stop_at < until  # the run's hard end comes first
            until = min(until, self.stop_at) if self.stop_at is not None else until
            for k, worker in enumerate(sent):
                if isinstance(worker, WorkerLost):
                    answers.append(_failure_answer(snapshot, worker))
                    continue
                try:
                    reply = worker.receive(deadline, until)
                    answers.append(self._valid_answer(reply, snapshot, i))
                except WorkerLost as e:
                    if cut and e.kind == "timeout" and time.monotonic() >= until:
                        raise _time_limit() from None  # the run's time ran out, not the call's: no finding
                    answers.append(_failure_answer(snapshot, e))
                failure = answers[-1]["failure"]
                if failure is not None and failure[0] in ("outside", "timeout", "memory", "died", "malformed"):
                    self._retire(k)  # its module state (or its process) cannot be trusted any more
        except BaseException:
            # Cut between a request and its answer (a time limit while a worker restarted, Ctrl-C): a worker asked
            # and not heard would hand this answer to the next call, which it would then fail as "out of turn".
            for k in range(len(answers), len(sent)):
                if not isinstance(sent[k], WorkerLost):
                    self._retire(k)
            raise
        if len(answers) == 1:
            return answers[0]
        if answers[0]["failure"] is None and answers[1]["failure"] is not None and self._fresh(1):
            return answers[1]  # the call failed where nothing earlier could have influenced it: that is the finding
        result = agreed(answers[0], answers[1], "in two processes (other hash seed and clock)",
                        "hash(), set order, the clock, random, id(), or a dict's key order?",
                        ordered=self.ordered_network)
        if result["failure"] is not None and result["failure"][0] == "nondeterministic" and self._fresh(1):
            return self._earlier_calls_or(result, request, answers[1], snapshot, i)
        return result

    def _fresh(self, k: int) -> bool:
        """Whether worker ``k`` runs each call in a fresh copy of the loaded code."""
        return k == len(self.workers) - 1 and fresh_calls(self.confinement)

    def _earlier_calls_or(self, result: dict[str, Any], request: dict[str, Any], fresh: dict[str, Any],
                          snapshot: tuple[Any, ...], i: int) -> dict[str, Any]:
        """The first worker (which keeps its state between calls) and the second (a fresh copy for each call)
        disagreed: ask a newly started first worker. If it now agrees, what differed was left by earlier calls,
        in state quorumcheck does not watch (``outside``); otherwise the call is nondeterministic (``result``)."""
        self._retire(0)
        try:
            worker = self._spawn(0)
            self._loaded(worker, respawned=True)
            worker.send(request)
            again = self._valid_answer(worker.receive(call_deadline(self.handler_timeout)), snapshot, i)
        except (WorkerLost, InvalidStudentCode):
            self._retire(0)
            return result
        if _difference(again, fresh, self.ordered_network) is not None:
            return result
        self._retire(0)  # its state is the one earlier calls leave: the next call starts from a new one
        difference = result["failure"][1].split("on the same node state and input: ", 1)[-1].rsplit(" (", 1)[0]
        return {**result, "failure": ("outside", (
            f"did otherwise after earlier calls than in a fresh process ({difference}): it keeps state outside the "
            "node where quorumcheck does not look (a global of another module, an attribute of a function, of a "
            "class, of sys or builtins, a cache); keep all of it in self"))}

    def _retire(self, k: int) -> None:
        worker = self.workers[k]
        if worker is not None:
            worker.kill()
        self.workers[k] = None

    def _valid_answer(self, reply: dict[str, Any], before: tuple[Any, ...], i: int = 0) -> dict[str, Any]:
        answer = reply.get("answer")
        if type(answer) is not dict:
            raise WorkerLost("malformed", "answered something malformed (no answer)")
        try:
            failure = answer.get("failure")
            if failure is not None:
                if (type(failure) is not tuple or len(failure) != 2 or failure[0] not in _FAILURE_KINDS
                        or type(failure[1]) is not str):
                    raise WireError("a malformed failure")
                return {"snapshot": before, "sends": (), "timers": (), "computed": {},
                        "failure": (failure[0], _line(failure[1]))}
            snapshot = answer["snapshot"]
            if type(snapshot) is not tuple or not all(
                    type(p) is tuple and len(p) == 2 and type(p[0]) is str for p in snapshot):
                raise WireError("a malformed snapshot")
            names = [p[0] for p in snapshot]
            if names != sorted(set(names)) or {"id", "peers"} & set(names):
                raise WireError("a snapshot with duplicate, unsorted or reserved attribute names")
            for name, value in snapshot:
                frozen(value, f"attribute {name!r}")
            count = len(self.info["names"]) if self.info else 0
            sends = answer["sends"]
            if type(sends) is not tuple or len(sends) > MAX_SENDS or not all(  # the worker reports more as a finding
                    type(s) is tuple and len(s) == 2 and type(s[0]) is int and 0 <= s[0] < count for s in sends):
                raise WireError("malformed sends")
            for _, message in sends:
                frozen(message, "a message")
            computed_items = answer["computed"]
            expected = set(self.info["computed"][i]) if self.info else set()
            if type(computed_items) is not tuple or not all(
                    type(c) is tuple and len(c) == 2 and c[0] in expected for c in computed_items):
                raise WireError("malformed computed fields")
            computed = dict(computed_items)
            if set(computed) != expected:
                raise WireError("missing computed fields")
            for field, value in computed.items():
                frozen(value, f"the contract field {field!r}")
            timers = answer["timers"]
            if type(timers) is not tuple or len(timers) > MAX_TIMER_CALLS or not all(  # the worker reports more
                    type(t) is tuple and len(t) == 2 and t[0] in ("set", "cancel") and type(t[1]) is str
                    and len(t[1]) <= TIMER_NAME_LIMIT for t in timers):
                raise WireError("malformed timers")
        except (KeyError, WireError) as e:
            raise WorkerLost("malformed", f"answered something malformed ({e}; does the code write to "
                                          "quorumcheck's channel?)") from None
        returned = answer.get("returned")
        returned = returned if type(returned) is str and returned.isidentifier() and len(returned) <= 40 else None
        return {"snapshot": snapshot, "sends": sends, "timers": timers, "computed": computed, "failure": None,
                "returned": returned}

    def close(self) -> None:
        """Kill every worker (and anything it started); the next call starts new ones."""
        for k in range(len(self.workers)):
            self._retire(k)
        self.info = None


_LOADS_BY: contextvars.ContextVar[float | None] = contextvars.ContextVar("quorumcheck_loads_by", default=None)


@contextlib.contextmanager
def loads_by(stop_at: float | None) -> Iterator[None]:
    """Within it, a new :class:`WorkerHost` gets ``stop_at`` as its hard end (:attr:`WorkerHost.stop_at`), so that
    even its workers' first load is bounded by it."""
    token = _LOADS_BY.set(stop_at)
    try:
        yield
    finally:
        _LOADS_BY.reset(token)


def _time_limit() -> BaseException:
    from quorumcheck.explorer.search import TimeLimitReached  # the explorer imports the models, which import this

    return TimeLimitReached()


def _failure_answer(snapshot: tuple[Any, ...], lost: WorkerLost) -> dict[str, Any]:
    return {"snapshot": snapshot, "sends": (), "timers": (), "computed": {}, "failure": (lost.kind, lost.text)}


def _line(text: str, limit: int = 600) -> str:
    """One printable line of at most ``limit`` characters (what the student wrote is shown, not obeyed): a newline
    as `` ⏎ ``, any other character that is not printable written out (``\\x1b``, ``\\ud800``), as names and printed
    output are (it was a space, and lone surrogates vanished: red-team round 16).

    >>> _line("boom\\x1b]0;title\\x07\\nnext " + chr(0xD800))
    'boom\\\\x1b]0;title\\\\x07 ⏎ next \\\\ud800'
    """
    cleaned = printable(text.replace("\n", " ⏎ "))
    return cleaned if len(cleaned) <= limit else cleaned[:limit - 1] + "…"


def agreed(first: dict[str, Any], second: dict[str, Any], how: str, causes: str, *,
           ordered: bool = True) -> dict[str, Any]:
    """``first``, or a ``nondeterministic`` failure when ``second`` (the same call, run ``how``) did otherwise.

    The messages to one node are compared in their order only on an ``ordered`` network (FIFO channels); a bag
    keeps no order, so there they are compared as a multiset.

    >>> same = {"snapshot": (("x", 1),), "sends": (), "timers": (), "computed": {}, "failure": None}
    >>> agreed(same, dict(same), "twice", "random?") is same
    True
    >>> agreed(same, {**same, "snapshot": (("x", 2),)}, "twice", "random?")["failure"][1]
    'did different things twice on the same node state and input: self.x became 1 in one and 2 in the other (random?)'
    """
    if first["failure"] is not None:
        return first
    difference = _difference(first, second, ordered)
    if difference is None:
        return first
    return {**first, "sends": (), "timers": (), "failure": (
        "nondeterministic", f"did different things {how} on the same node state and input: {difference} ({causes})")}


def _per_key(pairs: tuple[tuple[Any, Any], ...]) -> dict[Any, list[Any]]:
    """``(key, item)`` pairs as each key's items in their order: what a call's sends (by destination) or timer
    operations (by timer) do, whatever the order between keys."""
    grouped: dict[Any, list[Any]] = {}
    for key, item in pairs:
        grouped.setdefault(key, []).append(item)
    return grouped


def _difference(first: dict[str, Any], second: dict[str, Any], ordered: bool = True) -> str | None:
    from quorumcheck.models.actors import node_name, show

    if second["failure"] is not None:
        return f"the second run failed: {second['failure'][1]}"
    if first["snapshot"] != second["snapshot"]:
        a, b = dict(first["snapshot"]), dict(second["snapshot"])
        for name in sorted(set(a) | set(b)):
            if a.get(name) != b.get(name):
                return (f"self.{name} became {show(a[name]) if name in a else '(unset)'} in one and "
                        f"{show(b[name]) if name in b else '(unset)'} in the other")
    # Only the order of the messages to one node can matter, and only on FIFO channels (a bag has none): a
    # broadcast over a dict's keys sends in another order when the dict is restored in another.
    if (_per_key(first["sends"]) != _per_key(second["sends"]) if ordered
            else collections.Counter(first["sends"]) != collections.Counter(second["sends"])):
        return (f"it sent {[f'{show(m)} to {node_name(d)}' for d, m in first['sends']]} in one and "
                f"{[f'{show(m)} to {node_name(d)}' for d, m in second['sends']]} in the other")
    if _per_key(tuple((name, op) for op, name in first["timers"])) != _per_key(
            tuple((name, op) for op, name in second["timers"])):
        return f"its timers were {list(first['timers'])} in one and {list(second['timers'])} in the other"
    if first["computed"] != second["computed"]:
        return "what its methods expose to the observation contract differed"
    return None
