"""The sharded search on a Ray cluster: the same loop, with shards as Ray actors.

``explore(model, workers=N, ray="local" | ADDRESS)`` (``--ray``) runs the level-synchronous search
of :mod:`quorumcheck.explorer.shards` with its N shards as Ray actors instead of forked processes.
Each actor runs the one breadth-first loop (:mod:`quorumcheck.explorer.search`) on its shard; what
changes is how the shards talk:

* **The model** reaches each actor pickled (Ray's cloudpickle); each actor builds its own property
  judges and symmetry, as a forked worker would have inherited them.
* **Keys** are the fingerprint store's process-independent fingerprints (xxHash of the state's
  value), for both stores: Python's ``hash()`` of a string differs between the actors' processes.
* **The exchange** at the end of a level is the same three phases (keys, answers, new states), but
  each shard puts what it sends to each peer into Ray's object store (``ray.put``) and posts only
  the object references to a small mailbox actor; each peer takes its references there and reads
  the bytes from the object store (``ray.get``), which moves them between machines.
* **The barrier** goes through the mailbox too: each shard posts its counts for the level, and
  this process (the coordinator) decides as it does for forked workers (a violation, a limit,
  Ctrl-C, nothing left) and posts the answer.
* **A failure** -- an actor that dies, or raises -- ends the run ``UNDETERMINED`` with stop reason
  ``"worker-died"``, never a pass. Each actor checks the time left as it expands; Ctrl-C is
  noticed at the next level's barrier.

Ray is an optional dependency (``pip install 'quorumcheck[ray]'``); without it ``ray=`` is a one-line
error saying so. ``ray="local"`` starts a local Ray instance for the run and stops it afterwards;
an address connects to a running cluster (``ray start --head`` prints one).

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=1), workers=2, ray="local")  # doctest: +SKIP
>>> r.verdict.value, r.distinct_states, r.depth, r.workers  # doctest: +SKIP
('holds', 3921, 17, 2)
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from quorumcheck.errors import InvalidParameter

from .shards import Coordinator, Shard, ShardReport, WorkerDied

__all__ = ["RAY_INSTALL", "RayCoordinator", "RayShard", "ShardDone", "connected", "import_ray", "start_ray_shards"]

RAY_INSTALL = "pip install 'quorumcheck[ray]' (or: pip install ray)"


def import_ray() -> Any:
    """The ``ray`` module, or a one-line :class:`InvalidParameter` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InvalidParameter(f"--ray needs Ray, which is not installed here; install it with: {RAY_INSTALL}") \
            from None
    return ray


@contextlib.contextmanager
def connected(address: str) -> Iterator[Any]:
    """Ray, connected to ``address`` (``"local"``: a local instance, started here and stopped afterwards)."""
    ray = import_ray()
    if address != "local":
        _reachable(address)
    if ray.is_initialized():  # already connected (by the caller): use that cluster, and leave it running
        yield ray
        return
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "logging_level": "ERROR", "configure_logging": True}
    try:
        if address == "local":
            ray.init(**options)
        else:
            ray.init(address=address, **options)
    except Exception as e:  # noqa: BLE001 - Ray raises many kinds; all mean "no cluster here"
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InvalidParameter(f"could not connect to the Ray cluster at {address!r} ({text}); start one with "
                               "`ray start --head` and pass the address it prints, or use --ray local") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _reachable(address: str) -> None:
    """A one-line error at once for a cluster address nothing listens on (Ray itself waits minutes)."""
    import socket

    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        if address != "auto":
            raise InvalidParameter(f"--ray {address!r}: give the cluster's address as host:port (what `ray start "
                                   "--head` prints), or 'local'")
        return
    try:
        with socket.create_connection((host, int(port)), timeout=3.0):
            pass
    except OSError as e:
        raise InvalidParameter(f"could not connect to the Ray cluster at {address!r} ({e.strerror or e}); start one "
                               "with `ray start --head` and pass the address it prints, or use --ray local") from None


class ShardDone(Exception):
    """Raised in an actor when its shard has finished: carries the report and the parent look-up."""

    def __init__(self, report: ShardReport | None, path_part: Callable[[int], Any] | None) -> None:
        super().__init__("shard finished")
        self.report, self.path_part = report, path_part


class _Mailbox:
    """Where the shards leave each other object references, and meet the coordinator at each level."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.lock = threading.Condition()
        self.boxes: dict[tuple[Any, int], dict[int, Any]] = {}
        self.levels: dict[int, dict[int, tuple[Any, ...]]] = {}
        self.answers: dict[int, tuple[str | None, bool]] = {}
        self.failure: tuple[str, str, str] | None = None

    def post(self, tag: Any, source: int, refs: dict[int, list[Any]]) -> None:
        with self.lock:
            for target, ref in refs.items():
                self.boxes.setdefault((tag, target), {})[source] = ref
            self.lock.notify_all()

    def take(self, tag: Any, target: int) -> dict[int, list[Any]]:
        with self.lock:
            self.lock.wait_for(lambda: len(self.boxes.get((tag, target), ())) == self.count - 1
                               or self.failure is not None)
            return self.boxes.pop((tag, target), {})

    def level(self, number: int, source: int, message: tuple[Any, ...]) -> tuple[str | None, bool]:
        """A shard's counts for a level; blocks until the coordinator answers."""
        with self.lock:
            self.levels.setdefault(number, {})[source] = message
            self.lock.notify_all()
            self.lock.wait_for(lambda: number in self.answers or self.failure is not None)
            return self.answers.get(number, ("interrupted", False))

    def gather(self, number: int, seconds: float) -> list[tuple[Any, ...]] | None:
        """Every shard's counts for level ``number``, or ``None`` if they are not all in within ``seconds``."""
        with self.lock:
            self.lock.wait_for(lambda: len(self.levels.get(number, ())) == self.count, timeout=seconds)
            got = self.levels.get(number, {})
            return [got[k] for k in sorted(got)] if len(got) == self.count else None

    def answer(self, number: int, stop: str | None, more: bool) -> None:
        with self.lock:
            self.answers[number] = (stop, more)
            self.levels.pop(number, None)
            self.lock.notify_all()

    def fail(self, kind: str, message: str, reason: str) -> None:
        with self.lock:
            if self.failure is None:
                self.failure = (kind, message, reason)
            self.lock.notify_all()

    def failed(self) -> tuple[str, str, str] | None:
        return self.failure


class RayShard(Shard):
    """One actor's side of the exchange: :class:`Shard`'s, with the object store and the mailbox."""

    def __init__(self, index: int, count: int, mailbox: Any, key: Callable[[Any], int], owned: Any) -> None:
        super().__init__(index, count, {p: None for p in range(count) if p != index}, None, key,  # type: ignore[misc]
                         owned)
        self.mailbox = mailbox
        self._swaps = 0
        self._levels = 0
        import ray

        self._ray = ray

    def _swap(self, outgoing: dict[int, bytes]) -> dict[int, bytes]:
        ray = self._ray
        self._swaps += 1
        tag = ("swap", self._swaps)
        ray.get(self.mailbox.post.remote(tag, self.index, {p: [ray.put(b)] for p, b in outgoing.items()}))
        refs = ray.get(self.mailbox.take.remote(tag, self.index))
        if len(refs) != self.count - 1:
            raise WorkerDied("another worker failed during the exchange")
        got = ray.get([refs[q][0] for q in sorted(refs)])
        return dict(zip(sorted(refs), got))

    def barrier(self, states: int, transitions: int, next_level: int, stop: str | None) -> tuple[str | None, bool]:
        self._levels += 1
        return tuple(self._ray.get(self.mailbox.level.remote(  # type: ignore[return-value]
            self._levels, self.index, ("level", states, transitions, next_level, stop))))

    def report_error(self) -> None:
        self._ray.get(self.mailbox.fail.remote(
            "error", f"worker {self.index} failed: {traceback.format_exc(limit=8).strip().splitlines()[-1]}",
            "worker-died"))

    def abort(self, message: str, reason: str) -> None:
        self._ray.get(self.mailbox.fail.remote("abort", message, reason))
        raise ShardDone(None, None)

    def finish(self, report: ShardReport, path_part: Callable[[int], tuple[int, Any, Any, Any]]) -> None:
        raise ShardDone(report, path_part)


class _ShardActor:
    """A Ray actor holding one shard: it runs the search loop, then answers questions about parents."""

    def __init__(self, index: int, count: int, mailbox: Any, model: bytes, options: dict[str, Any]) -> None:
        self.index, self.count, self.mailbox = index, count, mailbox
        self.model, self.options = model, options
        self.path_part: Callable[[int], Any] | None = None

    def run(self) -> ShardReport | None:
        from ray import cloudpickle

        from .search import _Alarm, _search

        model = cloudpickle.loads(self.model)
        try:
            with _Alarm(None) as alarm:
                _search(model, alarm=alarm, remote=(self.index, self.count, self.mailbox), **self.options)
        except ShardDone as done:
            self.path_part = done.path_part
            return done.report
        raise AssertionError("a shard's search returned without finishing")  # pragma: no cover

    def path(self, node: int) -> Any:
        assert self.path_part is not None
        return self.path_part(node)


class RayCoordinator(Coordinator):
    """This process's side of a Ray run: drives the levels through the mailbox, gathers the reports."""

    def __init__(self, ray: Any, actors: list[Any], mailbox: Any, *, max_states: int | None,
                 deadline: float | None, stop_at_first: bool) -> None:
        super().__init__([], actors, max_states=max_states, deadline=deadline, stop_at_first=stop_at_first)
        self.ray, self.mailbox = ray, mailbox
        self.runs = [a.run.remote() for a in actors]

    def _died(self) -> None:
        """Raise :class:`WorkerDied` if an actor failed or died."""
        ray = self.ray
        failure = ray.get(self.mailbox.failed.remote())
        if failure is not None:
            kind, message, reason = failure
            raise WorkerDied(message, reason=reason)
        done, _ = ray.wait(self.runs, num_returns=len(self.runs), timeout=0)
        for ref in done:
            try:
                ray.get(ref)
            except Exception as e:  # noqa: BLE001 - RayActorError, RayTaskError: the actor is gone
                k = self.runs.index(ref)
                text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                raise WorkerDied(f"worker {k} died ({text[:200]})") from None

    def run(self, on_level: Callable[[int, int, int, int], None] | None = None,
            interrupted: Callable[[], bool] = lambda: False) -> list[ShardReport]:
        ray = self.ray
        number = 1  # the barrier after the initial states is level 1, as the shards count
        while True:
            try:
                messages = ray.get(self.mailbox.gather.remote(number, 0.2))
            except KeyboardInterrupt:
                self.interrupted = True
                continue
            if interrupted():
                self.interrupted = True
            if messages is None:
                self._died()
                continue
            stop, more = self.decide(messages, on_level)
            ray.get(self.mailbox.answer.remote(number, stop, more))
            number += 1
            if stop is not None or not more:
                break
        try:
            reports = ray.get(self.runs)
        except Exception:  # noqa: BLE001
            self._died()
            raise
        if any(r is None for r in reports):
            self._died()
        return reports  # type: ignore[return-value]

    def path_part(self, node: int) -> tuple[int, Any, Any, Any]:
        return self.ray.get(self.controls[node % len(self.controls)].path.remote(node))  # type: ignore[no-any-return]

    def close(self) -> None:
        ray = self.ray
        try:
            ray.get(self.mailbox.fail.remote("closed", "the run ended", "interrupted"))
        except Exception:  # noqa: BLE001
            pass
        for actor in [*self.controls, self.mailbox]:
            with contextlib.suppress(Exception):
                ray.kill(actor)


def start_ray_shards(ray: Any, count: int, model: Any, options: dict[str, Any], *, max_states: int | None,
                     deadline: float | None, stop_at_first: bool) -> RayCoordinator:
    """Start ``count`` shard actors (and their mailbox) on the connected cluster; the coordinator."""
    from ray import cloudpickle

    blob = cloudpickle.dumps(model)
    mailbox = ray.remote(num_cpus=0, max_concurrency=4 * count + 8)(_Mailbox).remote(count)
    # One CPU per shard when the cluster has them, else a share (more shards than CPUs still all start).
    cpus = float(ray.cluster_resources().get("CPU", 1.0))
    actor = ray.remote(num_cpus=min(1.0, cpus / count))(_ShardActor)
    actors = [actor.remote(k, count, mailbox, blob, options) for k in range(count)]
    return RayCoordinator(ray, actors, mailbox, max_states=max_states, deadline=deadline,
                          stop_at_first=stop_at_first)
