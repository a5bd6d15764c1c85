"""A sketch showing only that its sender lacks records of ours resets our
Trickle (our digest soon) only where that reaction is the sender's due
(sketchin.py `_check_soon`; the attack suite's lack-fresh and phantom-lack-hop1)."""

from __future__ import annotations

from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.engine import Engine
from meshaid.node.sync.farpeers import short
from meshaid.node.sync.ports import RxMeta

from .harness import HOUR, Mesh
from .meshes import lone

KNOWN = 0x77


def _less_one(engine: Engine, tag: bytes) -> bytes:
    """A one-symbol SKETCH of our set less one record: it decodes at once, and
    says its sender lacks that record."""
    ids = sorted(int.from_bytes(rid, "big") for rid in engine.infos)[1:]
    x = c = 0
    for i in ids:
        x ^= i
        c ^= riblt.checksum(i)
    symbol = x.to_bytes(8, "big") + c.to_bytes(4, "big") + bytes([len(ids) % 256])
    return m.encode(m.Sketch(len(ids), 0, symbol), tag)


def _resets(sender: int, hops: int = 0, lists: tuple[int, ...] = ()) -> bool:
    """Node 0, quiet for two hours (Trickle at a long interval), with a known
    neighbour KNOWN (listing `lists`), hears the sketch from `sender` at `hops`:
    whether its Trickle went back to the news interval."""
    mesh, ledger = lone(history=40)
    engine, tag = mesh.engines[0], ledger.network[:2]
    for _ in range(2):  # our very set, twice: a known neighbour
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=KNOWN)
        mesh.run_for(5.0)
    if lists:
        listed = m.Digest(engine.count, engine.fingerprint, neighbours=lists, has_neighbours=True)
        mesh.inject(0, m.encode(listed, tag), sender=KNOWN)
    mesh.run_for(2 * HOUR)
    assert engine.trickle.interval > engine.cfg.news_interval
    _hear(mesh, engine, _less_one(engine, tag), sender, hops)
    return engine.trickle.interval == engine.cfg.news_interval


def _hear(mesh: Mesh, engine: Engine, payload: bytes, sender: int, hops: int) -> None:
    engine.receive(payload, RxMeta(sender=sender, hops=hops), mesh.now)
    mesh.pump(0)


def test_a_known_neighbour_lacking_our_record_gets_our_digest_soon() -> None:
    assert _resets(KNOWN)


def test_a_stranger_heard_directly_lacking_our_record_gets_no_digest_for_it() -> None:
    assert not _resets(0x5001)


def test_a_far_stranger_behind_a_mast_gets_it_a_two_hop_one_does_not() -> None:
    # heard through a relay and named by no neighbour's list: a site behind a mast,
    # whose proof may still be on the way
    assert _resets(0x5002, hops=1)
    # named by a known neighbour's list: its own packets never reach us, and one
    # through a relay is anyone's to send in its number
    assert not _resets(0x5002, hops=1, lists=(short(0x5002),))
