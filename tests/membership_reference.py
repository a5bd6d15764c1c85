"""The reference rule of membership (node/PROTOCOL.md §4) without the short
cuts of membership.resolve, and unsigned records to feed it: for the property
tests that compare the two (tests/ledger/test_membership_properties.py,
test_membership_rings.py)."""

from __future__ import annotations

from meshaid.node.ledger import membership, trustgraph
from meshaid.node.ledger import records as r


def rec(author: bytes, seq: int, body: r.Body, hlc: int = 0) -> r.Record:
    kind = r.KIND_OF_BODY[type(body)]
    raw = repr((author, seq, body, hlc)).encode()  # distinct bytes per distinct record
    return r.Record(kind, author, seq, hlc, body, raw)


def forks_of(events: list[r.Record]) -> set[tuple[bytes, int]]:
    seen: dict[tuple[bytes, int], bytes] = {}
    forked = set()
    for e in events:
        k = (e.author, e.seq)
        if k in seen and seen[k] != e.raw:
            forked.add(k)
        seen.setdefault(k, e.raw)
    return forked


def exhaustive_cuts(ch: r.Record, events: list[r.Record],
                    forked: set[tuple[bytes, int]]) -> trustgraph.Cuts:
    """membership.resolve without its short cuts: the components in order, and
    for each, the alternating fixpoint on the whole graph, every revoked key of
    the component, every through of a revoke of it, a world each (the rule of
    PROTOCOL.md §4)."""
    assert isinstance(ch.body, r.Charter)
    graph = trustgraph.Graph(ch.body, ch.author, events, frozenset(forked))
    found: trustgraph.Cuts = {}
    for part in membership.components(graph):
        while True:
            base = membership.settle(graph, found)
            more = {}
            for x in part:
                known = base.get(x)
                for n in sorted({rv.through for rv in graph.revokes if rv.subject == x}):
                    if known is not None and n >= known:
                        break
                    got = membership.settle(graph.without(x, n), found).get(x)
                    if got is not None and got <= n:
                        more[x] = got
                        break
            found |= {k: base[k] for k in part if k in base}
            if not more:
                break
            found |= more
    return found


def fast_cuts(ch: r.Record, events: list[r.Record],
              forked: set[tuple[bytes, int]]) -> trustgraph.Cuts:
    """membership.resolve, with its short cuts."""
    assert isinstance(ch.body, r.Charter)
    return membership.resolve(trustgraph.Graph(ch.body, ch.author, events, frozenset(forked)))
