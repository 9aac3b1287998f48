"""Adversarial submissions: what a careless or hostile student's file can do to a grading run.

Every submission is a file under tests/data/attacks/ (README.md there explains the layout), given to
quorumcheck as a *file path*, so that it runs only in sandboxed workers. Each test asserts the exact
outcome: the genuine violation of the buggy protocol underneath the attack (``election-safety``,
6 steps), or the containment finding the attack deserves, with its exit code. Attacks that
quorumcheck does not contain today are ``xfail(strict=True)``, their reason saying what happens
instead; docs/grading.md lists what is and is not contained.

After every test, no process of the attack may be alive: no descendant of this test process (a
child subreaper, so orphans come back to it) whose command line holds a ``qc-attack-`` marker or
is a ``quorumcheck.student.worker``.

Most tests use the Python API (the trusted side runs here, about a second each); the command line
is used where its stdout and exit code are the point (those runs go side by side, in one fixture), and
pytest in subprocesses for the attacks on a grader's pytest session.
"""

from __future__ import annotations

import ctypes
import hashlib
import html
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from quorumcheck.errors import InvalidStudentCode
from quorumcheck.explorer import Verdict
from quorumcheck.student.trusted.sandbox import capabilities, fresh_calls, landlock_abi
from quorumcheck.studenttest import check_student

ROOT = Path(__file__).resolve().parent.parent
ATTACKS = ROOT / "tests" / "data" / "attacks"
CLI = [sys.executable, "-m", "quorumcheck", "test"]
MARKER = b"qc-attack-"
WORKER = b"quorumcheck.student.worker"
RAFT = {"protocol": "raft", "requests": 0, "max_timeouts": 2, "max_term": 1}
"""The buggy Raft's bounds: VoteTwice violates election-safety in a shortest schedule of 6 steps."""
RAFT_CLI = ["--protocol", "raft", "--requests", "0", "--max-timeouts", "2", "--max-term", "1", "--mode",
            "exhaustive"]
ROOT_GRADER = os.geteuid() == 0
NOBODY = 65534
UNIQUE_UID_BASE = 2_000_000_000

# Orphans of anything this process starts (a CLI run's workers, say) are re-parented to it, so that
# the check after each test finds them among its descendants.
try:
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
except (OSError, AttributeError):  # pragma: no cover - not Linux
    pass


# -- helpers -------------------------------------------------------------------------------------------
def check(target: str, nodes: int = 2, **options: Any) -> Any:
    """Check ``tests/data/attacks/<target>`` in workers (a file path: never imported here)."""
    return check_student(str(ATTACKS / target), nodes, mode="exhaustive", **options)


def finding(found: Any, prop: str, steps: int = 1) -> str:
    """Assert a containment finding (or another violation) with its exit code; return its explanation."""
    assert found.verdict is Verdict.VIOLATED, found.verdict
    assert found.violation.property == prop, (found.violation.property, found.violation.explanation)
    assert len(found.violation.trace) == steps, found.violation.explanation
    assert found.exit_code == 1
    return found.violation.explanation


SANDBOX_REFUSED = ("the worker's sandbox refused that system call (a handler may not make a pipe, a socket or a process, "
                   "act on another process, change a file's times, mode or owner, or make perf events, namespaces or "
                   "mounts): keep to the node's own state and out.send()")
"""The end of a finding about a system call the sandbox refused (EPERM)."""


def genuine(found: Any) -> None:
    """The buggy Raft's own violation, unchanged by the attack on top of it."""
    explanation = finding(found, "election-safety", steps=6)
    assert re.fullmatch(r"term 1: n\d and n\d each acted as leader", explanation), explanation


needs_fresh_calls = pytest.mark.skipif(not fresh_calls(capabilities()),
                                       reason="calls in fresh copies of the loaded code need a user id of their own "
                                              "(root)")


def must(condition: bool, message: str) -> None:
    """A precondition: fails the test even where an AssertionError is the expected failure (xfail)."""
    if not condition:
        pytest.fail(message)


def probe_report(found: Any, cls: str) -> str:
    """What a probe saw: the text of the Report it raised in node 1's first handler call."""
    explanation = found.violation.explanation if found.violation else None
    match = re.fullmatch(rf"n1 \({cls}\) on_message\(0, 'go'\) raised Report: (.*) at \w+\.py:\d+ in attack",
                         explanation or "")
    must(found.verdict is Verdict.VIOLATED and found.violation.property == "handlers-do-not-crash"
         and len(found.violation.trace) == 1 and found.exit_code == 1 and match is not None,
         f"the probe did not report: {found.verdict} {explanation}")
    return match.group(1)


def fields(report: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in report.split(" "))


NONE_CLI = ["--protocol", "none", "--nodes", "2", "--mode", "exhaustive"]
CLI_RUNS = {
    "invalid-student-code": ["raises.py", "--node-class", "RaisesInvalidStudentCode", *NONE_CLI],
    "keyboard-interrupt": ["raises.py", "--node-class", "RaisesKeyboardInterrupt", *NONE_CLI],
    "fake-text": ["fake_output.py", "--node-class", "ForgesOutput", *RAFT_CLI],
    "fake-text-json": ["fake_output.py", "--node-class", "ForgesOutput", "--json", *RAFT_CLI],
    "fake-json-exit": ["fake_output.py", "--node-class", "ForgesJsonThenExits", "--json", *RAFT_CLI],
    "kill-grader": ["kills.py", "--node-class", "KillsTheGrader", *RAFT_CLI],
    "flood": ["resources.py", "--node-class", "FloodsOutput", "--json", *RAFT_CLI],
    "names-json": ["names.py", "--json", *RAFT_CLI],
}
"""The command-line runs: ``quorumcheck test tests/data/attacks/<file> ...``."""


@pytest.fixture(scope="module")
def cli_runs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every run of :data:`CLI_RUNS`, side by side (all finished on return), each in its own session so that
    an attack on the grader's process group cannot reach pytest."""
    started = {name: subprocess.Popen([*CLI, f"tests/data/attacks/{args[0]}", *args[1:]], cwd=ROOT, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
               for name, args in CLI_RUNS.items()}
    runs = {}
    for name, process in started.items():
        out, err = process.communicate(timeout=300)
        runs[name] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return runs


def _processes() -> dict[int, tuple[int, bytes]]:
    """Every process: pid -> (parent pid, command line)."""
    found: dict[int, tuple[int, bytes]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                found[int(entry)] = (ppid, f.read())
        except (OSError, IndexError, ValueError):
            continue
    return found


def leftovers() -> list[tuple[int, str]]:
    """Processes of an attack still alive: our descendants with a ``qc-attack-`` marker, or workers.

    Only descendants: this process is a child subreaper, so whatever a worker (or a command-line run)
    leaves behind is re-parented to it, and test runs at the same time do not see each other's.
    """
    me = os.getpid()
    table = _processes()

    def ours(pid: int) -> bool:
        seen: set[int] = set()
        while pid in table and pid not in seen:
            seen.add(pid)
            pid = table[pid][0]
            if pid == me:
                return True
        return False

    return [(pid, cmd.replace(b"\0", b" ").decode(errors="replace")) for pid, (_, cmd) in table.items()
            if (MARKER in cmd or WORKER in cmd) and ours(pid)]


@pytest.fixture(autouse=True)
def nothing_outlives_the_attack() -> Any:
    yield
    deadline = time.monotonic() + 3.0
    left = leftovers()
    while left and time.monotonic() < deadline:  # a process killed a moment ago may not have gone yet
        time.sleep(0.1)
        left = leftovers()
    for pid, _ in left:  # processes our attacks started: do not let them outlive the failure either
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes outlived the attack: {left}"


# -- tampering with quorumcheck ------------------------------------------------------------------------
def test_patching_the_judge_the_search_and_exit_in_the_worker_changes_nothing() -> None:
    # Property.holds, explore, check_student, the pytest fixture, sys.exit and os._exit are replaced
    # in the worker, at import and again in every handler: none of them runs there, so the genuine
    # violation stands.
    genuine(check("tamper.py:PatchesEverywhere", 3, **RAFT))


def test_the_confirming_replay_stays_within_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The replay's workers load the file again (5 s); it had 60 s for that, and each call its own deadline, so a
    # run given --timeout 10 took 75 s. Now the replay gets what the limit leaves, and when that is too little
    # the violation stands as found, with a notice. (Where each call imports the file anew, as root, so slow an
    # import is refused at load: the next test. Here the workers run the calls themselves.)
    from quorumcheck.student.trusted.workers import WorkerHost

    monkeypatch.setattr(WorkerHost, "_fresh", lambda self, k: False)
    found = check("slow_import.py:SlowToLoad", 3, timeout=2.5, **RAFT)
    genuine(found)
    assert found.notices[-1] == ("the election-safety violation is reported as the search found it: the time limit "
                                 "left no time to confirm it by a replay on new workers")
    assert found.seconds < 4.5, found.seconds  # the limit and a little, not another 5 s load


@needs_fresh_calls
def test_an_import_slower_than_a_call_may_take_is_refused_where_each_call_imports_anew() -> None:
    with pytest.raises(InvalidStudentCode) as refused:
        check("slow_import.py:SlowToLoad", 3, **RAFT)
    message = str(refused.value)
    assert re.fullmatch(r".*slow_import\.py: importing it took 5\.\d s; as root, each handler "
                        r"call runs in a fresh process that imports it anew, within the call's time limit \(1 s, "
                        r"--handler-timeout\): make its top level quicker", message), message


@needs_fresh_calls
def test_an_import_is_charged_its_cpu_time_not_the_wall_clock(tmp_path: Path) -> None:
    # An honest top level that spent half the limit in CPU time was refused on a busy machine ("importing it took
    # 1.0 s") and loaded on a quiet one (red-team round 16). The import is charged as a call is: its CPU time, with
    # the wall clock as the backstop. Waiting 1.5 s stands for a machine that makes a quick import take that long.
    (tmp_path / "waits.py").write_text(
        "import time\nfrom quorumcheck.models.actors import Node\n\ntime.sleep(1.5)\n\n\nclass Waits(Node):\n"
        "    pass\n")
    found = check_student(str(tmp_path / "waits.py:Waits"), 2, protocol="none", max_timeouts=0, timeout=60)
    assert found.verdict is Verdict.HOLDS and found.result.complete


@needs_fresh_calls
def test_an_on_start_that_hangs_is_a_finding_not_a_slow_import(tmp_path: Path) -> None:
    """A node whose on_start loops was refused as a slow top level ("importing it and starting its nodes took
    6.0 s ... make its top level quicker", the CLI sweep of 2026-12-03): it is the first call's finding."""
    (tmp_path / "startloops.py").write_text(
        "from quorumcheck.models.actors import Node\n\n\nclass StartLoops(Node):\n"
        "    def on_start(self, out):\n        while True:\n            pass\n")
    found = check_student(str(tmp_path / "startloops.py:StartLoops"), 2, protocol="none", max_timeouts=0,
                          handler_timeout=0.2)
    assert found.violation is not None and found.violation.property == "handlers-terminate"
    assert "n0 (StartLoops) __init__/on_start used 0.2 s of CPU time without returning (an infinite loop?)" in \
        found.violation.explanation


def test_a_worker_patched_to_report_fewer_nodes_is_refused() -> None:
    # The node count is the grader's: a load answer describing one node where three were asked for (the file
    # patched the worker's NodeRunner) would have had a one-node cluster checked, and the buggy Raft hold.
    with pytest.raises(InvalidStudentCode, match=r"shrink_nodes.py: the worker reported 1 node where 3 were asked "
                                                 r"for \(does the file tamper with quorumcheck\?\)"):
        check("shrink_nodes.py:LeadsAlone", 3, **RAFT)


def test_a_worker_patched_to_report_two_classes_for_one_named_class_is_refused() -> None:
    # The grader named one class (--node-class Server): the count is the grader's (3 by default), however many
    # classes the worker claims it found; the count came from the worker's list, so a bug needing 3 nodes held.
    with pytest.raises(InvalidStudentCode, match=r"fewer_classes.py: the worker reported 2 nodes where 3 were asked"):
        check("fewer_classes.py:Server", None, **RAFT)


def test_messages_that_print_alike_are_told_apart_by_the_replay(tmp_path: Path) -> None:
    # The replay matched steps by their printed label and took the first: the wrong Ping. The search's violation
    # then "did not reproduce" (state-outside-node), its saved trace passed --expect fixed (exit 0), and the epoch
    # search found nothing (exit 0).
    for mode in ("exhaustive", "epochs"):
        found = check_student(str(ATTACKS / "twin_messages.py:Server"), 2, mode=mode, **{**RAFT, "max_timeouts": 0})
        assert found.violation is not None and found.violation.property == "election-safety", mode
    trace = tmp_path / "twins.json"
    options = ["--protocol", "raft", "--nodes", "2", "--requests", "0", "--max-timeouts", "0", "--max-term", "1"]
    saved = subprocess.run([*CLI, str(ATTACKS / "twin_messages.py"), "--node-class", "Server", *options, "--mode",
                            "exhaustive", "--save-trace", str(trace)], capture_output=True, text=True, timeout=300)
    assert saved.returncode == 1 and "VIOLATED: election-safety" in saved.stdout, saved.stdout + saved.stderr
    assert "msg=twin_messages.Ping()" in trace.read_text()
    fixed = subprocess.run([*CLI, str(ATTACKS / "twin_messages.py"), "--replay", str(trace), "--expect", "fixed"],
                           capture_output=True, text=True, timeout=300)
    assert fixed.returncode == 1 and "STILL REPRODUCES" in fixed.stdout, fixed.stdout + fixed.stderr


# The properties judge the observation the trusted side reads from the answered snapshot, not what the
# worker's (patched) contract says.
def test_patching_the_observation_contract_in_the_worker() -> None:
    genuine(check("lie_via_contract.py:OnlyNodeZeroLeads", 3, **RAFT))


def test_quorumcheck_errors_raised_in_a_handler_are_findings() -> None:
    found = check("raises.py:RaisesQuorumcheckError")
    assert finding(found, "handlers-do-not-crash") == (
        "n1 (RaisesQuorumcheckError) on_message(0, 'go') raised QuorumcheckError: qc-attack-forged: internal "
        "error at raises.py:14 in attack")


def test_invalid_student_code_raised_in_a_handler_is_a_finding_not_a_usage_error(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["invalid-student-code"]
    assert run.returncode == 1, run.stderr  # never 2: the file loads; one handler raised
    assert "VIOLATED: handlers-do-not-crash" in run.stdout
    assert ("raised InvalidStudentCode: qc-attack-forged: the file cannot be loaded at raises.py:9 in attack"
            in run.stdout)


def test_keyboard_interrupt_in_a_handler_is_a_finding_not_ctrl_c(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["keyboard-interrupt"]
    assert run.returncode == 1, run.stderr  # never 130: it is the student's exception, not the grader's Ctrl-C
    assert "VIOLATED: handlers-do-not-crash" in run.stdout
    assert "n1 (RaisesKeyboardInterrupt) on_message(0, 'go') raised KeyboardInterrupt" in run.stdout


def test_a_tampered_trace_file_cannot_import_a_module_or_break_the_replay(tmp_path: Path) -> None:
    # A trace's "module" was imported into the grading process (outside the sandbox); a NUL byte in its "file"
    # was an internal error (exit 4). Both are one-line errors now, and nothing of the module runs.
    from quorumcheck.explorer.tracefile import save_trace, saved_trace

    found = check("buggy_raft.py:VoteTwice", 3, protocol="raft", requests=0, max_timeouts=2, max_term=1)
    trace = tmp_path / "t.json"
    save_trace(saved_trace(found.model, found.violation), trace)
    data = json.loads(trace.read_text())
    for change, says in (({"module": "this"}, "the trace names its node classes by module ('this'), which would "
                                              "import it into this process"),
                         ({"file": "/tmp/x\x00y.py"}, "the settings' 'file' must be a path")):
        tampered = tmp_path / "tampered.json"
        parameters = {k: v for k, v in data["parameters"].items() if k != "file"}
        tampered.write_text(json.dumps({**data, "parameters": {**parameters, **change}}))
        for command in ([*CLI, "--replay", str(tampered)], [sys.executable, "-m", "quorumcheck", "replay",
                                                              str(tampered)]):
            run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
            assert run.returncode == 2 and run.stdout == "", run.stdout + run.stderr
            assert says in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_the_source_runs_not_a_bytecode_file_left_beside_it(tmp_path: Path) -> None:
    # An unchecked-hash .pyc in __pycache__ is never compared with its source: Python ran it instead of raft.py, so
    # a correct class compiled there was graded for a buggy source. The workers read no cached bytecode.
    import importlib.util
    import py_compile

    header = "from quorumcheck.models.actors import Node\nclass A(Node):\n    def on_start(self, out):\n"
    (tmp_path / "other.py").write_text(header + "        pass\n")
    source = tmp_path / "raft.py"
    source.write_text(header + "        raise ValueError('qc-attack-the-source-ran')\n")
    py_compile.compile(str(tmp_path / "other.py"), cfile=importlib.util.cache_from_source(str(source)),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    found = check_student(str(source), 2, mode="exhaustive")
    assert "qc-attack-the-source-ran" in finding(found, "handlers-do-not-crash", steps=0)
    # The same for a helper beside it, imported by it: its source runs, not its cached bytecode.
    helper = tmp_path / "helper.py"
    helper.write_text(header + "        raise ValueError('qc-attack-the-helper-source-ran')\n")
    py_compile.compile(str(tmp_path / "other.py"), cfile=importlib.util.cache_from_source(str(helper)),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    source.write_text("from helper import A\n")
    found = check_student(f"{source}:A", 2, mode="exhaustive")
    assert "qc-attack-the-helper-source-ran" in finding(found, "handlers-do-not-crash", steps=0)


def test_a_sourceless_bytecode_file_beside_the_submission_is_not_imported(tmp_path: Path) -> None:
    # helper.pyc with no helper.py: Python imported it, so code the grader cannot read ran as the submission's.
    import py_compile

    from quorumcheck.errors import InvalidStudentCode

    (tmp_path / "helper.py").write_text("from quorumcheck.models.actors import Node\nclass A(Node):\n    pass\n")
    py_compile.compile(str(tmp_path / "helper.py"), cfile=str(tmp_path / "helper.pyc"))
    (tmp_path / "helper.py").unlink()
    (tmp_path / "raft.py").write_text("from helper import A as RaftNode\n")
    with pytest.raises(InvalidStudentCode, match=r"importing it raised ModuleNotFoundError: No module named 'helper'"):
        check_student(str(tmp_path / "raft.py"), 2, mode="exhaustive")


def test_states_that_outgrow_the_graders_memory_limit_end_the_run_undetermined() -> None:
    # 4 MiB states, each under the limit of one answer: the workers stay small, the grading process grows (40 MiB
    # a second, without a limit). Past max_memory_mb the search ends undetermined, stop_reason "memory".
    from quorumcheck.models.actor_model import resident_bytes

    limit = resident_bytes() // 2**20 + 120
    found = check("resources.py:FatStates", 3, max_memory_mb=limit, timeout=120)
    assert (found.verdict, found.result.stop_reason, found.exit_code) == (Verdict.UNDETERMINED, "memory", 3)
    assert found.result.peak_memory_bytes < (limit + 200) * 2**20


def test_a_worker_is_not_loaded_again_after_the_runs_time_limit(tmp_path: Path) -> None:
    # A file slow to import whose handler ends its worker made every replacement load it again, each within
    # the 60 s load limit and none within --timeout (77 s for a 10 s limit). Past the run's deadline a worker
    # is not replaced: the search ends there, undetermined or with what it found.
    from quorumcheck.explorer.search import TimeLimitReached
    from quorumcheck.models.actor_model import ActorModel

    (tmp_path / "exits.py").write_text("import os\nfrom quorumcheck.models.actors import Node\n"
                                       "class P(Node):\n    def on_timer(self, name, out):\n        os._exit(3)\n")
    model = ActorModel(str(tmp_path / "exits.py"), 2, protocol="none", max_timeouts=1)
    try:
        host = model.host
        start = host.call(0, (), ("s",))["snapshot"]
        assert host.call(0, start, ("t", "x"))["failure"][0] == "died"
        host.deadline = time.monotonic() - 1
        with pytest.raises(TimeLimitReached):
            host.call(0, start, ("t", "x"))
        host.deadline = None
        assert host.call(0, start, ("t", "x"))["failure"][0] == "died"  # replaced again without a deadline
    finally:
        model.close()


def test_an_exception_with_a_huge_message_is_a_finding_about_the_handler() -> None:
    # Not "the node's state is too large to send": the message is cut, with its length.
    explanation = finding(check("raises.py:RaisesHugeMessage"), "handlers-do-not-crash")
    assert explanation.startswith("n1 (RaisesHugeMessage) on_message(0, 'go') raised ValueError: qc-attack-huge ")
    assert explanation.endswith("... (15,000,000 characters) at raises.py:31 in attack")


def test_system_exit_in_a_handler_is_a_finding() -> None:
    found = check("raises.py:RaisesSystemExit")
    assert finding(found, "handlers-do-not-crash") == (
        "n1 (RaisesSystemExit) on_message(0, 'go') raised SystemExit: 0 at raises.py:24 in attack")


# -- forging quorumcheck's output ----------------------------------------------------------------------
def quoted_only(stderr: str, marker: str) -> None:
    """What the student printed may appear on stderr only quoted, after quorumcheck's line introducing it."""
    lines = stderr.splitlines()
    intro = next((k for k, line in enumerate(lines) if line.startswith("the student's code printed ")), None)
    assert intro is not None, stderr
    assert "(kept apart from this report" in lines[intro]
    assert all(line.startswith("  | ") for line in lines[:intro] + lines[intro + 1:] if marker in line), stderr
    assert not any(marker in line for line in lines[:intro]), stderr
    assert len(lines) - intro - 1 <= 10  # the first ten lines, no more


def student_output(result: dict[str, Any]) -> dict[str, Any]:
    """Take the student's output (kept, as data, in student.output) out of a --json result."""
    return result["student"].pop("output")


def test_a_fake_verdict_on_stdout_and_stderr_never_reaches_the_grader(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["fake-text"]
    assert run.returncode == 1, run.stderr
    assert run.stdout.startswith("actors  file=")
    assert "VIOLATED: election-safety" in run.stdout
    assert "counterexample to election-safety: 6 steps" in run.stdout
    assert "qc-attack-fake" not in run.stdout
    assert "HOLDS" not in run.stdout and "VIOLATED: nothing" not in run.stdout
    quoted_only(run.stderr, "qc-attack-fake")
    # Quoted, and written out: the terminal never obeys the student's escape sequences (clear screen, title).
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stderr
    assert "  | \\x1b[2J\\x1b[Hqc-attack-fake cleared the screen\\x1b]0;qc-attack-title\\x07" in run.stderr


def test_with_json_the_output_stays_json_and_reports_the_genuine_violation(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["fake-text-json"]
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)  # the whole of stdout: nothing the student wrote is mixed in
    printed = student_output(result)
    assert "qc-attack-fake" in printed["start"] and printed["bytes"] > 0  # kept, as data, apart
    assert "qc-attack-fake" not in json.dumps(result) + run.stderr
    assert result["verdict"] == "violated"
    assert result["violation"]["property"] == "election-safety"
    assert len(result["violation"]["trace"]) == 7  # the initial state and 6 steps


def test_a_fake_json_result_then_exit_0_is_a_finding(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["fake-json-exit"]
    assert run.returncode == 1, run.stderr
    result = json.loads(run.stdout)
    student_output(result)
    assert "qc-attack-fake" not in json.dumps(result) + run.stderr
    assert result["verdict"] == "violated"
    assert result["violation"]["property"] == "handlers-do-not-crash"
    assert result["violation"]["explanation"].startswith(
        "n0 (ForgesJsonThenExits) on_timer('election') ended the worker process (exit status 0")


def test_garbage_on_every_descriptor_is_a_malformed_answer_finding() -> None:
    # One of the descriptors 3..20 is the worker's answer channel: garbage on it is a finding.
    found = check("answer_channel.py:GarbageOnEveryFd")
    explanation = finding(found, "handlers-do-not-crash")
    assert explanation.startswith("n1 (GarbageOnEveryFd) on_message(0, 'go') answered something malformed (")


@needs_fresh_calls
def test_a_call_in_a_fresh_copy_ends_with_a_grader_killed_outright() -> None:
    # The fresh copy running a call that sleeps: the grading process is killed with SIGKILL (no cleanup runs). Its
    # workers die with it (PR_SET_PDEATHSIG); the copy, a child of a worker, lived on as an orphan. The fixture
    # (this process is a subreaper, so the orphan comes back here) asserts that nothing outlives the run.
    grader = subprocess.Popen([*CLI, "tests/data/attacks/time_attacks.py", "--node-class", "Sleeps", *NONE_CLI,
                               "--handler-timeout", "20"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    copy = None
    while copy is None and time.monotonic() < deadline:
        table = _processes()
        copy = next((pid for pid, (ppid, cmd) in table.items()
                     if WORKER in cmd and WORKER in table.get(ppid, (0, b""))[1]), None)
        time.sleep(0.2)
    assert copy is not None, "no fresh copy started"
    time.sleep(1)  # it is in the handler's sleep
    grader.kill()
    grader.wait()


def test_garbage_on_the_answer_channel_then_a_call_that_never_ends() -> None:
    started = time.monotonic()
    found = check("answer_channel.py:GarbageThenHang")
    explanation = finding(found, "handlers-do-not-crash")
    if fresh_calls(capabilities()):  # the fresh copy answered (garbage) and was ended at once
        assert explanation.startswith("n1 (GarbageThenHang) on_message(0, 'go') answered something malformed (")
        assert time.monotonic() - started < 20
    else:
        assert "GarbageThenHang" in explanation


def controls(text: str) -> list[str]:
    """The characters of ``text`` that a terminal obeys or XML refuses: any not printable but a newline."""
    return [c for c in text if not c.isprintable() and c != "\n"]


NAMES = ("RaftNode\\x0b\\x1b[2J\\x1b[3J\\x1b[H\\nHOLDS: every property holds (qc-attack-names) (exhaustive)\\x1b[8m",
         "election\\x0b\\x1b[2J\\x1b[3J\\x1b[H\\x1b[8m", "x\\x1b[2J\\x1b[3J\\x1b[Hqc-attack-attr\\x1b[8m",
         "Mark\\x1b]0;qc-attack-title\\x07.M\\x1b[2J\\x1b[3J\\x1b[H\\nHOLDS: every property holds (qc-attack-names)\\x1b[8m",
         "Record\\x0b\\x1b[2J\\x1b[3J\\x1b[H\\nHOLDS: every property holds (qc-attack-names)(n=1, "
         "field\\x1b]0;qc-attack-title\\x07\\x0b=2)")
"""names.py's class, timer, attribute, enum member and dataclass (with an attribute), as quorumcheck writes them."""


def test_names_with_terminal_escapes_are_written_out_in_the_report_and_drawn(tmp_path: Path) -> None:
    # The class name cleared the screen and showed a fake HOLDS in the report's header (classes=), and so did
    # the names of an attribute, a timer, an enum member and a dataclass; a vertical tab in the timer's name
    # made Graphviz's SVG ill-formed, so that --render failed with exit 4. Each is written out, as repr() would.
    run = subprocess.run([*CLI, "tests/data/attacks/names.py", *RAFT_CLI, "--render", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=False, start_new_session=True)
    assert run.returncode == 1, run.stderr
    assert not controls(run.stdout + run.stderr), run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"actors  file=tests/data/attacks/names.py  classes={NAMES[0]}  protocol=raft  ")
    assert lines[1] == "VIOLATED: election-safety (at most one leader is elected per term)"
    assert "counterexample to election-safety: 6 steps" in lines
    assert not any("HOLDS" in line and "\\nHOLDS" not in line for line in lines)  # only ever written out
    initial = lines[lines.index("   0  initial state") + 1]
    assert initial.startswith(f"        n0: commit_index=0, current_term=0, log=[], mark={NAMES[3]}, ")
    assert f", record={NAMES[4]}, " in initial and initial.endswith(f", {NAMES[2]}=1")
    assert f"        timers: n0={{{NAMES[1]}}}, n1={{{NAMES[1]}}}, n2={{{NAMES[1]}}}" in lines
    assert f"        timers.n0: - {NAMES[1]}" in lines
    timers = [line for line in lines if re.fullmatch(rf"   \d  Timer\(node=n\d, timer={re.escape(NAMES[1])}\)", line)]
    assert len(timers) == 2, lines
    assert "        election-safety violated: term 1: n0 and n2 each acted as leader" in lines
    chart = tmp_path / "raft-election-safety-chart.svg"
    assert f"rendered election-safety: {tmp_path / 'raft-election-safety-chart.dot'}, {chart}, " in run.stdout
    svg = chart.read_text(encoding="utf-8")
    ET.fromstring(svg)  # well-formed XML
    assert not controls(svg)
    drawn = html.unescape(svg)  # Graphviz writes "-" as "&#45;"
    assert f"Timer(node=n0, timer={NAMES[1]})" in drawn and "classes=RaftNode\\x0b\\x1b[2J\\x1b[3J" in drawn
    report = (tmp_path / "raft-election-safety-report.html").read_text(encoding="utf-8")
    assert not [c for c in report if not c.isprintable() and c not in "\n\t"]
    assert NAMES[1] in html.unescape(report)


def test_names_with_terminal_escapes_stay_escaped_in_json(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["names-json"]
    assert run.returncode == 1, run.stderr
    assert run.stdout.isascii() and not controls(run.stdout + run.stderr)  # json.dumps writes \u001b
    result = json.loads(run.stdout)
    assert result["verdict"] == "violated" and result["violation"]["property"] == "election-safety"
    steps = result["violation"]["trace"]
    assert len(steps) == 7
    assert steps[1]["action"] in ("Timer(node=n0, timer=election\x0b\x1b[2J\x1b[3J\x1b[H\x1b[8m)",
                                  "Timer(node=n2, timer=election\x0b\x1b[2J\x1b[3J\x1b[H\x1b[8m)")


def test_names_with_terminal_escapes_in_the_pytest_plugins_report(tmp_path: Path) -> None:
    # The plugin draws every failure: a GraphvizError took the place of the election-safety report.
    from quorumcheck.pytest_plugin import StudentChecker

    checker = StudentChecker("exhaustive", None, tmp_path)
    with pytest.raises(pytest.fail.Exception) as failed:
        checker.check_raft(str(ATTACKS / "names.py"), requests=0, max_timeouts=2, max_term=1)
    message = str(failed.value)
    assert not controls(message), message
    lines = message.splitlines()
    assert lines[0] == "quorumcheck: election-safety violated (at most one leader is elected per term)"
    assert f"  1. Timer(node=n0, timer={NAMES[1]})" in lines or f"  1. Timer(node=n2, timer={NAMES[1]})" in lines
    assert "  election-safety violated: term 1: n0 and n2 each acted as leader" in lines
    assert f"  sequence chart: {tmp_path / 'raft-election-safety-chart.svg'}" in lines
    ET.parse(tmp_path / "raft-election-safety-chart.svg")


# -- escaping the worker ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, text", [
    ("Forks", "raised BlockingIOError: [Errno 11] Resource temporarily unavailable at escapes.py:20 in attack"),
    # its pipes; placed at the submission's line that called the library, not the library's own line
    ("Popens", "raised PermissionError: [Errno 1] Operation not permitted at escapes.py:27 in attack"),
    ("StartsThread", "raised RuntimeError: can't start new thread at escapes.py:32 in attack"),
], ids=["fork", "popen", "thread"])
def test_no_new_process_or_thread(cls: str, text: str) -> None:
    # Each would leave a process with a qc-attack- marker sleeping for a minute: the fixture looks for it.
    found = check(f"escapes.py:{cls}")
    assert finding(found, "handlers-do-not-crash").startswith(f"n1 ({cls}) on_message(0, 'go') {text}")


def test_no_new_session_and_no_daemon_double_fork() -> None:
    report = probe_report(check("escapes.py:NewSessionThenDoubleFork"), "NewSessionThenDoubleFork")
    assert report == "setsid=PermissionError setpgid=PermissionError fork=BlockingIOError"


def test_killing_the_grader_fails_and_the_verdict_is_the_genuine_one(cli_runs: dict[str, Any]) -> None:
    # SIGKILL to the parent (the quorumcheck process) and its process group, errors swallowed. Where each call
    # runs in a fresh copy of the loaded worker (root), the parent is that worker, of the same user: the copy may
    # signal itself only.
    run = cli_runs["kill-grader"]
    assert run.returncode == 1, run.stderr
    assert "VIOLATED: election-safety" in run.stdout
    assert "counterexample to election-safety: 6 steps" in run.stdout


@pytest.fixture
def nobody_victim() -> Any:
    """A process of nobody (standing for another course's worker), its pid in /tmp/qc-attack-victim-PID.pid."""
    if not ROOT_GRADER or not Path("/usr/bin/python3").exists():
        pytest.skip("needs root (workers run as nobody) and /usr/bin/python3 for the victim")
    victim = subprocess.Popen(["/usr/bin/python3", "-c", "import time; time.sleep(60)", "qc-attack-victim"],
                              user=NOBODY, group=NOBODY, extra_groups=[], cwd="/",
                              env={"QC_ATTACK_VICTIM_SECRET": "qc-attack-secret"})
    pid_file = Path(f"/tmp/qc-attack-victim-{os.getpid()}.pid")  # the probe's os.getppid() is this process
    try:
        pid_file.write_text(str(victim.pid))
        pid_file.chmod(0o644)
        yield victim
    finally:
        pid_file.unlink(missing_ok=True)
        victim.kill()
        victim.wait()


def test_killing_other_processes_of_nobody(nobody_victim: subprocess.Popen[bytes]) -> None:
    report = probe_report(check("kills.py:KillsOtherNobodyProcesses"), "KillsOtherNobodyProcesses")
    must(report in ("victim: killed", "victim: PermissionError"), f"the probe did not reach the victim: {report}")
    assert report == "victim: PermissionError"
    assert nobody_victim.poll() is None


def test_reading_other_processes_of_nobody(nobody_victim: subprocess.Popen[bytes]) -> None:
    report = probe_report(check("kills.py:ReadsOtherNobodyProcesses"), "ReadsOtherNobodyProcesses")
    must(report in ("victim: read", "victim: PermissionError"), f"the probe did not reach the victim: {report}")
    assert report == "victim: PermissionError"


# -- not returning -----------------------------------------------------------------------------------
def test_sleeping_past_the_time_limit_is_stopped_by_the_wall_clock() -> None:
    # A sleep uses no CPU time: the wall-clock backstop, 2 * 0.5 + 1 s, stops it.
    found = check("time_attacks.py:Sleeps", handler_timeout=0.5)
    assert finding(found, "handlers-terminate") == (
        "n1 (Sleeps) on_message(0, 'go') did not return within 2 s, using almost no CPU time (sleeping, or waiting "
        "for something?) at time_attacks.py:11 in attack")


def test_looping_past_the_time_limit_is_stopped_by_its_cpu_time() -> None:
    found = check("time_attacks.py:Loops", handler_timeout=0.5)
    text = finding(found, "handlers-terminate")
    assert text.startswith("n1 (Loops) on_message(0, 'go') ")
    assert text.endswith(" (an infinite loop?) at time_attacks.py:16 in attack")
    # Its CPU time stops it; on a machine so busy that it got less than half a core, the wall clock (2 s) first.
    assert "used 0.5 s of CPU time without returning" in text or re.search(r"within 2 s, using 0\.\d s of CPU time", text)


@pytest.mark.parametrize("cls", ["DisarmsTheAlarm", "SwallowsEverything"])
def test_disarming_or_swallowing_the_time_limit_meets_the_graders_deadline(cls: str) -> None:
    # The worker's own timers are ignored or caught; the trusted side's deadline (5 * (2 * 0.3 + 1) + 2 s) kills it.
    # One worker (no determinism check): the deadline is per worker, and two would wait for it in turn.
    found = check(f"time_attacks.py:{cls}", handler_timeout=0.3, check_determinism=False)
    assert finding(found, "handlers-terminate") == (
        f"n1 ({cls}) on_message(0, 'go') did not return within 10 s (the worker was stopped)")


# -- files, network, environment --------------------------------------------------------------------
@pytest.mark.skipif(not ROOT_GRADER, reason="the grader runs as root: the worker is dropped to nobody")
def test_root_files_cannot_be_read() -> None:
    seen = fields(probe_report(check("files.py:ReadsSecrets"), "ReadsSecrets"))
    # A user id of its own (no account has it), or nobody where such ids are not mapped.
    assert int(seen["uid"]) >= UNIQUE_UID_BASE if capabilities().unique_users else seen["uid"] == str(NOBODY)
    assert seen["shadow"] == "PermissionError"
    # /root is replaced by an empty tmpfs exposing only what the interpreter needs (if it lives there).
    assert ".bashrc" not in seen["root"] and ".gitconfig" not in seen["root"]
    assert seen["bashrc"] in ("FileNotFoundError", "PermissionError")
    assert seen["gitconfig"] in ("FileNotFoundError", "PermissionError")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not ROOT_GRADER, reason="as the grader's own user the worker could write the grader's files")
def test_quorumcheck_and_the_submission_cannot_be_written() -> None:
    import quorumcheck

    package = Path(quorumcheck.__file__).parent
    planted = [package / "qc_attack_planted.py", ATTACKS / "qc_attack_planted.py"]
    before = {p: _digest(p) for p in (package / "__init__.py", ATTACKS / "files.py")}
    try:
        report = fields(probe_report(check("files.py:WritesQuorumcheckSource"), "WritesQuorumcheckSource"))
        assert list(report) == ["append-init", "create-in-package", "append-own-file", "create-beside"]
        # Denied: by permissions, or, where the checkout lies under a folder the worker cannot enter (a
        # mktemp folder, mode 700), by the read-only mount through which the sandbox exposes it.
        assert all(v in ("PermissionError", "ReadOnlyFileSystem") for v in report.values()), report
        assert {p: _digest(p) for p in before} == before
        assert not any(p.exists() for p in planted)
    finally:
        for p in planted:
            p.unlink(missing_ok=True)


def test_writing_into_the_working_directory_lands_in_a_private_directory(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the grader's working directory
    report = fields(probe_report(check("files.py:WritesIntoCwd"), "WritesIntoCwd"))
    workdir = Path(report["cwd"])
    assert report["home"] == report["cwd"] and report["wrote"] == "True"
    assert workdir.parent == Path(tempfile.gettempdir()) and workdir.name.startswith("quorumcheck-worker-")
    assert not workdir.exists()  # removed with its worker
    assert list(tmp_path.iterdir()) == []
    assert not (ROOT / "qc-attack-cwd.txt").exists()


def test_files_left_in_shared_temporary_directories() -> None:
    shared = [Path(f"{folder}/qc-attack-shared-{os.getpid()}.txt") for folder in ("/tmp", "/var/tmp", "/dev/shm")]
    for p in shared:
        p.unlink(missing_ok=True)
    try:
        report = probe_report(check("files.py:WritesSharedTmp"), "WritesSharedTmp")
        assert [p for p in shared if p.exists()] == [], report
        if landlock_abi():  # not even for a moment: the worker writes only in its private directory
            assert report == " ".join(f"{p}=PermissionError" for p in shared)
    finally:
        for p in shared:
            p.unlink(missing_ok=True)


@pytest.mark.skipif(not landlock_abi(), reason="Landlock (Linux 5.13 or later) is not offered by this kernel")
def test_what_a_worker_may_read_is_what_its_interpreter_loads_and_the_submissions_folder() -> None:
    readable = capabilities((str(ATTACKS),)).readable
    assert str(ATTACKS) in readable and os.path.realpath(sys.prefix) in readable
    # Not the grader's folders, though pytest put the test folder on this process's sys.path.
    beneath = [p for p in readable if str(ROOT / "tests" / "test_attacks.py").startswith(p + os.sep)]
    assert beneath == []
    assert not any(p == "/etc" or p.startswith("/home") for p in readable)


@pytest.mark.skipif(not landlock_abi(), reason="Landlock (Linux 5.13 or later) is not offered by this kernel")
def test_reading_the_graders_world_readable_files() -> None:
    # Landlock: the worker reads only what its interpreter loads and the submission's own folder.
    report = probe_report(check("files.py:ReadsTheGradersFiles"), "ReadsTheGradersFiles")
    assert report == "passwd=PermissionError grader-tests=PermissionError"


def test_no_network_not_even_to_the_graders_loopback(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    (tmp_path / "probe.py").write_text((ATTACKS / "probe.py").read_text())
    source = (ATTACKS / "network_probe.py").read_text()
    (tmp_path / "network_probe.py").write_text(re.sub(r"^PORT = 0\b.*$", f"PORT = {port}", source, flags=re.M))
    try:
        found = check_student(str(tmp_path / "network_probe.py:Connects"), 2, mode="exhaustive")
        report = probe_report(found, "Connects")
        # EPERM at once: a worker may make no socket (their numbers are a counter of the machine's); and its
        # network namespace has no interface up, not even loopback.
        assert report == "loopback=PermissionError(1) outside=PermissionError(1)"
        with pytest.raises(BlockingIOError):
            listener.accept()
    finally:
        listener.close()


def test_the_graders_environment_is_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QC_ATTACK_SECRET", "qc-attack-secret-hunter2")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    seen = fields(probe_report(check("files.py:ReadsTheEnvironment"), "ReadsTheEnvironment"))
    assert seen["names"] == "HOME,LANG,PATH,PYTHONDONTWRITEBYTECODE,PYTHONHASHSEED,TMPDIR"
    assert seen["leaked"] == "none"
    assert seen["parent-environ"] == ("PermissionError" if ROOT_GRADER else "False")


# -- resource abuse ---------------------------------------------------------------------------------
def test_a_memory_hog_is_bounded() -> None:
    found = check("resources.py:HogsMemory", memory_mb=300)
    assert finding(found, "handlers-within-memory") == (
        "n1 (HogsMemory) on_message(0, 'go') MemoryError: ran out of memory")


def test_fifty_megabytes_of_output_do_not_reach_quorumcheck_output(cli_runs: dict[str, Any]) -> None:
    run = cli_runs["flood"]
    assert run.returncode == 1, run.stderr
    assert len(run.stdout) < 200_000 and len(run.stderr) < 10_000
    result = json.loads(run.stdout)
    printed = student_output(result)
    assert printed["bytes"] >= 50 * 2**20 and len(printed["start"]) == 4096  # counted; only the start kept
    assert "qc-attack-flood" not in json.dumps(result) + run.stderr
    assert result["violation"]["property"] == "election-safety" and len(result["violation"]["trace"]) == 7


def test_a_million_element_list_attribute_is_a_normal_result() -> None:
    found = check("resources.py:HugeList")
    assert found.verdict is Verdict.HOLDS and found.exit_code == 0 and found.result.complete


def test_a_ten_to_the_5000_attribute_is_untestable_state() -> None:
    found = check("resources.py:HugeInt")
    must(found.verdict is Verdict.VIOLATED and found.exit_code == 1, "not contained")  # a finding, never exit 4
    explanation = finding(found, "node-state-testable")
    assert explanation.startswith("n1 (HugeInt) on_message(0, 'go'): the node's state could not be sent: ")


def test_a_twenty_megabyte_message_is_untestable_state() -> None:
    found = check("resources.py:HugeMessage")
    must(found.verdict is Verdict.VIOLATED and found.exit_code == 1, "not contained")  # a finding, never exit 4
    explanation = finding(found, "node-state-testable")
    assert explanation.startswith("n1 (HugeMessage) on_message(0, 'go'): the node's state is too large to send")


def test_infinite_recursion_is_a_finding() -> None:
    found = check("resources.py:RecursesForever")
    assert finding(found, "handlers-do-not-crash").startswith(
        "n1 (RecursesForever) on_message(0, 'go') raised RecursionError: maximum recursion depth exceeded")


def test_recursion_that_overflows_the_c_stack_is_a_finding() -> None:
    found = check("resources.py:RecursesPastTheCStack")
    assert finding(found, "handlers-do-not-crash") == (
        "n1 (RecursesPastTheCStack) on_message(0, 'go') ended the worker process (killed by SIGSEGV: a crash in "
        "C code?)")


def test_state_nested_too_deeply_to_snapshot_is_untestable() -> None:
    found = check("resources.py:DeeplyNestedState")
    assert finding(found, "node-state-testable") == (
        "n1 (DeeplyNestedState) on_message(0, 'go'): reading the node's state raised RecursionError: maximum "
        "recursion depth exceeded")


# -- honest mistakes: state outside the node -------------------------------------------------------
@pytest.mark.parametrize("cls, change", [
    ("ModuleCounter", "the module global hidden_state.REQUESTS_SEEN from 0 to 1"),
    ("ModuleVotes", "the module global hidden_state.VOTES from {} to {(1, 1): 0}"),
    ("SharedClassList", "the class attribute SharedClassList.granted_terms from [] to [1]"),
    ("MutableDefault", "the default arguments of MutableDefault.remember from ([],) to ([1],)"),
    ("ClosureCounter", "the closure variable count of hidden_state.bump from 0 to 1"),
    ("EnumValue", "the class attribute Box.GRANTED.value from [] to [1]"),
    ("NamedTupleDefault", "the class attribute Seen._field_defaults from {'terms': []} to {'terms': [1]}"),
], ids=["module-counter", "module-dict", "class-attribute", "mutable-default", "closure", "enum-value",
        "named-tuple-default"])
def test_state_outside_the_node_is_named(cls: str, change: str) -> None:
    found = check(f"hidden_state.py:{cls}", 2, protocol="raft", requests=0, max_timeouts=1, max_term=1)
    assert finding(found, "state-outside-node", steps=2) == (
        f"n1 ({cls}) on_message(0, RequestVote(term=1, last_log_index=0, last_log_term=0)) changed {change} "
        "(state outside the node: keep it in self)")


def test_state_where_no_watch_looks_turns_a_false_counterexample_into_a_finding() -> None:
    # The search's workers count every path's calls, so the check is skipped on some path and election safety
    # fails there; the same schedule run from a fresh start elects one leader. With calls in fresh copies of the
    # loaded code (root), the first call that answers otherwise after earlier calls says so; without them, the
    # confirming replay does.
    found = check("hidden_state.py:SysCounter", 3, protocol="raft", requests=0, max_timeouts=2, max_term=1)
    if fresh_calls(capabilities()):
        explanation = finding(found, "state-outside-node", steps=3)
        assert explanation == (
            "n1 (SysCounter) on_message(0, RequestVote(term=1, last_log_index=0, last_log_term=0)) did otherwise "
            "after earlier calls than in a fresh process (self.voted_for became 0 in one and 1 in the other): it keeps "
            "state outside the node where quorumcheck does not look (a global of another module, an attribute of a "
            "function, of a class, of sys or builtins, a cache); keep all of it in self")
    else:
        explanation = finding(found, "state-outside-node", steps=6)
        assert explanation.startswith("this schedule violated election-safety in the search, but not when run "
                                      "again from a fresh start in new worker processes")
    # A real bug replays: the genuine VoteTwice violation is kept (and took one replay to confirm).
    genuine(check("buggy_raft.py:VoteTwice", 3, protocol="raft", requests=0, max_timeouts=2, max_term=1))


@needs_fresh_calls
@pytest.mark.parametrize("target", [
    *(f"leader_registry.py:{cls}" for cls in ("SubPackage", "FunctionAttribute", "LruCache", "NodeBase", "Builtins",
                                              "File", "SystemV", "ParentsLimits")),
    "parent_signals.py:SignalsTheParent", "fork_hook.py:ForkHook", "answer_pages.py:AnswerPages",
    "answer_remnant.py:AnswerRemnant", "patches_the_worker.py:PatchesTheWorker"])
def test_a_registry_where_no_watch_looks_cannot_hide_a_double_election(target: str) -> None:
    # Without the registry this is VoteTwice, VIOLATED in 6 steps; with it, every branch of the search saw the
    # registry of all the others, and it HELD (exit 0) wherever the watch does not look. Each call also runs in a
    # fresh copy of the loaded code: the first leader the registry refuses answers otherwise there. The copies
    # share nothing with one another through the worker that forks them (its signals, limits, descriptors, the
    # times of its files): each of those HELD once.
    cls = target.split(":")[1]
    found = check(target, 3, protocol="raft", requests=0, max_timeouts=2)
    explanation = finding(found, "state-outside-node", steps=3)
    assert explanation == (
        f"n1 ({cls}) on_message(0, Vote(term=1, granted=True)) did otherwise after earlier calls than in a fresh "
        "process (self.match_index became {} in one and {0: 0, 2: 0} in the other): it keeps state outside the node "
        "where quorumcheck does not look (a global of another module, an attribute of a function, of a class, of "
        "sys or builtins, a cache); keep all of it in self")


@needs_fresh_calls
def test_a_registry_in_the_peak_memory_a_fresh_process_inherits_cannot_hide_a_double_election() -> None:
    # Red-team round 14: a leader bit as 7 MiB of padding in an answer stayed resident in the zygote's answer buffer,
    # and each child's peak resident memory showed it; a buggy Raft HELD. The zygote releases the buffer after each
    # call, so a child measures the same peak after a padded answer as before one.
    found = check("peak_memory.py:PeakMemory", 3, protocol="raft", requests=0, max_timeouts=2)
    explanation = finding(found, "state-outside-node", steps=3)
    assert re.fullmatch(r"n\d \(PeakMemory\) on_message\(\d, Vote\(term=1, granted=True\)\) did otherwise after "
                        r"earlier calls than in a fresh process \(self\.match_index became \{\} in one and "
                        r"\{\d: 0, \d: 0\} in the other\): .*", explanation), explanation


@needs_fresh_calls
@pytest.mark.parametrize("target, reason", [
    # a pipe made at import, on descriptors above a soft limit lowered then (a pipe carried the registry)
    ("high_descriptors.py:HighDescriptors", "importing it raised PermissionError: [Errno 1] Operation not permitted at "
     f"high_descriptors.py:10 in <module>; {SANDBOX_REFUSED}"),
    # a file made at import (it is /dev/null there), whose modification time carried the registry
    ("file_times.py:FileTimes", "importing it raised PermissionError: [Errno 1] Operation not permitted at "
     f"file_times.py:11 in <module>; {SANDBOX_REFUSED}"),
    # /proc read at import (glibc's mmap threshold, found through /proc/self/maps, carried the registry)
    ("malloc_threshold.py:MallocThreshold", "importing it raised PermissionError: [Errno 13] Permission denied: "
     "'/proc/self/maps' at mmthresh.py:15 in _find; nothing in /proc may be read (each handler call runs in a fresh "
     "process, and what /proc shows of the worker that starts them grows with the calls before)"),
])
def test_a_registry_that_must_be_made_at_import_does_not_load(target: str, reason: str) -> None:
    # Each fresh process imports the submission itself, under its limits: what these made at import (and each
    # HELD a buggy Raft through, in some earlier design) it may not make.
    with pytest.raises(InvalidStudentCode) as refused:
        check(target, 3, protocol="raft", requests=0, max_timeouts=2)
    assert f"{target.split(':')[0]}: {reason}" in str(refused.value)


@needs_fresh_calls
@pytest.mark.parametrize("target", ["leader_registry.py:Pipe", "system_v.py:SystemVQueue",
                                    "shared_readonly.py:ReadOnlyShared"])
def test_a_registry_the_fresh_processes_cannot_share_leaves_the_genuine_violation(target: str) -> None:
    # A pipe or a System V queue cannot be made (the registry is nowhere); memory mapped shared at import is each
    # fresh process's own.
    genuine(check(target, 3, protocol="raft", requests=0, max_timeouts=2))


@needs_fresh_calls
def test_a_registry_in_memory_shared_at_import_is_each_fresh_processs_own() -> None:
    # The first worker keeps the registry across its calls; a fresh process starts from an empty one.
    found = check("shared_memory.py:SharedMemory", 3, protocol="raft", requests=0, max_timeouts=2)
    assert "did otherwise after earlier calls than in a fresh process" in finding(found, "state-outside-node", steps=3)


@needs_fresh_calls
@pytest.mark.parametrize("cls", ["InodeCounter", "SocketInode", "MemfdInode", "SocketCookie"])
def test_a_registry_in_the_kernels_object_numbers_cannot_hide_a_double_election(cls: str) -> None:
    # Red-team round 13: pipe and socket inode numbers, memory files' inode numbers and socket cookies come from
    # counters of the machine's; each fresh process moved one to encode the registry for the next, and a buggy Raft
    # HELD. No worker or fresh process may make such objects: the attempt is the finding.
    found = check(f"numbered_objects.py:{cls}", 3, protocol="raft", requests=0, max_timeouts=2)
    explanation = finding(found, "handlers-do-not-crash", steps=0)
    assert f"n0 ({cls}) __init__/on_start raised PermissionError: [Errno 1] Operation not permitted at " in explanation
    assert explanation.endswith(SANDBOX_REFUSED)


@pytest.mark.parametrize("cls", ["PerfEventId", "UserfaultfdInode", "MountNamespace"])
def test_the_kernels_own_counters_are_closed_to_workers(cls: str) -> None:
    # Red-team round 16: perf event ids, a userfaultfd's inode number and the unique ids of a new mount namespace's
    # mounts come from counters of the whole kernel's, which a fresh copy could move and the next read; a buggy Raft
    # HELD on each. Every worker and fresh process is refused the calls: the attempt is the finding.
    found = check(f"kernel_counters.py:{cls}", 3, protocol="raft", requests=0, max_timeouts=2)
    explanation = finding(found, "handlers-do-not-crash", steps=0)
    assert f"n0 ({cls}) __init__/on_start raised PermissionError: [Errno 1] Operation not permitted at " in explanation
    assert explanation.endswith(SANDBOX_REFUSED)


def test_the_call_number_is_not_the_students_to_read() -> None:
    # Red-team round 16: each request carried a count of the calls sent to the worker, which a handler found up its
    # stack, the same in both workers; a buggy Raft that stopped electing leaders after 20 calls HELD. The request
    # now carries a random token, which says nothing: read as a count, it is past 20 at once.
    found = check("call_number.py:CallNumber", 3, protocol="raft", requests=0, max_timeouts=2)
    assert (found.verdict, found.exit_code, found.violation.property) == (Verdict.VIOLATED, 1, "leader-elected")


@needs_fresh_calls
def test_a_log_file_written_in_a_handler_vanishes_where_each_call_runs_in_a_fresh_process() -> None:
    # Honest: a handler appends to debug.log in its working directory. A fresh process may write no file; that
    # file is /dev/null there (it was a PermissionError finding), so the buggy Raft's own violation is found.
    genuine(check("debug_log.py:DebugLog", 3, protocol="raft", requests=0, max_timeouts=2))


def test_a_log_file_opened_at_import_loads(tmp_path: Path) -> None:
    # Honest: logging to a file configured at import (it was refused at load where each call imports the file in a
    # fresh process); a write outside the working directory is still refused, with the reason.
    (tmp_path / "logs.py").write_text(
        "import logging\nfrom buggy_raft import VoteTwice\n"
        "logging.basicConfig(filename='raft.log', level=logging.INFO)\n"
        "class Logs(VoteTwice):\n"
        "    def become_leader(self, out):\n"
        "        logging.info('leader %s of term %s', self.id, self.current_term)\n"
        "        super().become_leader(out)\n")
    (tmp_path / "buggy_raft.py").write_text((ATTACKS / "buggy_raft.py").read_text())
    genuine(check_student(str(tmp_path / "logs.py:Logs"), 3, mode="exhaustive", protocol="raft", requests=0,
                          max_timeouts=2))
    beside = "os.path.join(os.path.dirname(os.path.abspath(__file__)), 'raft.log')"
    # Opened by the file itself, and by logging (placed at the student's line that configured it, not at
    # logging's own: it was __init__.py:1213).
    for name, cls, line in (("beside", "Beside", f"LOG = open({beside}, 'a')"),
                            ("logs_beside", "LogsBeside", f"logging.basicConfig(filename={beside})")):
        (tmp_path / f"{name}.py").write_text(f"import logging, os\nfrom buggy_raft import VoteTwice\n{line}\n"
                                             f"class {cls}(VoteTwice):\n    pass\n")
        if not landlock_abi():
            continue  # without Landlock a worker may write where its user may
        with pytest.raises(InvalidStudentCode) as refused:
            check_student(str(tmp_path / f"{name}.py:{cls}"), 3, mode="exhaustive", protocol="raft", requests=0,
                          max_timeouts=2)
        assert re.search(f"{name}\\.py: importing it raised PermissionError: \\[Errno 13\\] Permission denied: "
                         f"'.*raft\\.log' at {name}\\.py:3 in <module>; a worker runs as an unprivileged user in a "
                         "sandbox: it may read the interpreter's files and the submission's folder, and write files "
                         "only in its working directory \\(open them by a relative name\\)$", str(refused.value)), \
            str(refused.value)


@needs_fresh_calls
def test_a_fresh_copy_cannot_read_its_workers_proc_entries(tmp_path: Path) -> None:
    # The worker that forks the copies is the same user's: its memory use and page faults (/proc/PID/status,
    # /proc/PID/stat) grow with what earlier copies answered, a channel from one copy to the next.
    (tmp_path / "reads_proc.py").write_text(
        "import os\nfrom probe import Probe, Report\n"
        "class ReadsProc(Probe):\n"
        "    def attack(self):\n"
        "        try:\n"
        "            open(f'/proc/{os.getppid()}/status').read()\n"
        "            seen = 'read'\n"
        "        except OSError as e:\n"
        "            seen = type(e).__name__\n"
        "        raise Report(f'parent-status={seen}')\n")
    (tmp_path / "probe.py").write_text((ATTACKS / "probe.py").read_text())
    from quorumcheck.student.trusted.workers import StudentSource, WorkerHost

    host = WorkerHost(StudentSource(str(tmp_path / "reads_proc.py"), ("ReadsProc",)), 2, "none", {},
                      determinism=False)  # one worker: the fresh copies' (the last one)
    try:
        host.start()
        answer = host.call(1, (), ("m", 0, "go"))
    finally:
        host.close()
    assert answer["failure"] is not None and "raised Report: parent-status=PermissionError" in answer["failure"][1]


@needs_fresh_calls
def test_reading_a_file_leaves_its_access_time_alone(tmp_path: Path) -> None:
    # A file whose access time is not after its change time gets a new one when first read (relatime): a fresh copy
    # could set that bit for the next to see with os.stat. The workers' mounts record no access times.
    (tmp_path / "reads.py").write_text(
        "import os\nfrom probe import Probe\n"
        "class Reads(Probe):\n"
        "    def attack(self):\n"
        "        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'untouched.txt')) as f:\n"
        "            f.read()\n"
        "        raise ValueError('qc-attack-read')\n")
    (tmp_path / "probe.py").write_text((ATTACKS / "probe.py").read_text())
    untouched = tmp_path / "untouched.txt"
    untouched.write_text("data\n")
    os.utime(untouched, (1_000_000, 2_000_000))
    found = check_student(str(tmp_path / "reads.py:Reads"), 2, mode="exhaustive")
    assert "qc-attack-read" in finding(found, "handlers-do-not-crash")
    assert untouched.stat().st_atime == 1_000_000


@needs_fresh_calls
def test_a_registry_in_the_page_cache_cannot_hide_a_double_election() -> None:
    # Which pages of a (standard library) file the kernel holds: set by reading one, read back with RWF_NOWAIT.
    # Nothing is written, each worker keeps a bank of its own, and a buggy Raft HELD. A fresh copy may not ask.
    found = check("page_cache.py:PageCache", 3, protocol="raft", requests=0, max_timeouts=2)
    explanation = finding(found, "state-outside-node", steps=3)
    assert "(PageCache) on_message(" in explanation and "did otherwise after earlier calls than in a fresh process" \
        in explanation


@needs_fresh_calls
def test_a_fresh_copy_may_not_read_the_machines_free_memory() -> None:
    # sysinfo's free memory drops when a call reads a file the page cache did not hold: a test-and-set shared by
    # every process (red-team round 15 kept a leader register there and a buggy Raft HELD). A fresh copy gets
    # EPERM, the worker that keeps its process does not, and the two disagree.
    found = check("machine_counters.py:AsksForFreeMemory", 2, protocol="none")
    explanation = finding(found, "handlers-are-deterministic")
    assert explanation.startswith("n1 (AsksForFreeMemory) on_message(0, 'go') did different things in two processes")
    assert "self.answered became (0, 0) in one and (-1, 1) in the other" in explanation


def test_the_kernels_keyrings_are_closed_to_workers() -> None:
    # A registry of leaders in the worker user's keyring (add_key, keyctl): it lives as long as that user has a
    # process, so each fresh copy read what the ones before had added, and a buggy Raft HELD. A seccomp filter
    # answers EPERM to every keyring call.
    genuine(check("leader_registry.py:Keyring", 3, protocol="raft", requests=0, max_timeouts=2))


def test_a_file_opened_at_import_and_read_again_in_each_call_is_fine() -> None:
    # Honest code: each fresh copy has its own opening of the file, at the offset it had; it was /dev/null (a false
    # JSONDecodeError finding on a correct Raft).
    found = check("config_file.py:ReadsItsSettings", 3, protocol="raft", requests=0, max_timeouts=1)
    assert found.verdict is Verdict.HOLDS and found.exit_code == 0, found.violation


def system_v_objects() -> set[str]:
    """The System V objects of the machine's (this process's) IPC namespace, one line each."""
    return {line for kind in ("shm", "sem", "msg") for line in Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]}


def test_no_system_v_object_outlives_the_run() -> None:
    # Made in the host's namespace, a segment stayed after the run (and let each worker keep a registry of its own
    # across fresh copies: a buggy Raft HELD). Each worker now has an IPC namespace of its own.
    before = system_v_objects()
    found = check("leader_registry.py:SystemV", 3, protocol="raft", requests=0, max_timeouts=2)
    assert found.verdict is Verdict.VIOLATED
    assert system_v_objects() == before


def test_a_file_that_will_not_load_again_for_the_confirming_replay_keeps_its_violation() -> None:
    # A submission can tell its loads apart (each worker's uid differs) and refuse the replay's: that was exit 2,
    # "importing it raised", with the violation the search found thrown away.
    from quorumcheck.errors import InvalidStudentCode
    from quorumcheck.studenttest import _confirm_by_replay

    found = check("buggy_raft.py:VoteTwice", 3, protocol="raft", requests=0, max_timeouts=2, max_term=1)

    def refuses() -> Any:
        raise InvalidStudentCode("buggy_raft.py: importing it raised ImportError: second load")

    _confirm_by_replay(found, refuses)
    genuine(found)


def test_the_watch_reads_the_students_state_not_pythons_machinery(tmp_path: Path) -> None:
    """Re-read at every call: the student's mutable globals, class attributes and closures, and Enum members; not
    an Enum's tables, a named tuple's field accessors and defaults, or the closures of imported functions."""
    from quorumcheck.models.actor_model import load_student_file
    from quorumcheck.models.actors import Snapshotter
    from quorumcheck.student.worker.calls import OutsideState

    (tmp_path / "styled.py").write_text(
        "import enum\nfrom dataclasses import field\nfrom typing import NamedTuple\n"
        "from quorumcheck.models.actors import Node\n"
        "class Role(enum.Enum):\n    FOLLOWER = 'f'\n    LEADER = 'l'\n"
        "class Vote(NamedTuple):\n    term: int\n    granted: bool = False\n"
        "SEEN = {}\n"
        "def _counter():\n    count = 0\n    def bump():\n        nonlocal count\n        count += 1\n"
        "        return count\n    return bump\n"
        "bump = _counter()\n"
        "class Server(Node):\n    def __init__(self):\n        self.role = Role.FOLLOWER\n")
    module = load_student_file(tmp_path / "styled.py")
    watch = OutsideState((module.Server,), Snapshotter(), modules=[module])
    assert watch.changed() is None
    assert sorted(key for key, _ in watch._volatile) == [
        ("class", "Role", "FOLLOWER"), ("class", "Role", "LEADER"), ("closure", "styled.bump", "count"),
        ("global", "styled", "SEEN")]
    module.bump()
    keep = " (state outside the node: keep it in self)"
    assert watch.changed() == "changed the closure variable count of styled.bump from 0 to 1" + keep
    module.SEEN[1] = 2
    assert watch.changed() == "changed the module global styled.SEEN from {} to {1: 2}" + keep



def test_a_changed_value_that_only_pickles_is_shown_by_its_repr(tmp_path: Path) -> None:
    # A debug line counter (itertools.count): "changed the module global from another value to another value".
    from quorumcheck.models.actors import Snapshotter
    from quorumcheck.student.worker.calls import OutsideState
    from quorumcheck.student.worker.loading import load_student_file

    (tmp_path / "numbered.py").write_text("import itertools\nfrom quorumcheck.models.actors import Node\n"
                                         "LINES = itertools.count(1)\nclass Server(Node):\n    pass\n")
    module = load_student_file(tmp_path / "numbered.py")
    watch = OutsideState((module.Server,), Snapshotter(), modules=[module])
    next(module.LINES)
    assert watch.changed() == ("changed the module global numbered.LINES from count(1) to count(2) (state outside "
                               "the node: keep it in self)")


# -- nondeterminism ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, what", [
    ("HashOfString", "self.tag became "),
    ("SetOrder", "self.order became "),
    ("WallClock", "self.started became "),
    ("RandomAtImport", "self.ballot became "),
    ("MemoisedRandom", "drew from the shared random generator"),
    ("ObjectId", "self.handle became "),
], ids=["hash", "set-order", "clock", "random-at-import", "lru-cache-random", "id"])
def test_nondeterminism_is_found_in_two_workers(cls: str, what: str) -> None:
    found = check(f"nondeterminism.py:{cls}")
    explanation = finding(found, "handlers-are-deterministic")
    assert explanation.startswith(f"n1 ({cls}) on_message(0, 'go') ") and what in explanation, explanation


# -- a grader's pytest session -----------------------------------------------------------------------
GRADE_BY_PATH = '''
def test_student(quorumcheck):
    quorumcheck.check_raft({target!r}, nodes=3, mode="exhaustive", requests=0, max_timeouts=2, max_term=1)


def test_own_failure():
    assert False, "qc-attack-own-failure"
'''

GRADE_BY_IMPORT = '''
import sys
sys.path.insert(0, {folder!r})
from {module} import {cls} as Student


def test_student(quorumcheck):
    quorumcheck.check_raft(Student, nodes=3, mode="exhaustive", requests=0, max_timeouts=2, max_term=1)


def test_own_failure():
    assert False, "qc-attack-own-failure"
'''

PYTEST_RUNS = {
    "hooks": ("pytest_hooks", "Hooked", GRADE_BY_PATH),
    "interrupt": ("interrupts_import", "Interrupting", GRADE_BY_PATH),
    "exit": ("exits_import", "Exiting", GRADE_BY_PATH),
    "hooks-imported": ("pytest_hooks", "Hooked", GRADE_BY_IMPORT),
    "exit-imported": ("exits_import", "Exiting", GRADE_BY_IMPORT),
}


@pytest.fixture(scope="module")
def pytest_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """A grader's two-test pytest file per attack, run in subprocesses side by side (all finished on return)."""
    started = {}
    for name, (module, cls, template) in PYTEST_RUNS.items():
        course = tmp_path_factory.mktemp(f"course-{name}")
        (course / "test_grade.py").write_text(template.format(
            target=f"{ATTACKS / module}.py:{cls}", folder=str(ATTACKS), module=module, cls=cls))
        started[name] = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", "test_grade.py"],
            cwd=course, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    runs = {}
    for name, process in started.items():
        out, _ = process.communicate(timeout=300)
        runs[name] = subprocess.CompletedProcess(process.args, process.returncode, out, "")
    return runs


@pytest.mark.parametrize("name, message", [
    ("hooks", "quorumcheck: election-safety violated"),
    ("interrupt", "interrupts_import.py: importing it raised KeyboardInterrupt"),
    ("exit", "exits_import.py: loading it ended the worker process (exit status 0"),
], ids=["hooks-and-plugin", "keyboard-interrupt-at-import", "os-exit-at-import"])
def test_a_submission_cannot_reach_the_graders_pytest_session(pytest_runs: dict[str, Any], name: str,
                                                              message: str) -> None:
    # Given as a file path, the submission runs in a worker: its hooks, its plugin registration, its
    # KeyboardInterrupt and its os._exit(0) at import never touch the session; both tests fail.
    run = pytest_runs[name]
    assert run.returncode == 1, run.stdout
    assert run.stdout.rstrip().splitlines()[-1].startswith("2 failed in ")
    assert "FAILED test_grade.py::test_student" in run.stdout
    assert "FAILED test_grade.py::test_own_failure - AssertionError: qc-attack-own-failure" in run.stdout
    assert message in run.stdout


@pytest.mark.parametrize("name, returncode, summary", [
    ("hooks-imported", 0, "1 passed in "),  # test_own_failure deselected silently, the check patched away
    ("exit-imported", 0, None),  # the session ends at collection with status 0 and prints nothing at all
], ids=["hooks-and-plugin", "os-exit-at-import"])
def test_importing_the_submission_into_the_grader_defeats_any_checker(pytest_runs: dict[str, Any], name: str,
                                                                      returncode: int, summary: str | None) -> None:
    # Why graders pass the file path: `from raft import RaftNode` runs the student's code inside the
    # process that decides the verdict. Both tests should fail; the attack makes the session green.
    run = pytest_runs[name]
    assert run.returncode == returncode, run.stdout
    if summary is None:
        assert run.stdout.strip() == ""
    else:
        assert run.stdout.rstrip().splitlines()[-1].startswith(summary)
        assert "failed" not in run.stdout


@pytest.mark.parametrize("setting", [{"isolate": False}, {"memory_mb": 1_000_000}, {"check_determinism": False}])
def test_a_trace_file_cannot_switch_off_the_sandbox_or_its_limits(tmp_path: Path, setting: dict[str, Any]) -> None:
    """A saved trace is input: settings it never records (the sandbox, the memory limit, the determinism check)
    are refused before the student's file is loaded, so an edited trace cannot import it into quorumcheck."""
    from quorumcheck.errors import InvalidParameter
    from quorumcheck.models.actor_model import ActorModel

    marker = tmp_path / "imported"
    student = tmp_path / "student.py"
    student.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n"
                       "from quorumcheck.models.actors import Node\nclass N(Node):\n    pass\n")
    settings = {"file": str(student), "classes": ["N"], "protocol": "none", "nodes": 2, **setting}
    with pytest.raises(InvalidParameter, match=rf"unknown setting\(s\) {next(iter(setting))} in the trace"):
        ActorModel.from_settings(settings)
    assert not marker.exists()


def test_a_trace_whose_node_count_contradicts_its_classes_is_refused(tmp_path: Path) -> None:
    """It once built one node per class and replayed to "does not reproduce" (exit 1: read as fixed)."""
    from quorumcheck.errors import InvalidParameter
    from quorumcheck.models.actor_model import ActorModel

    settings = {"file": str(ROOT / "examples" / "paxos_roles.py"),
                "classes": ["Proposer", "Proposer", "Acceptor", "Acceptor", "Learner"], "protocol": "paxos", "nodes": 3}
    with pytest.raises(InvalidParameter, match=r"the trace says nodes=3 but names 5 node classes, one per node; was "
                                               r"the file edited\?"):
        ActorModel.from_settings(settings)


# -- values the contract reads: numbers, NaN, ballots; floods of messages ------------------------------
RAFT_NODE = '''from quorumcheck.models.actors import Node
class R(Node):
    def __init__(self):
        self.current_term, self.role, self.voted_for, self.log, self.commit_index = 0, "follower", None, [], 0
        {init}
    def on_start(self, out):
        out.set_timer("election")
    def on_timer(self, name, out):
        {timer}
'''


@pytest.mark.parametrize("init, timer, steps, text", [
    ("self.commit_index = 10**30", "pass", 0,
     "n0 (R) __init__/on_start: R.commit_index is 1000000000000000000000000000000, beyond the 10,000 quorumcheck "
     "reads"),
    ("pass", "self.current_term = 10**18", 1,
     "n0 (R) on_timer('election'): R.current_term is 1000000000000000000, beyond the 10,000 quorumcheck reads"),
    ("pass", "self.log.append((10**7, 'x'))", 1,
     "n0 (R) on_timer('election'): a term in R.log is 10000000, beyond the 10,000 quorumcheck reads"),
], ids=["commit-index", "term", "entry-term"])
def test_a_huge_raft_number_is_untestable_state_not_a_universe(tmp_path: Path, init: str, timer: str, steps: int,
                                                                text: str) -> None:
    """The properties are judged over every term and index up to the largest in a state: a student's 10**18 once
    made the trusted process allocate a range of that size (MemoryError, OverflowError: exit 4)."""
    (tmp_path / "big.py").write_text(RAFT_NODE.format(init=init, timer=timer))
    found = check_student(str(tmp_path / "big.py"), 3, protocol="raft", mode="exhaustive", requests=0,
                          max_states=3000, timeout=60)
    assert finding(found, "node-state-testable", steps=steps).startswith(text)


NAN_NODE = '''from quorumcheck.models.actors import Node
class Ping(Node):
    def __init__(self):
        self.count = 0
    def on_start(self, out):
        if self.id == 0:
            out.broadcast(("ping", 0))
    def on_message(self, sender, message, out):
        self.count += 1
        self.x = float("nan")
        if message[0] == "ping":
            out.send(sender, ["pong", float("nan")])
'''


@pytest.mark.parametrize("isolate", [True, False], ids=["workers", "in-process"])
def test_nan_in_node_state_and_messages_is_one_value_not_nondeterminism(tmp_path: Path, isolate: bool) -> None:
    """NaN != NaN: two runs that both set self.x = nan were once reported as handlers-are-deterministic. Every NaN
    is now the one NaN (as the code cannot tell two apart), so the runs agree and the states are found again."""
    (tmp_path / "nan.py").write_text(NAN_NODE)
    found = check_student(str(tmp_path / "nan.py"), 3, mode="exhaustive", isolate=isolate, timeout=60, movers=False)
    assert found.verdict is Verdict.HOLDS and found.exit_code == 0, found.violation
    assert found.result.complete and found.result.distinct_states == 9


PAXOS_NODE = '''from quorumcheck.models.actors import Node
class P(Node):
    def __init__(self):
        self.accepted, self.learned, self.promised = {init}, None, None
    def on_start(self, out):
        if self.id == 0:
            out.broadcast("go", include_self=True)
    def on_message(self, s, m, out):
        {handler}
'''


@pytest.mark.parametrize("init, handler, steps, text", [
    ("None", "self.accepted = ((1, 0), 'v') if self.id == 0 else (1, 'v')", 2,
     "n1 (P) on_message(0, 'go'): P.accepted holds the ballot 1, which cannot be compared with the ballot (1, 0) "
     "that n0 accepted; Paxos ballots must be comparable with each other"),
    ("None", "self.promised = 'x' if self.id == 0 else 3; self.accepted = (3, 'v')", 1,
     "n0 (P) on_message(0, 'go'): P.promised holds the ballot 'x', which cannot be compared with the ballot 3 that "
     "n0 accepted"),
    ("((1, 0), 'v') if self.id == 0 else (1, 'v')", "pass", 0,
     "n1 (P) __init__/on_start: P.accepted holds the ballot 1, which cannot be compared with the ballot (1, 0) that "
     "n0 accepted"),
    ("None", "self.accepted = (float('nan'), 'v')", 1,
     "n0 (P) on_message(0, 'go'): P.accepted holds the ballot nan, which is or holds a NaN: NaN is not ordered"),
], ids=["mixed-accepted", "mixed-promised", "mixed-at-start", "nan-ballot"])
def test_ballots_the_properties_cannot_order_are_untestable_state(tmp_path: Path, init: str, handler: str, steps: int,
                                                                   text: str) -> None:
    """Mixed-type ballots once ended the run with a usage error (exit 2, no schedule) and a NaN ballot with a false
    nondeterminism finding; both are the student's code's doing: a node-state-testable finding with its schedule."""
    (tmp_path / "ballots.py").write_text(PAXOS_NODE.format(init=init, handler=handler))
    found = check_student(str(tmp_path / "ballots.py"), 3, protocol="paxos", requests=0, mode="exhaustive")
    assert finding(found, "node-state-testable", steps=steps).startswith(text)


FLOOD_NODE = '''from quorumcheck.models.actors import Node
class Flood(Node):
    def on_start(self, out):
        if self.id == 0:
            out.send(1, -1)
    def on_message(self, sender, message, out):
        for i in range({sends}):
            out.send(sender, (message, i))
'''


def test_a_handler_that_sends_too_many_messages_is_untestable_state(tmp_path: Path) -> None:
    """Every message in flight is a step from every state that holds it: 2,000 messages a call took a gigabyte in
    one state's expansion, and 20,000 never ended. One call may send MAX_SENDS (1,000) messages."""
    (tmp_path / "flood.py").write_text(FLOOD_NODE.format(sends=1001))
    found = check_student(str(tmp_path / "flood.py"), 2, mode="exhaustive", max_states=100, timeout=60)
    assert finding(found, "node-state-testable") == (
        "n1 (Flood) on_message(0, -1): sent 1,001 messages in one call; quorumcheck takes at most 1,000 (each message "
        "in flight is a step to explore from every state that holds it)")


def test_a_handler_that_sets_too_many_timers_is_untestable_state(tmp_path: Path) -> None:
    """100,000 timers in one call were refused as "answered something malformed ... does the code write to
    quorumcheck's channel?", which accuses honest code of tampering (red-team round 16)."""
    (tmp_path / "timers.py").write_text("from quorumcheck.models.actors import Node\nclass Timers(Node):\n"
                                        "    def on_start(self, out):\n        for i in range(10_001):\n"
                                        "            out.set_timer(f't{i}')\n")
    found = check_student(str(tmp_path / "timers.py"), 2, mode="exhaustive", max_states=100, timeout=60)
    assert finding(found, "node-state-testable", steps=0) == (
        "n0 (Timers) __init__/on_start: set or cancelled timers 10,001 times in one call; quorumcheck takes at most "
        "10,000 (a node needs a few: an election timer, a heartbeat)")


@pytest.mark.parametrize("isolate", [True, False], ids=["workers", "in-process"])
def test_the_time_limit_binds_inside_one_states_successors(tmp_path: Path, isolate: bool) -> None:
    """1,000 messages a call (the most allowed): the second state's successors are 1,000 handler calls, each sending
    1,000 more, seconds of work that the search once finished before it looked at its clock."""
    (tmp_path / "flood.py").write_text(FLOOD_NODE.format(sends=1000))
    started = time.monotonic()
    found = check_student(str(tmp_path / "flood.py"), 2, mode="exhaustive", timeout=1.0, isolate=isolate)
    took = time.monotonic() - started
    assert found.verdict is Verdict.UNDETERMINED and found.result.stop_reason == "timeout", found.verdict
    assert found.result.distinct_states <= 3  # the time ran out inside the second state's successors,
    assert found.handler_calls < 1000, found.handler_calls  # before the 1,000 calls they take (about 3 s here)
    assert took < 10, took  # not after them (the search read its clock only between steps)


def test_what_the_students_code_prints_is_shown_apart(tmp_path: Path) -> None:
    """print() in a handler is the student's output: captured by the trusted side and shown after the report
    (or under student.output with --json), never mixed into quorumcheck's own output."""
    student = tmp_path / "chatty.py"
    student.write_text("from quorumcheck.models.actors import Node\nprint('loading chatty')\n"
                       "class Chatty(Node):\n    def on_start(self, out):\n        print('started', self.id)\n"
                       "        if self.id == 0:\n            out.send(1, 'hello')\n"
                       "    def on_message(self, sender, message, out):\n        print('got', message, 'from', sender)\n")
    args = [*CLI, str(student), "--protocol", "none", "--nodes", "2", "--mode", "exhaustive"]
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    printed = student_output(result)["start"]
    assert "loading chatty\n" in printed and "started 1\n" in printed and "got hello from 0\n" in printed
    text = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert "got hello from 0" not in text.stdout and "  | got hello from 0" in text.stderr
