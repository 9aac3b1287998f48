"""Names chosen to attack the grader's terminal and drawings: control characters in every name quorumcheck shows.

The class, an attribute, the timer, an enum class and its member, a dataclass and an attribute of its
instance all hold terminal escapes (clear the screen, hide what follows, set the window's title), a
newline before a fake verdict, and a vertical tab (which XML, and so Graphviz's SVG, cannot hold).
Printed as they are, they would clear the grader's terminal and show "HOLDS"; drawn as they are, the
SVG would be ill-formed and the drawing would fail. The node is the buggy Raft: the genuine
election-safety violation (6 steps) must be reported, and drawn, with every name written out.
"""

import dataclasses
import enum

from buggy_raft import VoteTwice

CLEAR = "\x1b[2J\x1b[3J\x1b[H"
HOLDS = "\nHOLDS: every property holds (qc-attack-names)"
HIDE = "\x1b[8m"
TITLE = "\x1b]0;qc-attack-title\x07"

TIMER = "election\x0b" + CLEAR + HIDE
ATTRIBUTE = "x" + CLEAR + "qc-attack-attr" + HIDE

Mark = enum.Enum("Mark" + TITLE, ["M" + CLEAR + HOLDS + HIDE])
Record = dataclasses.dataclass(frozen=True)(type("Record\x0b" + CLEAR + HOLDS, (), {"__annotations__": {"n": int}}))


def _record() -> object:
    record = Record(1)
    object.__setattr__(record, "field" + TITLE + "\x0b", 2)  # an attribute of the instance: shown as a field
    return record


class _Renamed:
    """The handlers' ``out``, with the buggy Raft's timer "election" renamed to :data:`TIMER`."""

    def __init__(self, out: object) -> None:
        self._out = out

    def set_timer(self, name: str) -> None:
        self._out.set_timer(TIMER if name == "election" else name)

    def cancel_timer(self, name: str) -> None:
        self._out.cancel_timer(TIMER if name == "election" else name)

    def __getattr__(self, name: str) -> object:
        return getattr(self._out, name)


class _Named(VoteTwice):
    def __init__(self) -> None:
        super().__init__()
        setattr(self, ATTRIBUTE, 1)
        self.mark = list(Mark)[0]
        self.record = _record()

    def on_start(self, out):
        super().on_start(_Renamed(out))

    def on_timer(self, name, out):
        super().on_timer("election" if name == TIMER else name, _Renamed(out))

    def on_message(self, sender, m, out):
        super().on_message(sender, m, _Renamed(out))


EscapesInNames = type("RaftNode\x0b" + CLEAR + HOLDS + " (exhaustive)" + HIDE, (_Named,), {})
"""The node class, the file's only one (found without --node-class): its name too clears the screen and forges
a verdict, in the report's header."""
del _Named
