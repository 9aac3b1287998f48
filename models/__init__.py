"""Models: the modelling API and the built-in protocol models.

>>> from quorumcheck.models import BUILTIN_MODELS
>>> sorted(BUILTIN_MODELS)
['paxos', 'raft']
"""

from .api import Action, Expectation, Model, Parameter, Property, always, every_step, sometimes
from .paxos import PaxosModel, PaxosState
from .raft import RaftModel, RaftState

BUILTIN_MODELS: dict[str, type[Model]] = {PaxosModel.name: PaxosModel, RaftModel.name: RaftModel}
"""Every model the CLI and specs/ know by name."""

__all__ = [
    "BUILTIN_MODELS",
    "Action",
    "Expectation",
    "Model",
    "Parameter",
    "PaxosModel",
    "PaxosState",
    "RaftModel",
    "RaftState",
    "Property",
    "always",
    "sometimes",
    "every_step",
]
