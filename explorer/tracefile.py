"""Saved counterexamples: write a violation's trace as JSON, read it back, and replay it against the model.

A trace file (schema in docs/trace-file.md) names the model, its parameters
and bug, the violated property, and every step as its action label and the
``describe()`` view of the state after it. :func:`replay` re-executes the
actions one by one on a freshly built model, checks each state against the
saved one and checks that the property fails at the end, so a counterexample
found today can be confirmed after the model changes, or shown to no longer
apply, at the first step where it stops matching.

Examples
--------
>>> import tempfile, pathlib
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
>>> violation = explore(model, properties=["agreement"]).violation
>>> path = pathlib.Path(tempfile.mkdtemp()) / "trace.json"
>>> _ = save_trace(saved_trace(model, violation), path)
>>> saved = load_trace(path)
>>> saved.model, saved.property, len(saved.steps)
('paxos', 'agreement', 10)
>>> outcome = replay(saved, PaxosModel(max_ballot=0, bug="duplicate-ballots"))
>>> outcome.ok, outcome.steps_replayed
(True, 9)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quorumcheck.models.api import Expectation, Model

from quorumcheck.errors import InvalidParameter, QuorumcheckError

from .diff import changes
from .result import Step, Trace, Violation

__all__ = [
    "TRACE_FORMAT",
    "TRACE_SCHEMA_VERSION",
    "Mismatch",
    "Replay",
    "SavedStep",
    "SavedTrace",
    "TraceFileError",
    "load_trace",
    "read_input",
    "read_labels",
    "replay",
    "replayed_violation",
    "save_trace",
    "saved_trace",
]

TRACE_FORMAT = "quorumcheck-trace"
"""The value of the file's ``format`` key."""
TRACE_SCHEMA_VERSION = 1
"""The version of the layout documented in docs/trace-file.md."""

_KINDS = (Expectation.ALWAYS.value, Expectation.EVERY_STEP.value)


class TraceFileError(QuorumcheckError):
    """A trace file cannot be read: not JSON, not a quorumcheck trace, or a key missing or of the wrong type."""


_SHOWN = 80
"""At most this many characters of a file's content are quoted in an error message."""


def _cut(text: str) -> str:
    """``text`` cut to :data:`_SHOWN` characters, for an error message that quotes a file (it may hold anything)."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _shown(value: Any) -> str:
    """``value`` as JSON for an error message, cut to :data:`_SHOWN` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, RecursionError):  # an integer beyond the digit limit, or nesting beyond the stack
        text = f"a {type(value).__name__}"
    return _cut(text)


MAX_NESTING = 100
"""The deepest nesting of lists and objects read from a user's file, a trace (about six deep) or a spec.

Python's parser reads nesting up to about a thousand, but comparing, diffing
and printing such values recurses further and would end in a ``RecursionError``."""


def nesting(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (0 for a scalar), counted without recursion.

    It stops counting past :data:`MAX_NESTING`.

    Examples
    --------
    >>> nesting(1), nesting([]), nesting({"a": [[1], 2]})
    (0, 1, 3)
    """
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            if deepest > MAX_NESTING:
                break
            stack.extend((x, depth + 1) for x in item)
    return deepest


MAX_INPUT_BYTES = 64 * 2**20
"""The largest trace, prefix or spec file quorumcheck reads (64 MiB: a saved trace of hundreds of steps of large
states is a few MiB); a longer one, or an endless one such as ``/dev/zero``, is refused instead of read whole."""


class FileTooLarge(OSError):
    """A file longer than :data:`MAX_INPUT_BYTES` (an ``OSError``: callers report it as a file they cannot read)."""

    def __init__(self) -> None:
        super().__init__(27, f"longer than {MAX_INPUT_BYTES // 2**20} MiB, more than any file quorumcheck writes")


def read_input(path: Path) -> str:
    """The text of an input file, at most :data:`MAX_INPUT_BYTES` of it, as ``Path.read_text`` reads it.

    Raises
    ------
    OSError
        It cannot be read, or it is longer (:class:`FileTooLarge`).
    UnicodeDecodeError
        It is not UTF-8.

    >>> read_input(Path("/dev/zero"))
    Traceback (most recent call last):
    ...
    quorumcheck.explorer.tracefile.FileTooLarge: [Errno 27] longer than 64 MiB, more than any file quorumcheck writes
    """
    with open(path, "rb") as f:
        data = f.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise FileTooLarge()
    return data.decode("utf-8")


def parse_json(text: str, source: str | Path) -> Any:
    """Parse the JSON text of a user's file; anything the parser rejects is a one-line :class:`TraceFileError`.

    Besides malformed JSON, the parser also gives up on valid JSON nested deeper
    than Python's stack (a ``RecursionError``) and on an integer longer than
    Python converts (a ``ValueError``); both are the file's fault, not quorumcheck's.
    Nesting deeper than :data:`MAX_NESTING` is refused too, before anything recurses into it.

    Examples
    --------
    >>> parse_json('{"a": [1]}', "t.json")
    {'a': [1]}
    >>> parse_json("[" * 100_000, "t.json")
    Traceback (most recent call last):
    ...
    quorumcheck.explorer.tracefile.TraceFileError: t.json: not valid JSON (nested too deeply for quorumcheck to read)
    >>> parse_json("[" * 500 + "]" * 500, "t.json")
    Traceback (most recent call last):
    ...
    quorumcheck.explorer.tracefile.TraceFileError: t.json: not valid JSON (nested too deeply for quorumcheck to read)
    """
    return parse_text(json.loads, text, "JSON", source, TraceFileError, json.JSONDecodeError,
                      lambda e: f"line {e.lineno}, column {e.colno}: {e.msg}")


def parse_text(loads: Callable[[str], Any], text: str, kind: str, source: str | Path, error: type[Exception],
               malformed: type[Exception], say: Callable[[Any], str] = str) -> Any:
    """``loads(text)`` for a user's JSON or TOML file, every way it can give up raised as ``error`` in one line:
    malformed text (``malformed``, told by ``say``), nesting deeper than Python's stack (``RecursionError``),
    an integer longer than Python converts (``ValueError``), and nesting deeper than :data:`MAX_NESTING`.

    >>> parse_text(json.loads, "[[1]]", "JSON", "t.json", ValueError, json.JSONDecodeError)
    [[1]]
    """
    try:
        data = loads(text)
    except malformed as e:
        raise error(f"{source}: not valid {kind} ({say(e)})") from None
    except RecursionError:
        raise error(f"{source}: not valid {kind} (nested too deeply for quorumcheck to read)") from None
    except ValueError:  # int(), past sys.get_int_max_str_digits()
        raise error(f"{source}: not valid {kind} (a number has more digits than quorumcheck reads, "
                    f"{sys.get_int_max_str_digits()})") from None
    if nesting(data) > MAX_NESTING:
        raise error(f"{source}: not valid {kind} (nested too deeply for quorumcheck to read)")
    return data


@dataclass(frozen=True)
class SavedStep:
    """One saved step: the action label (``None`` for the initial state) and the ``describe()`` view after it."""

    action: str | None
    state: Any


@dataclass(frozen=True)
class SavedTrace:
    """A counterexample as saved in a trace file."""

    model: str
    parameters: dict[str, Any]
    bug: str | None
    property: str
    kind: str
    """``"always"`` (the last state violates the property) or ``"every-step"`` (the last step does)."""
    description: str
    explanation: str | None
    outside_boundary: bool
    steps: tuple[SavedStep, ...]

    def to_json(self) -> dict[str, Any]:
        """The file's contents as a JSON-ready dict (docs/trace-file.md)."""
        from quorumcheck import __version__

        return {
            "format": TRACE_FORMAT,
            "schema": TRACE_SCHEMA_VERSION,
            "quorumcheck": __version__,
            "model": self.model,
            "parameters": self.parameters,
            "bug": self.bug,
            "property": self.property,
            "kind": self.kind,
            "description": self.description,
            "explanation": self.explanation,
            "outside_boundary": self.outside_boundary,
            "steps": [{"action": s.action, "state": s.state} for s in self.steps],
        }

    @classmethod
    def from_json(cls, data: Any, source: str = "trace file") -> SavedTrace:
        """Validate parsed JSON and build a :class:`SavedTrace`; :class:`TraceFileError` names what is wrong.

        Examples
        --------
        >>> SavedTrace.from_json({"format": "quorumcheck-trace", "schema": 1})
        Traceback (most recent call last):
        ...
        quorumcheck.explorer.tracefile.TraceFileError: trace file: missing key 'model' (a string, e.g. "paxos")
        """

        def fail(message: str) -> TraceFileError:
            return TraceFileError(f"{source}: {message}")

        if not isinstance(data, Mapping):
            kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(data), "a number")
            raise fail(f"expected a JSON object, found {kind}; is this a file from --save-trace?")
        if data.get("format") != TRACE_FORMAT:
            raise fail(f'not a quorumcheck trace ("format" must be "{TRACE_FORMAT}"); write one with '
                       "quorumcheck check ... --save-trace FILE")
        schema = data.get("schema")
        if schema != TRACE_SCHEMA_VERSION or isinstance(schema, bool):
            if isinstance(schema, (int, float)) and not isinstance(schema, bool):
                raise fail(f"schema version {_shown(schema)} is not supported; this quorumcheck reads version "
                           f"{TRACE_SCHEMA_VERSION}")
            raise fail(f'"schema" must be the number {TRACE_SCHEMA_VERSION}, found {_shown(schema)}; '
                       "write the file again with --save-trace, or write \"schema\": "
                       f"{TRACE_SCHEMA_VERSION}")

        def need(key: str, types: type | tuple[type, ...], what: str, *, optional: bool = False) -> Any:
            if key not in data:
                if optional:
                    return None
                raise fail(f"missing key {key!r} ({what})")
            value = data[key]
            if value is None and optional:
                return None
            if not isinstance(value, types) or isinstance(value, bool) and bool not in (
                    types if isinstance(types, tuple) else (types,)):
                raise fail(f"{key!r} must be {what}, found {_shown(value)}")
            return value

        model = need("model", str, 'a string, e.g. "paxos"')
        parameters = need("parameters", dict, "an object of the model's parameters")
        bug = need("bug", str, "a string or null", optional=True)
        prop = need("property", str, 'a string, e.g. "agreement"')
        kind = need("kind", str, f"one of {', '.join(_KINDS)}")
        if kind not in _KINDS:
            raise fail(f"'kind' must be one of {', '.join(_KINDS)}, found {_cut(repr(kind))}")
        description = need("description", str, "a string", optional=True) or ""
        explanation = need("explanation", str, "a string or null", optional=True)
        outside = need("outside_boundary", bool, "true or false", optional=True) or False
        raw_steps = need("steps", list, "a list of {action, state} objects")
        if not raw_steps:
            raise fail("'steps' is empty; a trace has at least its initial state")
        steps = []
        for i, raw in enumerate(raw_steps):
            if not isinstance(raw, Mapping) or "action" not in raw or "state" not in raw:
                raise fail(f"step {i} must be an object with keys 'action' and 'state'")
            action = raw["action"]
            if i == 0 and action is not None:
                raise fail(f"step 0 is the initial state: its action must be null, found {_shown(action)}")
            if i > 0 and not isinstance(action, str):
                raise fail(f"step {i}: 'action' must be an action label such as \"Phase1a(b=0)\", "
                           f"found {_shown(action)}")
            steps.append(SavedStep(action, raw["state"]))
        return cls(model, dict(parameters), bug, prop, kind, description, explanation, outside, tuple(steps))


def saved_trace(model: Model[Any], violation: Violation[Any]) -> SavedTrace:
    """The trace file contents for ``violation`` of ``model``.

    Raises
    ------
    ValueError
        When the violation has no trace (a reachability property never witnessed).

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> saved = saved_trace(model, explore(model, properties=["agreement"]).violation)
    >>> saved.steps[1]
    SavedStep(action='Phase1a(b=0)', state={'maxBal': {'a1': -1, 'a2': -1, 'a3': -1}, ...})
    """
    if violation.trace is None:
        raise ValueError(f"the violation of {violation.property} has no trace to save (it was never witnessed)")
    return SavedTrace(
        model=model.name,
        parameters=_plain(model.settings()),
        bug=getattr(model, "bug", None),
        property=violation.property,
        kind=violation.expectation.value,
        description=violation.description,
        explanation=violation.explanation,
        outside_boundary=violation.outside_boundary,
        steps=tuple(SavedStep(None if s.action is None else str(s.action), _plain(model.describe(s.state)))
                    for s in violation.trace.steps),
    )


def save_trace(saved: SavedTrace, path: str | Path) -> Path:
    """Write ``saved`` to ``path`` as indented JSON (UTF-8) and return the path.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> saved = SavedTrace("paxos", {"max_ballot": 0}, None, "agreement", "always", "", None, False,
    ...                    (SavedStep(None, {"msgs": []}),))
    >>> path = save_trace(saved, pathlib.Path(tempfile.mkdtemp()) / "t.json")
    >>> json.loads(path.read_text())["format"]
    'quorumcheck-trace'
    """
    path = Path(path)
    doc = saved.to_json()
    try:
        data = (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (in a student's name) has no UTF-8; JSON's \udc00 escape keeps it
        data = (json.dumps(doc, indent=2) + "\n").encode("ascii")
    try:
        path.write_bytes(data)
    except OSError as e:  # a failed write or close (a full disk) names no file: name it, for "cannot write PATH"
        if e.filename is None:
            raise OSError(e.errno, e.strerror or str(e), str(path)) from None
        raise
    return path


def load_trace(path: str | Path) -> SavedTrace:
    """Read and validate a trace file; every problem is a one-line :class:`TraceFileError`.

    Examples
    --------
    >>> load_trace("/nonexistent/trace.json")
    Traceback (most recent call last):
    ...
    quorumcheck.explorer.tracefile.TraceFileError: /nonexistent/trace.json: no such file
    """
    path = Path(path)
    try:
        text = read_input(path)
    except FileNotFoundError:
        raise TraceFileError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TraceFileError(f"{path}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    return SavedTrace.from_json(parse_json(text, path), str(path))


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists), so that saved and live views compare."""
    return json.loads(json.dumps(value))


@dataclass(frozen=True)
class Mismatch:
    """Where a saved trace stops matching the model: the step, what was expected and what the model did."""

    step: int
    """The step number (0 is the initial state)."""
    action: str | None
    problem: str
    """One line: what went wrong at this step."""
    differences: tuple[str, ...] = ()
    """Saved state to actual state, as ``path: saved -> actual`` lines."""

    def __str__(self) -> str:
        where = "the initial state" if self.step == 0 else f"step {self.step} ({self.action})"
        text = f"{where}: {self.problem}"
        if self.differences:
            text += "; expected -> actual: " + "; ".join(self.differences)
        return text


@dataclass(frozen=True)
class Replay:
    """The outcome of :func:`replay`."""

    steps_replayed: int
    """Steps re-executed and matched (not counting the initial state)."""
    total_steps: int
    mismatch: Mismatch | None
    """The first step that did not match, or ``None``."""
    reproduced: bool
    """The trace matched and the property fails at its end."""
    trace: Trace[Any] | None
    """The re-executed trace, with the model's own states (the matched prefix when there is a mismatch)."""
    explanation: str | None = None
    """The property's explanation of the last state, when the violation reproduced."""
    problem: str | None = None
    """Why the violation did not reproduce although every step matched (or the property is unknown)."""

    @property
    def ok(self) -> bool:
        """Every step matched and the violation reproduced."""
        return self.mismatch is None and self.reproduced


def _view(model: Model[Any], state: Any) -> Any:
    return _plain(model.describe(state))


def replay(saved: SavedTrace, model: Model[Any]) -> Replay:
    """Re-execute a saved trace on ``model``, step by step, and check the violation at the end.

    Each action is looked up by its label among the model's enabled actions
    (as :meth:`Model.next_state` does), and the state it leads to is compared
    with the saved ``describe()`` view. The first step that is not enabled or
    leads elsewhere is reported as a :class:`Mismatch`.

    Parameters
    ----------
    saved : SavedTrace
    model : Model
        Built from the file's model, parameters and bug (``runspec.build_model``).

    Returns
    -------
    Replay

    Examples
    --------
    >>> from dataclasses import replace
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> saved = saved_trace(model, explore(model, properties=["agreement"]).violation)
    >>> steps = list(saved.steps)
    >>> steps[3] = SavedStep("Phase1b(a=a3, b=0)", steps[3].state)
    >>> outcome = replay(replace(saved, steps=tuple(steps)), model)
    >>> outcome.ok, outcome.mismatch.step
    (False, 3)
    >>> print(outcome.mismatch.differences[0])
    maxBal.a2: 0 -> -1
    """
    steps = saved.steps
    total = len(steps) - 1
    props = model.properties()  # built once: an actor model's properties set up their judges
    prop = next((p for p in props if p.name == saved.property), None)
    if prop is None:  # the file, not the code, is at fault
        names = ", ".join(p.name for p in props)
        raise InvalidParameter(f"the trace names the property {_cut(repr(saved.property))}, which model {model.name!r} "
                               f"does not have (its properties: {names}); was the file edited?")
    real = prop.expectation.value
    if real != saved.kind:  # judged the wrong way, the property would be called with one state or two
        fix = (f'set "kind": "{real}" or save the trace again with --save-trace' if real in _KINDS
               else "a violation of it has no trace to replay")
        article = "an" if real[0] in "ae" else "a"
        raise TraceFileError(f"the trace's 'kind' is {saved.kind!r}, but {prop.name} is {article} {real} property "
                             f"of model {model.name!r}; {fix}")
    init = list(model.init_states())
    views = [model.replay_view(_view(model, s)) for s in init]
    if model.replay_view(steps[0].state) not in views:
        found = changes(steps[0].state, views[0]) if views else []
        return Replay(0, total, Mismatch(0, None, f"no initial state of the model matches the saved one "
                                                  f"({len(init)} initial state{'s' if len(init) != 1 else ''})",
                                         tuple(str(c) for c in found)), False, None)
    state = init[views.index(model.replay_view(steps[0].state))]
    replayed = [Step(None, state)]
    for number, saved_step in enumerate(steps[1:], start=1):
        label = saved_step.action
        successors = [(a, t) for a, t in model.successors(state) if str(a) == label]
        if not successors:
            enabled = sorted({str(a) for a, _ in model.successors(state)})
            shown = ", ".join(enabled[:6]) + (f", … ({len(enabled)} in all)" if len(enabled) > 6 else "")
            return Replay(number - 1, total, Mismatch(number, label, f"{label} is not enabled in the state before "
                                                      f"it; enabled: {shown or 'nothing (a deadlock)'}"),
                          False, Trace(tuple(replayed)))
        expected = model.replay_view(saved_step.state)
        for action, after in successors:
            if model.replay_view(_view(model, after)) == expected:
                break
        else:
            action, after = successors[0]
            found = changes(saved_step.state, _view(model, after))
            return Replay(number - 1, total, Mismatch(number, label, f"{label} leads to a different state",
                                                      tuple(str(c) for c in found)), False, Trace(tuple(replayed)))
        replayed.append(Step(action, after))
        state = after
    trace = Trace(tuple(replayed))
    if saved.kind == Expectation.EVERY_STEP.value:
        if total == 0:
            return Replay(0, 0, None, False, trace, problem="an every-step property needs at least one step")
        failed = not prop.holds_on_step(trace.steps[-2].state, state)
    else:
        failed = not prop.holds(state)
    if not failed:
        where = "on the last step" if saved.kind == Expectation.EVERY_STEP.value else "in the last state"
        return Replay(total, total, None, False, trace, problem=f"{saved.property} holds {where}")
    before = trace.steps[-2].state if saved.kind == Expectation.EVERY_STEP.value else None
    return Replay(total, total, None, True, trace, explanation=prop.explain_step(before, state))


def replayed_violation(saved: SavedTrace, outcome: Replay) -> Violation[Any]:
    """The :class:`Violation` a successful replay stands for (to draw it as a fresh result would be drawn).

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> saved = saved_trace(model, explore(model, properties=["agreement"]).violation)
    >>> v = replayed_violation(saved, replay(saved, model))
    >>> v.property, len(v.trace)
    ('agreement', 9)
    """
    return Violation(
        saved.property,
        Expectation(saved.kind),
        saved.description,
        outcome.trace,
        saved.outside_boundary,
        outcome.explanation if outcome.explanation is not None else saved.explanation,
    )


def read_labels(path: str | Path, model: str | None = None) -> list[str]:
    r"""The action labels of a scripted prefix file (``--prefix``): one label per line (blank lines and ``#``
    comments skipped), or a saved trace (``--save-trace``), whose actions are taken in order; with ``model``,
    a trace of another model is refused.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    ...     _ = f.write("# n0 stands for election\nTimer(node=n0, timer=election)\n\n")
    >>> read_labels(f.name)
    ['Timer(node=n0, timer=election)']
    >>> os.unlink(f.name)
    >>> read_labels("/nonexistent/prefix.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: cannot read the prefix file /nonexistent/prefix.txt: No such file ...
    """
    path = Path(path)
    try:
        text = read_input(path)
    except OSError as e:
        raise InvalidParameter(f"cannot read the prefix file {path}: {'a folder' if path.is_dir() else e.strerror}; "
                               "give a file with one action label per line, or a trace saved with --save-trace"
                               ) from None
    except UnicodeDecodeError:
        raise InvalidParameter(f"cannot read the prefix file {path}: it is not UTF-8 text; give one action label "
                               "per line, or a trace saved with --save-trace") from None
    if text.lstrip().startswith(("{", "[")):  # JSON (no label starts so): it must be a saved trace
        saved = load_trace(path)
        if model is not None and saved.model != model:
            raise InvalidParameter(f"{path} is a trace of model {saved.model!r}, not of {model!r}; give a trace saved "
                                   f"by check {model} --save-trace, or a file of {model}'s action labels")
        # A trace saved from a run with a prefix starts where that prefix ended: its steps come first.
        before = saved.parameters.get("prefix") or []
        if not isinstance(before, list) or not all(isinstance(label, str) for label in before):
            raise InvalidParameter(f"{path}: the trace's parameters.prefix must be a list of action labels")
        return [*before, *(step.action for step in saved.steps[1:] if step.action is not None)]
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]

