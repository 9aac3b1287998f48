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

    def check(self, node: Any, nodes: int | None = None, *, protocol: str, **options: Any) -> Any:
        """Check node classes against ``protocol``'s properties; fail the test on a violation.

        Parameters
        ----------
        node, nodes
            The student's file, ``"path/raft.py"`` or ``"path/raft.py:RaftNode"``
            (``"roles.py:A,B,B"``: one class per node), run in sandboxed
            workers; or, for one's own tests, a node class and how many nodes,
            or a list of classes (one per node), run in this process. ``nodes``
            defaults to 3 for one class, and to the file's own count for a file
            with a ``NODES`` list.
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
        from quorumcheck.printable import printable
        from quorumcheck.studenttest import check_student

        options.setdefault("mode", self.mode)
        options.setdefault("seed", self.seed)
        if options["mode"] in ("random", "epochs"):
            options.setdefault("timeout", 120.0)
        try:
            found = check_student(node, nodes, protocol=protocol, **options)
        except QuorumcheckError as e:
            error = printable(f"quorumcheck: {e}")
        else:
            error = None
        if error is not None:  # failed outside the except block, so the error is not shown twice, chained
            pytest.fail(error, pytrace=False)
        if found.verdict is Verdict.VIOLATED:
            pytest.fail(self._failure_message(found), pytrace=False)
        if found.verdict is Verdict.UNDETERMINED:
            pytest.fail(_undetermined_message(found), pytrace=False)
        return found

    def check_paxos(self, node: Any, nodes: int | None = None, **options: Any) -> Any:
        """:meth:`check` with ``protocol="paxos"`` (2 client requests unless told otherwise)."""
        _default_requests(node, options, 2)
        options.setdefault("max_timeouts", 0)
        return self.check(node, nodes, protocol="paxos", **options)

    def check_raft(self, node: Any, nodes: int | None = None, **options: Any) -> Any:
        """:meth:`check` with ``protocol="raft"`` (1 client request and 2 timer firings unless told otherwise)."""
        _default_requests(node, options, 1)
        options.setdefault("max_timeouts", 2)
        return self.check(node, nodes, protocol="raft", **options)

    def _failure_message(self, found: Any) -> str:
        """The report of a violation: each line with what is not printable written out (a student's names may hold
        terminal escapes or newlines), its schedule, and where its drawing and saved schedule are."""
        from quorumcheck.printable import printable

        lines = self._failure_lines(found)
        return "\n".join(printable(line) for line in lines)

    def _failure_lines(self, found: Any) -> list[str]:
        from quorumcheck.explorer.tracefile import save_trace, saved_trace
        from quorumcheck.render import GraphvizError, render_counterexample
        from quorumcheck.studenttest import describe_schedule

        v = found.violation
        lines = [f"quorumcheck: {v.property} violated ({v.description})"]
        if v.trace is None:
            lines.append(f"  it was never witnessed in {_count(found.result.distinct_states, 'state')}")
            return lines
        steps = len(v.trace)
        if found.mode == "random":
            how = f"random mode (seed {found.seed}, {_count(found.schedules, 'schedule')})"
        elif found.mode == "epochs":
            how = f"the epoch search ({_count(found.epochs_to_violation or 0, 'epoch')})"
        else:
            how = "exhaustive mode"
        prefix = tuple(getattr(found.model, "prefix", ()) or ())
        after = f" after the {_count(len(prefix), 'step')} of the scripted prefix" if prefix else ""
        if steps == 0:
            lines.append(f"found by {how} {'where the prefix ends' if prefix else 'in the initial state'}, before "
                         "any step:")
        elif found.mode in ("random", "epochs"):
            lines.append(f"found by {how}, shrunk to {_count(steps, 'step')}{after}:")
        else:
            lines.append(f"found by {how}, a shortest schedule of {_count(steps, 'step')}{after}:")
        if prefix:
            lines += [f"  prefix {k}. {label}" for k, label in enumerate(prefix, start=1)][:60]
        lines += describe_schedule(found, limit=60)
        if v.explanation:
            lines.append(f"  {v.property} violated: {v.explanation}")
        self.render_dir.mkdir(parents=True, exist_ok=True)
        trace_path = self.render_dir / "trace.json"
        try:
            save_trace(saved_trace(found.model, v), trace_path)
            written = render_counterexample(found.model, v, self.render_dir, name=f"{found.model.protocol}-"
                                            f"{v.property}", result=found.result, formats=("dot", "svg", "html"))
        except (OSError, GraphvizError) as e:  # the violation is the report, with or without its drawing
            lines.append(f"  (could not draw the counterexample: {e})")
            return lines
        chart = next((p for p in written.paths if p.name.endswith("-chart.svg")),
                     next((p for p in written.paths if p.name.endswith("-chart.dot")), None))
        report = next((p for p in written.paths if p.suffix == ".html"), None)
        if chart is not None:
            lines.append(f"  sequence chart: {chart}")
        if report is not None:
            lines.append(f"  report: {report}")
        lines.append(f"  schedule: {trace_path} (replay: quorumcheck test --replay {trace_path})")
        return lines


def _count(n: int, noun: str) -> str:
    """``"1 state"``, ``"2 states"``, ``"1,024 states"``."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


_CUT = {"max_states": "reached its state limit (max_states)", "max_depth": "reached its depth limit (max_depth)",
        "timeout": "ran out of time (timeout)", "interrupted": "was interrupted"}


def _undetermined_message(found: Any) -> str:
    """Why a check ended without a verdict, from the parts of the search that ran (auto mode: the exhaustive
    search that was cut, the epoch search, the random schedules), each with its own counts."""
    result = found.result
    prefix = found.exhaustive_prefix
    exhaustive = prefix if prefix is not None else result if found.mode == "exhaustive" else None
    parts = []
    if exhaustive is not None:
        cut = _CUT.get(exhaustive.stop_reason or "", f"stopped ({exhaustive.stop_reason})")
        steps = found.checked_steps if prefix is not None else max(exhaustive.depth - 1, 0)
        parts.append(f"the exhaustive search {cut} at {_count(exhaustive.distinct_states, 'state')}, with every "
                     f"schedule of up to {_count(steps, 'step')} checked")
    names = {"merged_epochs": "the epoch search merged by protocol state",
             "merged_one_way_epochs": "the merged epoch search with one-way epochs",
             "epochs": "the epoch search", "one_way_epochs": "the epoch search with one-way epochs"}
    for key, epochs, depth in found.epoch_searches:
        name = names[key]
        checked = _count(depth, "epoch")
        if key.startswith("merged"):  # one state per protocol state: it never tries every schedule
            kept = _count(epochs.distinct_states, "protocol state")
            if epochs.complete:
                parts.append(f"{name} tried every epoch from each of {kept}, up to {checked}")
            else:
                cut = _CUT.get(epochs.stop_reason or "", f"stopped ({epochs.stop_reason})")
                parts.append(f"{name} {cut} at {kept}, with every epoch from each kept state tried up to {checked}")
        elif epochs.complete:
            parts.append(f"{name} tried every epoch schedule of up to {checked}")
        else:
            cut = _CUT.get(epochs.stop_reason or "", f"stopped ({epochs.stop_reason})")
            parts.append(f"{name} {cut} at {_count(epochs.distinct_states, 'epoch-end state')}, with every epoch "
                         f"schedule of up to {checked} tried")
    if found.mode == "random":
        if found.schedules:
            parts.append(f"{_count(found.schedules, 'random schedule')} (seed {found.seed}) ran")
        else:
            parts.append("no random schedule ran (the time limit came first)")
    text = "; then ".join(parts)
    if result.stop_reason == "interrupted":
        advice = "this is the result so far"
    elif found.mode == "exhaustive":
        advice = "lower the bounds (requests, max_timeouts), raise max_states or timeout, or use mode='random'"
    elif prefix is not None:
        advice = ("that is no proof: lower the bounds (requests, max_timeouts) or raise max_states or timeout so "
                  "that the exhaustive search finishes")
    else:
        advice = "that is no proof: raise timeout or max_states, or use mode='exhaustive' on small bounds"
    return f"quorumcheck: UNDETERMINED: no violation found, but {text}; {advice}"


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
