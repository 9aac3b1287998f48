"""Models: the modelling API and the built-in protocol models.

>>> from quorumcheck.models import BUILTIN_MODELS
>>> sorted(BUILTIN_MODELS)
['paxos', 'raft']
"""

from .api import Action, Expectation, Model, Parameter, Property, always, every_step, sometimes
from .symmetry import Permutation
from .paxos import PaxosModel, PaxosState
from .raft import RaftModel, RaftState
from .actors import Node, Out
from .actor_model import ActorModel, ActorState

BUILTIN_MODELS: dict[str, type[Model]] = {PaxosModel.name: PaxosModel, RaftModel.name: RaftModel}
"""Every model the CLI and specs/ know by name."""

TRACE_MODELS = {ActorModel.name: ActorModel.from_settings}
"""Models that are not built in but that a saved trace can name: how to rebuild each from its settings
(student code: ``ActorModel.from_settings`` loads the file and classes the trace records)."""

__all__ = [
    "BUILTIN_MODELS",
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
