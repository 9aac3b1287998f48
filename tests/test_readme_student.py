"""The README's "Testing your implementation" walkthrough: every command prints what the README says.

The student file is the README's own code block; the test runs each command in a fresh folder and
compares its output with the README's, with timings, speeds, memory and temporary paths masked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = README.split("## Testing your implementation", 1)[1].split("\n## ", 1)[0]
CODE = re.findall(r"```py\n(.*?)```", SECTION, re.S)
TEXT = re.findall(r"```text\n(.*?)```", SECTION, re.S)


def _mask(text: str) -> list[str]:
    text = re.sub(r"[\d,]+\.\d+ s\b", "T s", text)
    text = re.sub(r"[\d,]+ states/s", "N states/s", text)
    text = re.sub(r"peak memory [\d,]+ MiB", "peak memory M MiB", text)
    text = re.sub(r"in \d+\.\d+s", "in Ts", text)
    text = re.sub(r"/tmp/pytest-of-[^/]+/pytest-\d+/test_raft0", "TMP", text)
    text = re.sub(r"\S*/pytest-of-[^/]+/pytest-\d+/\S+?/quorumcheck", "TMP/quorumcheck", text)
    return [line.rstrip() for line in text.strip().splitlines()]


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # What a student sees at an 80-column terminal. pytest prints the short summary in full when
    # CI or BUILD_NUMBER is set, so those are dropped: the README shows the interactive output.
    env = {key: value for key, value in os.environ.items() if key not in {"CI", "BUILD_NUMBER"}}
    env["COLUMNS"] = "80"
    return subprocess.run([sys.executable, *args], cwd=folder, capture_output=True, text=True, env=env, check=False)


def _quorumcheck(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    assert command.startswith("quorumcheck ")
    return _run(folder, "-m", "quorumcheck", *command.split()[1:])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "my_raft.py").write_text(CODE[0])
    (tmp_path / "test_my_raft.py").write_text(CODE[2])
    return tmp_path


def _fix(folder: Path) -> None:
    fixed_line = CODE[1].rstrip("\n")
    source = (folder / "my_raft.py").read_text()
    old = next(line for line in source.splitlines() if line.strip().startswith("granted = "))
    assert old != fixed_line
    (folder / "my_raft.py").write_text(source.replace(old, fixed_line))


def test_the_walkthrough_prints_what_the_readme_shows(folder: Path) -> None:
    commands = re.findall(r"```bash\n(quorumcheck test .*?)\n```", SECTION)
    assert len(commands) == 2 and len(TEXT) == 5

    found = _quorumcheck(folder, commands[0])
    assert found.returncode == 1, found.stderr
    assert _mask(found.stdout) == _mask(TEXT[0])

    drawn = _quorumcheck(folder, commands[1])
    assert drawn.returncode == 1, drawn.stderr
    assert _mask(drawn.stdout)[-3:] == _mask(TEXT[1])[1:]
    assert (folder / "out" / "raft-election-safety-chart.svg").exists()

    tested = _run(folder, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_raft.py")
    assert tested.returncode == 1
    assert _mask(tested.stdout) == _mask(TEXT[4])

    _fix(folder)
    for block in TEXT[2:4]:
        for shown in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = shown.partition("\n")
            ran = _quorumcheck(folder, command)
            assert ran.returncode == (1 if "--replay" in command else 0), ran.stderr
            assert _mask(ran.stdout) == _mask(output), command

    passed = _run(folder, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_raft.py")
    assert passed.returncode == 0 and "1 passed" in passed.stdout
