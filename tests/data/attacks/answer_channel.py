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


class GarbageThenHang(GarbageOnEveryFd):
    """The garbage, then a call that never ends and ignores every signal it can: where each call runs in a fresh
    copy, the copy has answered (garbage) and is ended; the next call is not held up."""

    def attack(self):
        import signal

        super().attack()
        for number in (signal.SIGALRM, signal.SIGPROF, signal.SIGTERM, signal.SIGINT):
            signal.signal(number, signal.SIG_IGN)
        while True:
            pass
