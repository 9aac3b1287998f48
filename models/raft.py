"""Raft with exactly the semantics of Ongaro's ``raft.tla``.

The specification (ongardie/raft.tla) keeps, per server, ``currentTerm``,
``state`` (Follower, Candidate or Leader), ``votedFor``, ``log``,
``commitIndex``, ``votesResponded``, ``votesGranted``, ``nextIndex`` and
``matchIndex``; the network is a *bag* of messages (a message can be
delivered, duplicated or dropped, in any order); and three history variables,
``elections``, ``allLogs`` and ``voterLog``, record the past for the proofs.
Its actions are ``Restart(i)``, ``Timeout(i)``, ``RequestVote(i, j)``,
``BecomeLeader(i)``, ``ClientRequest(i, v)``, ``AdvanceCommitIndex(i)``,
``AppendEntries(i, j)``, ``Receive(m)`` (``UpdateTerm``,
``DropStaleResponse`` and the four message handlers), ``DuplicateMessage(m)``
and ``DropMessage(m)``. This model has one transition per action and
parameters. ``Receive(m)`` is deterministic (in any state at most one of its
disjuncts is enabled), so it is one transition per message in the bag.

State representation (a bijection with raft.tla's state when
``history=True``, so that distinct-state counts equal TLC's): one
:class:`Server` record per server (raft.tla's per-server functions, read
row-wise), the bag as a frozenset of ``(message, count)`` pairs, and the
history variables. Servers and values are ints inside the state and names
outside it. ``docs/raft.md`` explains which history is needed for TLC's
counts: all of it (at TLC's bounds, which are the defaults, 705,532 states
with it and 669,819 with ``history=False``).

The state space is infinite; :meth:`RaftModel.within_boundary` bounds it as
TLC's ``CONSTRAINT`` does: terms, log lengths, copies of one message and
messages in flight.

Examples
--------
>>> from quorumcheck.models import RaftModel
>>> from quorumcheck.explorer import explore
>>> r = explore(RaftModel(servers=2, max_term=2, max_log=0, restarts=False, duplication=False, loss=False))
>>> r.verdict.value, r.distinct_states, r.depth
('holds', 190, 20)
>>> r = explore(RaftModel(bug="vote-twice"))
>>> r.verdict.value, r.violations[0].property, len(r.violations[0].trace)
('violated', 'election-safety', 16)
"""

from __future__ import annotations

import re
from operator import itemgetter
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, NamedTuple

from quorumcheck.errors import InvalidParameter
from quorumcheck.invariants import Derived, Interpretation, formula_property, standard

from .api import MAX_BOUND, Action, Model, Parameter, Property, StepEvents, check_names
from .symmetry import Permutation

__all__ = [
    "FIGURE_8_B_3",
    "FIGURE_8_C_5",
    "LEADER_WITH_LONE_ENTRY",
    "AppendEntriesRequest",
    "AppendEntriesResponse",
    "Election",
    "MessageAction",
    "RaftModel",
    "RaftState",
    "RequestVoteRequest",
    "RequestVoteResponse",
    "Server",
]

# Server states, as ints inside the state.
FOLLOWER, CANDIDATE, LEADER = 0, 1, 2
ROLE_NAMES = ("Follower", "Candidate", "Leader")
NIL = -1  # raft.tla's Nil: no vote

# Message types. Every message tuple starts (mtype, term, source, dest, ...).
RV_REQUEST, RV_RESPONSE, AE_REQUEST, AE_RESPONSE = 0, 1, 2, 3
MESSAGE_NAMES = ("RequestVoteRequest", "RequestVoteResponse", "AppendEntriesRequest", "AppendEntriesResponse")

Entry = tuple[int, int]
"""A log entry ``(term, value)``."""
Log = tuple[Entry, ...]


class RequestVoteRequest(NamedTuple):
    """``[mtype |-> RequestVoteRequest, mterm, mlastLogTerm, mlastLogIndex, msource, mdest]``."""

    mtype: int
    term: int
    source: int
    dest: int
    last_log_term: int
    last_log_index: int


class RequestVoteResponse(NamedTuple):
    """``[mtype |-> RequestVoteResponse, mterm, mvoteGranted, mlog, msource, mdest]``.

    ``log`` is raft.tla's ``mlog`` (the voter's log, read only by the history
    variable ``voterLog``); it is ``()`` unless ``history=True``.
    """

    mtype: int
    term: int
    source: int
    dest: int
    granted: int
    log: Log


class AppendEntriesRequest(NamedTuple):
    """``[mtype |-> AppendEntriesRequest, mterm, mprevLogIndex, mprevLogTerm, mentries, mlog, mcommitIndex, ...]``.

    ``log`` is raft.tla's ``mlog`` (the leader's log, a history field); it is
    ``()`` unless ``history=True``.
    """

    mtype: int
    term: int
    source: int
    dest: int
    prev_log_index: int
    prev_log_term: int
    entries: Log
    commit_index: int
    log: Log


class AppendEntriesResponse(NamedTuple):
    """``[mtype |-> AppendEntriesResponse, mterm, msuccess, mmatchIndex, msource, mdest]``."""

    mtype: int
    term: int
    source: int
    dest: int
    success: int
    match_index: int


Message = RequestVoteRequest | RequestVoteResponse | AppendEntriesRequest | AppendEntriesResponse
Bag = frozenset  # of (message, count) pairs with count >= 1: raft.tla's function Message -> Nat


class Election(NamedTuple):
    """One record of raft.tla's ``elections`` history: who became leader in which term.

    ``log``, ``votes`` (a bitmask of voters) and ``voter_log`` are raft.tla's
    ``elog``, ``evotes`` and ``evoterLog``; they are kept only with
    ``history=True`` (otherwise ``()``, ``0``, ``()``).
    """

    term: int
    leader: int
    log: Log
    votes: int
    voter_log: tuple[tuple[int, Log], ...]


class Server(NamedTuple):
    """One server's variables (raft.tla's per-server functions, at one server).

    ``votes_responded`` and ``votes_granted`` are bitmasks of servers;
    ``next_index`` and ``match_index`` are indexed by server; ``voter_log``
    is the history variable ``voterLog[i]`` as sorted ``(voter, log)`` pairs
    (always ``()`` unless ``history=True``).
    """

    current_term: int
    role: int
    voted_for: int
    log: Log
    commit_index: int
    votes_responded: int
    votes_granted: int
    next_index: tuple[int, ...]
    match_index: tuple[int, ...]
    voter_log: tuple[tuple[int, Log], ...]


class RaftState(NamedTuple):
    """One state of raft.tla.

    ``messages`` is the bag as a frozenset of ``(message, count)`` pairs;
    ``all_logs`` is the history variable ``allLogs`` (always empty unless
    ``history=True``).
    """

    servers: tuple[Server, ...]
    messages: Bag
    elections: frozenset[Election]
    all_logs: frozenset[Log]


_new = tuple.__new__  # builds a NamedTuple without its __new__ call
_SHARED_LIMIT = 1 << 20  # share()'s table is cleared at this size (sharing is lost, nothing else)
_MLOG = re.compile(r" mlog=\[[^\]]*\]")  # the history field in a message label


BUGS = {
    "vote-twice": "HandleRequestVoteRequest grants a vote without checking votedFor",
    "forget-vote-on-restart": "Restart loses votedFor (it is not kept in stable storage)",
    "count-stale-votes": "a RequestVote response from an older term is counted instead of dropped",
    "no-log-check": "HandleRequestVoteRequest grants a vote without the log up-to-date check",
    "length-only-log-check": "the log up-to-date check compares log lengths only, not last terms",
    "commit-old-term": "AdvanceCommitIndex commits an earlier term's entry by counting replicas (Figure 8)",
    "accept-stale-append": "HandleAppendEntriesRequest accepts a request from a stale term",
    "truncate-on-append": "HandleAppendEntriesRequest cuts the log after prevLogIndex even without a conflict",
    "commit-to-log-end": "a follower sets commitIndex to the end of its log, not to the leader's commitIndex",
}


class MessageAction(Action):
    """An action on one message, labelled by the message: ``Receive(RequestVoteResponse s2->s1 term=2 granted)``.

    Its ``args`` are structured (``type``, ``source``, ``dest``, ``term``) for
    programs that draw traces; its text is the compact form above.

    Examples
    --------
    >>> a = MessageAction("DropMessage", "RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0",
    ...                   type="RequestVoteRequest", source="s1", dest="s2", term=2)
    >>> str(a), a.args["dest"]
    ('DropMessage(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)', 's2')
    """

    __slots__ = ()

    def __init__(self, name: str, text: str, **args: Any) -> None:
        super().__init__(name, **args)
        self._text = f"{name}({text})"


def _vote(candidate: int, voter: int, term: int, last_term: int = 0, last_index: int = 0,
          update_term: bool = False) -> list[str]:
    """The labels of one granted vote: RequestVote, Receive (twice when the voter first adopts the term), the reply."""
    request = (f"RequestVoteRequest s{candidate}->s{voter} term={term} "
               f"lastLogTerm={last_term} lastLogIndex={last_index}")
    return ([f"RequestVote(i=s{candidate}, j=s{voter})"] + [f"Receive({request})"] * (2 if update_term else 1)
            + [f"Receive(RequestVoteResponse s{voter}->s{candidate} term={term} granted)"])


def _append(leader: int, follower: int, term: int, prev: int, prev_term: int, entry_term: int | None = None,
            receives: int = 1, success: bool = True) -> list[str]:
    """The labels of one AppendEntries round: send, Receive (twice when an entry is appended), the reply.

    ``entry_term``: the term of the one entry sent (of value v1), or ``None`` for a heartbeat."""
    entries = "[]" if entry_term is None else f"[#{prev + 1} t{entry_term} v1]"
    request = (f"AppendEntriesRequest s{leader}->s{follower} term={term} prevLogIndex={prev} "
               f"prevLogTerm={prev_term} entries={entries} commitIndex=0")
    match = prev + (entries != "[]") if success else 0
    reply = f"AppendEntriesResponse s{follower}->s{leader} term={term} {'success' if success else 'failure'}"
    return ([f"AppendEntries(i=s{leader}, j=s{follower})"] + [f"Receive({request})"] * receives
            + [f"Receive({reply} matchIndex={match})"])


LEADER_WITH_LONE_ENTRY: tuple[str, ...] = (
    "Timeout(i=s1)", *_vote(1, 1, 2), *_vote(1, 2, 2, update_term=True), "BecomeLeader(i=s1)",
    "ClientRequest(i=s1, v=v1)",
)
"""A scripted start (3 servers, 10 steps): s1 is leader of term 2 with one entry that no other server has."""

FIGURE_8_B_3: tuple[str, ...] = (
    *LEADER_WITH_LONE_ENTRY, "Timeout(i=s2)", *_vote(2, 2, 3), *_vote(2, 3, 3, update_term=True),
    "BecomeLeader(i=s2)", "ClientRequest(i=s2, v=v1)",
)
"""Figure 8 (b) on 3 servers (20 steps): s1 leads term 2 and s2 term 3, each with an entry of its own term
that no other server has."""

FIGURE_8_C_5: tuple[str, ...] = tuple(
    # (a) s1 is elected in term 2 by s1, s2, s3 and replicates its entry to s2
    ["Timeout(i=s1)", *_vote(1, 1, 2), *_vote(1, 2, 2, update_term=True), *_vote(1, 3, 2, update_term=True),
     "BecomeLeader(i=s1)", "ClientRequest(i=s1, v=v1)", *_append(1, 2, 2, 0, 0, 2, receives=2)]
    # (b) s5 is elected in term 3 by s3, s4, s5 and appends an entry of term 3
    + ["Timeout(i=s5)", "Timeout(i=s5)", *_vote(5, 5, 3), *_vote(5, 3, 3, update_term=True),
       *_vote(5, 4, 3, update_term=True), "BecomeLeader(i=s5)", "ClientRequest(i=s5, v=v1)"]
    # (c) s1 learns of term 3, is elected in term 4 by s1, s2, s3 and replicates its term-2 entry to s3;
    #     s2 and s3 acknowledge it, so it is stored on a majority (but, correctly, not committed)
    + ["Timeout(i=s2)", *_vote(2, 1, 3, 2, 1, update_term=True), "Timeout(i=s1)", *_vote(1, 1, 4, 2, 1),
       *_vote(1, 2, 4, 2, 1, update_term=True), *_vote(1, 3, 4, 2, 1, update_term=True), "BecomeLeader(i=s1)",
       *_append(1, 3, 4, 1, 2, success=False), *_append(1, 3, 4, 0, 0, 2, receives=2),
       *_append(1, 2, 4, 1, 2)]
)
"""Figure 8 (c) of the Raft paper on 5 servers (61 steps), terms shifted by one (raft.tla starts in term 1)."""

_QUIET: dict[str, Any] = {"restarts": False, "duplication": False, "loss": False, "history": False}


def _tuple_setters(n: int) -> tuple[Callable[[tuple[Any, ...], Any], tuple[Any, ...]], ...]:
    """For each index i, a function ``(t, x) -> t with t[i] replaced by x`` for n-tuples.

    Written out per index (``lambda t, x: (t[0], x, t[2])``): about three times
    faster than slicing, and the search replaces one server in every step.

    Examples
    --------
    >>> _tuple_setters(3)[1]((1, 2, 3), 9)
    (1, 9, 3)
    """
    setters = []
    for i in range(n):
        items = ", ".join("x" if k == i else f"t[{k}]" for k in range(n))
        setters.append(eval(f"lambda t, x: ({items},)"))  # generated from ints only
    return tuple(setters)


class RaftModel(Model[RaftState]):
    """Ongaro's Raft (raft.tla), bounded as TLC bounds it, optionally with a known bug.

    Parameters
    ----------
    servers : int or list of str, default 3
        How many servers (named ``s1``, ``s2``, ...) or their names.
    values : int or list of str, default 1
        How many client values (``v1``, ...) or their names.
    max_term : int, default 2
        Bound: every ``currentTerm`` is at most this (terms start at 1).
    max_log : int, default 0
        Bound: every log has at most this many entries.
    max_copies : int, default 1
        Bound: at most this many copies of one message are in the bag.
    max_in_flight : int, default 1
        Bound: at most this many messages are in the bag, copies counted.
    restarts, loss : bool, default True
        Enable ``Restart(i)`` and ``DropMessage(m)``.
    duplication : bool, default False
        Enable ``DuplicateMessage(m)``. While ``max_copies`` or
        ``max_in_flight`` is 1, a duplicate always leaves the bound, so it
        changes no distinct-state count (only the transitions checked).
    election_only : bool, default False
        Leave out ``ClientRequest``: check leader election alone.
    history : bool, default True
        Keep raft.tla's history variables exactly (``allLogs``, ``voterLog``,
        the full ``elections`` records and the messages' ``mlog`` fields), so
        that distinct-state counts equal TLC's. With ``False`` only what the
        properties read is kept (``elections`` as term and leader): fewer
        states, the same shortest counterexamples.
    prefix : list of str, optional
        Action labels to replay from the initial state; the search starts
        where they end (a scripted start, e.g. for Figure 8). Traces then
        count steps after the prefix.
    bug : str, optional
        One of :attr:`bugs`. A bug brings its own default bounds
        (:attr:`BUG_DEFAULTS`) for every parameter left unset.

    Bounds have TLC ``CONSTRAINT`` semantics: a successor outside them is
    checked against the safety properties but neither counted nor expanded.

    Examples
    --------
    >>> m = RaftModel(servers=["a", "b", "c"], max_term=2, max_log=0)
    >>> s0 = next(iter(m.init_states()))
    >>> [str(a) for a, _ in m.successors(s0)][:4]
    ['Restart(i=a)', 'Restart(i=b)', 'Restart(i=c)', 'Timeout(i=a)']
    >>> s1 = m.next_state(s0, "Timeout(i=a)")
    >>> s1.servers[0].current_term, m.describe(s1)["state"]
    (2, {'a': 'Candidate', 'b': 'Follower', 'c': 'Follower'})
    """

    name = "raft"
    parameters = (
        Parameter("servers", "names", 3, "number of servers, or their names (s1, s2, ...)"),
        Parameter("values", "names", 1, "number of client values, or their names (v1, v2, ...)"),
        Parameter("max_term", "int", 2, "bound: every currentTerm is at most MAX_TERM (terms start at 1)"),
        Parameter("max_log", "int", 0, "bound: every log has at most MAX_LOG entries"),
        Parameter("max_copies", "int", 1, "bound: at most MAX_COPIES copies of one message in flight"),
        Parameter("max_in_flight", "int", 1, "bound: at most MAX_IN_FLIGHT messages in flight, copies counted"),
        Parameter("restarts", "bool", True, "servers may restart (keeping currentTerm, votedFor and log)"),
        Parameter("duplication", "bool", False, "the network may duplicate a message (no effect unless MAX_COPIES and MAX_IN_FLIGHT are at least 2)"),
        Parameter("loss", "bool", True, "the network may drop a message"),
        Parameter("election_only", "bool", False, "no client requests: check leader election alone"),
        Parameter("history", "bool", True, "keep raft.tla's history variables, so counts equal TLC's"),
        Parameter("prefix", "labels", None, "a scripted start: action labels to replay first, one per line (or a saved "
                  "trace); the search starts where they end"),
    )
    bugs = BUGS

    BUG_DEFAULTS: ClassVar[dict[str, dict[str, Any]]] = {
        "vote-twice": {"max_term": 2, "max_log": 0, **_QUIET},
        "forget-vote-on-restart": {"max_term": 2, "max_log": 0, **_QUIET, "restarts": True},
        "count-stale-votes": {"max_term": 3, "max_log": 0, **_QUIET},
        "no-log-check": {"max_term": 3, "max_log": 1, **_QUIET},
        "length-only-log-check": {"max_term": 4, "max_log": 1, **_QUIET, "prefix": LEADER_WITH_LONE_ENTRY},
        "commit-old-term": {"max_term": 5, "max_log": 1, **_QUIET, "prefix": FIGURE_8_B_3},
        "accept-stale-append": {"max_term": 3, "max_log": 1, **_QUIET},
        "truncate-on-append": {"max_term": 2, "max_log": 1, "max_in_flight": 2, **_QUIET},
        "commit-to-log-end": {"max_term": 3, "max_log": 1, **_QUIET},
    }
    """Per-bug defaults, applied to every parameter the caller leaves unset: the smallest
    bounds that show the bug, with the features it does not need switched off and
    history off (it changes no trace length). Two bugs need four elections on three
    servers, too many states for a plain search: they start from a scripted prefix
    that only sets the stage (see :data:`LEADER_WITH_LONE_ENTRY`, :data:`FIGURE_8_B_3`)."""

    def __init__(
        self,
        servers: int | Sequence[str] | None = None,
        values: int | Sequence[str] | None = None,
        max_term: int | None = None,
        max_log: int | None = None,
        max_copies: int | None = None,
        max_in_flight: int | None = None,
        restarts: bool | None = None,
        duplication: bool | None = None,
        loss: bool | None = None,
        election_only: bool | None = None,
        history: bool | None = None,
        prefix: Sequence[str] | None = None,
        bug: str | None = None,
    ) -> None:
        if bug is not None and not isinstance(bug, str):  # a list is unhashable: `in BUGS` would raise TypeError
            raise InvalidParameter(f"bug must be the name of one Raft bug (a str), got {bug!r}; choose one of: "
                                   f"{', '.join(BUGS)}")
        if bug is not None and bug not in BUGS:
            raise InvalidParameter(f"unknown Raft bug {bug!r}; choose one of: {', '.join(BUGS)}")
        given = {
            "servers": servers, "values": values, "max_term": max_term, "max_log": max_log,
            "max_copies": max_copies, "max_in_flight": max_in_flight, "restarts": restarts,
            "duplication": duplication, "loss": loss, "election_only": election_only, "history": history,
            "prefix": prefix,
        }
        settings = {p.name: p.default for p in self.parameters}
        if bug is not None:
            settings.update(self.BUG_DEFAULTS[bug])
        settings.update({k: v for k, v in given.items() if v is not None})

        self.servers = check_names("servers", settings["servers"], "s", "servers=3")
        self.values = check_names("values", settings["values"], "v", "values=1")
        self.max_term = _check_int("max_term", settings["max_term"], 1, "terms start at 1; pass e.g. max_term=2")
        self.max_log = _check_int("max_log", settings["max_log"], 0, "pass e.g. max_log=1")
        self.max_copies = _check_int("max_copies", settings["max_copies"], 1, "pass e.g. max_copies=1")
        self.max_in_flight = _check_int(
            "max_in_flight", settings["max_in_flight"], 1, "with 0 no message could be sent; pass e.g. max_in_flight=1"
        )
        for flag in ("restarts", "duplication", "loss", "election_only", "history"):
            if not isinstance(settings[flag], bool):
                raise InvalidParameter(f"{flag} must be true or false, not {settings[flag]!r}; pass e.g. {flag}=True")
        self.restarts: bool = settings["restarts"]
        self.duplication: bool = settings["duplication"]
        self.loss: bool = settings["loss"]
        self.election_only: bool = settings["election_only"]
        self.history: bool = settings["history"]
        self.bug = bug

        n = len(self.servers)
        self._n = n
        self._server_index = {name: k for k, name in enumerate(self.servers)}
        self._quorum = n // 2 + 1
        self._set = _tuple_setters(n)
        self._fresh_next, self._fresh_match = (1,) * n, (0,) * n  # nextIndex[i], matchIndex[i] after a restart
        self._init_labels()
        # Caches. Bags and allLogs values are interned (one object per value), so
        # look-ups keyed on them hash in O(1) (a frozenset caches its hash) and
        # compare by identity.
        self._bags: dict[Bag, Bag] = {}
        self._bag_items: dict[Bag, tuple[tuple[Message, int], ...]] = {}
        self._bag_ok: dict[Bag, bool] = {}
        self._send_cache: dict[tuple[Bag, Message], Bag] = {}
        self._discard_cache: dict[tuple[Bag, Message], Bag] = {}
        self._reply_cache: dict[tuple[Bag, Message, Message], Bag] = {}
        self._all_logs_objects: dict[frozenset[Log], frozenset[Log]] = {}
        self._restarted: dict[Server, Server] = {}
        self._last_servers: tuple[Server, ...] | None = None
        self._last_servers_ok = True
        self._timed_out: dict[Server, Server] = {}
        self._updated: dict[tuple[Server, int], Server] = {}
        self._message_labels: dict[Message, tuple[Action, Action, Action]] = {}
        self._permuters: dict[Permutation, _RaftPermuter] = {}
        self._signature_cache: dict[Server, tuple[Any, ...]] = {}
        self._shared: dict[Any, Any] = {}  # share(): servers and elections sets received from other processes

        self.prefix: tuple[str, ...] = ()
        self._start: RaftState | None = None
        if settings["prefix"] is not None:
            try:
                self.prefix = self._check_prefix(settings["prefix"])
            except InvalidParameter as e:
                if prefix is None and bug is not None:  # the bug's scripted start, with bounds the caller changed
                    raise InvalidParameter(
                        f"{e} (this prefix is the default start of bug {bug}; pass prefix=[] to search from the "
                        "initial state)"
                    ) from None
                raise

    # -- parameters ---------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "servers": list(self.servers),
            "values": list(self.values),
            "max_term": self.max_term,
            "max_log": self.max_log,
            "max_copies": self.max_copies,
            "max_in_flight": self.max_in_flight,
            "restarts": self.restarts,
            "duplication": self.duplication,
            "loss": self.loss,
            "election_only": self.election_only,
            "history": self.history,
        }
        if self.prefix:
            out["prefix"] = list(self.prefix)
        return out

    def _check_prefix(self, prefix: Sequence[str]) -> tuple[str, ...]:
        """Replay ``prefix`` from the initial state; the state it reaches becomes the start.

        Each step is judged as the search judges its own (action properties on it, invariants on the states inside
        the prefix): a prefix that runs through a violation would otherwise hide it behind a HOLDS.
        """
        if isinstance(prefix, str) or not isinstance(prefix, Sequence):
            raise InvalidParameter(
                f"prefix must be a list of action labels, not {type(prefix).__name__} {prefix!r}; "
                'pass e.g. prefix=["Timeout(i=s1)", "RequestVote(i=s1, j=s1)"]'
            )
        from quorumcheck.explorer.culprit import refuse_broken_prefix_step

        props: list[Property[RaftState]] | None = None
        state = self._initial_state()
        for k, label in enumerate(prefix):
            if not isinstance(label, str):
                raise InvalidParameter(f"prefix step {k + 1} must be an action label (a string), got {label!r}")
            following = self._prefix_step(state, label)
            if following is None:
                enabled = ", ".join(str(a) for a, _ in self.successors(state))
                raise InvalidParameter(
                    f"prefix step {k + 1} {label!r} is not enabled after the steps before it; enabled there: {enabled}"
                )
            if not self.within_boundary(following):
                raise InvalidParameter(
                    f"prefix step {k + 1} {label!r} leaves the bounds (max_term={self.max_term}, "
                    f"max_log={self.max_log}, max_in_flight={self.max_in_flight}, max_copies={self.max_copies}); "
                    "raise them"
                )
            if props is None:
                props = [p for p in self.properties() if p.default]
            refuse_broken_prefix_step(props, k + 1, label, state, following, last=k + 1 == len(prefix))
            state = following
        self._start = state
        return tuple(prefix)

    def _prefix_step(self, state: RaftState, label: str) -> RaftState | None:
        """The successor by ``label``; a label written without the history field ``mlog`` matches too.

        So one scripted prefix serves both ``history=True`` and ``history=False``
        (with history, message labels show ``mlog=[...]`` when it is not empty).
        """
        exact = self.next_state(state, label)
        if exact is not None:
            return exact
        loose = [t for a, t in self.successors(state) if _MLOG.sub("", str(a)) == label]
        return loose[0] if len(loose) == 1 else None

    def _init_labels(self) -> None:
        names, n = self.servers, len(self.servers)
        self._l_restart = tuple(Action("Restart", i=names[i]) for i in range(n))
        self._l_timeout = tuple(Action("Timeout", i=names[i]) for i in range(n))
        self._l_request_vote = tuple(
            tuple(Action("RequestVote", i=names[i], j=names[j]) for j in range(n)) for i in range(n)
        )
        self._l_become_leader = tuple(Action("BecomeLeader", i=names[i]) for i in range(n))
        self._l_client_request = tuple(
            tuple(Action("ClientRequest", i=names[i], v=v) for v in self.values) for i in range(n)
        )
        self._l_advance_commit = tuple(Action("AdvanceCommitIndex", i=names[i]) for i in range(n))
        self._l_append_entries = tuple(
            tuple(Action("AppendEntries", i=names[i], j=names[j]) for j in range(n)) for i in range(n)
        )

    # -- the bag of messages ----------------------------------------------------------
    def _items(self, bag: Bag) -> tuple[tuple[Message, int], ...]:
        """The bag's (message, count) pairs in a fixed order (cached on the bag)."""
        items = self._bag_items.get(bag)
        if items is None:
            items = self._bag_items[bag] = tuple(sorted(bag))
        return items

    def _intern(self, bag: Bag) -> Bag:
        return self._bags.setdefault(bag, bag)

    def _send(self, bag: Bag, m: Message) -> Bag:
        """raft.tla's ``WithMessage(m, bag)``: one more copy of ``m``."""
        key = (bag, m)
        out = self._send_cache.get(key)
        if out is None:
            for pair in bag:
                if pair[0] == m:
                    out = (bag - {pair}) | {(m, pair[1] + 1)}
                    break
            else:
                out = bag | {(m, 1)}
            out = self._send_cache[key] = self._intern(out)
        return out

    def _discard(self, bag: Bag, m: Message) -> Bag:
        """raft.tla's ``WithoutMessage(m, bag)``: one copy fewer; with none left, ``m`` leaves the domain."""
        key = (bag, m)
        out = self._discard_cache.get(key)
        if out is None:
            out = bag
            for pair in bag:
                if pair[0] == m:
                    out = bag - {pair}
                    if pair[1] > 1:
                        out = out | {(m, pair[1] - 1)}
                    break
            out = self._discard_cache[key] = self._intern(out)
        return out

    def _reply(self, bag: Bag, response: Message, request: Message) -> Bag:
        """raft.tla's ``Reply``: ``WithoutMessage(request, WithMessage(response, bag))``."""
        key = (bag, response, request)
        out = self._reply_cache.get(key)
        if out is None:
            out = self._reply_cache[key] = self._discard(self._send(bag, response), request)
        return out

    # -- the model ------------------------------------------------------------------
    def _initial_state(self) -> RaftState:
        n = self._n
        server = Server(
            current_term=1, role=FOLLOWER, voted_for=NIL, log=(), commit_index=0, votes_responded=0,
            votes_granted=0, next_index=(1,) * n, match_index=(0,) * n, voter_log=(),
        )
        empty: frozenset[Any] = frozenset()  # the parts successors and share() reuse
        return RaftState(servers=(self._shared.setdefault(server, server),) * n, messages=self._intern(empty),
                         elections=self._shared.setdefault(empty, empty),
                         all_logs=self._all_logs_objects.setdefault(empty, empty))

    def init_states(self) -> Iterable[RaftState]:
        return [self._start if self._start is not None else self._initial_state()]

    def share(self, state: RaftState) -> RaftState:
        """``state`` rebuilt from shared parts: the interned bag and ``allLogs`` :meth:`successors` uses, and
        one object for all equal servers and ``elections`` sets received (the caches of :meth:`successors`
        and of the properties compare these by identity)."""
        servers, bag, elections, all_logs = state
        if len(self._shared) >= _SHARED_LIMIT:
            self._shared.clear()
        one = self._shared.setdefault
        return _new(RaftState, (
            tuple([one(s, s) for s in servers]), self._intern(bag), one(elections, elections),
            self._all_logs_objects.setdefault(all_logs, all_logs),
        ))

    def successors(self, state: RaftState) -> list[tuple[Action, RaftState]]:
        servers, bag, elections, all_logs = state
        out: list[tuple[Action, RaftState]] = []
        add = out.append
        r: Server | None
        m: Any  # one of the four message types; the hot code reads them by index
        labels: Any
        cls, srv = RaftState, Server
        setter = self._set
        n = self._n
        bug = self.bug
        history = self.history
        if history:  # allLogs' = allLogs \cup {log[i] : i \in Server}, in every step
            for s in servers:
                if s[3] not in all_logs:
                    logs = frozenset(s[3] for s in servers)
                    all_logs = self._all_logs_objects.setdefault(all_logs | logs, all_logs | logs)
                    break
        unchanged_history = all_logs is state.all_logs  # then a step that changes nothing else stutters

        # Restart(i): lose everything but currentTerm, votedFor and log.
        if self.restarts:
            labels = self._l_restart
            restarted = self._restarted
            fresh_next, fresh_match = self._fresh_next, self._fresh_match
            keeps_vote = bug != "forget-vote-on-restart"
            for i in range(n):
                s = servers[i]
                if (s[1] == FOLLOWER and not s[4] and not s[5] and not s[6] and s[7] == fresh_next
                        and s[8] == fresh_match and not s[9] and (keeps_vote or s[2] == NIL)):
                    r = s  # nothing to lose
                else:
                    r = restarted.get(s)
                    if r is None:
                        r = restarted[s] = self._restart(s)
                if r is s and unchanged_history:
                    add((labels[i], state))
                else:
                    add((labels[i], _new(cls, (setter[i](servers, r), bag, elections, all_logs))))

        # Timeout(i): a follower or candidate starts an election in the next term.
        labels = self._l_timeout
        timed_out = self._timed_out
        for i in range(n):
            s = servers[i]
            if s[1] != LEADER:
                r = timed_out.get(s)
                if r is None:
                    r = timed_out[s] = _new(srv, (
                        s[0] + 1, CANDIDATE, NIL, s[3], s[4], 0, 0, s[7], s[8], (),
                    ))
                add((labels[i], _new(cls, (setter[i](servers, r), bag, elections, all_logs))))

        for i in range(n):
            s = servers[i]
            role = s[1]
            if role == FOLLOWER:
                continue
            term, log = s[0], s[3]
            if role == CANDIDATE:
                # RequestVote(i, j): candidate i asks j (itself included) for a vote.
                labels = self._l_request_vote[i]
                last_term = log[-1][0] if log else 0
                responded = s[5]
                for j in range(n):
                    if not responded >> j & 1:
                        m = _new(RequestVoteRequest, (RV_REQUEST, term, i, j, last_term, len(log)))
                        add((labels[j], _new(cls, (servers, self._send(bag, m), elections, all_logs))))
                # BecomeLeader(i): a candidate with votes from a quorum.
                if s[6].bit_count() >= self._quorum:
                    if history:
                        record = _new(Election, (term, i, log, s[6], s[9]))
                    else:
                        record = _new(Election, (term, i, (), 0, ()))
                    r = _new(srv, (term, LEADER, s[2], log, s[4], s[5], s[6], (len(log) + 1,) * n, (0,) * n, s[9]))
                    add((self._l_become_leader[i], _new(cls, (
                        setter[i](servers, r), bag, elections | {record}, all_logs,
                    ))))
                continue
            # role == LEADER
            # ClientRequest(i, v): the leader appends v to its log.
            if not self.election_only:
                labels = self._l_client_request[i]
                for v in range(len(self.values)):
                    r = _new(srv, (term, LEADER, s[2], log + ((term, v),), s[4], s[5], s[6], s[7], s[8], s[9]))
                    add((labels[v], _new(cls, (setter[i](servers, r), bag, elections, all_logs))))
            # AdvanceCommitIndex(i): commit the highest index a quorum agrees on (of the current term).
            new_commit = self._new_commit_index(i, s)
            if new_commit == s[4] and unchanged_history:
                add((self._l_advance_commit[i], state))
            else:
                r = _new(srv, (term, LEADER, s[2], log, new_commit, s[5], s[6], s[7], s[8], s[9]))
                add((self._l_advance_commit[i], _new(cls, (setter[i](servers, r), bag, elections, all_logs))))
            # AppendEntries(i, j): send j up to one entry.
            labels = self._l_append_entries[i]
            commit = s[4]
            for j in range(n):
                if j == i:
                    continue
                nxt = s[7][j]
                prev = nxt - 1
                if prev > len(log):  # unreachable in raft.tla (TLC would stop with an error)
                    continue
                last = min(len(log), nxt)
                m = _new(AppendEntriesRequest, (
                    AE_REQUEST, term, i, j, prev, log[prev - 1][0] if prev > 0 else 0,
                    log[nxt - 1:last], min(commit, last), log if history else (),
                ))
                add((labels[j], _new(cls, (servers, self._send(bag, m), elections, all_logs))))

        # Receive(m), DuplicateMessage(m), DropMessage(m) for every message in the bag.
        if bag:
            duplication, loss = self.duplication, self.loss
            message_labels = self._message_labels
            for m, _count in self._items(bag):
                labels = message_labels.get(m)
                if labels is None:
                    labels = message_labels[m] = self._labels_for(m)
                t = self._receive(servers, bag, elections, all_logs, m)
                if t is not None:
                    add((labels[0], t))
                if duplication:
                    add((labels[1], _new(cls, (servers, self._send(bag, m), elections, all_logs))))
                if loss:
                    add((labels[2], _new(cls, (servers, self._discard(bag, m), elections, all_logs))))
        return out

    def _restart(self, s: Server) -> Server:
        """``Restart(i)`` at one server: keep currentTerm, votedFor (unless the bug) and log."""
        n = self._n
        voted = NIL if self.bug == "forget-vote-on-restart" else s.voted_for
        r = _new(Server, (s.current_term, FOLLOWER, voted, s.log, 0, 0, 0, (1,) * n, (0,) * n, ()))
        return s if r == s else r

    def _new_commit_index(self, i: int, s: Server) -> int:
        """raft.tla's ``AdvanceCommitIndex``: the new ``commitIndex[i]`` of leader ``i``."""
        log, match, quorum = s.log, s.match_index, self._quorum
        servers = range(self._n)
        for index in range(len(log), 0, -1):  # agreement is monotone: the first quorum from the top is Max
            # Agree(index) == {i} \cup {k \in Server : matchIndex[i][k] >= index}
            if sum(1 for k in servers if k == i or match[k] >= index) >= quorum:
                if log[index - 1][0] == s.current_term or self.bug == "commit-old-term":
                    return index
                break
        return s.commit_index

    def _receive(
        self, servers: tuple[Server, ...], bag: Bag, elections: frozenset[Election], all_logs: frozenset[Log],
        m: Any,
    ) -> RaftState | None:
        """raft.tla's ``Receive(m)``: the successor, or ``None`` when no disjunct is enabled.

        ``m`` is one of the four message types, read by index (``m[4]`` is the
        fifth field of its type) because this is the hot path of every search.
        """
        cls, srv = RaftState, Server
        response: Message
        mtype, mterm, j, i = m[0], m[1], m[2], m[3]  # j = sender, i = recipient
        s = servers[i]
        current = s[0]
        setter = self._set[i]
        bug = self.bug

        if mterm > current:  # UpdateTerm: adopt the newer term as a follower; m stays in the bag
            key = (s, mterm)
            r = self._updated.get(key)
            if r is None:
                r = self._updated[key] = _new(srv, (mterm, FOLLOWER, NIL, s[3], s[4], s[5], s[6], s[7], s[8], s[9]))
            return _new(cls, (setter(servers, r), bag, elections, all_logs))

        if mtype == RV_REQUEST:  # HandleRequestVoteRequest
            log = s[3]
            last_term = log[-1][0] if log else 0
            if bug == "no-log-check":
                log_ok = True
            elif bug == "length-only-log-check":
                log_ok = m[5] >= len(log)
            else:
                log_ok = m[4] > last_term or (m[4] == last_term and m[5] >= len(log))
            grant = mterm == current and log_ok and (s[2] == NIL or s[2] == j or bug == "vote-twice")
            response = _new(RequestVoteResponse, (RV_RESPONSE, current, i, j, 1 if grant else 0,
                                                  log if self.history else ()))
            new_bag = self._reply(bag, response, m)
            if grant and s[2] != j:
                r = _new(srv, (current, s[1], j, log, s[4], s[5], s[6], s[7], s[8], s[9]))
                return _new(cls, (setter(servers, r), new_bag, elections, all_logs))
            return _new(cls, (servers, new_bag, elections, all_logs))

        if mtype == RV_RESPONSE:
            if mterm < current and bug != "count-stale-votes":  # DropStaleResponse
                return _new(cls, (servers, self._discard(bag, m), elections, all_logs))
            # HandleRequestVoteResponse (tallied even when i is no longer a candidate)
            bit = 1 << j
            granted, voter_log = s[6], s[9]
            if m[4]:
                if self.history and not granted & bit:  # voterLog[i] @@ (j :> m.mlog): the first log stays
                    voter_log = tuple(sorted(voter_log + ((j, m[5]),)))
                granted |= bit
            r = _new(srv, (current, s[1], s[2], s[3], s[4], s[5] | bit, granted, s[7], s[8], voter_log))
            return _new(cls, (setter(servers, r), self._discard(bag, m), elections, all_logs))

        if mtype == AE_REQUEST:  # HandleAppendEntriesRequest
            log = s[3]
            prev, entries = m[4], m[6]
            log_ok = prev == 0 or (prev <= len(log) and log[prev - 1][0] == m[5])
            stale = mterm < current and bug != "accept-stale-append"
            role = s[1]
            if stale or (role == FOLLOWER and not log_ok):  # reject the request
                response = _new(AppendEntriesResponse, (AE_RESPONSE, current, i, j, 0, 0))
                return _new(cls, (servers, self._reply(bag, response, m), elections, all_logs))
            if role == CANDIDATE:  # return to follower state; m stays in the bag
                r = _new(srv, (current, FOLLOWER, s[2], log, s[4], s[5], s[6], s[7], s[8], s[9]))
                return _new(cls, (setter(servers, r), bag, elections, all_logs))
            if role == LEADER:  # a request of the leader's own term: no disjunct of raft.tla is enabled
                return None
            index = prev + 1
            if bug == "truncate-on-append" and log != log[:prev] + entries:
                # the bug: replace everything after prevLogIndex, conflict or not; m stays in the bag
                r = _new(srv, (current, FOLLOWER, s[2], log[:prev] + entries, s[4], s[5], s[6], s[7], s[8], s[9]))
                return _new(cls, (setter(servers, r), bag, elections, all_logs))
            if not entries or (len(log) >= index and log[index - 1][0] == entries[0][0]):
                # already done with the request: take the leader's commitIndex and reply
                new_commit = len(log) if bug == "commit-to-log-end" else m[7]
                response = _new(AppendEntriesResponse, (AE_RESPONSE, current, i, j, 1, prev + len(entries)))
                new_bag = self._reply(bag, response, m)
                if new_commit == s[4]:
                    return _new(cls, (servers, new_bag, elections, all_logs))
                r = _new(srv, (current, FOLLOWER, s[2], log, new_commit, s[5], s[6], s[7], s[8], s[9]))
                return _new(cls, (setter(servers, r), new_bag, elections, all_logs))
            if len(log) >= index:  # conflict: remove one entry, from the end; m stays in the bag
                new_log = log[:-1]
            else:  # no conflict: append the entry (here len(log) = prevLogIndex); m stays in the bag
                new_log = log + entries
            r = _new(srv, (current, FOLLOWER, s[2], new_log, s[4], s[5], s[6], s[7], s[8], s[9]))
            return _new(cls, (setter(servers, r), bag, elections, all_logs))

        # AE_RESPONSE
        if mterm < current:  # DropStaleResponse
            return _new(cls, (servers, self._discard(bag, m), elections, all_logs))
        # HandleAppendEntriesResponse (whatever i's state)
        next_row, match_row = s[7], s[8]
        if m[4]:
            next_row = next_row[:j] + (m[5] + 1,) + next_row[j + 1:]
            match_row = match_row[:j] + (m[5],) + match_row[j + 1:]
        else:
            next_row = next_row[:j] + (max(next_row[j] - 1, 1),) + next_row[j + 1:]
        new_bag = self._discard(bag, m)
        if next_row == s[7] and match_row == s[8]:
            return _new(cls, (servers, new_bag, elections, all_logs))
        r = _new(srv, (current, s[1], s[2], s[3], s[4], s[5], s[6], next_row, match_row, s[9]))
        return _new(cls, (setter(servers, r), new_bag, elections, all_logs))

    def within_boundary(self, state: RaftState) -> bool:
        """TLC's CONSTRAINT: every term and log, the copies of each message and the messages in flight.

        The bag's part is cached on the (interned) bag.
        """
        servers = state[0]
        if servers is self._last_servers:  # successors that change only the bag share their parent's servers
            ok = self._last_servers_ok
        else:
            max_term, max_log = self.max_term, self.max_log
            ok = True
            for s in servers:
                if s[0] > max_term or len(s[3]) > max_log:
                    ok = False
                    break
            self._last_servers, self._last_servers_ok = servers, ok
        if not ok:
            return False
        bag = state[1]
        cached = self._bag_ok.get(bag)
        if cached is None:
            cached = self._bag_ok[bag] = (
                all(c <= self.max_copies for _, c in bag) and sum(c for _, c in bag) <= self.max_in_flight
            )
        return cached

    # -- epochs (explorer/epochs.py, check --search epochs) ----------------------------------------
    @property
    def epoch_nodes(self) -> int:
        """How many nodes an epoch groups: the servers."""
        return self._n

    def actor_of(self, action: Action) -> int | None:
        """The server an action belongs to (its ``i``); ``None`` for a dropped or duplicated message.

        Examples
        --------
        >>> m = RaftModel()
        >>> m.actor_of(Action("Timeout", i="s2")), m.actor_of(Action("AppendEntries", i="s1", j="s3"))
        (1, 0)
        """
        i = action.args.get("i")
        return None if i is None else self._server_index[i]

    def deliveries(self, state: RaftState) -> list[tuple[int, int, Action, Callable[[], RaftState]]]:
        """The steps an epoch takes by itself, as ``(from, to, action, successor)``, in the order it takes them.

        An epoch (:class:`~quorumcheck.explorer.epochs.EpochModel`) starts with one trigger, then
        takes these steps, the first one between two servers of its group each time, until none is
        left. raft.tla sends no message from a handler: a candidate's requests, its election and a
        leader's commit are actions of their own. So besides every ``Receive(m)`` (first: with one
        message in flight, nothing else could be sent), these are taken by themselves too, as a server
        of an implementation would do them at once: ``RequestVote(i, j)`` while no request of ``i``'s
        term to ``j`` is in flight, ``BecomeLeader(i)``, and ``AdvanceCommitIndex(i)`` when it moves
        the commit index. ``AppendEntries(i, j)`` stays a trigger, like a heartbeat timer: which
        followers hear of a leader's entries, and when, is what Figure 8 turns on.

        Examples
        --------
        >>> m = RaftModel()
        >>> s = m.next_state(next(iter(m.init_states())), "Timeout(i=s1)")
        >>> [(i, j, str(a)) for i, j, a, _ in m.deliveries(s)]
        [(0, 0, 'RequestVote(i=s1, j=s1)'), (0, 1, 'RequestVote(i=s1, j=s2)'), (0, 2, 'RequestVote(i=s1, j=s3)')]
        """
        steps = self.successors(state)
        out: list[tuple[int, int, Action, Callable[[], RaftState]]] = []
        index = self._server_index
        for action, after in steps:
            if action.name == "Receive":
                args = action.args
                out.append((index[args["source"]], index[args["dest"]], action, lambda after=after: after))
        requests = {(m[2], m[3], m[1]) for m, _ in state.messages if m[0] == RV_REQUEST}
        servers = state.servers
        for action, after in steps:
            name = action.name
            if name not in ("RequestVote", "BecomeLeader", "AdvanceCommitIndex"):
                continue
            args = action.args
            i = index[args["i"]]
            if name == "RequestVote":
                j = index[args["j"]]
                if (i, j, servers[i][0]) not in requests:
                    out.append((i, j, action, lambda after=after: after))
            elif name == "BecomeLeader" or after.servers[i][4] != servers[i][4]:  # a commit index that moves
                out.append((i, i, action, lambda after=after: after))
        return out

    # -- symmetry -----------------------------------------------------------------------
    def symmetric_sorts(self) -> dict[str, int]:
        """Servers and values are interchangeable (TLC's ``Permutations(Server)``, and values alike).

        A scripted start (``prefix``) does not change this: renaming the
        servers maps the states reachable from the start onto those reachable
        from its renaming, so orbits are counted the same way.

        Examples
        --------
        >>> RaftModel().symmetric_sorts()
        {'Server': 3, 'Value': 1}
        """
        return {"Server": self._n, "Value": len(self.values)}

    def permute(self, state: RaftState, perm: Permutation) -> RaftState:
        """``state`` with servers and values renamed; servers, messages and bags are cached per permutation.

        Examples
        --------
        >>> m = RaftModel()
        >>> s = m.next_state(next(iter(m.init_states())), "Timeout(i=s1)")
        >>> m.describe(m.permute(s, Permutation({"Server": (1, 0, 2)})))["state"]
        {'s1': 'Follower', 's2': 'Candidate', 's3': 'Follower'}
        """
        apply = self._permuters.get(perm)
        if apply is None:
            apply = self._permuters[perm] = _RaftPermuter(self, perm)
        return apply(state)

    def element_signatures(self, state: RaftState) -> dict[str, list[Any]]:
        """Per server: term, role, the terms in its log, commit index, and how many votes it has seen.

        Nothing that names another server or a value, so the keys survive every renaming.

        Examples
        --------
        >>> m = RaftModel()
        >>> m.element_signatures(m.next_state(next(iter(m.init_states())), "Timeout(i=s2)"))["Server"]
        [(1, 0, (), 0, 0, 0), (2, 1, (), 0, 0, 0), (1, 0, (), 0, 0, 0)]
        """
        keys = self._signature_cache
        out = []
        for s in state[0]:
            key = keys.get(s)
            if key is None:
                key = keys[s] = (s[0], s[1], tuple([e[0] for e in s[3]]), s[4], s[5].bit_count(), s[6].bit_count())
            out.append(key)
        return {"Server": out}

    # -- properties -------------------------------------------------------------------
    def interpretation(self) -> Interpretation:
        """This model's states as finite structures over the Raft signature (see invariants.standard).

        Terms run to ``max_term + 1`` and indexes to ``max_log + 1``, because a
        successor just outside the bound is checked too. Entries past a log's end
        read as term 0 and value ``-1`` ("none").

        Examples
        --------
        >>> m = RaftModel()
        >>> interp = m.interpretation()
        >>> interp.universe["Term"], interp.universe["Index"], interp.read("role", next(iter(m.init_states())))
        ((0, 1, 2, 3), (0, 1), ('Follower', 'Follower', 'Follower'))
        """
        indexes = tuple(range(self.max_log + 2))

        def log_terms(logs: tuple[Log, ...]) -> tuple[int, ...]:
            return tuple(log[i - 1][0] if 1 <= i <= len(log) else 0 for log in logs for i in indexes)

        def log_values(logs: tuple[Log, ...]) -> tuple[int, ...]:
            return tuple(log[i - 1][1] if 1 <= i <= len(log) else -1 for log in logs for i in indexes)

        # One source for every per-server symbol: the properties' cache keys on it,
        # and it is one identity test when a step changed only the message bag.
        view = _PerServers(_terms_roles_logs_commits)
        return Interpretation(
            standard.RAFT,
            {
                "Server": tuple(range(len(self.servers))),
                "Term": tuple(range(self.max_term + 2)),
                "Index": indexes,
                "Value": (-1, *range(len(self.values))),
                "Role": ROLE_NAMES,
            },
            {
                "current_term": Derived(view, itemgetter(0)),
                "role": Derived(view, lambda v: tuple(ROLE_NAMES[r] for r in v[1])),
                "log_len": Derived(view, lambda v: tuple(len(log) for log in v[2])),
                "log_term": Derived(view, lambda v: log_terms(v[2])),
                "log_value": Derived(view, lambda v: log_values(v[2])),
                "commit_index": Derived(view, itemgetter(3)),
                "elected": Derived(_elections, lambda es: frozenset((e.term, e.leader) for e in es)),
            },
            display={
                "Server": self.servers.__getitem__,
                "Value": lambda v: "none" if v < 0 else self.values[v],
            },
        )

    def properties(self) -> list[Property[RaftState]]:
        """Figure 3's safety properties, Leader Append-Only as an action property, and reachability.

        All are first-order formulas from :mod:`quorumcheck.invariants.standard`,
        judged by ``self.evaluator`` (Z3 by default) once per distinct value of
        what each reads.
        """
        interp = self.interpretation()
        with_entries = not self.election_only and self.max_log > 0
        props = [
            formula_property(p.kind, name, p.formula, interp, p.description, evaluator=self.evaluator,
                             default=name not in standard.RAFT_BUILT_IN_ON_REQUEST)
            for name, p in standard.RAFT_PROPERTIES.items()
            if name != "entry-committed" or with_entries
        ]
        for prop in props:
            explain = LOG_EXPLAINERS.get(prop.name)
            if explain is not None:
                prop.explainer = lambda state, explain=explain: explain(self.server_logs(state)) or None
            prop.step_explainer = log_step_explainer(prop.name, self.server_logs)
        return props

    # -- explanations --------------------------------------------------------------------
    def server_logs(self, state: RaftState) -> list[ServerLog]:
        """What the log properties read at every server, with names (for their explanations).

        Examples
        --------
        >>> m = RaftModel()
        >>> m.server_logs(next(iter(m.init_states())))[0]
        ServerLog(name='s1', role='Follower', term=1, log=(), commit=0)
        """
        values = self.values
        return [ServerLog(self.servers[i], ROLE_NAMES[s.role], s.current_term,
                          tuple((t, values[v]) for t, v in s.log), s.commit_index)
                for i, s in enumerate(state.servers)]

    def explain_logs(self, state: RaftState) -> str:
        """Every server's log, with its committed prefix marked by ``|``, its role and term.

        Examples
        --------
        >>> m = RaftModel()
        >>> s = next(iter(m.init_states()))
        >>> m.explain_logs(s)
        's1 Follower term 1: [|]; s2 Follower term 1: [|]; s3 Follower term 1: [|]'
        """
        parts = []
        for s in self.server_logs(state):
            beyond = f" commitIndex={s.commit}" if s.commit > len(s.log) else ""
            parts.append(f"{s.name} {s.role} term {s.term}: {log_notation(s.log, commit=min(s.commit, len(s.log)))}"
                         f"{beyond}")
        return "; ".join(parts)

    # -- presentation ------------------------------------------------------------------
    def message_text(self, m: Any) -> str:
        """A message as one line: ``RequestVoteResponse s2->s1 term=2 granted``.

        Examples
        --------
        >>> m = RaftModel()
        >>> m.message_text(RequestVoteResponse(RV_RESPONSE, 2, 1, 0, 1, ()))
        'RequestVoteResponse s2->s1 term=2 granted'
        >>> m.message_text(AppendEntriesRequest(AE_REQUEST, 2, 0, 2, 0, 0, ((2, 0),), 0, ()))
        'AppendEntriesRequest s1->s3 term=2 prevLogIndex=0 prevLogTerm=0 entries=[#1 t2 v1] commitIndex=0'
        """
        names = self.servers
        head = f"{MESSAGE_NAMES[m[0]]} {names[m[2]]}->{names[m[3]]} term={m[1]}"
        if m[0] == RV_REQUEST:
            return f"{head} lastLogTerm={m[4]} lastLogIndex={m[5]}"
        if m[0] == RV_RESPONSE:
            text = f"{head} {'granted' if m[4] else 'denied'}"
            return text + (f" mlog={self.log_text(m[5])}" if m[5] else "")
        if m[0] == AE_REQUEST:
            text = (f"{head} prevLogIndex={m[4]} prevLogTerm={m[5]} entries={self.log_text(m[6], m[4] + 1)} "
                    f"commitIndex={m[7]}")
            return text + (f" mlog={self.log_text(m[8])}" if m[8] else "")
        return f"{head} {'success' if m[4] else 'failure'} matchIndex={m[5]}"

    def events(self, before: RaftState, action: Action, after: RaftState) -> StepEvents:
        """Who took the step and which messages it sent and received (for the sequence chart).

        The actor is the server named by the action (``i``, or the message's
        destination for ``Receive``), or ``"network"`` for a duplicated or
        dropped message. A message's identifier is :meth:`message_text`. Sent
        messages are the new copies in the bag (a response replaces its request
        in one step, as raft.tla's ``Reply`` does).

        Examples
        --------
        >>> m = RaftModel()
        >>> s0 = next(iter(m.init_states()))
        >>> s1 = m.next_state(s0, "Timeout(i=s1)")
        >>> s2 = m.next_state(s1, "RequestVote(i=s1, j=s2)")
        >>> m.events(s1, Action("RequestVote", i="s1", j="s2"), s2)
        StepEvents(actor='s1', sent=('RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0',), received=())
        >>> label = "Receive(RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0)"
        >>> s3 = m.next_state(s2, label)
        >>> e = m.events(s2, next(a for a, t in m.successors(s2) if str(a) == label), s3)
        >>> e.actor, e.received, e.sent
        ('s2', ('RequestVoteRequest s1->s2 term=2 lastLogTerm=0 lastLogIndex=0',), ())
        """
        old = dict(before.messages)
        sent: list[str] = []
        for m, count in self._items(after.messages):
            sent += [self.message_text(m)] * (count - old.get(m, 0))
        if action.name in ("DuplicateMessage", "DropMessage"):
            return StepEvents("network")
        if action.name == "Receive":
            text = str(action)[len("Receive("):-1]
            return StepEvents(str(action.args["dest"]), tuple(sent), (text,))
        return StepEvents(str(action.args.get("i", action.name)), tuple(sent))

    def log_text(self, log: Log, start: int = 1) -> str:
        """A log (or a message's entries, the first at index ``start``) as ``[#index tTERM value, ...]``.

        Examples
        --------
        >>> RaftModel(values=2).log_text(((2, 0), (3, 1)))
        '[#1 t2 v1, #2 t3 v2]'
        """
        return log_notation([(t, self.values[v]) for t, v in log], start)

    def _labels_for(self, m: Any) -> tuple[Action, Action, Action]:
        text = self.message_text(m)
        names = self.servers
        args: dict[str, Any] = {"type": MESSAGE_NAMES[m[0]], "source": names[m[2]], "dest": names[m[3]], "term": m[1]}
        return (
            MessageAction("Receive", text, **args),
            MessageAction("DuplicateMessage", text, **args),
            MessageAction("DropMessage", text, **args),
        )

    def describe(self, state: RaftState) -> dict[str, Any]:
        """The state with names, variable by variable as raft.tla prints it.

        Examples
        --------
        >>> m = RaftModel()
        >>> d = m.describe(next(iter(m.init_states())))
        >>> d["currentTerm"], d["votedFor"]["s1"], d["messages"]
        ({'s1': 1, 's2': 1, 's3': 1}, None, [])
        """
        names = self.servers
        servers = state.servers

        def per_server(values: Iterable[Any]) -> dict[str, Any]:
            return dict(zip(names, values))

        def members(mask: int) -> list[str]:
            return [names[k] for k in range(self._n) if mask >> k & 1]

        out: dict[str, Any] = {
            "currentTerm": per_server(s.current_term for s in servers),
            "state": per_server(ROLE_NAMES[s.role] for s in servers),
            "votedFor": per_server(None if s.voted_for == NIL else names[s.voted_for] for s in servers),
            "log": per_server(self.log_text(s.log) for s in servers),
            "commitIndex": per_server(s.commit_index for s in servers),
            "votesResponded": per_server(members(s.votes_responded) for s in servers),
            "votesGranted": per_server(members(s.votes_granted) for s in servers),
            "nextIndex": per_server(per_server(s.next_index) for s in servers),
            "matchIndex": per_server(per_server(s.match_index) for s in servers),
            "messages": [self.message_text(m) + (f" (x{c})" if c > 1 else "") for m, c in self._items(state.messages)],
            "elections": [f"term {e.term}: {names[e.leader]}" for e in sorted(state.elections)],
        }
        if self.history:
            out["elections"] = [
                f"term {e.term}: {names[e.leader]} elog={self.log_text(e.log)} evotes={members(e.votes)}"
                for e in sorted(state.elections)
            ]
            out["allLogs"] = [self.log_text(log) for log in sorted(state.all_logs)]
            out["voterLog"] = per_server({names[k]: self.log_text(log) for k, log in s.voter_log} for s in servers)
        return out


class _RaftPermuter:
    """One renaming of servers and values applied to Raft states.

    Each part (a server record, a message, a bag, the elections, allLogs) is
    renamed once per permutation and cached: successors share most of their
    parts with their parent. Bags and allLogs are interned in the model, so its
    own caches keyed on them keep working on renamed states.
    """

    def __init__(self, model: RaftModel, perm: Permutation) -> None:
        n = model._n
        self.model = model
        self.srv = perm.of("Server") or tuple(range(n))
        self.srv_nil = (*self.srv, NIL)  # srv_nil[NIL] is NIL: "no vote" stays
        self.val = perm.of("Value")
        self.reorder = perm.reorder_fn("Server")
        self.mask = lambda mask: perm.mask("Server", mask)
        self.servers: dict[Server, Server] = {}
        self.logs: dict[Log, Log] = {}
        self.messages: dict[Any, Any] = {}
        self.bags: dict[Bag, Bag] = {}
        self.elections: dict[frozenset[Election], frozenset[Election]] = {}
        self.all_logs: dict[frozenset[Log], frozenset[Log]] = {}

    def log(self, log: Log) -> Log:
        val = self.val
        if val is None or not log:
            return log
        out = self.logs.get(log)
        if out is None:
            out = self.logs[log] = tuple([(t, val[v]) for t, v in log])
        return out

    def voter_log(self, pairs: tuple[tuple[int, Log], ...]) -> tuple[tuple[int, Log], ...]:
        if not pairs:
            return pairs
        srv = self.srv
        return tuple(sorted((srv[k], self.log(log)) for k, log in pairs))

    def server(self, s: Server) -> Server:
        out = self.servers.get(s)
        if out is None:
            reorder = self.reorder
            out = self.servers[s] = _new(Server, (
                s[0], s[1], self.srv_nil[s[2]], self.log(s[3]), s[4], self.mask(s[5]), self.mask(s[6]),
                reorder(s[7]), reorder(s[8]), self.voter_log(s[9]),
            ))
        return out

    def message(self, m: Any) -> Any:
        out = self.messages.get(m)
        if out is None:
            srv, kind = self.srv, m[0]
            head = (kind, m[1], srv[m[2]], srv[m[3]])
            if kind == RV_REQUEST or kind == AE_RESPONSE:
                rest = m[4:]
            elif kind == RV_RESPONSE:
                rest = (m[4], self.log(m[5]))
            else:  # AE_REQUEST
                rest = (m[4], m[5], self.log(m[6]), m[7], self.log(m[8]))
            out = self.messages[m] = _new(type(m), head + rest)
        return out

    def __call__(self, state: RaftState) -> RaftState:
        servers, bag, elections, all_logs = state
        server = self.server
        renamed = self.reorder(tuple([server(s) for s in servers]))
        out_bag = self.bags.get(bag)
        if out_bag is None:
            message = self.message
            out_bag = self.bags[bag] = self.model._intern(frozenset([(message(m), c) for m, c in bag]))
        out_elections = self.elections.get(elections)
        if out_elections is None:
            srv = self.srv
            out_elections = self.elections[elections] = frozenset([
                _new(Election, (e[0], srv[e[1]], self.log(e[2]), self.mask(e[3]), self.voter_log(e[4])))
                for e in elections
            ])
        out_logs = self.all_logs.get(all_logs)
        if out_logs is None:
            if self.val is None:
                out_logs = all_logs
            else:
                renamed_logs = frozenset([self.log(log) for log in all_logs])
                out_logs = self.model._all_logs_objects.setdefault(renamed_logs, renamed_logs)
            self.all_logs[all_logs] = out_logs
        return _new(RaftState, (renamed, out_bag, out_elections, out_logs))


def _elections(st: RaftState) -> frozenset[Election]:
    """The footprint of election safety: its answer is cached on the (shared) ``elections`` set."""
    return st.elections


def _terms_roles_logs_commits(servers: tuple[Server, ...]) -> tuple[tuple[Any, ...], ...]:
    """The per-server columns the properties read: current terms, roles, logs, commit indexes."""
    terms, roles, _, logs, commits, *_ = zip(*servers)
    return terms, roles, logs, commits


class _PerServers:
    """A source read from ``state.servers``, remembered for the last two ``servers`` tuples seen.

    Successors that change only the message bag share their parent's
    ``servers`` tuple, and an action property reads a parent and a successor in
    turn, so two entries answer most reads by an identity test.

    Examples
    --------
    >>> calls = []
    >>> read = _PerServers(lambda servers: calls.append(1) or len(servers))
    >>> s = next(iter(RaftModel().init_states()))
    >>> read(s), read(s._replace(messages=frozenset({("m", 1)}))), len(calls)
    (3, 3, 1)
    """

    __slots__ = ("read", "keys", "values")

    def __init__(self, read: Callable[[tuple[Server, ...]], Any]) -> None:
        self.read = read
        self.keys: list[Any] = [None, None]
        self.values: list[Any] = [None, None]

    def __call__(self, state: RaftState) -> Any:
        servers = state.servers
        keys, values = self.keys, self.values
        if servers is keys[0]:
            return values[0]
        if servers is keys[1]:
            return values[1]
        value = self.read(servers)
        keys[1], values[1] = keys[0], values[0]
        keys[0], values[0] = servers, value
        return value


def _check_int(name: str, value: Any, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(f"{name} must be an integer, not {value!r}; {hint}")
    if value < minimum:
        raise InvalidParameter(f"{name} must be at least {minimum} (got {value}); {hint}")
    if value > MAX_BOUND:
        raise InvalidParameter(f"{name}={value} is hopeless for an exhaustive search; give at most {MAX_BOUND} "
                               f"({hint})")
    return value


# -- explanations of the log properties, shared with student code (models/observe.py) ---------------------
class ServerLog(NamedTuple):
    """What the log properties read at one server, with names and values as people read them.

    ``log`` holds ``(term, value text)`` pairs, entry 1 first; ``role`` is
    ``"Follower"``, ``"Candidate"`` or ``"Leader"``.
    """

    name: str
    role: str
    term: int
    log: tuple[tuple[int, str], ...]
    commit: int


def entry_text(index: int, entry: tuple[int, Any]) -> str:
    """One log entry as ``#index tTERM value``: the notation of every log quorumcheck prints.

    >>> entry_text(2, (3, "v1")), entry_text(1, (1, "'x'"))
    ('#2 t3 v1', "#1 t1 'x'")
    """
    return f"#{index} t{entry[0]} {entry[1]}"


def log_notation(entries: Sequence[tuple[int, Any]], start: int = 1, commit: int | None = None) -> str:
    """A log (or the entries of a message, numbered from ``start``) as ``[#1 t2 v1, #2 t2 v2]``.

    With ``commit``, a ``|`` follows the committed prefix.

    >>> log_notation([(2, "v1"), (3, "v2")]), log_notation([(2, "v1")], start=4)
    ('[#1 t2 v1, #2 t3 v2]', '[#4 t2 v1]')
    >>> log_notation([(2, "v1"), (3, "v2")], commit=1), log_notation([], commit=0)
    ('[#1 t2 v1 | #2 t3 v2]', '[|]')
    """
    items = [entry_text(start + k, e) for k, e in enumerate(entries)]
    if commit is None:
        return "[" + ", ".join(items) + "]"
    done, rest = ", ".join(items[:commit]), ", ".join(items[commit:])
    return "[" + (f"{done} |" if done else "|") + (f" {rest}" if rest else "") + "]"


def _entry_at(s: ServerLog, index: int) -> tuple[int, str] | None:
    return s.log[index - 1] if 1 <= index <= len(s.log) else None


def _entries(s: ServerLog) -> str:
    n = len(s.log)
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def explain_log_matching(servers: Sequence[ServerLog]) -> str:
    """Log Matching: two logs with an entry of one term at one index that differ at or below it.

    >>> a = ServerLog("s1", "Follower", 2, ((1, "v1"), (2, "v1")), 0)
    >>> b = ServerLog("s2", "Leader", 2, ((2, "v2"), (2, "v1")), 0)
    >>> explain_log_matching([a, b])
    's1 and s2 both hold an entry of term 2 at index 2, but differ at index 1: s1 has #1 t1 v1, s2 has #1 t2 v2'
    """
    for k, a in enumerate(servers):
        for b in servers[k + 1:]:
            for i in range(1, min(len(a.log), len(b.log)) + 1):
                if a.log[i - 1][0] != b.log[i - 1][0]:
                    continue
                for j in range(1, i + 1):
                    if a.log[j - 1] != b.log[j - 1]:
                        mine, theirs = entry_text(j, a.log[j - 1]), entry_text(j, b.log[j - 1])
                        if j == i:
                            return f"{a.name} has {mine} and {b.name} has {theirs}: one index and term, two values"
                        return (f"{a.name} and {b.name} both hold an entry of term {a.log[i - 1][0]} at index {i}, "
                                f"but differ at index {j}: {a.name} has {mine}, {b.name} has {theirs}")
    return ""


def explain_leader_completeness(servers: Sequence[ServerLog]) -> str:
    """Leader Completeness: the committed entry a leader lacks (or holds differently), and who committed it.

    >>> leader = ServerLog("s2", "Leader", 3, (), 0)
    >>> other = ServerLog("s1", "Follower", 2, ((2, "v1"),), 1)
    >>> explain_leader_completeness([other, leader])
    'leader s2 (term 3) lacks #1 t2 v1, which s1 has committed (commit index 1)'
    """
    for s in servers:
        if s.role != "Leader":
            continue
        for s2 in servers:
            if s2.term > s.term:
                continue
            for j in range(1, s2.commit + 1):
                mine, theirs = _entry_at(s, j), _entry_at(s2, j)
                if mine == theirs and mine is not None:
                    continue
                lead = f"leader {s.name} (term {s.term})"
                if theirs is None:
                    if mine is None:
                        return (f"{s2.name}'s commit index {s2.commit} runs past the end of {lead}'s log "
                                f"({_entries(s)})" + (f" and of its own ({_entries(s2)})" if s2 is not s else ""))
                    return (f"{s2.name}'s commit index {s2.commit} runs past the end of its log ({_entries(s2)}): "
                            f"it committed index {j} and no longer holds it, while {lead} has {entry_text(j, mine)}")
                if mine is None:
                    return f"{lead} lacks {entry_text(j, theirs)}, which {s2.name} has committed (commit index {s2.commit})"
                return f"{lead} has {entry_text(j, mine)} where {s2.name} committed {entry_text(j, theirs)}"
    return ""


def explain_state_machine_safety(servers: Sequence[ServerLog]) -> str:
    """State Machine Safety: two servers whose commit indexes cover one index with different entries there.

    >>> a = ServerLog("s1", "Leader", 2, ((2, "v1"),), 1)
    >>> b = ServerLog("s2", "Follower", 2, (), 1)
    >>> explain_state_machine_safety([a, b])
    's1 committed #1 t2 v1, but s2, whose commit index 1 covers index 1, has no entry there (its log has 0 entries)'
    """
    for k, a in enumerate(servers):
        for b in servers[k + 1:]:
            for i in range(1, min(a.commit, b.commit) + 1):
                x, y = _entry_at(a, i), _entry_at(b, i)
                if x == y:
                    continue
                if x is not None and y is not None:
                    return (f"{a.name} and {b.name} committed different entries at index {i}: {a.name} has "
                            f"{entry_text(i, x)}, {b.name} has {entry_text(i, y)}")
                has, lacks = (a, b) if x is not None else (b, a)
                return (f"{has.name} committed {entry_text(i, x if x is not None else y)}, but {lacks.name}, whose "  # type: ignore[arg-type]
                        f"commit index {lacks.commit} covers index {i}, has no entry there (its log has "
                        f"{_entries(lacks)})")
    return ""


def explain_commit_within_log(servers: Sequence[ServerLog]) -> str:
    """A commit index past the end of its own log.

    >>> explain_commit_within_log([ServerLog("s2", "Follower", 2, (), 1)])
    "s2's commit index 1 runs past the end of its log (0 entries: [])"
    """
    return "; ".join(
        f"{s.name}'s commit index {s.commit} runs past the end of its log ({_entries(s)}: {log_notation(s.log)})"
        for s in servers if s.commit > len(s.log)
    )


def explain_leader_logs(servers: Sequence[ServerLog]) -> str:
    """The leaders' logs (what Leader Append-Only is about), committed prefix marked.

    >>> explain_leader_logs([ServerLog("s1", "Leader", 2, ((2, "v1"),), 0)])
    'leader s1 (term 2) log [| #1 t2 v1]'
    """
    return "; ".join(f"leader {s.name} (term {s.term}) log {log_notation(s.log, commit=min(s.commit, len(s.log)))}"
                     for s in servers if s.role == "Leader")


def explain_committed_logs(servers: Sequence[ServerLog]) -> str:
    """Every server's log with its committed prefix marked (what Committed Entries Stable is about), after the step.

    >>> explain_committed_logs([ServerLog("s2", "Follower", 2, ((1, "v1"),), 1)])
    'after the step: s2 (follower, term 2) commit index 1, log [#1 t1 v1 |]'
    """
    return "after the step: " + "; ".join(
        f"{s.name} ({s.role.lower()}, term {s.term}) commit index {s.commit}, log "
        f"{log_notation(s.log, commit=min(s.commit, len(s.log)))}" for s in servers)


def explain_committed_change(before: Sequence[ServerLog], after: Sequence[ServerLog]) -> str:
    """What the step did to a committed entry: the first server whose log lost or changed an entry at or below its
    commit index before the step (Committed Entries Stable), with its log before and after.

    >>> was = [ServerLog("n0", "Follower", 1, ((1, "v1"),), 1)]
    >>> explain_committed_change(was, [ServerLog("n0", "Follower", 1, (), 0)])
    'n0 lost committed entry #1 t1 v1 in this step: its log went from [#1 t1 v1 |] to [|]'
    >>> explain_committed_change(was, [ServerLog("n0", "Follower", 2, ((2, "v2"),), 0)])
    'n0 replaced committed entry #1 t1 v1 by #1 t2 v2 in this step: its log went from [#1 t1 v1 |] to [| #1 t2 v2]'
    """
    for old, new in zip(before, after):
        for index in range(1, min(old.commit, len(old.log)) + 1):
            entry, now = old.log[index - 1], _entry_at(new, index)
            if now == entry:
                continue
            what = (f"lost committed entry {entry_text(index, entry)}" if now is None else
                    f"replaced committed entry {entry_text(index, entry)} by {entry_text(index, now)}")
            return (f"{new.name} {what} in this step: its log went from "
                    f"{log_notation(old.log, commit=min(old.commit, len(old.log)))} to "
                    f"{log_notation(new.log, commit=min(new.commit, len(new.log)))}")
    return explain_committed_logs(after)


def explain_two_leaders(servers: Sequence[ServerLog]) -> str:
    """Election Safety in state form: two servers that are leader in one term at once.

    >>> explain_two_leaders([ServerLog("s1", "Leader", 2, (), 0), ServerLog("s3", "Leader", 2, (), 0)])
    's1 and s3 are both leader in term 2'
    """
    for k, a in enumerate(servers):
        for b in servers[k + 1:]:
            if a.role == b.role == "Leader" and a.term == b.term:
                return f"{a.name} and {b.name} are both leader in term {a.term}"
    return ""


LOG_EXPLAINERS: dict[str, Callable[[Sequence[ServerLog]], str]] = {
    "election-safety-state": explain_two_leaders,
    "log-matching": explain_log_matching,
    "commit-within-log": explain_commit_within_log,
    "leader-completeness": explain_leader_completeness,
    "state-machine-safety": explain_state_machine_safety,
    "leader-append-only": explain_leader_logs,
    "committed-entries-stable": explain_committed_logs,
}
"""The explanation of each Raft property about the servers' roles and logs, over :class:`ServerLog` views (the
built-in model and student code share them)."""

LOG_STEP_EXPLAINERS: dict[str, Callable[[Sequence[ServerLog], Sequence[ServerLog]], str]] = {
    "committed-entries-stable": explain_committed_change,
}
"""The action properties' explanations of the violating step, over the views before and after it."""


def log_step_explainer(name: str, server_logs: Callable[[Any], Sequence[ServerLog]]
                       ) -> Callable[[Any, Any], str | None] | None:
    """Property ``name``'s :attr:`~quorumcheck.models.api.Property.step_explainer` over states that ``server_logs``
    views (the built-in model's and student code's alike), or ``None`` if it has none.

    >>> view = {0: [ServerLog("n0", "Follower", 1, ((1, "v1"),), 1)], 1: [ServerLog("n0", "Follower", 1, (), 0)]}
    >>> log_step_explainer("committed-entries-stable", view.__getitem__)(0, 1)[:32]
    'n0 lost committed entry #1 t1 v1'
    """
    changed = LOG_STEP_EXPLAINERS.get(name)
    if changed is None:
        return None
    return lambda before, after: changed(server_logs(before), server_logs(after)) or None
