"""Invariants: write a property once as a first-order formula; Z3 judges it in every explored state.

* :mod:`.language` -- sorts, relations, functions, formulas, definitions, signatures;
* :mod:`.structure` -- how a model exposes a state as a finite structure;
* :mod:`.z3backend` -- the one translator to Z3, and the reused-solver check;
* :mod:`.evaluate` -- the plain-Python evaluator of the same formulas;
* :mod:`.judge` -- footprint-cached judging and :func:`formula_property`;
* :mod:`.standard` -- the standard Paxos and Raft properties.

Examples
--------
>>> from quorumcheck.invariants import Sort, Signature, ForAll, Exists
>>> Value = Sort("Value")
>>> sig = Signature("decide", [Value])
>>> decided = sig.relation("decided", Value)
>>> v, w = Value.vars("v w")
>>> print(ForAll([v, w], (decided(v) & decided(w)) >> (v == w)))
forall v:Value, w:Value. ((decided(v) & decided(w)) -> v = w)
"""

from .evaluate import evaluate
from .judge import EVALUATORS, Judge, JudgeStats, formula_property
from .language import (
    FALSE,
    TRUE,
    And,
    Definition,
    Exists,
    ForAll,
    Formula,
    Function,
    Iff,
    Implies,
    Not,
    Or,
    Relation,
    Signature,
    Sort,
    Var,
    definitions,
    free_vars,
    symbols,
)
from .structure import Derived, Interpretation
from .z3backend import FiniteCheck, Translator

__all__ = [
    "Sort", "Var", "Relation", "Function", "Signature", "Formula", "Definition",
    "And", "Or", "Not", "Implies", "Iff", "ForAll", "Exists", "TRUE", "FALSE",
    "free_vars", "symbols", "definitions", "Interpretation", "Derived", "evaluate", "Translator", "FiniteCheck",
    "Judge", "JudgeStats", "formula_property", "EVALUATORS",
]
