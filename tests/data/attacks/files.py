"""Reading secrets, writing where a grader would notice, through the file system."""

import errno
import os
from pathlib import Path

import quorumcheck
from probe import Probe, Report


def _try(action):
    try:
        result = action()
    except OSError as e:
        if e.errno == errno.EROFS:  # a read-only mount: how the sandbox exposes a folder the worker cannot enter
            return "ReadOnlyFileSystem"
        return type(e).__name__
    return "ok" if result is None else result


def _append_nothing(path):
    """Open for appending and write nothing: tells whether the file is writable without changing it."""
    with open(path, "a"):
        pass


def _create(path):
    with open(path, "x") as f:
        f.write("qc-attack")


class ReadsSecrets(Probe):
    def attack(self):
        found = {
            "uid": os.getuid(),
            "shadow": _try(lambda: open("/etc/shadow").read() and "read"),
            "root": _try(lambda: ",".join(sorted(os.listdir("/root"))) or "empty"),
            "bashrc": _try(lambda: open("/root/.bashrc").read() and "read"),
            "gitconfig": _try(lambda: open("/root/.gitconfig").read() and "read"),
        }
        raise Report(" ".join(f"{k}={v}" for k, v in found.items()))


class WritesQuorumcheckSource(Probe):
    def attack(self):
        package = Path(quorumcheck.__file__).parent
        here = Path(__file__).parent
        found = {
            "append-init": _try(lambda: _append_nothing(package / "__init__.py")),
            "create-in-package": _try(lambda: _create(package / "qc_attack_planted.py")),
            "append-own-file": _try(lambda: _append_nothing(__file__)),
            "create-beside": _try(lambda: _create(here / "qc_attack_planted.py")),
        }
        raise Report(" ".join(f"{k}={v}" for k, v in found.items()))


class WritesIntoCwd(Probe):
    def attack(self):
        Path("qc-attack-cwd.txt").write_text("planted")
        raise Report(f"cwd={os.getcwd()} home={os.environ.get('HOME')} wrote={Path('qc-attack-cwd.txt').exists()}")


SHARED = tuple(f"{folder}/qc-attack-shared-{os.getppid()}.txt" for folder in ("/tmp", "/var/tmp", "/dev/shm"))
"""Named after the grading process (the worker's parent), so that two test runs at once do not mix."""


class WritesSharedTmp(Probe):
    """Leaves files in the machine's world-writable directories (a channel to the next submission graded)."""

    def attack(self):
        found = {path: _try(lambda path=path: Path(path).write_text("planted") and None) for path in SHARED}
        raise Report(" ".join(f"{k}={v}" for k, v in found.items()))


class ReadsTheEnvironment(Probe):
    def attack(self):
        leaked = [k for k, v in os.environ.items() if "qc-attack-secret" in v or "QC_ATTACK" in k]
        found = {
            "names": ",".join(sorted(os.environ)),
            "leaked": ",".join(leaked) or "none",
            "parent-environ": _try(lambda: "qc-attack-secret" in open(f"/proc/{os.getppid()}/environ").read()
                                   and "leaked"),
        }
        raise Report(" ".join(f"{k}={v}" for k, v in found.items()))


class ReadsTheGradersFiles(Probe):
    """Reads world-readable files outside its own folder: the machine's accounts and the grader's own tests."""

    def attack(self):
        tests = Path(__file__).resolve().parents[2] / "test_attacks.py"
        found = {
            "passwd": _try(lambda: "root:" in open("/etc/passwd").read() and "read"),
            "grader-tests": _try(lambda: "def test_" in tests.read_text() and "read"),
        }
        raise Report(" ".join(f"{k}={v}" for k, v in found.items()))
