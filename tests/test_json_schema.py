"""Every JSON document the CLI prints or writes validates against its schema in docs/schema/, and
docs/json-result.md names every key the schemas declare (so docs, schemas and output cannot drift).

Each command runs once (module-scoped fixtures) on a small configuration; together they reach
every document kind and the optional keys: a holding check, a violation with a trace, an
explanation and a culprit, --continue, --symmetry with a notice, a timeout, a reachability
property never witnessed, spec runs (met and not met), student code (exhaustive, random with
coverage, random finding a bug, an every-step violation, auto mode's exhaustive prefix), the
catalogue, and saved trace files that replay.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from quorumcheck.cli import _STOP_REASONS, main
from quorumcheck.explorer import Verdict
from quorumcheck.models.api import Expectation

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "docs" / "schema"
DOCS = ROOT / "docs" / "json-result.md"
EXAMPLES = ROOT / "examples"

SCHEMAS: dict[str, dict[str, Any]] = {p.name: json.loads(p.read_text()) for p in sorted(SCHEMA_DIR.glob("*.schema.json"))}
REGISTRY: Registry = Registry().with_resources(  # type: ignore[type-arg]
    (s["$id"], Resource.from_contents(s)) for s in SCHEMAS.values()
)

# AcceptStaleAppend one step before it breaks leader-append-only (a schedule the random mode found).
PREFIX = """\
Timer(node=n2, timer=election)
Deliver(from=n2, to=n0, msg=RequestVote(term=1, last_log_index=0, last_log_term=0))
Deliver(from=n2, to=n1, msg=RequestVote(term=1, last_log_index=0, last_log_term=0))
Deliver(from=n1, to=n2, msg=Vote(term=1, granted=True))
Timer(node=n0, timer=election)
Deliver(from=n0, to=n1, msg=RequestVote(term=2, last_log_index=0, last_log_term=0))
Deliver(from=n1, to=n0, msg=Vote(term=2, granted=True))
Request(node=n0, value='v1')
Request(node=n2, value='v2')
"""


def validator(schema: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[schema], registry=REGISTRY)


def errors(schema: str, document: Any) -> list[str]:
    """``"path/to/key: message"`` for every error, and for the errors inside a failed oneOf or anyOf."""

    def flatten(error: ValidationError) -> Iterator[ValidationError]:
        yield error
        for inner in error.context or ():
            yield from flatten(inner)

    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for top in validator(schema).iter_errors(document) for e in flatten(top)]


def run(*args: str) -> tuple[int, Any, str]:
    """Run the CLI; the exit code, stdout parsed as JSON (or the text when it is not JSON), stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    try:
        out: Any = json.loads(result.stdout)
    except json.JSONDecodeError:
        out = result.stdout
    return result.exit_code, out, result.stderr


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("json-schema")


# -- the documents ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def check_holds() -> tuple[int, Any, str]:
    return run("check", "paxos", "--max-ballot", "0", "--json")


@pytest.fixture(scope="module")
def check_violated(work: Path) -> tuple[int, Any, str]:
    return run("check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots", "--json",
               "--save-trace", work / "paxos-trace.json")


@pytest.fixture(scope="module")
def check_fingerprints() -> tuple[int, Any, str]:
    return run("check", "paxos", "--max-ballot", "0", "--store", "fingerprints", "--json")


@pytest.fixture(scope="module")
def check_continue() -> tuple[int, Any, str]:
    return run("check", "paxos", "--max-ballot", "0", "--bug", "duplicate-ballots", "--invariant", "agreement",
               "--invariant", "one-value-per-ballot", "--continue", "--json")


@pytest.fixture(scope="module")
def check_symmetry() -> tuple[int, Any, str]:
    return run("check", "paxos", "--max-ballot", "1", "--symmetry", "--quorum", "a1,a2", "--quorum", "a1,a3", "--json")


@pytest.fixture(scope="module")
def check_epochs_bug(work: Path) -> tuple[int, Any, str]:
    return run("check", "raft", "--bug", "commit-to-log-end", "--search", "epochs", "--json",
               "--save-trace", work / "raft-epochs-trace.json")


@pytest.fixture(scope="module")
def check_epochs_nothing() -> tuple[int, Any, str]:
    return run("check", "raft", "--servers", "2", "--search", "epochs", "--json")


@pytest.fixture(scope="module")
def check_timeout() -> tuple[int, Any, str]:
    return run("check", "raft", "--timeout", "0.01", "--json")  # cut at the first clock read, 512 states in


@pytest.fixture(scope="module")
def check_never_witnessed() -> tuple[int, Any, str]:
    # Terms start at 1 and may not pass 1: no election can happen, so no leader is ever elected.
    return run("check", "raft", "--max-term", "1", "--invariant", "leader-elected", "--json")


@pytest.fixture(scope="module")
def check_spec() -> tuple[int, Any, str]:
    return run("check", ROOT / "specs" / "paxos-b0.toml", "--evaluator", "python", "--json")


@pytest.fixture(scope="module")
def check_spec_not_met(work: Path) -> tuple[int, Any, str]:
    spec = work / "wrong.toml"
    spec.write_text('model = "paxos"\n[parameters]\nmax_ballot = 0\n[expect]\nverdict = "holds"\ndistinct_states = 74\n')
    return run("check", spec, "--json")


@pytest.fixture(scope="module")
def test_exhaustive_holds() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft.py", "--protocol", "raft", "--requests", "0", "--max-timeouts", "1", "--json")


@pytest.fixture(scope="module")
def test_exhaustive_fingerprints() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft.py", "--protocol", "raft", "--requests", "0", "--max-timeouts", "1",
               "--mode", "exhaustive", "--store", "fingerprints", "--no-reduction", "--json")


@pytest.fixture(scope="module")
def test_random_coverage() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft.py", "--protocol", "raft", "--requests", "0", "--max-timeouts", "1",
               "--mode", "random", "--runs", "5", "--coverage", "--json")


@pytest.fixture(scope="module")
def test_random_bug(work: Path) -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft_bugs.py", "--node-class", "VoteTwice", "--protocol", "raft", "--requests", "0",
               "--max-timeouts", "2", "--mode", "random", "--seed", "0", "--json",
               "--save-trace", work / "actors-trace.json")


@pytest.fixture(scope="module")
def test_every_step(work: Path) -> tuple[int, Any, str]:
    prefix = work / "prefix.txt"
    prefix.write_text(PREFIX)
    return run("test", EXAMPLES / "raft_bugs.py", "--node-class", "AcceptStaleAppend", "--protocol", "raft",
               "--requests", "2", "--max-timeouts", "2", "--mode", "exhaustive", "--prefix", prefix,
               "--max-depth", "2", "--invariant", "leader-append-only", "--por", "--json")


@pytest.fixture(scope="module")
def test_auto_not_exhaustive() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft.py", "--protocol", "raft", "--requests", "0", "--max-timeouts", "2",
               "--max-states", "50", "--runs", "20", "--steps", "10", "--json")


@pytest.fixture(scope="module")
def test_epochs_bug() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft_bugs.py", "--node-class", "VoteTwice", "--protocol", "raft", "--requests", "0",
               "--mode", "epochs", "--json")


@pytest.fixture(scope="module")
def test_epochs_holds() -> tuple[int, Any, str]:
    return run("test", EXAMPLES / "raft.py", "--protocol", "raft", "--requests", "0", "--mode", "epochs", "--json")


@pytest.fixture(scope="module")
def catalogue() -> tuple[int, Any, str]:
    return run("list", "--json")


@pytest.fixture(scope="module")
def paxos_trace_file(check_violated: tuple[int, Any, str], work: Path) -> Any:
    return json.loads((work / "paxos-trace.json").read_text())


@pytest.fixture(scope="module")
def raft_epochs_trace_file(check_epochs_bug: tuple[int, Any, str], work: Path) -> Any:
    return json.loads((work / "raft-epochs-trace.json").read_text())


@pytest.fixture(scope="module")
def actors_trace_file(test_random_bug: tuple[int, Any, str], work: Path) -> Any:
    return json.loads((work / "actors-trace.json").read_text())


@pytest.fixture(scope="module")
def prove_violated() -> tuple[int, Any, str]:
    return run("prove", "raft", "--invariant", "first-attempt", "--json")


@pytest.fixture(scope="module")
def prove_holds() -> tuple[int, Any, str]:
    return run("prove", "raft", "--json")


@pytest.fixture(scope="module")
def prove_timeout() -> tuple[int, Any, str]:
    return run("prove", "paxos", "--timeout", "0.5", "--json")


@pytest.fixture(scope="module")
def prove_infer() -> tuple[int, Any, str]:
    return run("prove", "paxos", "--infer", "--timeout", "1", "--json")  # cut while sampling: about 1.5 s


DOCUMENTS = {
    "check_holds": ("check-result.schema.json", 0),
    "check_violated": ("check-result.schema.json", 1),
    "check_fingerprints": ("check-result.schema.json", 0),
    "check_continue": ("check-result.schema.json", 1),
    "check_symmetry": ("check-result.schema.json", 0),
    "check_timeout": ("check-result.schema.json", 3),
    "check_epochs_bug": ("check-result.schema.json", 1),
    "check_epochs_nothing": ("check-result.schema.json", 3),
    "check_never_witnessed": ("check-result.schema.json", 1),
    "check_spec": ("check-result.schema.json", 0),
    "check_spec_not_met": ("check-result.schema.json", 5),
    "test_exhaustive_holds": ("test-result.schema.json", 0),
    "test_exhaustive_fingerprints": ("test-result.schema.json", 0),
    "test_random_coverage": ("test-result.schema.json", 0),
    "test_random_bug": ("test-result.schema.json", 1),
    "test_every_step": ("test-result.schema.json", 1),
    "test_auto_not_exhaustive": ("test-result.schema.json", 3),
    "test_epochs_bug": ("test-result.schema.json", 1),
    "test_epochs_holds": ("test-result.schema.json", 0),
    "catalogue": ("list.schema.json", 0),
    "prove_violated": ("prove-result.schema.json", 1),
    "prove_holds": ("prove-result.schema.json", 0),
    "prove_timeout": ("prove-result.schema.json", 3),
    "prove_infer": ("prove-result.schema.json", 3),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_output_validates_against_its_schema(name: str, request: pytest.FixtureRequest) -> None:
    schema, exit_code = DOCUMENTS[name]
    code, data, err = request.getfixturevalue(name)
    assert code == exit_code, err
    assert not isinstance(data, str), f"stdout is not JSON: {data[:200]!r}"
    assert errors(schema, data) == []


@pytest.mark.parametrize("name", ["paxos_trace_file", "actors_trace_file", "raft_epochs_trace_file"])
def test_saved_trace_validates_against_its_schema(name: str, request: pytest.FixtureRequest) -> None:
    assert errors("trace-file.schema.json", request.getfixturevalue(name)) == []


# -- what the documents say ------------------------------------------------------------------------
def test_a_holding_check(check_holds: tuple[int, Any, str]) -> None:
    data = check_holds[1]
    assert (data["verdict"], data["complete"], data["stop_reason"]) == ("holds", True, None)
    assert (data["distinct_states"], data["transitions"], data["depth"]) == (73, 309, 9)
    assert data["violation"] is None and data["violations"] == []
    assert [(w["property"], w["witnessed"], len(w["trace"])) for w in data["reachability"]] == [
        ("value-can-be-chosen", True, 7)]
    assert sorted(data["properties"]) == ["agreement", "validity", "value-can-be-chosen"]
    assert data["z3"]["calls"] == sum(p["calls"] for p in data["properties"].values())


def test_a_violation_with_its_trace_and_explanation(check_violated: tuple[int, Any, str]) -> None:
    data = check_violated[1]
    v = data["violation"]
    assert data["violations"] == [v]
    assert (v["property"], v["kind"], v["outside_boundary"]) == ("agreement", "always", False)
    assert isinstance(v["explanation"], str) and v["explanation"]
    assert len(v["trace"]) == 10 and v["trace"][0]["action"] is None
    assert v["trace"][-1]["action"] == "Phase2b(a=a2, b=0, v=v1)"
    assert data["complete"] is False and data["stop_reason"] is None  # stopped at the first violation


def test_a_fingerprint_store_reports_its_size_and_collision_chance(check_fingerprints: tuple[int, Any, str],
                                                                    check_holds: tuple[int, Any, str]) -> None:
    data = check_fingerprints[1]
    assert (data["store"], data["distinct_states"], data["verdict"]) == ("fingerprints", 73, "holds")
    assert set(data["fingerprints"]) == {"store_bytes", "bytes_per_state", "collision_probability"}
    assert data["fingerprints"]["bytes_per_state"] == round(data["fingerprints"]["store_bytes"] / 73, 1)
    assert (check_holds[1]["store"], check_holds[1]["fingerprints"]) == ("objects", None)


def test_continue_lists_every_violation(check_continue: tuple[int, Any, str]) -> None:
    data = check_continue[1]
    assert [(v["property"], len(v["trace"])) for v in data["violations"]] == [
        ("one-value-per-ballot", 8), ("agreement", 10)]
    assert data["violation"] == data["violations"][0]
    assert (data["complete"], data["distinct_states"]) == (True, 573)  # explored past the violations


def test_symmetry_names_its_sorts_and_says_why_one_is_left_out(check_symmetry: tuple[int, Any, str]) -> None:
    data = check_symmetry[1]
    assert data["symmetry"] == ["Value"]
    assert data["notices"] == [
        "symmetry: Acceptor is not permuted because the quorum system does not treat all acceptors alike"]
    assert data["parameters"]["quorums"] == [["a1", "a2"], ["a1", "a3"]]


def test_a_timeout_is_undetermined(check_timeout: tuple[int, Any, str]) -> None:
    data = check_timeout[1]
    assert (data["verdict"], data["complete"], data["stop_reason"]) == ("undetermined", False, "timeout")


def test_a_reachability_property_never_witnessed(check_never_witnessed: tuple[int, Any, str]) -> None:
    data = check_never_witnessed[1]
    assert data["violation"] == {"property": "leader-elected", "kind": "sometimes", "description": "a leader can be elected",
                                 "outside_boundary": False, "explanation": None, "trace": None,
                                 **({"culprit": None} if "culprit" in data["violation"] else {})}
    assert data["reachability"] == [
        {"property": "leader-elected", "description": "a leader can be elected", "witnessed": False, "trace": None}]
    assert data["complete"] is True


def test_a_spec_run(check_spec: tuple[int, Any, str]) -> None:
    data = check_spec[1]
    assert data["spec"] == {"path": str(ROOT / "specs" / "paxos-b0.toml"), "mismatches": [], "compared": True}
    assert {p["evaluator"] for p in data["properties"].values()} == {"python"}
    assert data["z3"] == {"calls": 0, "cache_hits": 0, "seconds": 0.0}
    assert isinstance(data["z3"]["seconds"], float)  # not the integer 0 when nothing was judged


def test_a_spec_whose_expectation_is_not_met(check_spec_not_met: tuple[int, Any, str]) -> None:
    data = check_spec_not_met[1]
    assert data["verdict"] == "holds"
    assert data["spec"]["mismatches"] == ["distinct_states: expected 74, got 73"]


def test_student_exhaustive(test_exhaustive_holds: tuple[int, Any, str]) -> None:
    data = test_exhaustive_holds[1]
    assert (data["model"], data["verdict"], data["complete"]) == ("actors", "holds", True)
    assert data["parameters"] == {"file": str(EXAMPLES / "raft.py"), "classes": ["RaftNode"], "protocol": "raft",
                                  "nodes": 3, "network": "unordered", "requests": 0, "max_timeouts": 1, "max_term": 2}
    student = data["student"]
    assert (student["mode"], student["schedules"], student["seed"], student["coverage"]) == ("exhaustive", 0, None, None)
    # Reduced by right movers (the default): a count of the reduced graph, not the configuration's (175).
    assert (student["exhaustive_states"], data["distinct_states"]) == (None, 61)
    po = data["partial_order"]
    assert po["method"] == "movers" and po["met"] == po["passed"] > 0
    assert student["output"] == {"bytes": 0, "start": ""}


def test_student_exhaustive_search_with_fingerprints(test_exhaustive_fingerprints: tuple[int, Any, str]) -> None:
    data = test_exhaustive_fingerprints[1]
    assert (data["store"], data["verdict"], data["complete"], data["student"]["mode"]) == \
        ("fingerprints", "holds", True, "exhaustive")
    assert data["distinct_states"] == data["student"]["exhaustive_states"] == 175  # every interleaving
    assert data["partial_order"] is None
    assert set(data["fingerprints"]) == {"store_bytes", "bytes_per_state", "collision_probability"}
    assert data["fingerprints"]["bytes_per_state"] == round(data["fingerprints"]["store_bytes"] / 175, 1)


def test_student_random_with_coverage(test_random_coverage: tuple[int, Any, str]) -> None:
    data = test_random_coverage[1]
    student = data["student"]
    assert (data["verdict"], data["complete"], student["mode"], student["seed"]) == ("holds", False, "random", 0)
    assert student["exhaustive_states"] == 175
    assert student["coverage"] == round(data["distinct_states"] / 175, 4)


def test_student_random_finds_a_bug(test_random_bug: tuple[int, Any, str]) -> None:
    data = test_random_bug[1]
    v = data["violation"]
    assert (v["property"], v["kind"]) == ("election-safety", "always")
    assert data["student"]["mode"] == "random" and data["student"]["schedules"] > 0


def test_student_every_step_violation(test_every_step: tuple[int, Any, str]) -> None:
    v = test_every_step[1]["violation"]
    assert (v["property"], v["kind"], v["outside_boundary"]) == ("leader-append-only", "every-step", False)
    assert len(v["trace"]) == 2
    assert v["trace"][1]["action"].startswith("Deliver(from=n2, to=n0, msg=AppendEntries(term=1,")
    # Sleep sets (--por) stay on for Leader Append-Only, which judges one server at a time, and keep its trace.
    assert test_every_step[1]["partial_order"]["method"] == "sleep"


def test_student_auto_mode_reports_its_exhaustive_prefix(test_auto_not_exhaustive: tuple[int, Any, str]) -> None:
    data = test_auto_not_exhaustive[1]
    assert (data["verdict"], data["stop_reason"]) == ("undetermined", "not-exhaustive")
    prefix = data["student"]["exhaustive_prefix"]
    assert (prefix["distinct_states"], prefix["stop_reason"]) == (50, "max_states")
    assert prefix["every_schedule_up_to_steps"] == prefix["depth"] - 1
    # Then the epoch search, which tried every epoch schedule (two timeouts, no requests) and found nothing.
    epochs = data["student"]["epochs"]
    assert (epochs["complete"], epochs["stop_reason"]) == (True, None)
    assert epochs["every_schedule_up_to_epochs"] == epochs["depth"] - 1 >= 2
    assert data["student"]["mode"] == "random" and data["student"]["schedules"] == 20


def test_student_epochs_mode(test_epochs_bug: tuple[int, Any, str], test_epochs_holds: tuple[int, Any, str]) -> None:
    data = test_epochs_bug[1]
    assert (data["student"]["mode"], data["verdict"], data["violation"]["property"]) == \
        ("epochs", "violated", "election-safety")
    # The concrete schedule, shrunk to the exhaustive mode's shortest: six steps.
    assert len(data["violation"]["trace"]) == 7 and data["violation"]["trace"][1]["action"].startswith("Timer(")
    # The merged search (one state per protocol state) found it, so the others did not run.
    merged = data["student"]["merged_epochs"]
    assert merged["stop_reason"] is None and merged["depth"] >= 2 and "epochs" not in data["student"]
    holds = test_epochs_holds[1]
    assert (holds["verdict"], holds["student"]["mode"], holds["student"]["epochs"]["complete"]) == \
        ("holds", "epochs", True)
    assert holds["student"]["merged_epochs"]["complete"] is True
    # Nothing among groups, so the second search (one-way epochs too) ran; it is the run's count.
    assert holds["distinct_states"] == holds["student"]["one_way_epochs"]["distinct_states"] > \
        holds["student"]["epochs"]["distinct_states"] > 1
    assert holds["student"]["one_way_epochs"]["complete"] is True


def test_an_inference_cut_by_its_timeout(prove_infer: tuple[int, Any, str]) -> None:
    data = prove_infer[1]
    assert (data["mode"], data["model"], data["verdict"], data["exit_code"], data["stop_reason"]) == \
        ("infer", "paxos", "undetermined", 3, "timeout")
    assert data["goals"] == ["agreement"] and data["implies_safety"] is False
    # seconds is the whole run's, as in the proof result; the phases are apart.
    assert isinstance(data["seconds"], float) and data["seconds"] >= max(data["phase_seconds"].values())
    assert set(data["phase_seconds"]) <= {"sample", "enumerate+filter", "strengthen", "houdini", "safety"}
    assert "obligations" not in data and "conjuncts" not in data


@pytest.mark.parametrize(("fields", "verdict", "exit_code"), [
    ({"inductive": True, "implies_safety": True, "with_goals": True}, "holds", 0),
    ({"inductive": True, "implies_safety": False}, "not-found", 1),
    ({"inductive": False, "implies_safety": False, "stop_reason": "timeout"}, "undetermined", 3),
])
def test_each_inference_verdict_validates(fields: dict[str, Any], verdict: str, exit_code: int) -> None:
    from quorumcheck.models.paxos_symbolic import paxos_system
    from quorumcheck.prover.infer import InferResult

    conjunct = paxos_system().conjuncts[0]  # any conjunct: the result's shape is what is checked
    result = InferResult("paxos", goals=["agreement"], vocabulary=["vote", "proposed"], states=12,
                         instances=[{"Acceptor": 3, "Value": 2}], enumerated=40, distinct=9, surviving=5,
                         seconds={"sample": 0.5, "enumerate+filter": 1.25, "strengthen": 0.5, "total": 2.25},
                         conjuncts=[conjunct],
                         strengthening={"inductive": False, "iterations": 1, "queries": 2, "added": 1, "dropped": 0,
                                        "evaluations": 3, "reason": None},
                         **fields)
    data = json.loads(json.dumps(result.to_json()))
    assert (data["mode"], data["verdict"], data["exit_code"], data["seconds"]) == ("infer", verdict, exit_code, 2.25)
    assert data["phase_seconds"] == {"sample": 0.5, "enumerate+filter": 1.25, "strengthen": 0.5}
    assert data["inferred"] == [{"name": conjunct.name, "formula": str(conjunct.formula),
                                 "python": conjunct.description}]
    assert errors("prove-result.schema.json", data) == []


def test_catalogue(catalogue: tuple[int, Any, str]) -> None:
    data = catalogue[1]
    assert [m["model"] for m in data] == ["paxos", "raft"]
    assert {p["kind"] for m in data for p in m["properties"]} == {"always", "sometimes", "every-step"}


def test_saved_traces_replay(paxos_trace_file: Any, actors_trace_file: Any, work: Path) -> None:
    code, out, _ = run("replay", work / "paxos-trace.json")
    assert code == 0 and "REPLAYS: all 9 steps match the model" in out
    code, out, _ = run("test", "--replay", work / "actors-trace.json")
    assert code == 0 and "REPLAYS:" in out
    assert actors_trace_file["model"] == "actors" and actors_trace_file["kind"] == "always"


# -- the schemas themselves ------------------------------------------------------------------------
def test_schemas_are_valid_and_self_describing() -> None:
    assert sorted(SCHEMAS) == ["check-result.schema.json", "list.schema.json", "prove-result.schema.json",
                               "result-common.schema.json", "test-result.schema.json", "trace-file.schema.json"]
    for name, schema in SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith(f"/v1/{name}")
        assert schema["title"] and schema["description"]


def _keys(schema: Any) -> Iterator[str]:
    """Every property name a schema declares, at any depth (following subschemas, not $refs)."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        yield name
        yield from _keys(sub)
    for keyword in ("$defs", "patternProperties"):
        for sub in schema.get(keyword, {}).values():
            yield from _keys(sub)
    for keyword in ("items", "additionalProperties", "unevaluatedProperties", "if", "then", "else", "not"):
        yield from _keys(schema.get(keyword))
    for keyword in ("prefixItems", "allOf", "anyOf", "oneOf"):
        for sub in schema.get(keyword, []):
            yield from _keys(sub)


def test_the_docs_name_every_key_the_schemas_declare() -> None:
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_-]*)`", DOCS.read_text()))
    declared = {key for schema in SCHEMAS.values() for key in _keys(schema)}
    assert len(declared) > 100
    assert sorted(declared - documented) == []


def test_the_docs_link_every_schema() -> None:
    text = DOCS.read_text()
    for name in SCHEMAS:
        assert f"(schema/{name})" in text


def test_enums_match_the_code() -> None:
    common = SCHEMAS["result-common.schema.json"]["$defs"]
    assert common["verdict"]["enum"] == [v.value for v in Verdict]
    assert sorted(common["kind"]["enum"]) == sorted(e.value for e in Expectation)
    reasons = set(SCHEMAS["check-result.schema.json"]["properties"]["stop_reason"]["enum"])
    reasons |= set(SCHEMAS["test-result.schema.json"]["properties"]["stop_reason"]["enum"])
    assert reasons == {None, *_STOP_REASONS}
    assert set(common["result"]["properties"]["stop_reason"]["enum"]) == reasons


@pytest.mark.parametrize(
    ("name", "schema", "change", "message"),
    [
        ("check_holds", "check-result.schema.json", lambda d: d.update(elapsed=1.0),
         "Unevaluated properties are not allowed ('elapsed' was unexpected)"),
        ("check_violated", "check-result.schema.json", lambda d: d["violation"].update(severity="high"),
         "Additional properties are not allowed ('severity' was unexpected)"),
        ("check_violated", "check-result.schema.json", lambda d: d["violation"]["trace"][1].update(note="x"),
         "Additional properties are not allowed ('note' was unexpected)"),
        ("check_holds", "check-result.schema.json", lambda d: d["parameters"].update(ballots=2),
         "Additional properties are not allowed ('ballots' was unexpected)"),
        ("check_holds", "check-result.schema.json", lambda d: d.update(student={}),
         "Unevaluated properties are not allowed ('student' was unexpected)"),
        ("check_holds", "check-result.schema.json", lambda d: d.update(verdict="passed"),
         "'passed' is not one of ['holds', 'violated', 'undetermined']"),
        ("check_violated", "check-result.schema.json", lambda d: d["violation"].update(kind="eventually"),
         "'eventually' is not one of ['always', 'sometimes', 'every-step']"),
        ("check_violated", "check-result.schema.json", lambda d: d["violation"].update(explanation="None", culprit="None"),
         "'None' is not valid under any of the given schemas"),
        ("check_holds", "check-result.schema.json", lambda d: d["z3"].update(seconds="0"),
         "'0' is not of type 'number'"),
        ("test_exhaustive_holds", "test-result.schema.json", lambda d: d["student"].update(workers=3),
         "Additional properties are not allowed ('workers' was unexpected)"),
        ("test_exhaustive_holds", "test-result.schema.json", lambda d: d.pop("student"),
         "'student' is a required property"),
        ("test_exhaustive_fingerprints", "test-result.schema.json", lambda d: d.update(fingerprints=None),
         "None is not of type 'object'"),
        ("test_exhaustive_fingerprints", "test-result.schema.json", lambda d: d["student"].update(mode="random"),
         "'exhaustive' was expected"),
        ("catalogue", "list.schema.json", lambda d: d[0]["bugs"][0].update(fixed=True),
         "Additional properties are not allowed ('fixed' was unexpected)"),
        ("prove_infer", "prove-result.schema.json", lambda d: d.update(verdict="not-found"),
         "1 was expected"),
        ("prove_infer", "prove-result.schema.json", lambda d: d.update(verdict="proved"),
         "'proved' is not one of ['holds', 'not-found', 'undetermined']"),
        ("prove_infer", "prove-result.schema.json", lambda d: d.update(seconds=d["phase_seconds"]),
         "is not of type 'number'"),
        ("prove_infer", "prove-result.schema.json", lambda d: d.update(obligations=[]),
         "Additional properties are not allowed ('obligations' was unexpected)"),
        ("prove_holds", "prove-result.schema.json", lambda d: d.update(goals=["agreement"]),
         "Additional properties are not allowed ('goals' was unexpected)"),
        ("paxos_trace_file", "trace-file.schema.json", lambda d: d.update(kind="sometimes"),
         "'sometimes' is not one of ['always', 'every-step']"),
    ],
)
def test_the_schemas_refuse_what_quorumcheck_does_not_write(name: str, schema: str, change: Any, message: str,
                                                            request: pytest.FixtureRequest) -> None:
    fixture = request.getfixturevalue(name)
    document = copy.deepcopy(fixture[1] if isinstance(fixture, tuple) else fixture)
    assert errors(schema, document) == []
    change(document)
    with pytest.raises(ValidationError):
        validator(schema).validate(document)
    assert any(message in e for e in errors(schema, document)), errors(schema, document)
