"""A pytest plugin: a course's test of a student's Paxos or Raft in three lines.

Installed with quorumcheck (entry point ``pytest11``), it provides the
``quorumcheck`` fixture. Graders name the student's file, which is then never
imported into the pytest process: every handler call runs in sandboxed worker
processes (docs/grading.md)::

    def test_raft(quorumcheck):
        quorumcheck.check_raft("submissions/alice/raft.py:RaftNode", nodes=3)

A student testing their own code may pass the class itself
(``quorumcheck.check_raft(RaftNode)``): it is fast and debuggable, and it
protects nothing, because importing the module already ran the student's code
inside the test process, where it can register pytest hooks, patch
quorumcheck, or end the session. Graders must not do that.

A failing check fails the test with the shrunk schedule, the violated
property in the student's own values, and the paths of the drawn sequence
chart, the HTML report and the saved schedule (replay it with
``quorumcheck test --replay FILE``). pytest's ``--junitxml`` carries that
message into the grader's report.

Options: ``--quorumcheck-mode`` (``random`` by default here: seeded, bounded in
time), ``--quorumcheck-seed``, and ``--quorumcheck-render DIR`` (default:
each test's temporary directory).

Nothing is imported from quorumcheck until a test uses the fixture, so the
plugin costs nothing in test suites that do not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

__all__ = ["StudentChecker"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("quorumcheck", "quorumcheck: model-check student Paxos and Raft")
    group.addoption("--quorumcheck-mode", choices=["auto", "exhaustive", "random", "epochs"], default=None,
                    help="search mode of the quorumcheck fixture's checks [default: random]")
    group.addoption("--quorumcheck-seed", type=int, default=None,
                    help="seed of the random mode [default: 0]")
    group.addoption("--quorumcheck-render", metavar="DIR", default=None,
                    help="draw failing checks' counterexamples into DIR/<test name>/ [default: the test's tmp_path]")


class StudentChecker:
    """What the ``quorumcheck`` fixture gives a test: checks that fail the test on a violation.

    Parameters
    ----------
    mode, seed : optional
        Defaults for every check of the test (the command-line options win over
        the plugin's defaults; a check's own arguments win over both).
    render_dir : Path
        Where a failing check draws its counterexample and saves its schedule.
    """

    def __init__(self, mode: str | None, seed: int | None, render_dir: Path) -> None:
        self.mode = mode or "random"
        self.seed = 0 if seed is None else seed
        self.render_dir = render_dir

    def check(self, node: Any, nodes: int | None = 3, *, protocol: str, **options: Any) -> Any:
        """Check node classes against ``protocol``'s properties; fail the test on a violation.

        Parameters
        ----------
        node, nodes
            The student's file, ``"path/raft.py"`` or ``"path/raft.py:RaftNode"``
            (``"roles.py:A,B,B"``: one class per node), run in sandboxed
            workers; or, for one's own tests, a node class and how many nodes,
            or a list of classes (one per node), run in this process.
        protocol : {"paxos", "raft", "none"}
        **options
            As for :func:`quorumcheck.studenttest.check_student` (``mode``,
            ``seed``, ``runs``, ``steps``, ``network``, ``requests``,
            ``max_timeouts``, ``max_crashes``, ...).

        Returns
        -------
        StudentResult
            When the check passed.
        """
        from quorumcheck.errors import QuorumcheckError
        from quorumcheck.explorer import Verdict
        from quorumcheck.studenttest import check_student

        options.setdefault("mode", self.mode)
        options.setdefault("seed", self.seed)
        if options["mode"] in ("random", "epochs"):
            options.setdefault("timeout", 120.0)
        try:
            found = check_student(node, nodes, protocol=protocol, **options)
        except QuorumcheckError as e:
            pytest.fail(f"quorumcheck: {e}", pytrace=False)
        if found.verdict is Verdict.VIOLATED:
            pytest.fail(self._failure_message(found), pytrace=False)
        if found.verdict is Verdict.UNDETERMINED:
            pytest.fail(
                f"quorumcheck: UNDETERMINED: the exhaustive search was cut ({found.result.stop_reason}) after "
                f"{found.result.distinct_states:,} states without a violation; lower the bounds (requests, "
                "max_timeouts) or use mode='random'", pytrace=False)
        return found

    def check_paxos(self, node: Any, nodes: int | None = 3, **options: Any) -> Any:
        """:meth:`check` with ``protocol="paxos"`` (2 client requests unless told otherwise)."""
        _default_requests(node, options, 2)
        options.setdefault("max_timeouts", 0)
        return self.check(node, nodes, protocol="paxos", **options)

    def check_raft(self, node: Any, nodes: int | None = 3, **options: Any) -> Any:
        """:meth:`check` with ``protocol="raft"`` (1 client request and 2 timer firings unless told otherwise)."""
        _default_requests(node, options, 1)
        options.setdefault("max_timeouts", 2)
        return self.check(node, nodes, protocol="raft", **options)

    def _failure_message(self, found: Any) -> str:
        from quorumcheck.explorer.tracefile import save_trace, saved_trace
        from quorumcheck.render import render_counterexample
        from quorumcheck.studenttest import describe_schedule

        v = found.violation
        how = {"random": f"random mode (seed {found.seed}, {found.schedules:,} schedules), shrunk to",
               "epochs": f"the epoch search ({found.epochs_to_violation} epochs), shrunk to"}.get(found.mode, "exhaustive mode, a shortest schedule of")
        lines = [f"quorumcheck: {v.property} violated ({v.description})"]
        if v.trace is None:
            lines.append(f"  it was never witnessed in {found.result.distinct_states:,} states")
            return "\n".join(lines)
        lines.append(f"found by {how} {len(v.trace)} steps:")
        lines += describe_schedule(found, limit=60)
        if v.explanation:
            lines.append(f"  {v.property} violated: {v.explanation}")
        self.render_dir.mkdir(parents=True, exist_ok=True)
        trace_path = self.render_dir / "trace.json"
        try:
            save_trace(saved_trace(found.model, v), trace_path)
            written = render_counterexample(found.model, v, self.render_dir, name=f"{found.model.protocol}-"
                                            f"{v.property}", result=found.result, formats=("dot", "svg", "html"))
        except OSError as e:
            lines.append(f"  (could not draw the counterexample: {e})")
            return "\n".join(lines)
        chart = next((p for p in written.paths if p.name.endswith("-chart.svg")),
                     next((p for p in written.paths if p.name.endswith("-chart.dot")), None))
        report = next((p for p in written.paths if p.suffix == ".html"), None)
        if chart is not None:
            lines.append(f"  sequence chart: {chart}")
        if report is not None:
            lines.append(f"  report: {report}")
        lines.append(f"  schedule: {trace_path} (replay: quorumcheck test --replay {trace_path})")
        return "\n".join(lines)


def _default_requests(node: Any, options: dict[str, Any], default: int) -> None:
    """Client requests, unless told otherwise: ``default`` for code that takes them, none for code that does not."""
    if "requests" in options:
        return
    if isinstance(node, (str, Path)):  # not imported here: the worker finds out whether it takes requests
        options["requests"] = default
        options["requests_if_able"] = True
        return
    classes = node if isinstance(node, (list, tuple)) else [node]
    options["requests"] = default if any(callable(getattr(c, "on_request", None)) for c in classes) else 0


@pytest.fixture
def quorumcheck(request: pytest.FixtureRequest, tmp_path: Path) -> StudentChecker:
    """Check student Paxos or Raft node classes: ``quorumcheck.check_raft(MyNode, nodes=3)``."""
    config = request.config
    folder = config.getoption("--quorumcheck-render")
    if folder:
        render_dir = Path(folder) / re.sub(r"[^\w.-]+", "_", request.node.name)
    else:
        render_dir = tmp_path / "quorumcheck"
    return StudentChecker(config.getoption("--quorumcheck-mode"), config.getoption("--quorumcheck-seed"), render_dir)
