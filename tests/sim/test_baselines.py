"""Baselines B0/B1/B2 against an in-memory ledger and a perfect (or lossy) fake link."""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeAlias

import pytest

from meshaid.node.sim import baselines as b
from meshaid.node.sim.baselines import FullStateFlood, PushAndIdLists, PushOnly
from meshaid.node.sync import messages as m
from meshaid.node.sync.engine import record_id
from meshaid.node.sync.ports import Ingested, Outgoing, RecordInfo, RxMeta, SyncConfig

TAG = b"\x12\x34"
Baseline: TypeAlias = FullStateFlood | PushOnly | PushAndIdLists


class FakeLedger:
    """The `Ledger` port over a dict; records starting with b"BAD" are rejected."""

    def __init__(self) -> None:
        self.raws: dict[bytes, bytes] = {}

    def sync_ingest(self, raw: bytes, now: float, meta: object = None) -> Ingested:
        if raw.startswith(b"BAD"):
            return Ingested("rejected", "bad-signature")
        rid = record_id(raw)
        if rid in self.raws:
            return Ingested("duplicate")
        self.raws[rid] = raw
        return Ingested("accepted", "", RecordInfo(rid, 1, int(now), False, True, b"auth"))

    def sync_infos(self) -> Iterable[RecordInfo]:
        return [RecordInfo(rid, 1, 0, False, True, b"auth") for rid in self.raws]

    def sync_raw(self, rid: bytes) -> bytes | None:
        return self.raws.get(rid)


def config(**extra: float) -> SyncConfig:
    return SyncConfig(network_tag=TAG, airtime=lambda n: 0.2 + n * 0.005, extra=dict(extra))


def record(rng: random.Random, size: int = 100) -> bytes:
    return b"R" + rng.randbytes(size - 1)


def records(payload: bytes) -> tuple[bytes, ...]:
    msg = m.decode(payload)
    assert isinstance(msg, m.Records)
    return msg.records


Drop = Callable[[int, int, Outgoing], bool]


def run(nodes: list[Baseline], until: float, now: float = 0.0,
        drop: Drop = lambda src, dst, out: False) -> list[tuple[float, int, Outgoing]]:
    """Drive the nodes on a fully connected fake link; return what was sent."""
    sent: list[tuple[float, int, Outgoing]] = []
    while True:
        due = [(t, i) for i, n in enumerate(nodes) if (t := n.next_timer()) is not None]
        if not due or min(due)[0] > until:
            return sent
        t, i = min(due)
        now = max(now, t)
        for out in nodes[i].poll(now):
            sent.append((now, i, out))
            for j, other in enumerate(nodes):
                if j != i and not drop(i, j, out):
                    other.receive(out.payload, RxMeta(sender=i), now)


def make(cls: type[Baseline], n: int, cfg: SyncConfig | None = None,
         ) -> tuple[list[Baseline], list[FakeLedger]]:
    ledgers = [FakeLedger() for _ in range(n)]
    nodes = [cls(ledgers[i], cfg or config(), i, seed=i + 1) for i in range(n)]
    for node in nodes:
        node.start(0.0)
    return nodes, ledgers


def author(node: Baseline, ledger: FakeLedger, raw: bytes, now: float) -> None:
    ledger.sync_ingest(raw, now)
    node.local_record(raw, now)


def test_b1_delivers_with_a_perfect_link() -> None:
    rng = random.Random(1)
    nodes, ledgers = make(PushOnly, 3)
    raws = [record(rng) for _ in range(5)]
    for raw in raws:
        author(nodes[0], ledgers[0], raw, 10.0)
    sent = run(nodes, 100.0)
    assert all(set(ledger.raws.values()) == set(raws) for ledger in ledgers)
    assert [n.count for n in nodes] == [5, 5, 5]
    # 5 x 101 bytes in 225-byte packets: three packets, flooded at hop 3, pushed after the delay.
    assert len(sent) == 3 and all(o.hop_limit == 3 and o.tag == "b1-push" for _, _, o in sent)
    assert all(t == 10.0 + nodes[0].cfg.push_delay for t, _, _ in sent)
    assert all(len(o.payload) <= 228 for _, _, o in sent)
    assert nodes[0].stats.sent["b1-push"] == 3 and nodes[1].stats.accepted == 5
    assert nodes[0].next_timer() is None and nodes[1].next_timer() is None  # no repair, ever


def test_b1_loses_a_record_whose_packet_is_dropped() -> None:
    rng = random.Random(2)
    nodes, ledgers = make(PushOnly, 2)
    raw = record(rng)
    author(nodes[0], ledgers[0], raw, 0.0)
    run(nodes, 10 * 3600.0, drop=lambda src, dst, out: True)
    assert nodes[1].count == 0 and record_id(raw) not in ledgers[1].raws
    assert nodes[0].stats.sent["b1-push"] == 1


def test_received_records_are_never_resent_by_b1() -> None:
    rng = random.Random(3)
    nodes, _ = make(PushOnly, 3)
    nodes[1].receive(m.encode(m.Records((record(rng),)), TAG), RxMeta(sender=0), 5.0)
    assert nodes[1].stats.accepted == 1 and nodes[1].next_timer() is None
    assert run(nodes, 3600.0) == []


def test_b2_repairs_a_lost_push_after_an_id_list_round() -> None:
    rng = random.Random(4)
    cfg = config(b2_period=600.0)
    nodes, ledgers = make(PushAndIdLists, 3, cfg)
    lost, kept = record(rng), record(rng)
    author(nodes[0], ledgers[0], lost, 1.0)

    def drop(src: int, dst: int, out: Outgoing) -> bool:
        return out.tag == "b2-push"  # the only flood of `lost` reaches nobody

    run(nodes, 1.0 + cfg.push_delay, drop=drop)
    assert nodes[1].count == 0 and nodes[2].count == 0
    author(nodes[1], ledgers[1], kept, 100.0)
    sent = run(nodes, 100.0 + 600.0 + 60.0, now=2.0)
    assert all(set(ledger.raws.values()) == {lost, kept} for ledger in ledgers)
    tags = [o.tag for _, _, o in sent]
    assert "b2-ids" in tags and "b2-request" in tags and "b2-repair" in tags
    assert all(o.hop_limit == 0 for _, _, o in sent if o.tag != "b2-push")
    assert all(o.hop_limit == 3 for _, _, o in sent if o.tag == "b2-push")
    # Only node 0 holds `lost`; `kept` was pushed and not repaired: one answer per record.
    assert sum(nodes[i].stats.sent["b2-repair"] for i in range(3)) == 1


def test_b2_answers_are_suppressed_when_someone_else_answers_first() -> None:
    rng = random.Random(5)
    nodes, ledgers = make(PushAndIdLists, 3, config(b2_period=1e6))
    raw = record(rng)
    for node, ledger in zip(nodes[:2], ledgers[:2], strict=True):
        ledger.sync_ingest(raw, 0.0)
        node.ids[record_id(raw)] = None
    request = m.encode(m.Request((record_id(raw),)), TAG)
    for node in nodes[:2]:
        node.receive(request, RxMeta(sender=2), 1.0)
    sent = run(nodes, 100.0, now=1.0)
    assert [o.tag for _, _, o in sent] == ["b2-repair"]
    assert nodes[0].stats.suppressed + nodes[1].stats.suppressed == 1
    assert nodes[2].count == 1


def test_b2_does_not_push_what_the_lister_lacks() -> None:
    rng = random.Random(6)
    nodes, ledgers = make(PushAndIdLists, 2, config(b2_period=1e6))
    raw = record(rng)
    ledgers[1].sync_ingest(raw, 0.0)
    nodes[1].ids[record_id(raw)] = None
    nodes[1].receive(b.encode_id_list((b"\x00" * 8,), TAG), RxMeta(sender=0), 1.0)
    out = nodes[1].poll(20.0)
    assert [o.tag for o in out] == ["b2-request"]  # asks for 00..00, offers nothing
    assert m.decode(out[0].payload) == m.Request((b"\x00" * 8,))


def test_b2_id_lists_split_into_packets() -> None:
    rng = random.Random(7)
    ledger = FakeLedger()
    for _ in range(60):
        ledger.sync_ingest(record(rng), 0.0)
    node = PushAndIdLists(ledger, config(b2_period=100.0, b2_full_every=1), 0, seed=1)
    node.start(0.0)
    out = node.poll(100.0)
    assert [o.tag for o in out] == ["b2-ids"] * 3  # 28 + 28 + 4 ids
    ids = [i for o in out for i in b.decode_id_list(o.payload)]
    assert ids == list(ledger.raws) and all(o.hop_limit == 0 for o in out)


def test_b0_refloods_the_full_set_each_period() -> None:
    rng = random.Random(8)
    period = 1000.0
    nodes, ledgers = make(FullStateFlood, 2, config(b0_period=period))
    for _ in range(4):
        ledgers[0].sync_ingest(record(rng), 0.0)
    nodes[0] = FullStateFlood(ledgers[0], config(b0_period=period), 0, seed=9)
    nodes[0].start(0.0)
    first = nodes[0].next_timer()
    assert first is not None and 0.0 <= first < period
    sent = run(nodes, first + 1.0)
    author(nodes[0], ledgers[0], record(rng), first + 1.0)
    assert nodes[0].next_timer() == first + period  # not pushed on its own
    sent += run(nodes, first + 3 * period - 1.0, now=first + 1.0)
    mine = [(t, o) for t, i, o in sent if i == 0]
    floods = sorted({t for t, _ in mine})
    assert floods == [first, first + period, first + 2 * period]
    assert all(o.tag == "b0-state" and o.hop_limit == 3 for _, o in mine)
    per_flood = [sum(len(records(o.payload)) for t, o in mine if t == f) for f in floods]
    assert per_flood == [4, 5, 5]  # the local record waited for the next flood
    assert nodes[1].count == 5 and nodes[1].stats.duplicates > 0


def test_b0_paces_a_large_flood() -> None:
    rng = random.Random(9)
    ledger = FakeLedger()
    for _ in range(200):
        ledger.sync_ingest(record(rng), 0.0)
    cfg = config(b0_period=3600.0)
    node = FullStateFlood(ledger, cfg, 0, seed=2)
    node.start(0.0)
    t = node.next_timer()
    assert t is not None
    first = node.poll(t)
    assert len(first) == 9  # 8 packets' worth of queue, then the app blocks
    total = len(first)
    while (nxt := node.next_timer()) is not None and nxt < t + 3600.0:
        total += len(node.poll(nxt))
    assert total == 100 and node.stats.sent["b0-state"] == 100


@pytest.mark.parametrize("cls", [FullStateFlood, PushOnly, PushAndIdLists])
@pytest.mark.parametrize("payload,reason", [
    (b"", "truncated"),
    (b"\x11", "truncated"),
    (b"\x21\x12\x34", "bad-version"),
    (b"\x1f\x12\x34", "unknown-kind"),
    (b"\x11\x12\x34", "truncated"),
    (b"\x11\x12\x34\x00\x05abcde", "out-of-range"),
    (b"\x11\x12\x34\x00\x64abc", "truncated"),
    (b"\x11\x12\x34\x08\x64abc", "out-of-range"),
    (b"\x11\x99\x99" + b"\x64" + b"R" * 100, "other-network"),
])
def test_bad_bytes_are_counted_never_raised(cls: type[Baseline], payload: bytes,
                                            reason: str) -> None:
    node = cls(FakeLedger(), config(), 0)
    node.receive(payload, RxMeta(sender=1), 1.0)
    assert node.stats.dropped[reason] == 1 and node.count == 0


@pytest.mark.parametrize("cls", [FullStateFlood, PushOnly, PushAndIdLists])
def test_rejected_records_and_random_bytes(cls: type[Baseline]) -> None:
    rng = random.Random(10)
    node = cls(FakeLedger(), config(), 0)
    node.receive(m.encode(m.Records((b"BAD" + rng.randbytes(97),)), TAG), RxMeta(sender=1), 1.0)
    assert node.stats.dropped["bad-signature"] == 1 and node.count == 0
    for _ in range(500):
        node.receive(bytes([rng.choice([0x11, 0x14, 0x1E])]) + TAG
                     + rng.randbytes(rng.randrange(0, 240)), RxMeta(sender=1), 2.0)
    node.receive(b.encode_id_list((), TAG), RxMeta(sender=1), 3.0)
    node.poll(10.0)


def test_foreign_network_tag_is_dropped_for_every_kind() -> None:
    rng = random.Random(11)
    node = PushAndIdLists(FakeLedger(), config(), 0)
    other = b"\xab\xcd"
    for payload in (m.encode(m.Records((record(rng),)), other),
                    m.encode(m.Request((b"\x01" * 8,)), other),
                    b.encode_id_list((b"\x01" * 8,), other)):
        node.receive(payload, RxMeta(sender=1), 1.0)
    assert node.stats.dropped["other-network"] == 3
    assert node.count == 0 and node.next_timer() is not None and not node.wanted


def test_deterministic_for_a_seed() -> None:
    def trace(seed: int) -> list[tuple[float, int, bytes]]:
        rng = random.Random(12)
        ledgers = [FakeLedger() for _ in range(3)]
        nodes: list[Baseline] = [PushAndIdLists(ledgers[i], config(b2_period=300.0), i,
                                                seed=seed + i) for i in range(3)]
        for node in nodes:
            node.start(0.0)
        for k in range(6):
            author(nodes[k % 3], ledgers[k % 3], record(rng), 5.0 * k)
        sent = run(nodes, 2000.0, drop=lambda s, d, o: (s + d + len(o.payload)) % 3 == 0)
        return [(t, i, o.payload) for t, i, o in sent]

    assert trace(1) == trace(1)
    assert trace(1) != trace(2)


def test_no_forbidden_imports() -> None:
    tree = ast.parse(Path(b.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names}
    names |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert not names & {"meshtastic", "sqlite_utils", "textual", "asyncio", "time", "threading"}


def test_b2_lists_only_new_ids_with_a_full_list_every_few_rounds() -> None:
    rng = random.Random(13)
    ledger = FakeLedger()
    for _ in range(30):
        ledger.sync_ingest(record(rng), 0.0)
    node = PushAndIdLists(ledger, config(b2_period=100.0, b2_full_every=3, b2_repeat=1), 0,
                          seed=1)
    node.start(0.0)
    rounds: list[list[bytes]] = []
    fresh: list[bytes] = []
    t = 0.0
    for k in range(6):
        raw = record(rng)
        author(node, ledger, raw, t + 1.0)
        fresh.append(record_id(raw))
        due = node.next_list
        assert due is not None
        t = due
        while (nxt := node.next_timer()) is not None and nxt <= t:
            out = node.poll(nxt)
            rounds.append([i for o in out if o.tag == "b2-ids" for i in b.decode_id_list(o.payload)])
    lists = [r for r in rounds if r]
    assert len(lists) == 6
    for k, ids in enumerate(lists):
        if (k + 1) % 3 == 0:
            assert len(ids) == 30 + k + 1  # the full list: everything held
        else:
            assert ids == fresh[k:k + 1]  # only what is new since the last list


def test_b2_sends_a_full_packet_of_new_ids_without_waiting_for_the_round() -> None:
    rng = random.Random(14)
    nodes, ledgers = make(PushAndIdLists, 2, config(b2_period=1e6, b2_batch=28))
    raws = [record(rng, 60) for _ in range(30)]
    for raw in raws:
        author(nodes[0], ledgers[0], raw, 1.0)
    sent = run(nodes, 100.0)
    lists = [o for _, i, o in sent if i == 0 and o.tag == "b2-ids"]
    assert len(lists) == 1 and len(b.decode_id_list(lists[0].payload)) == 28
    assert len(nodes[0].unlisted) == 2  # the rest waits for a packet's worth or the round


def test_b2_is_silent_while_nothing_is_new() -> None:
    rng = random.Random(15)
    nodes, ledgers = make(PushAndIdLists, 3, config(b2_period=600.0, b2_full_every=8))
    author(nodes[0], ledgers[0], record(rng), 1.0)
    run(nodes, 1200.0)
    later = run(nodes, 600.0 * 7, now=1200.0)
    assert [o.tag for _, _, o in later] == []  # no new ids, no full round yet


def test_b2_lists_a_new_id_in_two_rounds_so_one_lost_list_is_not_fatal() -> None:
    rng = random.Random(16)
    ledger = FakeLedger()
    node = PushAndIdLists(ledger, config(b2_period=100.0, b2_full_every=100), 0, seed=1)
    node.start(0.0)
    rounds = []
    fresh = []
    for _ in range(3):
        raw = record(rng)
        due = node.next_list
        assert due is not None
        author(node, ledger, raw, due - 1.0)
        fresh.append(record_id(raw))
        out = node.poll(due)
        rounds.append([i for o in out if o.tag == "b2-ids" for i in b.decode_id_list(o.payload)])
    assert rounds == [fresh[:1], fresh[:2], fresh[1:3]]


def test_b2_lists_everything_soon_when_a_neighbour_knows_much_more() -> None:
    rng = random.Random(17)
    ledger = FakeLedger()
    mine = [record(rng) for _ in range(5)]
    for raw in mine:
        ledger.sync_ingest(raw, 0.0)
    node = PushAndIdLists(ledger, config(b2_period=1e5), 0, seed=1)
    node.start(0.0)
    theirs = tuple(bytes([i]) * 8 for i in range(1, 9))
    node.receive(b.encode_id_list(theirs[:7], TAG), RxMeta(sender=1), 10.0)
    assert node.full_due is None  # 7 unknown ids: an ordinary new-id list
    node.receive(b.encode_id_list(theirs, TAG), RxMeta(sender=1), 11.0)
    due = node.full_due
    assert due is not None and 11.0 < due <= 11.0 + 8.0
    out = node.poll(due)
    listed = [i for o in out if o.tag == "b2-ids" for i in b.decode_id_list(o.payload)]
    assert listed == [record_id(raw) for raw in mine]
    node.receive(b.encode_id_list(theirs, TAG), RxMeta(sender=2), due + 10.0)
    assert node.full_due is None  # at most once a round
