"""Where a counterexample went wrong: the first step after which an invariant of the model is false.

A violated property is often seen many steps after the mistake that made it
inevitable (Paxos's agreement fails when the second value is chosen; the
acceptor that broke its promise did so steps before). :func:`find_culprit`
evaluates every invariant the model defines -- the ones checked by default,
the auxiliary ones checked only on request (votes-safe, one-value-per-ballot,
...), and the violated property itself -- on every state of the trace, and
names the first step after which one of them is false. When several break at
that step, an invariant other than the violated one is named first (it says
more), in the order the model lists them, and the explanation lists the others
("also false after this step: ...").

:func:`with_culprits` is what every front end calls where violations are
built (the breadth-first search, random schedules, a replayed trace), so the
text, the JSON, the chart and the report all point at the same step.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> model = PaxosModel(max_ballot=1, bug="accept-below-promise")
>>> v = explore(model).violation
>>> v.property, len(v.trace), v.culprit.step, v.culprit.property
('agreement', 12, 10, 'votes-safe')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from quorumcheck.errors import InvalidParameter, QuorumcheckError
from quorumcheck.models.api import Expectation, Model, Property

from .result import Culprit, Violation

__all__ = ["breaks", "find_culprit", "refuse_broken_prefix_step", "with_culprits"]


def find_culprit(model: Model[Any], violation: Violation[Any],
                 properties: Sequence[Property[Any]] | None = None) -> Culprit | None:
    """The first step of ``violation``'s trace after which one of the model's invariants is false.

    Parameters
    ----------
    model : Model
    violation : Violation
        A violation with a trace (``None`` is returned for one without).
    properties : sequence of Property, optional
        The properties to evaluate; by default ``model.properties()``: every
        ``always`` property (checked by default or on request) and the
        violated property whatever its kind.

    Returns
    -------
    Culprit or None
        ``step`` counts actions from 1 (0: the initial state already breaks
        one); ``None`` when there is no trace, or nothing evaluated is false
        (a property that could not be evaluated is left out).

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> c = find_culprit(model, explore(model).violation)
    >>> c.step, c.property, c.explanation
    (7, 'one-value-per-ballot', 'in ballot 0, a1 voted for both v1 and v2')
    """
    trace = violation.trace
    if trace is None:
        return None
    props = list(model.properties()) if properties is None else list(properties)
    checked = [p for p in props if p.expectation is Expectation.ALWAYS or p.name == violation.property]
    # Other invariants first: at a step where the violated property breaks too, they say more.
    checked.sort(key=lambda p: p.name == violation.property)
    states = trace.states
    for k, state in enumerate(states):
        broken = [p for p in checked if breaks(p, states[k - 1] if k else None, state)]
        if broken:
            text = broken[0].explain(state) or ""
            if len(broken) > 1:
                others = ", ".join(p.name for p in broken[1:])
                text += ("; " if text else "") + f"also false after this step: {others}"
            note = getattr(model, "culprit_note", None)
            said = note(trace, k, text) if note is not None and k else None
            if said:  # what the property does not say (the state a restart made a node forget)
                text += ("; " if text else "") + said
            return Culprit(k, broken[0].name, text or None)
    return None


def breaks(p: Property[Any], before: Any, state: Any) -> bool:
    """Whether ``p`` is false in ``state`` (an action property: on the step from ``before``, never without one); a
    property that cannot be evaluated there counts as not broken.

    >>> from quorumcheck.models.api import always, every_step
    >>> breaks(always("small", lambda s: s < 3), 2, 3), breaks(every_step("up", lambda s, t: t > s), 3, 2)
    (True, True)
    """
    try:
        if p.expectation is Expectation.EVERY_STEP:
            return before is not None and not p.holds_on_step(before, state)
        return p.expectation is Expectation.ALWAYS and not p.holds(state)
    except QuorumcheckError:
        return False


def refuse_broken_prefix_step(props: Sequence[Property[Any]], k: int, label: str, before: Any, after: Any, *,
                              last: bool) -> None:
    """Raise :class:`InvalidParameter` when step ``k`` of a scripted prefix (``before`` to ``after`` by ``label``)
    breaks one of ``props``.

    A search that starts where a prefix ends judges only what comes after it, so a prefix that ran through a
    violation would hide it behind a HOLDS. The prefix's ``last`` state is the search's first, judged there, so
    state invariants are not judged on it here (action properties are: the search never sees that step).

    >>> from quorumcheck.models.api import always
    >>> refuse_broken_prefix_step([always("small", lambda s: s < 3)], 2, "up", 2, 3, last=False)
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidParameter: prefix step 2 'up' already breaks small, and the search judges only what \
comes after the prefix; shorten the prefix to 1 step and the search reports it with its schedule
    """
    broken = next((p.name for p in props if not (last and p.expectation is Expectation.ALWAYS)
                   and breaks(p, before, after)), None)
    if broken is not None:
        shorter = f"{k - 1} step" + ("" if k - 1 == 1 else "s")
        raise InvalidParameter(f"prefix step {k} {label!r} already breaks {broken}, and the search judges only what "
                               f"comes after the prefix; shorten the prefix to {shorter} and the search reports it "
                               "with its schedule")


def with_culprits(model: Model[Any], violations: Sequence[Violation[Any]]) -> list[Violation[Any]]:
    """``violations`` with their :attr:`~Violation.culprit` set (a violation without a trace is kept as it is).

    The model's properties are built once for all of them.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> model = PaxosModel(max_ballot=0, bug="duplicate-ballots")
    >>> [v] = with_culprits(model, explore(model).violations)
    >>> v.culprit.step
    7
    """
    if not any(v.trace is not None for v in violations):
        return list(violations)
    props = list(model.properties())
    return [v if v.trace is None else replace(v, culprit=find_culprit(model, v, props)) for v in violations]
