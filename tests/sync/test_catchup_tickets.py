"""Members' pull tickets (node/sync/ticket.py, PROTOCOL.md §9 "Members' pulls"):
an admitted member catching up pulls without paying for every answer with its
own air; a ticket proves nothing in another node's name or another key's."""

from __future__ import annotations

import random

from meshaid.node.ledger import identity
from meshaid.node.sync import messages as m
from meshaid.node.sync import ticket as tk
from meshaid.node.sync.bootstrap import PAD_AFTER, Bootstrap
from meshaid.node.sync.engine import record_id
from meshaid.node.sync.ports import SyncConfig
from meshaid.node.sync.relays import Peer
from meshaid.node.sync.serving import NO_ID, PARTS
from meshaid.node.sync.streams import Stream

from .harness import HOUR, Ledger, Mesh, Radio, clone


def _joiner_mesh(signed: bool) -> Mesh:
    """A full node (0) and an empty joiner (1, member 1 of the network), in range."""
    ledger = Ledger(4, seed=7, history=160)
    mesh = Mesh(ledger, [clone(ledger.full), clone(ledger.bare)], [(0, 1)], Radio(), seed=3)
    mesh.engines[1].budget.limit_s = 40.0  # a joiner with little air of its own
    if signed:
        mesh.engines[1].signer = identity.signer(ledger.keys[1])
    return mesh


def test_a_member_joiner_catches_up_beyond_its_own_air() -> None:
    """The joiner's own budget (40 s an hour) caps what padded pulls can pay for;
    with its ticket the responder answers each short pull with up to
    `pull_batch` packets from the member's allowance."""
    held = {}
    for signed in (False, True):
        mesh = _joiner_mesh(signed)
        mesh.run_for(HOUR)
        held[signed] = mesh.engines[1].count
        pulls = [m.decode(s.out.payload) for s in mesh.sent if s.node == 1 and s.out.tag == "pull"]
        answers = [s for s in mesh.sent if s.node == 0 and s.out.tag == "pull-records"]
        assert pulls and all(isinstance(p, m.Pull) for p in pulls)
        if signed:
            # Once its own ledger counts its key admitted, it pulls unpadded, and its
            # ticket goes along only now and then (first, and after a silence).
            plain = [p for p in pulls if isinstance(p, m.Pull) and not p.pad]
            tickets = [p for p in pulls if isinstance(p, m.Pull) and p.ticket]
            assert len(plain) >= len(pulls) / 3
            assert 1 <= len(tickets) < len(pulls) / 2
            assert len(answers) > len(pulls)  # more than one packet a pull
        else:
            assert all(isinstance(p, m.Pull) and p.pad and not p.ticket for p in pulls)
    assert held[True] > 1.5 * held[False], held


def test_a_member_keeps_pulling_unpadded_through_one_unanswered_pull() -> None:
    """late-joiner-2000: responders answer pulls in their bulk band, so an answer
    often comes after the next pull is due; that pull went padded (ticket inside)
    and the joiner's own air, 130 s of pulls an hour, capped its catch-up. Now a
    member pads again only after PAD_AFTER unanswered pulls in a row."""
    boot = Bootstrap(SyncConfig(b"nt", lambda n: n / 200.0), random.Random(1), node=5)
    boot.confirmed.add(9)
    ahead = {9: Peer(count=20_000, last=90.0)}  # far ahead of our 10,000 records
    sent: list[m.Message] = []
    for silent in range(PAD_AFTER + 1):
        boot.streams = {0: Stream(responder=9, cursor=b"", due=0.0, silent=silent)}
        boot.shown[9] = -1e9 if silent else 100.0  # (ticket last shown long ago, or lately)
        boot.poll(lambda msg, tag, prio: sent.append(msg) or True, 100.0, ahead, 10_000, 90.0,
                  lambda who, msg: True, ticket=lambda who: b"T" * m.TICKET_LEN)
    pulls = [p for p in sent if isinstance(p, m.Pull)]
    assert [bool(p.pad) for p in pulls] == [False] * PAD_AFTER + [True]
    assert all(p.ticket for p in pulls[1:])  # after a silence the ticket goes along


def test_a_stream_dropped_for_want_of_credit_goes_on_from_its_cursor() -> None:
    """late-joiner-2000, seed 1: a stream whose responder was not (or no longer)
    confirmed and whose credit here could not pay for the next pull was dropped,
    and the next one for its partition started from the beginning of the ledger:
    636 restarts in 14 h, 1,988 records pulled twice, and the joiner held 873 of
    1,923 records at the end. Now the partition's next stream (any responder:
    the order is the same on every node) goes on from the cursor."""
    boot = Bootstrap(SyncConfig(b"nt", lambda n: n / 200.0), random.Random(1), node=5)
    cursor = bytes([1]) + (123456).to_bytes(6, "big") + b"r" * 8
    boot.passing = True  # a joiner's first pass
    boot.streams = {0: Stream(responder=9, cursor=cursor, due=0.0)}
    ahead = {9: Peer(count=20_000, last=90.0), 11: Peer(count=20_000, last=90.0)}
    boot.poll(lambda msg, tag, prio: True, 100.0, ahead, 10_000, 90.0,
              lambda who, msg: False)  # 9's credit here pays for no pull
    assert 0 not in boot.streams  # (11 is no responder we pull from yet: no probe at once)
    assert boot.behind(ahead, 10_000, 101.0)
    assert boot.streams[0].responder == 11 and boot.streams[0].cursor == cursor
    assert all(s.cursor == b"" for p, s in boot.streams.items() if p != 0)


def test_partitions_take_turns_when_the_budget_allows_fewer_pulls_than_are_due() -> None:
    """A tight budget allowed one pull in three: in partition order, partition 0
    took every one, ran on past the membership class into records whose
    authors' hellos the others held, and the joiner dropped them
    (unknown-author). Now the stream due longest goes first."""
    boot = Bootstrap(SyncConfig(b"nt", lambda n: n / 200.0), random.Random(1), node=5)
    boot.confirmed.add(9)
    ahead = {9: Peer(count=500, last=90.0)}
    boot.streams = {p: Stream(responder=9, cursor=b"", due=10.0 * (2 - p)) for p in range(3)}
    parts: list[int] = []
    for k in range(6):
        now = 100.0 + 60.0 * k
        sent: list[m.Message] = []

        def emit(msg: m.Message, tag: str, prio: int, sent: list[m.Message] = sent) -> bool:
            if sent:
                return False  # the budget allows one pull per poll
            sent.append(msg)
            return True

        boot.poll(emit, now, ahead, 0, 90.0, lambda who, msg: True)
        parts += [p.part for p in sent if isinstance(p, m.Pull)]
        for stream in boot.streams.values():  # each answered: due again at once
            stream.silent, stream.due = 0, min(stream.due, now)
    assert sorted(parts[:3]) == [0, 1, 2] and sorted(parts[3:]) == [0, 1, 2], parts


def test_a_joiner_not_yet_admitted_here_shows_its_ticket_in_its_padded_pulls() -> None:
    """blockaded-port: a joiner met its own vouch two hours after joining, its
    padded pulls bound by its own budget all the while, though its responders
    counted it admitted from the start. It now shows its ticket to a responder
    it probes (unpadded: a responder that believes it answers from its
    allowance) and pads, ticket inside, only where such asks go unanswered."""
    mesh = _joiner_mesh(True)
    mesh.run_for(120.0)
    pulls = [m.decode(s.out.payload) for s in mesh.sent if s.node == 1 and s.out.tag == "pull"]
    assert pulls and isinstance(pulls[0], m.Pull)
    assert pulls[0].ticket and not pulls[0].pad
    assert mesh.engines[0].stats.dropped["bad-ticket"] == 0
    assert mesh.engines[0].answers.members.allow.spend(1, 0.0, mesh.now)  # believed


def test_a_ticket_that_failed_is_checked_again_once_a_vouch_arrives() -> None:
    """A responder that did not yet hold the puller's vouch remembers its ticket
    as bad; once its membership changes, the same ticket is checked again."""
    ledger = Ledger(4, seed=9, history=0)
    mesh = Mesh(ledger, [clone(ledger.bare)], [], seed=2)
    mesh.run_for(1.0)
    engine = mesh.engines[0]
    tag = ledger.network[:2]
    ticket = tk.make(identity.signer(ledger.keys[2]), tag, 77, 0)
    assert not engine.answers.members.believe(77, ticket, mesh.now)
    assert not engine.answers.members.believe(77, ticket, mesh.now)
    assert engine.stats.dropped["bad-ticket"] == 2
    for raw in ledger.setup:  # the hellos and vouches arrive
        engine.ledger.sync_ingest(raw, mesh.now)
    assert engine.answers.members.believe(77, ticket, mesh.now)


def test_urgent_records_a_pull_brings_are_not_watched_for_neighbours_that_lack_them() -> None:
    """A pull answer serves history: the vouches and critical needs it brings are
    not news our neighbours may have missed. Watched, a joiner on blockaded-port
    re-sent them to neighbours that held them: 146 s of its air, a third of it,
    while its pulls waited for that budget."""
    mesh = _joiner_mesh(True)
    watched = 0
    for _ in range(20):
        mesh.run_for(30.0)
        watched = max(watched, len(mesh.engines[1].watch.entries))
    assert mesh.engines[1].count > 10  # it pulled the vouches, urgent records
    assert watched == 0
    assert not any(s.node == 1 and s.out.tag == "recheck" for s in mesh.sent)


def test_a_node_past_its_first_pass_pulls_again_from_responders_that_proved_themselves() -> None:
    """late-joiner-2000, seed 1: the joiner's first pass ended 800 records short
    (1,107 of 1,916); it then held more than `boot_gap` records, so it probed a
    claim only with air the claimant had spent here, and its quiet neighbours
    (a digest an hour) never paid for one: it held 1,107 records for the last
    seven hours, and the gap was too wide for a sketch. A responder whose
    answers brought new records (in any pass, until one brings nothing) is now
    pulled from without that credit, and preferred."""
    cfg = SyncConfig(b"nt", lambda n: n / 200.0)
    ahead = {9: Peer(count=1_916, last=90.0), 4: Peer(count=1_990, last=90.0)}
    for proven in (False, True):
        boot = Bootstrap(cfg, random.Random(1), node=5)
        if proven:
            boot.proven[9] = None
        assert boot.behind(ahead, 1_107, 100.0)
        assert boot._ahead(ahead, 1_107, cfg.boot_gap, 100.0)[0] == (9 if proven else 4)
        sent: list[m.Message] = []
        for now in (103.0, 106.0):
            boot.poll(lambda msg, tag, prio, sent=sent: sent.append(msg) or True, now, ahead,
                      1_107, 90.0, lambda who, msg: False)  # no credit of theirs pays a probe
        targets = [p.target for p in sent if isinstance(p, m.Pull)]
        assert targets == ([9] * len(targets) if proven else []) and (targets or not proven)
        if proven:
            boot._doubt(9, 110.0)  # a pull that brought nothing: proven no more
            assert 9 not in boot.proven


def _pulled(boot: Bootstrap, now: float, ahead: dict[int, Peer]) -> list[m.Pull]:
    sent: list[m.Message] = []
    boot.poll(lambda msg, tag, prio: sent.append(msg) or True, now, ahead, 10_000, 90.0,
              lambda who, msg: True, ticket=lambda who: b"T" * m.TICKET_LEN)
    return [p for p in sent if isinstance(p, m.Pull)]


def test_a_responder_that_answered_our_plain_pulls_is_not_paid_padding_when_silent() -> None:
    """late-joiner-2000: a responder that believes our ticket falls silent when
    its bulk band is spent (most often serving us); padded pulls bought it no
    air and cost the joiner about a third of its own. Within the hour its
    belief holds, a silence is waited out with plain pulls."""
    ahead = {9: Peer(count=20_000, last=90.0)}
    batch = _partition_records(0, 2)
    for answered in (False, True):
        boot = Bootstrap(SyncConfig(b"nt", lambda n: n / 200.0), random.Random(1), node=5)
        boot.confirmed.add(9)
        boot.streams = {0: Stream(responder=9, cursor=b"", due=0.0)}
        first = _pulled(boot, 100.0, ahead)
        assert first and not first[0].pad
        if answered:  # it answered our plain pull
            boot.answer(m.Records(batch, relay=False, after=NO_ID),
                        [record_id(raw) for raw in batch], 9, 101.0, [True, True])
        stream = boot.streams[0]
        stream.silent, stream.due = PAD_AFTER + 1, 0.0  # then silence
        later = _pulled(boot, 2000.0, ahead)
        assert later and bool(later[0].pad) is not answered, answered


def test_a_batch_that_comes_slowly_is_waited_for_not_pulled_again() -> None:
    """A responder paces a batch by its budget's minute; a re-pull `pull_gap`
    after each packet cut every batch short (0.8 pulls per answer packet on
    late-joiner-2000). The next pull now waits for the batch's last packet, or
    `pull_timeout` for the rest."""
    cfg = SyncConfig(b"nt", lambda n: n / 200.0)
    boot = Bootstrap(cfg, random.Random(1), node=5)
    boot.confirmed.add(9)
    boot.streams = {0: Stream(responder=9, cursor=b"", due=0.0)}
    ahead = {9: Peer(count=20_000, last=90.0)}
    records = _partition_records(0, cfg.pull_batch)
    (pull,) = _pulled(boot, 100.0, ahead)
    assert not pull.pad  # a member's plain pull: up to `pull_batch` packets
    after, now = NO_ID, 101.0
    for k, raw in enumerate(records):
        boot.answer(m.Records((raw,), relay=False, after=after), [record_id(raw)], 9, now,
                    [True])
        last = k == len(records) - 1
        assert boot.streams[0].due == now + (cfg.pull_gap if last else cfg.pull_timeout)
        after, now = record_id(raw), now + 20.0


def _partition_records(part: int, count: int) -> tuple[bytes, ...]:
    """`count` records whose ids fall in partition `part`, in serving order."""
    ledger = Ledger(2, seed=5, history=60)
    ours = [raw for raw in ledger.history if record_id(raw)[0] % PARTS == part]
    assert len(ours) >= count
    return tuple(ours[:count])


def test_a_partition_no_probe_can_pay_for_goes_to_a_responder_we_pull_from() -> None:
    """blockaded-port: a joiner past its first 48 records gave its third
    partition to an idle neighbour whose air heard here paid for no probe,
    dropped the stream, and gave it to the same neighbour at the next digest:
    for hours one partition in three was pulled from nobody. Now that neighbour
    gets no stream for a while, and the partition goes at once to a responder
    it pulls from."""
    boot = Bootstrap(SyncConfig(b"nt", lambda n: n / 200.0), random.Random(1), node=5)
    boot.passing = True
    boot.confirmed |= {1, 9}
    ahead = {n: Peer(count=600, last=90.0) for n in (1, 9, 21)}
    boot.streams = {0: Stream(responder=1, due=0.0), 1: Stream(responder=9, due=0.0),
                    2: Stream(responder=21, due=0.0)}
    sent: list[m.Message] = []
    boot.poll(lambda msg, tag, prio: sent.append(msg) or True, 100.0, ahead, 100, 90.0,
              lambda who, msg: who != 21)  # 21's air heard here pays for nothing
    assert {p.target for p in sent if isinstance(p, m.Pull)} == {1, 9}
    assert boot.streams[2].responder in (1, 9)  # not left to the next digest
    assert boot.behind(ahead, 100, 101.0) and boot.streams[2].responder in (1, 9)
    assert boot.behind(ahead, 100, 100.0 + 3600.0)  # later, 21 is tried again
    assert 21 in {s.responder for s in boot.streams.values()}
