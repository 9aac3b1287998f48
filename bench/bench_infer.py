"""prove --infer: seconds per phase and candidate counts for each symbolic model.

Run: .venv/bin/python bench/bench_infer.py [paxos|raft ...] [--timeout SECONDS]

Prints one JSON line per model: states sampled, candidates enumerated, true on the samples (distinct up to
renaming), minimal survivors (Houdini's input), Houdini rounds and Z3 queries, the conjuncts kept, whether they
prove the safety property, and seconds per phase. Z3's times vary from run to run.
"""

from __future__ import annotations

import argparse
import json

from quorumcheck.models import SYMBOLIC_MODELS
from quorumcheck.prover.infer import infer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=["raft", "paxos"])
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--max-states", type=int, default=1500)
    args = parser.parse_args()
    for name in args.models:
        system = SYMBOLIC_MODELS[name]()
        result = infer(system, timeout=args.timeout, max_states=args.max_states,
                       log=lambda msg, name=name: print(f"[{name}] {msg}", flush=True))
        doc = result.to_json()
        doc["inferred_count"] = len(result.conjuncts)
        print(json.dumps(doc), flush=True)


if __name__ == "__main__":
    main()
