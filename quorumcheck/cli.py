"""The command line: the only code in quorumcheck that parses arguments and prints.

Exit codes: 0 the properties hold, 1 a property is violated (or, testing
student code, a finding about it), 3 undetermined (a limit cut the run), 2 a
usage or input error (one line on stderr, no traceback), 4 an internal error of
quorumcheck (a bug: the traceback is printed), 5 a spec's ``[expect]`` not met
(whatever the verdict), 130 interrupted by Ctrl-C (the result so far is printed),
141 the output's reader went away (``quorumcheck ... | head``).
"""

from __future__ import annotations

import atexit
import codecs
import errno
import gc
import json
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console as _RichConsole
from rich.live import Live
from rich.text import Text

from quorumcheck import __version__, entry
from quorumcheck.errors import PYTHON_EXAMPLE, ModelWarning, QuorumcheckError
from quorumcheck.explorer import CheckResult, Progress, Verdict, explore
from quorumcheck.explorer.diff import changes, flatten, show_value
from quorumcheck.invariants import definitions
from quorumcheck.models import BUILTIN_MODELS, TRACE_MODELS, Model, Parameter
from quorumcheck.models.actor_model import GRADER_MEMORY_MB, MIN_MEMORY_MB, symlink_notice
from quorumcheck.models.api import HANDLER_SECONDS, MAX_ELEMENTS
from quorumcheck.printable import printable
from quorumcheck.explorer.store import STORES
from quorumcheck.runspec import Limits, RunSpec, build_model, load_spec

EXIT_USAGE = 2
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = entry.EXIT_INTERRUPTED
EXIT_BROKEN_PIPE = 141
"""The reader of the output went away (``quorumcheck ... | head``): what a shell reports for a process that
SIGPIPE ended, never 1, which means a violation."""

EXIT_EXPECTATION = 5
"""A spec whose ``[expect]`` was not met (the verdict's own code is for runs without expectations)."""

GRAPH_MAX_NODES = 1000
"""The most states ``--graph-max-nodes`` lets a graph view draw. Graphviz's layout grows faster than the graph:
measured on Raft's vote-twice graph, 2,000 states took 15 s and 5,000 took 89 s, for pictures nobody can read."""


class Console(_RichConsole):
    """rich's console, except that a closed output pipe ends the run with :data:`EXIT_BROKEN_PIPE`.

    rich exits 1 there, which a script reading quorumcheck's exit code would take for a violation.
    """

    def on_broken_pipe(self) -> None:
        self.quiet = True
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        raise SystemExit(EXIT_BROKEN_PIPE)


def _fail(message: str) -> None:
    message = in_flags(message, click.get_current_context(silent=True))
    click.echo(f"quorumcheck: error: {printable(message)}", err=True)  # it may quote a student's names or errors
    sys.exit(EXIT_USAGE)


def in_flags(message: str, ctx: click.Context | None) -> str:
    """``message`` in the words of the command line: a Python parameter it names (``max_log must ...``,
    ``pass e.g. max_log=1``, ``nodes=3 but ...``) becomes the command's option (``--max-log``, ``--max-log 1``).

    Only the message's subject and its ``e.g.`` example are reworded, and only names the command has an option
    for, so what a student's code said, quoted further on, is left as it was.

    Examples
    --------
    >>> cmd = click.Command("check", params=[click.Option(["--max-log"], type=int)])
    >>> in_flags("max_log must be at least 0 (got -1); pass e.g. max_log=1", click.Context(cmd))
    '--max-log must be at least 0 (got -1); pass e.g. --max-log 1'
    """
    if ctx is None:
        return message
    flags = {p.name: max(p.opts, key=len) for p in ctx.command.params
             if isinstance(p, click.Option) and p.name and max(p.opts, key=len).startswith("--")}

    def flag(match: re.Match[str]) -> str:
        name, value = match.group("name"), match.group("value")
        if name not in flags:
            return match.group(0)
        said = flags[name] if value is None else f"{flags[name]} {value}"
        return match.group("lead") + said

    message = PYTHON_EXAMPLE.sub(flag, message)
    return re.sub(r"^(?P<lead>)(?P<name>[a-z_][a-z0-9_]*)(?:=(?P<value>[^\s;,)]+))?(?= )", flag, message, count=1)


# -- parameter types -------------------------------------------------------------------
class NamesType(click.ParamType):
    """A count (``3``) or a comma-separated list of distinct names (``a,b,c``)."""

    name = "N|NAMES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        names = [n.strip() for n in text.split(",")]
        if any(not n for n in names):
            self.fail(f"{value!r} has an empty name; give a count like 3 or names like a1,a2,a3", param, ctx)
        if len(names) == 1:
            try:
                float(text)
            except ValueError:
                pass
            else:  # 3.0, 1e1, 1.5: meant as a count, which is a whole number (a name, one element, would run)
                self.fail(f"{value!r} is not a whole number; give a count like 3 or names like a1,a2,a3", param, ctx)
        return names


class LabelsFile(click.ParamType):
    """A file of action labels, one per line (``#`` comments), or a saved trace: labels contain commas."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, list):
            return value
        from quorumcheck.explorer.tracefile import read_labels

        model = ctx.command.name if ctx is not None and ctx.command.name in BUILTIN_MODELS else None
        try:
            return read_labels(value, model)
        except QuorumcheckError as e:  # one line, as every input error (click's usage block would add three)
            _fail(str(e))


def _plain_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--render-name is a name inside the --render folder: no folders, no way out of it."""
    if value is not None and not value.strip():
        raise click.BadParameter("the name is empty; give a plain file name prefix, e.g. paxos-run1")
    if value is not None and ("/" in value or "\\" in value or value in (".", "..")):
        raise click.BadParameter(f"{value!r} is a path; give a plain file name prefix, e.g. paxos-run1 "
                                 "(the files go into the --render folder)")
    return value


def _class_names(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """--node-class names a class: an empty name is a mistake, not "no class given"."""
    if any(not name.strip() for name in value):
        raise click.BadParameter("a class name is empty; give the node class's name, e.g. --node-class RaftNode")
    return value


class Seconds(click.FloatRange):
    """A positive, finite number of seconds (``nan`` and ``inf`` are refused, not ignored), within ``low`` and
    ``high`` when given."""

    name = "SECONDS"

    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        super().__init__(min=low if low is not None else 0, min_open=low is None, max=high)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import math

        from quorumcheck.explorer.search import MAX_SECONDS

        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds; give e.g. 60", param, ctx)
        if number > MAX_SECONDS:
            self.fail(f"{value!r} seconds is beyond what the timer counts; give at most {MAX_SECONDS:,} (115 days)",
                      param, ctx)
        return number


def _model_option(p: Parameter) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    if p.kind == "int":
        return click.option(p.flag, p.name, type=int, default=None, help=f"{p.help} [default: {p.default}]")
    if p.kind == "names":
        return click.option(p.flag, p.name, type=NamesType(), default=None, help=f"{p.help} [default: {p.default}]")
    if p.kind == "labels":
        return click.option(p.flag, p.name, type=LabelsFile(), default=None, metavar="FILE", help=p.help)
    if p.kind == "bool":
        flag = p.name.replace("_", "-")
        return click.option(f"--{flag}/--no-{flag}", p.name, default=None, help=f"{p.help} [default: {p.default}]")
    if p.kind == "quorums":
        return click.option(
            "--quorum", p.name, multiple=True, metavar="A,B,...",
            help=f"{p.help}; repeat once per quorum, e.g. --quorum a1,a2 --quorum a2,a3",
        )
    raise AssertionError(f"unknown parameter kind {p.kind}")  # a model-definition bug, not a user error


def _run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--max-states", type=click.IntRange(min=1), help="stop (undetermined) beyond N distinct states"),
        click.option("--max-depth", type=click.IntRange(min=1),
                     help="stop (undetermined) beyond depth N (TLC's count: the initial state is depth 1, so every "
                          "behaviour of up to N-1 steps is explored)"),
        click.option("--timeout", type=Seconds(), help="stop (undetermined) after SECONDS"),
        click.option("--continue", "continue_", is_flag=True, help="keep exploring after a violation; report every violated property"),
        click.option("--invariant", "invariants", multiple=True, metavar="NAME", help="check only this property (repeatable)"),
        click.option("--no-graph", is_flag=True, help="keep no state graph (less memory; traces from parent links)"),
        click.option("--symmetry", is_flag=True,
                     help="symmetry reduction: store one state per orbit under renaming the model's interchangeable "
                          "elements (Paxos: acceptors, values; Raft: servers, values); counts are TLC's SYMMETRY "
                          "counts, counterexamples stay concrete"),
        click.option("--por", is_flag=True,
                     help="partial-order reduction: where the model names a step that commutes with every other "
                          "(Paxos: an unsent Phase1a), follow it alone; verdicts are kept, counts are no longer "
                          "TLC's, and a counterexample may be longer than the shortest (docs/partial-order.md)"),
        click.option("--search", type=click.Choice(["bfs", "epochs"]), default=None,
                     help="bfs: every interleaving, breadth-first (the default; exact, TLC's counts); epochs: "
                          "breadth-first over epochs (a trigger, then every message among a group of servers), "
                          "which reaches bugs too deep for bfs from the initial state but proves nothing when it "
                          "finds none (Raft; docs/raft.md)"),
        click.option("--store", type=click.Choice(list(STORES)), default=None,
                     help="where seen states are kept: 'objects' (exact; the default) or 'fingerprints' (64-bit "
                          "fingerprints, a few tens of bytes per state, no graph; the collision chance is reported)"),
        click.option("--workers", type=click.IntRange(1, 64), default=None, metavar="N",
                     help="search with N processes, each owning a shard of the states (counts, depth and verdicts "
                          "are those of one process; no graph is kept) [default: 1; with --ray, a shard per CPU]"),
        click.option("--ray", "ray_address", metavar="ADDRESS",
                     help="run the shards as actors on a Ray cluster at ADDRESS (host:port), or 'local' to start a "
                          "local Ray instance for the run (needs: pip install 'quorumcheck[ray]')"),
        click.option("--json", "as_json", is_flag=True, help="print the result as JSON (schema: docs/json-result.md)"),
        click.option("--render", "render_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
                     help="write each violation's sequence chart and graph view (DOT, SVG, PNG) and an HTML report into DIR"),
        click.option("--render-name", metavar="NAME", callback=_plain_name,
                     help="file name prefix for --render [default: MODEL-PROPERTY]"),
        click.option("--graph-radius", type=click.IntRange(min=0), metavar="N",
                     help="--render: draw the states within N steps of the trace [default: the whole graph when it fits, else 1]"),
        click.option("--graph-max-nodes", type=click.IntRange(min=1, max=GRAPH_MAX_NODES), default=400,
                     show_default=True, metavar="N",
                     help=f"--render: the most states a graph view draws (at most {GRAPH_MAX_NODES:,}: Graphviz takes "
                          "seconds on 1,000 states and minutes on 5,000)"),
        click.option("--save-trace", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                     help="write the first violation's trace as JSON (docs/trace-file.md) for `quorumcheck replay`"),
        click.option("--evaluator", type=click.Choice(["z3", "python"]), default="z3", show_default=True,
                     help="what judges properties written as first-order formulas"),
        click.option("--stats", is_flag=True, help="print per-property judging statistics (solver calls, cache hits, time)"),
    ]
    for option in reversed(options):
        f = option(f)
    return f


# -- check -----------------------------------------------------------------------------------
class _CheckGroup(click.Group):
    """``check MODEL [options]`` for a built-in model, or ``check SPEC.toml [options]``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(BUILTIN_MODELS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTIN_MODELS:
            return _model_command(BUILTIN_MODELS[cmd_name])
        if cmd_name.endswith(".toml") or "/" in cmd_name or Path(cmd_name).exists():
            return _spec_command(cmd_name)
        return None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        command = self.get_command(ctx, name)
        if command is None:
            raise click.UsageError(
                f"unknown model or spec {name!r}; give a built-in model ({', '.join(sorted(BUILTIN_MODELS))}) "
                "or a spec file such as specs/paxos-b2.toml",
                ctx,
            )
        return name, command, args[1:]


def _model_command(cls: type[Model[Any]]) -> click.Command:
    def callback(bug: str | None, **kwargs: Any) -> None:
        params = {p.name: kwargs.pop(p.name) for p in cls.parameters}
        params = {k: v for k, v in params.items() if v is not None and v != ()}
        if "quorums" in params:
            params["quorums"] = [[a.strip() for a in q.split(",")] for q in params["quorums"]]
        _check(lambda: build_model(cls.name, params, bug), None, **kwargs)

    command = click.Command(
        cls.name,
        callback=callback,
        help=(cls.__doc__ or "").strip().splitlines()[0],
        params=[],
    )
    f = _run_options(callback)
    for p in reversed(cls.parameters):
        f = _model_option(p)(f)
    f = click.option("--bug", type=click.Choice(list(cls.bugs)), help="check a known bug (see `quorumcheck list`)")(f)
    command.params = list(getattr(f, "__click_params__", []))
    command.params.reverse()
    return command


def _spec_command(path: str) -> click.Command:
    def callback(**kwargs: Any) -> None:
        try:
            spec = load_spec(path)
        except QuorumcheckError as e:
            _fail(str(e))
        _check(spec.build_model, spec, **kwargs)

    f = _run_options(callback)
    command = click.Command(path, callback=callback, help=f"Run the spec {path}.")
    command.params = list(reversed(getattr(f, "__click_params__", [])))
    return command


def _check(
    make_model: Callable[[], Model[Any]],
    spec: RunSpec | None,
    *,
    max_states: int | None,
    max_depth: int | None,
    timeout: float | None,
    continue_: bool,
    invariants: tuple[str, ...],
    no_graph: bool,
    as_json: bool,
    evaluator: str = "z3",
    stats: bool = False,
    render_dir: Path | None = None,
    render_name: str | None = None,
    graph_radius: int | None = None,
    graph_max_nodes: int = 400,
    save_trace: Path | None = None,
    symmetry: bool = False,
    store: str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
    por: bool = False,
    search: str | None = None,
    **extra: Any,
) -> None:
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    _writable_first(render_dir, save_trace)
    # A flag given on the command line wins over the spec's [limits]; without a spec, Limits()'s defaults.
    limits = spec.limits if spec is not None else Limits()
    # A spec's [expect] holds for the run its own [limits] describe: a flag that changes what is counted or
    # judged (a reduction, a cut, other properties) makes a different run, which it is not compared with.
    recounted = [flag for flag, changed in (
        ("--symmetry", symmetry and not limits.symmetry), ("--por", por and not limits.por),
        ("--invariant", bool(invariants)), ("--max-states", max_states not in (None, limits.max_states)),
        ("--max-depth", max_depth not in (None, limits.max_depth)), ("--timeout", timeout not in (None, limits.timeout)),
        ("--continue", continue_ and not limits.continue_), ("--search", search not in (None, limits.search)),
    ) if changed]
    expecting = spec is not None and any(value is not None for value in vars(spec.expect).values())
    if expecting and recounted:
        assert spec is not None
        err.print(f"quorumcheck: notice: {spec.path}'s [expect] is not compared: {recounted[0]} makes a different "
                  "run from the one its [limits] describe (run the spec without it to check its expectations)",
                  markup=False)
    compared = spec if expecting and not recounted else None
    max_states = max_states if max_states is not None else limits.max_states
    max_depth = max_depth if max_depth is not None else limits.max_depth
    timeout = timeout if timeout is not None else limits.timeout
    continue_ = continue_ or limits.continue_
    symmetry = symmetry or limits.symmetry
    store = store or limits.store
    workers = workers or limits.workers
    por = por or limits.por
    by_epochs = (search or limits.search) == "epochs"
    if by_epochs:
        from quorumcheck.runspec import epoch_conflict

        conflict = epoch_conflict(symmetry=symmetry, store=store, workers=workers, ray=ray_address, por=por,
                                  continue_=continue_)
        if conflict is not None:
            flag = {"store": "--store fingerprints"}.get(conflict, f"--{conflict}")
            _fail(f"--search epochs does not combine with {flag} (the epochs are one process, no graph, and stop "
                  "at the first violation); drop one of them")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelWarning)
            model = make_model()
            model.evaluator = evaluator
        warned = [str(w.message) for w in caught if issubclass(w.category, ModelWarning)]
        for text in warned:
            err.print(f"quorumcheck: warning: {text}", markup=False)
        display = _ProgressDisplay(err, epochs=by_epochs) if not as_json and err.is_terminal else None
        try:
            if by_epochs:
                from quorumcheck.studenttest import epoch_check

                result = epoch_check(model, properties=list(invariants) or None, max_states=max_states,
                                     max_depth=max_depth, timeout=timeout,
                                     on_progress=display.update if display else None)
            else:
                result = explore(
                    model, max_states=max_states, max_depth=max_depth, timeout=timeout, stop_at_first=not continue_,
                    # None: the graph when the store and workers can keep it (explore decides)
                    keep_graph=None if not no_graph and limits.keep_graph else False,
                    properties=list(invariants) or None,
                    on_progress=display.update if display else None, progress_interval=0.25,
                    symmetry=symmetry, store=store, workers=workers, ray=ray_address, por=por,
                )
        finally:
            if display:
                display.close()
        _keep_until_exit(result)
    except QuorumcheckError as e:
        _fail(str(e))
    for notice in result.notices:
        err.print(f"quorumcheck: notice: {notice}", markup=False)
    writes = render_dir is not None or save_trace is not None
    if writes and as_json:  # first: a file that cannot be written ends the run (exit 2) before any JSON is printed
        _write_counterexamples(model, result, render_dir, render_name, graph_radius, graph_max_nodes,
                               list(invariants) or None, save_trace, to_stderr=True)
    if as_json:
        data = result.to_json(model)
        data["notices"] = [f"warning: {text}" for text in warned] + data["notices"]  # the reader of --json sees them
        if by_epochs:
            data["search"] = {"method": "epochs", "every_schedule_up_to_epochs": max(result.depth - 1, 0)}
        if spec is not None:
            data["spec"] = {"path": str(spec.path), "mismatches": compared.mismatches(result) if compared else [],
                            "compared": compared is not None}
        click.echo(_json_text(data))
    else:
        out = Console(highlight=False, soft_wrap=True)
        _print_result(out, model, result, spec, sampled=by_epochs, sampled_by="epoch search", compared=compared)
        if stats:
            _print_stats(out, result)
    if writes and not as_json:
        _write_counterexamples(model, result, render_dir, render_name, graph_radius, graph_max_nodes,
                               list(invariants) or None, save_trace, to_stderr=False)
    if compared is not None and result.stop_reason != "interrupted" and compared.mismatches(result):
        # A spec is a regression test: its [expect] not met is a failure of its own, whatever the verdict.
        click.echo(f"quorumcheck: {compared.path}: expectation not met: " + "; ".join(compared.mismatches(result)),
                   err=True)
        sys.exit(EXIT_EXPECTATION)
    sys.exit(result.exit_code)


def _write_counterexamples(
    model: Model[Any],
    result: CheckResult[Any],
    render_dir: Path | None,
    render_name: str | None,
    graph_radius: int | None,
    graph_max_nodes: int,
    properties: list[str] | None,
    save_trace: Path | None,
    *,
    to_stderr: bool,
) -> None:
    """``check --render DIR`` and ``check --save-trace FILE``: write files, say (one line each) what was written."""
    from quorumcheck.explorer.tracefile import save_trace as write_trace
    from quorumcheck.explorer.tracefile import saved_trace
    from quorumcheck.render import GraphvizError, render_counterexample

    def say(line: str) -> None:
        click.echo(line, err=to_stderr)

    traced = [v for v in result.violations if v.trace is not None]
    if not traced:
        say("nothing to render or save: no violation with a counterexample trace")
        return
    try:
        if save_trace is not None:
            write_trace(saved_trace(model, traced[0]), save_trace)
            say(f"saved the trace of {traced[0].property} to {save_trace} (replay it: quorumcheck replay {save_trace})")
        if render_dir is None:
            return
        missing = False
        for v in traced:
            name = render_name
            if render_name is not None and len(traced) > 1:
                name = f"{render_name}-{v.property}"
            written = render_counterexample(
                model, v, render_dir, name=name, result=result, radius=graph_radius, max_nodes=graph_max_nodes,
                properties=properties,
            )
            missing = missing or written.graphviz_missing
            say(f"rendered {v.property}: " + ", ".join(str(p) for p in written.paths))
            for note in written.notes:
                if not note.startswith("Graphviz"):
                    say(f"  {note}")
        if missing:
            from quorumcheck.render import INSTALL_HINT

            click.echo(f"quorumcheck: Graphviz's dot was not found, so only DOT files and the HTML report were "
                       f"written; {INSTALL_HINT}", err=True)
    except GraphvizError as e:  # the verdict is the answer, with or without its drawing
        click.echo(f"quorumcheck: notice: could not draw the counterexample ({e}); the verdict stands", err=True)
    except OSError as e:
        _fail(_cannot_write(e))


class _ProgressDisplay:
    """A one-line live display on a terminal, shown once a run has lasted about a second."""

    def __init__(self, console: Console, epochs: bool = False) -> None:
        self.console = console
        self.live: Live | None = None
        self.epochs = epochs

    def update(self, p: Progress) -> None:
        if p.seconds < 1.0:
            return
        if self.epochs:  # the epoch search's states are epoch-end states, its levels epochs
            counts = f"{p.distinct_states:,} epoch-end states · queue {p.queue:,} · epoch {max(p.depth - 1, 1)} · "
        else:
            counts = f"{p.distinct_states:,} states · queue {p.queue:,} · depth {p.depth} · "
        self._show(Text.assemble(("exploring ", "bold"), counts,
                                 f"{p.states_per_second:,.0f} states/s · {p.peak_memory_bytes / 2**20:,.0f} MiB · "
                                 f"{p.seconds:.0f} s"))

    def update_part(self, part: str, p: Progress) -> None:
        """``quorumcheck test``: the running part of the search (auto mode runs up to five, one after another)."""
        if part in ("random", "epoch walks"):
            counts = f"{p.queue:,} schedules · {p.distinct_states:,} states visited · longest {p.depth - 1} steps · "
        elif part in ("epochs", "one-way epochs"):
            counts = f"{p.distinct_states:,} epoch-end states · epoch {max(p.depth - 1, 1)} · "
        elif part in ("merged epochs", "merged one-way epochs"):
            counts = f"{p.distinct_states:,} protocol states kept · epoch {max(p.depth - 1, 1)} · "
        else:
            counts = f"{p.distinct_states:,} states · depth {p.depth} · "
        self._show(Text.assemble((f"{part} ", "bold"), counts,
                                 f"{p.peak_memory_bytes / 2**20:,.0f} MiB · {p.seconds:.0f} s in this part"))

    def _show(self, line: Text) -> None:
        if self.live is None:
            self.live = Live(line, console=self.console, auto_refresh=False, transient=True)
            self.live.start()
        self.live.update(line, refresh=True)

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()


_VERDICT_STYLE = {Verdict.HOLDS: "bold green", Verdict.VIOLATED: "bold red", Verdict.UNDETERMINED: "bold yellow"}
_STOP_REASONS = {
    "max_states": "the state limit (--max-states) was reached",
    "memory": "the memory limit (--max-memory) was reached",
    "max_depth": "the depth limit (--max-depth) was reached",
    "timeout": "the time limit (--timeout) ran out",
    "unknown": "a property could not be decided",
    "interrupted": "interrupted (Ctrl-C); this is the result so far",
    "worker-died": "a worker process died, so the search is incomplete (see the notice)",
    "not-exhaustive": "not exhaustive: the search was cut, and neither epochs nor random schedules found a "
                      "violation, which is no proof (what was covered is below)",
}


def _show(value: Any) -> str:
    return show_value(value)


def _print_stats(out: Console, result: CheckResult[Any]) -> None:
    if not result.judging:
        out.print("judging: no property is written as a formula", markup=False)
        return
    totals = result.judge_totals()
    out.print(
        f"judging: {totals['calls']:,} evaluator calls, {totals['cache_hits']:,} cache hits, {totals['seconds']:.3f} s",
        markup=False,
    )
    for name, s in result.judging.items():
        out.print(
            f"  {name:<24} {s.evaluator:<6} {s.calls:>8,} calls {s.cache_hits:>10,} cache hits {s.seconds:>8.3f} s",
            markup=False,
        )


def _inline(value: Any) -> str:
    """A top-level value of a describe() view on one line: a dict as ``key=value, ...`` (values as literals)."""
    if isinstance(value, dict) and value:
        return ", ".join(f"{k}={show_value(v)}" for k, v in value.items())
    return show_value(value)


def _steps(n: int) -> str:
    """``"1 step"``, ``"6 steps"``."""
    return f"{n} step" if n == 1 else f"{n} steps"


def _epochs(n: int) -> str:
    """``"1 epoch"``, ``"6 epochs"``."""
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _prefix_ends(n: int) -> str:
    """``"the prefix's 1 step ends"``, ``"the prefix's 2 steps end"``."""
    return f"the prefix's {_steps(n)} {'ends' if n == 1 else 'end'}"


def _as_given(path: str) -> str:
    """A student file's path relative to the current directory when it lies below it, else as it is."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_result(out: Console, model: Model[Any], result: CheckResult[Any], spec: RunSpec | None,
                  *, sampled: bool = False, sampled_by: str = "random testing", compared: RunSpec | None = None) -> None:
    """The human result; ``sampled``: the result of random schedules (or of ``sampled_by``), whose statistics
    read differently; ``compared``: the spec whose ``[expect]`` the run is compared with."""
    settings = "  ".join(
        f"{k}={','.join(map(str, v)) if isinstance(v, list) else _as_given(v) if k == 'file' else v}"
        for k, v in result.settings.items()
    )
    title = f"{model.name}  {settings}" + (f"  bug={result.bug}" if result.bug else "")
    if spec is not None:
        title = f"{spec.path}: {title}"
    # What a model shows may hold a student's names (classes, attributes, timers, enum members, record fields):
    # every line is printed with what is not printable written out (quorumcheck.printable), so that none can
    # clear the terminal or start a line of its own.
    out.print(printable(title), markup=False)
    headline = result.verdict.value.upper()
    if sampled and result.verdict is Verdict.HOLDS:
        headline = f"NO FAILING SCHEDULE ({sampled_by}, not a proof)"
    if result.violation is not None:
        v = result.violation
        headline += f": {v.property}" + (f" ({v.description})" if v.description else "")
        if v.trace is None:
            headline += " was never witnessed"
    elif sampled_by == "epoch search" and result.stop_reason == "not-exhaustive":
        headline += (f": no violation in any schedule of up to {max(result.depth - 1, 0)} epochs, which is no proof "
                     "(each epoch tries one order of delivery); run --search bfs for a verdict")
    elif result.verdict is Verdict.UNDETERMINED and result.stop_reason:
        headline += f": {_interruption(_STOP_REASONS.get(result.stop_reason, result.stop_reason))}"
    prefix = getattr(model, "prefix", ())
    if prefix and result.violation is None:  # the search started where the prefix ends, not in the initial state
        headline += f" (from where {_prefix_ends(len(prefix))})"
    out.print(Text(headline, style=_VERDICT_STYLE[result.verdict]))
    if sampled and sampled_by == "epoch search":
        # Epoch-end states are stored up to this depth; a violation is met inside the epoch after them.
        counts = (f"{result.distinct_states:,} epoch-end states (up to {max(result.depth - 1, 0)} epochs deep) · "
                  f"{result.transitions:,} epochs")
    elif sampled:
        # In auto mode the exhaustive and epoch parts are summed up in the mode line; these are the schedules'.
        counts = (f"{result.distinct_states:,} distinct states visited by the random schedules · "
                  f"{result.transitions:,} steps · longest schedule {_steps(max(result.depth - 1, 0))}")
    else:
        counts = f"{result.distinct_states:,} distinct states · {result.transitions:,} transitions · depth {result.depth}"
        reductions = [f"orbits under {' × '.join(result.symmetry)}"] if result.symmetry else []
        if result.partial_order is not None and result.partial_order.method == "ample":
            reductions.append("partial-order reduced")
        if reductions:
            counts = counts.replace("distinct states", f"distinct states ({'; '.join(reductions)})", 1)
        if result.by_movers:
            po = result.partial_order
            # A search stopped at a violation may have passed through transactions that never ended.
            covered = f", {po.covered:,} more covered by shorter ones" if po.covered else ""
            counts = counts.replace("distinct states", f"distinct states (reduced by movers: {po.transactions:,} "
                                    f"transactions ended{covered}; {po.passed:,} states passed through inside "
                                    "transactions)", 1)
        if result.partial_order is not None and result.partial_order.method == "sleep":
            counts = counts.replace(" transitions", f" transitions ({result.partial_order.slept:,} more asleep: "
                                    "sleep sets)", 1)
    out.print(
        f"{counts} · {result.seconds:.2f} s · {result.states_per_second:,.0f} states/s · "
        f"peak memory {result.peak_memory_bytes / 2**20:,.0f} MiB",
        markup=False,
    )
    if result.fingerprints is not None:
        fp = result.fingerprints
        out.print(
            f"fingerprint store: {fp.store_bytes / 2**20:,.1f} MiB ({fp.bytes_per_state(result.distinct_states):.1f} "
            f"bytes per state) · chance of a fingerprint collision ≈ {fp.collision_probability:.1e}",
            markup=False,
        )
    for w in result.witnesses:
        if w.trace is None and not result.complete:
            # A cut search is no verdict on it, but code that can never get there (a Raft that never commits)
            # ends the same way as a correct one, and only this line tells them apart (batch 12).
            out.print(Text(f"reachability: {w.property} ({w.description}) NOT witnessed by any schedule tried "
                           "(the search was cut; a system that can never get there ends the same way)", style="bold yellow"))
            continue
        status = f"witnessed in {_steps(len(w.trace))}" if w.trace is not None else "not witnessed"
        if prefix and w.trace is not None:
            status += " after the prefix"
        out.print(f"reachability: {w.property} ({w.description}) {status}", markup=False)
    if compared is not None:
        wrong = compared.mismatches(result)
        if wrong:
            out.print(Text("spec expectation NOT met: " + "; ".join(wrong), style="bold red"))
        else:
            out.print("spec expectation met", markup=False)
    for v in result.violations:
        if v.trace is None:
            continue
        out.print()
        where = " (the last state is outside the bound)" if v.outside_boundary else ""
        scripted = len(getattr(model, "prefix", ()) or ())
        after = f" after the {_steps(scripted)} of the scripted prefix" if scripted else ""
        out.print(Text(f"counterexample to {v.property}: {_steps(len(v.trace))}{after}{where}", style="bold"))
        previous = None
        culprit = _culprit_to_show(v)
        start = f"where {_prefix_ends(scripted)}" if scripted else "initial state"
        for i, step in enumerate(v.trace.steps):
            view = model.describe(step.state)
            mark = f"  <- went wrong here: {culprit.property} broke" if culprit is not None and culprit.step == i else ""
            action = start if step.action is None else step.action
            out.print(Text(printable(_cut_line(f"{i:>4}  {action}{mark}")), style="cyan"))
            lines = (
                [f"{key}: {_inline(value)}" for key, value in view.items()]
                if previous is None and isinstance(view, dict)
                else [f"{path}: {_show(value)}" for path, value in flatten(view)]
                if previous is None
                else [str(c) for c in changes(previous, view)] or ["(no change: a stuttering step)"]
            )
            if i == len(v.trace.steps) - 1 and _said_below(view, v.explanation):
                lines = [line for line in lines if not line.startswith("failure: ")]  # the last line says it
            for line in lines:
                out.print(f"        {printable(_cut_line(line))}", markup=False)
            previous = view
        if v.explanation:
            out.print(Text(printable(f"        {v.property} violated: {v.explanation}"), style="bold red"))
        if culprit is not None:
            out.print(Text(printable(_culprit_text(v, culprit, scripted)), style="bold yellow"))


def _cut_line(line: str) -> str:
    """A line of a counterexample as the text report shows it: at most
    :data:`~quorumcheck.explorer.result.TEXT_SHOWN` characters, and how long it was."""
    from quorumcheck.explorer.result import shown_text

    return shown_text(line)


def _said_below(view: Any, explanation: str | None) -> bool:
    """Whether the last state's ``failure`` (a student's handler that failed) is what the violation's line below
    the trace says anyway (it was printed twice)."""
    failure = view.get("failure") if isinstance(view, dict) else None
    return isinstance(failure, str) and bool(failure) and failure in (explanation or "")


def _culprit_to_show(v: Any) -> Any:
    """The violation's culprit when it says more than the violation: an earlier step, or another property."""
    c = v.culprit
    if c is None or v.trace is None or (c.step >= len(v.trace) and c.property == v.property):
        return None
    return c


def _culprit_text(v: Any, c: Any, scripted: int = 0) -> str:
    """``went wrong at step 10 (Phase2b(a=a1, b=0, v=v1)): votes-safe broke: ...``."""
    first = f"where {_prefix_ends(scripted)}" if scripted else "in the initial state"
    where = first if c.step == 0 else f"at step {c.step} ({v.trace.steps[c.step].action})"
    return f"        went wrong {where}: {c.property} broke" + (f": {c.explanation}" if c.explanation else "")


def _cannot_write(e: OSError, target: Path | None = None, otherwise: str = "choose a folder you can write to") -> str:
    """One line for a file that could not be written: which, why, and the fix that fits the reason (``otherwise``
    when the reason is none of the few that have a fix of their own)."""
    name = e.filename or target
    shown = f" {name}" if name is not None else ""
    why = _why_not(Path(name).parent, e) if name is not None else (e.strerror or str(e))
    fix = {errno.ENAMETOOLONG: "choose a shorter name (--render-name) or folder",
           errno.EMFILE: "raise this machine's limit on open files (ulimit -n)",
           errno.ENFILE: "raise this machine's limit on open files",
           errno.ENOSPC: "free some space, or choose a folder on another disk",
           errno.EDQUOT: "free some space, or choose a folder on another disk"}.get(e.errno or 0, otherwise)
    return f"cannot write{shown}: {why}; {fix}"


def _why_not(folder: Path, e: OSError) -> str:
    """Why ``folder`` could not be written: a path on the way that is a file (the system says only "File
    exists" or "Not a directory"), else the system's reason."""
    for place in (folder, *folder.parents):
        if place.exists():
            return f"{place} is a file, not a folder" if not place.is_dir() else e.strerror or str(e)
    return e.strerror or str(e)


def _writable_first(folder: Path | None, file: Path | None) -> None:
    """Fail at once, not after the search, when the --render folder or the --save-trace file cannot be written."""
    import tempfile

    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as e:  # the user's folder, not the probe's temporary name
            _fail(f"cannot write to {folder}: {_why_not(folder, e)}; choose a folder you can write to")
    if file is not None:
        if str(file) in ("", ".") or file.is_dir():
            _fail(f"--save-trace {str(file)!r} is a folder; give a file name such as trace.json")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=file.parent):
                pass
        except OSError as e:
            _fail(f"cannot write {file}: {_why_not(file.parent, e)}; choose a file in a folder you can write to")


# -- the command group ----------------------------------------------------------------------------
class _Main(click.Group):
    """The command group, with quorumcheck's exit codes for Ctrl-C (130), for its own bugs (4) and for a closed
    output pipe (:data:`EXIT_BROKEN_PIPE`; click exits 1 there, which means a violation here)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            Console().on_broken_pipe()

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        _encodable_output()
        _terminate_as_interrupt()
        try:
            code = super().main(*args, **kwargs)
        except (click.exceptions.Abort, KeyboardInterrupt):
            # An object that Ctrl-C left half made (a Z3 context) complains as it is freed: that is no news.
            sys.unraisablehook = lambda unraisable: None
            _tell(_interruption("quorumcheck: interrupted (Ctrl-C)"))
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as e:
            try:
                if isinstance(e, click.UsageError):  # one line, as every other error: what was wrong, and where to look
                    command = e.ctx.command_path if e.ctx is not None else "quorumcheck"
                    message = " ".join(e.format_message().split()).rstrip(".")
                    click.echo(f"quorumcheck: error: {message} (see: {command} --help)", err=True)
                else:
                    e.show()
            except (OSError, ValueError, AttributeError):  # stderr is full or closed: the exit code still says it
                pass
            sys.exit(e.exit_code)
        except click.exceptions.Exit as e:
            sys.exit(e.exit_code)
        except OSError as e:
            if e.errno in _OUTPUT_FULL:
                _tell(_output_lost(e))
            else:  # the machine refused something quorumcheck needs (descriptors, processes, the temporary folder)
                _tell(_refused_by_the_system(e))
            sys.exit(EXIT_USAGE)
        except Exception:  # noqa: BLE001 - anything else escaping is a bug of ours: say so, never exit 0 or 1
            import traceback

            traceback.print_exc()
            click.echo("quorumcheck: internal error: this is a bug in quorumcheck, not in what it checked; please "
                       "report it with the traceback above", err=True)
            sys.exit(EXIT_INTERNAL)
        sys.exit(code if isinstance(code, int) else 0)


def _json_text(data: Any) -> str:
    """``data`` as indented JSON that strict parsers read: a lone surrogate (which student code can put in a state,
    a message or an exception's text) becomes U+FFFD, as ``json.dumps`` would write it as an escape that names no
    character.

    >>> print(_json_text({"n0": "x" + chr(0xD800)}))
    {
      "n0": "x\\ufffd"
    }
    """
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _SURROGATES.sub("\ufffd", value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return value

    return json.dumps(clean(data), indent=2)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _refused_by_the_system(e: OSError) -> str:
    """One line for an ``OSError`` that escaped a command: what the system refused, and where to look."""
    import tempfile

    where = f" ({e.filename})" if e.filename else ""
    return (f"quorumcheck: error: the system refused an operation quorumcheck needs: {e.strerror or e}{where}; check "
            f"this machine's limits (ulimit -n for open files, ulimit -u for processes) and that the temporary "
            f"folder {tempfile.gettempdir()} can be written")


_TERMINATED: list[int] = []
"""The SIGTERMs and SIGHUPs this process received (a run they end says so, not "Ctrl-C")."""


def _interruption(text: str) -> str:
    """``text`` naming what interrupted the run: Ctrl-C, SIGTERM (``timeout``, a grading script's kill) or SIGHUP
    (the terminal or the SSH session closed)."""
    return text.replace("(Ctrl-C)", f"({signal.Signals(_TERMINATED[0]).name})") if _TERMINATED else text


def _terminate_as_interrupt() -> None:
    """SIGTERM (what ``timeout`` and a grading script's kill send) and SIGHUP (a closed terminal or SSH session) end
    a run as Ctrl-C does: the result so far is printed, exit 130, and the workers and their folders are removed
    (they were left behind)."""
    if threading.current_thread() is not threading.main_thread():
        return

    def terminate(signum: int, frame: Any) -> None:
        _TERMINATED.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:  # Ctrl-C is ignored here (a background job): SIGTERM still ends the run
            raise KeyboardInterrupt

    terminate.interrupts = True  # type: ignore[attr-defined]  # a search takes it as its Ctrl-C (explorer/search.py)
    terminate.note = _TERMINATED.append  # type: ignore[attr-defined]  # and notes it, so the result names it
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_DFL:  # not one the caller ignores (nohup) or handles
            signal.signal(signum, terminate)


_PLAIN = {"·": "-", "→": "->", "←": "<-", "×": "x", "…": "...", "≤": "<=", "≥": ">=", "≠": "!=", "—": "--",
          "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "⁶": "^6", "✓": "ok", "✗": "x"}


def _plain(error: UnicodeError) -> tuple[str, int]:
    """An encoding error handler: what an output encoding cannot write, as plain ASCII (``·`` as ``-``)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start:error.end]
    return "".join(_PLAIN.get(c, "?") for c in text), error.end


codecs.register_error("quorumcheck-plain", _plain)


def _encodable_output() -> None:
    """Let standard output and error write what their encoding cannot (``·``, ``→`` and ``×`` under ``LANG=C`` or
    ``PYTHONIOENCODING=ascii``) in plain ASCII, instead of failing after the verdict was printed with exit 4."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)  # a TextIOWrapper; a test's capture may not be
        if reconfigure is not None and getattr(stream, "errors", None) in ("strict", "surrogateescape"):
            try:
                reconfigure(errors="quorumcheck-plain")
            except (OSError, ValueError):  # a closed stream: nothing is written to it anyway
                pass


_OUTPUT_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
"""A write to stdout failed for want of room (``quorumcheck ... > /dev/full``): exit 2 with one line, no traceback."""


def _output_lost(e: OSError) -> str:
    return f"quorumcheck: error: cannot write the output: {e.strerror}; free some space or write elsewhere"


def _tell(message: str) -> None:
    """One line on stderr, if stderr can take it (it may be full or closed: the exit code says it anyway)."""
    try:
        click.echo(message, err=True)
    except (OSError, ValueError, AttributeError):
        pass


_PROCESS_ENDS_WITH_COMMAND = False  # set by run(): nothing a command leaves behind needs freeing
_KEPT: list[Any] = []


def _keep_until_exit(result: Any) -> None:
    """After a search in a process that ends with the command: keep its result, and spare it the collector.

    The search's states and graph (some 30 M objects for Paxos 0..3 with symmetry)
    would otherwise be read by the collector's next full pass (8.7 s there), and
    freed one by one when the command's frame unwinds (2.5 s), after the answer
    is printed. The process ends right after (:func:`run`), so neither is needed.
    Under tests (``CliRunner``) this does nothing: those processes run on and
    must get their memory back.
    """
    if _PROCESS_ENDS_WITH_COMMAND:
        _KEPT.append(result)
        gc.freeze()


def run() -> None:
    """The ``quorumcheck`` command: :func:`main`, then an exit that skips freeing every object.

    A big run leaves millions of objects behind (Paxos 0..3 with symmetry keeps
    a graph of 710,709 states and 5.9 M edges), and the interpreter's ordinary
    exit frees them one by one: that command took 72.8 s instead of 66.3 s. The
    answer is printed by then, so this exit runs the ``atexit`` handlers (Ray's shutdown,
    multiprocessing's clean-up of its children), flushes the output and ends the
    process. With another thread still running it exits the ordinary way.
    Tests call :func:`main` (through click's ``CliRunner``) and never get here.
    """
    global _PROCESS_ENDS_WITH_COMMAND
    _PROCESS_ENDS_WITH_COMMAND = True
    try:
        main(prog_name="quorumcheck")
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1, as the interpreter would
        print(code, file=sys.stderr)
        status = 1
    if threading.active_count() > 1:
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with the descriptor closed (quorumcheck ... >&-)
            continue
        try:
            stream.flush()
        except BrokenPipeError:  # quorumcheck ... | head: the reader went away before the end
            status = EXIT_BROKEN_PIPE
        except OSError as e:
            if stream is sys.stdout and e.errno in _OUTPUT_FULL:  # the answer was lost: never exit 0 or 1 then
                _tell(_output_lost(e))
                status = EXIT_USAGE
        except ValueError:
            pass
    os._exit(status)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="quorumcheck")
def main() -> None:
    """Model-check Paxos and Raft exhaustively.

    \b
    Examples:
      quorumcheck check paxos --acceptors 3 --values 2 --max-ballot 2
      quorumcheck check paxos --max-ballot 1 --bug accept-below-promise
      quorumcheck check specs/paxos-b2.toml --json
      quorumcheck list

    Exit codes: 0 holds, 1 violated, 3 undetermined, 2 usage or input error,
    4 internal error, 5 a spec's [expect] not met, 130 interrupted (Ctrl-C),
    141 the output's reader went away (| head).
    """


main.add_command(
    _CheckGroup(
        "check",
        help="Explore a built-in model (check MODEL [options]) or a spec (check FILE.toml). "
        "See `quorumcheck check MODEL --help` for a model's parameters.",
    )
)


@main.command("list")
@click.option("--json", "as_json", is_flag=True, help="print as JSON")
def list_models(as_json: bool) -> None:
    """Show the built-in models with their parameters, properties and bugs."""
    catalogue = []
    for name, cls in sorted(BUILTIN_MODELS.items()):
        model = cls()
        catalogue.append({
            "model": name,
            "description": (cls.__doc__ or "").strip().splitlines()[0],
            "parameters": [
                {"name": p.name, "flag": "--quorum" if p.kind == "quorums" else p.flag, "default": p.default, "help": p.help}
                for p in cls.parameters
            ],
            "properties": [
                {
                    "name": p.name,
                    "kind": p.expectation.value,
                    "description": p.description,
                    "checked_by_default": p.default,
                    "formula": None if p.formula is None else str(p.formula),
                    "definitions": [] if p.formula is None else [str(d) for d in definitions(p.formula)],
                }
                for p in model.properties()
            ],
            "bugs": [{"name": b, "description": d} for b, d in cls.bugs.items()],
        })
    if as_json:
        click.echo(json.dumps(catalogue, indent=2))
        return
    out = Console(highlight=False, soft_wrap=True)
    for entry in catalogue:
        out.print(Text(f"{entry['model']}: {entry['description']}", style="bold"))
        out.print("  parameters:")
        for p in entry["parameters"]:
            default = "" if p["default"] is None else f" (default: {p['default']})"
            out.print(f"    {p['flag']:<16} {p['help']}{default}", markup=False)
        out.print("  properties:")
        for p in entry["properties"]:
            note = "" if p["checked_by_default"] else "  (on request: --invariant NAME)"
            out.print(f"    {p['name']:<22} {p['kind']:<10} {p['description']}{note}", markup=False)
            if p["formula"]:
                out.print(f"        {p['formula']}", markup=False)
                for d in p["definitions"]:
                    out.print(f"          where {d}", markup=False)
        out.print("  bugs (--bug NAME):")
        for b in entry["bugs"]:
            out.print(f"    {b['name']:<22} {b['description']}", markup=False)


# -- saved traces: replay and render -----------------------------------------------------------------
def _load_and_replay(path: Path) -> tuple[Any, Model[Any], Any]:
    """Load a trace file, build its model and replay it; a malformed file exits 2 with one line."""
    from quorumcheck.explorer.tracefile import load_trace, replay

    try:
        saved = load_trace(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ModelWarning)
            try:
                rebuild = TRACE_MODELS.get(saved.model)
                if rebuild is not None:  # student code: load the file and classes the trace names
                    model = rebuild(saved.parameters)
                else:
                    model = build_model(saved.model, saved.parameters, saved.bug)
            except QuorumcheckError as e:
                _fail(f"{path}: {e}")
        return saved, model, replay(saved, model)
    except QuorumcheckError as e:
        _fail(str(e))
        raise  # unreachable: _fail exits


_EXPECT_OPTION = click.option(
    "--expect", type=click.Choice(["reproduces", "fixed"]), default="reproduces", show_default=True,
    help="reproduces: exit 0 when the saved violation still happens; fixed (for regression tests): exit 0 when it "
         "no longer does (the schedule stops matching, or the property holds at its end), 1 when it still does")


@main.command("replay")
@click.argument("trace_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@_EXPECT_OPTION
def replay_command(trace_file: Path, expect: str) -> None:
    """Re-execute a saved trace (from check --save-trace) and confirm its violation.

    Rebuilds the model from the file's model, parameters and bug, replays the
    actions one by one, compares every state with the saved one, and checks
    that the property fails at the end.

    Exit codes: 0 the trace replays and the violation reproduces (with --expect
    fixed: it does not); 1 the opposite (the first step that differs is shown);
    2 the file is malformed.
    """
    saved, _, outcome = _load_and_replay(trace_file)
    header = f"{trace_file}: {saved.model} {_settings_text(saved.parameters)}" + (f" bug={saved.bug}" if saved.bug else "")
    where = "on the last step" if saved.kind == "every-step" else "in the last state"
    _print_replay(header, saved, outcome, ("trace", "model", "model"), f" {where}", expect=expect)


def _say(line: str) -> None:
    """One line of a replay's outcome on stdout: the trace file, and the code replayed, may hold a student's names
    (with control characters, newlines), which are written out (:func:`quorumcheck.printable.printable`), and
    an action label or state of megabytes, which is cut."""
    line = printable(line)
    if len(line) > REPLAY_LINE:
        line = f"{line[:REPLAY_LINE]}... ({len(line):,} characters)"
    click.echo(line)


REPLAY_LINE = 2000
"""The longest line a replay's outcome prints (a tampered trace can hold a label of 10 MB)."""


def _print_replay(header: str, saved: Any, outcome: Any, words: tuple[str, str, str], where: str = "",
                  expect: str = "reproduces") -> None:
    """Print a replay's outcome and exit with what ``expect`` makes of it. ``words``: what the file holds
    ("trace", "schedule"), what it is replayed against ("model", "code"), and how the actual side is named."""
    _print_replay_outcome(header, saved, outcome, words, where)
    if expect == "fixed":
        if outcome.ok:
            _say(f"STILL REPRODUCES: --expect fixed, but {saved.property} is still violated at the end of the "
                 f"saved {words[0]}")
            sys.exit(1)
        _say(f"FIXED (as --expect fixed asks): the saved {words[0]} no longer ends in a violation of "
             f"{saved.property}")
        return
    if not outcome.ok:
        sys.exit(1)


def _print_replay_outcome(header: str, saved: Any, outcome: Any, words: tuple[str, str, str], where: str) -> None:
    noun, subject, actual = words
    total = len(saved.steps) - 1
    _say(f"{header} · {saved.property} · {total} steps")
    if outcome.mismatch is not None:
        m = outcome.mismatch
        at = "at the initial state" if m.step == 0 else f"at step {m.step} of {total}, {m.action}"
        _say(f"DOES NOT REPLAY: the {noun} stops matching the {subject} {at}")
        _say(f"  {m.problem}")
        if m.differences:
            _say(f"  saved (expected) -> {actual} (actual):")
            for line in m.differences:
                _say(f"    {line}")
        return
    if not outcome.reproduced:
        _say(f"DOES NOT REPRODUCE: all {total} steps match the {subject}, but {outcome.problem}")
        return
    _say(f"REPLAYS: all {total} steps match the {subject}, and {saved.property} is violated{where}"
         + (f": {outcome.explanation}" if outcome.explanation else ""))


def _settings_text(parameters: dict[str, Any]) -> str:
    return " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in parameters.items())


def _prove_infer(system: Any, goals: tuple[str, ...], timeout: float | None, obligation_timeout: float,
                 as_json: bool, out: Console) -> None:
    """``prove MODEL --infer``: counts per phase, the inferred conjuncts as Python, PROVED or NOT FOUND."""
    from quorumcheck.prover.infer import infer

    try:
        for g in goals:
            system.conjunct(g)
    except QuorumcheckError as e:
        _fail(str(e))
    log = None if as_json else (lambda msg: out.print(f"  {msg}"))
    result = infer(system, goals=list(goals) or None, timeout=timeout or 600.0,
                   obligation_timeout=min(obligation_timeout, 5.0), log=log)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        sys.exit(result.exit_code)
    secs = result.seconds
    strong = result.strengthening
    if result.with_goals:
        proof = (f"strengthening added {len(result.conjuncts)} in {strong['iterations']} steps "
                 f"({strong['dropped']} dropped again)")
    else:
        why = "out of time" if strong.get("reason") == "timeout" else strong.get("reason")
        proof = f"strengthening stopped ({why}) · Houdini kept {len(result.conjuncts)} in {result.houdini_rounds} rounds"
    out.print(f"sampled {result.states:,} states · {result.enumerated:,} candidates enumerated · {result.distinct:,} "
              f"true on the samples · {result.surviving:,} minimal · {proof} ({result.queries:,} Z3 queries in all) · "
              + ", ".join(f"{k} {v:.1f} s" for k, v in secs.items()))
    goals_text = ", ".join(result.goals)
    inferred = result.python()
    out.print(f"inferred invariant{f' (with {goals_text})' if result.with_goals else ''}:{'' if inferred else ' none'}")
    for line in inferred:
        out.print(f"    {line},")
    if result.proved and result.with_goals:
        out.print(f"PROVED for every size: {goals_text} and the inferred conjuncts above form an inductive invariant")
    elif result.proved:
        out.print(f"PROVED for every size: {goals_text} follows from the inferred inductive invariant")
    elif result.stop_reason == "timeout":
        out.print(f"NOT FOUND: the time ran out before an inductive invariant implying {goals_text} was found")
    else:
        out.print(f"NOT FOUND: the inferred invariant is inductive but does not imply {goals_text}; try larger "
                  "templates or samples")
    sys.exit(result.exit_code)


@main.command("prove")
@click.argument("model_name", metavar="MODEL")
@click.option("--invariant", "invariants", multiple=True, metavar="NAME",
              help="a conjunct or a named invariant set to check (repeatable) [default: the model's inductive set]")
@click.option("--timeout", type=Seconds(), default=None,
              help="stop (undetermined) after SECONDS; obligations not reached are reported unknown")
@click.option("--obligation-timeout", type=Seconds(), default=60.0, show_default=True,
              help="seconds Z3 may spend on one (action, conjunct) obligation")
@click.option("--no-reach", is_flag=True,
              help="do not search the explicit instance of a CTI's sizes for its pre-state")
@click.option("--list", "list_only", is_flag=True, help="list the model's actions, conjuncts and invariant sets")
@click.option("--conjuncts", "conjuncts_files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.py",
              help="your own conjuncts: a Python file defining conjuncts = {name: formula} over the model's "
                   "vocabulary; checked by default (docs/proving.md; repeatable)")
@click.option("--render", "render_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="draw each counterexample to induction (DOT, SVG, PNG) into DIR")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
@click.option("--infer", "infer_flag", is_flag=True,
              help="infer an inductive invariant from the signature (enumerate, filter on samples, strengthen the goal "
                   "with Z3, Houdini) instead "
                   "of checking the shipped one; --invariant then names the safety conjuncts to aim at")
def prove_command(model_name: str, invariants: tuple[str, ...], timeout: float | None, obligation_timeout: float,
                  no_reach: bool, list_only: bool, conjuncts_files: tuple[Path, ...], render_dir: Path | None,
                  as_json: bool, infer_flag: bool = False) -> None:
    """Prove a safety property for every size: Z3 checks that an invariant is inductive (docs/proving.md).

    \b
    Examples:
      quorumcheck prove paxos
      quorumcheck prove paxos --invariant first-attempt --render out/
      quorumcheck prove raft --invariant election-safety

    Each conjunct must hold initially and be preserved by each action,
    assuming the whole invariant (mypyvy's per-(action, conjunct) check). A
    failed obligation shows a smallest counterexample to induction (CTI) and
    says whether its pre-state is reachable in the explicit model of its
    sizes. Exit codes: 0 proved for every size, 1 not inductive (or it does not
    imply the safety property), 3 Z3 answered unknown or the time ran out,
    2 usage error.
    """
    from quorumcheck.models import SYMBOLIC_MODELS
    from quorumcheck.prover import prove

    if model_name not in SYMBOLIC_MODELS:
        _fail(f"model {model_name!r} has no symbolic description to prove; choose one of: "
              f"{', '.join(sorted(SYMBOLIC_MODELS))}")
    _writable_first(render_dir, None)
    system = SYMBOLIC_MODELS[model_name]()
    if conjuncts_files:
        from quorumcheck.prover.conjuncts_file import load_conjuncts

        try:
            for conjuncts_file in conjuncts_files:  # each file's conjuncts form an invariant set named by the file
                system = load_conjuncts(system, conjuncts_file)
        except QuorumcheckError as e:
            _fail(str(e))
        if not invariants:
            invariants = tuple(dict.fromkeys(f.stem for f in conjuncts_files))
    out = Console(highlight=False, soft_wrap=True)
    if list_only:
        if as_json:
            _fail("--list prints the model's vocabulary as text; drop --json (or drop --list for a JSON result)")
        out.print(f"{system.name}: actions " + ", ".join(a.name for a in system.actions))
        for name, members in system.invariant_sets.items():
            out.print(f"invariant set {name}: {', '.join(members)}")
        for c in system.conjuncts:
            out.print(f"conjunct {c.name}: {c.description}\n    {c.formula}")
        return
    if infer_flag:
        _prove_infer(system, invariants, timeout, obligation_timeout, as_json, out)
        return
    try:
        system.resolve(list(invariants))
    except QuorumcheckError as e:
        _fail(str(e))
    result = prove(system, list(invariants), timeout=timeout, obligation_timeout=obligation_timeout,
                   reach=not no_reach)
    written: list[str] = []
    if render_dir is not None:
        from quorumcheck.render.cti import cti_drawing
        from quorumcheck.render.output import write_drawing

        for i, cti in enumerate(result.ctis(), start=1):
            stem = f"cti-{i}-{cti.conjunct}" + (f"-{cti.action}" if cti.action else "")
            done = write_drawing(cti_drawing(cti, system.signature), render_dir / stem)
            written += [str(p) for p in done.paths]
    if as_json:
        doc = result.to_json()
        doc["rendered"] = written
        click.echo(json.dumps(doc, indent=2))
        sys.exit(result.exit_code)
    verdict = result.verdict
    headline = {
        Verdict.HOLDS: f"PROVED for every size: {' and '.join(system.safety)} "
                       f"{'follows' if len(system.safety) == 1 else 'follow'} from an inductive invariant",
        Verdict.VIOLATED: "NOT INDUCTIVE: " + "; ".join(o.line().split(None, 1)[1] for o in result.failures()),
        Verdict.UNDETERMINED: "UNDETERMINED: Z3 answered unknown or the time ran out (see below)",
    }[verdict]
    unchecked = [o for o in result.obligations
                 if o.status == "unknown" and (o.reason or "").startswith("not checked")]
    if result.stop_reason == "interrupted" and verdict is not Verdict.VIOLATED:
        headline = _interruption("INTERRUPTED (Ctrl-C): the result so far")
    out.print(headline)
    conjuncts = f"{len(result.conjuncts)} conjunct{'' if len(result.conjuncts) == 1 else 's'}"
    out.print(f"{conjuncts} x {len(system.actions)} actions · {len(result.obligations)} obligations · "
              f"{result.seconds:.2f} s")
    for o in result.obligations:
        if o.status != "proved" and o not in unchecked:
            out.print(o.line())
    if unchecked:  # one line for the many the time limit or Ctrl-C left, not one each
        proved = sum(o.status == "proved" for o in result.obligations)
        out.print(f"{len(unchecked)} obligation{'s' if len(unchecked) != 1 else ''} not checked "
                  f"({(unchecked[0].reason or '').removeprefix('not checked: ')}); {proved} proved before then")
    from quorumcheck.prover.cti import show_structure

    for o in result.obligations:
        c = o.cti
        if c is None:
            continue
        out.print("")
        out.print(f"counterexample to induction for {o.conjunct}" + (f", action {o.action}" if o.action else "")
                  + ": " + c.verdict_line())
        if c.problems:
            out.print("  warning: this CTI fails quorumcheck's independent check (a bug of ours; please report it): "
                      + "; ".join(c.problems))
        out.print("  elements: " + "; ".join(f"{k} {{{', '.join(map(str, v))}}}" for k, v in c.pre.universe.items()))
        for name, rows in c.statics.items():
            out.print(f"  {name}: " + ", ".join("(" + ", ".join(map(str, r)) + ")" for r in sorted(rows, key=repr)))
        out.print("  pre-state (satisfies the invariant):")
        for line in show_structure(c.pre, signature=system.signature):
            out.print("   " + line)
        if c.post is not None:
            out.print(f"  {o.action}(" + ", ".join(f"{k}={v}" for k, v in c.params.items()) + ")")
            out.print(f"  post-state (violates {o.conjunct}; * = changed):")
            for line in show_structure(c.post, signature=system.signature, changed_from=c.pre):
                out.print("   " + line)
    for path in written:
        out.print(f"wrote {path}")
    sys.exit(result.exit_code)


@main.command("render")
@click.argument("trace_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "dot", "html"]),
              help="svg, png or dot: the sequence chart; html: the report [default: from --out's suffix, else svg]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), metavar="PATH",
              help="the file to write [default: FILE with the format's suffix]")
def render_command(trace_file: Path, fmt: str | None, out: Path | None) -> None:
    """Draw a saved trace (from check --save-trace): its sequence chart, or the HTML report.

    The trace is replayed first (as `quorumcheck replay` does); a trace that no
    longer matches the model is not drawn (exit 1). Without Graphviz, svg and
    png fall back to writing the DOT file (exit 2, with how to install it).
    """
    from quorumcheck.explorer.culprit import with_culprits
    from quorumcheck.explorer.tracefile import replayed_violation
    from quorumcheck.render import (
        INSTALL_HINT,
        GraphvizError,
        GraphvizMissing,
        draw,
        find_dot,
        html_report,
        sequence_chart,
    )

    suffix = out.suffix.lstrip(".").lower() if out is not None else ""
    if out is not None and suffix not in ("svg", "png", "dot", "html"):
        given = f".{suffix}" if suffix else "a file without a suffix"
        _fail(f"--out {out}: quorumcheck writes .svg, .png, .dot or .html, not {given}; name the file accordingly")
    if fmt is None:
        fmt = suffix or "svg"
    elif out is not None and suffix != fmt:
        _fail(f"--out {out} ends in .{suffix} but --format is {fmt}; make them agree")
    target = out if out is not None else trace_file.with_suffix(f".{fmt}")
    if target.resolve() == trace_file.resolve():  # trace.svg holding a trace: drawing it would destroy it
        _fail(f"{target} is the trace file itself; give the drawing another name with --out, e.g. --out "
              f"{target.with_name(target.stem + '-chart' + target.suffix)}")
    saved, model, outcome = _load_and_replay(trace_file)
    if not outcome.ok:
        what = f"no longer matches the model at {outcome.mismatch}" if outcome.mismatch else outcome.problem
        click.echo(printable(f"quorumcheck: {trace_file} is not drawn: {what}; see `quorumcheck replay {trace_file}`"),
                   err=True)
        sys.exit(1)
    violation = with_culprits(model, [replayed_violation(saved, outcome)])[0]  # where it went wrong, as a fresh run
    chart = sequence_chart(model, outcome.trace, violation=violation)
    try:
        if fmt == "html":
            have_dot = find_dot() is not None
            page = html_report(
                model, violation, chart_svg=draw(chart, "svg").decode("utf-8") if have_dot else None,
                missing=None if have_dot else f"Graphviz's dot is not installed; {INSTALL_HINT}",
                graph_note="a saved trace has no state graph; `quorumcheck check ... --render DIR` draws one",
            )
            target.write_text(page, encoding="utf-8")
        else:
            try:
                target.write_bytes(draw(chart, fmt))
            except GraphvizMissing:
                fallback = target.with_suffix(".dot")
                fallback.write_bytes(draw(chart, "dot"))
                _fail(f"Graphviz's dot was not found, so wrote {fallback} instead of {target}; {INSTALL_HINT}")
    except GraphvizError as e:
        _fail(str(e))
    except OSError as e:
        _fail(_cannot_write(e, target, "choose a file in a folder you can write to"))
    click.echo(f"wrote {target}")


# -- test: student code written with the actor API -------------------------------------------------------
_PROTOCOL_DEFAULTS = {
    "paxos": {"requests": 2, "max_timeouts": 0},
    "raft": {"requests": 1, "max_timeouts": 2},
    "none": {"requests": 0, "max_timeouts": 2},
}


@main.command("test")
@click.argument("path", metavar="PATH.py", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--protocol", type=click.Choice(["paxos", "raft", "none"]),
              help="which observation contract and standard properties apply (docs/student-testing.md)")
@click.option("--nodes", type=click.IntRange(min=1, max=MAX_ELEMENTS), default=3, show_default=True,
              help="how many nodes")
@click.option("--node-class", "node_classes", multiple=True, metavar="NAME", callback=_class_names,
              help="the node class to test, when the file defines several; repeat to give one class per node")
@click.option("--mode", type=click.Choice(["auto", "exhaustive", "random", "epochs"]), default="auto",
              show_default=True,
              help="exhaustive: every interleaving, breadth-first; random: Hypothesis-drawn schedules, shrunk on "
                   "failure; epochs: breadth-first over epochs (a timer, request or fault, then every message "
                   "within a group of nodes; first keeping one epoch-end state per protocol state, which goes deepest), "
                   "for deep bugs; auto: exhaustive within 200,000 states (or "
                   "--max-states) and 30% of --timeout, then epochs, then random, if that did not finish")
@click.option("--seed", type=int, default=0, show_default=True, help="random mode: the seed (same seed, same run)")
@click.option("--runs", type=click.IntRange(min=1), default=None,
              help="random schedules to try  [default: 1000 in --mode random; in auto mode, as many as --timeout "
                   "leaves]")
@click.option("--steps", type=click.IntRange(min=1), default=60, show_default=True,
              help="random mode: the most steps in one schedule")
@click.option("--strategy", type=click.Choice(["swarm", "coverage", "epochs"]), default="swarm", show_default=True,
              help="random mode: swarm: every schedule a walk from the initial state; coverage: most schedules "
                   "search breadth-first from where an earlier one reached a new protocol state; epochs: "
                   "walks of random epochs (a trigger, then every message among a group of nodes); auto mode "
                   "gives epoch walks half its random part when its epoch search stayed shallow "
                   "(docs/student-testing.md)")
@click.option("--network", type=click.Choice(["unordered", "unordered-duplicating", "ordered"]), default="unordered",
              show_default=True, help="bag, set (messages may be delivered again), or FIFO per channel")
@click.option("--requests", type=click.IntRange(min=0),
              help="client requests in a run, carrying v1, v2, ... [default: paxos 2, raft 1]")
@click.option("--max-timeouts", type=click.IntRange(min=0),
              help="timer firings in a run (elections, retries) [default: paxos 0, raft 2]")
@click.option("--max-drops", type=click.IntRange(min=0), default=0, show_default=True, help="messages the network may lose")
@click.option("--max-crashes", type=click.IntRange(min=0), default=0, show_default=True,
              help="crash-restarts (durable attributes survive)")
@click.option("--max-partitions", type=click.IntRange(min=0), default=0, show_default=True,
              help="times the network may split in two (until it heals)")
@click.option("--max-duplicates", type=click.IntRange(min=0), default=0, show_default=True,
              help="extra copies of messages in flight (not with --network unordered-duplicating)")
@click.option("--max-term", type=click.IntRange(min=1), default=2, show_default=True,
              help="raft: states with a higher term are checked but not explored further")
@click.option("--prefix", "prefix_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="a scripted start: action labels, one per line (or a saved trace); the search starts "
                   "where they end")
@click.option("--max-states", type=click.IntRange(min=1),
              help="exhaustive: stop (undetermined) beyond N states (stored, or met inside the movers' transactions)")
@click.option("--max-depth", type=click.IntRange(min=1),
              help="exhaustive: stop (undetermined) beyond depth N (TLC's count: the initial state is depth 1, so "
                   "every schedule of up to N-1 steps is checked)")
@click.option("--timeout", type=Seconds(), default=120.0, show_default=True,
              help="stop after SECONDS (exhaustive: undetermined; random: no new schedules)")
@click.option("--invariant", "invariants", multiple=True, metavar="NAME", help="check only this property (repeatable)")
@click.option("--coverage", is_flag=True,
              help="random mode: count the configuration's states exhaustively first, and report the fraction visited")
@click.option("--handler-timeout", type=Seconds(*HANDLER_SECONDS), default=1.0, show_default=True,
              help="CPU seconds one handler call may use (one that blocks is stopped at twice that plus 1 s "
                   "of wall clock)")
@click.option("--memory-mb", type=click.IntRange(min=MIN_MEMORY_MB), default=2048, show_default=True,
              help="memory (address space) each sandboxed worker running the student's code may use")
@click.option("--max-memory", "max_memory", type=click.IntRange(min=64), default=GRADER_MEMORY_MB, show_default=True,
              metavar="MIB",
              help="memory this process may grow to while it searches (the states the student's code makes are "
                   "kept here): past it the run ends undetermined (exit 3)")
@click.option("--no-isolate", is_flag=True,
              help="import the student's code into this process instead of sandboxed workers: for debugging "
                   "your own code, never for grading (no protection; keeps the state graph)")
@click.option("--movers", is_flag=True,
              help="exhaustive search: reduction by right movers, the default: a node's silent steps (it sends "
                   "nothing, nothing observed changes) wait for its next step, so fewer states are stored; the same "
                   "verdict and shortest counterexample (docs/partial-order.md)")
@click.option("--por", is_flag=True,
              help="exhaustive search: sleep sets instead of right movers: every state, fewer steps computed "
                   "(docs/partial-order.md: not faster here)")
@click.option("--no-reduction", is_flag=True,
              help="exhaustive search: every interleaving, no reduction: the configuration's own state counts, to "
                   "compare")
@click.option("--store", type=click.Choice(list(STORES)), default="objects", show_default=True,
              help="exhaustive search: where seen states are kept: 'objects' (exact) or 'fingerprints' (64-bit "
                   "fingerprints, a few tens of bytes per state instead of about a kilobyte; the collision chance "
                   "is reported): for runs whose states do not fit in memory")
@click.option("--render", "render_dir", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="draw the counterexample (sequence chart, HTML report) into DIR")
@click.option("--save-trace", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="save the counterexample for `quorumcheck test --replay FILE`")
@click.option("--replay", "replay_file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="re-run a saved counterexample against PATH.py (and --node-class) if given, else against the "
                   "file the trace names")
@_EXPECT_OPTION
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def test_command(path: Path | None, protocol: str | None, nodes: int, node_classes: tuple[str, ...], mode: str,
                 seed: int, runs: int | None, steps: int, strategy: str, network: str, requests: int | None,
                 max_timeouts: int | None,
                 max_drops: int, max_crashes: int, max_partitions: int, max_duplicates: int, max_term: int,
                 prefix_file: Path | None,
                 max_states: int | None, max_depth: int | None, timeout: float, invariants: tuple[str, ...], coverage: bool,
                 handler_timeout: float, memory_mb: int, max_memory: int, no_isolate: bool, movers: bool, por: bool,
                 no_reduction: bool, store: str,
                 render_dir: Path | None, save_trace: Path | None, replay_file: Path | None, expect: str, as_json: bool) -> None:
    """Test a student's Paxos or Raft written with the actor API (docs/student-testing.md).

    \b
    Examples:
      quorumcheck test examples/paxos.py --protocol paxos --nodes 3
      quorumcheck test my_raft.py --protocol raft --mode random --seed 7 --render out/
      quorumcheck test --replay out/trace.json

    Exit codes: 0 no violation (exhaustive: every state explored; --mode
    random: none of the --runs schedules failed), 1 a violation or a finding
    about the code (with its schedule), 3 undetermined (a limit cut an
    exhaustive run, --timeout cut random mode short, or auto mode had to
    sample), 2 a usage error or a file that cannot be loaded (one
    line), 4 an internal error, 130 Ctrl-C, 141 the output's reader went away. With --replay FILE: 0 the saved
    schedule still ends in its violation (with --expect fixed: it no longer
    does), 1 the opposite, 2 the file cannot be used, 3 --timeout ran out first.
    """
    from quorumcheck.models.actor_model import ActorModel
    from quorumcheck.explorer.tracefile import read_labels
    from quorumcheck.studenttest import check_student

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT

    def flag(name: str) -> str:
        return next(p.opts[0] for p in ctx.command.params if p.name == name)

    if path is not None and not path.exists() and ":" in path.name:  # PATH.py:Class[,Class], as check_student()
        file, _, names = str(path).rpartition(":")
        if Path(file).is_file() and names:
            if node_classes:
                _fail(f"{path} names its class, and --node-class names one too; give the class one way: "
                      f"{file} --node-class {names.split(',')[0]}, or {path}")
            path, node_classes = Path(file), tuple(n for n in names.split(",") if n)
    if replay_file is not None:
        # The trace sets the configuration, and a replay prints one verdict: anything else is refused, not dropped.
        ignored = [flag(name) for name in ctx.params
                   if name not in ("replay_file", "expect", "path", "node_classes", "timeout", "handler_timeout")
                   and given(name)]
        if ignored:
            _fail(f"{ignored[0]} does not apply to --replay FILE: the trace sets the configuration and the replay "
                  "prints its verdict; drop it (a replay takes the student's file, --node-class, --expect, "
                  "--timeout and --handler-timeout)")
        _replay_student_trace(replay_file, expect, path, node_classes,
                              timeout=timeout if given("timeout") else None,
                              handler_timeout=handler_timeout if given("handler_timeout") else None)
        return
    if expect != "reproduces":
        _fail("--expect fixed applies to --replay FILE only: quorumcheck test --replay FILE --expect fixed")
    if path is None:
        _fail("give the student's file: quorumcheck test PATH.py --protocol paxos|raft (or --replay FILE)")
    _writable_first(render_dir, save_trace)
    if protocol is None:
        _fail("choose the protocol: --protocol paxos, --protocol raft (or --protocol none: containment only)")
    defaults = _PROTOCOL_DEFAULTS[protocol]
    if not path.is_file():
        from quorumcheck.student.worker.loading import not_a_file

        _fail(f"{path}: {not_a_file(path)}; give the student's Python file")
    if len(node_classes) > 1 and given("nodes") and nodes != len(node_classes):
        _fail(f"--nodes {nodes} but {len(node_classes)} node classes were given; give one class, or one per node")
    # Options that the chosen mode or protocol would ignore are refused, not dropped without a word.
    if mode == "random":
        ignored = [flag for flag, name in (("--por", "por"), ("--movers", "movers"), ("--no-reduction", "no_reduction"),
                                           ("--max-states", "max_states"), ("--max-depth", "max_depth"),
                                           ("--store", "store")) if given(name)]
        if ignored:
            _fail(f"{ignored[0]} applies to the exhaustive search (--mode exhaustive or auto), not to random "
                  "schedules; drop it or choose another mode")
    if mode in ("exhaustive", "epochs"):
        ignored = [flag(name) for name in ("strategy", "runs", "seed", "steps") if given(name)]
        if ignored:
            _fail(f"{ignored[0]} applies to random schedules (--mode random or auto), not to --mode {mode}; drop it "
                  "or choose another mode")
    if mode == "epochs" and given("store"):
        _fail("--store applies to the exhaustive search (--mode exhaustive or auto); the epoch search keeps its "
              "epoch-end states as objects: drop --store or choose another mode")
    chosen = [f for f, on in (("--movers", movers), ("--por", por), ("--no-reduction", no_reduction)) if on]
    if len(chosen) > 1:
        _fail(f"{chosen[0]} and {chosen[1]} exclude each other: right movers (the default), sleep sets (--por) or "
              "no reduction (--no-reduction); choose one")
    if mode == "epochs" and chosen:
        _fail(f"{chosen[0]} applies to the exhaustive search (--mode exhaustive or auto); the epoch search does not "
              "reduce: drop it or choose another mode")
    if coverage and mode not in ("random", "auto"):
        _fail("--coverage measures what random schedules visit; use it with --mode random (or auto)")
    if protocol != "raft" and given("max_term"):
        _fail(f"--max-term bounds Raft's terms; with --protocol {protocol} it has no effect: drop it")
    # The student's file is never imported here: the handlers run in sandboxed worker processes
    # (docs/grading.md); with --no-isolate, in this process.
    target = f"{path.resolve()}:{','.join(node_classes)}" if node_classes else str(path.resolve())
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    display = _ProgressDisplay(err) if not as_json and err.is_terminal else None
    try:
        found = check_student(
            # Without --nodes, a file's NODES list gives the count (else 3).
            target, nodes if len(node_classes) <= 1 and given("nodes") else None, protocol=protocol, mode=mode,
            seed=seed,
            runs=runs,  # None: auto mode until --timeout, --mode random RANDOM_RUNS
            steps=steps, strategy=strategy, max_depth=max_depth,
            max_states=max_states, timeout=timeout, properties=list(invariants) or None,
            measure_coverage=coverage, isolate=not no_isolate, memory_mb=memory_mb, max_memory_mb=max_memory,
            network=network,
            requests=defaults["requests"] if requests is None else requests, requests_if_able=requests is None,
            max_timeouts=defaults["max_timeouts"] if max_timeouts is None else max_timeouts,
            max_drops=max_drops, max_crashes=max_crashes, max_partitions=max_partitions,
            max_duplicates=max_duplicates, max_term=max_term,
            prefix=read_labels(prefix_file) if prefix_file is not None else None,
            handler_timeout=handler_timeout, keep_graph=no_isolate, por=por,
            movers=False if no_reduction else None, store=store,
            on_progress=display.update_part if display else None,
        )
        _keep_until_exit(found)
        link = symlink_notice(path)  # the target is resolved above, so the model cannot see the link itself
        if link is not None:
            found.notices.insert(0, link)
    except QuorumcheckError as e:
        _fail(str(e))
    finally:
        if display:
            display.close()
    model: ActorModel = found.model
    result = found.result
    for notice in dict.fromkeys([*found.notices, *result.notices]):  # the run's, then the search's (movers off)
        click.echo(f"quorumcheck: notice: {printable(notice)}", err=True)
    if found.student_output_bytes and not as_json:
        lines = found.student_output.splitlines()
        click.echo(f"the student's code printed {found.student_output_bytes:,} bytes (kept apart from this report; "
                   f"the first {min(len(lines), 10)} line{'' if min(len(lines), 10) == 1 else 's'}):", err=True)
        for line in lines[:10]:
            click.echo(f"  | {printable(line[:200])}", err=True)
    writes = render_dir is not None or save_trace is not None
    if as_json:
        if writes:  # first: a file that cannot be written ends the run (exit 2) before any JSON is printed
            _write_student_counterexample(found, render_dir, save_trace, to_stderr=True)
        click.echo(_json_text(found.to_json()))
    else:
        out = Console(highlight=False, soft_wrap=True)
        _print_result(out, model, result, None, sampled=found.mode in ("random", "epochs"),
                      sampled_by="epoch search" if found.mode == "epochs" else "random testing")
        out.print(printable(_student_summary(found, coverage)), markup=False)
        if writes:
            _write_student_counterexample(found, render_dir, save_trace, to_stderr=False)
    sys.exit(result.exit_code)


def _student_summary(found: Any, coverage_wanted: bool = False) -> str:
    result = found.result
    if found.mode == "exhaustive":
        text = "mode: exhaustive (every interleaving, breadth-first"
        if result.by_movers:
            text += ", reduced by right movers"
        text += "; the counterexample is a shortest schedule)" if result.violation else ")"
        if result.verdict is Verdict.UNDETERMINED:
            # Every state of the levels before the cut one was checked: so was every schedule that short.
            text += f"; no violation in any schedule of up to {_steps(max(result.depth - 1, 0))}. "
            text += _failed_call(found) or "Try --mode random, or smaller --requests/--max-timeouts"
        return text
    parts = []
    prefix = found.exhaustive_prefix
    if prefix is not None:
        why = "the state limit" if prefix.stop_reason == "max_states" else "its share of the time limit"
        passed = f" and {prefix.partial_order.met:,} more inside transactions" if prefix.by_movers else ""
        parts.append(f"the exhaustive search reached {why} at {prefix.distinct_states:,} states{passed} "
                     f"({prefix.seconds:.2f} s): every schedule of up to {_steps(found.checked_steps)} is checked")
    from quorumcheck.studenttest import ONE_WAY_EPOCHS

    # (name, what its states are, what it tries) per search; a merged one keeps one state per protocol state.
    labels = {"merged_epochs": ("epochs merged by protocol state", "kept", "kept schedule"),
              "merged_one_way_epochs": (f"merged with up to {ONE_WAY_EPOCHS} one-way epochs", "kept", "kept schedule"),
              "epochs": ("epochs", "epoch-end states", "epoch schedule"),
              "one_way_epochs": (f"with up to {ONE_WAY_EPOCHS} one-way epochs", "epoch-end states", "such schedule")}
    for key, epochs, checked in found.epoch_searches:
        name, counted, schedule = labels[key]
        text = f"{name} · {epochs.distinct_states:,} {counted} ({epochs.seconds:.2f} s)"
        if epochs.violation is not None:
            text += f", the violation found in epoch {len(epochs.violation.trace)}"
        elif epochs.complete:
            text += f", every {schedule} tried ({_epochs(checked)} at most)"
        else:
            limit = {"max_states": "the state limit", "timeout": "the time limit",
                     "interrupted": "Ctrl-C"}.get(epochs.stop_reason or "", "the limit")
            text += f", every {schedule} of up to {_epochs(checked)} tried before {limit}"
        parts.append(text)
    if found.mode == "random" and prefix is not None and not found.epoch_searches and not found.schedules:
        parts.append("the time limit left nothing for the epoch search and random schedules (raise --timeout)")
    elif found.mode == "random":
        walks = f", {found.walks:,} of them walks over epochs" if found.walks else ""
        text = f"random · {found.schedules:,} schedule{'' if found.schedules == 1 else 's'}{walks} (seed {found.seed})"
        if found.coverage is not None:
            text += (f" · coverage {found.coverage:.1%}: {result.distinct_states:,} of the configuration's "
                     f"{found.exhaustive_states:,} states visited")
        elif coverage_wanted:
            from quorumcheck.studenttest import COVERAGE_STATES

            text += (f" · coverage unknown: counting the configuration's states stopped (over "
                     f"{COVERAGE_STATES:,} states, or out of time or memory)")
        parts.append(text)
    text = ("mode: auto · " if prefix is not None else "mode: ") + "; then ".join(parts)
    if prefix is not None:  # the statistics above are the last part's: say what the whole run took
        text += f" · {found.seconds:.1f} s in all"
    if result.violation is not None and result.violation.trace is not None:
        text += f" · failing schedule shrunk to {_steps(len(result.violation.trace))}"
    elif result.verdict is Verdict.HOLDS:
        text += " · no schedule failed (" + ("random testing" if found.mode == "random" else "an epoch search") + \
                " is not a proof; --mode exhaustive is, on small bounds)"
    elif result.verdict is Verdict.UNDETERMINED and (failed := _failed_call(found)):
        text += ". " + failed
    return text


def _failed_call(found: Any) -> str:
    """A handler call that failed in a state the search was expanding when its limit cut it (so no schedule
    reached the failure's state): the finding it would have been, and how to get its schedule; else ``""``."""
    failed = getattr(found.model, "first_failed_call", None)
    if failed is None or found.result.violation is not None:
        return ""
    return (f"But a handler call failed before the limit cut the search ({failed[0]}: {failed[1]}): raise "
            "--timeout for its schedule, or try --mode random")


def _write_student_counterexample(found: Any, render_dir: Path | None, save_trace: Path | None,
                                  *, to_stderr: bool) -> None:
    from quorumcheck.explorer.tracefile import save_trace as write_trace
    from quorumcheck.explorer.tracefile import saved_trace
    from quorumcheck.render import INSTALL_HINT, GraphvizError, render_counterexample

    def say(line: str) -> None:
        click.echo(line, err=to_stderr)

    model, result = found.model, found.result
    traced = [v for v in result.violations if v.trace is not None]
    if not traced:
        say("nothing to render or save: no violation with a counterexample schedule")
        return
    violation = traced[0]
    try:
        if save_trace is not None:
            save_trace.parent.mkdir(parents=True, exist_ok=True)
            write_trace(saved_trace(model, violation), save_trace)
            say(f"saved the schedule to {save_trace} (replay it: quorumcheck test --replay {save_trace})")
        if render_dir is not None:
            written = render_counterexample(model, violation, render_dir, name=f"{found.model.protocol}-"
                                            f"{violation.property}", result=result, formats=("dot", "svg", "html"))
            chart = next((p for p in written.paths if p.name.endswith("-chart.svg")), None)
            say(f"rendered {violation.property}: " + ", ".join(str(p) for p in written.paths))
            if chart is not None:
                say(f"sequence chart: {chart}")
            if written.graphviz_missing:
                click.echo(f"quorumcheck: Graphviz's dot was not found, so only DOT files and the HTML report were "
                           f"written; {INSTALL_HINT}", err=True)
    except GraphvizError as e:  # the verdict is the answer, with or without its drawing
        click.echo(f"quorumcheck: notice: could not draw the counterexample ({e}); the verdict stands", err=True)
    except OSError as e:
        _fail(_cannot_write(e))


def _replay_student_trace(trace_file: Path, expect: str = "reproduces", against: Path | None = None,
                          node_classes: tuple[str, ...] = (), *, timeout: float | None = None,
                          handler_timeout: float | None = None) -> None:
    """``test [PATH.py] --replay FILE``: rebuild the student model from the trace file and replay it, against
    ``PATH.py`` (and ``--node-class``) when given, else against the file the trace names. ``timeout`` bounds the
    whole replay (a trace handed in can hold many thousands of steps), ``handler_timeout`` replaces the trace's."""
    import dataclasses

    from quorumcheck.explorer.search import TimeLimitReached
    from quorumcheck.explorer.tracefile import load_trace, replay
    from quorumcheck.models.actor_model import ActorModel
    from quorumcheck.student.trusted.workers import loads_by

    ends = None if timeout is None else time.monotonic() + timeout
    try:
        saved = load_trace(trace_file)
        if saved.model != ActorModel.name:
            _fail(f"{trace_file} is a trace of the built-in model {saved.model!r}; replay it with "
                  f"quorumcheck replay {trace_file}")
        if handler_timeout is not None:
            saved = dataclasses.replace(saved, parameters={**saved.parameters, "handler_timeout": handler_timeout})
        if against is not None or node_classes:
            settings = dict(saved.parameters)
            if against is not None:
                if not against.is_file():
                    from quorumcheck.student.worker.loading import not_a_file

                    _fail(f"{against}: {not_a_file(against)}")
                settings["file"] = str(against.resolve())
                settings.pop("module", None)
            if node_classes:
                nodes = saved.parameters.get("nodes")
                if len(node_classes) > 1 and len(node_classes) != nodes:
                    _fail(f"the trace has {nodes} nodes but {len(node_classes)} node classes were given; give one "
                          "class, or one per node")
                settings["classes"] = list(node_classes)
            saved = dataclasses.replace(saved, parameters=settings)
        with loads_by(ends):  # the workers' calls stop there too (the host's hard end)
            model = ActorModel.from_settings(saved.parameters)
        outcome = replay(saved, model)
    except QuorumcheckError as e:
        _fail(str(e))
    except TimeLimitReached:
        _say(f"{trace_file}: UNDETERMINED: the time limit (--timeout {timeout:g}) ran out before the replay ended, "
             "so it neither reproduces nor refutes the violation; raise --timeout")
        sys.exit(3)
    where = _as_given(saved.parameters["file"]) if saved.parameters.get("file") else saved.parameters.get("module")
    classes = ",".join(saved.parameters.get("classes", []))
    header = f"{trace_file}: {where} {classes} · {saved.parameters.get('protocol')}"
    _print_replay(header, saved, outcome, ("schedule", "code", "now"), expect=expect)
