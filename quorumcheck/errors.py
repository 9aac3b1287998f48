"""The exceptions quorumcheck raises, and nothing else.

Every error a *user* can cause (bad parameters, a malformed spec, an unknown
model or bug) is a :class:`QuorumcheckError`, whose message is one line that
says what was wrong and how to fix it. The CLI prints that line and exits with
status 2; it never shows a traceback for these. Anything else escaping is a bug
in quorumcheck.

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> try:
...     PaxosModel(acceptors=0)
... except InvalidParameter as e:
...     print(e)
acceptors must be at least 1 (got 0); pass e.g. acceptors=3
"""

from __future__ import annotations

import re

__all__ = [
    "PYTHON_EXAMPLE",
    "InvalidModel",
    "InvalidParameter",
    "InvalidSpec",
    "ModelWarning",
    "QuorumcheckError",
    "Undetermined",
    "InvalidFormula",
    "InvalidStudentCode",
]


PYTHON_EXAMPLE = re.compile(r"(?P<lead>\bpass e\.g\. )(?P<name>[a-z_][a-z0-9_]*)=(?P<value>[^\s;,)]+)")
"""How a parameter error gives its example, in Python's words (``pass e.g. max_log=1``): the command line and
spec files reword it in theirs (``--max-log 1``, ``max_log = 1``)."""


class QuorumcheckError(Exception):
    """Base class of every user-facing error; its message names the fix."""


class InvalidParameter(QuorumcheckError, ValueError):
    """A model parameter is out of range, of the wrong type, or inconsistent."""


class InvalidSpec(QuorumcheckError):
    """A run spec (TOML) is malformed: unknown key, wrong type, unknown model or bug."""


class InvalidModel(QuorumcheckError, TypeError):
    """A model object does not implement the modelling API correctly.

    Raised when a model is handed to the explorer, not deep inside a run: for
    example a model with no initial state or two properties with one name.
    """


class ModelWarning(UserWarning):
    """A parameter choice that is legal but probably unintended (or deliberately broken).

    For example a quorum system whose quorums need not intersect, which is the
    whole point of the ``small-phase1-quorum`` bug but a mistake anywhere else.
    """


class Undetermined(Exception):
    """Raised by a property that cannot decide a state (a solver answered ``unknown``).

    Not a user error: the explorer catches it and ends the run with verdict
    ``UNDETERMINED`` (stop reason ``"unknown"``), never a pass.
    """


class InvalidFormula(QuorumcheckError, TypeError):
    """An ill-formed first-order property: unknown relation, sort mismatch, unbound variable, unknown sort.

    Raised when the formula or property is *defined*, never during a run.
    """


class InvalidStudentCode(QuorumcheckError):
    """Student code that quorumcheck cannot test: it does not import, defines no node class, or
    keeps state that cannot be snapshotted (an open file, a lambda, a lock).

    The message names the file, the node class and the attribute, and says what to change.
    A student handler that *raises* while it runs is not this error but a finding (the property
    ``handlers-do-not-crash``, with the schedule that triggered it).
    """
