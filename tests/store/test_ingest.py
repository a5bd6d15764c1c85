"""Store.ingest: accepted, duplicate, held or rejected-with-reason; atomic and
idempotent; held records applied when what they wait for arrives."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from ledger_helpers import NOW, Actor, Net, World, derived_state, resign

from meshaid.node.ledger import codec, identity
from meshaid.node.ledger import records as r
from meshaid.node.store import Store, StoreError


@pytest.fixture
def w() -> World:
    return World.build()


def counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("records", "objects", "held", "keys", "members")}


def test_the_four_outcomes(w: World) -> None:
    store = w.store()
    need = w.net.need(w.anna)
    first = store.ingest(need.raw, now=NOW)
    assert first.status == "accepted" and first.ok and first.record == need
    again = store.ingest(need.raw, now=NOW)
    assert again.status == "duplicate" and again.ok
    stranger = Actor("stranger", 9)
    held = store.ingest(w.net.need(stranger).raw, now=NOW)
    assert (held.status, held.reason) == ("held", "unknown-author") and not held.ok
    junk = store.ingest(b"\x10" + bytes(80), now=NOW)
    assert junk.status == "rejected" and junk.reason and not junk.ok


def test_every_base_record_is_accepted(w: World) -> None:
    store = Net.store(w.net)
    outcomes = [store.ingest(rec.raw, now=NOW).status for rec in w.base]
    assert outcomes == ["accepted"] * len(w.base)
    assert counts(store) == {"records": 7, "objects": 0, "held": 0, "keys": 4, "members": 3}


def test_a_rejected_record_leaves_nothing_behind(w: World) -> None:
    store = w.store(w.net.need(w.anna))
    before, state = counts(store), derived_state(store)
    rec = w.net.need(w.anna, text="tampered")
    bad = rec.raw[:-1] + bytes([rec.raw[-1] ^ 1])
    outcome = store.ingest(bad, now=NOW)
    assert (outcome.status, outcome.reason) == ("rejected", "bad-signature")
    assert counts(store) == before and derived_state(store) == state


def test_ingest_many_answers_each_record(w: World) -> None:
    store = w.net.store()
    need = w.net.need(w.anna)
    outcomes = store.ingest_many([*(rec.raw for rec in w.base), need.raw, need.raw, b"junk"],
                                 now=NOW)
    assert [o.status for o in outcomes] == ["accepted"] * 8 + ["duplicate", "rejected"]
    assert store.count("objects") == 1


def test_held_record_is_accepted_when_its_authors_hello_arrives(w: World) -> None:
    dan = Actor("dan", 5)
    store = w.store(w.net.vouch(w.founder, dan))
    need = w.net.need(dan, text="generator fuel")  # dan's hello, seq 1, not signed yet
    assert store.ingest(need.raw, now=NOW).status == "held"
    assert store.count("held") == 1 and store.count("objects") == 0
    hello = w.net.sign(dan, r.Hello("dan", "Depot"), seq=1)
    assert store.ingest(hello.raw, now=NOW).status == "accepted"
    assert store.count("held") == 0
    row = store.db.execute("SELECT text, trust FROM objects").fetchone()
    assert tuple(row) == ("generator fuel", "trusted")
    assert store.ingest(need.raw, now=NOW).status == "duplicate"


def test_records_wait_for_the_charter_of_the_expected_network(w: World) -> None:
    store = w.net.store()
    rest = [*w.base[1:], w.net.need(w.anna)]
    assert {store.ingest(rec.raw, now=NOW).reason for rec in rest} == {"unknown-network"}
    assert store.network is None and store.count("held") == len(rest)
    assert store.ingest(w.net.charter.raw, now=NOW).status == "accepted"
    assert store.network == w.net.id
    assert store.count("held") == 0
    assert derived_state(store) == derived_state(w.store(rest[-1]))


def test_a_charter_is_accepted_only_for_the_expected_network(w: World) -> None:
    other = Net(name="Elsewhere")
    store = w.net.store()
    outcome = store.ingest(other.charter.raw, now=NOW)
    assert (outcome.status, outcome.reason) == ("rejected", "other-network")
    assert store.network is None and store.count() == 0
    assert store.ingest(w.net.charter.raw, now=NOW).status == "accepted"
    late = store.ingest(other.charter.raw, now=NOW)
    assert (late.status, late.reason) == ("rejected", "other-network")
    # a node that expects no network accepts no charter at all
    lone = Store.open(":memory:")
    assert lone.ingest(w.net.charter.raw, now=NOW).reason == "other-network"


def test_records_signed_for_another_network_are_rejected(w: World) -> None:
    store = w.store()
    other = Net(name="Elsewhere")
    before = counts(store)
    for rec in (other.need(w.anna), other.hello(w.anna), other.vouch(w.founder, w.cy)):
        outcome = store.ingest(rec.raw, now=NOW)
        assert (outcome.status, outcome.reason) == ("rejected", "bad-signature"), rec.kind
    assert counts(store) == before


def test_too_long_and_trailing_bytes_are_rejected(w: World) -> None:
    store = w.store()
    need = w.net.need(w.anna)
    before = counts(store)
    assert store.ingest(need.raw + bytes(201 - len(need.raw)), now=NOW).reason == "too-long"
    assert store.ingest(need.raw + b"\x00", now=NOW).reason == "trailing-bytes"
    signed = need.raw[: -r.SIG_LEN] + b"\x00"
    trailing = resign(signed, w.anna, r.Kind.NEED, w.net.id)
    assert store.ingest(trailing, now=NOW).reason == "trailing-bytes"
    assert counts(store) == before


def test_order_pledge_before_need_and_update_before_original(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    pledge = w.net.pledge(w.bo, need, 40)
    update = w.net.update(w.anna, need, qty=80, note="less now")
    pledge_update = w.net.update(w.bo, pledge, qty=30)
    natural = w.store(need, pledge, update, pledge_update)
    backwards = w.store(pledge_update, update, pledge, need)
    assert derived_state(backwards) == derived_state(natural)
    row = natural.db.execute("SELECT qty, pledged, note FROM objects WHERE seq = ? AND author = ?",
                             [need.seq, w.anna.pub]).fetchone()
    assert tuple(row) == (80, 30, "less now")


def test_a_fork_is_kept_and_flags_the_author(w: World) -> None:
    store = w.store()
    earlier = w.net.offer(w.anna, text="generator")
    seq = w.anna.seq + 1
    one = w.net.sign(w.anna, r.Need(1, "water", 10, 4), seq=seq)
    two = w.net.sign(w.anna, r.Need(2, "bread", 20, 0), seq=seq)
    assert one.raw != two.raw
    for rec in (earlier, one, two):
        assert store.ingest(rec.raw, now=NOW).status == "accepted"
    assert store.db.execute("SELECT COUNT(*) FROM records WHERE author = ? AND seq = ?",
                            [w.anna.pub, seq]).fetchone()[0] == 2
    assert store.db.execute("SELECT author, seq FROM forks").fetchall() == [(w.anna.pub, seq)]
    flags = dict(store.db.execute("SELECT seq, forked FROM objects WHERE author = ?", [w.anna.pub]))
    assert flags == {earlier.seq: 1, seq: 1}
    # the version with the lowest hash is the one shown, whatever the arrival order
    winner = min((one, two), key=lambda rec: hashlib.sha256(rec.raw).digest())
    text = store.db.execute("SELECT text FROM objects WHERE seq = ?", [seq]).fetchone()[0]
    assert text == winner.body.text
    assert derived_state(w.store(two, one, earlier)) == derived_state(store)


def test_a_forked_hello_gives_the_same_key_row_in_any_order(w: World) -> None:
    dan = Actor("dan", 5)
    one = w.net.sign(dan, r.Hello("dan", "Depot"), seq=1)
    two = w.net.sign(dan, r.Hello("daniel", "Quay"), seq=1)
    a, b = w.store(one, two), w.store(two, one)
    assert derived_state(a) == derived_state(b)
    assert a.db.execute("SELECT author FROM forks").fetchall() == [(dan.pub,)]


def test_held_table_is_bounded(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from meshaid.node.store import ingest as store_module

    monkeypatch.setattr(store_module, "HELD_MAX", 3)
    store = w.store()
    stranger = Actor("stranger", 9)
    for i in range(5):
        assert store.ingest(w.net.need(stranger, text=f"n{i}").raw, now=NOW + i).status == "held"
    assert store.count("held") == 3


def test_found_network_and_author(file_store: Store) -> None:
    key = identity.key_from_seed(b"\x07" * 32)
    store = file_store
    charter = store.found_network(key, r.Charter("Port"), now=NOW)
    assert store.network == identity.network_id(charter.raw)
    assert store.network_code == identity.network_code(store.network)
    with pytest.raises(StoreError):
        store.found_network(key, r.Charter("Again"), now=NOW)
    hello = store.author(r.Hello("me", "here"), key, now=NOW)
    need = store.author(r.Need(1, "water", 5, 4), key, now=NOW)
    assert (charter.seq, hello.seq, need.seq) == (1, 2, 3)
    assert charter.hlc < hello.hlc < need.hlc  # same wall clock, still increasing
    row = store.db.execute("SELECT trust FROM objects").fetchone()
    assert row[0] == "trusted"  # the founder is a steward of their own network
    with pytest.raises(ValueError):
        store.author(r.Need(0, "no such category"), key, now=NOW)
    assert store.count() == 3


def test_author_needs_a_charter_first(mem_store: Store) -> None:
    store = mem_store
    with pytest.raises(StoreError, match="charter"):
        store.author(r.Hello("me"), identity.key_from_seed(b"\x07" * 32), now=NOW)
    store.expect_network("AAAA-BBBB-CCCC")
    with pytest.raises(StoreError, match="already"):
        store.found_network(identity.key_from_seed(b"\x07" * 32), r.Charter("Port"), now=NOW)


def test_file_store_uses_wal_and_survives_reopening(w: World, tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    store = Store.open(path)
    store.expect_network(w.net.code)
    for rec in w.base:
        store.ingest(rec.raw, now=NOW)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    state = derived_state(store)
    store.close()
    again = Store.open(path)
    assert again.network == w.net.id and derived_state(again) == state
    # known keys are reloaded: a short-id record of a known author verifies at once
    assert again.ingest(w.net.need(w.anna).raw, now=NOW).status == "accepted"
    again.close()


def test_raw_records_come_out_verbatim_in_an_order_that_never_holds(w: World) -> None:
    need = w.net.need(w.anna)
    pledge = w.net.pledge(w.bo, need, 3)
    store = w.store(pledge, need)
    out = list(store.raw_records())
    assert sorted(out) == sorted(rec.raw for rec in (*w.base, need, pledge))
    assert out[0] == w.net.charter.raw
    replay = w.net.store()
    assert [replay.ingest(raw, now=NOW).status for raw in out] == ["accepted"] * len(out)
    assert derived_state(replay) == derived_state(store)
    assert list(store.raw_records(kinds=[r.Kind.NEED])) == [need.raw]


def test_outcome_records_decode_like_the_codec(net: Net) -> None:
    store = net.store(net.charter, net.hello(net.founder))
    need = net.need(net.founder)
    rec = store.ingest(need.raw, now=NOW).record
    assert rec == codec.decode(need.raw, net.id, lambda s: [net.founder.pub])


def test_the_clock_stays_ahead_of_seen_records_after_a_restart(w: World, tmp_path: Path) -> None:
    """Records of two members stamped a little ahead of this node's wall clock
    move mesh time; a reopened store must still sign after them. One member's
    record a year ahead moves nothing, before or after a restart."""
    import time

    from meshaid.node.ledger import hlc

    path = tmp_path / "ledger.db"
    store = Store.open(path)
    store.expect_network(w.net.code)
    for rec in w.base:
        store.ingest(rec.raw)
    at = hlc.from_unix(time.time() + 1800)
    ahead = [w.net.sign(who, r.Need(1, "from a fast clock", 1, 4), at=at) for who in (w.anna, w.bo)]
    assert {store.ingest(rec.raw).status for rec in ahead} == {"accepted"}
    store.close()
    again = Store.open(path)
    mine = again.author(r.Need(1, "posted after seeing it", 1, 4), w.founder.key)
    assert mine.hlc > at
    far = w.net.sign(w.anna, r.Need(1, "from next year", 1, 4),
                     at=hlc.from_unix(time.time() + 365 * 86400))
    again.ingest(far.raw)
    assert again.clock.last <= at + hlc.pack(hlc.AHEAD_S)  # an hour past two members at most
    again.close()
    third = Store.open(path)
    # ... but one clock a year ahead is not followed
    assert third.clock.last <= at + hlc.pack(hlc.AHEAD_S)
    third.close()
