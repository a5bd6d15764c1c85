"""A node that garbage-collects (node/store/gc.py) and nodes that do not converge
on one sync set and one derived state, and the collecting node never gets back
over the air what it collected: not by asking, not in pull answers (random
graphs, loss, a partition, updates in bursts, collection at random moments)."""

from __future__ import annotations

import hashlib
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from meshaid.node.ledger import codec
from meshaid.node.ledger import records as r
from meshaid.node.store import gc

from .harness import HOUR, T0, Ledger, Mesh, Radio, clone


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 5), st.sampled_from([0.0, 0.15]), st.booleans())
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
