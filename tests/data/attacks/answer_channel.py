"""Writing garbage to every file descriptor from 3 to 20: one of them is quorumcheck's answer channel."""

import os

from probe import Probe


class GarbageOnEveryFd(Probe):
    def attack(self):
        for fd in range(3, 21):
            try:
                os.write(fd, b"qc-attack-garbage {not json\n")
            except OSError:
                pass
