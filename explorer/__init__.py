"""The explorer: one breadth-first search, the state graph in networkx, and traces.

>>> from quorumcheck.explorer import explore, Verdict
>>> from quorumcheck.models import PaxosModel
>>> explore(PaxosModel(max_ballot=0)).verdict is Verdict.HOLDS
True
"""

from .graph import labelled_transitions, shortest_trace
from .result import CheckResult, Culprit, Step, Trace, Verdict, Violation, Witness
from .search import Progress, explore
from .symmetry import SymmetryCheck, SymmetryReduction, check_symmetry

__all__ = [
    "CheckResult",
    "Culprit",
    "Progress",
    "Step",
    "SymmetryCheck",
    "SymmetryReduction",
    "Trace",
    "Verdict",
    "Violation",
    "Witness",
    "check_symmetry",
    "explore",
    "labelled_transitions",
    "shortest_trace",
]
