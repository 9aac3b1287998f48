"""The wire between the trusted side and the worker: plain JSON lines, validated, never pickle.

Both sides of the trust boundary use this module; it holds no student code
and runs none. A message is one line of JSON (an object). Frozen values
(:class:`~quorumcheck.models.actors.Snapshotter`'s canonical form: ints,
strings, floats, bytes, ``None`` and tagged tuples) travel as JSON arrays
for tuples, ``{"y": hex}`` for bytes and ``{"x": "nan"}`` for the floats JSON
has no literal for; :func:`decode` turns arrays back into tuples. Decoding
refuses, with :class:`WireError`, a line longer than its limit, JSON nested
deeper than :data:`MAX_DEPTH`, an integer of more than :data:`MAX_INT_DIGITS`
digits, and any other kind of value: what the worker says is data to check,
not code to run.

Examples
--------
>>> line = encode({"snapshot": (("votes", ("s", 1, 2)), ("blob", b"\\x00"))})
>>> line
b'{"snapshot": [["votes", ["s", 1, 2]], ["blob", {"y": "00"}]]}\\n'
>>> decode(line)["snapshot"]
(('votes', ('s', 1, 2)), ('blob', b'\\x00'))
>>> decode(b'[1, 2]')
Traceback (most recent call last):
...
quorumcheck.student.wire.WireError: a message must be a JSON object, got list
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_INT_DIGITS", "MAX_LINE", "MAX_SENDS", "MAX_TIMER_CALLS", "NAN", "WALL_EXTENSIONS", "TooDeep", "WireError", "call_deadline", "canonical", "decode",
           "encode", "frozen", "is_frozen", "wall_clock_limit"]

MAX_LINE = 8 * 2**20
"""The longest message line either side reads (bytes): a node snapshot larger than this is refused."""

MAX_DEPTH = 200
"""The deepest nesting of arrays a message may hold."""

MAX_INT_DIGITS = 400
"""The most decimal digits an integer on the wire may have."""

MAX_SENDS = 1000
"""The most messages one handler call may send; more is a ``node-state-testable`` finding (the worker reports it,
and the trusted side refuses an answer with more). Every message in flight is a step the search takes from every
state that holds it, and one state's successors each copy the network: a handler that sent 2,000 messages a call
took a gigabyte in one state's expansion. A protocol's handler sends a few messages per peer (at most 11 peers)."""

MAX_TIMER_CALLS = 10_000
"""The most ``set_timer`` and ``cancel_timer`` calls one handler call may make; more is a ``node-state-testable``
finding (the worker reports it, and the trusted side refuses an answer with more)."""


NAN = float("nan")
"""The one NaN every decoded (or :func:`canonical`) value holds. NaN is not equal to itself, but a tuple compares
its items by identity first: two snapshots that hold NaN in the same places are then the same state, as they
are the same to the code (which cannot tell two NaNs apart), and a handler that sets ``self.x = float("nan")``
is not taken for one that does different things twice."""


def wall_clock_limit(seconds: float) -> float:
    """The worker's wall-clock backstop behind a handler call's CPU time limit of ``seconds``: ``2 * seconds + 1``.

    The worker stops a call once it has used ``seconds`` of CPU time: what a loop spends, and what a loaded
    machine does not stretch. A call that blocks (``time.sleep``, a read that never returns) uses no CPU time,
    so the wall clock stops it too, later: on a loaded machine a loop gets a share of a core, and a quick
    call waits its turn.

    >>> wall_clock_limit(1.0)
    3.0
    """
    return 2 * seconds + 1.0


WALL_EXTENSIONS = 2
"""How many extra backstops one handler call may have in all, for runs that never blocked (no voluntary context
switch: they were runnable all along and waited for a processor on a loaded machine, where the wall clock is no
measure of them; :func:`quorumcheck.student.worker.containment.time_limit`)."""


def call_deadline(seconds: float) -> float:
    """The trusted side's wall-clock deadline for one call's answer: three backstops (two runs of the call and
    reading the node's state after them, each under :func:`wall_clock_limit`), the :data:`WALL_EXTENSIONS` a call
    that waited for a processor may have, and 2 s. It cannot be evaded: a worker that misses it is killed. The
    worker's own limits end first, so it reports where the call was.

    >>> call_deadline(1.0)
    17.0
    """
    return (3 + WALL_EXTENSIONS) * wall_clock_limit(seconds) + 2.0


class WireError(ValueError):
    """A message that is not what the protocol allows (malformed, too large, too deep, wrong shape)."""


class TooDeep(WireError):
    """A value nested deeper than :data:`MAX_DEPTH`: honest code can make one, so it is told apart."""

    def __init__(self) -> None:
        super().__init__(f"a value nested deeper than {MAX_DEPTH}")


def _out(value: Any) -> Any:
    t = type(value)
    if t is tuple or t is list:
        return [_out(v) for v in value]
    if t is dict:
        return {str(k): _out(v) for k, v in value.items()}
    if t is bytes:
        return {"y": value.hex()}
    if t is float and not math.isfinite(value):
        return {"x": repr(value)}
    return value


def encode(message: dict[str, Any]) -> bytes:
    """One message as a JSON line (tuples become arrays, bytes ``{"y": hex}``)."""
    return (json.dumps(_out(message), ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")


def _no_constant(name: str) -> Any:
    raise WireError(f"{name} is not allowed on the wire")


def decode(line: bytes, limit: int = MAX_LINE) -> dict[str, Any]:
    """Parse one message line; arrays become tuples. :class:`WireError` for anything malformed."""
    if len(line) > limit:
        raise WireError(f"a message of {len(line):,} bytes is longer than the limit of {limit:,}")
    try:
        value = json.loads(line, parse_constant=_no_constant)
    except RecursionError:
        raise WireError("a message nested too deeply") from None
    except WireError:
        raise
    except ValueError as e:  # JSONDecodeError, and integers too long to convert
        raise WireError(f"not valid JSON: {e}") from None
    if type(value) is not dict:
        raise WireError(f"a message must be a JSON object, got {type(value).__name__}")
    return {k: _in(v, 0) for k, v in value.items()}


def _in(value: Any, depth: int) -> Any:
    t = type(value)
    if t is list:
        if depth >= MAX_DEPTH:
            raise TooDeep()
        return tuple([_in(v, depth + 1) for v in value])
    if t is int:
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            raise WireError(f"an integer of more than {MAX_INT_DIGITS} digits")
        return value
    if t is str or t is float or t is bool or value is None:
        return value
    if t is dict:
        if set(value) == {"y"} and type(value["y"]) is str:
            try:
                return bytes.fromhex(value["y"])
            except ValueError:
                raise WireError("malformed bytes") from None
        if set(value) == {"x"} and value["x"] in ("nan", "inf", "-inf"):
            return NAN if value["x"] == "nan" else float(value["x"])
        if depth >= MAX_DEPTH:
            raise TooDeep()
        return {k: _in(v, depth + 1) for k, v in value.items()}
    raise WireError(f"unexpected {t.__name__} on the wire")


def frozen(value: Any, what: str) -> Any:
    """``value`` if it is a frozen value (:class:`~quorumcheck.models.actors.Snapshotter`'s form), else
    :class:`WireError` naming ``what``.

    A frozen value is an int, string, bytes or ``None``, or a tuple
    tagged as the snapshotter tags them: ``("t" | "l" | "s" | "f", items...)``,
    ``("d", (key, value), ...)``, ``("b", bool)``, ``("fl", float)``, ``("e", class, member)``,
    ``("nt" | "dc", class, (field, ...), values...)``.

    >>> frozen(("l", 1, ("b", True), ("d", ("k", None))), "the message")
    ('l', 1, ('b', True), ('d', ('k', None)))
    >>> frozen(("zz", 1), "the message")
    Traceback (most recent call last):
    ...
    quorumcheck.student.wire.WireError: the message is not a frozen value (unknown tag 'zz')
    """
    stack = [value]
    push, pop = stack.append, stack.pop
    while stack:
        v = pop()
        t = type(v)
        if t is int or t is str or t is bytes or v is None:
            continue
        if t is not tuple or not v or type(v[0]) is not str:
            raise WireError(f"{what} is not a frozen value (a {t.__name__})")
        tag = v[0]
        if tag in ("t", "l", "s", "f"):
            stack.extend(v[1:])
        elif tag == "d":
            for item in v[1:]:
                if type(item) is not tuple or len(item) != 2:
                    raise WireError(f"{what} is not a frozen value (a malformed dict item)")
                push(item[0])
                push(item[1])
        elif tag == "b":
            if len(v) != 2 or type(v[1]) is not bool:
                raise WireError(f"{what} is not a frozen value (a malformed boolean)")
        elif tag == "fl":
            if not (len(v) == 2 and type(v[1]) is float or len(v) == 3 and type(v[1]) is float and v[1] == 0
                    and v[2] == "-0"):
                raise WireError(f"{what} is not a frozen value (a malformed float)")
        elif tag == "e":
            if len(v) != 3 or type(v[1]) is not str or type(v[2]) is not str:
                raise WireError(f"{what} is not a frozen value (a malformed enum member)")
        elif tag == "ef":
            if len(v) != 4 or type(v[1]) is not str or type(v[2]) is not int or type(v[3]) is not str:
                raise WireError(f"{what} is not a frozen value (a malformed enum flag)")
        elif tag in ("nt", "dc"):
            if (len(v) < 3 or type(v[1]) is not str or type(v[2]) is not tuple
                    or not all(type(f) is str for f in v[2]) or len(v) != 3 + len(v[2])):
                raise WireError(f"{what} is not a frozen value (a malformed record)")
            stack.extend(v[3:])
        else:
            raise WireError(f"{what} is not a frozen value (unknown tag {tag!r})")
    return value


def canonical(value: Any) -> Any:
    """``value`` with every NaN float in it replaced by :data:`NAN` (``value`` itself when it holds none), as
    :func:`decode` gives it: for answers that do not cross the wire (the in-process host).

    >>> canonical(("l", float("nan"), ("t", 1.5, float("nan"))))[1] is NAN
    True
    >>> value = ("l", 1, ("t", 2.5)); canonical(value) is value
    True
    """
    stack = [value]
    while stack:  # the common case: no NaN anywhere, nothing is rebuilt
        v = stack.pop()
        t = type(v)
        if t is float:
            if v != v and v is not NAN:
                break
        elif t is tuple or t is list:
            stack.extend(v)
        elif t is dict:
            stack.extend(v.values())
    else:
        return value
    try:
        return _without_nan(value)
    except RecursionError:
        return value


def _without_nan(v: Any) -> Any:
    t = type(v)
    if t is float:
        return NAN if v != v else v
    if t is tuple:
        return tuple([_without_nan(x) for x in v])
    if t is list:
        return [_without_nan(x) for x in v]
    if t is dict:
        return {k: _without_nan(x) for k, x in v.items()}
    return v


def is_frozen(value: Any) -> bool:
    """Whether ``value`` is a frozen value (see :func:`frozen`).

    >>> is_frozen(("s", 1, 2)), is_frozen((1, 2))
    (True, False)
    """
    try:
        frozen(value, "")
    except WireError:
        return False
    return True
