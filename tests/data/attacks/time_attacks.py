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
    """Ignores SIGALRM and cancels the interval timer (the worker's own time limit), then loops."""

    def attack(self):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.setitimer(signal.ITIMER_REAL, 0)
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
