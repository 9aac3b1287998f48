"""A plain, hand-written breadth-first search of Paxos.tla: the benchmark's baseline.

Deliberately independent of quorumcheck: states are tuples, the visited set is a
Python ``set``, there is no graph, no labels, no parent links, and agreement is a
plain Python predicate evaluated on every new state. This is what a careful
engineer would write by hand in an afternoon; quorumcheck's full check (graph
kept, every property checked) is measured against it in the same run.

State layout: ``(max_bal, max_vbal, max_val, msgs)`` where the first three are
tuples indexed by acceptor (``-1`` / ``-1`` for "none") and ``msgs`` is a
frozenset of message tuples ``("1a", b)``, ``("1b", a, b, mbal, mval)``,
``("2a", b, v)``, ``("2b", a, b, v)``.
"""

from __future__ import annotations

import itertools
import sys
import time


def majorities(n: int) -> list[frozenset[int]]:
    need = n // 2 + 1
    return [frozenset(q) for q in itertools.combinations(range(n), need)]


def successors(state, n, ballots, values, quorums):
    max_bal, max_vbal, max_val, msgs = state
    out = []
    for b in ballots:
        out.append((max_bal, max_vbal, max_val, msgs | {("1a", b)}))
    for m in msgs:
        kind = m[0]
        if kind == "1a":
            b = m[1]
            for a in range(n):
                if b > max_bal[a]:
                    nb = max_bal[:a] + (b,) + max_bal[a + 1:]
                    out.append((nb, max_vbal, max_val,
                                msgs | {("1b", a, b, max_vbal[a], max_val[a])}))
        elif kind == "2a":
            b, v = m[1], m[2]
            for a in range(n):
                if b >= max_bal[a]:
                    out.append((max_bal[:a] + (b,) + max_bal[a + 1:],
                                max_vbal[:a] + (b,) + max_vbal[a + 1:],
                                max_val[:a] + (v,) + max_val[a + 1:],
                                msgs | {("2b", a, b, v)}))
    for b in ballots:
        if any(m[0] == "2a" and m[1] == b for m in msgs):
            continue
        ones = [m for m in msgs if m[0] == "1b" and m[2] == b]
        for v in values:
            ok = False
            for q in quorums:
                q1b = [m for m in ones if m[1] in q]
                if {m[1] for m in q1b} != q:
                    continue
                q1bv = [m for m in q1b if m[3] >= 0]
                if not q1bv or any(m[4] == v and all(m[3] >= mm[3] for mm in q1bv) for m in q1bv):
                    ok = True
                    break
            if ok:
                out.append((max_bal, max_vbal, max_val, msgs | {("2a", b, v)}))
    return out


def agreement(state, quorums) -> bool:
    votes = [m for m in state[3] if m[0] == "2b"]
    chosen = set()
    for m in votes:
        b, v = m[2], m[3]
        voters = {x[1] for x in votes if x[2] == b and x[3] == v}
        if any(q <= voters for q in quorums):
            chosen.add(v)
    return len(chosen) <= 1


def plain_bfs(n: int = 3, n_values: int = 2, max_ballot: int = 2) -> tuple[int, int]:
    """Return (distinct states, depth in TLC's counting)."""
    ballots = range(max_ballot + 1)
    values = range(n_values)
    quorums = majorities(n)
    init = ((-1,) * n, (-1,) * n, (-1,) * n, frozenset())
    seen = {init}
    level = [init]
    depth = 0
    while level:
        depth += 1
        nxt = []
        for s in level:
            for t in successors(s, n, ballots, values, quorums):
                if t not in seen:
                    seen.add(t)
                    if not agreement(t, quorums):
                        raise AssertionError("agreement violated")
                    nxt.append(t)
        level = nxt
    return len(seen), depth


if __name__ == "__main__":
    b = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    t0 = time.perf_counter()
    count, depth = plain_bfs(max_ballot=b)
    dt = time.perf_counter() - t0
    print(f"{count} states, depth {depth}, {dt:.2f} s, {count / dt:,.0f} states/s")
