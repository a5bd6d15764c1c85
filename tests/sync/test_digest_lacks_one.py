"""A neighbour's digest that is ours less exactly one record we hold: it missed
that record, and we send it (one packet) instead of sketching for it to decode
and request it (three packets). On steady-50 this halved request air and cut
sketch air by 40 %. Only as far as the neighbour's own air pays for it
(credit.py): a made-up digest buys no record."""

from __future__ import annotations

from meshaid.node.sync import messages as m

from .harness import Mesh
from .meshes import lone


def _sent_records(mesh: Mesh, before: int, tag: str) -> list[bytes]:
    out: list[bytes] = []
    for s in mesh.sent[before:]:
        msg = m.decode(s.out.payload)
        if s.out.tag == tag and isinstance(msg, m.Records):
            out += msg.records
    return out


def test_a_digest_lacking_one_old_record_gets_that_record() -> None:
    mesh, ledger = lone()
    eng = mesh.engines[0]
    mesh.run_for(600.0)  # every record held is older than the in-flight window
    tag = ledger.network[:2]
    same = m.encode(m.Digest(eng.count, eng.fingerprint), tag)
    for _ in range(3):  # an ordinary neighbour: its digests pay for an answer
        mesh.inject(0, same, sender=7)
        mesh.run_for(5.0)
    rid = min(eng.infos)
    lacking = eng.fingerprint ^ int.from_bytes(rid, "big")
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Digest(eng.count - 1, lacking), tag), sender=7)
    mesh.run_for(eng.cfg.repair_window[1] + 1.0)
    assert _sent_records(mesh, before, "repair") == [eng.raw(rid)]
    assert not [s for s in mesh.sent[before:] if s.out.tag == "sketch"]


def test_a_made_up_sender_gets_no_record_for_one_digest() -> None:
    mesh, ledger = lone()
    eng = mesh.engines[0]
    mesh.run_for(600.0)
    tag = ledger.network[:2]
    rid = min(eng.infos)
    lacking = eng.fingerprint ^ int.from_bytes(rid, "big")
    before = len(mesh.sent)
    mesh.inject(0, m.encode(m.Digest(eng.count - 1, lacking), tag), sender=0x4242)
    mesh.run_for(eng.cfg.repair_window[1] + 1.0)
    assert _sent_records(mesh, before, "repair") == []
