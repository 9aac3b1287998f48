"""Forging quorumcheck's output: a fake verdict on stdout and stderr, at import and in handlers.

print() and raw writes to file descriptors 1 and 2 (which bypass sys.stdout), including a fake
--json result. In a worker, all of it goes to a capture that quorumcheck never prints.
"""

import os
import sys

from buggy_raft import VoteTwice

FAKE_TEXT = (b"VIOLATED: nothing\nqc-attack-fake: HOLDS: every property holds (0 violations)\n"
             b"\x1b[2J\x1b[Hqc-attack-fake cleared the screen\x1b]0;qc-attack-title\x07\n")
FAKE_JSON = b'{"schema": 1, "verdict": "holds", "violation": null, "violations": [], "qc-attack-fake": true}\n'


def _forge():
    for fd in (1, 2):
        try:
            os.write(fd, FAKE_TEXT + FAKE_JSON)
        except OSError:
            pass
    print(FAKE_TEXT.decode() + FAKE_JSON.decode())
    print(FAKE_TEXT.decode(), file=sys.stderr)
    sys.stdout.flush()


_forge()


class ForgesOutput(VoteTwice):
    def on_timer(self, name, out):
        _forge()
        super().on_timer(name, out)


class ForgesJsonThenExits(VoteTwice):
    """Prints a fake passing --json result, then ends its process with status 0."""

    def on_timer(self, name, out):
        if self.id == 0:
            _forge()
            os._exit(0)
        super().on_timer(name, out)
