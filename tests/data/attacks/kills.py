"""Killing the grader, or other processes of the user the worker runs as."""

import os
import signal

from buggy_raft import VoteTwice
from probe import Probe, Report


class KillsTheGrader(VoteTwice):
    """SIGKILL to the parent process (the grader) and its process group; errors are swallowed, so that
    only the genuine verdict shows, if the grader survives."""

    def on_timer(self, name, out):
        for attempt in (lambda: os.kill(os.getppid(), signal.SIGKILL),
                        lambda: os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)):
            try:
                attempt()
            except OSError:
                pass
        super().on_timer(name, out)


VICTIM = f"/tmp/qc-attack-victim-{os.getppid()}.pid"
"""Where the test writes the pid of a process of nobody (standing for another course's worker); named
after the grading process (the worker's parent), so that two test runs at once do not mix."""


class KillsOtherNobodyProcesses(Probe):
    """Kills another process of the user it runs as. Both workers of the determinism check run this,
    at the same time: the pid is read from a file, so that the one that comes second still finds its
    target (a zombie by then, which may still be signalled) and both report alike."""

    def attack(self):
        try:
            with open(VICTIM) as f:
                pid = int(f.read())
            os.kill(pid, signal.SIGKILL)
            seen = "killed"
        except OSError as e:
            seen = type(e).__name__
        raise Report(f"victim: {seen}")


class ReadsOtherNobodyProcesses(Probe):
    """Reads the environment of another process of the user it runs as (the permission ptrace needs)."""

    def attack(self):
        try:
            with open(VICTIM) as f:
                pid = int(f.read())
            with open(f"/proc/{pid}/environ", "rb") as f:
                seen = "read" if b"QC_ATTACK_VICTIM_SECRET" in f.read() else "no secret"
        except OSError as e:
            seen = type(e).__name__
        raise Report(f"victim: {seen}")
