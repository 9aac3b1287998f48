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
        for sub in ("models", "explorer", "invariants", "render", "prover", "student", "student.trusted",
                    "student.worker")
        for m in pkgutil.iter_modules(importlib.import_module(f"quorumcheck.{sub}").__path__)
        if not m.name.startswith("__")
    }
    | {"quorumcheck.models", "quorumcheck.explorer", "quorumcheck.invariants", "quorumcheck.render", "quorumcheck.prover",
       "quorumcheck.student", "quorumcheck.student.trusted", "quorumcheck.student.worker"}
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


def test_readme_python_examples_run_and_print_what_they_say(capsys: pytest.CaptureFixture[str]) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) >= 2
    for code in blocks:
        namespace: dict[str, object] = {"__name__": "readme"}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
        printed = capsys.readouterr().out.strip()
        claims = re.findall(r"#\s*(?:prints: )?(Verdict\.\S+ .*)$", code, re.M)
        assert claims, "each README example says what it prints"
        assert doctest_match(claims[0].strip(), printed), (claims[0], printed)
        if "TwoPhaseCommitWithFormulas" in namespace:
            _readme_errors_are_the_real_ones(readme, namespace)


def doctest_match(want: str, got: str) -> bool:
    return doctest.OutputChecker().check_output(want + "\n", got + "\n", doctest.ELLIPSIS)


def _readme_errors_are_the_real_ones(readme: str, namespace: dict[str, object]) -> None:
    import re

    model = namespace["TwoPhaseCommitWithFormulas"]()  # type: ignore[operator]
    namespace["structure"] = model.properties()[0].judge.interpretation
    for expression, message in re.findall(r"^>>> (.*)\n(quorumcheck\.errors\.\w+: .*)$", readme, re.M):
        with pytest.raises(Exception) as info:
            eval(expression, namespace)  # noqa: S307 - the README's own example
        assert f"{type(info.value).__module__}.{type(info.value).__name__}: {info.value}" == message


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands[0].startswith("bash scripts/setup.sh && .venv/bin/quorumcheck check paxos")
    assert commands[1] == "bash scripts/setup.sh && .venv/bin/python -m pytest"
    assert commands[1] in (root / ".ci" / "run").read_text()
