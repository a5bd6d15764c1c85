"""Expiry, renewal prompts, uncovered urgent needs and quiet sites: derived from
the ledger alone, on fixed clocks, the same whatever order records arrived in."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import NOW, World

from meshaid.node import actions
from meshaid.node.ledger import hlc
from meshaid.node.ledger import records as r
from meshaid.node.store import Store, attention
from meshaid.node.store import queries as q

H = 3600


def at(t: float) -> int:
    return hlc.from_unix(t)


def story() -> tuple[World, list[r.Record], dict[str, r.Record]]:
    """Anna's critical need (2 days) and normal offer (1 day), Bo's high need
    with no pledge and his pledge on a need that expires in 2 hours."""
    w = World.build()
    net, anna, bo = w.net, w.anna, w.bo
    recs = {
        "oxygen": net.sign(anna, r.Need(3, "oxygen", 4, 0, 3, 2880), at=at(NOW)),
        "pots": net.sign(anna, r.Offer(39, "stock pots", 40, 0, 0, 0, 1440), at=at(NOW + 1)),
        "blankets": net.sign(bo, r.Need(4, "blankets", 180, 0, 2, 0), at=at(NOW + 2)),
        "bread": net.sign(anna, r.Need(2, "bread", 50, 0, 1, 120), at=at(NOW + 3)),
    }
    recs["loaves"] = net.sign(bo, r.Pledge(anna.short, recs["bread"].seq, 20), at=at(NOW + 4))
    return w, [*w.base, *recs.values()], recs


def ids(rows: list[dict], key: str = "id") -> list[str]:
    return [row[key] for row in rows]


def test_renewal_prompts_before_and_after_expiry() -> None:
    w, records, recs = story()
    store = w.net.store(*records)
    oxygen, pots, bread = (w.anna.rid(recs[k].seq) for k in ("oxygen", "pots", "bread"))
    assert attention.renewals(store, w.anna.pub, NOW + H) == []
    # bread was posted for 2 hours: asked in its last half hour
    assert ids(attention.renewals(store, w.anna.pub, NOW + 95 * 60)) == [bread]
    due = attention.renewals(store, w.anna.pub, NOW + 19 * H)  # pots: 5 of 24 hours left
    assert ids(due) == [bread, pots] and due[0]["expired"] and not due[1]["expired"]
    assert due[1]["question"] == "still available?" and due[1]["renew_min"] == 1440
    due = attention.renewals(store, w.anna.pub, NOW + 40 * H)
    assert ids(due) == [bread, pots, oxygen]
    assert due[1]["expired"] and not due[2]["expired"]
    assert due[2]["question"] == "still needed?" and due[2]["renew_min"] == 2880
    assert attention.renewals(store, w.bo.pub, NOW + 40 * H) == []  # only the author's own
    assert attention.renewals(store, w.anna.pub, NOW + 48 * H + 7 * 24 * H + 1) == []


def test_renewing_brings_an_expired_record_back() -> None:
    w, records, recs = story()
    store = w.net.store(*records)
    later = NOW + 30 * H
    store.wall = lambda: later
    pots = w.anna.rid(recs["pots"].seq)
    assert q.get_object(store, pots, later)["status"] == "expired"
    assert pots in ids(q.list_objects(store, q.Filters(status="expired"), later))
    assert pots not in ids(q.list_objects(store, q.Filters(status="open"), later))
    actions.update(store, w.anna.key, pots, renew=1440, now=later)
    row = q.get_object(store, pots, later)
    assert row["status"] == "open" and row["valid_until"] >= later + 1440 * 60
    assert pots not in ids(attention.renewals(store, w.anna.pub, later))


def test_expired_need_keeps_its_open_pledge_and_says_so() -> None:
    w, records, recs = story()
    store = w.net.store(*records)
    bread, loaves = w.anna.rid(recs["bread"].seq), w.bo.rid(recs["loaves"].seq)
    assert attention.expired_pledges(store, NOW + H) == []
    late = NOW + 3 * H
    assert q.get_object(store, bread, late)["status"] == "expired"
    pledge = q.get_object(store, loaves, late)
    assert pledge["status"] == "open"  # never cancelled silently
    assert q.get_object(store, bread, late)["pledged"] == 20
    flagged = attention.expired_pledges(store, late)
    assert [(p["pledge"], p["need"]) for p in flagged] == [(loaves, bread)]
    assert attention.expired_pledges(store, late, w.bo.pub) == flagged  # the pledger
    assert attention.expired_pledges(store, late, w.anna.pub) == flagged  # the need's author
    assert attention.expired_pledges(store, late, w.founder.pub) == []


def test_uncovered_urgent_needs_are_flagged_in_time_and_first() -> None:
    w, records, recs = story()
    store = w.net.store(*records)
    oxygen, blankets = w.anna.rid(recs["oxygen"].seq), w.bo.rid(recs["blankets"].seq)
    assert attention.uncovered(store, NOW + 59 * 60) == []
    assert ids(attention.uncovered(store, NOW + H + 5)) == [oxygen]
    flagged = attention.uncovered(store, NOW + 6 * H + 5)
    assert ids(flagged) == [oxygen, blankets]  # critical before high
    assert flagged[0]["urgency"] == "critical" and flagged[0]["waiting_s"] == 6 * H + 5
    # a pledge covers it on every node that holds the pledge
    store.ingest(w.net.sign(w.bo, r.Pledge(w.anna.short, recs["oxygen"].seq, 1)).raw, now=NOW)
    assert ids(attention.uncovered(store, NOW + 6 * H + 5)) == [blankets]
    # expired needs are not escalated; the normal-urgency need never is
    assert ids(attention.uncovered(store, NOW + 60 * H)) == [blankets]


def test_quiet_sites() -> None:
    w = World.build()
    net = w.net
    records = list(w.base)
    for i in range(6):  # Anna posts every 10 minutes, Bo only twice
        records.append(net.sign(w.anna, r.Need(1, f"water {i}", 1, 0, 1, 0),
                                at=at(NOW + i * 600)))
    records.append(net.sign(w.bo, r.Need(1, "late", 1, 0, 1, 0), at=at(NOW)))
    store = net.store(*records)
    last = NOW + 5 * 600

    def quiet(now: float, exclude: bytes | None = None) -> list[tuple[str, int, int]]:
        return [(x["name"], x["usual_s"], x["silent_s"])
                for x in attention.quiet_sites(store, now, exclude) if x["name"] != "founder"]
    assert quiet(last + 5 * H) == []  # under the 6-hour floor
    assert quiet(last + 7 * H) == [("anna", 600, 7 * H)]  # bo: too few records to say
    assert quiet(last + 7 * H, exclude=w.anna.pub) == []


@settings(max_examples=20)
@given(st.permutations(range(len(story()[1]))), st.sampled_from([H + 5, 19 * H, 40 * H]))
def test_flags_do_not_depend_on_arrival_order(order: list[int], offset: int) -> None:
    w, records, _ = story()
    reference = w.net.store(*records)
    shuffled = Store.open(":memory:")
    shuffled.expect_network(w.net.code)
    for i in order:
        shuffled.ingest(records[i].raw, now=NOW)
    for me in (w.anna.pub, w.bo.pub):
        assert attention.summary(shuffled, NOW + offset, me) == attention.summary(
            reference, NOW + offset, me)
