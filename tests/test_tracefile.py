"""Saved traces: the file format, replaying a trace against the model, and the replay / render commands."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from quorumcheck.explorer import explore
from quorumcheck.explorer.tracefile import (
    TRACE_FORMAT,
    SavedStep,
    SavedTrace,
    TraceFileError,
    load_trace,
    replay,
    save_trace,
    saved_trace,
)
from quorumcheck.models import Action, Model, PaxosModel, every_step
from quorumcheck.render import find_dot

from quorumcheck.cli import main

BELOW = ["check", "paxos", "--max-ballot", "1", "--bug", "accept-below-promise", "--invariant", "agreement"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def saved() -> SavedTrace:
    model = PaxosModel(max_ballot=1, bug="accept-below-promise")
    return saved_trace(model, explore(model, properties=["agreement"]).violation)


@pytest.fixture()
def trace_file(saved: SavedTrace, tmp_path: Path) -> Path:
    return save_trace(saved, tmp_path / "trace.json")


def edited(path: Path, change: Any) -> Path:
    data = json.loads(path.read_text())
    change(data)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data))
    return out


# -- the file ------------------------------------------------------------------------------------------
def test_file_has_the_documented_keys(trace_file: Path) -> None:
    data = json.loads(trace_file.read_text())
    assert data["format"] == TRACE_FORMAT and data["schema"] == 1
    assert data["model"] == "paxos" and data["bug"] == "accept-below-promise"
    assert data["parameters"] == {"acceptors": ["a1", "a2", "a3"], "values": ["v1", "v2"], "max_ballot": 1}
    assert data["property"] == "agreement" and data["kind"] == "always"
    assert data["description"] == "at most one value is chosen" and data["explanation"]
    assert len(data["steps"]) == 13 and data["steps"][0]["action"] is None
    assert data["steps"][1] == {
        "action": "Phase1a(b=0)",
        "state": {"maxBal": {"a1": -1, "a2": -1, "a3": -1}, "maxVBal": {"a1": -1, "a2": -1, "a3": -1},
                  "maxVal": {"a1": None, "a2": None, "a3": None}, "msgs": ["1a(b=0)"]},
    }
    documented = (Path(__file__).resolve().parent.parent / "docs" / "trace-file.md").read_text()
    for key in data:
        assert f"`{key}`" in documented, f"{key} is not documented in docs/trace-file.md"


def test_save_and_load_round_trip(saved: SavedTrace, trace_file: Path) -> None:
    assert load_trace(trace_file) == saved


def test_a_lone_surrogate_in_a_name_is_saved_escaped_and_loads_back(saved: SavedTrace, tmp_path: Path) -> None:
    # A student's timer or attribute name may hold a lone surrogate, which has no UTF-8: saving raised
    # UnicodeEncodeError (exit 4) and left an empty file. It is written as JSON's escape instead.
    odd = dataclasses.replace(saved, explanation=saved.explanation + " timer t\udc00",
                              steps=(*saved.steps[:-1], dataclasses.replace(saved.steps[-1], state={"t\ud800": 1})))
    path = save_trace(odd, tmp_path / "odd.json")
    assert "\\udc00" in path.read_text(encoding="ascii") and load_trace(path) == odd
    assert save_trace(saved, tmp_path / "plain.json").read_text(encoding="utf-8") == (
        json.dumps(saved.to_json(), indent=2, ensure_ascii=False) + "\n")  # readable UTF-8 otherwise


@pytest.mark.parametrize(("text", "found"), [("null", "null"), ("[1]", "an array"), ('"x"', "a string"),
                                            ("3", "a number"), ("true", "a boolean")])
def test_a_file_that_is_not_an_object_is_named_in_json_words(tmp_path: Path, text: str, found: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(text + "\n")
    with pytest.raises(TraceFileError, match=f"expected a JSON object, found {found}; is this a file from "
                                             "--save-trace"):
        load_trace(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("steps"), "missing key 'steps'"),
        (lambda d: d.update(format="other"), "not a quorumcheck trace"),
        (lambda d: d.update(schema=99), "schema version 99 is not supported"),
        (lambda d: d.update(schema="1"), '"schema" must be the number 1, found "1"; write the file again'),
        (lambda d: d.update(schema=True), '"schema" must be the number 1, found true'),
        (lambda d: d.update(steps=[]), "'steps' is empty"),
        (lambda d: d["steps"][0].update(action="Phase1a(b=0)"), "step 0 is the initial state"),
        (lambda d: d["steps"][3].update(action=7), "step 3: 'action' must be an action label"),
        (lambda d: d["steps"][2].pop("state"), "step 2 must be an object with keys 'action' and 'state'"),
        (lambda d: d.update(kind="sometimes"), "'kind' must be one of always, every-step"),
        (lambda d: d.update(parameters=[1]), "'parameters' must be an object"),
    ],
)
def test_malformed_files_are_named_errors(trace_file: Path, change: Any, message: str) -> None:
    with pytest.raises(TraceFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_trace(edited(trace_file, change))


# -- replay --------------------------------------------------------------------------------------------
def test_replay_confirms_every_step_and_the_violation(saved: SavedTrace) -> None:
    outcome = replay(saved, PaxosModel(max_ballot=1, bug="accept-below-promise"))
    assert outcome.ok and outcome.steps_replayed == 12 and outcome.mismatch is None
    assert outcome.explanation == saved.explanation
    assert [str(a) for a in outcome.trace.actions] == [s.action for s in saved.steps[1:]]


def test_replay_finds_a_tampered_state_at_its_step(saved: SavedTrace) -> None:
    steps = list(saved.steps)
    state = json.loads(json.dumps(steps[7].state))
    state["maxBal"]["a2"] = 0  # step 7 is Phase1b(a=a2, b=1): the saved state now says a2 promised 0
    steps[7] = SavedStep(steps[7].action, state)
    outcome = replay(replace(saved, steps=tuple(steps)), PaxosModel(max_ballot=1, bug="accept-below-promise"))
    assert not outcome.ok and outcome.steps_replayed == 6
    assert outcome.mismatch.step == 7 and outcome.mismatch.action == "Phase1b(a=a2, b=1)"
    assert outcome.mismatch.differences == ("maxBal.a2: 0 -> 1",)


def test_replay_finds_an_action_that_is_not_enabled(saved: SavedTrace) -> None:
    steps = list(saved.steps)
    steps[3] = SavedStep("Phase2b(a=a1, b=0, v=v1)", steps[3].state)  # no 2a message yet
    outcome = replay(replace(saved, steps=tuple(steps)), PaxosModel(max_ballot=1, bug="accept-below-promise"))
    assert outcome.mismatch.step == 3
    assert outcome.mismatch.problem.startswith("Phase2b(a=a1, b=0, v=v1) is not enabled in the state before it")


def test_replay_against_a_model_without_the_bug_stops_where_the_bug_matters(saved: SavedTrace) -> None:
    outcome = replay(saved, PaxosModel(max_ballot=1))  # the correct Paxos refuses step 10
    assert outcome.mismatch is not None and outcome.mismatch.step == 10
    assert "not enabled" in outcome.mismatch.problem


def test_replay_of_an_every_step_property() -> None:
    class Down(Model[int]):
        name = "down"

        def init_states(self) -> list[int]:
            return [0]

        def successors(self, state: int) -> list[tuple[Action, int]]:
            return [(Action("Up"), state + 1), (Action("Down"), state - 1)] if state >= 0 else []

        def properties(self) -> list[Any]:
            return [every_step("monotone", lambda s, t: t >= s, "never goes down")]

    model = Down()
    saved = saved_trace(model, explore(model).violation)
    assert saved.kind == "every-step" and [s.action for s in saved.steps] == [None, "Down()"]
    assert replay(saved, model).ok
    assert not replay(replace(saved, steps=saved.steps[:1]), model).ok


# -- the commands --------------------------------------------------------------------------------------
def test_check_save_trace_then_replay(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    code, out, _ = run(*BELOW, "--save-trace", str(path))
    assert code == 1 and f"saved the trace of agreement to {path}" in out
    code, out, _ = run("replay", str(path))
    assert code == 0
    assert "REPLAYS: all 12 steps match the model, and agreement is violated in the last state" in out


def test_replay_command_names_the_step_that_no_longer_matches(trace_file: Path) -> None:
    tampered = edited(trace_file, lambda d: d["steps"][5]["state"]["maxBal"].update(a2=7))
    code, out, err = run("replay", str(tampered))
    assert code == 1 and not err
    assert "DOES NOT REPLAY: the trace stops matching the model at step 5 of 12, Phase1b(a=a2, b=0)" in out
    assert "maxBal.a2: 7 -> 0" in out


def test_replay_command_when_the_property_holds(trace_file: Path) -> None:
    code, out, _ = run("replay", str(edited(trace_file, lambda d: d.update(property="validity"))))
    assert code == 1 and "DOES NOT REPRODUCE: all 12 steps match the model, but validity holds in the last state" in out


def test_replay_expect_fixed_inverts_the_exit_code_for_regression_tests(trace_file: Path) -> None:
    code, out, _ = run("replay", str(trace_file), "--expect", "fixed")
    assert code == 1 and "STILL REPRODUCES: --expect fixed, but agreement is still violated" in out
    fixed = edited(trace_file, lambda d: d.update(bug=None))  # the same trace against the model without the bug
    code, out, _ = run("replay", str(fixed), "--expect", "fixed")
    assert code == 0 and "FIXED (as --expect fixed asks): the saved trace no longer ends in a violation of agreement" in out
    assert "DOES NOT REPLAY" in out  # what changed is still shown
    assert run("replay", str(fixed))[0] == 1
    assert run("replay", str(edited(trace_file, lambda d: d.update(property="validity"))), "--expect", "fixed")[0] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ('{"format": "quorumcheck-trace", "schema": 1}', "missing key 'model'"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_replay_command_malformed_file_is_one_line_exit_2(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    code, out, err = run("replay", str(path))
    assert code == 2 and message in err
    assert err.strip().count("\n") == 0 and "Traceback" not in out + err


def test_replay_command_unknown_model_or_parameter_is_exit_2(trace_file: Path) -> None:
    code, _, err = run("replay", str(edited(trace_file, lambda d: d.update(model="raxos"))))
    assert code == 2 and "unknown model 'raxos'" in err
    code, _, err = run("replay", str(edited(trace_file, lambda d: d["parameters"].update(max_ballot=-1))))
    assert code == 2 and "max_ballot must be at least 0" in err
    code, _, err = run("replay", str(trace_file.with_name("missing.json")))
    assert code == 2 and "no such file" in err


@pytest.mark.skipif(find_dot() is None, reason="Graphviz's dot is not installed")
def test_render_command_draws_a_saved_trace(trace_file: Path, tmp_path: Path) -> None:
    code, out, _ = run("render", str(trace_file))
    svg = trace_file.with_suffix(".svg")
    assert code == 0 and f"wrote {svg}" in out
    text = svg.read_text()
    assert all(f">{lane}</text>" in text for lane in ("proposer b0", "proposer b1", "a1", "a2"))
    code, _, _ = run("render", str(trace_file), "--out", str(tmp_path / "chart.png"))
    assert code == 0 and (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    code, _, _ = run("render", str(trace_file), "--format", "html", "--out", str(tmp_path / "r.html"))
    page = (tmp_path / "r.html").read_text()
    assert code == 0 and "<svg" in page and "http" not in page and "replayed from a saved trace" in page


def test_render_command_refuses_a_stale_trace(trace_file: Path) -> None:
    tampered = edited(trace_file, lambda d: d["steps"][5]["state"]["maxBal"].update(a2=7))
    code, _, err = run("render", str(tampered))
    assert code == 1 and "no longer matches the model at step 5" in err


def test_render_command_without_graphviz_writes_dot(trace_file: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    code, out, err = run("render", str(trace_file), "--format", "png")
    assert code == 2 and "Traceback" not in out + err
    assert err.strip().count("\n") == 0 and "apt-get install graphviz" in err
    assert "digraph chart {" in trace_file.with_suffix(".dot").read_text()
    code, _, _ = run("render", str(trace_file), "--format", "dot")
    assert code == 0


# -- files that parse but that quorumcheck must still refuse in one line (exit 2, never a traceback) ----------------
def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err[-500:])
    assert err.strip().count("\n") == 0 and "Traceback" not in out + err and len(err) < 400, err[:500]
    return err


@pytest.mark.parametrize("command", ["replay", "render"])
def test_a_kind_that_is_not_the_propertys_is_exit_2(trace_file: Path, command: str) -> None:
    # judged as an every-step property, an always property was called with two states: a TypeError, exit 4
    path = edited(trace_file, lambda d: d.update(kind="every-step"))
    err = one_line_error(*run(command, str(path)))
    assert "the trace's 'kind' is 'every-step', but agreement is an always property of model 'paxos'" in err
    assert 'set "kind": "always"' in err


def test_replay_refuses_an_every_step_property_saved_as_always() -> None:
    class Down(Model[int]):
        name = "down"

        def init_states(self) -> list[int]:
            return [0]

        def successors(self, state: int) -> list[tuple[Action, int]]:
            return [(Action("Down"), state - 1)] if state >= 0 else []

        def properties(self) -> list[Any]:
            return [every_step("monotone", lambda s, t: t >= s, "never goes down")]

    model = Down()
    saved = saved_trace(model, explore(model).violation)
    with pytest.raises(TraceFileError, match="'kind' is 'always', but monotone is an every-step property"):
        replay(replace(saved, kind="always"), model)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "not valid JSON (nested too deeply"),  # a RecursionError in the parser
        ("[" * 500 + "]" * 500, "not valid JSON (nested too deeply"),  # parses, but too deep to compare or print
        ('{"format": "quorumcheck-trace", "schema": ' + "9" * 5000 + "}", "not valid JSON (a number has more digits"),
    ],
    ids=["deep", "deep-but-parses", "huge-int"],
)
@pytest.mark.parametrize("command", ["replay", "render"])
def test_pathological_json_is_exit_2(tmp_path: Path, command: str, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    err = one_line_error(*run(command, str(path)))
    assert f"{path}: {message}" in err


def test_a_deeply_nested_state_is_exit_2(trace_file: Path) -> None:
    deep: Any = []
    for _ in range(900):  # json reads it; comparing and diffing it recursed past the stack
        deep = [deep]
    err = one_line_error(*run("replay", str(edited(trace_file, lambda d: d["steps"][0].update(state=deep)))))
    assert "nested too deeply" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[" * 100_000, "not valid JSON (nested too deeply"),
        ('{"format": "quorumcheck-trace", "schema": ' + "9" * 5000 + "}", "not valid JSON (a number has more digits"),
    ],
    ids=["deep", "huge-int"],
)
def test_pathological_prefix_file_is_exit_2_and_short(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "prefix.json"
    path.write_text(content)
    code, out, err = run("check", "raft", "--prefix", str(path))
    assert code == 2 and f"{path}: {message}" in err, err[-500:]
    assert "Traceback" not in out + err and len(err) < 600  # not the file quoted back as an action label


def test_echoed_file_content_is_cut_short(trace_file: Path) -> None:
    code, out, err = run("replay", str(edited(trace_file, lambda d: d["steps"][3].update(action=list(range(10_000))))))
    err = one_line_error(code, out, err)
    assert "step 3: 'action' must be an action label" in err and "…" in err
    code, out, err = run("replay", str(edited(trace_file, lambda d: d.update(property="p" * 10_000))))
    assert "the trace names the property 'ppp" in one_line_error(code, out, err)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_save_trace_to_a_full_disk_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "full.json"
    path.symlink_to("/dev/full")  # opens fine; the write fails with ENOSPC, an OSError without a file name
    err = one_line_error(*run(*BELOW, "--save-trace", str(path)))
    assert f"cannot write {path}: No space left on device" in err
