"""Random actor systems for the reduction tests (Hypothesis): node classes whose handlers follow drawn tables.

A node holds a local value ``x`` in ``0..K-1``; messages are ``0..K-1``; a handler's effect is drawn per
(``x``, message) or per ``x`` for the timer: the next ``x`` and what to send, each send to ``id + offset``.
With ``bounded=True`` a node sends at most :data:`SENDS` messages in all and counts the messages it hears
in a field nobody observes, so every system is finite and quiet deliveries change the node.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from quorumcheck.models.actors import Node

K = 3
"""A random node's local values, and message kinds."""
SENDS = 3
"""With ``bounded=True``: the messages a node may send in all."""

Table = dict[tuple[int, int], tuple[int, tuple[tuple[int, int], ...]]]


def random_node(nodes: int, on_message: Table, on_timer: dict[int, tuple[int, tuple[tuple[int, int], ...]]],
                start: tuple[tuple[int, int], ...], fails: tuple[int, int] | None, *,
                bounded: bool = False) -> type[Node]:
    """A node class following the drawn tables; ``fails``: the (x, message) on which ``on_message`` raises."""

    class Drawn(Node):
        durable = ("x",)

        def __init__(self) -> None:
            self.x = 0
            if bounded:
                self.sent = 0
                self.heard = 0

        def _send(self, sends: tuple[tuple[int, int], ...], out: Any) -> None:
            for offset, message in sends:
                if bounded:
                    if self.sent >= SENDS:
                        return
                    self.sent += 1
                out.send((self.id + offset) % nodes, message)

        def on_start(self, out: Any) -> None:
            if self.id == 0:
                self._send(start, out)
            out.set_timer("tick")

        def on_message(self, sender: int, message: Any, out: Any) -> None:
            if fails == (self.x, message):
                raise RuntimeError("drawn to fail here")
            if bounded:
                self.heard = min(self.heard + 1, 2)
            self.x, sends = on_message.get((self.x, message), (self.x, ()))
            self._send(sends, out)

        def on_timer(self, name: str, out: Any) -> None:
            self.x, sends = on_timer.get(self.x, (self.x, ()))
            self._send(sends, out)
            out.set_timer("tick")

        def on_request(self, value: Any, out: Any) -> None:
            self.x = (self.x + 1) % K
            self._send(((1, 0),), out)

    return Drawn


sends = st.lists(st.tuples(st.integers(0, 2), st.integers(0, K - 1)), max_size=2).map(tuple)
effect = st.tuples(st.integers(0, K - 1), sends)


@st.composite
def actor_systems(draw: Any, *, protocol: str | None = None, partitions: bool = True,
                  bounded: bool = False) -> tuple[type[Node], dict[str, Any]]:
    """A random node class and the :class:`ActorModel` options to run it with (every network and fault)."""
    nodes = draw(st.integers(2, 3))
    table = draw(st.dictionaries(st.tuples(st.integers(0, K - 1), st.integers(0, K - 1)), effect, max_size=9))
    timers = draw(st.dictionaries(st.integers(0, K - 1), effect, max_size=3))
    start = draw(st.lists(st.tuples(st.integers(1, 2), st.integers(0, K - 1)), min_size=1, max_size=3).map(tuple))
    fails = draw(st.none() | st.tuples(st.integers(0, K - 1), st.integers(0, K - 1)))
    options: dict[str, Any] = {
        "nodes": nodes,
        "network": draw(st.sampled_from(["unordered", "unordered-duplicating", "ordered"])),
        "requests": draw(st.integers(0, 2)),
        "max_timeouts": draw(st.integers(0, 2)),
        "max_drops": draw(st.integers(0, 1)),
        "max_crashes": draw(st.integers(0, 1)),
    }
    if protocol is not None:
        options["protocol"] = protocol
    if partitions:
        options["max_partitions"] = draw(st.integers(0, 1))
    if options["network"] != "unordered-duplicating":
        options["max_duplicates"] = draw(st.integers(0, 1))
    return random_node(nodes, table, timers, start, fails, bounded=bounded), options
