"""Student code that ends its own process (quorumcheck must survive it)."""
import os

from quorumcheck.models.actors import Node


class Exits(Node):
    def on_start(self, out):
        out.broadcast("x")

    def on_message(self, sender, message, out):
        os._exit(3)
