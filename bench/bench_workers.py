"""Benchmark: 1 worker against N workers, beside the speed-up this machine gives any CPU-bound work.

On a virtual machine the cores are shared: two processes of pure Python arithmetic
measured 1.26× faster than one here in one minute, and 2.0× faster a minute later.
A workers' speed-up alone therefore says little. This script measures, alternately
and in the same invocation:

* the **ceiling**: a pure-Python loop run once, then in N processes at once
  (the speed-up is N × one / together; N on an idle machine with N free cores);
* the **search**: ``explore(spec's model, keep_graph=False, workers=1)`` and
  ``workers=N``, each in a fresh process, with exact counts checked equal.

It reports, per round, both speed-ups, and the medians. The search's speed-up
divided by the ceiling is the part the sharded search keeps of what the machine
gives at that moment.

Usage::

    .venv/bin/python bench/bench_workers.py                              # Raft, small exact spec, 3 rounds
    .venv/bin/python bench/bench_workers.py --spec specs/raft-tlc.toml --rounds 2
    .venv/bin/python bench/bench_workers.py --spec specs/paxos-b2.toml --workers 2

Not a test: nothing here asserts timings. Exit 1 if a run with workers
disagrees with the one-worker run on the verdict or the counts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from multiprocessing import Process
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def burn(n: int = 30_000_000) -> int:
    """CPU-bound pure Python, no memory traffic: what one core does alone."""
    x = 0
    for i in range(n):
        x += i
    return x


def ceiling(workers: int) -> float:
    """N × (one burn alone) / (N burns at once)."""
    started = time.perf_counter()
    burn()
    one = time.perf_counter() - started
    procs = [Process(target=burn) for _ in range(workers)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return workers * one / (time.perf_counter() - started)


def worker(spec_path: str, workers: int) -> None:
    import warnings

    warnings.simplefilter("ignore")
    from quorumcheck.explorer import explore
    from quorumcheck.runspec import load_spec

    model = load_spec(ROOT / spec_path).build_model()
    started = time.perf_counter()
    r = explore(model, keep_graph=False, workers=workers)
    print(json.dumps({"seconds": time.perf_counter() - started, "verdict": r.verdict.value,
                      "states": r.distinct_states, "transitions": r.transitions, "depth": r.depth}))


def search(spec: str, workers: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--worker", spec, "--workers", str(workers)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default="specs/raft-small-exact.toml", help="the spec to search (its parameters)")
    ap.add_argument("--workers", type=int, default=2, help="N (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of ceiling, 1 worker, N workers (default 3)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.workers)
        return 0
    print(f"# {args.spec}: 1 against {args.workers} workers, {time.strftime('%Y-%m-%d %H:%M')}")
    print(f"| round | ceiling (pure Python, {args.workers} processes) | 1 worker s | {args.workers} workers s "
          "| search speed-up | speed-up / ceiling |")
    print("|---:|---:|---:|---:|---:|---:|")
    ceilings, ratios, kept = [], [], []
    disagree = False
    for k in range(1, args.rounds + 1):
        c = ceiling(args.workers)
        one, many = search(args.spec, 1), search(args.spec, args.workers)
        c = (c + ceiling(args.workers)) / 2  # before and after the searches
        if any(one[key] != many[key] for key in ("verdict", "states", "transitions", "depth")):
            disagree = True
        speedup = one["seconds"] / many["seconds"]
        ceilings.append(c)
        ratios.append(speedup)
        kept.append(speedup / c)
        print(f"| {k} | {c:.2f}× | {one['seconds']:.2f} | {many['seconds']:.2f} | {speedup:.2f}× | {speedup / c:.2f} |",
              flush=True)
    print(f"| median | {statistics.median(ceilings):.2f}× | | | {statistics.median(ratios):.2f}× | "
          f"{statistics.median(kept):.2f} |")
    print(f"states {one['states']:,}, transitions {one['transitions']:,}, depth {one['depth']}: "
          + ("DISAGREE" if disagree else "equal with 1 and with N workers"))
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
