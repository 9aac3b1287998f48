"""Benchmark testing student code: the exhaustive and random modes on examples/paxos.py and examples/raft.py.

What is measured
----------------
Two configurations of the reference student implementations, each fully
explored (exact counts are checked):

``raft``
    ``examples/raft.py``, 3 nodes, 2 timer firings, no client request: 46,393 states.
``paxos``
    ``examples/paxos.py``, 3 nodes, 1 client request, no timer firing: 25,576 states.

and, for each, these runs:

``bare``
    ``explore(ActorModel(..., check_determinism=False), keep_graph=False, properties=[])``:
    the search over the student code alone, every handler call run once. **The baseline.**
``full``
    what ``quorumcheck test --mode exhaustive --no-isolate`` does: the state graph kept, every default
    property judged, every new handler call run twice to detect nondeterminism.
``no-determinism``
    ``full`` without the second run of each handler call.
``random``
    ``random_schedules`` with 1,000 schedules of up to 60 steps, seed 0: schedules per second and
    the fraction of the exhaustive count visited.
``isolated``
    ``full`` across the trust boundary, as ``quorumcheck test FILE`` runs it: the model is given
    the file, every handler call runs in two sandboxed worker processes (the determinism check
    across processes) and crosses the JSON wire. Its time includes starting the workers (the
    model's construction); its peak RSS is the trusted process's (each worker adds ~65 MiB). Where
    workers run as users of their own (root), the second worker runs every call in a fresh fork of
    itself (student/worker/fresh.py).
``isolated-shared``
    ``isolated`` with every call run in the worker process itself, as before fresh calls: the
    baseline that gives fresh calls' cost (``vs shared`` in the table's notes).

Every run is a fresh child process (``python bench_student.py --worker CONFIG RUN``), so its peak
RSS (``ru_maxrss``, interpreter and imports included) is its own. The time is that of the search
call, measured in the child. Each run repeats ``--repeat`` times (default 3), interleaved; the
table gives the median time, states per second at the median, the largest peak RSS, and the ratio
of the median to the same configuration's ``bare`` median.

Running it
----------
::

    .venv/bin/python bench/bench_student.py
    .venv/bin/python bench/bench_student.py --repeat 5 --only raft --json out.json

Exit status 0 when every run finished with its expected count, 1 otherwise.
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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

CONFIGS: dict[str, dict[str, Any]] = {
    "raft": {"file": "raft.py", "class": "RaftNode", "protocol": "raft", "requests": 0, "max_timeouts": 2,
             "states": 46_393},
    "paxos": {"file": "paxos.py", "class": "PaxosNode", "protocol": "paxos", "requests": 1, "max_timeouts": 0,
              "states": 25_576},
}
RUNS = ("bare", "full", "no-determinism", "random", "isolated", "isolated-shared")


def worker(config: str, run: str) -> dict[str, Any]:
    """One measured run, in this (fresh) process."""
    from quorumcheck.explorer import explore
    from quorumcheck.models.actor_model import ActorModel, load_student_file
    from quorumcheck.studenttest import random_schedules

    c = CONFIGS[config]
    started = time.perf_counter()
    if run.startswith("isolated"):
        node: Any = f"{EXAMPLES / c['file']}:{c['class']}"
        if run == "isolated-shared":
            from quorumcheck.student.trusted.workers import WorkerHost

            WorkerHost._fresh = lambda self, k: False  # type: ignore[method-assign]
    else:
        node = getattr(load_student_file(EXAMPLES / c["file"]), c["class"])
    model = ActorModel(node, 3, protocol=c["protocol"], requests=c["requests"], max_timeouts=c["max_timeouts"],
                       check_determinism=run in ("full", "isolated", "isolated-shared"))
    if not run.startswith("isolated"):
        started = time.perf_counter()
    if run == "random":
        result, schedules = random_schedules(model, runs=1000, steps=60, seed=0)
    else:
        schedules = 0
        result = explore(model, keep_graph=run != "bare", properties=[] if run == "bare" else None)
    seconds = time.perf_counter() - started
    model.close()
    return {
        "config": config,
        "run": run,
        "seconds": seconds,
        "states": result.distinct_states,
        "verdict": result.verdict.value,
        "schedules": schedules,
        "handler_calls": model.handler_calls,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(CONFIGS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS), help="which runs (default: all)")
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    configs = [c for c in args.only.split(",") if c]
    measured: list[dict[str, Any]] = []
    ok = True
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    for round_ in range(args.repeat):
        for config in configs:
            for run in args.runs:
                done = subprocess.run([sys.executable, __file__, "--worker", config, run], capture_output=True,
                                      text=True, check=False)
                if done.returncode != 0:
                    print(f"{config} {run}: failed\n{done.stderr}", file=sys.stderr)
                    ok = False
                    continue
                row = json.loads(done.stdout)
                measured.append(row)
                expected = CONFIGS[config]["states"]
                if run != "random" and (row["states"] != expected or row["verdict"] != "holds"):
                    print(f"{config} {run}: {row['states']} states, {row['verdict']} (expected {expected}, holds)",
                          file=sys.stderr)
                    ok = False
                print(f"round {round_ + 1} {config:<6} {run:<15} {row['seconds']:7.2f} s", file=sys.stderr)
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print("| configuration | run | median time | states/s | vs bare | handler calls | peak RSS | notes |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for config in configs:
        rows = {run: [r for r in measured if r["config"] == config and r["run"] == run] for run in RUNS}
        bare = statistics.median(r["seconds"] for r in rows["bare"]) if rows["bare"] else None
        for run in RUNS:
            if not rows[run]:
                continue
            t = statistics.median(r["seconds"] for r in rows[run])
            states = rows[run][0]["states"]
            ratio = f"{t / bare:.2f}×" if bare else "—"
            note = ""
            if run == "random":
                note = (f"{rows[run][0]['schedules']:,} schedules, {rows[run][0]['schedules'] / t:,.0f}/s; "
                        f"{states / CONFIGS[config]['states']:.1%} of the states visited")
            if run == "isolated" and rows["isolated-shared"]:
                shared = statistics.median(r["seconds"] for r in rows["isolated-shared"])
                note = f"{t / shared:.2f}× isolated-shared"
            print(f"| {config} | {run} | {t:.2f} s | {states / t:,.0f} | {ratio} | "
                  f"{rows[run][0]['handler_calls']:,} | {max(r['peak_rss_mib'] for r in rows[run]):,.0f} MiB | {note} |")
    if args.json:
        args.json.write_text(json.dumps({"runs": measured}, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
