"""Every shipped spec runs and meets its expectation; malformed specs are clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from quorumcheck.errors import InvalidSpec, ModelWarning
from quorumcheck.runspec import load_spec

SPECS = sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.toml"))


def _param(path: Path):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        spec = load_spec(path)
    marks = [pytest.mark.slow] if spec.slow else []
    return pytest.param(path, id=path.stem, marks=marks)


def test_specs_are_shipped() -> None:
    assert len(SPECS) >= 12


@pytest.mark.parametrize("path", [_param(p) for p in SPECS])
def test_spec_meets_its_expectation(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        spec = load_spec(path)
        result = spec.run()
    assert spec.expect.verdict is not None, f"{path.name} states no expected verdict"
    assert spec.mismatches(result) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('model = "paxos"\ncolour = 1\n', "unknown key 'colour'; allowed: bug, description, expect"),
        ('model = "raxos"\n', "unknown model 'raxos'; built-in models: paxos"),
        ('model = "paxos"\nbug = "nope"\n', "unknown bug 'nope' for model 'paxos'; allowed: accept-below-promise"),
        ('model = "paxos"\n[limits]\nmax_states = "lots"\n', "[limits] max_states must be an integer, got str 'lots'"),
        ('model = "paxos"\n[limits]\ntimeout = true\n', "[limits] timeout must be an integer or a number"),
        ('model = "paxos"\n[expect]\nverdict = "passes"\n', "verdict must be one of holds, violated, undetermined"),
        ('model = "paxos"\n[expect]\nstates = 3\n', "unknown key 'states' in [expect]; allowed: verdict"),
        ('model = "paxos"\n[parameters]\nacceptors = 0\n', "acceptors must be at least 1 (got 0)"),
        ('model = "paxos"\n[parameters]\nvalues = ["v1", "v1"]\n', "values lists 'v1' twice"),
        ("[parameters\n", "not valid TOML"),
        ("bug = 'x'\n", 'missing model = "NAME"'),
    ],
)
def test_malformed_specs_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(InvalidSpec) as info:
        load_spec(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def _run_spec(path: Path) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from quorumcheck.cli import main

    result = CliRunner().invoke(main, ["check", str(path)])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('model = "paxos"\n[parameters]\nacceptors = ' + "[" * 5000 + "]" * 5000 + "\n",
         "not valid TOML (nested too deeply"),  # a RecursionError in tomllib
        ('model = "paxos"\nx = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n", "not valid TOML (nested too deeply"),
        ('model = "paxos"\n[parameters]\nacceptors = ' + "[" * 500 + "]" * 500 + "\n",
         "not valid TOML (nested too deeply"),  # parses, but too deep to compare or print
        ('model = "paxos"\n[parameters]\nacceptors = ' + "9" * 5000 + "\n",
         "not valid TOML (a number has more digits than quorumcheck reads"),  # a ValueError in tomllib
    ],
    ids=["deep-array", "deep-inline-table", "deep-but-parses", "huge-int"],
)
def test_pathological_toml_is_one_line_exit_2(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    code, out, err = _run_spec(path)
    assert code == 2, (code, err[-300:])
    assert f"{path}: {message}" in err and err.strip().count("\n") == 0 and "Traceback" not in out + err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model = 3\n", 'model must be a string naming a built-in model, got int 3; write e.g. model = "paxos"'),
        ('model = "paxos"\nbug = 5\n', "bug must be a string naming a bug of model 'paxos', got int 5"),
        ('model = "paxos"\n[limits]\nworkers = 0\n', "[limits] workers must be a whole number from 1 to 64, got 0"),
        ('model = "paxos"\n[limits]\nworkers = 1000\n', "[limits] workers must be a whole number from 1 to 64"),
        ('model = "paxos"\n[limits]\nworkers = 2\npor = true\n',
         "[limits] por = true runs in one process: set workers = 1, or drop por"),
        ('model = "paxos"\n[limits]\nmax_states = 0\n', "[limits] max_states must be a positive integer, got 0"),
        ('model = "paxos"\n[limits]\nmax_depth = -3\n', "[limits] max_depth must be a positive integer, got -3"),
    ],
    ids=["model-int", "bug-int", "workers-0", "workers-1000", "workers-por", "max-states-0", "max-depth-negative"],
)
def test_wrong_spec_values_are_caught_at_load_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    # these were "missing model", or surfaced mid-run from explore() without the file's name and naming CLI flags
    path = tmp_path / "spec.toml"
    path.write_text(text)
    with pytest.raises(InvalidSpec) as info:
        load_spec(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    code, out, err = _run_spec(path)
    assert code == 2 and f"{path}: {message}" in err and err.strip().count("\n") == 0


def test_values_quoted_from_a_spec_are_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "spec.toml"
    path.write_text('model = "paxos"\n[limits]\nstore = "' + "x" * 5000 + '"\n')
    with pytest.raises(InvalidSpec, match=r"\[limits\] store must be one of .*, got 'xxx") as info:
        load_spec(path)
    assert len(str(info.value)) - len(str(path)) < 150 and str(info.value).endswith("…")
