"""A new record spreads by push and relay; urgency sets the pace; idle meshes stay quiet."""

from __future__ import annotations

import pytest

from meshaid.node.sync import messages as m
from meshaid.node.sync.budget import BULK, CATCH_UP, NORMAL, URGENT

from .harness import HOUR, T0, Radio, clique, line, rid, ring
from .meshes import fresh_mesh, spread


@pytest.mark.parametrize("warm_s", [0.0, 600.0, 7200.0])
@pytest.mark.parametrize(("shape", "n"), [("line", 4), ("ring", 6)])
def test_a_new_record_reaches_every_node_by_push_and_relay(shape: str, n: int,
                                                           warm_s: float) -> None:
    """No loss: a record authored on node 0 reaches every node in a line of 4 and a
    ring of 6 within seconds per hop, by push and relays alone, however long the
    mesh has been up (neighbour lists learned or not)."""
    mesh = fresh_mesh(n, line(n) if shape == "line" else ring(n), seed=n)
    mesh.run_for(warm_s)
    before = len(mesh.sent)
    raw = mesh.need(0, "clean water")
    got = spread(mesh, raw, 3 * HOUR)
    assert sorted(got) == list(range(n)), f"never reached {set(range(n)) - set(got)}"
    hops = n - 1 if shape == "line" else n // 2
    # push_delay + per hop at most the forward window (30 s) and the air time.
    assert max(got.values()) <= 2.0 + hops * 33.0, got
    # Pushed and relayed, not repaired: nobody had to ask for it or send it as a repair.
    for s in mesh.sent[before:]:
        msg = m.decode(s.out.payload)
        if isinstance(msg, m.Request):
            assert rid(raw) not in msg.ids, f"node {s.node} had to request it"
        if isinstance(msg, m.Records) and s.out.tag not in ("push", "forward"):
            assert raw not in msg.records, f"node {s.node} sent it as {s.out.tag}"
    mesh.run_for(HOUR)
    mesh.assert_converged()


def test_urgent_records_go_at_once_and_others_are_batched() -> None:
    mesh = fresh_mesh(2, line(2))
    mesh.run_for(60.0)
    before = len(mesh.sent)
    t0 = mesh.now
    mesh.need(0, "insulin, today", urgency=3)
    urgent = [s for s in mesh.sent[before:] if s.out.tag == "push"]
    assert urgent and urgent[0].t == t0 and urgent[0].out.priority == URGENT
    before = len(mesh.sent)
    raws = [mesh.need(0, f"blankets {i}") for i in range(2)]
    assert not [s for s in mesh.sent[before:] if s.out.tag == "push"], "not batched"
    mesh.run_for(mesh.engines[0].cfg.push_delay + 0.5)
    pushes = [s for s in mesh.sent[before:] if s.out.tag == "push"]
    assert len(pushes) == 1
    packet = m.decode(pushes[0].out.payload)
    assert isinstance(packet, m.Records) and set(packet.records) == set(raws)
    assert len(pushes[0].out.payload) <= mesh.engines[0].cfg.payload_cap


def test_every_packet_is_broadcast_to_neighbours_within_the_cap() -> None:
    mesh = fresh_mesh(4, clique(4), radio=Radio(loss=0.2))
    for i in range(12):
        mesh.need(i % 4, f"need {i} " + "x" * (1 + i * 5))
        mesh.run_for(100.0)
    mesh.run_for(2 * HOUR)
    for s in mesh.sent:
        assert len(s.out.payload) <= 228
        assert s.out.dest is None and s.out.hop_limit == 0
        assert s.out.priority in (URGENT, NORMAL, CATCH_UP, BULK)
        kind = {"digest": m.DIGEST, "sketch": m.SKETCH, "request": m.REQUEST, "more": m.MORE,
                "pull": m.PULL}.get(s.out.tag, m.RECORDS)
        assert m.peek(s.out.payload)[0] == kind, s.out.tag
    mesh.assert_converged()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_idle_agreeing_clique_sends_few_digests_and_nothing_else(seed: int) -> None:
    """Five nodes that agree: Trickle grows to imax, so from the second idle hour on
    the neighbourhood hears at most a few digests an hour, and nothing else - under
    0.1 % of the channel (the issue's idle target)."""
    mesh = fresh_mesh(5, clique(5), seed=seed, history=30)
    mesh.run_for(5 * HOUR)
    for hour in range(1, 5):
        start, end = T0 + hour * HOUR, T0 + (hour + 1) * HOUR
        digests = mesh.count_sent("digest", start, end)
        assert digests <= 4, f"{digests} digests in idle hour {hour + 1}"
        air = sum(s.cost for s in mesh.sent if start <= s.t < end)
        assert air <= 0.001 * HOUR, f"{air:.1f} s on air in idle hour {hour + 1}"
    assert {s.out.tag for s in mesh.sent} == {"digest"}
    assert mesh.late_timers == 0
    # Idle engines sleep: a handful of wake-ups per node per hour, not polling.
    assert max(mesh.polls) <= 5 * 15
