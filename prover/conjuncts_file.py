"""Your own conjuncts, in a Python file, for ``quorumcheck prove MODEL --conjuncts FILE.py``.

The file is run with the model's vocabulary already in scope: every sort
(``Acceptor``, ``Ballot``), every relation and function (``vote``,
``max_bal``), the language (``ForAll``, ``Exists``, ``And``, ``Or``, ``Not``,
``Implies``, ``Iff``, ``Definition``) and the model's own conjuncts'
formulas by name in ``model_conjuncts``. It defines ``conjuncts``: a dict
from name to formula (or to ``(formula, description)``). Like a mypyvy file,
it is code you wrote for your own proof: it runs in this process, so do not
load files you do not trust.

Example file::

    a, b, v = Acceptor.var("a"), Ballot.var("b"), Value.var("v")
    conjuncts = {
        "vote-for-proposal": ForAll([a, b, v], vote(a, b, v) >> proposed(b, v)),
    }

A name the vocabulary does not have is a one-line error that lists what it
has; so is a formula that is not well-sorted or not closed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from quorumcheck.errors import InvalidFormula, InvalidParameter
from quorumcheck.invariants import language
from quorumcheck.invariants.system import Conjunct, TransitionSystem

__all__ = ["load_conjuncts"]

_LANGUAGE = ("ForAll", "Exists", "And", "Or", "Not", "Implies", "Iff", "Definition", "TRUE", "FALSE")


def load_conjuncts(system: TransitionSystem, path: str | Path) -> TransitionSystem:
    """``system`` with the file's conjuncts added, and an invariant set named after the file holding them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from quorumcheck.models.paxos_symbolic import paxos_system
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "mine.py"
    >>> _ = f.write_text('a, b, v = Acceptor.var("a"), Ballot.var("b"), Value.var("v")\\n'
    ...                  'conjuncts = {"voted-proposals": ForAll([a, b, v], vote(a, b, v) >> proposed(b, v))}\\n')
    >>> load_conjuncts(paxos_system(), f).invariant_sets["mine"]
    ('voted-proposals',)
    >>> _ = f.write_text('conjuncts = {"x": ForAll([], votes(1))}\\n')
    >>> load_conjuncts(paxos_system(), f)
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidFormula: ...mine.py line 1: name 'votes' is not defined; paxos's vocabulary has: vote, proposed, member, max_bal, max_vbal, max_val, sent_1a, sent_1b (sorts Acceptor, Value, Ballot, Quorum)
    """
    path = Path(path)
    if not path.is_file():
        what = ("no such file" if not path.exists() else "a folder" if path.is_dir()
                else "not a regular file (a device or a pipe)")
        raise InvalidParameter(f"{path}: {what}; give a Python file that defines conjuncts = {{name: formula}}")
    if path.suffix != ".py":  # a JSON result or a note would be run as Python, and fail confusingly, or not at all
        raise InvalidParameter(f"{path}: not a Python file (.py); give a Python file that defines "
                               "conjuncts = {name: formula}")
    sig = system.signature
    scope: dict[str, Any] = {name: getattr(language, name) for name in _LANGUAGE}
    scope.update(sig.sorts)
    scope.update(sig.symbols)
    scope["model_conjuncts"] = {c.name: c.formula for c in system.conjuncts}
    vocabulary = (f"{system.name}'s vocabulary has: {', '.join(sig.symbols)} "
                  f"(sorts {', '.join(sig.sorts)})")
    try:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        exec(code, scope)  # noqa: S102 - the user's own proof file, like a mypyvy file (documented)
    except SyntaxError as e:
        raise InvalidFormula(f"{path} line {e.lineno}: {e.msg}") from None
    except NameError as e:
        raise InvalidFormula(f"{path} line {_line(e, path)}: {e}; {vocabulary}") from None
    except InvalidFormula as e:
        raise InvalidFormula(f"{path} line {_line(e, path)}: {e}") from None
    except SystemExit as e:  # it would end quorumcheck with the file's status: 0 would read as PROVED
        raise InvalidFormula(f"{path} line {_line(e, path)}: the file calls exit({e.code!r}); it must only define "
                             "conjuncts = {'name': formula, ...}") from None
    except Exception as e:  # noqa: BLE001 - any other mistake in the file is the user's, reported in one line
        raise InvalidFormula(f"{path} line {_line(e, path)}: {type(e).__name__}: {e}") from None
    given = scope.get("conjuncts")
    if not isinstance(given, dict) or not given:
        raise InvalidFormula(f"{path} must define conjuncts = {{'name': formula, ...}} (a non-empty dict)")
    known = {c.name for c in system.conjuncts}
    added = []
    for name, value in given.items():
        formula, description = value if isinstance(value, tuple) else (value, "")
        if not isinstance(name, str) or not name:
            raise InvalidFormula(f"{path}: conjunct names must be non-empty strings, got {name!r}")
        if name in known:
            raise InvalidFormula(f"{path}: conjunct {name!r} is already one of {system.name}'s; give it another name")
        if not isinstance(formula, language.Formula):
            raise InvalidFormula(f"{path}: conjunct {name!r} is {formula!r}, not a formula; build it with ForAll, "
                                 "Exists and the vocabulary's relations")
        added.append(Conjunct(name, formula, description))
    if path.stem in system.invariant_sets:  # the file's set is named after it: it must not hide a built-in set
        raise InvalidParameter(f"{path}: {system.name} already has an invariant set named {path.stem!r} "
                               f"({', '.join(system.invariant_sets)}); rename the file")
    sets = {**system.invariant_sets, path.stem: tuple(c.name for c in added)}
    try:
        return dataclasses.replace(system, conjuncts=(*system.conjuncts, *added), invariant_sets=sets)
    except InvalidFormula as e:
        raise InvalidFormula(f"{path}: {e}") from None


def _line(error: BaseException, path: Path) -> int | str:
    tb = error.__traceback__
    line: int | str = "?"
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
