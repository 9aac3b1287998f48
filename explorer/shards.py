"""Parallel search on every core: the visited set sharded over N worker processes, level by level.

:func:`quorumcheck.explorer.explore` with ``workers=N`` sets the run up once (the
property judges, symmetry), then forks N workers. Each worker runs the same
breadth-first loop (:mod:`quorumcheck.explorer.search`) on its *shard*: it owns
the states whose key falls to it (``key >> 40`` modulo N), stores only those,
and expands only those. The loop asks its :class:`Shard` at two points:

* for each successor, :meth:`Shard.owner` says which worker owns it; a successor
  another worker owns goes into an outbox instead of the local store;
* at the end of each BFS level, :meth:`Shard.end_level` exchanges the outboxes in
  two phases, then meets every worker at a barrier:

  1. each worker sends each owner the 8-byte *keys* of the successors it owns,
     and each owner answers, per key, "new" (reserving it) or "seen";
  2. each worker sends each owner only the states that were new (pickled, one
     batch per owner), with their parent's global node number and action; the
     owner admits them into its next level exactly as it admits its own;
  3. the coordinator (the parent process) sums what every worker reports and
     answers: go on, or stop (a violation, a limit, Ctrl-C, or nothing left).

Because every worker finishes level d before any starts level d + 1, depths and
shortest counterexample lengths are the ones a single process finds. A node's
global number is ``local * N + shard``; a counterexample is rebuilt by the
coordinator asking the owning workers for parents, back to an initial state.

Keys are the fingerprint store's own 64-bit fingerprints with ``store="fingerprints"``,
and Python's ``hash()`` of the state with the object store (cheaper, and the
same in every worker, since all are forked from one process). Two different
states owned by one worker with the same key would be taken for one, so a run
with ``workers > 1`` reports the estimated chance of that, as a fingerprint run does.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=1), workers=2)
>>> r.verdict.value, r.distinct_states, r.depth, r.transitions
('holds', 3921, 17, 22994)
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
import traceback
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe, wait
from typing import Any

from quorumcheck.models.api import Action

from .result import PropertyStats
from .store import FingerprintTable, KeySet

__all__ = ["Coordinator", "Shard", "ShardReport", "WorkerDied", "abort", "report_error", "start_shards"]

_MASK = (1 << 64) - 1
SHIPPED_CACHE = 1 << 21
"""How many routed keys a worker remembers so as not to route them again (about 100 MiB at most)."""


@dataclass
class ShardReport:
    """What one worker found, sent to the coordinator when the search ends."""

    states: int
    transitions: int
    failed: dict[str, tuple[int, Action | None, Any, tuple[int, int, int]]] = field(default_factory=dict)
    """property -> (global node or parent, action, state, (level, shard, order)) of its first violation."""
    failed_outside: set[str] = field(default_factory=set)
    failed_steps: dict[str, tuple[int, Action, Any, tuple[int, int, int]]] = field(default_factory=dict)
    witnessed: dict[str, tuple[int, tuple[int, int]]] = field(default_factory=dict)
    """reachability property -> (global node, (level, shard)) of its first witness."""
    judging: dict[str, PropertyStats] = field(default_factory=dict)
    store_bytes: int = 0
    graph: Any = None
    """With the graph kept: the worker's part of it (:class:`~quorumcheck.explorer.graph.GraphPart`: its states
    and depths, the edges between them, and its edges to other workers' states by key)."""
    peak_memory_bytes: int = 0


class Shard:
    """One worker's side of the exchange (see the module docs)."""

    def __init__(self, index: int, count: int, peers: dict[int, Connection], control: Connection,
                 key: Callable[[Any], int], owned: FingerprintTable | KeySet) -> None:
        self.index, self.count = index, count
        self.peers = peers
        self.control = control
        self._key = key
        self.owned = owned  # the keys of the states this worker owns (its store's table, or a table of hashes)
        self._outbox_keys: dict[int, array[int]] = {p: array("Q") for p in peers}
        self._outbox: dict[int, list[tuple[int, Action | None, Any]]] = {p: [] for p in peers}
        self._last = 0  # the key owner() computed last, for send_later()
        # Keys this worker has already routed: their owner has decided them (admitted it, or had it), so a
        # successor met again is dropped here instead of crossing the pipe. Most successors are met again
        # (Raft at TLC's configuration: 12 transitions per state). A cache only: cleared when full.
        self._shipped: set[int] = set()

    def owner(self, state: Any) -> int:
        """The shard that owns ``state``; a state of another shard is remembered by :meth:`send_later`."""
        k = self._key(state) & _MASK
        self._last = k
        return (k >> 40) % self.count

    @property
    def last_key(self) -> int:
        """The key :meth:`owner` computed last."""
        return self._last

    def send_later(self, owner: int, parent: int, action: Action | None, state: Any) -> None:
        """Queue the successor :meth:`owner` just placed in ``owner``'s shard for the end of the level.

        A key this worker routed before (at this level or an earlier one) is not queued again: its owner
        has it already, and the first route's parent is at no greater depth.
        """
        shipped = self._shipped
        if self._last in shipped:
            return
        if len(shipped) >= SHIPPED_CACHE:
            shipped.clear()
        shipped.add(self._last)
        self._outbox_keys[owner].append(self._last)
        self._outbox[owner].append((parent, action, state))

    def note(self, state: Any) -> None:
        """Record the key of a state this worker admitted itself (object store: its table is apart)."""
        self.owned.add((self._key(state) & _MASK) or 1)

    def _swap(self, outgoing: dict[int, bytes]) -> dict[int, bytes]:
        """Send one message to every peer and receive one from every peer, without deadlock."""
        sender = threading.Thread(target=lambda: [self.peers[p].send_bytes(outgoing[p]) for p in sorted(self.peers)])
        sender.start()
        incoming = {q: self.peers[q].recv_bytes() for q in sorted(self.peers)}
        sender.join()
        return incoming

    def end_level(self, reserve: bool = True) -> list[tuple[int, Action | None, Any]]:
        """Exchange the level's outboxes; the states this worker must admit, in a fixed order.

        With ``reserve=False`` (the depth-limit probe) the owners only say whether
        any queued key is new, and nothing is admitted: the result is then a list
        with one placeholder per new key.
        """
        asked = self._swap({p: a.tobytes() for p, a in self._outbox_keys.items()})
        answers: dict[int, bytes] = {}
        owned = self.owned
        for q in sorted(asked):
            wanted = array("Q")
            wanted.frombytes(asked[q])
            flags = bytearray(len(wanted))
            for i, k in enumerate(wanted):
                k = k or 1
                if k not in owned:
                    flags[i] = 1
                    if reserve:
                        owned.add(k)
            answers[q] = bytes(flags)
        replies = self._swap(answers)
        if not reserve:
            new = sum(sum(flags) for flags in replies.values())
            self._clear()
            return [(-1, None, None)] * new
        batches = {p: [item for item, flag in zip(self._outbox[p], replies[p]) if flag] for p in self.peers}
        received = self._swap({p: pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL) for p, b in batches.items()})
        self._clear()
        return [item for q in sorted(received) for item in pickle.loads(received[q])]

    def _clear(self) -> None:
        for p in self.peers:
            self._outbox_keys[p] = array("Q")
            self._outbox[p] = []

    def barrier(self, states: int, transitions: int, next_level: int, stop: str | None) -> tuple[str | None, bool]:
        """Report the level to the coordinator; its answer: a reason to stop (or None), and whether any
        worker has states in its next level."""
        self.control.send(("level", states, transitions, next_level, stop))
        answer = self.control.recv()
        return answer[1], answer[2]

    def report_error(self) -> None:
        """Tell the coordinator this worker failed (the exception's last line), then end the process."""
        try:
            self.control.send(("error", traceback.format_exc(limit=8).strip().splitlines()[-1]))
        finally:
            os._exit(1)

    def abort(self, message: str, reason: str) -> None:
        """End the whole run from this worker (a property could not be decided), then end the process."""
        try:
            self.control.send(("abort", message, reason))
        finally:
            os._exit(1)

    def finish(self, report: ShardReport, path_part: Callable[[int], tuple[int, Any, Any, Any]]) -> None:
        """Send the report, answer the coordinator's questions about parents, then end the process."""
        self.control.send(("report", report))
        while True:
            try:
                request = self.control.recv()
            except (EOFError, OSError):
                break
            if request[0] == "path":
                self.control.send(path_part(request[1]))
            else:
                break
        os._exit(0)


class Coordinator:
    """The parent process's side: meets the workers at every level's barrier and gathers their reports."""

    def __init__(self, pids: list[int], controls: list[Connection], *, max_states: int | None,
                 deadline: float | None, stop_at_first: bool) -> None:
        self.pids, self.controls = pids, controls
        self.max_states, self.deadline, self.stop_at_first = max_states, deadline, stop_at_first
        self.interrupted = False
        self._reaped: dict[int, int] = {}
        self.depth = 0
        self.stop_reason: str | None = None

    def _recv(self, k: int) -> Any:
        try:
            return self.controls[k].recv()
        except (EOFError, OSError):
            raise WorkerDied(self._first_death(k)) from None

    def _first_death(self, k: int, error: str | None = None) -> str:
        """Say which worker died first: one killed by a signal takes its peers down with it (they lose their
        pipe to it), so a dead worker is named before a peer's error."""
        deadline = time.perf_counter() + 1.0
        while time.perf_counter() < deadline:
            for j, pid in enumerate(self.pids):
                if j in self._reaped:
                    status = self._reaped[j]
                else:
                    try:
                        done, status = os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        continue
                    if not done:
                        continue
                    self._reaped[j] = status
                if os.WIFSIGNALED(status):
                    return f"worker {j} died (killed by signal {os.WTERMSIG(status)})"
            if error is None and k in self._reaped:
                break
            time.sleep(0.02)
        if error is not None:
            return f"worker {k} failed: {error}"
        status = self._reaped.get(k)
        how = f"exit status {os.WEXITSTATUS(status)}" if status is not None else "it closed its pipe"
        return f"worker {k} died ({how})"

    def run(self, on_level: Callable[[int, int, int, int], None] | None = None,
            interrupted: Callable[[], bool] = lambda: False) -> list[ShardReport]:
        """Drive the levels until every worker reports; raises :class:`WorkerDied` when one dies or aborts.

        ``on_level(states, transitions, queue, depth)`` is called after every level
        with the sums over the workers (the live progress line); ``interrupted()``
        is polled while waiting (Ctrl-C, noted by the caller's signal handler).
        """
        reports: dict[int, ShardReport] = {}
        messages: dict[int, Any] = {}
        while len(reports) < len(self.controls):
            waiting = [self.controls[k] for k in range(len(self.controls)) if k not in reports and k not in messages]
            try:
                ready = wait(waiting, timeout=0.2)
            except KeyboardInterrupt:  # Ctrl-C: stop everyone at this level's barrier
                self.interrupted = True
                continue
            if interrupted():
                self.interrupted = True
            for c in ready:
                k = self.controls.index(c)
                message = self._recv(k)
                if message[0] == "error":
                    raise WorkerDied(self._first_death(k, message[1]))
                if message[0] == "abort":
                    raise WorkerDied(message[1], reason=message[2])
                if message[0] == "report":
                    reports[k] = message[1]
                else:
                    messages[k] = message
            if len(messages) + len(reports) < len(self.controls) or not messages:
                continue
            stop, more = self.decide(list(messages.values()), on_level)
            for k in messages:
                self.controls[k].send(("go", stop, more))
            messages = {}
        return [reports[k] for k in range(len(self.controls))]

    def decide(self, messages: list[tuple[Any, ...]],
               on_level: Callable[[int, int, int, int], None] | None) -> tuple[str | None, bool]:
        """The answer to one level's barrier, from every worker's ``("level", states, transitions, queue,
        stop)``: a reason to stop (or None), and whether any worker has states in its next level."""
        states = sum(m[1] for m in messages)
        transitions = sum(m[2] for m in messages)
        queue = sum(m[3] for m in messages)
        reasons = [m[4] for m in messages if m[4] is not None]
        more = queue > 0
        stop: str | None = None
        for reason in ("unknown", "violation", "interrupted", "timeout", "max_states", "max_depth"):
            if reason in reasons:
                stop = reason
                break
        if stop is None and self.interrupted:
            stop = "interrupted"
        if stop is None and self.deadline is not None and time.perf_counter() >= self.deadline:
            stop = "timeout"
        # One process stops when it would store state max_states + 1. Here the level's new states are known only
        # at its end: more than the limit is a cut run (even with nothing queued), exactly the limit with states
        # queued is not yet (the next level may find nothing new, and the run then ends as one process's does).
        if stop is None and self.max_states is not None and states > self.max_states:
            stop = "max_states"
        if stop is None and more:
            self.depth += 1
        self.stop_reason = stop
        if on_level is not None:
            on_level(states, transitions, queue, self.depth)
        return stop, more

    def path_part(self, node: int) -> tuple[int, Any, Any, Any]:
        """(parent, action, state or None, fingerprint or None) of global node ``node``, from its owner."""
        k = node % len(self.controls)
        self.controls[k].send(("path", node))
        return self._recv(k)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Let the workers end, and reap them (killing any that does not end at once)."""
        for c in self.controls:
            try:
                c.send(("done",))
            except OSError:
                pass
        for j, pid in enumerate(self.pids):
            if j in self._reaped:
                continue
            try:
                for _ in range(50):
                    done, _status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    time.sleep(0.01)
                else:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


class WorkerDied(Exception):
    """A worker died, failed, or ended the run (``reason``: the stop reason it gives the run)."""

    def __init__(self, message: str, reason: str = "worker-died") -> None:
        super().__init__(message)
        self.reason = reason


def start_shards(count: int, key: Callable[[Any], int], owned: Callable[[], FingerprintTable | KeySet], *,
                 max_states: int | None, deadline: float | None,
                 stop_at_first: bool) -> tuple[Shard | None, Coordinator | None]:
    """Fork ``count`` workers; in each child the child's :class:`Shard`, in the parent the :class:`Coordinator`.

    Every pair of workers shares a duplex pipe, and each worker a control pipe
    with the coordinator. Workers ignore Ctrl-C (the coordinator stops them at
    the next barrier) and die with the coordinator.
    """
    links: dict[tuple[int, int], tuple[Connection, Connection]] = {
        (a, b): Pipe(duplex=True) for a in range(count) for b in range(a + 1, count)
    }
    controls = [Pipe(duplex=True) for _ in range(count)]
    pids: list[int] = []
    sys.stdout.flush()
    sys.stderr.flush()
    for k in range(count):
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                import ctypes

                ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the coordinator
            except (OSError, AttributeError):
                pass
            peers = {}
            for (a, b), (ca, cb) in links.items():
                if a == k:
                    peers[b] = ca
                elif b == k:
                    peers[a] = cb
                else:
                    ca.close()
                    cb.close()
            for j, (parent_end, child_end) in enumerate(controls):
                parent_end.close()
                if j != k:
                    child_end.close()
            return Shard(k, count, peers, controls[k][1], key, owned()), None
        pids.append(pid)
    for ca, cb in links.values():
        ca.close()
        cb.close()
    for _, child_end in controls:
        child_end.close()
    coordinator = Coordinator(pids, [parent_end for parent_end, _ in controls], max_states=max_states,
                              deadline=deadline, stop_at_first=stop_at_first)
    return None, coordinator


def report_error(shard: Shard) -> None:
    """Tell the coordinator this worker failed (the exception's last line); a forked worker then ends."""
    shard.report_error()


def abort(shard: Shard, message: str, reason: str) -> None:
    """End the whole run from a worker (a property could not be decided); a forked worker then ends."""
    shard.abort(message, reason)
