"""Attacks written from outside the project (stop 44), one test each: packets
with the channel key only, in made-up numbers or in real neighbours' numbers
through relays, that made honest engines spend more air than they took.
node/sim/attacks.py measures the same at scale."""

from __future__ import annotations

import random

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.ports import RxMeta

from .harness import HOUR, Mesh
from .meshes import fresh_mesh, lone, pair

FAKE = 0x4343  # a node number nobody uses


def hear(mesh: Mesh, dst: int, payload: bytes, sender: int, hops: int) -> None:
    """`dst` hears `payload` claiming `sender`, through `hops` relays (a header
    field anyone with the channel key sets as it likes)."""
    mesh.engines[dst].receive(payload, RxMeta(sender=sender, snr=0.0, hops=hops), mesh.now)
    mesh.pump(dst)


def sent_after(mesh: Mesh, before: int, *tags: str) -> list[str]:
    return [s.out.tag for s in mesh.sent[before:] if s.out.tag in tags]


def test_a_neighbours_number_through_relays_claims_nothing() -> None:
    """hop1-ahead: a digest in neighbour 1's number with hop_start 1 skipped the
    signal check (only direct packets have one), so its made-up count far ahead
    drew a probe and a sketch from every listener. Through relays, only a far
    peer's claim of being far ahead counts."""
    mesh, ledger = pair(seed=3)
    victim = mesh.engines[0]
    lie = m.encode(m.Digest(victim.count + 200, 0x5EED), ledger.network[:2])
    before = len(mesh.sent)
    for _ in range(6):
        hear(mesh, 0, lie, sender=1, hops=1)
        mesh.run_for(60)
    assert victim.stats.dropped["relayed-claim"] >= 6
    assert not sent_after(mesh, before, "pull", "sketch")
    assert victim.hood.peers[1].count != victim.count + 200  # its real count stands


def test_a_set_claimed_through_relays_by_no_far_peer_claims_nothing() -> None:
    """The same from a number never heard directly: only a far peer (proven, and
    not reached by our own relays: farpeers.py) is heard through relays for its
    claim of being far ahead to count; anyone else's is a made-up voice's."""
    mesh, ledger = pair(seed=4)
    victim = mesh.engines[0]
    lie = m.encode(m.Digest(victim.count + 200, 0x5EED), ledger.network[:2])
    before = len(mesh.sent)
    for _ in range(6):
        hear(mesh, 0, lie, sender=FAKE, hops=1)
        mesh.run_for(60)
    assert not victim.hood.is_far(FAKE, mesh.now)
    assert victim.stats.dropped["relayed-claim"] >= 6
    assert not sent_after(mesh, before, "pull", "sketch")


def test_copies_of_old_records_make_no_neighbour_to_wait_for() -> None:
    """copy-watchers: one made-up number replaying an old record now and then
    counted as a neighbour syncing with us, and every listener resent each urgent
    record for it (ten times its air). A copy of a record that reached us long
    ago shows no relay."""
    mesh, ledger = pair(seed=5)
    victim = mesh.engines[0]
    old = next(iter(victim.infos))
    packet = m.encode(m.Records((victim.raw(old) or b"",)), ledger.network[:2])
    for _ in range(3):
        mesh.inject(0, packet, sender=FAKE, snr=5.0)
        mesh.run_for(30)
    assert not victim.hood.is_known(FAKE, mesh.now)
    assert FAKE not in victim.watch.relayers
    # A copy of a record that reached us lately is a relay (the other side).
    post = mesh.need(1, "a fresh post")
    mesh.run_for(30)
    for _ in range(2):
        mesh.inject(0, m.encode(m.Records((post,)), ledger.network[:2]), sender=FAKE, snr=5.0)
        mesh.run_for(30)
    assert victim.hood.is_known(FAKE, mesh.now)
    assert FAKE in victim.watch.relayers


def test_made_up_numbers_saying_they_boot_do_not_each_draw_our_digest() -> None:
    """boot-ping: a digest "count 0, booting" in a fresh number every few minutes
    reset every listener's Trickle, each sending its digest: 3.6 times the
    attacker's air at full size. A number we do not know pays for our digest from
    the strangers' pool; a known neighbour that reboots still gets it soon."""
    def run(attacked: bool) -> tuple[Mesh, float, float]:
        mesh, ledger = pair(seed=6)
        tag = ledger.network[:2]
        mesh.run_for(4 * HOUR)  # quiet: Trickle's interval has grown long
        before, spent = len(mesh.sent), 0.0
        for k in range(12):
            if attacked:
                ping = m.encode(m.Digest(0, 0, True), tag)
                spent += ledger.config().airtime(len(ping))
                mesh.inject(0, ping, sender=0x40000000 + k)
            mesh.run_for(300)
        return mesh, spent, sum(s.cost for s in mesh.sent[before:])

    mesh, spent, air = run(attacked=True)
    _clean, _spent, clean_air = run(attacked=False)
    victim = mesh.engines[0]
    assert victim.stats.dropped["unpaid-boot"] >= 8
    assert air - clean_air <= spent, (air, clean_air, spent)
    # Neighbour 1, rebooted with an empty store: node 0's digest goes soon.
    tag = mesh.ledger.network[:2]
    mesh.inject(0, m.encode(m.Digest(0, 0, True), tag), sender=1, snr=mesh.links[0][1])
    assert victim.trickle.interval == victim.cfg.news_interval


def test_a_neighbours_number_through_relays_with_a_near_set_draws_no_sketch() -> None:
    """hop1-near: digests in neighbour 1's number with hop_start 1, a couple of
    records off our set, one a minute: each drew a sketch under neighbour 1's
    own pacing entry (3.6 times the attacker's air on the small mesh)."""
    mesh, ledger = pair(seed=7)
    victim = mesh.engines[0]
    before = len(mesh.sent)
    for k in range(6):
        lie = m.encode(m.Digest(victim.count + (1, -1)[k % 2], 0xBAD + k), ledger.network[:2])
        hear(mesh, 0, lie, sender=1, hops=1)
        mesh.run_for(60)
    assert victim.stats.dropped["relayed-claim"] >= 6
    assert not sent_after(mesh, before, "pull", "sketch")


def test_a_made_up_number_that_copied_our_digest_buys_no_requests_for_made_up_ids() -> None:
    """known-phantom (a second outside review): a made-up number sends one digest
    of our very set (it counts as a neighbour that syncs with us), then a
    one-symbol sketch of our set plus an id that exists nowhere: each got a
    pacing entry of its own, and every listener requested the id twice (8.8
    times the attacker's air at one every 5 minutes, full size). Known numbers
    that never brought us a record now share one pacing entry, one reaction at
    a time: 8 requests here where there were 24."""
    mesh, ledger = pair(seed=8)
    victim = mesh.engines[0]
    tag = ledger.network[:2]
    ours = {int.from_bytes(i, "big") for i in victim.infos}
    before = len(mesh.sent)
    for k in range(12):
        number = 0x40000000 + k
        mesh.inject(0, m.encode(m.Digest(victim.count, victim.fingerprint), tag), sender=number,
                    snr=3.0)
        one = riblt.Sketch(1024, ours | {0xF00D + k}).encode(0, 1)
        mesh.inject(0, m.encode(m.Sketch(len(ours) + 1, 0, one), tag), sender=number, snr=3.0)
        assert victim.hood.is_known(number, mesh.now)
        mesh.run_for(300)
    asked = [s for s in mesh.sent[before:] if s.out.tag == "request" and s.node == 0]
    assert victim.stats.dropped["paced-want"] >= 6
    assert len(asked) <= 12, len(asked)


def test_one_symbol_sketches_in_made_up_numbers_draw_no_requests() -> None:
    """Finding (from outside, phantom-symbol): a one-symbol SKETCH in a fresh
    number, coding the listener's set plus one id that exists nowhere, decoded at
    once and drew two padded REQUESTs for that id, and a digest, from every
    listener: 2.8 times the attacker's air at 10 % duty, 7 times at one a minute,
    and the wanted table, full of such ids, refused real ones. A stranger's
    decoded ids are now asked for only as the strangers' pool pays."""
    def run(attacked: bool) -> tuple[Mesh, float, int]:
        mesh, ledger = lone(history=40)
        mesh.run_for(HOUR)
        tag = ledger.network[:2]
        engine = mesh.engines[0]
        ours = {int.from_bytes(i, "big") for i in engine.infos}
        rng = random.Random(9)
        before, spent = len(mesh.sent), 0.0
        for k in range(30):
            if attacked:
                fake = rng.getrandbits(64) | 1
                one = riblt.Sketch(1024, ours | {fake}).encode(0, 1)
                packet = m.encode(m.Sketch(len(ours) + 1, 0, one), tag)
                spent += ledger.config().airtime(len(packet))
                mesh.inject(0, packet, sender=0x40000000 + k)
            mesh.run_for(60.0)
        mesh.run_for(HOUR)
        return mesh, spent, before

    mesh, spent, before = run(attacked=True)
    clean, _spent, clean_before = run(attacked=False)
    engine = mesh.engines[0]
    assert engine.stats.dropped["paced-want"] > 0, "no sketch decoded: the test shows nothing"
    assert not [s for s in mesh.sent[before:] if s.out.tag == "request"]
    assert engine.answers.table_sizes()["wanted"] == 0
    caused = sum(s.cost for s in mesh.sent[before:]) - sum(s.cost for s in clean.sent[clean_before:])
    assert caused <= spent, f"{caused:.1f} s of honest air for {spent:.1f} s of the attacker's"


def test_a_sketch_through_relays_in_a_neighbours_number_spends_nothing_of_its_account() -> None:
    """phantom-lack-hop1 (outside review): a sketch of our set less one record, in
    the number of a neighbour we hear directly but through relays (its own
    packets reach us directly; a header's hop count skips the signal check),
    had every listener repair the record from that neighbour's account: 3.1
    times the liar's air with a digest of that set before it. Such a sketch is
    now taken as a voice not the neighbour's (farpeers.py `relayed_voice`): what
    it shows is repaired as far as that voice's own air paid."""
    mesh, ledger = pair(seed=5)
    victim = mesh.engines[0]
    assert victim.answers.credits.balance(1, mesh.now) > 1.0  # an hour of its digests
    tag = ledger.network[:2]
    ours = sorted(int.from_bytes(i, "big") for i in victim.infos)
    less = set(ours[1:])
    one = riblt.Sketch(1024, less).encode(0, 1)
    lie = m.encode(m.Sketch(len(less), 0, one), tag)
    before = len(mesh.sent)
    hear(mesh, 0, lie, sender=1, hops=1)
    mesh.run_for(120)
    assert not sent_after(mesh, before, "repair")
    assert victim.stats.dropped["relayed-voice"] == 1
    # The same sketch heard directly, at the neighbour's own signal, is its own.
    usual = victim.hood.peers[1].snr
    mesh.inject(0, lie, sender=1, snr=usual if usual is not None else 0.0)
    assert victim.plausible
    mesh.run_for(120)
    assert sent_after(mesh, before, "repair")


def test_a_header_naming_a_neighbour_as_its_relay_at_another_radios_signal_claims_nothing() -> None:
    """hop1-near, phantom-lack-hop1: a header claiming one relay, naming as that
    relay (relay_node's last byte) a neighbour we hear directly that hears the
    sender, from a radio whose signal is not that neighbour's. The packet did
    not come from that relay: it is a voice not the sender's (farpeers.py
    `relay_lies`), and a set a couple of records off ours in the number of a
    node two hops away no longer plans a sketch. The same packet at the relay's
    own signal is taken as relayed by it; so is one naming a relay whose list
    does not name the sender (a mast whose number ends in the same byte)."""
    def heard_via_1(snr: float, sender: int = 2) -> tuple[Mesh, bool]:
        mesh = fresh_mesh(3, [(0, 1), (1, 2)], seed=6, history=30)
        for k in range(3):  # posts: each syncs with its neighbours, whose lists name it
            for i in range(3):
                mesh.author(i, r.Need(2, f"post {i} {k}", 5))
            mesh.run_for(600)
        victim = mesh.engines[0]
        assert victim.recon.sketch_due is None and 2 not in victim.hood.neighbours(mesh.now)
        claim = m.encode(m.Digest(victim.count + 2, 0x5EED), mesh.ledger.network[:2])
        victim.receive(claim, RxMeta(sender=sender, snr=snr, hops=1, relay=1), mesh.now)
        return mesh, victim.recon.sketch_due is not None

    usual = heard_via_1(0.0)[0].engines[0].hood.peers[1].snr
    assert usual is not None
    lied, planned = heard_via_1(usual - 15.0)
    assert lied.engines[0].stats.dropped["relayed-voice"] == 1
    assert not planned
    honest, planned = heard_via_1(usual)
    assert honest.engines[0].stats.dropped["relayed-voice"] == 0
    assert planned  # (a voice two hops away, two records apart: worth a sketch)
    mast, planned = heard_via_1(usual - 15.0, sender=FAKE)  # node 1 does not hear FAKE
    assert mast.engines[0].stats.dropped["relayed-voice"] == 0
    assert planned
