"""Which sketches we believe, and in what order listeners ask a sketcher MORE.

Theory of operation
-------------------
A SKETCH is unauthenticated. Symbol 0 of a sketch from index 0 codes every id
of the sketcher's set: its id sum is the set's fingerprint and its count the
set's count (mod 256). So a sketch can be checked against what its sender
last said of itself in a plausible digest (`vouched`): one unlike it (or from
a sender that never said, or said it only at a signal not its own) is read,
but earns no MORE, no sketch of ours and cancels nothing (answers.py).

Of the listeners that cannot decode a vouched sketch, one per neighbourhood
asks MORE first: `more_rank` orders the sketcher's announced neighbours by a
hash of both numbers (PROTOCOL.md §9, "MOREs").
"""

from __future__ import annotations

import hashlib
from collections.abc import Container, Mapping

from . import messages as m
from . import riblt
from .relays import Peer, short


def more_rank(peers: Mapping[int, Peer], node: int, sketcher: int,
              unvouched: Container[int]) -> int | None:
    """Where `node` stands among `sketcher`'s announced neighbours in the order of
    who asks it for more symbols (a hash of both numbers); behind them all when
    its list is not known yet; None (do not ask) when we never heard a digest
    from it, or its last sketch was unvouched: a node number made up for a
    sketch is asked nothing."""
    peer = peers.get(sketcher)
    me = short(node)
    if peer is None or peer.count <= 0 or sketcher in unvouched:
        return None
    if peer.neighbours is None or me not in peer.neighbours:
        return 1 + len(peer.neighbours or ())
    order = sorted(peer.neighbours, key=lambda n: hashlib.sha256(
        sketcher.to_bytes(4, "big") + n.to_bytes(2, "big")).digest())
    return order.index(me)


def vouched(peers: Mapping[int, Peer], msg: m.Sketch, sender: int) -> bool:
    """Does a sketch (from index 0) agree with its sender's own last digest?"""
    peer = peers.get(sender)
    return peer is not None and peer.count > 0 and codes(msg, peer.count, peer.fingerprint)


def codes(msg: m.Sketch, count: int, fingerprint: int) -> bool:
    """Does a sketch from index 0 code a set of this count and fingerprint?"""
    if msg.start != 0 or msg.count != count or len(msg.symbols) < riblt.SYMBOL_BYTES:
        return False
    first = riblt.parse_symbols(msg.symbols[:riblt.SYMBOL_BYTES])[0]
    return first.ids == fingerprint and first.count % 256 == count % 256
