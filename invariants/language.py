"""A small typed first-order language for writing a property once.

Sorts are finite sets of elements (``Acceptor``, ``Value``; ordered ones such
as ``Ballot`` or ``Term`` are ints with ``<``). A :class:`Signature` declares
the relations and functions a model's states interpret (``vote(a, b, v)``,
``current_term(s)``). Formulas are built with Python operators and a few
functions, and every mistake is reported when the formula is *built*:

* ``&`` and, ``|`` or, ``~`` not, ``>>`` implies; :func:`And`, :func:`Or`,
  :func:`Not`, :func:`Implies`, :func:`Iff`;
* ``==``, ``!=`` on terms of one sort, ``<``, ``<=``, ``>``, ``>=`` on ordered sorts;
* :func:`ForAll` and :func:`Exists` over variables of a sort;
* :class:`Definition` -- a named, parameterised formula (``chosen(v)``);
* ``symbol.after(...)`` reads a relation or function in the *successor* state,
  for action properties over a transition.

Nothing here refers to explicit states, so the same formulas can later be
handed to a symbolic prover; the evaluators (:mod:`.evaluate`, :mod:`.z3backend`)
interpret them in one finite structure per state.

Examples
--------
>>> Acceptor, Value = Sort("Acceptor"), Sort("Value")
>>> Ballot = Sort("Ballot", ordered=True)
>>> sig = Signature("voting", [Acceptor, Value, Ballot])
>>> vote = sig.relation("vote", Acceptor, Ballot, Value)
>>> a, v, w, b = Acceptor.var("a"), Value.var("v"), Value.var("w"), Ballot.var("b")
>>> voted = Definition("voted", [a, v], Exists(b, vote(a, b, v)))
>>> print(ForAll([a, v, w], (voted(a, v) & voted(a, w)) >> (v == w)))
forall a:Acceptor, v:Value, w:Value. ((voted(a, v) & voted(a, w)) -> v = w)
>>> vote(v, b, a)
Traceback (most recent call last):
...
quorumcheck.errors.InvalidFormula: vote expects (Acceptor, Ballot, Value) but argument 1 is v of sort Value; pass a term of sort Acceptor
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

from quorumcheck.errors import InvalidFormula

__all__ = [
    "Sort",
    "Var",
    "Const",
    "constants",
    "Term",
    "Relation",
    "Function",
    "Signature",
    "Formula",
    "Definition",
    "And",
    "Or",
    "Not",
    "Implies",
    "Iff",
    "ForAll",
    "Exists",
    "TRUE",
    "FALSE",
    "free_vars",
    "symbols",
    "definitions",
    "prime",
]


# -- sorts and terms -------------------------------------------------------------------------------
class Sort:
    """A finite sort. Ordered sorts have int elements and support ``<``.

    >>> Term_ = Sort("Term", ordered=True)
    >>> t = Term_.var("t")
    >>> print(t < Term_(2))
    t < 2
    """

    __slots__ = ("name", "ordered")

    def __init__(self, name: str, *, ordered: bool = False) -> None:
        if not name.isidentifier():
            raise InvalidFormula(f"sort name {name!r} must be an identifier, e.g. 'Acceptor'")
        self.name = name
        self.ordered = ordered

    def var(self, name: str) -> Var:
        """A variable of this sort."""
        return Var(name, self)

    def vars(self, names: str) -> tuple[Var, ...]:
        """Several variables: ``a, b = Acceptor.vars("a b")``."""
        return tuple(Var(n, self) for n in names.split())

    def __call__(self, value: Any) -> Const:
        """An element literal: ``Ballot(0)``, ``Role("Leader")``."""
        if self.ordered and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidFormula(f"elements of the ordered sort {self.name} are integers, not {value!r}")
        return Const(self, value)

    def __repr__(self) -> str:
        return self.name


class Term:
    """A term of some sort: a variable, an element literal, or a function application."""

    sort: Sort
    __hash__ = object.__hash__

    def _other(self, other: object, op: str) -> Term:
        if isinstance(other, Term):
            term = other
        elif isinstance(other, (int, str)) and not isinstance(other, bool):
            term = self.sort(other)
        else:
            raise InvalidFormula(f"cannot compare {self} with {other!r} using {op}; compare two terms of one sort")
        if term.sort is not self.sort:
            raise InvalidFormula(
                f"{self} {op} {term} compares sort {self.sort.name} with sort {term.sort.name}; "
                "both sides of a comparison must have one sort"
            )
        if op not in ("=", "!=") and not self.sort.ordered:
            raise InvalidFormula(
                f"{self} {op} {term}: sort {self.sort.name} is not ordered; order comparisons need an ordered sort "
                f"(declare it Sort({self.sort.name!r}, ordered=True))"
            )
        return term

    def __eq__(self, other: object) -> Formula:  # type: ignore[override]
        return Formula("eq", (self, self._other(other, "=")))

    def __ne__(self, other: object) -> Formula:  # type: ignore[override]
        return Formula("not", (Formula("eq", (self, self._other(other, "!="))),))

    def __lt__(self, other: object) -> Formula:
        return Formula("lt", (self, self._other(other, "<")))

    def __le__(self, other: object) -> Formula:
        return Formula("le", (self, self._other(other, "<=")))

    def __gt__(self, other: object) -> Formula:
        return Formula("lt", (self._other(other, ">"), self))

    def __ge__(self, other: object) -> Formula:
        return Formula("le", (self._other(other, ">="), self))


class Var(Term):
    """A variable, bound by a quantifier or a definition's parameter list."""

    __slots__ = ("name", "sort")
    __hash__ = Term.__hash__

    def __init__(self, name: str, sort: Sort) -> None:
        if not name.isidentifier():
            raise InvalidFormula(f"variable name {name!r} must be an identifier")
        self.name, self.sort = name, sort

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"{self.name}:{self.sort.name}"


class Const(Term):
    """An element of a sort, named in the formula (``Ballot(0)``, ``Role("Leader")``)."""

    __slots__ = ("sort", "value")
    __hash__ = Term.__hash__

    def __init__(self, sort: Sort, value: Any) -> None:
        self.sort, self.value = sort, value

    def __str__(self) -> str:
        return str(self.value)

    __repr__ = __str__


class Apply(Term):
    """A function application ``f(t1, ..., tn)``, in the current or the successor state."""

    __slots__ = ("function", "args", "primed", "sort")
    __hash__ = Term.__hash__

    def __init__(self, function: Function, args: tuple[Term, ...], primed: bool) -> None:
        self.function, self.args, self.primed, self.sort = function, args, primed, function.result

    def __str__(self) -> str:
        return f"{self.function.name}{_prime(self.primed)}({', '.join(map(str, self.args))})"

    __repr__ = __str__


def _prime(primed: bool) -> str:
    return "'" if primed else ""


def _check_args(name: str, domain: tuple[Sort, ...], args: tuple[Any, ...]) -> tuple[Term, ...]:
    if len(args) != len(domain):
        raise InvalidFormula(
            f"{name} takes {len(domain)} argument(s) ({', '.join(s.name for s in domain)}), got {len(args)}"
        )
    out = []
    for i, (sort, arg) in enumerate(zip(domain, args), start=1):
        if isinstance(arg, (int, str)) and not isinstance(arg, bool):
            arg = sort(arg)
        if not isinstance(arg, Term):
            raise InvalidFormula(f"argument {i} of {name} must be a term of sort {sort.name}, got {arg!r}")
        if arg.sort is not sort:
            raise InvalidFormula(
                f"{name} expects ({', '.join(s.name for s in domain)}) but argument {i} is {arg} of sort "
                f"{arg.sort.name}; pass a term of sort {sort.name}"
            )
        out.append(arg)
    return tuple(out)


class Relation:
    """A relation symbol ``name ⊆ S1 × ... × Sn``; apply it to terms to get an atomic formula."""

    __slots__ = ("name", "domain")

    def __init__(self, name: str, *domain: Sort) -> None:
        self.name, self.domain = name, tuple(domain)

    def __call__(self, *args: Any) -> Formula:
        return Formula("atom", (self, _check_args(self.name, self.domain, args), False))

    def after(self, *args: Any) -> Formula:
        """The relation in the successor state (for action properties)."""
        return Formula("atom", (self, _check_args(self.name, self.domain, args), True))

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(s.name for s in self.domain)})"


class Function:
    """A function symbol ``name : S1 × ... × Sn -> S``; apply it to terms to get a term."""

    __slots__ = ("name", "domain", "result")

    def __init__(self, name: str, domain: Sequence[Sort], result: Sort) -> None:
        self.name, self.domain, self.result = name, tuple(domain), result

    def __call__(self, *args: Any) -> Apply:
        return Apply(self, _check_args(self.name, self.domain, args), False)

    def after(self, *args: Any) -> Apply:
        """The function in the successor state (for action properties)."""
        return Apply(self, _check_args(self.name, self.domain, args), True)

    def __repr__(self) -> str:
        return f"{self.name}: {' x '.join(s.name for s in self.domain) or '()'} -> {self.result.name}"


Symbol = Union[Relation, Function]


# -- formulas -----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Formula:
    """A formula node: ``op`` and its operands. Build formulas with the operators, not directly.

    ``op`` is one of ``atom`` (relation, args, primed), ``eq``/``lt``/``le``
    (two terms), ``not``, ``and``, ``or``, ``implies``, ``iff`` (subformulas),
    ``forall``/``exists`` (variables, body), ``def`` (definition, args),
    ``true``, ``false``.
    """

    op: str
    parts: tuple[Any, ...]

    def __and__(self, other: Formula) -> Formula:
        return And(self, other)

    def __or__(self, other: Formula) -> Formula:
        return Or(self, other)

    def __invert__(self) -> Formula:
        return Not(self)

    def __rshift__(self, other: Formula) -> Formula:
        return Implies(self, other)

    def __bool__(self) -> bool:
        raise InvalidFormula(
            "a formula has no truth value in Python; use &, |, ~ and >> (or And/Or/Not/Implies), "
            "not 'and', 'or', 'not' or 'if'"
        )

    def __str__(self) -> str:
        return _show(self)


TRUE = Formula("true", ())
FALSE = Formula("false", ())


def _formula(x: Any, where: str) -> Formula:
    if not isinstance(x, Formula):
        raise InvalidFormula(f"{where} needs formulas, got {x!r}; compare terms with == or apply a relation")
    return x


def And(*parts: Formula) -> Formula:
    """Conjunction (``TRUE`` when empty)."""
    return Formula("and", tuple(_formula(p, "And") for p in parts)) if parts else TRUE


def Or(*parts: Formula) -> Formula:
    """Disjunction (``FALSE`` when empty)."""
    return Formula("or", tuple(_formula(p, "Or") for p in parts)) if parts else FALSE


def Not(part: Formula) -> Formula:
    """Negation."""
    return Formula("not", (_formula(part, "Not"),))


def Implies(premise: Formula, conclusion: Formula) -> Formula:
    """Implication."""
    return Formula("implies", (_formula(premise, "Implies"), _formula(conclusion, "Implies")))


def Iff(left: Formula, right: Formula) -> Formula:
    """Equivalence."""
    return Formula("iff", (_formula(left, "Iff"), _formula(right, "Iff")))


def _quant(op: str, variables: Var | Iterable[Var], body: Formula) -> Formula:
    vs = (variables,) if isinstance(variables, Var) else tuple(variables)
    for v in vs:
        if not isinstance(v, Var):
            raise InvalidFormula(f"{op} binds variables made with Sort.var(), got {v!r}")
    names = [v.name for v in vs]
    if len(set(names)) != len(names):
        raise InvalidFormula(f"{op} binds the variable name {names[0]!r} twice; give each variable its own name")
    return Formula(op, (vs, _formula(body, op)))


def ForAll(variables: Var | Iterable[Var], body: Formula) -> Formula:
    """Universal quantification over finite sorts."""
    return _quant("forall", variables, body)


def Exists(variables: Var | Iterable[Var], body: Formula) -> Formula:
    """Existential quantification over finite sorts."""
    return _quant("exists", variables, body)


class Definition:
    """A named formula with parameters, used like a relation: ``chosen(v)``.

    Its body may mention only its parameters as free variables.

    >>> Value, Ballot = Sort("Value"), Sort("Ballot", ordered=True)
    >>> proposed = Relation("proposed", Ballot, Value)
    >>> v, b = Value.var("v"), Ballot.var("b")
    >>> was_proposed = Definition("was_proposed", [v], Exists(b, proposed(b, v)))
    >>> print(was_proposed(v))
    was_proposed(v)
    >>> Definition("bad", [], proposed(b, v))
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidFormula: definition bad uses the unbound variable(s) b, v; add them to its parameters or bind them with ForAll/Exists
    """

    __slots__ = ("name", "params", "body")

    def __init__(self, name: str, params: Sequence[Var], body: Formula) -> None:
        self.name, self.params, self.body = name, tuple(params), _formula(body, f"definition {name}")
        unbound = free_vars(self.body) - set(self.params)
        if unbound:
            raise InvalidFormula(
                f"definition {name} uses the unbound variable(s) {', '.join(sorted(v.name for v in unbound))}; "
                "add them to its parameters or bind them with ForAll/Exists"
            )

    def __call__(self, *args: Any) -> Formula:
        return Formula("def", (self, _check_args(self.name, tuple(p.sort for p in self.params), args)))

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(repr(p) for p in self.params)}) := {self.body}"

    __str__ = __repr__


# -- signatures -------------------------------------------------------------------------------------
class Signature:
    """The sorts, relations and functions a model's states interpret.

    Examples
    --------
    >>> Server, Term_ = Sort("Server"), Sort("Term", ordered=True)
    >>> sig = Signature("raft", [Server, Term_])
    >>> current_term = sig.function("current_term", [Server], Term_)
    >>> sig.symbol("current_term") is current_term
    True
    >>> sig.symbol("currentTerm")
    Traceback (most recent call last):
    ...
    quorumcheck.errors.InvalidFormula: signature raft has no relation or function 'currentTerm'; it declares: current_term
    """

    def __init__(self, name: str, sorts: Sequence[Sort]) -> None:
        self.name = name
        self.sorts: dict[str, Sort] = {}
        for s in sorts:
            if s.name in self.sorts:
                raise InvalidFormula(f"signature {name} declares sort {s.name} twice")
            self.sorts[s.name] = s
        self.symbols: dict[str, Symbol] = {}

    def _declare(self, symbol: Symbol, sorts: Iterable[Sort]) -> None:
        for s in sorts:
            if self.sorts.get(s.name) is not s:
                raise InvalidFormula(
                    f"{symbol.name} uses sort {s.name}, which signature {self.name} does not declare; "
                    f"declared sorts: {', '.join(self.sorts)}"
                )
        if symbol.name in self.symbols:
            raise InvalidFormula(f"signature {self.name} already declares {symbol.name}")
        self.symbols[symbol.name] = symbol

    def extend(self, name: str, sorts: Sequence[Sort] = ()) -> Signature:
        """A new signature with this one's sorts and symbols (the same objects), plus ``sorts``.

        A protocol's symbolic description reads more than its properties do
        (messages, per-node variables); it extends the properties' signature so
        that both share one ``vote``, one ``max_bal``.

        >>> S = Sort("S"); base = Signature("base", [S]); r = base.relation("r", S)
        >>> more = base.extend("more"); g = more.function("g", [S], S)
        >>> more.symbol("r") is r, list(base.symbols)
        (True, ['r'])
        """
        out = Signature(name, [*self.sorts.values(), *sorts])
        out.symbols = dict(self.symbols)
        return out

    def relation(self, name: str, *domain: Sort) -> Relation:
        """Declare a relation ``name ⊆ domain[0] × ...``."""
        rel = Relation(name, *domain)
        self._declare(rel, domain)
        return rel

    def function(self, name: str, domain: Sequence[Sort], result: Sort) -> Function:
        """Declare a function ``name : domain -> result``."""
        fun = Function(name, domain, result)
        self._declare(fun, (*domain, result))
        return fun

    def symbol(self, name: str) -> Symbol:
        """The relation or function called ``name``."""
        try:
            return self.symbols[name]
        except KeyError:
            raise InvalidFormula(
                f"signature {self.name} has no relation or function {name!r}; it declares: {', '.join(self.symbols)}"
            ) from None

    def check(self, formula: Formula, what: str) -> None:
        """Reject a formula that is not closed or steps outside this signature."""
        unbound = free_vars(formula)
        if unbound:
            raise InvalidFormula(
                f"{what} uses the unbound variable(s) {', '.join(sorted(v.name for v in unbound))}; "
                "bind them with ForAll/Exists"
            )
        for node in _walk(formula):
            if node.op in ("forall", "exists"):
                for v in node.parts[0]:
                    if self.sorts.get(v.sort.name) is not v.sort:
                        raise InvalidFormula(
                            f"{what} quantifies {v.name} over sort {v.sort.name}, which signature {self.name} does "
                            f"not declare; declared sorts: {', '.join(self.sorts)}"
                        )
        for sym in symbols(formula):
            if self.symbols.get(sym.name) is not sym:
                raise InvalidFormula(
                    f"{what} uses {sym.name}, which signature {self.name} does not declare; "
                    f"declared: {', '.join(self.symbols)}"
                )


# -- traversals ---------------------------------------------------------------------------------------
def _walk(f: Formula) -> Iterable[Formula]:
    """Every formula node, definitions' bodies included."""
    stack = [f]
    while stack:
        node = stack.pop()
        yield node
        if node.op in ("not", "and", "or", "implies", "iff"):
            stack.extend(node.parts)
        elif node.op in ("forall", "exists"):
            stack.append(node.parts[1])
        elif node.op == "def":
            stack.append(node.parts[0].body)


def _terms(f: Formula) -> Iterable[Term]:
    if f.op == "atom":
        yield from f.parts[1]
    elif f.op in ("eq", "lt", "le"):
        yield from f.parts
    elif f.op == "def":
        yield from f.parts[1]


def _term_vars(t: Term) -> set[Var]:
    if isinstance(t, Var):
        return {t}
    if isinstance(t, Apply):
        return set().union(*(_term_vars(a) for a in t.args)) if t.args else set()
    return set()


def free_vars(f: Formula) -> set[Var]:
    """The variables of ``f`` not bound by a quantifier (definitions are closed over their parameters).

    >>> S = Sort("S"); x, y = S.vars("x y"); r = Relation("r", S, S)
    >>> sorted(v.name for v in free_vars(ForAll(x, r(x, y))))
    ['y']
    """
    if f.op in ("forall", "exists"):
        return free_vars(f.parts[1]) - set(f.parts[0])
    if f.op in ("not", "and", "or", "implies", "iff"):
        return set().union(*(free_vars(p) for p in f.parts)) if f.parts else set()
    out: set[Var] = set()
    for t in _terms(f):
        out |= _term_vars(t)
    return out


def _term_symbols(t: Term) -> Iterable[tuple[Symbol, bool]]:
    if isinstance(t, Apply):
        yield t.function, t.primed
        for a in t.args:
            yield from _term_symbols(a)


def symbols(f: Formula, *, primed: bool | None = None) -> list[Symbol]:
    """The relations and functions ``f`` reads (its footprint), in first-use order.

    ``primed=False`` / ``True`` keeps only reads of the current / successor state.

    >>> S = Sort("S"); x = S.var("x"); r = Relation("r", S); g = Function("g", [S], S)
    >>> [s.name for s in symbols(ForAll(x, r(x) >> r.after(g(x))))]
    ['r', 'g']
    >>> [s.name for s in symbols(ForAll(x, r(x) >> r.after(g(x))), primed=True)]
    ['r']
    """
    seen: dict[str, Symbol] = {}
    for node in _walk(f):
        found: list[tuple[Symbol, bool]] = []
        if node.op == "atom":
            found.append((node.parts[0], node.parts[2]))
        for t in _terms(node):
            found.extend(_term_symbols(t))
        for sym, is_primed in found:
            if primed is None or primed == is_primed:
                seen.setdefault(sym.name, sym)
    return list(seen.values())


def _term_constants(t: Term) -> Iterable[Const]:
    if isinstance(t, Const):
        yield t
    elif isinstance(t, Apply):
        for a in t.args:
            yield from _term_constants(a)


def constants(f: Formula) -> list[Const]:
    """The constants ``f`` names (definitions' bodies included), in first-use order, each once.

    A property that names a particular element of a sort is not symmetric in
    that sort, so symmetry reduction must leave the sort alone. A negative int
    (a model's "none") is not an element of the sort and is not reported.

    >>> S = Sort("S"); x = S.var("x"); r = Relation("r", S)
    >>> [str(c) for c in constants(ForAll(x, r(x) >> (x == S("s1"))))]
    ['s1']
    >>> constants(ForAll(x, r(x) >> (x != S(-1))))
    []
    """
    seen: dict[tuple[str, str], Const] = {}
    for node in _walk(f):
        for t in _terms(node):
            for c in _term_constants(t):
                if isinstance(c.value, int) and not isinstance(c.value, bool) and c.value < 0:
                    continue
                seen.setdefault((c.sort.name, repr(c.value)), c)
    return list(seen.values())


def definitions(f: Formula) -> list[Definition]:
    """The named definitions ``f`` uses, directly or through other definitions, innermost last.

    >>> S = Sort("S"); x = S.var("x"); r = Relation("r", S)
    >>> d = Definition("d", [x], r(x))
    >>> [str(e) for e in definitions(ForAll(x, d(x)))]
    ['d(x:S) := r(x)']
    """
    seen: dict[str, Definition] = {}
    for node in _walk(f):
        if node.op == "def":
            seen.setdefault(node.parts[0].name, node.parts[0])
    return list(seen.values())


def _show(f: Formula) -> str:
    op, parts = f.op, f.parts
    if op == "true":
        return "true"
    if op == "false":
        return "false"
    if op == "atom":
        return f"{parts[0].name}{_prime(parts[2])}({', '.join(map(str, parts[1]))})"
    if op == "def":
        return f"{parts[0].name}({', '.join(map(str, parts[1]))})"
    if op == "eq":
        return f"{parts[0]} = {parts[1]}"
    if op == "lt":
        return f"{parts[0]} < {parts[1]}"
    if op == "le":
        return f"{parts[0]} <= {parts[1]}"
    if op == "not":
        inner = parts[0]
        if inner.op == "eq":
            return f"{inner.parts[0]} != {inner.parts[1]}"
        return f"~{_wrap(inner)}"
    if op in ("and", "or", "implies", "iff"):
        sym = {"and": " & ", "or": " | ", "implies": " -> ", "iff": " <-> "}[op]
        return "(" + sym.join(_wrap(p) for p in parts) + ")"
    if op in ("forall", "exists"):
        vs = ", ".join(repr(v) for v in parts[0])
        return f"{op} {vs}. {_show(parts[1])}"
    raise AssertionError(op)


def _wrap(f: Formula) -> str:
    text = _show(f)
    return f"({text})" if f.op in ("forall", "exists") else text


def _prime_term(t: Term, names: frozenset[str]) -> Term:
    if isinstance(t, Apply):
        args = tuple(_prime_term(a, names) for a in t.args)
        return Apply(t.function, args, t.primed or t.function.name in names)
    return t


def prime(f: Formula, names: Iterable[str], _defs: dict[str, Definition] | None = None) -> Formula:
    """``f`` read in the successor state: every relation and function in ``names`` gets primed.

    Symbols not in ``names`` (static ones, such as quorum membership) stay as
    they are. A definition that reads a primed symbol becomes a primed copy
    (``chosen'``).

    >>> S = Sort("S"); x = S.var("x"); r = Relation("r", S); m = Relation("m", S)
    >>> print(prime(ForAll(x, m(x) >> r(x)), ["r"]))
    forall x:S. (m(x) -> r'(x))
    """
    names = frozenset(names)
    defs = {} if _defs is None else _defs
    op, parts = f.op, f.parts
    if op == "atom":
        rel, args, primed = parts
        return Formula("atom", (rel, tuple(_prime_term(a, names) for a in args), primed or rel.name in names))
    if op in ("eq", "lt", "le"):
        return Formula(op, tuple(_prime_term(t, names) for t in parts))
    if op in ("not", "and", "or", "implies", "iff"):
        return Formula(op, tuple(prime(p, names, defs) for p in parts))
    if op in ("forall", "exists"):
        return Formula(op, (parts[0], prime(parts[1], names, defs)))
    if op == "def":
        definition, args = parts
        args = tuple(_prime_term(a, names) for a in args)
        if not any(s.name in names for s in symbols(definition.body)):
            return Formula("def", (definition, args))
        key = definition.name + "'"
        if key not in defs:
            defs[key] = Definition(key, definition.params, TRUE)  # body set next (definitions may nest)
            defs[key].body = prime(definition.body, names, defs)
        return Formula("def", (defs[key], args))
    return f
