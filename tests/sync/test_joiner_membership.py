"""A joiner pulls membership oldest first: the founder's hello, then the others'
hellos and the vouches, so every membership record it pulls verifies on arrival.
Newest first served the founder's hello last of its class: the joiner held every
vouch and record it got, critical needs included, unable to check them (the
blockaded-port joiner sat at one record for 2.5 hours)."""

from __future__ import annotations

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger.records import Kind
from meshaid.node.sync import messages as m
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


def test_a_joiner_asks_plain_before_its_own_ledger_counts_it_admitted() -> None:
    """A joiner's responders count its key admitted from the start; its own ledger
    does only once its vouch has arrived, late in the membership class. Padded
    pulls until then cost it its whole budget for two hours on blockaded-port.
    Once a responder has answered it, it asks that responder plain, its ticket
    shown (members.py `hopeful`), and pads again only if such asks go unanswered."""
    ledger = Ledger(6, seed=21, history=120)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.bare)], [(0, 1)], Radio(), seed=4)
    joiner = mesh.engines[1]
    joiner.signer = identity.signer(ledger.keys[1])  # member 1, vouched in the full ledger
    assert not joiner.answers.members.ticket(mesh.engines[0].node)  # not in its own, yet
    mesh.run_for(2 * HOUR)
    mesh.assert_converged()
    pulls = [m.decode(s.out.payload) for s in mesh.sent if s.node == 1 and s.out.tag == "pull"]
    padded = [p for p in pulls if p.pad]
    assert len(pulls) > 10 and len(padded) <= 3, (len(pulls), len(padded))
