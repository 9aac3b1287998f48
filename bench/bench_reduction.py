"""Benchmark: every shipped spec with and without each reduction (symmetry, partial order, both).

Each run is a fresh interpreter (so its peak RSS is its own), searching the
spec's model with the spec's limits: plain, with ``symmetry=True``, with
``por=True`` and with both (``--reductions`` picks). The table gives, per spec
and reduction: verdict, distinct states (orbits under symmetry), transitions,
depth, the counterexample's length, seconds of search, states per second, peak
RSS, and the time ratio to the plain run measured in the same invocation (the
baseline). A model that names no persistent steps gets no ``por`` rows.

Usage::

    .venv/bin/python bench/bench_reduction.py                  # every spec not marked slow
    .venv/bin/python bench/bench_reduction.py --all            # slow specs too (long: Paxos 0..3, Raft TLC)
    .venv/bin/python bench/bench_reduction.py --only paxos-b2,raft-tlc --timeout 900
    .venv/bin/python bench/bench_reduction.py --extra paxos-b3-graph   # Paxos 0..3, graph kept, symmetry only
    .venv/bin/python bench/bench_reduction.py --reductions none,por --only paxos-b2

Not a test: nothing here asserts timings. Exit 1 when a plain and a reduced
run disagree on the verdict or the violated property, or (symmetry alone, which
keeps shortest traces) on the trace length.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from _child import run_child

ROOT = Path(__file__).resolve().parent.parent
EXTRA = {
    # name: (spec, overrides) -- configurations beyond the shipped specs' own limits
    "paxos-b3-graph": ("specs/paxos-b3.toml", {"keep_graph": True}),
}


REDUCTIONS = {"none": {}, "symmetry": {"symmetry": True}, "por": {"por": True},
              "symmetry+por": {"symmetry": True, "por": True}}


def worker(spec_path: str, reduction: str, overrides: dict[str, Any]) -> None:
    import warnings

    warnings.simplefilter("ignore")
    from quorumcheck.runspec import load_spec

    spec = load_spec(ROOT / spec_path)
    if spec.limits.search == "epochs" and REDUCTIONS[reduction]:  # the epoch search takes no reduction
        print(json.dumps({"applies": False}))
        return
    started = time.perf_counter()
    r = spec.run(**REDUCTIONS[reduction], **overrides)
    seconds = time.perf_counter() - started
    v = r.violation
    print(json.dumps({
        "verdict": r.verdict.value, "states": r.distinct_states, "transitions": r.transitions, "depth": r.depth,
        "property": v.property if v else None, "length": len(v.trace) if v and v.trace else None,
        "seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "stop": r.stop_reason, "applies": reduction in ("none", "symmetry") or r.partial_order is not None,
    }))


def run(spec_path: str, reduction: str, overrides: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", spec_path, "--reduction", reduction, json.dumps(overrides)]
    return run_child(cmd, timeout, ROOT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all", action="store_true", help="include specs marked slow")
    ap.add_argument("--only", help="comma-separated spec names (file stems) or extra configurations")
    ap.add_argument("--extra", help="comma-separated extra configurations: " + ", ".join(EXTRA))
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per run (default 600)")
    ap.add_argument("--reductions", default="none,symmetry,por,symmetry+por",
                    help="comma-separated, from: " + ", ".join(REDUCTIONS) + " (default: all; 'none' is the baseline)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--reduction", default="none", help=argparse.SUPPRESS)
    ap.add_argument("overrides", nargs="?", default="{}", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.reduction, json.loads(args.overrides))
        return 0

    import tomllib

    jobs: list[tuple[str, str, dict[str, Any]]] = []
    wanted = set(args.only.split(",")) if args.only else None
    for path in sorted((ROOT / "specs").glob("*.toml")):
        slow = tomllib.loads(path.read_text()).get("slow", False)
        if (wanted is None and (args.all or not slow)) or (wanted is not None and path.stem in wanted):
            jobs.append((path.stem, str(path.relative_to(ROOT)), {}))
    for name in (args.extra.split(",") if args.extra else []) + [n for n in (wanted or ()) if n in EXTRA]:
        spec, overrides = EXTRA[name]
        jobs.append((name, spec, overrides))

    reductions = args.reductions.split(",")
    unknown = [r for r in reductions if r not in REDUCTIONS]
    if unknown:
        ap.error(f"unknown reduction {unknown[0]!r}; choose from {', '.join(REDUCTIONS)}")
    print(f"# reductions, {time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}")
    print("| spec | reduction | verdict | states | transitions | depth | trace | s | states/s | peak MiB | t / plain |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    disagree = 0
    for name, spec, overrides in jobs:
        rows = [(label, run(spec, label, overrides, args.timeout)) for label in reductions]
        rows = [(label, r) for label, r in rows if r.get("applies", True)]  # no persistent steps: same as without
        base = rows[0][1] if rows and rows[0][0] == "none" else {}
        for label, r in rows:
            if "error" in r:
                print(f"| {name} | {label} | {r['error']} | | | | | | | | |", flush=True)
                continue
            ratio = f"{r['seconds'] / base['seconds']:.2f}" if base.get("seconds") else ""
            print(f"| {name} | {label} | {r['verdict']}{' (' + r['property'] + ')' if r['property'] else ''} | "
                  f"{r['states']:,} | {r['transitions']:,} | {r['depth']} | {r['length'] or ''} | {r['seconds']:.1f} | "
                  f"{r['states'] / max(r['seconds'], 1e-9):,.0f} | {r['peak_mib']:,.0f} | {ratio} |", flush=True)
        if base and "error" not in base:
            for label, r in rows[1:]:
                if "error" in r:
                    continue
                keys = ("verdict", "property", "length") if label == "symmetry" else ("verdict", "property")
                if any(base[k] != r[k] for k in keys):
                    disagree += 1
                    print(f"<!-- {name}: plain and {label} disagree -->", flush=True)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
