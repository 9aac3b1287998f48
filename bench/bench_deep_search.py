"""The searches for deep bugs against the shipped student bugs: what each finds, and how soon.

For every class in examples/raft_bugs.py and examples/paxos_bugs.py (with the configuration its test
uses), this runs each search -- the random mode's strategies (``swarm``, the default, and
``coverage``) with one seed, the epoch search (``epochs``), and auto mode (``auto``: exhaustive within
200,000 states under the reduction by right movers, then epochs, then swarm schedules, as ``quorumcheck
test`` runs by default; ``auto-plain``: the same with every interleaving in the exhaustive part,
``--no-reduction``) -- capped in seconds. For the two deep
targets (``CommitOldTermByCounting`` and ``LengthOnlyLogCheck`` with 2 requests, 4 timeouts and terms
up to 4) it runs auto mode as ``quorumcheck test`` does by default (exhaustive within 200,000 states,
then epochs, then random). It prints a markdown table: the property found, the schedules (random) or
epoch-end states (epochs) and the seconds until the first failure (before shrinking), the shrunk
schedule's length, and the whole run's seconds. The student code runs in this process
(``isolate=False``); ``quorumcheck test`` runs it in sandboxed workers, which costs more per handler
call.

Run by hand (not part of the test suite), one heavy job at a time::

    .venv/bin/python bench/bench_deep_search.py              # everything, 120 s cap per run
    .venv/bin/python bench/bench_deep_search.py --cap 30 --only raft --search epochs
    .venv/bin/python bench/bench_deep_search.py --nodes 5 --cap 600 --only targets
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from quorumcheck.models.actor_model import load_student_file
from quorumcheck.studenttest import STRATEGIES, check_student

SEARCHES = (*STRATEGIES, "epochs", "auto", "auto-plain")

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
#: --max-timeouts 4 --max-term 4` (auto mode: 200,000 states exhaustively, then epochs, then random schedules).
TARGETS = {name: {"requests": 2, "max_timeouts": 4, "max_term": 4}
           for name in ("CommitOldTermByCounting", "LengthOnlyLogCheck")}


def run(protocol: str, bug: str, options: dict[str, Any], search: str, *, mode: str, cap: float, seed: int,
        runs: int, nodes: int = 3) -> dict[str, Any]:
    bugs = load_student_file(EXAMPLES / f"{protocol}_bugs.py")
    settings: dict[str, Any] = {"requests": 2, "max_timeouts": 0} if protocol == "paxos" else {}
    settings.update(options)
    strategy = search if search in STRATEGIES else "swarm"
    movers = False if search == "auto-plain" else None  # auto-plain: every interleaving in the exhaustive part
    if search in ("epochs", "auto", "auto-plain"):
        mode = "auto" if search.startswith("auto") else search
    started = time.perf_counter()
    found = check_student(getattr(bugs, bug), nodes, protocol=protocol, mode=mode, strategy=strategy, seed=seed,
                          runs=runs, timeout=cap, isolate=False, keep_graph=False, movers=movers, **settings)
    seconds = time.perf_counter() - started
    v = found.violation
    prefix = found.exhaustive_prefix
    before = prefix.seconds if prefix is not None else 0.0
    names = {"merged_epochs": "merged", "merged_one_way_epochs": "merged one-way", "epochs": "full",
             "one_way_epochs": "one-way"}
    searches = [part for _, part, _ in found.epoch_searches]
    if found.mode == "epochs" and v is not None:  # the last search that ran found it: its count, every one's time
        until = searches[-1].distinct_states, before + sum(part.seconds for part in searches)
    elif found.first_failure:
        until = found.first_failure[0], before + found.first_failure[1]
    else:
        until = None
    return {
        "verdict": found.verdict.value,
        "by": found.mode,
        "property": v.property if v is not None else "—",
        "until": until,
        "shrunk": len(v.trace) if v is not None and v.trace is not None else None,
        "total": seconds,
        "by_search": names[found.epoch_searches[-1][0]] if searches else "none",
        "ran": (sum(part.distinct_states for part in searches) if search == "epochs" and searches
                else found.schedules),
        "exhaustive": found.mode == "exhaustive",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap", type=float, default=120.0, help="seconds per run (default 120)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nodes", type=int, default=3, help="nodes in every run (default 3)")
    parser.add_argument("--bug", action="append", help="only the bugs of this name (repeatable)")
    parser.add_argument("--runs", type=int, default=100_000, help="schedules per run (the cap usually ends it first)")
    parser.add_argument("--only", choices=["raft", "paxos", "targets"], action="append",
                        help="run only these groups (repeatable)")
    parser.add_argument("--search", choices=SEARCHES, action="append", help="only these searches (repeatable)")
    args = parser.parse_args(argv)
    groups = args.only or ["raft", "paxos", "targets"]
    searches = args.search or list(SEARCHES)
    rows: list[tuple[str, ...]] = []
    cases: list[tuple[str, str, str, dict[str, Any], str]] = []
    if "raft" in groups:
        cases += [("raft", name, name, options, "random") for name, options in RAFT.items()]
    if "paxos" in groups:
        cases += [("paxos", name, name, options, "random") for name, options in PAXOS.items()]
    if "targets" in groups:
        cases += [("raft", f"{name} (target, auto)", name, options, "auto") for name, options in TARGETS.items()]
    if args.bug:
        cases = [case for case in cases if case[2] in args.bug]
    print(f"seed {args.seed}, {args.nodes} nodes, at most {args.cap:g} s per run", file=sys.stderr)
    for protocol, label, bug, options, mode in cases:
        config = ", ".join(f"{k}={v}" for k, v in options.items()) or "defaults"
        for search in (searches if mode == "random" else [s for s in searches if s.startswith("auto")] or ["auto"]):
            r = run(protocol, bug, options, search, mode=mode, cap=args.cap, seed=args.seed, runs=args.runs,
                    nodes=args.nodes)
            unit = f"epoch-end states ({r['by_search']} search)" if r["by"] == "epochs" else "schedules"
            if r["exhaustive"]:
                found = f"exhaustive ({r['shrunk']} steps)"
                row = (label, config, search, r["property"], "exhaustive", "—", str(r["shrunk"]), f"{r['total']:.1f}")
            elif r["until"] is None:
                found = "not found"
                row = (label, config, search, f"not found ({r['ran']:,} {'epoch-end states' if search == 'epochs' else 'schedules'})",
                       "—", "—", "—", f"{r['total']:.1f}")
            else:
                found = r["property"]
                row = (label, config, search, r["property"], f"{r['until'][0]:,} {unit}", f"{r['until'][1]:.1f}",
                       str(r["shrunk"]), f"{r['total']:.1f}")
            print(f"{label} {search}: {found} · {r['total']:.1f} s", file=sys.stderr, flush=True)
            rows.append(row)
    header = ("bug", "configuration", "search", "violated", "found after", "seconds to first failure",
              "shrunk steps", "run seconds")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if k < 4 else "---:" for k in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
