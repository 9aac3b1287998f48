"""How long `quorumcheck prove` takes: each shipped invariant set, several runs (Z3's time varies with its seeds).

    .venv/bin/python bench/bench_prove.py [--runs 3]

Prints, per (model, invariant set): verdict, obligations, and the fastest / median / slowest seconds.
The issue's target: `prove paxos` and `prove raft` each under 60 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import statistics
import time

from quorumcheck.models import SYMBOLIC_MODELS
from quorumcheck.prover import prove


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'model':6} {'invariant':14} {'verdict':10} {'obligations':>11} {'min s':>7} {'median s':>8} {'max s':>7}")
    for name, build in sorted(SYMBOLIC_MODELS.items()):
        system = build()
        for inv in ("inductive", "first-attempt"):
            times, verdict, obligations = [], "", 0
            for _ in range(args.runs):
                started = time.perf_counter()
                r = prove(system, [inv])
                times.append(time.perf_counter() - started)
                verdict, obligations = r.verdict.value, len(r.obligations)
            print(f"{name:6} {inv:14} {verdict:10} {obligations:>11} {min(times):7.2f} {statistics.median(times):8.2f} "
                  f"{max(times):7.2f}", flush=True)


if __name__ == "__main__":
    main()
