"""Benchmark: `quorumcheck test`'s exhaustive search plain (``--no-reduction``), with sleep sets (``--por``) and
with right movers (the default).

Each run is a fresh interpreter running ``check_student`` on a shipped example as the CLI does (the
student's handlers in sandboxed workers), in exhaustive mode, once per reduction. The table gives, per
configuration: verdict, distinct states, transitions, steps asleep (sleep sets) or states passed through inside
transactions (movers), handler calls, the counterexample's length, seconds, states per second, peak RSS of the
searching process, and the time ratio to the plain run of the same invocation.

Usage::

    .venv/bin/python bench/bench_student_reductions.py
    .venv/bin/python bench/bench_student_reductions.py --only paxos-1-request --repeat 3

Not a test: nothing here asserts timings. Exit 1 when two runs of a configuration disagree on the verdict or
the counterexample's length, or (sleep sets, run to the end) on distinct states or depth.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _child import run_child

ROOT = Path(__file__).resolve().parent.parent
CONFIGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    # name: (example file, node class, check_student options)
    "paxos-1-request": ("paxos.py", "PaxosNode", {"protocol": "paxos", "requests": 1, "max_timeouts": 0}),
    "paxos-1-request-1-drop": ("paxos.py", "PaxosNode",
                               {"protocol": "paxos", "requests": 1, "max_timeouts": 0, "max_drops": 1}),
    "raft-200k": ("raft.py", "RaftNode", {"protocol": "raft", "requests": 1, "max_timeouts": 2,
                                           "max_states": 200_000}),
    "raft-count-stale-votes": ("raft_bugs.py", "CountStaleVotes",
                               {"protocol": "raft", "requests": 2, "max_timeouts": 4, "max_term": 4}),
    "raft-no-log-check": ("raft_bugs.py", "NoLogCheck",
                          {"protocol": "raft", "requests": 2, "max_timeouts": 4, "max_term": 4,
                           "max_states": 400_000}),
    "paxos-counts-duplicate-votes": ("paxos_bugs.py", "CountsDuplicateVotes",
                                     {"protocol": "paxos", "requests": 2, "max_timeouts": 0, "max_duplicates": 1}),
    "paxos-small-quorum": ("paxos_bugs.py", "SmallQuorum", {"protocol": "paxos", "requests": 2, "max_timeouts": 0}),
    "paxos-2-requests-1m": ("paxos.py", "PaxosNode", {"protocol": "paxos", "requests": 2, "max_timeouts": 0,
                                                      "max_states": 1_000_000}),
}


REDUCTIONS = {"none": "none", "sleep": "sleep sets", "movers-uncovered": "movers, no covering", "movers": "movers"}
"""``movers-uncovered``: right movers as before 2026-12-03, every transaction taken (no
:meth:`~quorumcheck.explorer.movers.Movers._covered`), to measure what covering buys."""


def worker(name: str, reduction: str) -> None:
    from quorumcheck.studenttest import check_student

    file, cls, options = CONFIGS[name]
    if reduction == "movers-uncovered":
        from quorumcheck.explorer.movers import Movers

        Movers._covered = lambda self, *args: False  # type: ignore[method-assign]
    started = time.perf_counter()
    found = check_student(f"{ROOT / 'examples' / file}:{cls}", 3, mode="exhaustive", por=reduction == "sleep",
                          movers=reduction.startswith("movers"), **options)
    seconds = time.perf_counter() - started
    r = found.result
    v = r.violation
    po = r.partial_order
    print(json.dumps({
        "verdict": r.verdict.value, "states": r.distinct_states, "transitions": r.transitions, "depth": r.depth,
        "slept": po.slept if po else 0, "passed": po.passed if po else 0, "calls": found.handler_calls,
        "length": len(v.trace) if v and v.trace else None, "complete": r.complete, "seconds": seconds,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run(name: str, reduction: str, timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", name, "--reduction", reduction]
    return run_child(cmd, timeout, ROOT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma-separated configurations: " + ", ".join(CONFIGS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per cell; the median time is shown")
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--reduction", type=lambda text: text.split(","), default=None,
                    help="only these reductions, comma-separated (and the plain run they are compared with): "
                         + ", ".join(REDUCTIONS))
    args = ap.parse_args()
    if args.reduction is not None and not set(args.reduction) <= set(REDUCTIONS):
        ap.error(f"--reduction: choose from {', '.join(REDUCTIONS)}")
    if args.worker:
        worker(args.worker, args.reduction[0] if args.reduction else "none")
        return 0
    names = args.only.split(",") if args.only else list(CONFIGS)
    methods = list(REDUCTIONS) if args.reduction is None else ["none", *args.reduction]
    print(f"# reductions in `quorumcheck test`, {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}, "
          f"median of {args.repeat}")
    print("| configuration | reduction | verdict | states | transitions | asleep / passed | handler calls | trace | "
          "s | states/s | peak MiB | t / plain |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    disagree = 0
    for name in names:
        results: dict[str, dict[str, Any]] = {}
        for method in dict.fromkeys(methods):
            runs = [run(name, method, args.timeout) for _ in range(args.repeat)]
            good = [r for r in runs if "error" not in r]
            if not good:
                print(f"| {name} | {REDUCTIONS[method]} | {runs[0]['error']} | | | | | | | | | |")
                continue
            r = dict(good[0], seconds=statistics.median(g["seconds"] for g in good))
            results[method] = r
            base = results.get("none")
            ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else ""
            aside = r["slept"] if method == "sleep" else r["passed"] if method.startswith("movers") else 0
            print(f"| {name} | {REDUCTIONS[method]} | {r['verdict']} | {r['states']:,} | "
                  f"{r['transitions']:,} | {aside:,} | {r['calls']:,} | {r['length'] or ''} | "
                  f"{r['seconds']:.1f} | {r['states'] / r['seconds']:,.0f} | {r['peak_mib']:,.0f} | {ratio} |",
                  flush=True)
        a = results.get("none")
        for method, b in results.items():
            if a is None or method == "none" or not (a["complete"] and b["complete"]):
                continue
            if a["verdict"] != b["verdict"] or a["length"] != b["length"] or (
                    method == "sleep" and (a["states"], a["depth"]) != (b["states"], b["depth"])):
                print(f"DISAGREE: {name} ({method}): {a} vs {b}", file=sys.stderr)
                disagree += 1
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
