"""Issue 9's air-time findings, one test each: what an attacker holding the
channel key (any packet, any sender number) can make honest engines do.
PROTOCOL.md §9 says what must hold; node/sim/attacks.py measures it at scale."""

from __future__ import annotations

import random

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync import riblt
from meshaid.node.sync.budget import BULK, URGENT
from meshaid.node.sync.orders import MERGE_SLICE, Orders, key_of
from meshaid.node.sync.ports import CLASS_MEMBERSHIP, CLASS_OF_KIND, RecordInfo

from .harness import HOUR, Ledger, Mesh, Radio, clone, line


def lone(history: int, seed: int = 1) -> tuple[Mesh, Ledger]:
    ledger = Ledger(3, seed=seed, history=history)
    mesh = Mesh(ledger, [clone(ledger.full)], [], seed=seed)
    mesh.run_for(HOUR)
    return mesh, ledger


def air_after(mesh: Mesh, before: int, skip: tuple[str, ...] = ("digest",)) -> float:
    return sum(s.cost for s in mesh.sent[before:] if s.out.tag not in skip)


def test_a_spoofed_digest_does_not_make_a_neighbour_resend_its_ledger() -> None:
    """Finding: one DIGEST claiming to come from a real neighbour with a huge count
    made the victim pull, and the neighbour re-send, the whole ledger (184 s of air
    for 0.5 s). Now the claim buys a probe at most."""
    ledger = Ledger(3, seed=3, history=150)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], line(2), seed=3)
    mesh.run_for(2 * HOUR)
    tag = ledger.network[:2]
    victim = mesh.engines[0]
    lie = m.encode(m.Digest(victim.count + 5000, 0x5EED), tag)
    before = len(mesh.sent)
    mesh.inject(0, lie, sender=1)  # node 1 is the victim's real neighbour
    mesh.run_for(2 * HOUR)
    pulled = [s for s in mesh.sent[before:] if s.out.tag == "pull-records"]
    assert len(pulled) <= 2, f"{len(pulled)} packets of the ledger re-sent"
    # A probe (a pull and one answer) paid from the claimant's own air, nothing more.
    assert air_after(mesh, before) <= 2 * 2 * ledger.config().airtime(228)


def test_a_forged_sketch_leaves_no_request_loop() -> None:
    """Finding: a SKETCH naming ids that exist nowhere left the victim asking for
    them every 60 s until restart. Now each is asked for twice at most, and the
    table of wanted ids empties, even when the sketcher is a number that synced
    with us (a stranger's asks are paid from the strangers' pool: the next
    test)."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    ours = {int.from_bytes(i, "big") for i in engine.infos}
    fakes = {int.from_bytes(random.Random(5).randbytes(8), "big") + k for k in range(5)}
    forged = riblt.Sketch(1024, ours | fakes)
    for _ in range(2):  # a digest of our very set, twice: a neighbour syncing with us
        mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), tag), sender=7)
    assert engine.hood.is_known(7, mesh.now)
    mesh.inject(0, m.encode(m.Digest(len(ours) + 5, 1, False, (0,), True), tag), sender=7)
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Sketch(len(ours) + 5, 0, forged.encode(0, 16)), tag), sender=7)
    mesh.run_for(6 * HOUR)
    asked = [i for s in mesh.sent[before:] if s.out.tag == "request"
             for i in m.decode(s.out.payload).ids if int.from_bytes(i, "big") in fakes]
    assert asked, "the forged ids were never asked for: the test shows nothing"
    assert len(asked) <= 2 * len(fakes)
    assert engine.answers.table_sizes()["wanted"] == 0


def test_requests_for_urgent_records_are_answered_at_bulk_and_never_delay_ours() -> None:
    """Finding: REQUESTs for urgent records were answered at urgent priority, so an
    attacker at 1.8 % duty delayed the victim's next critical need by 43 minutes."""
    mesh, ledger = lone(history=40)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    urgent = sorted(i for i, info in engine.infos.items() if info.urgent)
    assert urgent
    before = len(mesh.sent)
    rng = random.Random(2)
    for k in range(360):  # a padded request every 10 s for an hour: far above 1.8 % duty
        ids = tuple(rng.sample(urgent, min(2, len(urgent))))
        req = m.Request(ids + (bytes(8),) * 24)  # zero ids: padding, held by nobody
        mesh.inject(0, m.encode(req, tag), sender=0x7000 + k % 40)
        mesh.run_for(10.0)
    answers = [s for s in mesh.sent[before:] if s.out.tag == "repair"]
    assert answers and {s.out.priority for s in answers} == {BULK}
    t0 = mesh.now
    raw = mesh.need(0, "oxygen for the clinic", urgency=3)
    mesh.run_for(5.0)
    pushed = [s for s in mesh.sent[before:] if s.out.tag == "push"
              and raw in m.decode(s.out.payload).records]
    assert pushed and pushed[0].t - t0 <= 1.0 and pushed[0].out.priority == URGENT


def test_pull_and_more_floods_cost_no_more_air_than_they_took() -> None:
    """Finding: PULL answers amplified 11 to 18 times and MORE 17 times; 136 sort
    orders were cached. Now an answer never costs more than the request."""
    mesh, ledger = lone(history=60)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    rng = random.Random(3)
    before = len(mesh.sent)
    spent = 0.0
    for k in range(600):
        parts = rng.choice([3, 3, rng.randrange(1, 17)])
        msg: m.Message = rng.choice([
            m.Pull(0, rng.randrange(parts), parts, b""),
            m.More(0, 16 * rng.randrange(1, 60))])
        payload = m.encode(msg, tag)
        spent += ledger.config().airtime(len(payload))
        mesh.inject(0, payload, sender=0x8000 + k % 50)
        mesh.run_for(6.0)
    mesh.run_for(HOUR)
    assert air_after(mesh, before) <= spent
    assert engine.answers.table_sizes()["sort_orders"] <= 3


def test_state_kept_for_spoofed_senders_is_bounded() -> None:
    """Finding: state for spoofed senders never expired (20,000 fake sketches left
    19,453 MOREs pending)."""
    mesh, ledger = lone(history=20)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    rng = random.Random(4)
    for k in range(3000):
        sender = 0x10000 + k
        junk = riblt.Sketch(1024, [rng.getrandbits(64) for _ in range(30)])
        kind = k % 4
        if kind == 0:
            msg: m.Message = m.Sketch(rng.randrange(100), 0, junk.encode(0, 16))
        elif kind == 1:
            msg = m.Digest(rng.randrange(1, 100), rng.getrandbits(64), False, (0,), True)
        elif kind == 2:
            msg = m.Pull(0, rng.randrange(3), 3, b"")
        else:
            msg = m.Request(tuple(rng.randbytes(8) for _ in range(5)))
        mesh.inject(0, m.encode(msg, tag), sender=sender, snr=rng.uniform(-10, 10))
        if k % 50 == 0:
            mesh.run_for(5.0)
    recon = engine.recon
    assert len(engine.hood.peers) <= 96 and len(recon.requests) <= 128
    assert len(recon.remote) + len(recon.remote_count) <= 16 and len(recon.more_due) <= 8
    sizes = engine.answers.table_sizes()
    assert sizes["credit_accounts"] <= 64 and sizes["pull_answers"] <= 8
    mesh.run_for(2 * HOUR)
    assert len(recon.remote) + len(recon.remote_count) + len(recon.more_due) == 0  # expired


def test_echoed_copies_do_not_cancel_a_real_relay() -> None:
    """Finding: echoed copies of RECORDS packets suppressed real relays (a line of
    six took 315 s instead of 40 s). A copy claiming a neighbour at a signal unlike
    that neighbour's counts for nothing."""
    ledger = Ledger(3, seed=6)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(3)], line(3),
                Radio(snr=(3.0, 3.0)), seed=6)
    mesh.run_for(2 * HOUR)  # neighbour lists and usual signals known
    tag = ledger.network[:2]
    t0 = mesh.now
    raw = mesh.need(0, "diesel for the pump")
    while 1 not in mesh.holders(raw):
        mesh.run_for(0.1)
    echo = m.encode(m.Records((raw,)), tag)
    for claimed in (2, 2, 0, 2):  # node 1's neighbours "have it already"
        mesh.inject(1, echo, sender=claimed, snr=12.0)
    while 2 not in mesh.holders(raw) and mesh.now < t0 + HOUR:
        mesh.run_for(1.0)
    assert mesh.now - t0 <= 2.0 + 33.0 * 2, f"reached the end of the line after {mesh.now - t0} s"


def test_records_of_unadmitted_keys_are_capped_per_key_and_not_relayed() -> None:
    """Finding: records from non-members were stored forever with no quota and
    relayed network-wide. Now a few per key are kept, and only hellos travel on."""
    ledger = Ledger(3, seed=7)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(3)], line(3), seed=7)
    mesh.run_for(2 * HOUR)
    tag = ledger.network[:2]
    stranger = identity.key_from_seed(b"s" * 32)
    own = [codec.encode(r.Hello("stranger", "nowhere"), stranger, 1, ledger.stamp,
                        ledger.network).raw]
    own += [codec.encode(r.Need(1, f"spam {k}", 9, 0, 3), stranger, 2 + k, ledger.stamp + 1 + k,
                         ledger.network).raw for k in range(10)]
    fresh = []
    for k in range(30):
        key = identity.key_from_seed(bytes([k]) * 32)
        fresh.append(codec.encode(r.Hello(f"spam {k}", "x"), key, 1, ledger.stamp, ledger.network).raw)
        fresh.append(codec.encode(r.Need(1, f"spam {k}", 9, 0, 3), key, 2, ledger.stamp + 1,
                                  ledger.network).raw)
    before = len(mesh.sent)
    for raw in own + fresh:
        mesh.inject(0, m.encode(m.Records((raw,)), tag), sender=0xBAD)
        mesh.run_for(2.0)
    mesh.run_for(HOUR)
    kept = [raw for raw in own if 0 in mesh.holders(raw)]
    assert 1 <= len(kept) <= 4
    relayed = [codec.parse(x).kind for s in mesh.sent[before:] if s.out.tag == "forward"
               for x in m.decode(s.out.payload).records if x in own + fresh]
    # Relayed: a few newcomers' hellos an hour, nothing else (what the quota let in
    # spreads only by reconciliation, paid for by those who ask).
    assert all(CLASS_OF_KIND[k] == CLASS_MEMBERSHIP for k in relayed), relayed
    assert len(relayed) <= 3 + 6 * 2


def test_a_neighbour_an_attacker_imitates_often_is_still_heard() -> None:
    """Finding (normal posts delayed > 3,972 s by spoofed digests): an attacker
    sending often in a real neighbour's name, at a signal unlike it, moved that
    neighbour's usual signal to its own; then the neighbour's real digests and
    sketches counted for nothing and a record only it held never arrived. Its
    usual signal now stays while it is heard, and packets claiming our own
    number are someone else's."""
    ledger = Ledger(3, seed=11, history=30)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], line(2),
                Radio(snr=(3.0, 3.0)), seed=11)
    mesh.run_for(2 * HOUR)
    tag = ledger.network[:2]
    victim = mesh.engines[0]

    def lie() -> None:  # the victim's own digest, replayed as node 1's and as its own
        same = m.encode(m.Digest(victim.count, victim.fingerprint), tag)
        mesh.inject(0, same, sender=1, snr=9.0)
        mesh.inject(0, same, sender=0, snr=9.0)

    for _ in range(90):  # half an hour, every 20 s
        lie()
        mesh.run_for(20.0)
    rec = mesh.stores[1].author(r.Need(1, "a pump only node 1 knows of", 10, 4, 1),
                                ledger.keys[1], mesh.now)
    mesh.engines[1].add_stored(rec.raw, mesh.now)  # held by node 1, never pushed
    t0 = mesh.now
    while 0 not in mesh.holders(rec.raw) and mesh.now < t0 + HOUR:
        lie()
        mesh.run_for(20.0)
    assert 0 in mesh.holders(rec.raw), "node 0 never got node 1's record"
    assert mesh.now - t0 <= 600.0, f"node 0 got node 1's record after {mesh.now - t0:.0f} s"
    assert 0 not in victim.hood.peers  # its own number is nobody's neighbour


def test_a_lying_digest_in_a_confirmed_responders_name_buys_no_pass_through_the_ledger() -> None:
    """Finding (2,034 s of spoofed digests cost 1,113 s of honest air, normal posts
    delayed past the end of the run): once a neighbour's pull answers had brought
    records, every later digest claiming it far ahead had the node pull the whole
    ledger from it again, each hour, at normal priority, until its budget had no
    room left for reconciliation. Answers with nothing new now end its streams."""
    ledger = Ledger(3, seed=12, history=150)
    mesh = Mesh(ledger, [clone(ledger.bare), clone(ledger.full)], line(2),
                Radio(snr=(3.0, 3.0)), seed=12)
    mesh.run_for(2 * HOUR)
    mesh.assert_converged()  # node 0 caught up by pulling from node 1
    tag = ledger.network[:2]
    before = len(mesh.sent)
    for k in range(12):  # a lie an hour for twelve hours, at node 1's own signal
        lie = m.encode(m.Digest(mesh.engines[0].count + 5000, 0x5EED + k), tag)
        mesh.inject(0, lie, sender=1, snr=3.0)
        mesh.run_for(HOUR)
    pulls = [s for s in mesh.sent[before:] if s.out.tag in ("pull", "pull-records")]
    # Each lie buys a probe at most (two pulls and their answers, paid from the
    # credit node 1's own packets earned): 12 lies, not 12 passes of 150 records.
    assert len(pulls) <= 4 * 12, f"{len(pulls)} pulls and answers for 12 lies"


def test_forged_sketches_in_a_neighbours_name_cost_less_than_they_took() -> None:
    """Finding (forged sketches amplified 1.46 times): a sketch in a real
    neighbour's name, of a set nobody holds, had its listeners ask that
    neighbour for MORE symbols (a full packet each), the neighbour answer, and
    both sketch again. A sketch in the neighbour's own voice is believed as its
    digest would be (two towns joined by a weak link need it), so the first one
    costs a MORE and its retry; a sketcher that never answers our MOREs is then
    paced (pacing.py): twelve in an hour cost less than they took."""
    ledger = Ledger(3, seed=13, history=60)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], line(2),
                Radio(snr=(3.0, 3.0)), seed=13)
    mesh.run_for(2 * HOUR)
    tag = ledger.network[:2]
    ours = sorted(int.from_bytes(i, "big") for i in mesh.engines[0].infos)
    rng = random.Random(13)
    took = 0.0
    before = len(mesh.sent)
    for k in range(12):
        forged = riblt.Sketch(1024, ours[:-10] + [rng.getrandbits(64) for _ in range(30)])
        payload = m.encode(m.Sketch(len(ours) + 20, 0, forged.encode(0, 16)), tag)
        took += ledger.config().airtime(len(payload))
        mesh.inject(0, payload, sender=1, snr=3.0)
        mesh.run_for(HOUR / 12)
        if k == 0:
            mores = [s for s in mesh.sent[before:] if s.out.tag == "more"]
            assert len(mores) <= 2, "one forged sketch: one MORE and its retry at most"
    mesh.run_for(HOUR)
    assert air_after(mesh, before) <= took


def test_a_poll_the_budget_refuses_reads_no_ledger() -> None:
    """Finding (one poll() of 99.5 ms at 100,000 records): with hundreds of
    answers waiting for the budget, every poll read each of their records from
    the ledger to pack a packet the budget then refused. Now waiting answers are
    bounded, and a poll reads records only for a packet the budget allows."""
    mesh, ledger = lone(history=120)
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    ids = sorted(engine.infos)
    reads = [0]
    inner = engine.ledger.sync_raw

    def counted(rid: bytes) -> bytes | None:
        reads[0] += 1
        return inner(rid)

    engine.ledger.sync_raw = counted  # type: ignore[method-assign]
    engine._raws.clear()
    engine.budget.spend(engine.budget.limit_s, mesh.now)  # an hour's air, spent
    for k in range(200):  # padded requests from many senders: each pays for answers
        chunk = tuple(ids[(5 * k + j) % len(ids)] for j in range(5))
        req = m.pad_to(m.Request(chunk, 0), 228, tag)
        mesh.inject(0, m.encode(req, tag), sender=0x9000 + k)
    engine._raws.clear()
    waiting = sum(1 for s in engine.sends.values() if s.tag == "repair")
    assert waiting <= 64
    reads[0], polls = 0, mesh.polls[0]
    mesh.run_for(60.0)
    assert mesh.polls[0] > polls
    assert reads[0] <= 16 * (mesh.polls[0] - polls), f"{reads[0]} records read"


def test_the_bootstrap_orders_of_a_large_ledger_are_built_in_small_steps() -> None:
    """Finding (one poll() of 99.5 ms at 100,000 records): the first pull answered
    sorted a whole partition (a third of the ledger) in one poll. Now each step
    keys a slice into sorted runs or merges a slice of one partition."""
    rng = random.Random(14)
    infos = {}
    for _ in range(30_000):
        rid = rng.randbytes(8)
        infos[rid] = RecordInfo(rid, rng.randrange(3), rng.getrandbits(40), False, True, b"abcd")
    built = Orders(3)
    placed = 0
    while not built.step(infos):
        now_placed = sum(len(part) for part in built.infos)
        assert now_placed - placed <= MERGE_SLICE
        placed = now_placed
    for part in range(3):
        want = sorted((key_of(i.cls, i.hlc, i.id), i.id) for i in infos.values()
                      if i.id[0] % 3 == part)
        assert built.keys[part] == [k for k, _ in want]
        assert [i.id for i in built.infos[part]] == [rid for _, rid in want]


def test_records_of_unadmitted_keys_are_not_reconciled_until_a_vouch_admits_them() -> None:
    """Finding (records of unadmitted keys: 2,030 s of attacker air cost 6,353 s):
    what the quota let in at the nodes hearing the attacker then spread to every
    node by reconciliation. Such records now stay where they landed, outside the
    sync set (not counted in digests, not sketched, not served); a vouch that
    admits their key brings them in everywhere, and they spread."""
    ledger = Ledger(3, seed=15)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(3)], line(3),
                Radio(snr=(3.0, 3.0)), seed=15)
    mesh.run_for(2 * HOUR)
    tag = ledger.network[:2]
    stranger = identity.key_from_seed(b"t" * 32)
    hello = codec.encode(r.Hello("stranger", "the hill"), stranger, 1, ledger.stamp,
                         ledger.network).raw
    need = codec.encode(r.Need(1, "a stranger's need", 9, 0, 1), stranger, 2, ledger.stamp + 1,
                        ledger.network).raw
    for raw in (hello, need):
        mesh.inject(2, m.encode(m.Records((raw,), relay=False), tag), sender=0xBAD)
    mesh.run_for(3 * HOUR)
    assert mesh.holders(need) == [2], "the stranger's need spread by reconciliation"
    assert mesh.agree()  # the sync sets agree all the same: no endless reconciliation
    before = len(mesh.sent)
    mesh.run_for(HOUR)
    assert air_after(mesh, before) <= 2 * ledger.config().airtime(228)
    mesh.author(0, r.Vouch(identity.public_bytes(stranger)))  # now a member
    t0 = mesh.now
    while mesh.holders(need) != [0, 1, 2] and mesh.now < t0 + 2 * HOUR:
        mesh.run_for(60.0)
    assert mesh.holders(need) == [0, 1, 2], "admitted, the need never spread"
    mesh.run_for(HOUR)
    mesh.assert_converged()
