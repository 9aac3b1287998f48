"""Handlers that do not return: sleeping, looping, disarming the alarm, swallowing the interruption."""

import signal
import time

from probe import Probe


class Sleeps(Probe):
    def attack(self):
        time.sleep(3600)


class Loops(Probe):
    def attack(self):
        while True:
            pass


class DisarmsTheAlarm(Probe):
    """Ignores the timer signals and cancels the interval timers (the worker's own time limits), then loops."""

    def attack(self):
        for signum in (signal.SIGALRM, signal.SIGPROF, signal.SIGVTALRM):
            signal.signal(signum, signal.SIG_IGN)
        for timer in (signal.ITIMER_REAL, signal.ITIMER_PROF, signal.ITIMER_VIRTUAL):
            signal.setitimer(timer, 0)
        signal.alarm(0)
        while True:
            pass


class SwallowsEverything(Probe):
    """Catches BaseException (the worker's timeout included) and loops again, forever."""

    def attack(self):
        while True:
            try:
                while True:
                    pass
            except BaseException:  # noqa: BLE001 - the attack
                pass
