"""Handlers that raise what quorumcheck raises itself, or what ends a Python process."""

from probe import Probe
from quorumcheck.errors import InvalidStudentCode, QuorumcheckError


class RaisesInvalidStudentCode(Probe):
    def attack(self):
        raise InvalidStudentCode("qc-attack-forged: the file cannot be loaded")


class RaisesQuorumcheckError(Probe):
    def attack(self):
        raise QuorumcheckError("qc-attack-forged: internal error")


class RaisesKeyboardInterrupt(Probe):
    def attack(self):
        raise KeyboardInterrupt


class RaisesSystemExit(Probe):
    def attack(self):
        raise SystemExit(0)


class RaisesHugeMessage(Probe):
    """An exception whose message (15 MB) is larger than any answer a worker may send."""

    def attack(self):
        raise ValueError("qc-attack-huge " * 1_000_000)
