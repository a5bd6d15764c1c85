"""Members' tickets in REQUEST and MORE (node/sync/members.py, PROTOCOL.md §9
"Members' pulls"): a member asking a node by name is answered beyond the air
of its ask, from its allowance, while it differs from the node asked; anyone
else only as far as its own air paid."""

from __future__ import annotations

from meshaid.node.ledger import identity
from meshaid.node.sync import messages as m
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.pacing import STRANGERS

from .harness import Ledger, Mesh, clone, rid
from .meshes import flood


def _responder() -> tuple[Mesh, Ledger]:
    ledger = Ledger(4, seed=11, history=40)
    mesh = Mesh(ledger, [clone(ledger.full)], [], seed=4)
    mesh.run_for(10.0)
    return mesh, ledger


def _digest(mesh: Mesh, sender: int, same: bool = False) -> None:
    """`sender` says what it holds: our very set (`same`), or a set far from it."""
    eng = mesh.engines[0]
    count, fingerprint = (eng.count, eng.fingerprint) if same else (eng.count - 12, 12345)
    mesh.inject(0, m.encode(m.Digest(count, fingerprint), mesh.ledger.network[:2]), sender=sender)


def _repaired(mesh: Mesh, msg: m.Message, sender: int) -> int:
    """Records node 0 sends in the 60 s after hearing `msg` from `sender`."""
    before = len(mesh.sent)
    mesh.inject(0, m.encode(msg, mesh.ledger.network[:2]), sender=sender)
    mesh.run_for(60.0)
    return sum(len(m.decode(s.out.payload).records) for s in mesh.sent[before:]
               if s.node == 0 and s.out.tag == "repair")


def test_a_members_ticket_in_a_request_buys_answers_beyond_its_air() -> None:
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    ids = tuple(rid(raw) for raw in ledger.history[:12])
    signer = identity.signer(ledger.keys[2])
    for sender in (77, 78, 79, 80):
        _digest(mesh, sender)
    # Unpadded and without a ticket: its own air pays for one record at most.
    assert _repaired(mesh, m.Request(ids, 0), 78) <= 1
    # A ticket in another node's name (replayed under 79): nothing more.
    assert _repaired(mesh, m.Request(ids, 0, ticket=tk.make(signer, tag, 77, 0)), 79) <= 1
    assert mesh.engines[0].stats.dropped["bad-ticket"] == 1
    # The member's own ticket: well beyond the air of its short request.
    assert _repaired(mesh, m.Request(ids[:6], 0, ticket=tk.make(signer, tag, 77, 0)), 77) >= 5
    # Believed for the hour: its next request needs no ticket.
    assert _repaired(mesh, m.Request(ids[6:], 0), 77) >= 5


def test_a_ticket_buys_nothing_while_its_holder_says_it_holds_our_set() -> None:
    """A ticket overheard and replayed in its holder's name, once the holder is
    level with us (its own digest says so), gets only what its air paid."""
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    ids = tuple(rid(raw) for raw in ledger.history[:12])
    _digest(mesh, 77, same=True)
    ticket = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0)
    assert _repaired(mesh, m.Request(ids, 0, ticket=ticket), 77) <= 1


def _symbols(mesh: Mesh, msg: m.Message, sender: int) -> int:
    before = len(mesh.sent)
    mesh.inject(0, m.encode(msg, mesh.ledger.network[:2]), sender=sender)
    mesh.run_for(30.0)
    return sum(1 for s in mesh.sent[before:] if s.node == 0 and s.out.tag == "sketch")


def test_a_members_more_is_answered_from_its_allowance() -> None:
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    # (strangers' air heard before pays for the sketch their digests prompt)
    mesh.engines[0].answers.pool.earn(STRANGERS, 10.0, mesh.now)
    for sender in (77, 78):
        _digest(mesh, sender)
    before = len(mesh.sent)
    mesh.run_for(60.0)  # node 0 sketches for the differing digests: MOREs may follow
    assert any(s.out.tag == "sketch" for s in mesh.sent[before:])
    assert _symbols(mesh, m.More(0, 128), 78) == 0  # an unpadded MORE pays for no symbols
    ticket = tk.make(identity.signer(ledger.keys[3]), tag, 77, 0)
    assert _symbols(mesh, m.More(0, 128, ticket=ticket), 77) >= 2


def test_a_member_asks_unpadded_with_its_ticket_until_answered() -> None:
    """After a split, a member that lacks records asks the node that holds them
    with short REQUESTs (and MOREs) carrying its ticket, not padded ones; once
    that node answered it, its asks go without the ticket. A node without a
    member key pads them, as before."""
    for signed in (True, False):
        ledger = Ledger(4, seed=5, history=30)
        mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.full)], [(0, 1)], seed=6)
        if signed:
            mesh.engines[1].signer = identity.signer(ledger.keys[1])
        mesh.run_for(600.0)
        mesh.partition([0])
        for k in range(20):
            mesh.need(0, f"need {k}")
            mesh.run_for(60.0)
        start = len(mesh.sent)
        mesh.heal()
        mesh.run_for(3600.0)
        mesh.assert_converged()
        asks = [m.decode(s.out.payload) for s in mesh.sent[start:]
                if s.node == 1 and s.out.tag in ("request", "more")]
        named = [a for a in asks if getattr(a, "target", None) == 0]
        assert named
        # (a REQUEST's padding decodes as all-zero ids)
        padded = [bool(a.pad) if isinstance(a, m.More) else bytes(8) in a.ids for a in named]
        if signed:
            assert not any(padded)
            assert named[0].ticket and any(not a.ticket for a in named)
        else:
            assert all(padded) and not any(a.ticket for a in named)


def test_a_member_that_lacks_many_records_is_repaired_from_its_allowance() -> None:
    """A member's own sketch (vouched by its digest) that decodes to many records
    it lacks is answered with those records from its allowance, as its REQUESTs
    would be, where a sketch of ours would offer it the same difference again
    (after a heal, a second stream of hundreds of symbols from the node bridging
    a group). Anyone else gets what its air paid for."""
    from meshaid.node.sync import riblt

    for member in (True, False):
        mesh, ledger = _responder()
        tag = ledger.network[:2]
        eng = mesh.engines[0]
        ids = sorted(int.from_bytes(r, "big") for r in eng.infos)
        lacking, held = ids[:12], ids[12:]
        fingerprint = 0
        for x in held:
            fingerprint ^= x
        mesh.inject(0, m.encode(m.Digest(len(held), fingerprint), tag), sender=77)
        if member:  # its ticket, shown in a MORE naming us: believed for the hour
            ticket = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0)
            mesh.inject(0, m.encode(m.More(0, 0, ticket=ticket), tag), sender=77)
        mesh.run_for(5.0)
        sketch = riblt.Sketch(1024, held)
        before = len(mesh.sent)
        for start in range(0, 64, 16):
            mesh.inject(0, m.encode(m.Sketch(len(held), start, sketch.encode(start, 16)), tag),
                        sender=77)
        mesh.run_for(120.0)
        after = [s for s in mesh.sent[before:] if s.node == 0]
        repaired = {rid(raw) for s in after if s.out.tag == "repair"
                    for raw in m.decode(s.out.payload).records}
        wanted = {x.to_bytes(8, "big") for x in lacking}
        if member:
            assert repaired == wanted
        else:
            assert len(repaired & wanted) <= 4  # (what its four sketch packets paid for)


def test_a_members_allowance_pays_for_no_flooding_keys_records() -> None:
    """A member's ticket buys catch-up on others' news, not on a key flooding the
    ledger here (a stolen one, say): those records go only as far as the asker's
    own air paid (answers.py `_repair`, `pay_pull`). Paid from allowances, a
    flood's records took responders' budgets to the catch-up band's 80 %, and
    the critical needs of a site beside the thief waited for the rest of the hour."""
    mesh, ledger = _responder()
    tag = ledger.network[:2]
    engine = mesh.engines[0]
    heavy = flood(mesh, ledger)
    mesh.run_for(600.0)
    assert engine.flooding(engine.infos[rid(heavy[0])].author, mesh.now)
    _digest(mesh, 77)
    signer = identity.signer(ledger.keys[2])
    ids = tuple(rid(raw) for raw in heavy[:8])
    assert _repaired(mesh, m.Request(ids, 0, ticket=tk.make(signer, tag, 77, 0)), 77) <= 1
    others = tuple(rid(raw) for raw in ledger.history[:8]
                   if not engine.flooding(engine.infos[rid(raw)].author, mesh.now))
    assert len(others) >= 6
    assert _repaired(mesh, m.Request(others, 0), 77) >= 5, "the ticket is still believed"
