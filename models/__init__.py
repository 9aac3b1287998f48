"""Models: the modelling API and the built-in protocol models.

>>> from quorumcheck.models import BUILTIN_MODELS
>>> sorted(BUILTIN_MODELS)
['paxos', 'raft']
"""

from typing import TYPE_CHECKING, Any

from .actors import Node, Out
from .api import Action, Expectation, Model, Parameter, Property, always, every_step, sometimes

if TYPE_CHECKING:
    from .actor_model import ActorModel, ActorState
    from .paxos import PaxosModel, PaxosState
    from .raft import RaftModel, RaftState
    from .symmetry import Permutation

_LAZY = {"Permutation": ".symmetry", "PaxosModel": ".paxos", "PaxosState": ".paxos", "RaftModel": ".raft",
         "RaftState": ".raft", "ActorModel": ".actor_model", "ActorState": ".actor_model"}
"""Imported when first used: a sandboxed worker needs only the actor API (``Node``, ``Out``)."""


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    if name == "BUILTIN_MODELS":
        from .paxos import PaxosModel
        from .raft import RaftModel

        return {PaxosModel.name: PaxosModel, RaftModel.name: RaftModel}
    if name == "SYMBOLIC_MODELS":
        out = {}
        for model, where in _SYMBOLIC.items():
            try:
                module = importlib.import_module(where, __name__)
            except ModuleNotFoundError:
                continue
            out[model] = getattr(module, f"{model}_system")
        return out
    if name == "TRACE_MODELS":
        from .actor_model import ActorModel

        return {ActorModel.name: ActorModel.from_settings}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


BUILTIN_MODELS: dict[str, type[Model]]
"""Every model the CLI and specs/ know by name (built when first used)."""

_SYMBOLIC = {"paxos": ".paxos_symbolic", "raft": ".raft_symbolic"}
SYMBOLIC_MODELS: dict[str, Any]
"""Built-in models with a symbolic description for ``quorumcheck prove``: name -> function returning its
:class:`~quorumcheck.invariants.system.TransitionSystem`."""

TRACE_MODELS: dict[str, Any]
"""Models that are not built in but that a saved trace can name: how to rebuild each from its settings
(student code: ``ActorModel.from_settings`` loads the file and classes the trace records)."""

__all__ = [
    "BUILTIN_MODELS",
    "SYMBOLIC_MODELS",
    "TRACE_MODELS",
    "Action",
    "ActorModel",
    "ActorState",
    "Expectation",
    "Model",
    "Node",
    "Out",
    "Parameter",
    "Permutation",
    "PaxosModel",
    "PaxosState",
    "RaftModel",
    "RaftState",
    "Property",
    "always",
    "sometimes",
    "every_step",
]
