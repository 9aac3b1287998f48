"""quorumcheck: model-check Paxos and Raft, exhaustively and fast.

>>> import quorumcheck
>>> from quorumcheck.models import PaxosModel
>>> quorumcheck.explore(PaxosModel(max_ballot=0)).distinct_states
73
"""

from quorumcheck.explorer import CheckResult, Verdict, explore

__version__ = "0.1.0"
__all__ = ["CheckResult", "Verdict", "__version__", "explore"]
