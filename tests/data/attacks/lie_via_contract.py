"""Patching the observation contract in the worker: node 2 never shows itself as a leader.

The observation (what the properties judge) is read from the node inside the worker, next to the
student's code. Replacing RaftContract.observe there is the same as lying in the attributes the
contract reads (role = "follower" while acting as a leader): quorumcheck judges what a node exposes.
"""

import quorumcheck.models.observe as observe
from buggy_raft import VoteTwice

_real = observe.RaftContract.observe


def _lying(self, index, node):
    term, role, voted_for, log, commit = _real(self, index, node)
    if index != 0 and role == observe.LEADER:
        role = observe.FOLLOWER
    return (term, role, voted_for, log, commit)


observe.RaftContract.observe = _lying


class OnlyNodeZeroLeads(VoteTwice):
    pass
