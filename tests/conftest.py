"""Shared helpers for the test suite."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from quorumcheck.explorer import Trace
from quorumcheck.models import Model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def assert_real_path(model: Model[Any], trace: Trace[Any]) -> None:
    """Every step of ``trace`` follows from the previous one by the named action."""
    init = list(model.init_states())
    assert trace.steps[0].action is None
    assert trace.steps[0].state in init
    for before, after in zip(trace.steps, trace.steps[1:]):
        assert after.action is not None
        successors = [t for a, t in model.successors(before.state) if a == after.action]
        assert successors, f"{after.action} is not enabled in the state before it"
        assert after.state in successors, f"{after.action} does not lead to the recorded state"


def labels(trace: Trace[Any]) -> list[str]:
    return [str(a) for a in trace.actions]


def names(items: Iterable[Any]) -> list[str]:
    return [getattr(i, "property", getattr(i, "name", None)) for i in items]


def example(file: str, cls: str) -> type:
    """A node class of a shipped example file: ``example("paxos.py", "PaxosNode")``."""
    from quorumcheck.models.actor_model import find_node_classes, load_student_file

    return find_node_classes(load_student_file(EXAMPLES / file), [cls])[0]
