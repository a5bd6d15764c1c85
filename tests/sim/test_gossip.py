"""B3: push plus Bloom-filter digests, answered by neighbours with what the filter lacks."""

from __future__ import annotations

import random

import pytest

from meshaid.node.sim import baseline_gossip as g
from meshaid.node.sim.baselines import FilterGossip
from meshaid.node.sync import messages as m
from meshaid.node.sync.engine import record_id
from meshaid.node.sync.ports import RxMeta

from .test_baselines import TAG, FakeLedger, author, config, record, records, run


def test_a_filter_holds_its_ids_and_few_others() -> None:
    rng = random.Random(1)
    ids = [rng.randbytes(8) for _ in range(160)]
    payload = g.encode_filter(ids, 5, 9, 10.0, 228 - g.FILTER_HEAD, TAG, salt=3)
    assert len(payload) <= 228 and payload[0] & 0x0F == g.FILTER
    since, until, k, salt, bits = g.decode_filter(payload)
    assert (since, until, k, salt) == (5, 9, 7, 3) and len(bits) == 200
    assert all(g.holds(bits, k, g.salted(rid, salt)) for rid in ids)
    others = [rng.randbytes(8) for _ in range(4000)]
    false = sum(g.holds(bits, k, g.salted(rid, salt)) for rid in others) / len(others)
    assert false < 0.03  # about 1 % at 10 bits per id
    small = g.encode_filter(ids[:3], 0, g.NEWEST, 10.0, 207, TAG)
    assert len(small) == g.FILTER_HEAD + 4  # a small set makes a small packet


def test_an_id_one_filter_wrongly_holds_is_a_fresh_draw_in_the_next() -> None:
    """Salted per round: the same set's filters are different bits, so a record
    one wrongly holds is not hidden from every later round (unsalted, an old
    window's filter repeats and its false positives are never answered)."""
    rng = random.Random(3)
    ids = [rng.randbytes(8) for _ in range(160)]
    others = [rng.randbytes(8) for _ in range(20000)]
    wrong = []
    for salt in (0, 1):
        _, _, k, s, bits = g.decode_filter(g.encode_filter(ids, 0, 9, 10.0, 200, TAG, salt=salt))
        wrong.append({r for r in others if g.holds(bits, k, g.salted(r, s))})
    assert len(wrong[0]) > 50 and len(wrong[1]) > 50
    assert len(wrong[0] & wrong[1]) <= len(wrong[0]) // 10  # independent draws: about 1 %


@pytest.mark.parametrize("hops", [0, 1])
def test_a_neighbour_answers_with_what_the_filter_lacks(hops: int) -> None:
    """At hop 0, or at `b3_hops` (where masts relay our port, both cross them)."""
    rng = random.Random(2)
    ledgers = [FakeLedger(), FakeLedger()]
    raws = [record(rng) for _ in range(5)]
    for raw in raws:
        ledgers[0].sync_ingest(raw, 0.0)
    for raw in raws[:3]:
        ledgers[1].sync_ingest(raw, 0.0)
    cfg = config(b3_period=600.0, **({"b3_hops": hops} if hops else {}))
    nodes = [FilterGossip(ledgers[i], cfg, i, seed=i + 1) for i in range(2)]
    nodes[0].next_filter = 1e9  # only node 1 sends a filter
    nodes[0].started = True
    nodes[1].start(0.0)
    due = nodes[1].next_filter
    assert due is not None and due < 600.0
    sent = run(nodes, due + 30.0)  # type: ignore[arg-type]
    tags = [(i, o.tag, o.hop_limit) for _, i, o in sent]
    assert tags == [(1, "b3-filter", hops), (0, "b3-answer", hops)]
    answer = next(o for _, i, o in sent if o.tag == "b3-answer")
    assert set(records(answer.payload)) == set(raws[3:])
    assert set(ledgers[1].raws.values()) == set(raws)
    assert nodes[1].answered == 2


def test_answers_are_cancelled_when_another_neighbour_answers_first() -> None:
    rng = random.Random(3)
    raw = record(rng)
    ledgers = [FakeLedger() for _ in range(3)]
    nodes = [FilterGossip(ledgers[i], config(), i, seed=i + 1) for i in range(3)]
    for node, ledger in zip(nodes[:2], ledgers[:2], strict=True):
        author(node, ledger, raw, 0.0)
        node.fresh = []
        node.push_due = None
    empty = g.encode_filter([], 0, g.NEWEST, 10.0, 207, TAG)
    for node in nodes:
        node.next_filter = 1e9
        node.started = True
    for node in nodes[:2]:
        node.receive(empty, RxMeta(sender=2), 1.0)
    sent = run(nodes, 100.0, now=1.0)  # type: ignore[arg-type]
    assert [o.tag for _, _, o in sent] == ["b3-answer"]
    assert nodes[0].stats.suppressed + nodes[1].stats.suppressed == 1
    assert record_id(raw) in ledgers[2].raws


def test_a_large_set_is_covered_window_by_window() -> None:
    rng = random.Random(4)
    ledger = FakeLedger()
    node = FilterGossip(ledger, config(), 0, seed=1)
    ids = [rng.randbytes(8) for _ in range(400)]
    for i, rid in enumerate(ids):
        node.ids[rid] = None
        node.hlc[rid] = 1000 + i
    cap = node.capacity
    windows = []
    for r in range(6):
        node.rounds = r
        chunk, since, until = node._window()
        windows.append((len(chunk), since, until))
    newest = (cap, 1000 + 400 - cap, g.NEWEST)
    older = (cap, 1000 + 400 - 2 * cap, 1000 + 399 - cap)
    oldest = (400 - 2 * cap, 0, 1000 + 399 - 2 * cap)
    assert windows == [newest, older, newest, oldest, newest, older]


def test_a_node_that_is_behind_asks_again_soon() -> None:
    rng = random.Random(5)
    ledgers = [FakeLedger(), FakeLedger()]
    for _ in range(60):
        ledgers[0].sync_ingest(record(rng, 90), 0.0)
    cfg = config(b3_period=3600.0, b3_answer_max=24)
    nodes = [FilterGossip(ledgers[i], cfg, i, seed=i + 7) for i in range(2)]
    nodes[0].next_filter = 1e9
    nodes[0].started = True
    nodes[1].start(0.0)
    first = nodes[1].next_filter
    assert first is not None
    run(nodes, first + 400.0)  # type: ignore[arg-type]
    # 24 answers per filter: 24 + 24 + 12 records, then one filter that finds nothing
    # missing; a pull_gap apart each, not an hour
    assert len(ledgers[1].raws) == 60
    assert nodes[1].stats.sent["b3-filter"] == 4
    assert nodes[1].next_filter is not None and nodes[1].next_filter > first + 3000.0
    assert m.RECORDS in nodes[1].kinds


def test_filters_go_through_masts_only_where_no_ledger_node_is_heard() -> None:
    """With `b3_adaptive`: a node that hears a ledger node directly sends its
    filter at hop 0; one that hears none (a house only a mast reaches) at
    `b3_hops`; a filter is answered as far as it came."""
    rng = random.Random(4)
    ledger = FakeLedger()
    raws = [record(rng) for _ in range(3)]
    for raw in raws:
        ledger.sync_ingest(raw, 0.0)
    node = FilterGossip(ledger, config(b3_period=600.0, b3_hops=2, b3_adaptive=1), 0, seed=1)
    node.start(0.0)
    node.next_filter = 10.0
    first = [o for o in node.poll(10.0) if o.tag == "b3-filter"]
    assert [o.hop_limit for o in first] == [2]  # nobody heard directly yet
    empty = g.encode_filter([], 0, g.NEWEST, 10.0, 207, TAG)
    node.receive(empty, RxMeta(sender=7, hops=1), 20.0)  # a filter through one mast
    answers = []
    t = 20.0
    while not answers and t < 60.0:
        t += 1.0
        answers = [o for o in node.poll(t) if o.tag == "b3-answer"]
    assert answers and {o.hop_limit for o in answers} == {1}  # as far as the filter came
    node.receive(empty, RxMeta(sender=8, hops=0), t)  # a ledger node in range
    node.next_filter = t + 1.0
    later = [o for o in node.poll(t + 1.0) if o.tag == "b3-filter"]
    assert [o.hop_limit for o in later] == [0]
