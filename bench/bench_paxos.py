"""Benchmark quorumcheck's explorer on Paxos.tla against a plain hand-written BFS.

What is measured
----------------
Lamport's Paxos.tla with 3 acceptors, 2 values and ballots ``0..B``
(``--max-ballot B``, default 2), explored to completion in these configurations:

``plain``
    ``bench/plain_bfs.py``: a hand-written BFS (tuples, a ``set``, no graph,
    agreement as a plain Python predicate), run with the cyclic garbage
    collector enabled, as a careful hand-written script would be. The baseline.
``plain-nogc``
    The same, with ``gc.disable()`` before the search: the explorer pauses the
    cyclic collector during its search, so this is the like-for-like baseline.
``full``
    ``explore(PaxosModel(max_ballot=B))``: the state graph kept in networkx and
    every property checked (the model's default properties: agreement,
    validity, value-can-be-chosen; the JSON lists the names for each run).
``no-graph``
    ``explore(..., keep_graph=False)``: only BFS parent links are kept.
``no-props``
    ``explore(..., keep_graph=False, properties=[])``: the bare search.
``z3-av`` / ``python-av``
    ``explore(..., keep_graph=False, properties=["agreement", "validity"])``
    with the properties judged by Z3 (the default) or by the plain-Python
    evaluator; compare with ``no-props`` for what judging costs.
``graph-no-props``
    ``explore(..., properties=[])``: the graph kept, nothing checked; compare
    with ``full`` for what judging costs when the graph is kept.
``fingerprints``
    ``explore(..., store="fingerprints")``: 64-bit fingerprints instead of state
    objects, each level beyond its first 131,072 states spilled to disk; compare
    with ``no-graph`` for time and peak memory (the store's bytes per state are
    printed).
``workers-2`` / ``fingerprints-workers-2``
    the same as ``no-graph`` / ``fingerprints`` with ``workers=2``: two forked
    processes, each owning a shard of the states (peak RSS is the coordinator's
    only: see the run's own ``peak_memory_bytes`` for the sum).

Every run is a fresh child process (``python bench_paxos.py --worker NAME``), so
its peak resident set size (``ru_maxrss`` of the child, which includes the
interpreter and the imports, a few tens of MiB) belongs to that configuration
alone. The time is the wall-clock time of the search call itself, measured in
the child with ``time.perf_counter``; imports and process start-up are not
included. Each configuration runs ``--repeat N`` times (default 3), the
repeats interleaved (round 1 runs every configuration, then round 2, ...) so
that a change of load on the machine hits every configuration alike; the table
reports the median time, the states per second at that median, the largest peak
RSS of the repeats, and the ratio of the median time to the ``plain`` median
measured in the same invocation (``—`` when ``--only`` leaves ``plain`` out).
The JSON file (``--json``) has every run, the machine, the load average before
and after, and the commit measured with the list of uncommitted changes to the
code under test, since figures are only comparable for the same code.

While a child runs, the parent samples its RSS (``/proc/PID/status``) and kills
it if it exceeds ``--rss-limit`` GiB (default 20), so a configuration that does
not fit in memory is reported as such instead of pushing the machine into swap
or the OOM killer. It also kills the child when the machine's available memory
(``MemAvailable`` in ``/proc/meminfo``) falls below ``--min-available`` GiB
(default 2): on a shared machine the kernel's OOM killer would otherwise pick the
largest process, which may be someone else's.

The distinct-state count and depth of every run are checked against the known
figures (B=2: 185,369 states, depth 25; B=3: 8,220,065 states, depth 33; for
another B, the runs must at least agree with one another), and every
``explore`` verdict must be ``holds``.

Running it
----------
::

    .venv/bin/python bench/bench_paxos.py                        # B=2, 3 repeats
    .venv/bin/python bench/bench_paxos.py --repeat 5 --json out.json
    .venv/bin/python bench/bench_paxos.py --max-ballot 3 --repeat 1 --only no-graph --progress 20

``--progress SECONDS`` makes the ``explore`` configurations report their progress
on stderr, so that a run killed for memory shows how far it got.

Exit status: 0 when every run completed with the expected counts, 1 when a
count, depth or verdict was wrong, 2 when a run failed or was killed (for
example over the RSS limit).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from quorumcheck.explorer import Progress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # for `import plain_bfs` in the worker

CONFIGS: dict[str, str] = {
    "plain": "hand-written BFS (bench/plain_bfs.py), cyclic GC enabled",
    "plain-nogc": "hand-written BFS with gc.disable()",
    "full": "explore(): graph kept, every property checked",
    "no-graph": "explore(keep_graph=False)",
    "no-props": "explore(keep_graph=False, properties=[])",
    "z3-av": "explore(keep_graph=False, properties=[agreement, validity]), judged by Z3",
    "python-av": "the same, judged by the plain-Python evaluator",
    "graph-no-props": "explore(properties=[]): graph kept, nothing checked",
    "fingerprints": "explore(store='fingerprints'): 64-bit fingerprints, no graph, wide levels spilled to disk",
    "workers-2": "explore(keep_graph=False, workers=2): two processes, each owning a shard",
    "full-workers-2": "explore(keep_graph=True, workers=2): the full check on two shards, their edges gathered "
                      "into one graph",
    "fingerprints-workers-2": "explore(store='fingerprints', workers=2)",
}
BASELINE = "plain"

# max_ballot -> (distinct states, depth) for 3 acceptors and 2 values, as TLC reports them.
EXPECTED: dict[int, tuple[int, int]] = {
    0: (73, 9),
    1: (3_921, 17),
    2: (185_369, 25),
    3: (8_220_065, 33),
}

RESULT_MARKER = "BENCH-RESULT "
MIB = 1024 * 1024
GIB = 1024 * MIB


# --------------------------------------------------------------------- worker


def _peak_rss_bytes() -> int:
    """Peak RSS of this process so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _print_progress(p: Progress) -> None:
    print(
        f"    progress: {p.distinct_states:,} states, depth {p.depth}, {p.seconds:.0f} s, "
        f"peak RSS {p.peak_memory_bytes / GIB:.2f} GiB",
        file=sys.stderr,
        flush=True,
    )


def run_worker(name: str, max_ballot: int, progress: float | None = None) -> dict[str, Any]:
    """Run one configuration in this process and return its measurements.

    With ``progress`` (seconds), an ``explore`` configuration reports its
    progress on stderr that often, so that a run killed for memory shows how far
    it got; the plain BFS has no progress hook.
    """
    transitions: int | None = None
    verdict: str | None = None
    checked: list[str] = ["agreement"]
    if name in ("plain", "plain-nogc"):
        from plain_bfs import plain_bfs

        if name == "plain-nogc":
            gc.disable()
        rss_before = _peak_rss_bytes()
        started = time.perf_counter()
        states, depth = plain_bfs(n=3, n_values=2, max_ballot=max_ballot)
        seconds = time.perf_counter() - started
        verdict = "holds"  # plain_bfs raises AssertionError on a violation of agreement
    else:
        from quorumcheck.explorer import explore
        from quorumcheck.models import PaxosModel

        keep_graph = name in ("full", "graph-no-props", "full-workers-2")
        properties: list[str] | None = {
            "no-props": [],
            "graph-no-props": [],
            "z3-av": ["agreement", "validity"],
            "python-av": ["agreement", "validity"],
        }.get(name)
        reporting: dict[str, Any] = {"on_progress": _print_progress, "progress_interval": progress} if progress else {}
        model = PaxosModel(acceptors=3, values=2, max_ballot=max_ballot)
        if name == "python-av":
            model.evaluator = "python"
        # Given no list, explore() checks the model's default properties.
        checked = (
            properties
            if properties is not None
            else [p.name for p in model.properties() if getattr(p, "default", True)]
        )
        rss_before = _peak_rss_bytes()
        started = time.perf_counter()
        store = "fingerprints" if name.startswith("fingerprints") else "objects"
        workers = 2 if name.endswith("workers-2") else 1
        result = explore(model, keep_graph=keep_graph, properties=properties, store=store, workers=workers,
                         **reporting)
        seconds = time.perf_counter() - started
        if result.fingerprints is not None:
            print(f"fingerprints: {result.fingerprints.bytes_per_state(result.distinct_states):.1f} bytes per state "
                  f"in the store, collision chance {result.fingerprints.collision_probability:.1e}", file=sys.stderr)
        states, depth, transitions = result.distinct_states, result.depth, result.transitions
        verdict = result.verdict.value
    return {
        "properties": checked,
        "states": states,
        "depth": depth,
        "transitions": transitions,
        "verdict": verdict,
        "seconds": seconds,
        "peak_rss_bytes": _peak_rss_bytes(),
        "rss_before_bytes": rss_before,
    }


# --------------------------------------------------------------------- parent


@dataclass
class Run:
    """One child process's outcome."""

    config: str
    ok: bool
    seconds: float | None = None
    states: int | None = None
    depth: int | None = None
    transitions: int | None = None
    verdict: str | None = None
    peak_rss_bytes: int | None = None
    rss_before_bytes: int | None = None
    error: str | None = None
    properties: list[str] | None = None
    """Names of the properties the run checked."""
    wall_seconds: float | None = None
    """Life of the child process as the parent saw it (start-up included; set for killed runs too)."""


@dataclass
class Summary:
    """Every run of one configuration, and the figures the table reports."""

    config: str
    description: str
    runs: list[Run] = field(default_factory=list)
    median_seconds: float | None = None
    states_per_second: float | None = None
    peak_rss_bytes: int | None = None
    ratio_to_plain: float | None = None
    failed: list[str] = field(default_factory=list)
    """Runs that did not complete (crashed, or killed over the RSS limit)."""
    wrong: list[str] = field(default_factory=list)
    """Completed runs with an unexpected state count, depth or verdict."""


def _rss_now(pid: int) -> int:
    """Current RSS of process ``pid`` in bytes, or 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _mem_available() -> int | None:
    """The machine's available memory in bytes (``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def run_child(
    config: str,
    max_ballot: int,
    rss_limit_bytes: int,
    min_available_bytes: int,
    progress: float | None = None,
    poll: float = 0.25,
) -> Run:
    """Run one configuration in a fresh interpreter; kill it if memory runs short."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", config, "--max-ballot", str(max_ballot)]
    if progress:
        cmd += ["--progress", str(progress)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    killed: str | None = None
    max_rss = 0
    while True:
        # The child prints one short line on stdout, at its end, so waiting with a full pipe cannot block it.
        try:
            proc.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        rss = _rss_now(proc.pid)
        max_rss = max(max_rss, rss)
        available = _mem_available()
        if rss > rss_limit_bytes:
            killed = f"killed: RSS {rss / GIB:.2f} GiB exceeded the {rss_limit_bytes / GIB:.2f} GiB limit"
        elif available is not None and available < min_available_bytes:
            killed = (
                f"killed: machine's available memory fell to {available / GIB:.2f} GiB (child RSS {rss / GIB:.2f} GiB)"
            )
        if killed:
            proc.send_signal(signal.SIGKILL)
            break
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    if killed:
        return Run(config, ok=False, peak_rss_bytes=max_rss, error=killed, wall_seconds=wall)
    if proc.returncode != 0:
        return Run(config, ok=False, error=f"child exited with status {proc.returncode}", wall_seconds=wall)
    lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_MARKER)]
    if not lines:
        return Run(config, ok=False, error="child printed no result", wall_seconds=wall)
    data = json.loads(lines[-1][len(RESULT_MARKER) :])
    return Run(config, ok=True, wall_seconds=wall, **data)


def summarise(config: str, runs: list[Run], max_ballot: int) -> Summary:
    """Median time, peak RSS and correctness checks for one configuration."""
    s = Summary(config, CONFIGS[config], runs)
    done = [r for r in runs if r.ok]
    s.failed += [f"{config}: {r.error}" for r in runs if not r.ok]
    rss = [r.peak_rss_bytes for r in runs if r.peak_rss_bytes is not None]
    s.peak_rss_bytes = max(rss) if rss else None
    if not done:
        return s
    s.median_seconds = statistics.median(r.seconds for r in done if r.seconds is not None)
    states = done[0].states or 0
    s.states_per_second = states / s.median_seconds if s.median_seconds else None
    expected = EXPECTED.get(max_ballot)
    for r in done:
        if expected is not None and (r.states, r.depth) != expected:
            s.wrong.append(
                f"{config}: {r.states} states, depth {r.depth}; expected {expected[0]} states, depth {expected[1]}"
            )
        if r.verdict != "holds":
            s.wrong.append(f"{config}: verdict {r.verdict!r}, expected 'holds'")
    return s


def _load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _code_version() -> dict[str, Any]:
    """The commit measured, and any uncommitted changes to the code under test."""
    repo = HERE.parent
    paths = ["explorer", "models", "invariants", "quorumcheck"]

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *cmd], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [ln[3:] for ln in git("status", "--porcelain", "--", *paths).splitlines() if ln.strip()]
    diff = git("diff", "HEAD", "--", *paths)
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "uncommitted": changed,
        "diff_sha1": hashlib.sha1(diff.encode()).hexdigest()[:12] if diff else None,
    }


def _machine() -> dict[str, Any]:
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(pages / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def print_table(summaries: list[Summary], max_ballot: int, repeat: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"Paxos.tla, 3 acceptors, 2 values, ballots 0..{max_ballot}, "
        f"median of {repeat} run{'s' if repeat != 1 else ''}"
    )
    for col in (
        "config",
        "states",
        "depth",
        "transitions",
        "median s",
        "runs s",
        "states/s",
        "peak RSS MiB",
        "t / plain",
    ):
        table.add_column(col, justify="left" if col in ("config", "runs s") else "right", no_wrap=True)
    for s in summaries:
        done = [r for r in s.runs if r.ok]
        first = done[0] if done else None
        table.add_row(
            s.config,
            f"{first.states:,}" if first and first.states is not None else "—",
            str(first.depth) if first else "—",
            f"{first.transitions:,}" if first and first.transitions is not None else "—",
            f"{s.median_seconds:.2f}" if s.median_seconds is not None else "—",
            " ".join(
                f"{r.seconds:.2f}"
                if r.ok and r.seconds is not None
                else "killed"
                if (r.error or "").startswith("killed")
                else "failed"
                for r in s.runs
            ),
            f"{s.states_per_second:,.0f}" if s.states_per_second else "—",
            f"{s.peak_rss_bytes / MIB:,.0f}" if s.peak_rss_bytes else "—",
            f"{s.ratio_to_plain:.2f}" if s.ratio_to_plain is not None else "—",
        )
    # Piped into a file or a log, rich would assume 80 columns and squeeze the table.
    Console(width=None if sys.stdout.isatty() else 132).print(table)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--max-ballot", type=int, default=2, metavar="B", help="ballots are 0..B (default 2)")
    p.add_argument("--repeat", type=int, default=3, metavar="N", help="runs per configuration (default 3)")
    p.add_argument(
        "--only", metavar="NAME[,NAME]", help=f"comma-separated configurations to run, of: {', '.join(CONFIGS)}"
    )
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    p.add_argument(
        "--rss-limit",
        type=float,
        default=20.0,
        metavar="GIB",
        help="kill a run whose RSS exceeds this many GiB (default 20)",
    )
    p.add_argument(
        "--min-available",
        type=float,
        default=2.0,
        metavar="GIB",
        help="kill a run when the machine's available memory falls below this (default 2)",
    )
    p.add_argument(
        "--progress",
        type=float,
        metavar="SECONDS",
        help="explore configurations report progress on stderr this often (off by default)",
    )
    p.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.max_ballot < 0:
        p.error("--max-ballot must be >= 0")
    if args.repeat < 1:
        p.error("--repeat must be >= 1")
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in CONFIGS]
        if unknown:
            p.error(f"unknown configuration {unknown[0]!r}; choose from {', '.join(CONFIGS)}")
        args.configs = [n for n in CONFIGS if n in names]
    else:
        args.configs = list(CONFIGS)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(RESULT_MARKER + json.dumps(run_worker(args.worker, args.max_ballot, args.progress)), flush=True)
        return 0

    code = _code_version()
    rss_limit = int(args.rss_limit * GIB)
    min_available = int(args.min_available * GIB)
    load_before = _load_average()
    started = time.time()
    runs: dict[str, list[Run]] = {c: [] for c in args.configs}
    for round_no in range(1, args.repeat + 1):
        for config in args.configs:
            print(
                f"[round {round_no}/{args.repeat}] {config:<10} ...",
                end="\n" if args.progress else " ",
                file=sys.stderr,
                flush=True,
            )
            run = run_child(config, args.max_ballot, rss_limit, min_available, args.progress)
            runs[config].append(run)
            if run.ok:
                print(
                    f"{run.seconds:.2f} s, {run.states:,} states, {(run.peak_rss_bytes or 0) / MIB:,.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                print(f"{run.error} after {run.wall_seconds or 0:.0f} s", file=sys.stderr, flush=True)
    load_after = _load_average()

    summaries = [summarise(c, runs[c], args.max_ballot) for c in args.configs]
    base = next((s for s in summaries if s.config == BASELINE), None)
    if base is not None and base.median_seconds:
        for s in summaries:
            if s.median_seconds is not None:
                s.ratio_to_plain = s.median_seconds / base.median_seconds

    print_table(summaries, args.max_ballot, args.repeat)
    print(
        f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min); {_machine()['cpus']} CPUs",
        file=sys.stderr,
    )
    dirty = f", uncommitted changes to {len(code['uncommitted'])} files" if code["uncommitted"] else ""
    print(f"code: commit {code['commit']}{dirty}", file=sys.stderr)
    if args.max_ballot not in EXPECTED:
        print(f"note: no known state count for max_ballot={args.max_ballot}; counts not checked", file=sys.stderr)

    failed = [p for s in summaries for p in s.failed]
    wrong = [p for s in summaries for p in s.wrong]
    counts = {(r.states, r.depth) for s in summaries for r in s.runs if r.ok}
    if len(counts) > 1:
        wrong.append(f"the runs disagree on (states, depth): {sorted(counts)}")
    for p in failed:
        print(f"FAILED {p}", file=sys.stderr)
    for p in wrong:
        print(f"WRONG {p}", file=sys.stderr)

    if args.json:
        payload = {
            "benchmark": "paxos",
            "acceptors": 3,
            "values": 2,
            "max_ballot": args.max_ballot,
            "repeat": args.repeat,
            "expected": EXPECTED.get(args.max_ballot),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
            "machine": _machine(),
            "code": code,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "results": [asdict(s) for s in summaries],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")

    if wrong:
        return 1
    if failed:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
