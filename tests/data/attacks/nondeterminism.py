"""Handlers whose effect depends on more than the node's state and the event.

Each stores something that differs between two processes: a string's hash (PYTHONHASHSEED), the
iteration order of a set of strings, the clock, randomness drawn once (at import, or memoised with
functools.lru_cache), an object's id(). quorumcheck runs every call in two workers with other hash
seeds and clocks, and reports ``handlers-are-deterministic``.
"""

import functools
import random
import time

from probe import Probe

DRAWN_AT_IMPORT = random.random()


@functools.lru_cache(maxsize=None)
def token():
    return random.random()


class HashOfString(Probe):
    def attack(self):
        self.tag = hash("qc-attack-leader")


class SetOrder(Probe):
    def attack(self):
        self.order = list({"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"})


class WallClock(Probe):
    def attack(self):
        self.started = int(time.time())


class RandomAtImport(Probe):
    def attack(self):
        self.ballot = DRAWN_AT_IMPORT


class MemoisedRandom(Probe):
    def attack(self):
        self.ballot = token()


class ObjectId(Probe):
    def attack(self):
        self.handle = id(object())
