"""A node that garbage-collects (node/store/gc.py) and nodes that do not converge
on one sync set and one derived state, and the collecting node never gets back
over the air what it collected: not by asking, not in pull answers (random
graphs, loss, a partition, updates in bursts, collection at random moments)."""

from __future__ import annotations

import hashlib
import random

from hypothesis import example, given, settings
from hypothesis import strategies as st

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import gc

from .harness import HOUR, T0, Ledger, Mesh, Radio, clone, line


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 5), st.sampled_from([0.0, 0.15]), st.booleans())
# (7 examples in 300 failed: a neighbour lacking the version that superseded a
# collected one still sketched it, and the collecting node asked for it back.
# It now remembers what was superseded here: engine.py `gone`.)
@example(8622, 4, 0.15, False)
@example(9135, 5, 0.15, True)
def test_a_collecting_node_converges_without_fetching_again(seed: int, n: int, loss: float,
                                                            partition: bool) -> None:
    rng = random.Random(seed)
    ledger = Ledger(n, seed=seed % 50 + 1)
    edges = [(k, rng.randrange(k)) for k in range(1, n)] + [(0, n - 1)] * (n > 3)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(n)], sorted(set(edges)),
                Radio(loss=loss), seed=seed)
    collector = mesh.stores[0]
    asked_back: list[bytes] = []  # copies of collected records node 0 asked for or pulled
    port = mesh.ledgers[0]
    inner = port.sync_ingest

    def ingest(raw: bytes, now: float, meta: object = None) -> object:
        rid = hashlib.sha256(raw).digest()[:8]
        asked = meta is None and rid not in {hashlib.sha256(x).digest()[:8] for x in own}
        if asked and collector.db.execute("SELECT 1 FROM collected WHERE id = ?",
                                          [rid]).fetchone():
            asked_back.append(rid)
        return inner(raw, now, meta)  # type: ignore[arg-type]

    port.sync_ingest = ingest  # type: ignore[method-assign]
    own: list[bytes] = []
    if partition:
        mesh.partition({0})
    needs = [(i, mesh.need(i, f"need {i}")) for i in range(n)]
    collected = 0
    for step in range(30):
        mesh.run_for(rng.uniform(20.0, 300.0))
        i, need = rng.choice(needs)
        raw = mesh.author(i, r.Update(codec.parse(need).seq, 0, rng.randint(0, 9)))
        if i == 0:
            own.append(raw)
        if rng.random() < 0.3:
            collected += gc.collect(collector).records
        if partition and step == 20:
            mesh.heal()
    mesh.run_for(2 * HOUR)
    collected += gc.collect(collector).records
    mesh.run_for(HOUR)
    assert collected > 0
    mesh.assert_converged()  # one sync set, one derived state, engines counting it
    assert asked_back == []
    assert mesh.now > T0


def test_a_version_every_node_collected_reaches_a_late_node_after_a_cut() -> None:
    """Nodes 0 and 1 hold member 1's need with updates u1 and u2 and both collect
    u1; node 2, cut off meanwhile, then gets the need and u2 only (u1 is
    superseded: it never travels). A revocation through u1 makes u1 count again:
    the collectors store it again from their tombstones and node 2 gets it over
    the air, so every node derives the same state."""
    ledger = Ledger(3, seed=11)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(3)], line(3), Radio(), seed=11)
    mesh.partition({2})
    need = mesh.need(1, "splints")
    mesh.run_for(600.0)
    seq = codec.parse(need).seq
    u1 = mesh.author(1, r.Update(seq, 0, 7))
    mesh.run_for(600.0)
    u2 = mesh.author(1, r.Update(seq, 2, 0, note="withdrawn"))
    mesh.run_for(600.0)
    assert [gc.collect(mesh.stores[i]).records for i in (0, 1)] == [1, 1]
    mesh.heal()
    mesh.run_for(2 * HOUR)
    assert mesh.holders(u2) == [0, 1, 2] and mesh.holders(u1) == []
    mesh.author(0, r.Revoke(identity.public_bytes(ledger.keys[1]), codec.parse(u1).seq))
    mesh.run_for(2 * HOUR)
    assert mesh.holders(u1) == [0, 1, 2]
    mesh.assert_converged()
    qty = mesh.stores[2].db.execute("SELECT qty FROM objects WHERE seq = ?", [seq]).fetchone()
    assert qty == (7,)
