"""Two clocks: the engine runs on its monotonic timer clock, the store stamps
with its own wall clock. A wall clock stepped a year ahead or back mid-run (no
RTC, then NTP or a GPS fix) changes nothing about sync: the mesh converges
inside its budget."""

from __future__ import annotations

import itertools

from meshaid.node.ledger import records as r

from .harness import HOUR, Ledger, Mesh, Radio, clone, ring

YEAR = 365 * 86400.0


def test_a_wall_clock_stepped_a_year_either_way_mid_run_still_converges() -> None:
    ledger = Ledger(5, seed=11, history=20)
    mesh = Mesh(ledger, [clone(ledger.full) for _ in range(5)], ring(5),
                Radio(loss=0.1, jitter=0.5), seed=11)
    offset = [0.0] * 5
    for i, store in enumerate(mesh.stores):
        store.wall = lambda i=i: mesh.now + offset[i]

    def post(i: int, text: str, urgency: int = 1) -> None:
        rec = mesh.stores[i].author(r.Need(1, text, 5, 4, urgency), ledger.keys[i])
        mesh.engines[i].local_record(rec.raw, mesh.now)
        mesh.pump(i)

    for i in range(5):
        post(i, f"before {i}")
    mesh.run_for(600.0)
    offset[1], offset[3] = YEAR, -YEAR  # one steps a year ahead, one a year back
    for k in range(3):
        for i in range(5):
            post(i, f"after {i}.{k}", urgency=3 if i == 3 and k == 0 else 1)
        mesh.run_for(300.0)
    # the stores stamped what they received with their own wall clocks
    stamps = [t for (t,) in mesh.stores[1].db.execute(
        "SELECT received_at FROM records WHERE local = 0")]
    assert max(stamps) > mesh.now + YEAR - HOUR
    assert min(t for (t,) in mesh.stores[3].db.execute(
        "SELECT received_at FROM records WHERE local = 0")) < mesh.now - YEAR + HOUR
    offset[1], offset[3] = 0.0, 0.0  # and back again (NTP arrives)
    for i in range(5):
        post(i, f"corrected {i}")
    mesh.run_for(2 * HOUR)
    mesh.assert_converged()
    mesh.assert_within_budget()
    assert mesh.stores[0].count() == len(ledger.setup) + 1 + 20 + 5 * 5
    # the node whose clock went back still signed after everything it had seen
    seqs = [row for row in mesh.stores[0].db.execute(
        "SELECT seq, hlc FROM records WHERE author = ? ORDER BY seq", [mesh.stores[3].db.execute(
            "SELECT key FROM keys WHERE name = 'member 3'").fetchone()[0]])]
    assert all(a[1] < b[1] for a, b in itertools.pairwise(seqs))
