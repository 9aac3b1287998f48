"""The state graph: how the explorer stores it in networkx, and the queries on it.

The graph is a :class:`networkx.DiGraph` whose nodes are state ids (``0, 1,
...`` in the order the breadth-first search discovered them). Node attributes:

``state``
    the model's state object;
``depth``
    its distance in steps from the nearest initial state (0 for initial states).

A ``DiGraph`` keeps one edge per ordered pair of nodes, but two different
actions can lead from one state to the same successor (and a stuttering step
is a self-loop). So every edge carries the attribute ``actions``: the *list* of
every action label that leads from ``u`` to ``v``, in the order they were
generated. ``sum(len(d["actions"]) for *_, d in G.edges(data=True))`` is the
number of labelled transitions inside the bound. ``G.graph["init"]`` lists the
initial states' ids.

We chose a ``DiGraph`` with a label list over a ``MultiDiGraph`` because the
edge keys of a ``MultiDiGraph`` cost an extra dict per edge (Paxos 0..2 has
1.32 M labelled transitions on only 0.68 M distinct edges).

Examples
--------
>>> from quorumcheck.models import PaxosModel
>>> from quorumcheck.explorer import explore
>>> r = explore(PaxosModel(max_ballot=0))
>>> G = r.graph
>>> G.number_of_nodes(), G.graph["init"]
(73, [0])
>>> G.nodes[0]["depth"], [str(a) for a in G.edges[0, 1]["actions"]]
(0, ['Phase1a(b=0)'])
>>> len(shortest_trace(G, 72)) == G.nodes[72]["depth"]
True
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
from quorumcheck.models.api import Action

from .result import Step, Trace

__all__ = ["GraphPart", "GraphRecorder", "labelled_transitions", "shortest_trace", "trace_from_parents"]


class GraphRecorder:
    """Writes states and transitions into a fresh :class:`networkx.DiGraph`, fast.

    This is the one place that writes networkx's adjacency dicts directly, as
    ``DiGraph.add_edges_from`` itself does: the search adds over a million
    labelled edges per run, and the public ``add_edge`` costs several times
    more per call. The result is an ordinary ``DiGraph`` (tests compare it with
    one built through the public API).
    """

    __slots__ = ("graph", "node", "pred", "succ")

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.graph.graph["init"] = []
        self.node: dict[int, dict[str, Any]] = self.graph._node
        self.succ: dict[int, dict[int, dict[str, Any]]] = self.graph._succ
        self.pred: dict[int, dict[int, dict[str, Any]]] = self.graph._pred

    def add_state(self, node: int, state: Any, depth: int) -> None:
        self.node[node] = {"state": state, "depth": depth}
        self.succ[node] = {}
        self.pred[node] = {}
        if depth == 0:
            self.graph.graph["init"].append(node)

    def add_transition(self, u: int, v: int, action: Action) -> None:
        out = self.succ[u]
        data = out.get(v)
        if data is None:
            data = out[v] = {"actions": [action]}
            self.pred[v][u] = data
        else:
            data["actions"].append(action)


class GraphPart:
    """One worker's part of the state graph, as flat arrays, for the trip to the coordinator.

    A worker of a sharded search (``explore(workers=N)``) never reads its part of
    the graph; it only ships it. So instead of networkx's dicts it records the
    same calls as :class:`GraphRecorder` into arrays of numbers, with each action
    label stored once (Paxos 0..2: 1.3 M transitions, 262 distinct labels), and
    the edges to states other workers own by their key.
    :meth:`into` joins the parts into one ``DiGraph``.

    Examples
    --------
    >>> part = GraphPart()
    >>> part.add_state(0, "s0", 0); part.add_state(2, "s1", 1)
    >>> part.add_transition(0, 2, Action("A")); part.add_transition(0, 2, Action("B"))
    >>> part.add_remote(2, 12345, Action("C"))
    >>> G = GraphPart.into([part], {12345: 0})
    >>> [str(a) for a in G.edges[0, 2]["actions"]], [str(a) for a in G.edges[2, 0]["actions"]]
    (['A()', 'B()'], ['C()'])
    """

    __slots__ = ("actions", "depths", "eu", "ev", "ea", "nodes", "ra", "rk", "ru", "states", "_index")

    def __init__(self) -> None:
        self.nodes, self.depths, self.states = array("q"), array("q"), []
        self.eu, self.ev, self.ea = array("q"), array("q"), array("q")  # edges: source, target, label
        self.ru, self.rk, self.ra = array("q"), array("Q"), array("q")  # to other workers: source, key, label
        self.actions: list[Action] = []
        self._index: dict[Action, int] = {}

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.nodes, self.depths, self.states, self.eu, self.ev, self.ea, self.ru, self.rk, self.ra,
                self.actions)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        (self.nodes, self.depths, self.states, self.eu, self.ev, self.ea, self.ru, self.rk, self.ra,
         self.actions) = state
        self._index = {}

    def _label(self, action: Action) -> int:
        i = self._index.get(action)
        if i is None:
            i = self._index[action] = len(self.actions)
            self.actions.append(action)
        return i

    def add_state(self, node: int, state: Any, depth: int) -> None:
        self.nodes.append(node)
        self.states.append(state)
        self.depths.append(depth)

    def add_transition(self, u: int, v: int, action: Action) -> None:
        self.eu.append(u)
        self.ev.append(v)
        self.ea.append(self._label(action))

    def add_remote(self, u: int, key: int, action: Action) -> None:
        """An edge to a state another worker owns, known here by its key only."""
        self.ru.append(u)
        self.rk.append(key or 1)  # as the coordinator's table of keys has it
        self.ra.append(self._label(action))

    @staticmethod
    def into(parts: Sequence[GraphPart], node_of: Mapping[int, int]) -> nx.DiGraph:
        """The parts as one graph: nodes in the order of their numbers, then each part's own edges, then
        the edges to other workers' states, by their keys' nodes in ``node_of`` (a key missing there: the
        owner stopped at the state limit before storing that state, and the edge is left out)."""
        recorder = GraphRecorder()
        add_state, succ, pred = recorder.add_state, recorder.succ, recorder.pred
        numbers = [v for part in parts for v in part.nodes]
        where = [(part, i) for part in parts for i in range(len(part.nodes))]
        for k in sorted(range(len(numbers)), key=numbers.__getitem__):
            part, i = where[k]
            add_state(numbers[k], part.states[i], part.depths[i])
        for part in parts:
            _join(succ, pred, part.eu, part.ev, part.ea, part.actions)
        for part in parts:
            _join(succ, pred, part.ru, map(node_of.get, part.rk), part.ra, part.actions)
        return recorder.graph


def _join(succ: dict[int, dict[int, dict[str, Any]]], pred: dict[int, dict[int, dict[str, Any]]],
          sources: Iterable[int], targets: Iterable[int | None], labels: Iterable[int], actions: list[Action]) -> None:
    """Add labelled edges to a graph's adjacency dicts, as :meth:`GraphRecorder.add_transition` does; an edge
    whose target is ``None`` is left out."""
    last, out = -1, {}
    for u, v, a in zip(sources, targets, labels):
        if v is None:
            continue
        if u != last:  # a node's edges are recorded together, when it is expanded
            last, out = u, succ[u]
        data = out.get(v)
        if data is None:
            data = out[v] = {"actions": [actions[a]]}
            pred[v][u] = data
        else:
            data["actions"].append(actions[a])


def labelled_transitions(graph: nx.DiGraph) -> int:
    """The number of labelled transitions stored in ``graph`` (edges times their labels).

    Examples
    --------
    >>> G = nx.DiGraph()
    >>> G.add_edge(0, 1, actions=["A", "B"]); G.add_edge(1, 1, actions=["C"])
    >>> labelled_transitions(G)
    3
    """
    return sum(len(d["actions"]) for _, _, d in graph.edges(data=True))


def shortest_trace(graph: nx.DiGraph, target: int, length: Callable[[Action], int] | None = None) -> Trace[Any]:
    """The shortest trace from an initial state to ``target``, read from the graph.

    Walks predecessors backwards, each time to a predecessor one step nearer an
    initial state (the ``depth`` attribute); the first such predecessor in the
    graph's order is the state that discovered ``target`` during the search.
    ``length`` gives the steps an edge stands for, when some stand for several
    (the reduction by movers' transactions); by default each is one.

    Examples
    --------
    >>> from quorumcheck.models import PaxosModel
    >>> from quorumcheck.explorer import explore
    >>> G = explore(PaxosModel(max_ballot=0)).graph
    >>> [str(a) for a in shortest_trace(G, 3).actions]
    ['Phase1a(b=0)', 'Phase1b(a=a2, b=0)']
    """
    nodes = graph.nodes
    path = [target]
    labels: list[Action] = []
    v = target
    while nodes[v]["depth"] > 0:
        depth = nodes[v]["depth"]
        found = next(((u, a) for u, data in graph.pred[v].items() for a in data["actions"]
                      if nodes[u]["depth"] + (1 if length is None else length(a)) == depth), None)
        if found is None:  # pragma: no cover - only a corrupted graph gets here
            raise ValueError(f"node {v} has depth {depth} but no predecessor that many steps nearer the start")
        v, action = found
        labels.append(action)
        path.append(v)
    path.reverse()
    labels.reverse()
    steps = [Step(None, nodes[path[0]]["state"])]
    steps += [Step(a, nodes[n]["state"]) for a, n in zip(labels, path[1:])]
    return Trace(tuple(steps))


def trace_from_parents(
    states: Sequence[Any], parent: Sequence[int], via: Sequence[Action | None], target: int
) -> Trace[Any]:
    """The trace to ``target`` from BFS parent links (the mode that keeps no graph)."""
    path = []
    v = target
    while v >= 0:
        path.append(v)
        v = parent[v]
    path.reverse()
    return Trace(tuple(Step(via[n], states[n]) for n in path))
