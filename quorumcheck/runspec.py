"""Run specs: one TOML file per shipped configuration, with its expected outcome.

A spec names a model, its parameters, optionally a bug, the run's limits, and
what the run must find. ``quorumcheck check specs/FILE.toml`` runs it; the test
suite runs every spec in ``specs/`` and checks its expectation.

Format
------
.. code-block:: toml

    description = "Paxos, Ballot 0..2: TLC finds 185,369 distinct states, depth 25"
    model = "paxos"
    bug = "accept-below-promise"      # optional
    slow = false                      # optional: true keeps it out of the default test run

    [parameters]                      # the model's parameters (see `quorumcheck list`)
    acceptors = 3
    values = 2
    max_ballot = 2

    [limits]                          # optional
    max_states = 1000000
    max_depth = 40
    timeout = 600.0
    continue = false
    keep_graph = true
    symmetry = false                  # true: symmetry reduction (orbit counts, as TLC's SYMMETRY)
    store = "objects"                 # "fingerprints": 64-bit fingerprints, no state objects, no graph
    workers = 1                       # processes searching in parallel, each owning a shard (no graph)
    por = false                       # true: partial-order reduction (fewer states than TLC; same verdicts)
    search = "bfs"                    # "epochs": breadth-first over epochs (Raft), for bugs too deep for BFS

    [expect]                          # optional; every key is checked
    verdict = "holds"                 # holds | violated | undetermined
    distinct_states = 185369
    transitions = 1316583
    depth = 25
    property = "agreement"            # the (first) violated property
    trace_length = 12                 # its shortest trace, in steps

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.toml"
>>> _ = path.write_text('model = "paxos"\\n[parameters]\\nmax_ballot = 0\\n[expect]\\ndistinct_states = 73\\n')
>>> spec = load_spec(path)
>>> result = spec.run()
>>> spec.mismatches(result)
[]
"""

from __future__ import annotations

import os
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quorumcheck.errors import PYTHON_EXAMPLE, InvalidSpec, QuorumcheckError
from quorumcheck.explorer import CheckResult, explore
from quorumcheck.explorer.search import MAX_SECONDS, MAX_WORKERS
from quorumcheck.explorer.store import STORES
from quorumcheck.models import BUILTIN_MODELS, Model

__all__ = ["SEARCHES", "Expectations", "Limits", "RunSpec", "build_model", "epoch_conflict", "load_spec"]

_TOP_KEYS = {"description", "model", "bug", "slow", "parameters", "limits", "expect"}
_LIMIT_KEYS: dict[str, tuple[type, ...]] = {
    "max_states": (int,),
    "max_depth": (int,),
    "timeout": (int, float),
    "continue": (bool,),
    "keep_graph": (bool,),
    "symmetry": (bool,),
    "store": (str,),
    "workers": (int,),
    "por": (bool,),
    "search": (str,),
}
_EXPECT_KEYS: dict[str, tuple[type, ...]] = {
    "verdict": (str,),
    "distinct_states": (int,),
    "transitions": (int,),
    "depth": (int,),
    "property": (str,),
    "trace_length": (int,),
}
_VERDICTS = ("holds", "violated", "undetermined")


@dataclass(frozen=True)
class Limits:
    """A run's limits and search options (all optional)."""

    max_states: int | None = None
    max_depth: int | None = None
    timeout: float | None = None
    continue_: bool = False
    keep_graph: bool = True
    symmetry: bool = False
    store: str = "objects"
    workers: int = 1
    por: bool = False
    search: str = "bfs"


SEARCHES = ("bfs", "epochs")
"""``--search`` and ``[limits] search``: every interleaving breadth-first, or epochs
(:mod:`quorumcheck.explorer.epochs`)."""


def epoch_conflict(*, symmetry: bool = False, store: str = "objects", workers: int = 1, ray: str | None = None,
                   por: bool = False, continue_: bool = False) -> str | None:
    """The first of these options that the epoch search does not take (its ``[limits]`` key), or ``None``.

    The epochs are a search of their own: one process, no graph, stop at the first violation.

    Examples
    --------
    >>> epoch_conflict(symmetry=True, workers=2)
    'symmetry'
    >>> epoch_conflict() is None
    True
    """
    for key, on in (("symmetry", symmetry), ("store", store == "fingerprints"), ("workers", workers > 1),
                    ("ray", ray is not None), ("por", por), ("continue", continue_)):
        if on:
            return key
    return None


@dataclass(frozen=True)
class Expectations:
    """What a run of the spec must find; ``None`` means "not checked"."""

    verdict: str | None = None
    distinct_states: int | None = None
    transitions: int | None = None
    depth: int | None = None
    property: str | None = None
    trace_length: int | None = None


@dataclass(frozen=True)
class RunSpec:
    """One parsed spec file."""

    path: Path
    model: str
    parameters: dict[str, Any] = field(default_factory=dict)
    bug: str | None = None
    description: str = ""
    slow: bool = False
    limits: Limits = Limits()
    expect: Expectations = Expectations()

    def build_model(self) -> Model[Any]:
        """The model this spec describes; parameter errors name the spec file."""
        try:
            return build_model(self.model, self.parameters, self.bug)
        except QuorumcheckError as e:
            said = PYTHON_EXAMPLE.sub(lambda m: f"set e.g. {m['name']} = {m['value']} under [parameters]",
                                      str(e))  # the file's words, not Python's
            raise InvalidSpec(f"{self.path}: {said}") from None

    def run(self, **overrides: Any) -> CheckResult[Any]:
        """Build the model and explore it with the spec's limits (``overrides`` win), or search it by epochs."""
        if self.limits.search == "epochs":
            from quorumcheck.studenttest import epoch_check

            key = epoch_conflict(**{k: v for k, v in overrides.items() if k in ("symmetry", "store", "workers", "por")},
                                 continue_=not overrides.get("stop_at_first", True))
            if key is not None:
                raise InvalidSpec(f'{self.path}: search = "epochs" does not combine with {key}')

            return epoch_check(self.build_model(), properties=overrides.get("properties"),
                               max_states=overrides.get("max_states", self.limits.max_states),
                               max_depth=overrides.get("max_depth", self.limits.max_depth),
                               timeout=overrides.get("timeout", self.limits.timeout))
        options: dict[str, Any] = {
            "max_states": self.limits.max_states,
            "max_depth": self.limits.max_depth,
            "timeout": self.limits.timeout,
            "stop_at_first": not self.limits.continue_,
            "keep_graph": None if self.limits.keep_graph else False,  # None: the graph when the store can keep it
            "symmetry": self.limits.symmetry,
            "store": self.limits.store,
            "workers": self.limits.workers,
            "por": self.limits.por,
        }
        options.update(overrides)
        return explore(self.build_model(), **options)

    def mismatches(self, result: CheckResult[Any]) -> list[str]:
        """How ``result`` differs from the expectation; empty when it matches."""
        e = self.expect
        out = []
        actual: dict[str, Any] = {
            "verdict": result.verdict.value,
            "distinct_states": result.distinct_states,
            "transitions": result.transitions,
            "depth": result.depth,
            "property": result.violation.property if result.violation else None,
            "trace_length": len(result.violation.trace)
            if result.violation and result.violation.trace is not None
            else None,
        }
        for key, got in actual.items():
            want = getattr(e, key)
            if want is not None and want != got:
                out.append(f"{key}: expected {want!r}, got {got!r}")
        return out


def build_model(name: str, parameters: dict[str, Any], bug: str | None = None) -> Model[Any]:
    """Build a built-in model by name, validating its parameters.

    Examples
    --------
    >>> build_model("paxos", {"max_ballot": 0}).max_ballot
    0
    >>> build_model("raxos", {})
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: unknown model 'raxos'; built-in models: paxos...
    """
    from quorumcheck.errors import InvalidParameter

    cls = BUILTIN_MODELS.get(name)
    if cls is None:
        raise InvalidParameter(f"unknown model {name!r}; built-in models: {', '.join(sorted(BUILTIN_MODELS))}")
    known = {p.name: p for p in cls.parameters}
    for key in parameters:
        if key not in known:
            raise InvalidParameter(f"model {name!r} has no parameter {key!r}; its parameters are: {', '.join(known)}")
    if bug is not None and bug not in cls.bugs:
        raise InvalidParameter(f"model {name!r} has no bug {bug!r}; its bugs are: {', '.join(cls.bugs) or 'none'}")
    kwargs = dict(parameters)
    if bug is not None:
        kwargs["bug"] = bug
    return cls(**kwargs)


def _typename(types: tuple[type, ...]) -> str:
    return " or ".join({int: "an integer", float: "a number", bool: "true/false", str: "a string"}[t] for t in types)


def _quote(value: Any) -> str:
    """``repr(value)`` cut to 80 characters: an error message quotes the spec, which may hold anything."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _read_toml(path: Path) -> dict[str, Any]:
    """Parse the spec file; anything the parser rejects, or cannot read, is a one-line :class:`InvalidSpec`.

    Besides malformed TOML, ``tomllib`` gives up on valid TOML nested deeper than
    Python's stack (a ``RecursionError``) and on an integer longer than Python
    converts (a ``ValueError``); both are the file's fault. Nesting deeper than
    quorumcheck can compare or print is refused too.
    """
    from quorumcheck.explorer.tracefile import parse_text, read_input

    if path.suffix == ".py":
        raise InvalidSpec(f"{path}: check runs the built-in models (paxos, raft) and spec files (.toml); run a "
                          "model of your own from Python with explore(MyModel()) (README: Writing your own model), "
                          f"or test student node classes with: quorumcheck test {path} --protocol raft|paxos|none")
    try:
        text = read_input(path)
    except FileNotFoundError:
        raise InvalidSpec(f"{path}: no such spec file; the shipped specs are in specs/") from None
    except OSError as e:
        what = "a folder" if path.is_dir() else e.strerror
        raise InvalidSpec(f"{path}: cannot read it ({what}); give a spec file (.toml), e.g. specs/paxos-b1.toml, "
                          "or a model name: quorumcheck check paxos") from None
    except UnicodeDecodeError as e:
        raise InvalidSpec(f"{path}: not valid TOML ({e})") from None
    return parse_text(tomllib.loads, text, "TOML", path, InvalidSpec, tomllib.TOMLDecodeError)


def _check_table(path: Path, table_name: str, table: Any, allowed: dict[str, tuple[type, ...]]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise InvalidSpec(f"{path}: [{table_name}] must be a table")
    for key, value in table.items():
        if key not in allowed:
            raise InvalidSpec(f"{path}: unknown key {_quote(key)} in [{table_name}]; allowed: {', '.join(allowed)}")
        types = allowed[key]
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            raise InvalidSpec(
                f"{path}: [{table_name}] {key} must be {_typename(types)}, got {type(value).__name__} {_quote(value)}"
            )
    return table


def load_spec(path: str | Path) -> RunSpec:
    """Parse and validate a spec file; every problem is an :class:`InvalidSpec` naming file and key."""
    path = Path(path)
    data = _read_toml(path)

    for key in data:
        if key not in _TOP_KEYS:
            raise InvalidSpec(f"{path}: unknown key {_quote(key)}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    model = data.get("model")
    models = ", ".join(sorted(BUILTIN_MODELS))
    if model is None:
        raise InvalidSpec(f"{path}: missing model = \"NAME\"; built-in models: {models}")
    if not isinstance(model, str):
        raise InvalidSpec(f"{path}: model must be a string naming a built-in model, got {type(model).__name__} "
                          f"{_quote(model)}; write e.g. model = \"paxos\" (built-in models: {models})")
    cls = BUILTIN_MODELS.get(model)
    if cls is None:
        raise InvalidSpec(f"{path}: unknown model {_quote(model)}; built-in models: {models}")
    bug = data.get("bug")
    if bug is not None and not isinstance(bug, str):
        raise InvalidSpec(f"{path}: bug must be a string naming a bug of model {model!r}, got {type(bug).__name__} "
                          f"{_quote(bug)}; allowed: {', '.join(cls.bugs)}")
    if bug is not None and bug not in cls.bugs:
        raise InvalidSpec(f"{path}: unknown bug {_quote(bug)} for model {model!r}; allowed: {', '.join(cls.bugs)}")
    for key in ("description",):
        if key in data and not isinstance(data[key], str):
            raise InvalidSpec(f"{path}: {key} must be a string")
    if "slow" in data and not isinstance(data["slow"], bool):
        raise InvalidSpec(f"{path}: slow must be true or false, got {_quote(data['slow'])}")

    parameters = data.get("parameters", {})
    if not isinstance(parameters, dict):
        raise InvalidSpec(f"{path}: [parameters] must be a table")
    known = [p.name for p in cls.parameters]
    for key in parameters:
        if key not in known:
            raise InvalidSpec(f"{path}: unknown key {_quote(key)} in [parameters] of model {model!r}; "
                              f"allowed: {', '.join(known)}")

    limits = _check_table(path, "limits", data.get("limits", {}), _LIMIT_KEYS)
    expect = _check_table(path, "expect", data.get("expect", {}), _EXPECT_KEYS)
    if "verdict" in expect and expect["verdict"] not in _VERDICTS:
        raise InvalidSpec(f"{path}: [expect] verdict must be one of {', '.join(_VERDICTS)}, "
                          f"got {_quote(expect['verdict'])}")
    limits = dict(limits)
    timeout = limits.get("timeout")
    if timeout is not None and not 0 < timeout <= MAX_SECONDS:  # also nan and inf, which TOML allows
        raise InvalidSpec(f"{path}: [limits] timeout must be a number of seconds above 0 and at most "
                          f"{MAX_SECONDS:,}, got {timeout!r}; omit it for no limit")
    for key in ("max_states", "max_depth"):
        if key in limits and not limits[key] > 0:
            raise InvalidSpec(f"{path}: [limits] {key} must be a positive integer, got {limits[key]!r}; "
                              "omit it for no limit")
    workers = limits.get("workers", 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise InvalidSpec(f"{path}: [limits] workers must be a whole number from 1 to {MAX_WORKERS}, "
                          f"got {workers!r}; this machine has {os.cpu_count()} cores")
    if workers > 1 and limits.get("por", False):
        raise InvalidSpec(f"{path}: [limits] por = true runs in one process: set workers = 1, or drop por")
    if limits.get("store", "objects") not in STORES:
        raise InvalidSpec(f"{path}: [limits] store must be one of {', '.join(STORES)}, "
                          f"got {_quote(limits['store'])}")
    if "continue" in limits:
        limits["continue_"] = limits.pop("continue")
    if limits.get("search", "bfs") not in SEARCHES:
        raise InvalidSpec(f"{path}: [limits] search must be one of {', '.join(SEARCHES)}, "
                          f"got {_quote(limits['search'])}")
    if limits.get("search") == "epochs" and model != "raft":
        raise InvalidSpec(f'{path}: [limits] search = "epochs" takes message passing models (the built-in raft), and '
                          f"{model} is not one; drop it from [limits]")
    if limits.get("search") == "epochs":
        key = epoch_conflict(**{k: limits[k] for k in ("symmetry", "store", "workers", "por", "continue_") if k in limits})
        if key is not None:
            raise InvalidSpec(f'{path}: [limits] search = "epochs" does not combine with {key}; drop one of them')
    spec = RunSpec(
        path=path,
        model=model,
        parameters=dict(parameters),
        bug=bug,
        description=data.get("description", ""),
        slow=data.get("slow", False),
        limits=Limits(**limits),
        expect=Expectations(**expect),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        built = spec.build_model()  # parameter errors surface when the spec is loaded, not mid-run
    wanted = spec.expect.property
    if wanted is not None:
        names = [p.name for p in built.properties()]
        if wanted not in names:
            raise InvalidSpec(f"{path}: [expect] property {wanted!r} is not a property of model {model!r}; "
                              f"its properties are: {', '.join(names)}")
    return spec
