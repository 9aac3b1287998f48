"""Random-mode strategies against the shipped student bugs: schedules and seconds to the first failure.

For every class in examples/raft_bugs.py and examples/paxos_bugs.py (with the configuration its test
uses), and for the two deep targets (``CommitOldTermByCounting`` and ``LengthOnlyLogCheck`` with 2
requests, 4 timeouts and terms up to 4, in auto mode as ``quorumcheck test`` runs them), this runs
each random-mode strategy (``swarm``: the old one, ``coverage``: the default) with one seed, capped
in seconds, and prints a markdown table: the property found, schedules and seconds until the first
failing schedule (before shrinking), the shrunk schedule's length, and the whole run's seconds.

Run by hand (not part of the test suite), one heavy job at a time::

    .venv/bin/python bench/bench_deep_search.py              # everything, 120 s cap per run
    .venv/bin/python bench/bench_deep_search.py --cap 30 --only raft
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from quorumcheck.models.actor_model import load_student_file
from quorumcheck.studenttest import STRATEGIES, check_student

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

#: (protocol, bug, options): the shipped bugs with their tests' configurations (tests/test_student_*.py).
RAFT = {
    "VoteTwice": {"requests": 0, "max_timeouts": 2},
    "ForgetVoteOnRestart": {"requests": 0, "max_timeouts": 2, "max_crashes": 1},
    "CountStaleVotes": {"requests": 0, "max_timeouts": 3, "max_term": 3},
    "NoLogCheck": {"requests": 1, "max_timeouts": 2},
    "TruncateOnAppend": {"requests": 2, "max_timeouts": 1},
    "AcceptStaleAppend": {"requests": 2, "max_timeouts": 2},
    "CommitToLogEnd": {"requests": 1, "max_timeouts": 2},
    "MatchIndexFromCurrentLog": {"requests": 2, "max_timeouts": 2},
    "CommitOldTermByCounting": {"requests": 2, "max_timeouts": 4, "max_term": 4},
    "LengthOnlyLogCheck": {"requests": 2, "max_timeouts": 3, "max_term": 3},
}
PAXOS = {
    "AcceptBelowPromise": {},
    "IgnorePriorVotes": {},
    "PromiseBackwards": {},
    "AdoptAnyVote": {"requests": 3},
    "SmallQuorum": {},
    "DuplicateBallots": {},
    "LearnerMixesBallots": {},
    "ForgetsPromiseOnCrash": {"max_crashes": 1},
    "CountsDuplicateVotes": {"max_duplicates": 1},
}
#: The deep targets: `quorumcheck test examples/raft_bugs.py --protocol raft --node-class NAME --requests 2
#: --max-timeouts 4 --max-term 4` (auto mode: 200,000 states exhaustively, then random schedules).
TARGETS = {name: {"requests": 2, "max_timeouts": 4, "max_term": 4}
           for name in ("CommitOldTermByCounting", "LengthOnlyLogCheck")}


def run(protocol: str, bug: str, options: dict[str, Any], strategy: str, *, mode: str, cap: float, seed: int,
        runs: int) -> dict[str, Any]:
    bugs = load_student_file(EXAMPLES / f"{protocol}_bugs.py")
    settings: dict[str, Any] = {"requests": 2, "max_timeouts": 0} if protocol == "paxos" else {}
    settings.update(options)
    started = time.perf_counter()
    found = check_student(getattr(bugs, bug), 3, protocol=protocol, mode=mode, strategy=strategy, seed=seed,
                          runs=runs, timeout=cap, isolate=False, keep_graph=False, **settings)
    seconds = time.perf_counter() - started
    v = found.violation
    first = found.first_failure
    prefix = found.exhaustive_prefix
    return {
        "verdict": found.verdict.value,
        "property": v.property if v is not None else "—",
        "schedules": first[0] if first else None,
        "first_seconds": (first[1] + (prefix.seconds if prefix is not None else 0.0)) if first else None,
        "shrunk": len(v.trace) if v is not None and v.trace is not None else None,
        "total": seconds,
        "ran": found.schedules,
        "exhaustive": found.mode == "exhaustive",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=100_000, help="schedules per run (the cap usually ends it first)")
    parser.add_argument("--only", choices=["raft", "paxos", "targets"], action="append",
                        help="run only these groups (repeatable)")
    parser.add_argument("--strategy", choices=STRATEGIES, action="append", help="only these strategies")
    args = parser.parse_args(argv)
    groups = args.only or ["raft", "paxos", "targets"]
    strategies = args.strategy or ["swarm", "coverage"]
    rows: list[tuple[str, ...]] = []
    cases: list[tuple[str, str, str, dict[str, Any], str]] = []
    if "raft" in groups:
        cases += [("raft", name, name, options, "random") for name, options in RAFT.items()]
    if "paxos" in groups:
        cases += [("paxos", name, name, options, "random") for name, options in PAXOS.items()]
    if "targets" in groups:
        cases += [("raft", f"{name} (target, auto)", name, options, "auto") for name, options in TARGETS.items()]
    print(f"seed {args.seed}, at most {args.cap:g} s per run", file=sys.stderr)
    for protocol, label, bug, options, mode in cases:
        config = ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"
        for strategy in strategies:
            r = run(protocol, bug, options, strategy, mode=mode, cap=args.cap, seed=args.seed, runs=args.runs)
            if r["exhaustive"]:
                found = f"exhaustive ({r['shrunk']} steps)"
                row = (label, config, strategy, r["property"], "—", "—", str(r["shrunk"]), f"{r['total']:.1f}")
            elif r["schedules"] is None:
                found = "not found"
                row = (label, config, strategy, f"not found ({r['ran']:,} schedules)", "—", "—", "—",
                       f"{r['total']:.1f}")
            else:
                found = r["property"]
                row = (label, config, strategy, r["property"], f"{r['schedules']:,}", f"{r['first_seconds']:.1f}",
                       str(r["shrunk"]), f"{r['total']:.1f}")
            print(f"{label} {strategy}: {found} · {r['total']:.1f} s", file=sys.stderr, flush=True)
            rows.append(row)
    header = ("bug", "configuration", "strategy", "violated", "schedules to first failure",
              "seconds to first failure", "shrunk steps", "run seconds")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if k < 4 else "---:" for k in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
