"""Models: the modelling API and the built-in protocol models.

>>> from quorumcheck.models import BUILTIN_MODELS
>>> sorted(BUILTIN_MODELS)
['paxos']
"""

from .api import Action, Expectation, Model, Parameter, Property, always, every_step, sometimes
from .paxos import PaxosModel, PaxosState

BUILTIN_MODELS: dict[str, type[Model]] = {PaxosModel.name: PaxosModel}
"""Every model the CLI and specs/ know by name."""

__all__ = [
    "BUILTIN_MODELS",
    "Action",
    "Expectation",
    "Model",
    "Parameter",
    "PaxosModel",
    "PaxosState",
    "Property",
    "always",
    "sometimes",
    "every_step",
]
