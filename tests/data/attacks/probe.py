"""The base of the small probe submissions (protocol "none", two nodes).

Node 0 sends ``"go"`` to node 1 when it starts; node 1 calls ``self.attack()`` when it receives it.
A probe that wants to tell the test what it saw raises :class:`Report`: the containment finding
(``handlers-do-not-crash``) then carries the text, which proves the handler ran and what it found.
"""

from quorumcheck.models.actors import Node


class Report(Exception):
    """What a probe saw, raised so that the grader's finding shows it."""


class Probe(Node):
    def on_start(self, out):
        if self.id == 0:
            out.send(1, "go")

    def on_message(self, sender, message, out):
        self.attack()

    def attack(self):
        raise NotImplementedError
