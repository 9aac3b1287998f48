"""quorumcheck: model-check Paxos and Raft, exhaustively and fast.

>>> import quorumcheck
>>> from quorumcheck.models import PaxosModel
>>> quorumcheck.explore(PaxosModel(max_ballot=0)).distinct_states
73

The names below are imported when first used, so that a sandboxed worker,
which needs only the actor API, starts without the explorer (networkx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quorumcheck.explorer import CheckResult, Verdict, explore

__version__ = "0.1.0"
__all__ = ["CheckResult", "Verdict", "__version__", "explore"]


def __getattr__(name: str) -> Any:
    if name in ("CheckResult", "Verdict", "explore"):
        import quorumcheck.explorer as explorer

        return getattr(explorer, name)
    raise AttributeError(f"module 'quorumcheck' has no attribute {name!r}")
