"""No trust boundary: handler calls in this process, for a student's own tests and for debugging.

:class:`InProcessHost` answers the same questions as the sandboxed
:class:`~quorumcheck.student.trusted.workers.WorkerHost`, by running the
handlers here (:class:`~quorumcheck.student.worker.calls.NodeRunner`). It is
what ``check_student(MyNode, ...)`` with class objects and ``quorumcheck test
--no-isolate`` use: fast, debuggable, and no protection at all, because the
student's code already runs in this process. Graders use a file path instead
(docs/grading.md explains why).

Determinism is checked by running each new call twice here, which catches
randomness and the clock but not what differs only between processes (hash
seeds, ``id()``); the worker host checks across processes.

Examples
--------
>>> from quorumcheck.models.actors import Node
>>> class Quiet(Node):
...     pass
>>> host = InProcessHost((Quiet, Quiet), "none", {})
>>> host.start()["names"], host.call(0, (), ("s",))["failure"]
(('Quiet', 'Quiet'), None)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from quorumcheck.models.actors import Node
from quorumcheck.student.trusted.workers import agreed
from quorumcheck.student.wire import canonical
from quorumcheck.student.worker.calls import NodeRunner, OutsideState

__all__ = ["InProcessHost"]


class InProcessHost:
    """Runs handler calls in this process (no isolation); same answers as the worker host."""

    missing = ("no isolation: the student's code runs in quorumcheck's own process",)

    def __init__(self, classes: Sequence[type[Node]], protocol: str, settings: dict[str, Any], *,
                 handler_timeout: float = 1.0, determinism: bool = True) -> None:
        self.classes = tuple(classes)
        self.runner = NodeRunner(self.classes, protocol, settings, handler_timeout=handler_timeout,
                                 watch_outside=False, interruptible=True)
        modules = [m for m in dict.fromkeys(sys.modules.get(c.__module__) for c in self.classes) if m is not None]
        self.runner.outside = OutsideState(self.classes, self.runner.snapshotter, modules=modules)
        self.determinism = determinism
        self.ordered_network = True  # see WorkerHost.ordered_network
        self.info: dict[str, Any] | None = None
        self.calls = 0
        self.output = None

    def start(self) -> dict[str, Any]:
        if self.info is None:
            distinct = tuple(dict.fromkeys(self.classes))
            self.info = {**self.runner.start(), "classes": tuple(c.__name__ for c in distinct)}
        return self.info

    def call(self, i: int, snapshot: tuple[Any, ...], event: tuple[Any, ...]) -> dict[str, Any]:
        self.start()
        self.calls += 1
        first = _canonical(self.runner.call(i, snapshot, event))
        if not self.determinism or first["failure"] is not None:
            return first
        self.calls += 1
        self.runner.snapshotter.rotate_dicts = True  # dicts come back in the other order
        try:
            second = _canonical(self.runner.call(i, snapshot, event))
        finally:
            self.runner.snapshotter.rotate_dicts = False
        return agreed(first, second, "when run twice",
                      "randomness, the clock, module-level state, or a dict's key order?", ordered=self.ordered_network)

    def close(self) -> None:
        """Nothing to stop."""


def _canonical(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer with its NaNs as the one NaN a worker's answer holds (:func:`~quorumcheck.student.wire.canonical`):
    two runs that set ``self.x = float("nan")`` did the same, and states holding it are found again."""
    for key in ("snapshot", "sends", "computed"):
        answer[key] = canonical(answer[key])
    return answer

