"""Student code that allocates without bound (quorumcheck must bound it)."""
from quorumcheck.models.actors import Node


class Hog(Node):
    def on_start(self, out):
        out.broadcast("x")

    def on_message(self, sender, message, out):
        self.big = [bytearray(10**6) for _ in range(100_000)]
