"""Benchmark quorumcheck's explorer on raft.tla in TLC's configuration, beside TLC's figures.

What is measured
----------------
Ongaro's raft.tla with 3 servers, ``Value = {v1}`` and the constraint
``currentTerm <= 2 /\\ Len(log) <= 0`` with at most one copy of a message and one
message in flight, restarts, duplication and loss on (``RaftModel(servers=3,
values=1, max_term=2, max_log=0, max_copies=1, max_in_flight=1,
duplication=True)``): 705,532 distinct states, depth 39, exactly as TLC counts
them. Three configurations:

``full``
    ``explore(model)``: the state graph kept in networkx and every property
    checked (five invariants, Leader Append-Only on every transition, and
    ``leader-elected``).
``no-graph``
    ``explore(model, keep_graph=False)``: only BFS parent links are kept.
``no-props``
    ``explore(model, keep_graph=False, properties=[])``: the bare search.

Every run is a fresh child process (``python bench_raft.py --worker NAME``),
so its peak resident set size (``ru_maxrss``, the interpreter and imports
included) belongs to that configuration alone; the time is the wall-clock time
of the ``explore`` call, measured in the child. Each configuration runs
``--repeat N`` times (default 3), interleaved round by round, and the table
reports the median time, the states per second at the median, and the largest
peak RSS. The count and depth of every run are checked (705,532 and 39).

TLC's figures on this machine (tla2tools, one worker, default heap): 101 s and
2.2 GiB while the machine was loaded, 54 s on a quiet machine
(``/work/shared/REFERENCE.md``). The load average before and after is printed.

Running it
----------
::

    .venv/bin/python bench/bench_raft.py                    # 3 repeats of each configuration
    .venv/bin/python bench/bench_raft.py --repeat 5 --only full --json out.json

Exit status: 0 when every run completed with the expected count, 1 when a count,
depth or verdict was wrong, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CONFIGS: dict[str, str] = {
    "full": "explore(): graph kept, every property checked",
    "no-graph": "explore(keep_graph=False)",
    "no-props": "explore(keep_graph=False, properties=[])",
}
PARAMETERS: dict[str, Any] = {
    "servers": 3, "values": 1, "max_term": 2, "max_log": 0, "max_copies": 1, "max_in_flight": 1,
    "restarts": True, "duplication": True, "loss": True, "history": True,
}
EXPECTED = (705_532, 39)
TLC = {"seconds_loaded": 101.0, "seconds_quiet": 54.0, "peak_rss_gib": 2.2}
RESULT_MARKER = "BENCH-RESULT "
MIB = 1024 * 1024


def run_worker(name: str) -> dict[str, Any]:
    """Run one configuration in this process and return its measurements."""
    from quorumcheck.explorer import explore
    from quorumcheck.models import RaftModel

    kwargs: dict[str, Any] = {}
    if name in ("no-graph", "no-props"):
        kwargs["keep_graph"] = False
    if name == "no-props":
        kwargs["properties"] = []
    model = RaftModel(**PARAMETERS)
    started = time.perf_counter()
    result = explore(model, **kwargs)
    seconds = time.perf_counter() - started
    return {
        "states": result.distinct_states,
        "depth": result.depth,
        "transitions": result.transitions,
        "verdict": result.verdict.value,
        "seconds": seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def run_child(name: str) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter; its measurements, or an ``error``."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        return {"error": tail[0]}
    return json.loads(lines[-1][len(RESULT_MARKER):])


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per configuration (default 3)")
    p.add_argument("--only", metavar="NAME[,NAME]", help=f"configurations to run, of: {', '.join(CONFIGS)}")
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    names = [n.strip() for n in args.only.split(",")] if args.only else list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        p.error(f"unknown configuration {unknown[0]!r}; choose from {', '.join(CONFIGS)}")
    args.configs = [n for n in CONFIGS if n in names]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(RESULT_MARKER + json.dumps(run_worker(args.worker)), flush=True)
        return 0

    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in args.configs}
    for round_no in range(1, args.repeat + 1):
        for config in args.configs:
            print(f"[round {round_no}/{args.repeat}] {config:<9} ...", end=" ", file=sys.stderr, flush=True)
            run = run_child(config)
            runs[config].append(run)
            if "error" in run:
                print(f"failed: {run['error']}", file=sys.stderr, flush=True)
            else:
                print(f"{run['seconds']:.1f} s, {run['states']:,} states, {run['peak_rss_bytes'] / MIB:,.0f} MiB",
                      file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    wrong, failed, rows = [], [], []
    for config in args.configs:
        done = [r for r in runs[config] if "error" not in r]
        failed += [f"{config}: {r['error']}" for r in runs[config] if "error" in r]
        for r in done:
            if (r["states"], r["depth"]) != EXPECTED or r["verdict"] != "holds":
                wrong.append(f"{config}: {r['states']} states, depth {r['depth']}, {r['verdict']}")
        if done:
            median = statistics.median(r["seconds"] for r in done)
            rows.append({
                "config": config, "description": CONFIGS[config], "median_seconds": round(median, 2),
                "runs_seconds": [round(r["seconds"], 2) for r in done],
                "states_per_second": round(EXPECTED[0] / median), "transitions": done[0]["transitions"],
                "peak_rss_mib": round(max(r["peak_rss_bytes"] for r in done) / MIB),
            })

    print(f"raft.tla, 3 servers, terms <= 2, no entries, 1 message in flight: {EXPECTED[0]:,} states, "
          f"depth {EXPECTED[1]}; median of {args.repeat}")
    print(f"{'config':<10} {'median s':>9} {'runs s':<22} {'states/s':>9} {'peak RSS MiB':>13}")
    for row in rows:
        runs_text = " ".join(f"{s:.1f}" for s in row["runs_seconds"])
        print(f"{row['config']:<10} {row['median_seconds']:>9.1f} {runs_text:<22} "
              f"{row['states_per_second']:>9,} {row['peak_rss_mib']:>13,}")
    print(f"{'TLC':<10} {TLC['seconds_quiet']:>9.1f} {'(101 s loaded)':<22} "
          f"{EXPECTED[0] / TLC['seconds_quiet']:>9,.0f} {TLC['peak_rss_gib'] * 1024:>13,.0f}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); {os.cpu_count()} CPUs",
          file=sys.stderr)
    for line in failed:
        print(f"FAILED {line}", file=sys.stderr)
    for line in wrong:
        print(f"WRONG {line}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps({
            "benchmark": "raft", "parameters": PARAMETERS, "expected": EXPECTED, "repeat": args.repeat,
            "load_average_before": load_before, "load_average_after": load_after, "tlc": TLC, "results": rows,
        }, indent=2) + "\n")
    if wrong:
        return 1
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
