"""Stale-message schedules against the crash-restart bugs: random schedules until the first failure, with and
without them.

A stale-message schedule (:class:`quorumcheck.studenttest.StaleMessages`, one swarm schedule in
``STALE_SHARE`` when crashes are allowed) holds the messages in flight to a restarting node, and a
duplicate's copy, until the node's new incarnation has started something, and keeps the second client
request for after a restart. This runs random mode (the swarm strategy) on every shipped or independently
written bug that needs a crash, with the configuration its test uses, once as ``quorumcheck test`` does and
once with stale-message schedules off (``STALE_SHARE = 1``), for a few seeds. It prints a markdown table:
the schedules and seconds until the first failure (before shrinking), or "not found" within the cap.
The student code runs in this process (``isolate=False``).

Run by hand (not part of the test suite)::

    .venv/bin/python bench/bench_stale.py                 # seeds 0-2, 120 s cap per run
    .venv/bin/python bench/bench_stale.py --seeds 0 --cap 30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from quorumcheck import studenttest
from quorumcheck.models.actor_model import load_student_file
from quorumcheck.studenttest import check_student

ROOT = Path(__file__).resolve().parent.parent
PAXOS = {"requests": 2, "max_timeouts": 0}
RAFT = {"requests": 1, "max_timeouts": 2, "max_term": 2}

#: (file, class, protocol, options): every bug that needs a crash, with its test's configuration.
CASES = [
    ("examples/raft_bugs.py", "ForgetVoteOnRestart", "raft", {"requests": 0, "max_timeouts": 2, "max_crashes": 1}),
    ("examples/paxos_bugs.py", "ForgetsPromiseOnCrash", "paxos", {**PAXOS, "max_crashes": 1}),
    ("tests/data/independent/paxos2.py", "ForgetPromiseOnRestart", "paxos", {**PAXOS, "max_crashes": 1}),
    ("tests/data/independent/paxos2.py", "ReuseBallotAfterRestart", "paxos", {**PAXOS, "max_crashes": 1}),
    ("tests/data/independent/paxos3.py", "PromiseNotDurable", "paxos", {**PAXOS, "max_crashes": 1}),
    ("tests/data/independent/paxos3.py", "ReuseBallotAfterRestart", "paxos",
     {**PAXOS, "max_crashes": 1, "max_duplicates": 1}),
    ("tests/data/independent/raft3.py", "VoteNotDurable", "raft", {**RAFT, "max_crashes": 1}),
]


def run(path: str, cls: str, protocol: str, options: dict[str, Any], *, stale: bool, seed: int,
        cap: float) -> tuple[int, float] | None:
    """Schedules and seconds until the first failure, or None within ``cap`` seconds."""
    node = getattr(load_student_file(ROOT / path), cls)
    share = studenttest.STALE_SHARE
    studenttest.STALE_SHARE = share if stale else 1  # one in one: a draw from {0}, never the stale rules
    try:
        found = check_student(node, 3, protocol=protocol, mode="random", seed=seed, runs=10**9, timeout=cap,
                              isolate=False, keep_graph=False, **options)
    finally:
        studenttest.STALE_SHARE = share
    return found.first_failure if found.violation is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    header = ("bug", "configuration", "seed", "with stale-message schedules", "without")
    print("| " + " | ".join(header) + " |")
    print("|---|---|---:|---:|---:|")
    for path, cls, protocol, options in CASES:
        config = ", ".join(f"{k}={v}" for k, v in options.items())
        for seed in args.seeds:
            cells = []
            for stale in (True, False):
                until = run(path, cls, protocol, options, stale=stale, seed=seed, cap=args.cap)
                cells.append(f"not found in {args.cap:g} s" if until is None
                             else f"{until[0]:,} schedules, {until[1]:.1f} s")
            print(f"| {Path(path).name} {cls} | {config} | {seed} | {cells[0]} | {cells[1]} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
