"""The sharded search on Ray (explore(ray=...), --ray): a real local Ray instance, not a mock.

The module starts one local instance for its tests (a few seconds) and stops it at the end; one test
runs the CLI in a fresh process with --ray local, which starts and stops its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import assert_real_path

import ray
from quorumcheck.cli import main
from quorumcheck.explorer import Verdict, explore
from quorumcheck.models import PaxosModel, RaftModel
from quorumcheck.models.api import Action, Model, always
from test_json_schema import validator
from test_shards import _graph_by_states

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.ray


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    ray.init(include_dashboard=False, log_to_driver=False, logging_level="ERROR", num_cpus=2)
    # Models defined in this file travel to the actors by value (the actors cannot import the tests).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.parametrize("workers, store, symmetry, states, transitions", [
    (2, "objects", False, 3921, 22994),
    (3, "fingerprints", False, 3921, 22994),
    (2, "objects", True, 443, 2577),
])
def test_counts_and_depth_equal_one_process(workers: int, store: str, symmetry: bool, states: int,
                                            transitions: int) -> None:
    r = explore(PaxosModel(max_ballot=1), workers=workers, store=store, symmetry=symmetry, ray="local",
                keep_graph=False)
    assert (r.verdict, r.distinct_states, r.transitions, r.depth, r.workers) == \
        (Verdict.HOLDS, states, transitions, 17, workers)


def test_a_violation_has_the_shortest_trace_and_it_replays() -> None:
    one = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"))
    r = explore(PaxosModel(max_ballot=1, bug="ignore-prior-votes"), workers=2, ray="local")
    assert r.verdict is Verdict.VIOLATED and r.violation.property == "agreement"
    assert len(r.violation.trace) == len(one.violation.trace) == 12
    assert_real_path(PaxosModel(max_ballot=1, bug="ignore-prior-votes"), r.violation.trace)
    fingerprints = explore(RaftModel(bug="vote-twice"), workers=2, ray="local", store="fingerprints")
    assert len(fingerprints.violation.trace) == len(explore(RaftModel(bug="vote-twice")).violation.trace)


def test_the_actors_gather_the_graph_one_process_builds() -> None:
    one = explore(PaxosModel(max_ballot=1))
    many = explore(PaxosModel(max_ballot=1), workers=2, ray="local", keep_graph=True)
    assert many.graph is not None and _graph_by_states(many) == _graph_by_states(one)


class Killer(Model[int]):
    """A chain 0 -> 1 -> ... -> 60 whose state 37 kills the process expanding it."""

    name = "killer"

    def init_states(self) -> list[int]:
        return [0]

    def successors(self, state: int) -> list[tuple[Action, int]]:
        if state == 37:
            os.kill(os.getpid(), 9)
        return [(Action("Next"), state + 1)] if state < 60 else []

    def properties(self) -> list[Any]:
        return [always("small", lambda s: s <= 60)]


def test_an_actor_that_dies_ends_the_run_undetermined_never_a_pass() -> None:
    r = explore(Killer(), workers=2, ray="local")
    assert (r.verdict, r.stop_reason, r.complete) == (Verdict.UNDETERMINED, "worker-died", False)
    assert any("worker" in n and "died" in n for n in r.notices), r.notices
    # The cluster is still usable afterwards.
    assert explore(PaxosModel(max_ballot=0), workers=2, ray="local").distinct_states == 73


def test_the_time_limit_binds_within_a_level() -> None:
    import time

    started = time.perf_counter()
    r = explore(RaftModel(), workers=2, ray="local", timeout=4, keep_graph=False)
    assert (r.verdict, r.stop_reason) == (Verdict.UNDETERMINED, "timeout") and r.distinct_states > 0
    assert time.perf_counter() - started < 15  # actors start in about a second; a Raft level takes longer


def test_the_cli_with_ray_and_its_json_validates() -> None:
    r = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "1", "--workers", "2", "--ray", "local",
                                  "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert (data["distinct_states"], data["depth"], data["workers"]) == (3921, 17, 2)
    validator("check-result.schema.json").validate(data)


def test_the_cli_starts_and_stops_its_own_local_instance() -> None:
    run = subprocess.run([sys.executable, "-m", "quorumcheck", "check", "paxos", "--max-ballot", "0", "--ray",
                          "local"], capture_output=True, text=True, check=False, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "HOLDS" in run.stdout and "73 distinct states" in run.stdout


def test_without_ray_or_a_cluster_it_is_a_one_line_error() -> None:
    hide = ("import sys; sys.modules['ray'] = None; from quorumcheck.cli import main; "
            "main(['check', 'paxos', '--max-ballot', '0', '--ray', 'local'])")
    run = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, check=False, timeout=120,
                         cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == ("quorumcheck: error: --ray needs Ray, which is not installed here; install it "
                                  "with: pip install 'quorumcheck[ray]' (or: pip install ray)")
    r = CliRunner().invoke(main, ["check", "paxos", "--max-ballot", "0", "--ray", "127.0.0.1:1"])
    assert r.exit_code == 2 and "could not connect to the Ray cluster at '127.0.0.1:1'" in r.output


class Words(Model[tuple[str, ...]]):
    """Four processes, each holding a word; a process may append a letter, up to three letters.

    Symmetric in the processes. Its states hold strings, whose hash() differs between interpreters, so the
    actors must pick each orbit's representative by something every interpreter agrees on.
    """

    name = "words"

    def init_states(self) -> list[tuple[str, ...]]:
        return [("",) * 4]

    def successors(self, s: tuple[str, ...]) -> list[tuple[Action, tuple[str, ...]]]:
        return [(Action("Add", i=i, c=c), s[:i] + (w + c,) + s[i + 1:])
                for i, w in enumerate(s) if len(w) < 3 for c in "ab"]

    def symmetric_sorts(self) -> dict[str, int]:
        return {"Proc": 4}

    def permute(self, s: tuple[str, ...], perm: Any) -> tuple[str, ...]:
        return tuple(perm.place("Proc", s))

    def properties(self) -> list[Any]:
        return [always("short", lambda s: all(len(w) <= 3 for w in s))]


def test_symmetry_with_strings_gives_one_process_orbit_counts() -> None:
    one = explore(Words(), symmetry=True, keep_graph=False)
    many = explore(Words(), symmetry=True, ray="local", workers=2, keep_graph=False)
    # Orbits of 4-multisets of the 15 words of up to three letters over {a, b}: C(15 + 3, 4).
    assert one.distinct_states == many.distinct_states == 3060
    assert one.transitions == many.transitions
