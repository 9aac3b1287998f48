"""Prove: Z3 checks inductive invariants for every size, shows counterexamples to induction, infers invariants.

* :mod:`.induction` -- initiation and consecution per (action, conjunct): :func:`prove`;
* :mod:`.cti` -- counterexamples to induction, minimised, and whether their pre-state is reachable.

The protocols' symbolic descriptions live beside their explicit models in
``models/`` (``quorumcheck.models.paxos_symbolic``); this room only reasons
about a :class:`~quorumcheck.invariants.system.TransitionSystem`.
"""

from .cti import CTI, Reachability, Structure
from .induction import Checker, Obligation, ProofResult, prove

__all__ = ["prove", "ProofResult", "Obligation", "Checker", "CTI", "Structure", "Reachability"]
