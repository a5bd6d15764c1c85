"""Catch-up since (node/sync/bootstrap.py, PROTOCOL.md §7 behaviour 5): a node
that held a ledger when it fell far behind pulls what came lately, class by
class, newest first, and stops where it reaches what it holds."""

from __future__ import annotations

import random

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import bootstrap as bs
from meshaid.node.sync import messages as m
from meshaid.node.sync import streams as st
from meshaid.node.sync.engine import record_id
from meshaid.node.sync.pacing import STRANGERS
from meshaid.node.sync.ports import CLASS_BOARD, CLASS_COMMITMENTS, CLASS_OF_KIND, RxMeta

from .harness import HOUR, Ledger, Mesh, clone
from .meshes import converge


def _split_and_heal(mesh: Mesh) -> int:
    """Node 0 posts 70 records (more than `boot_gap`) while cut off from node 1,
    then the link heals: the index of the first packet sent after."""
    mesh.run_for(600.0)
    mesh.partition([0])
    for k in range(70):
        body = r.Offer(35, f"offer {k}", 5 + k) if k % 2 else r.Need(1, f"need {k}", 10, 4, 1)
        mesh.author(0, body)
        mesh.run_for(30.0)
    start = len(mesh.sent)
    mesh.heal()
    return start


def test_a_node_behind_after_a_split_pulls_the_newest_records_first() -> None:
    """Finding (partition-heal): such a node pulled from the start of each
    partition, membership first; its probes brought only records it held, its
    responder was doubted for an hour and it sat 100 records behind."""
    ledger = Ledger(4, seed=8, history=80)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], [(0, 1)], seed=3)
    start = _split_and_heal(mesh)
    mesh.run_for(HOUR)
    pulls = [m.decode(s.out.payload) for s in mesh.sent[start:]
             if s.node == 1 and s.out.tag == "pull"]
    assert pulls, "far behind: it pulls"
    assert all(isinstance(p, m.Pull) and p.cursor[:1] != b"\x00" and p.cursor for p in pulls)
    assert pulls[0].cursor == st.class_start(CLASS_BOARD)
    assert not mesh.engines[1].boot.doubted
    # It catches up, if slowly: 53 to 110 minutes over mesh seeds 1-8 (open,
    # issue 10; this seed, 53 minutes, was the one of them within the hour
    # this test used to allow).
    converge(mesh, 2 * HOUR)


def test_a_node_pulling_plans_no_sketch_its_set_changes_under_every_answer() -> None:
    """A node that pulls (its digest says so, and nobody sketches for it) plans
    no sketch round of its own either: every answer changes its set, so the
    next packet of its sketch would code another set and no stream of it would
    decode."""
    ledger = Ledger(4, seed=8, history=80)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], [(0, 1)], seed=3)
    mesh.run_for(600.0)
    mesh.partition([0])
    for k in range(70):  # more than boot_gap records the other side lacks
        mesh.author(0, r.Need(1, f"need {k}", 10, 4, 1))
        mesh.run_for(30.0)
    mesh.heal()
    puller = mesh.engines[1]
    while not puller.boot.active:
        mesh.run_for(2.0)
    puller.sends.clear()  # (no backlog of ours to explain a difference)
    recon = puller.answers.recon
    # A node heard once, a few records off our set: a difference worth a sketch
    # (as far as what strangers sent here pays for it: digests.py `_mismatch`).
    puller.answers.pool.earn(STRANGERS, 10.0, mesh.now)
    digest = m.Digest(puller.count + 3, puller.fingerprint ^ 0x5A5A, False)
    puller.receive(m.encode(digest, puller.cfg.network_tag), RxMeta(sender=0x77), mesh.now)
    assert puller.boot.active and recon.sketch_due is None
    puller.boot.streams.clear()  # the pull is over: the same digest is reconciled
    puller.receive(m.encode(digest, puller.cfg.network_tag), RxMeta(sender=0x78), mesh.now)
    assert recon.sketch_due is not None


def test_a_since_stream_moves_on_a_class_when_an_answer_brings_nothing_new() -> None:
    ledger = Ledger(3, seed=2, history=12)
    boot = bs.Bootstrap(ledger.config(), random.Random(1), 1)
    boot.confirmed.add(7)
    boot.streams[0] = st.Stream(7, st.class_start(CLASS_BOARD), since=True)
    def first(cls: int) -> bytes:
        return next(raw for raw in ledger.history if record_id(raw)[0] % bs.PARTS == 0
                    and CLASS_OF_KIND[codec.parse(raw).kind] == cls)

    for cls, raw in ((CLASS_BOARD, first(CLASS_BOARD)),
                     (CLASS_COMMITMENTS, first(CLASS_COMMITMENTS))):
        answer = m.Records((raw,), relay=False, after=st.NO_ID)
        boot.answer(answer, [record_id(raw)], 7, 10.0 * cls, [False])
        # One answer with nothing new may be our own side's records: go on.
        assert boot.streams[0].cursor[7:] == record_id(raw) and boot.streams[0].silent == 0
        again = m.Records((raw,), relay=False, after=record_id(raw))
        boot.answer(again, [record_id(raw)], 7, 10.0 * cls + 5.0, [False])
        if cls == CLASS_BOARD:
            assert boot.streams[0].cursor == st.class_start(CLASS_COMMITMENTS)
    assert boot.streams[0].silent >= st.EXHAUSTED  # reached what it holds: done


def test_a_doubted_responders_partition_goes_on_from_its_cursor() -> None:
    """Finding (late-joiner-2000, seed 6, with the weak-link changes of stop 26):
    a responder doubted while its stream stood deep in a partition lost the
    cursor with the stream; the next responder's probe began again at the start
    of the board class, which the joiner held, brought nothing new and was
    doubted in turn, until every neighbour was doubted and the joiner stopped
    690 records short for good. A doubted stream's cursor now waits for the next
    responder."""
    from meshaid.node.sync.relays import Peer

    ledger = Ledger(3, seed=2, history=12)
    boot = bs.Bootstrap(ledger.config(), random.Random(1), 1)
    deep = bytes([CLASS_COMMITMENTS]) + bytes(6) + bytes(8)
    boot.streams[0] = st.Stream(7, deep, since=True)
    boot.retracted(7, 100.0)  # its own digest no longer shows it ahead: doubted
    assert boot.doubts(7, 100.0) and 0 not in boot.streams
    peers = {8: Peer(count=500, fingerprint=1, last=99.0, last_direct=99.0, packets=5)}
    assert boot.behind(peers, 200, 101.0)
    assert boot.streams[0].responder == 8
    assert boot.streams[0].cursor == deep and boot.streams[0].since


def test_a_member_behind_a_neighbour_whose_air_pays_for_no_probe_reconciles() -> None:
    """Finding (partition-heal, seed 24): a member 51 records behind its only
    link to the records it lacked could not pay for a probe of it (that
    neighbour's air heard here paid for none), so each of its digests planned a
    pull that was dropped, and no sketch either (it counted as pulling from
    it); the neighbour ahead waited for its pull. For 3.5 hours. Now a member
    reconciles with such a responder (its asks and the repairs it is owed are
    answered from its allowance); a node without a member key, whose every ask
    would pay with padding, waits for its probe as before. (A member probes with
    its ticket, unpadded, at most twice before it pads again: here nobody
    answers, the claim being made up.)"""
    for member in (True, False):
        ledger = Ledger(4, seed=11, history=60)
        mesh = Mesh(ledger, [clone(ledger.full)], [], seed=4)
        eng = mesh.engines[0]
        if member:
            eng.signer = identity.signer(ledger.keys[0])
        mesh.run_for(10.0)
        tag = ledger.network[:2]
        before = len(mesh.sent)
        for _ in range(6):  # a neighbour far ahead, heard only in its digests
            mesh.inject(0, m.encode(m.Digest(eng.count + 60, 12345), tag), sender=77)
            mesh.run_for(120.0)
        sent = [s.out.tag for s in mesh.sent[before:] if s.node == 0]
        pulls = [m.decode(s.out.payload) for s in mesh.sent[before:]
                 if s.node == 0 and s.out.tag == "pull"]
        assert eng.boot.unaffordable(77, mesh.now)
        assert ("sketch" in sent) == member
        assert len(pulls) <= (2 if member else 0)
        assert all(p.ticket and not p.pad for p in pulls), pulls


def test_a_member_probes_a_claim_with_its_ticket_not_padding() -> None:
    """A member far behind probes its neighbour with its ticket, unpadded: the
    neighbour answers from the member's allowance, and the claimant's credit
    here pays twice this small pull. Padded, a probe cost about all the credit
    an account holds, and after a heal at five records a site an hour the side
    behind never afforded one: on a 5x5 grid, 150 records stayed on the other
    side for two hours."""
    ledger = Ledger(4, seed=8, history=80)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], [(0, 1)], seed=3)
    for i in (0, 1):
        mesh.engines[i].signer = identity.signer(ledger.keys[i])
    start = _split_and_heal(mesh)
    mesh.run_for(HOUR)
    pulls = [m.decode(s.out.payload) for s in mesh.sent[start:]
             if s.node == 1 and s.out.tag == "pull"]
    assert pulls and isinstance(pulls[0], m.Pull)
    assert pulls[0].ticket and not pulls[0].pad, pulls[0]
    mesh.assert_converged()
