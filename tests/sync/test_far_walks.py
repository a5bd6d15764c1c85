"""Across a mast between groups (filters.py `far`, `_reply`): where groups of
ledger nodes hear one another only through a mast, a far peer's digest unlike
our set makes a node it chose among its far relays walk toward it (one filter
crossing the mast, its answers heard by our whole side) rather than sketch;
and a far peer's filter showing records we lack is walked back. Streams
crossed the mast burst after burst, and once a village lacked 24 records of
another nobody asked on (villages-27: records never came)."""

from __future__ import annotations

import math

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync.engine import Engine
from meshaid.node.sync.filterbits import make_bits
from meshaid.node.sync.filters import BITS_PER_ID, FAR_GAP, FAR_SETTLE, HASHES, WAIT
from meshaid.node.sync.ports import RxMeta

from .harness import Ledger, Mesh
from .meshes import lone, proof

FAR, FAR2, NEAR, STRANGER = 0x0777, 0x0778, 0x0555, 0x0999


def _heard(eng: Engine, sender: int, hops: int, t: float, ticket: bytes = b"") -> None:
    digest = m.Digest(eng.count, eng.fingerprint, False, (), True, (), ticket=ticket)
    eng.receive(m.encode(digest, eng.cfg.network_tag), RxMeta(sender=sender, hops=hops), t)


def _two_far_peers_and_a_neighbour() -> tuple[Mesh, Ledger, Engine]:
    mesh, ledger = lone(seed=3, history=60)
    eng = mesh.engines[0]
    for k in range(2):
        _heard(eng, FAR, 1, mesh.now + k, proof(ledger, 1, FAR) if k == 0 else b"")
        _heard(eng, FAR2, 1, mesh.now + k, proof(ledger, 2, FAR2) if k == 0 else b"")
    mesh.run_for(120.0)
    for k in range(2):
        _heard(eng, NEAR, 0, mesh.now + k)
    mesh.run_for(2.0)
    assert eng.hood.far_but_near_others(FAR, mesh.now)
    assert eng.hood.far_but_near_others(FAR2, mesh.now)
    return mesh, ledger, eng


def _differing(mesh: Mesh, eng: Engine, sender: int, relays: tuple[int, ...]) -> None:
    digest = m.Digest(eng.count + 2, eng.fingerprint ^ 0x5A5A, False, (), True, (),
                      far_relays=relays)
    eng.receive(m.encode(digest, eng.cfg.network_tag), RxMeta(sender=sender, hops=1), mesh.now)


def _brings(mesh: Mesh, ledger: Ledger, eng: Engine, sender: int, k: int) -> None:
    """`sender` brings us, through the mast, a trusted record new to us."""
    raw = ledger.sign(k, r.Need(1, f"far news {k}", 10, 4, 1))
    eng.receive(m.encode(m.Records((raw,)), eng.cfg.network_tag),
                RxMeta(sender=sender, hops=1), mesh.now)


def test_a_far_peer_that_chose_us_is_walked_toward_once_per_gap() -> None:
    mesh, ledger, eng = _two_far_peers_and_a_neighbour()
    walks, me = eng.answers.filters, eng.node & 0xFFFF
    _differing(mesh, eng, FAR, (0x0123,))  # it chose another node: its own to answer
    assert not walks.walks and eng.recon.sketch_due is None
    # Chosen, by a far peer that never brought us a record: no walk (its digests
    # are anyone's to send in its number, with a stolen key's proof), a sketch.
    _differing(mesh, eng, FAR, (me,))
    assert not walks.walks and eng.recon.sketch_due is not None
    eng.recon.sketch_due = None
    _brings(mesh, ledger, eng, FAR, 1)
    _brings(mesh, ledger, eng, FAR2, 2)
    mesh.run_for(1.0)
    eng.sends.clear()
    eng.answers.prompters.table.clear()
    _differing(mesh, eng, FAR, (me,))
    assert FAR in walks.walks and eng.recon.sketch_due is None  # a filter, no stream
    before = len(mesh.sent)
    mesh.run_for(2 * FAR_SETTLE + 5)  # (records in flight may come meanwhile)
    sent = [s.out for s in mesh.sent[before:] if s.out.tag == "filter"]
    assert sent and all(o.hop_limit == 1 for o in sent)  # for the mast to carry
    first = m.decode(sent[0].payload)
    assert isinstance(first, m.Filter) and first.target == FAR and first.until == m.HLC_MAX
    # Nothing came, and its digest still differs: lost on the mast, most likely
    # (it carries a third of such filters on villages-27): the same window again.
    before = len(mesh.sent)
    mesh.run_for(WAIT + 5)
    again = [m.decode(s.out.payload) for s in mesh.sent[before:] if s.out.tag == "filter"]
    assert again and isinstance(again[0], m.Filter) and again[0].until == m.HLC_MAX
    # Another far peer choosing us within the gap: no second walk (a sketch, as before).
    _differing(mesh, eng, FAR2, (me,))
    assert FAR2 not in walks.walks and eng.recon.sketch_due is not None
    eng.recon.sketch_due = None
    walks.walks.clear()
    mesh.now += FAR_GAP
    _brings(mesh, ledger, eng, FAR2, 2)
    eng.sends.clear()
    _differing(mesh, eng, FAR2, (me,))
    assert FAR2 in walks.walks
    # What it lacked was in flight: once its digest is ours, no filter goes.
    _heard(eng, FAR2, 1, mesh.now + 1)
    before = len(mesh.sent)
    mesh.run_for(2 * FAR_SETTLE + 5)
    assert FAR2 not in walks.walks
    assert not [s for s in mesh.sent[before:] if s.out.tag == "filter"]


def test_a_far_peers_filter_showing_records_we_lack_is_walked_back() -> None:
    mesh, ledger, eng = _two_far_peers_and_a_neighbour()
    walks = eng.answers.filters
    ours = [i.id for i in eng.infos.values()]
    bits = make_bits(ours, math.ceil(len(ours) * BITS_PER_ID / 8), HASHES)
    # It holds all of ours in the window, and more: we lack some of its records.
    more = m.encode(m.Filter(eng.node, 0, m.HLC_MAX, len(ours) + 5, HASHES, bits), ledger.network[:2])
    for sender in (STRANGER, FAR):
        for _ in range(3):  # (its air pays for our first filter)
            eng.receive(more, RxMeta(sender=sender, hops=1), mesh.now)
    assert FAR in walks.walks and STRANGER not in walks.walks
    # Nothing more than ours: nothing to walk back for.
    walks.walks.clear()
    walks.replied.clear()
    level = m.encode(m.Filter(eng.node, 0, m.HLC_MAX, len(ours), HASHES, bits), ledger.network[:2])
    for _ in range(3):
        eng.receive(level, RxMeta(sender=FAR2, hops=1), mesh.now)
    assert not walks.walks
