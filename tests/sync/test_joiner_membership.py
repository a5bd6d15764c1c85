"""A joiner pulls membership oldest first: the founder's hello, then the others'
hellos and the vouches, so every membership record it pulls verifies on arrival.
Newest first served the founder's hello last of its class: the joiner held every
vouch and record it got, critical needs included, unable to check them (the
blockaded-port joiner sat at one record for 2.5 hours)."""

from __future__ import annotations

from meshaid.node.ledger import codec
from meshaid.node.ledger.records import Kind
from meshaid.node.sync.ports import Ingested, RxMeta

from .harness import HOUR, Ledger, Mesh, Radio, clone


def test_a_joiner_holds_no_membership_record_for_want_of_its_author() -> None:
    ledger = Ledger(6, seed=21, history=60)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.bare)], [(0, 1)], Radio(), seed=4)
    joiner = mesh.ledgers[1]
    held: list[Kind] = []
    ingest = joiner.sync_ingest

    def logged(raw: bytes, now: float, meta: RxMeta | None = None) -> Ingested:
        result = ingest(raw, now, meta)
        if result.status == "held":
            held.append(codec.parse(raw).kind)
        return result

    joiner.sync_ingest = logged  # type: ignore[method-assign]
    mesh.run_for(2 * HOUR)
    assert mesh.engines[1].stats.sent["pull"] > 0
    mesh.assert_converged()
    assert not [k for k in held if k in (Kind.HELLO, Kind.VOUCH, Kind.REVOKE)], held
