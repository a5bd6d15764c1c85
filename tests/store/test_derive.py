"""Derived state: trust and quarantine, revocation, totals, over-commitment,
withdrawals and expiry."""

from __future__ import annotations

from typing import Any

import pytest
from ledger_helpers import NOW, Actor, World

from meshaid.node.ledger import hlc
from meshaid.node.ledger import records as r
from meshaid.node.store import Store
from meshaid.node.store import queries as q


@pytest.fixture
def w() -> World:
    return World.build()


def obj(store: Store, rec: r.Record, now: float = NOW) -> dict[str, Any]:
    return q.get_object(store, f"{rec.short_author.hex()}-{rec.seq}", now=now)


def test_a_members_records_are_trusted(w: World) -> None:
    need = w.net.need(w.anna)
    store = w.store(need)
    assert obj(store, need)["trust"] == "trusted"


def test_a_non_members_records_are_quarantined_and_not_counted(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    cy_pledge = w.net.pledge(w.cy, need, 60)
    cy_offer = w.net.offer(w.cy)
    bo_pledge = w.net.pledge(w.bo, need, 10)
    store = w.store(need, cy_pledge, cy_offer, bo_pledge)
    assert obj(store, cy_pledge)["trust"] == "quarantine"
    assert obj(store, cy_offer)["trust"] == "quarantine"
    shown = obj(store, need)
    assert (shown["pledged"], shown["remaining"], shown["pledges"]) == (10, 90, 1)
    trusted = q.list_objects(store, q.Filters(trusted_only=True), now=NOW)
    assert {row["id"] for row in trusted} == {w.anna.rid(need.seq), w.bo.rid(bo_pledge.seq)}
    everything = q.list_objects(store, q.Filters(), now=NOW)
    assert [row["trust"] for row in everything][-2:] == ["quarantine", "quarantine"]

    # a steward vouches: cy's records become trusted and count
    store.ingest(w.net.vouch(w.founder, w.cy).raw, now=NOW)
    assert obj(store, cy_pledge)["trust"] == "trusted"
    assert obj(store, cy_offer)["trust"] == "trusted"
    shown = obj(store, need)
    assert (shown["pledged"], shown["remaining"], shown["pledges"]) == (70, 30, 2)


def test_a_revoked_keys_records_after_through_seq_are_quarantined(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    bo_need = w.net.need(w.bo, qty=5)  # bo's seq 2
    early = w.net.pledge(w.bo, need, 30)  # seq 3
    late = w.net.pledge(w.bo, need, 50)  # seq 4
    late_update = w.net.update(w.bo, bo_need, status=2)  # seq 5: withdraws seq 2
    cut = w.net.revoke(w.founder, w.bo, through_seq=early.seq, reason="stolen radio")
    store = w.store(need, bo_need, early, late, late_update)
    assert obj(store, need)["pledged"] == 80
    assert obj(store, bo_need)["status"] == "withdrawn"
    store.ingest(cut.raw, now=NOW)
    assert obj(store, early)["trust"] == "trusted"
    assert obj(store, late)["trust"] == "quarantine"
    assert obj(store, need)["pledged"] == 30
    # the update past the cut no longer applies to the trusted original
    assert obj(store, bo_need)["trust"] == "trusted"
    assert obj(store, bo_need)["status"] == "open"
    member = next(m for m in q.members(store) if m["key"] == w.bo.pub.hex())
    assert member["status"] == f"revoked after seq {early.seq}"


def test_remaining_and_over_commitment(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    p1 = w.net.pledge(w.bo, need, 30)
    p2 = w.net.pledge(w.founder, need, 50)
    p3 = w.net.pledge(w.bo, need, 40)
    store = w.store(need)
    assert (obj(store, need)["status"], obj(store, need)["remaining"]) == ("open", 100)
    store.ingest(p1.raw, now=NOW)
    store.ingest(p2.raw, now=NOW)
    shown = obj(store, need)
    assert (shown["status"], shown["pledged"], shown["remaining"]) == ("partial", 80, 20)
    assert shown["over_committed"] == 0
    store.ingest(p3.raw, now=NOW)
    shown = obj(store, need)
    assert (shown["status"], shown["pledged"], shown["remaining"]) == ("over-committed", 120, 0)
    assert shown["over_committed"] == 20
    assert [p["id"] for p in shown["pledge_list"]] == [w.bo.rid(p1.seq), w.founder.rid(p2.seq),
                                                       w.bo.rid(p3.seq)]
    # exactly covered
    store.ingest(w.net.update(w.bo, p3, qty=20).raw, now=NOW)
    assert obj(store, need)["status"] == "covered"
    assert obj(store, need)["remaining"] == 0


def test_a_withdrawn_pledge_is_not_counted_and_deliveries_are(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    p1 = w.net.pledge(w.bo, need, 30)
    p2 = w.net.pledge(w.founder, need, 50)
    store = w.store(need, p1, p2)
    store.ingest(w.net.update(w.founder, p2, status=2).raw, now=NOW)
    assert obj(store, p2)["status"] == "withdrawn"
    assert (obj(store, need)["pledged"], obj(store, need)["pledges"]) == (30, 1)
    store.ingest(w.net.update(w.bo, p1, status=3, delivered=30).raw, now=NOW)
    shown = obj(store, need)
    assert (shown["pledged"], shown["delivered"]) == (30, 30)
    assert obj(store, p1)["status"] == "delivered"


def test_the_highest_seq_update_wins(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    u1 = w.net.update(w.anna, need, qty=90, note="first")
    u2 = w.net.update(w.anna, need, status=1, qty=0, note="done")
    for order in ((u1, u2), (u2, u1)):
        store = w.store(need, *order)
        shown = obj(store, need)
        assert (shown["status"], shown["qty"], shown["note"]) == ("fulfilled", 0, "done")


def test_only_the_author_can_update(w: World) -> None:
    need = w.net.need(w.anna, qty=100)
    bo_seq = w.bo.seq + 1
    # bo's update names seq `need.seq` of *bo's* records, not anna's need
    other = w.net.sign(w.bo, r.Update(need.seq, 2, 0), seq=max(bo_seq, need.seq + 1))
    store = w.store(need, other)
    assert obj(store, need)["status"] == "open"


def test_expiry(w: World) -> None:
    need = w.net.need(w.anna, valid_for_min=60)
    forever = w.net.need(w.anna, text="blankets")
    store = w.store(need, forever)
    created = hlc.unix_of(need.hlc)
    assert obj(store, need)["valid_until"] == created + 3600
    assert obj(store, forever)["valid_until"] is None
    assert obj(store, need, now=created + 3599)["status"] == "open"
    assert obj(store, need, now=created + 3600)["status"] == "expired"
    assert obj(store, forever, now=created + 10**8)["status"] == "open"
    later = created + 7200
    expired = q.list_objects(store, q.Filters(status="expired"), now=later)
    open_ = q.list_objects(store, q.Filters(status="open"), now=later)
    assert [row["id"] for row in expired] == [w.anna.rid(need.seq)]
    assert [row["id"] for row in open_] == [w.anna.rid(forever.seq)]
    assert [row["id"] for row in q.open_needs(store, later)] == [w.anna.rid(forever.seq)]
    # renewed: valid for two hours from the update's time
    renew = w.net.update(w.anna, need, valid_for_min=120)
    store.ingest(renew.raw, now=NOW)
    assert obj(store, need)["valid_until"] == hlc.unix_of(renew.hlc) + 7200
    assert obj(store, need, now=later)["status"] == "open"
    # a fulfilled need is fulfilled, not expired
    done = w.net.update(w.anna, need, status=1)
    store.ingest(done.raw, now=NOW)
    assert obj(store, need, now=created + 10**8)["status"] == "fulfilled"


def test_pledge_by_time_and_offer_fields(w: World) -> None:
    need = w.net.need(w.anna)
    pledge = w.net.pledge(w.bo, need, 5, by_min=240, text="truck")
    offer = w.net.offer(w.bo, qty=40, offer_type=1, rate=2, site="Machine shop",
                        position=r.Position.from_degrees(43.3, 5.4))
    store = w.store(need, pledge, offer)
    shown = obj(store, pledge)
    assert shown["by"] == hlc.unix_of(pledge.hlc) + 240 * 60
    assert (shown["need"], shown["text"]) == (w.anna.rid(need.seq), "truck")
    shown = obj(store, offer)
    assert (shown["offer_type"], shown["per"], shown["site"]) == ("capacity", "day", "Machine shop")
    assert shown["position"] == [43.3, 5.4]
    # an empty site falls back to the author's hello
    assert obj(store, need)["site"] == "Pier 3"


def test_membership_table(w: World) -> None:
    dan = w.net.hello(Actor("dan", 5))
    store = w.store(dan, w.net.vouch(w.founder, w.bo, grant=1))
    rows = {m["name"]: m for m in q.members(store)}
    assert rows["founder"]["status"] == "steward"
    assert rows["bo"]["status"] == "steward"
    assert rows["anna"]["status"] == "member" and rows["anna"]["vouchers"] == 1
    assert rows["cy"]["status"] == "not admitted" and rows["cy"]["role"] is None
    assert rows["dan"]["status"] == "not admitted"
    assert [m["name"] for m in q.members(store)][:2] == ["bo", "founder"]  # stewards first


def test_voucher_counts_do_not_depend_on_arrival_order() -> None:
    """A second steward's vouch for an admitted member changes only the count."""
    from ledger_helpers import Net

    co, a, b = Actor("co", 6), Actor("anna", 2), Actor("bo", 3)
    net = Net(costewards=(co,))
    hellos = [net.charter, net.hello(net.founder), net.hello(co), net.hello(a), net.hello(b)]
    first, second, other = net.vouch(net.founder, a), net.vouch(co, a), net.vouch(co, b)
    for order in ((first, second, other), (other, first, second), (second, other, first)):
        store = net.store(*hellos, *order)
        rows = {m["name"]: m["vouchers"] for m in q.members(store)}
        assert rows == {"founder": 0, "co": 0, "anna": 2, "bo": 1}, order
