"""Members' radios that start together introduce themselves (hops.py
`introduce`: a node that knows no neighbour and cannot afford to answer a
stranger's digest sends its own soon with its proof; digests.py `prompter`):
a push lost before they synced is repaired within a minute, not after their
digests earned a sketch from the strangers' pool (150 to 210 s; the
fake-radio test of tests/daemon failed so when the push collided with the
device's own NodeInfo)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meshaid.node.ledger import identity
from meshaid.node.sync import messages as m
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.farpeers import PROOF_SOON_S

from .harness import Mesh, line, rid
from .meshes import fresh_mesh, lone, proof, sent_after, spread


def _lost_first_push(seed: int, signed: bool) -> tuple[Mesh, float]:
    """Two fresh nodes; node 0's first post goes out while the link is cut.
    Returns the mesh and how long node 1 took to hold it (inf if not in 600 s)."""
    mesh = fresh_mesh(2, line(2), seed=seed)
    if signed:
        for i, eng in enumerate(mesh.engines):
            eng.signer = identity.signer(mesh.ledger.keys[i])
    mesh.run_for(3.0)
    mesh.partition([0])
    raw = mesh.need(0, "drinking water")
    mesh.run_for(3.0)
    mesh.heal()
    got = spread(mesh, raw, 600.0)
    return mesh, 3.0 + got.get(1, float("inf"))


def test_members_started_together_repair_a_lost_push_within_a_minute() -> None:
    for seed in range(1, 9):
        mesh, took = _lost_first_push(seed, signed=True)
        assert took <= 60.0, (seed, took)
        proofs = [isinstance(d, m.Digest) and bool(d.ticket)
                  for d in sent_after(mesh, 0, "digest")]
        # one introduction or two, and none once each knows the other
        assert 1 <= sum(proofs) <= 2 and not any(proofs[4:]), (seed, proofs)


def test_without_member_keys_the_strangers_pool_still_pays_for_the_repair() -> None:
    """Nodes holding no member key show no proof: they wait, as before, for their
    digests to pay (never more than the strangers' air earned)."""
    mesh, took = _lost_first_push(1, signed=False)
    assert 60.0 < took < 600.0
    assert not any(isinstance(d, m.Digest) and d.ticket for d in sent_after(mesh, 0, "digest"))


def test_only_a_checked_proof_makes_a_stranger_a_proven_neighbour() -> None:
    """A digest a record off ours in a fresh number, heard directly: with a proof
    signed by a key nobody admitted it is a stranger's (no sketch: the pool holds
    nothing); with a member's proof, its number is paced with known neighbours
    and gets its sketch."""
    outsider = identity.generate_key()
    for key, sketched in ((None, True), (outsider, False)):
        mesh, ledger = lone(seed=3)
        eng = mesh.engines[0]
        tag = ledger.network[:2]
        mesh.run_for(120.0)
        number = 0x7000
        ticket = proof(ledger, 1, number) if key is None else \
            _foreign_proof(key, tag, number)
        digest = m.Digest(eng.count + 1, eng.fingerprint ^ 0x1234, ticket=ticket)
        before = len(mesh.sent)
        mesh.inject(0, m.encode(digest, tag), sender=number)
        mesh.run_for(60.0)
        assert bool(sent_after(mesh, before, "sketch")) is sketched, key
        assert eng.hood.proven_near(number, mesh.now) is sketched
        if not sketched:
            assert eng.stats.dropped["bad-ticket"] == 1
            assert eng.stats.dropped["stranger-prompt"] >= 1


def _foreign_proof(key: Ed25519PrivateKey, tag: bytes, number: int) -> bytes:
    return tk.make(identity.signer(key), tag, number, tk.ANYONE)


def test_made_up_numbers_buy_a_lone_node_one_introduction_per_five_minutes() -> None:
    """A node that knows no neighbour hears, every 30 s for an hour, a digest in a
    fresh number lacking the record it posted last: its introductions (its
    digest soon, with its proof) come at most once per PROOF_SOON_S, whatever
    the numbers."""
    mesh, ledger = lone(seed=2)
    eng = mesh.engines[0]
    eng.signer = identity.signer(ledger.keys[0])
    tag = ledger.network[:2]
    mesh.run_for(3600.0)  # Trickle at its longest interval
    before = len(mesh.sent)
    for k in range(120):
        if k % 20 == 0:  # a post of ours now and then, which the digests then lack
            raw = mesh.need(0, f"water {k}")
            lacking = int.from_bytes(rid(raw), "big")
            mesh.run_for(10.0)
        digest = m.Digest(eng.count - 1, eng.fingerprint ^ lacking)
        mesh.inject(0, m.encode(digest, tag), sender=0x6000 + k)
        mesh.run_for(30.0)
    shown = [d for d in sent_after(mesh, before, "digest") if isinstance(d, m.Digest) and d.ticket]
    assert 6 <= len(shown) <= 3660.0 / PROOF_SOON_S + 1, len(shown)
