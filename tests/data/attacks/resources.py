"""Resource abuse: memory, output, state and messages far larger than a protocol needs, deep recursion."""

import os
import sys

from buggy_raft import VoteTwice
from probe import Probe
from quorumcheck.models.actors import Node

MB = 2**20


class HogsMemory(Probe):
    def attack(self):
        hoard = []
        while True:
            hoard.append(bytearray(64 * MB))


class FloodsOutput(VoteTwice):
    """Writes 50 MB to standard output (raw) and 50 MB through print(), then behaves as VoteTwice."""

    def on_timer(self, name, out):
        if self.current_term == 0 and self.id == 0:
            chunk = b"qc-attack-flood " * (MB // 16)
            for _ in range(50):
                os.write(1, chunk)
            print(chunk.decode() * 50)
        super().on_timer(name, out)


class HugeList(Probe):
    def attack(self):
        self.big = list(range(10**6))


class HugeInt(Probe):
    def attack(self):
        self.big = 10**5000


class HugeMessage(Probe):
    def on_message(self, sender, message, out):
        out.send(sender, "x" * (20 * MB))


class RecursesForever(Probe):
    def attack(self):
        self.attack()


class RecursesPastTheCStack(Probe):
    """Lifts the recursion limit, then makes C code recurse (comparing two deeply nested lists): a segfault."""

    def attack(self):
        sys.setrecursionlimit(10**8)
        a, b = [], []
        for _ in range(10**5):
            a, b = [a], [b]
        a == b  # noqa: B015 - the comparison recurses in C


class DeeplyNestedState(Probe):
    def attack(self):
        nested = []
        for _ in range(100_000):
            nested = [nested]
        self.nested = nested


class FatStates(Node):
    """Every delivery makes a distinct 4 MiB node state (its history of deliveries, padded), under the limit of
    one answer: the workers stay small, and the grading process keeps every state the search meets."""

    def __init__(self):
        self.hist = ""
        self.blob = ""

    def on_start(self, out):
        out.broadcast(self.id)

    def on_message(self, sender, m, out):
        self.hist += f"{sender}:{m};"
        self.blob = self.hist + "x" * (4 * 2**20)
        if len(self.hist) < 200:
            out.broadcast(len(self.hist))
