"""Run every docstring example in the package (numpydoc ``Examples`` sections)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import quorumcheck

MODULES = sorted(
    {"quorumcheck"}
    | {m.name for m in pkgutil.walk_packages(quorumcheck.__path__, "quorumcheck.")}
    | {
        f"quorumcheck.{sub}.{m.name}" if m.name else f"quorumcheck.{sub}"
        for sub in ("models", "explorer", "invariants", "render")
        for m in pkgutil.iter_modules(importlib.import_module(f"quorumcheck.{sub}").__path__)
    }
    | {"quorumcheck.models", "quorumcheck.explorer", "quorumcheck.invariants", "quorumcheck.render"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_public_functions_have_examples() -> None:
    from quorumcheck.explorer import explore, shortest_trace
    from quorumcheck.models import always, sometimes

    for f in (explore, shortest_trace, always, sometimes):
        assert ">>>" in (f.__doc__ or ""), f"{f.__qualname__} has no example"


def test_readme_python_example_runs_and_prints_what_it_says(capsys: pytest.CaptureFixture[str]) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {"__name__": "readme"})
    claimed = re.search(r"print\(result\.verdict, result\.distinct_states\)\s+# (.*)", code.group(1))
    assert claimed is not None
    assert capsys.readouterr().out.strip() == claimed.group(1).strip()


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands[0].startswith("bash scripts/setup.sh && .venv/bin/quorumcheck check paxos")
    assert commands[1] == "bash scripts/setup.sh && .venv/bin/python -m pytest"
    assert commands[1] in (root / ".ci" / "run").read_text()
