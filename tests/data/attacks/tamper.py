"""Tampering with quorumcheck from inside the submission: at import time and in every handler.

Patches the property judge (Property.holds, holds_on_step), the search (explore), the student
checker (check_student), the pytest plugin, sys.exit and os._exit, so that, if any of it ran in the
grading process, the run would "hold" or end with exit status 0. In a worker it changes nothing the
grader relies on: the genuine election-safety violation is still reported.
"""

import os
import sys

import quorumcheck.explorer as explorer
import quorumcheck.explorer.search as search
import quorumcheck.models.api as api
import quorumcheck.studenttest as studenttest
from buggy_raft import VoteTwice


def _patch():
    api.Property.holds = lambda self, state: True
    api.Property.holds_on_step = lambda self, before, after: True
    explorer.explore = search.explore = lambda *args, **kwargs: None
    studenttest.check_student = lambda *args, **kwargs: None
    try:
        import quorumcheck.pytest_plugin as plugin

        plugin.StudentChecker.check = lambda self, *args, **kwargs: None
    except ImportError:
        pass
    sys.exit = lambda *args: None
    os._exit = lambda *args: None


_patch()


class PatchesEverywhere(VoteTwice):
    def on_message(self, sender, m, out):
        _patch()
        super().on_message(sender, m, out)

    def on_timer(self, name, out):
        _patch()
        super().on_timer(name, out)
