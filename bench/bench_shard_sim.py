"""A simulated sharded search: load balance and exchange volume per BFS level for N shards.

The parallel search (``explore(workers=N)``, explorer/shards.py) gives each worker the states whose
key falls to it, ``(key >> 40) mod N``, and exchanges, at the end of every level, the keys of the
successors other workers own (8 bytes each, 1 byte back) and then the states that were new
(pickled, one batch per owner). This script runs one breadth-first search in one process and
counts, for several N at once, what each shard would have done: the states it expands per level,
the successors it routes to other shards, and the bytes that cost. No process is started, so N can
be 8 or 32 on a 2-core machine.

From those counts and two measured costs (seconds per expanded state in this process, and pickled
bytes per shipped state) it extrapolates a cluster run: per level, the slowest shard's expansion
time, plus the level's exchange at a given bandwidth, plus a barrier's round trips.

    .venv/bin/python bench/bench_shard_sim.py                      # Paxos 0..2, N = 2, 8, 32
    .venv/bin/python bench/bench_shard_sim.py --model raft-tlc --shards 2,8,32,128

It is a script, not a test; the figures are in docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from collections.abc import Sequence
from typing import Any

from pathlib import Path

from quorumcheck.models import PaxosModel
from quorumcheck.runspec import load_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"
MODELS = {
    "paxos-b2": lambda: PaxosModel(max_ballot=2),
    "paxos-b1": lambda: PaxosModel(max_ballot=1),
    "raft-tlc": lambda: load_spec(SPECS / "raft-tlc.toml").build_model(),  # 705,532 states
}
#: The barrier's round trips per level: keys out and answers back, states out, counts to the coordinator
#: and its answer back.
ROUND_TRIPS = 3


def owner(key: int, n: int) -> int:
    return ((key & ((1 << 64) - 1)) >> 40) % n


def simulate(model: Any, shards: Sequence[int]) -> dict[str, Any]:
    """One BFS; per level and per N: states expanded per shard, successors routed away, new states shipped."""
    init = list(dict.fromkeys(model.init_states()))
    seen = set(init)
    level = init
    bounded = model.has_boundary
    levels: list[dict[str, Any]] = []
    sample: list[Any] = []
    started = time.perf_counter()
    expansions = 0
    successors = 0
    while level:
        row: dict[str, Any] = {n: {"expanded": [0] * n, "routed": [0] * n, "shipped": [0] * n} for n in shards}
        nxt = []
        for s in level:
            ks = hash(s)
            mine = {n: owner(ks, n) for n in shards}
            for n in shards:
                row[n]["expanded"][mine[n]] += 1
            expansions += 1
            for _, t in model.successors(s):
                if bounded and not model.within_boundary(t):
                    continue
                successors += 1
                kt = hash(t)
                new = t not in seen
                if new:
                    seen.add(t)
                    nxt.append(t)
                    if len(sample) < 20_000:
                        sample.append(t)
                for n in shards:
                    src, dst = mine[n], owner(kt, n)
                    if src != dst:
                        row[n]["routed"][src] += 1
                        if new:
                            row[n]["shipped"][src] += 1
        levels.append(row)
        level = nxt
    seconds = time.perf_counter() - started
    # Pickled bytes per shipped state, in batches of 4,096 as the workers send them.
    batch = [sample[k:k + 4096] for k in range(0, len(sample), 4096)]
    per_state = sum(len(pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL)) for b in batch) / max(len(sample), 1)
    return {"levels": levels, "states": len(seen), "seconds": seconds, "expansions": expansions,
            "successors": successors, "bytes_per_state": per_state}


def calibrate(make: Any, routed: int) -> tuple[float, float, float]:
    """Seconds of ``explore`` with 1 and 2 workers (no graph, no properties), and from them the cost per
    successor routed to another worker: ``T2 = T1 / 2 + cost * routed / 2``."""
    from quorumcheck.explorer import explore

    one = explore(make(), keep_graph=False, properties=[]).seconds
    two = explore(make(), keep_graph=False, properties=[], workers=2).seconds
    return one, two, max(two - one / 2, 0.0) / (routed / 2)


def report(found: dict[str, Any], shards: Sequence[int], bandwidth: float, latency: float,
           route_cost: float, one_worker: float | None) -> None:
    levels = found["levels"]
    seconds = one_worker if one_worker is not None else found["seconds"]
    t_state = seconds / found["expansions"]
    print(f"{found['states']:,} states, {found['successors']:,} successors within the bound, {len(levels)} levels, "
          f"one process {seconds:.2f} s ({t_state * 1e6:.1f} µs per expanded state incl. successors), "
          f"{found['bytes_per_state']:.0f} bytes per shipped state (pickled in batches of 4,096), "
          f"{route_cost * 1e6:.1f} µs per successor routed to another worker\n")
    print("| shards | states per shard: max / mean | worst level: max / mean | routed successors | "
          "keys on the wire | states on the wire | busiest level's exchange | predicted time | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in shards:
        totals = [sum(row[n]["expanded"][k] for row in levels) for k in range(n)]
        mean = sum(totals) / n
        worst = 1.0
        wire_keys = wire_states = 0.0
        busiest = 0.0
        predicted = 0.0
        for row in levels:
            expanded = row[n]["expanded"]
            level_mean = sum(expanded) / n
            if level_mean >= 100:  # levels with a handful of states are not a balance question
                worst = max(worst, max(expanded) / level_mean)
            keys = sum(row[n]["routed"]) * 9  # 8 bytes out, 1 byte back
            states = sum(row[n]["shipped"]) * found["bytes_per_state"]
            wire_keys += keys
            wire_states += states
            busiest = max(busiest, keys + states)
            # Each worker sends and receives about 1/n of the level's exchange over its own link.
            # The busiest shard: its own states, plus the successors it routes away (the calibrated cost of
            # one routed successor covers both its sender's and its owner's side).
            busy = max(range(n), key=lambda k: expanded[k] * t_state + row[n]["routed"][k] * route_cost)
            predicted += (expanded[busy] * t_state + row[n]["routed"][busy] * route_cost
                          + (keys + states) / n / bandwidth + ROUND_TRIPS * latency)
        routed = sum(sum(row[n]["routed"]) for row in levels)
        speed = seconds / predicted if predicted else float("nan")
        print(f"| {n} | {max(totals):,} / {mean:,.0f} ({max(totals) / mean:.3f}) | {worst:.3f} | {routed:,} | "
              f"{wire_keys / 2**20:,.1f} MiB | {wire_states / 2**20:,.1f} MiB | {busiest / 2**20:,.2f} MiB | "
              f"{predicted:.2f} s | {speed:.1f}× |")
    print(f"\nPrediction: per level, the busiest shard's states × {t_state * 1e6:.1f} µs, plus its routed "
          f"successors × {route_cost * 1e6:.1f} µs, plus the level's exchange / N at "
          f"{bandwidth / 1e9:g} GB/s per worker, plus {ROUND_TRIPS} round trips of {latency * 1e3:g} ms; summed over "
          f"the {len(levels)} levels.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="paxos-b2")
    parser.add_argument("--shards", default="2,8,32", help="comma-separated shard counts (default 2,8,32)")
    parser.add_argument("--bandwidth", type=float, default=1.0e9, help="bytes per second per worker (1 GB/s)")
    parser.add_argument("--latency", type=float, default=0.5e-3, help="seconds per round trip (0.5 ms)")
    parser.add_argument("--route-cost", type=float, help="seconds per routed successor (default: calibrated by "
                                                         "running explore with 1 and 2 workers here)")
    args = parser.parse_args(argv)
    shards = sorted({2, *(int(x) for x in args.shards.split(","))})
    found = simulate(MODELS[args.model](), shards)
    cost, one = args.route_cost, None
    if cost is None:
        routed = sum(sum(row[2]["routed"]) for row in found["levels"])
        one, two, cost = calibrate(MODELS[args.model], routed)
        print(f"calibration: explore with 1 worker {one:.2f} s, with 2 workers {two:.2f} s "
              f"({one / two:.2f}×)", file=sys.stderr)
    report(found, shards, args.bandwidth, args.latency, cost, one)
    return 0


if __name__ == "__main__":
    sys.exit(main())
