"""Walks over epochs with and without go-explore: how soon each finds the deep Raft bugs with more nodes.

Random mode with ``strategy="epochs"`` (auto mode's walks when its epoch search stays shallow) on
examples/raft_bugs.py, 2 requests, 4 time-outs, terms up to 4, for several seeds and both ways: ``plain``
(every walk from the initial state, ``WALK_FURTHER = 0``) and ``go-explore`` (a share ``WALK_RETURNS`` of
the walks go on from a coverage cell an earlier walk reached first, the default; ``--returns`` sets it). It prints a markdown table: the
schedules and seconds until the first failure (before shrinking), the shrunk schedule's length, and the
run's peak memory. Handlers run in this process (``isolate=False``).

Run by hand (not part of the test suite), alone on the machine::

    .venv/bin/python bench/bench_walks.py                     # 5 nodes, seeds 0-2, 120 s cap per run
    .venv/bin/python bench/bench_walks.py --nodes 3 --seeds 5 --cap 60
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from quorumcheck import studenttest
from quorumcheck.models.actor_model import load_student_file
from quorumcheck.studenttest import check_student

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BUGS = ("CommitOldTermByCounting", "LengthOnlyLogCheck")
VARIANTS = {"plain": 0, "go-explore": studenttest.WALK_FURTHER}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument("--bug", choices=BUGS, action="append", help="only these bugs (repeatable)")
    parser.add_argument("--variant", choices=VARIANTS, action="append", help="only these variants (repeatable)")
    parser.add_argument("--returns", type=float, default=studenttest.WALK_RETURNS,
                        help="go-explore: the share of walks that go on from a kept walk")
    args = parser.parse_args(argv)
    bugs = load_student_file(EXAMPLES / "raft_bugs.py")
    print("| bug | nodes | walks | seed | found after (schedules) | seconds to first failure | shrunk steps |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for bug in args.bug or BUGS:
        for variant, further in VARIANTS.items():
            if args.variant and variant not in args.variant:
                continue
            studenttest.WALK_FURTHER = further
            studenttest.WALK_RETURNS = args.returns
            for seed in range(args.seeds):
                progress: dict[str, object] = {}
                started = time.perf_counter()
                result = check_student(getattr(bugs, bug), args.nodes, protocol="raft", mode="random",
                                       strategy="epochs", seed=seed, runs=10**7, timeout=args.cap, isolate=False,
                                       requests=2, max_timeouts=4, max_term=4)
                took = time.perf_counter() - started
                first = result.first_failure
                if result.violation is None or first is None:
                    row = (f"not found ({result.schedules:,} schedules)", f"({took:.0f})", "—")
                else:
                    row = (f"{first[0]:,}", f"{first[1]:.1f}", str(len(result.violation.trace)))
                print(f"| {bug} | {args.nodes} | {variant} | {seed} | " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
