"""A submission that attacks the grader's pytest session when it is imported.

At import it looks for the running pytest session (gc finds its Config) and registers itself as a
plugin: its hooks then deselect the grader's other tests and turn every failure into a pass. It
also patches the quorumcheck fixture so that checks always pass. If the grader imports this file
(``from pytest_hooks import Hooked``), all of that runs inside the grading process and the whole
suite passes; given as a file path to the fixture, it runs in a worker where there is no session,
and the genuine election-safety violation fails the test.
"""

import gc
import sys

from buggy_raft import VoteTwice

try:
    import pytest
except ImportError:  # the worker may not see pytest: the attack simply has no target there
    pytest = None


def _register():
    if pytest is None:
        return
    try:
        from _pytest.config import Config
    except ImportError:
        return
    for thing in gc.get_objects():
        if isinstance(thing, Config) and not thing.pluginmanager.is_registered(sys.modules[__name__]):
            thing.pluginmanager.register(sys.modules[__name__], "qc-attack-plugin")
    try:
        import quorumcheck.pytest_plugin as plugin

        plugin.StudentChecker.check = lambda self, *args, **kwargs: None
    except ImportError:
        pass


if pytest is not None:

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed:
            report.outcome = "passed"
            report.longrepr = None

    def pytest_collection_modifyitems(session, config, items):
        items[:] = [item for item in items if "student" in item.name]


_register()


class Hooked(VoteTwice):
    pass
