"""Strongly connected components of a key graph, for membership
(node/ledger/membership.py): pure, deterministic, iterative."""

from __future__ import annotations


def strongly_connected(succ: dict[bytes, set[bytes]]) -> list[list[bytes]]:
    """The strongly connected components of `succ` (key -> its dependants),
    upstream first: each after every component it depends on, keys sorted within
    a component, the order fixed by the key bytes (Tarjan's algorithm without
    recursion, so a chain of any length cannot exhaust the stack)."""
    nodes = sorted(set(succ) | {k for ks in succ.values() for k in ks})
    after = {a: sorted(ks) for a, ks in succ.items()}
    index: dict[bytes, int] = {}
    low: dict[bytes, int] = {}
    on_stack: set[bytes] = set()
    stack: list[bytes] = []
    out: list[list[bytes]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            nexts = after.get(v, [])
            while i < len(nexts) and nexts[i] in index:
                w = nexts[i]
                if w in on_stack:
                    low[v] = min(low[v], index[w])
                i += 1
            if i < len(nexts):
                work.append((v, i + 1))
                work.append((nexts[i], 0))
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    out.reverse()
    return out
