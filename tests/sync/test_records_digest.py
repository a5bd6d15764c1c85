"""A sender's digest riding in its RECORDS packets (flag bit 3, PROTOCOL.md §7):
a listener whose set is the same once those records are in counts it as a
consistent digest heard, so the digest it would send after the news stays
home; one that differs silences nothing; a neighbour list that is due still
goes in a digest of its own."""

from __future__ import annotations

from meshaid.node.ledger import records as r
from meshaid.node.sync import messages as m
from meshaid.node.sync.outbox import record_id

from .harness import HOUR, line
from .meshes import fresh_mesh, lone, sent_after


def _news_packet(ledger, engine, digest: str) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """A RECORDS packet of one new record of member 1, with the sender's digest:
    our set plus that record ("same"), something else ("other"), or none."""
    raw = ledger.sign(1, r.Need(1, "blankets", 10, 4, 1))
    x = int.from_bytes(record_id(raw), "big")
    after = (engine.count + 1, engine.fingerprint ^ x)
    trailer = {"same": after, "other": (after[0], after[1] ^ 1), "none": None}[digest]
    return raw, m.encode(m.Records((raw,), digest=trailer), ledger.network[:2])


def _digests_after_news(digest: str) -> list[m.Message]:
    """What node 0 says of its set (digests alone, or riding in its records) in the
    news interval after neighbour 7's RECORDS packet brought it a record."""
    mesh, ledger = lone()
    engine = mesh.engines[0]
    same = m.encode(m.Digest(engine.count, engine.fingerprint), ledger.network[:2])
    for _ in range(3):  # neighbour 7, heard more than once: listed in our digests
        mesh.inject(0, same, sender=7)
        mesh.run_for(HOUR)
    assert engine.hood.announced[0] == (7,)
    before = len(mesh.sent)
    raw, packet = _news_packet(ledger, engine, digest)
    mesh.inject(0, packet, sender=7)
    assert record_id(raw) in engine.infos
    mesh.run_for(engine.cfg.news_interval)
    said = [m.decode(s.out.payload) for s in mesh.sent[before:]]
    return [x for x in said if isinstance(x, m.Digest)
            or (isinstance(x, m.Records) and x.digest is not None)]


def test_a_matching_digest_in_records_silences_the_digest_after_the_news() -> None:
    assert _digests_after_news("same") == []


def test_a_differing_or_missing_digest_in_records_silences_nothing() -> None:
    """Our digest goes once in the interval: riding in the relay of that record."""
    for digest in ("other", "none"):
        said = _digests_after_news(digest)
        assert len(said) == 1 and isinstance(said[0], m.Records), (digest, said)


def test_a_neighbour_list_that_is_due_still_goes() -> None:
    """A new neighbour's records, with a digest like ours: its list has changed, and
    a digest riding in records carries none, so ours goes, listing it."""
    mesh, ledger = lone()
    engine = mesh.engines[0]
    mesh.run_for(2 * HOUR)  # our list (empty) went out at the start
    mesh.inject(0, m.encode(m.Digest(engine.count, engine.fingerprint), ledger.network[:2]),
                sender=7)
    mesh.run_for(5.0)
    before = len(mesh.sent)
    _raw, packet = _news_packet(ledger, engine, "same")
    mesh.inject(0, packet, sender=7)
    mesh.run_for(engine.cfg.news_interval)
    sent = sent_after(mesh, before, "digest")
    assert len(sent) == 1 and isinstance(sent[0], m.Digest) and 7 in sent[0].neighbours


def test_a_push_carries_the_digest_of_its_interval_and_no_digest_follows() -> None:
    """The author's push carries its digest (its interval's digest: none goes alone
    after it); node 1, hearing it equal to its own set once the record is in, is
    silenced and relays the record without one; node 2 gets it."""
    mesh = fresh_mesh(3, line(3))
    mesh.run_for(HOUR)  # lists announced and settled
    before = len(mesh.sent)
    raw = mesh.need(0, "a post")
    mesh.run_for(mesh.engines[0].cfg.news_interval)
    sent = [(s.node, s.out.tag, m.decode(s.out.payload)) for s in mesh.sent[before:]]
    push = [msg for node, tag, msg in sent if tag == "push"]
    assert len(push) == 1 and isinstance(push[0], m.Records) and raw in push[0].records
    assert push[0].digest == (mesh.engines[0].count, mesh.engines[0].fingerprint)
    forwards = [(node, msg) for node, tag, msg in sent if tag == "forward"]
    assert [node for node, _ in forwards] == [1]
    assert isinstance(forwards[0][1], m.Records) and forwards[0][1].digest is None
    assert [node for node, tag, _ in sent if tag == "digest"] == [2]  # it heard none
    assert mesh.agree()


def test_a_full_packet_or_a_bootstrapping_sender_carries_none() -> None:
    mesh, _ledger = lone()
    engine = mesh.engines[0]
    assert engine.trickle.pending()
    room = engine.cfg.payload_cap - m.RECORDS_ROOM - m.trailer_size(engine.count)
    fits, full = [b"\x01" * (room - 1)], [b"\x01" * (room - 1), b"\x02" * 66]
    assert engine._records_msg(fits).digest == (engine.count, engine.fingerprint)
    assert len(m.encode(engine._records_msg(fits), b"xx")) == engine.cfg.payload_cap
    assert engine._records_msg(full).digest is None
    engine.boot.streams[5] = type("S", (), {"pulled": True})()  # type: ignore[assignment]
    assert engine.boot.active and engine._records_msg(fits).digest is None
    engine.boot.streams.clear()
    engine.trickle.rode = True  # our digest of this interval went already
    assert engine._records_msg(fits).digest is None


def test_a_line_converges_with_digests_riding_in_records() -> None:
    mesh = fresh_mesh(4, line(4))
    mesh.run_for(HOUR)
    before = len(mesh.sent)
    for k in range(12):
        mesh.need(k % 4, f"post {k}")
        mesh.run_for(45.0)
    mesh.run_for(600.0)
    assert mesh.agree()
    rode = [s for s in mesh.sent[before:] if s.out.records
            and m.decode(s.out.payload).digest is not None]  # type: ignore[union-attr]
    assert rode, "no digest rode in records"
