"""Two meshes joined by bridges over a simulated broker, in virtual time: flaps,
a long split, a broker restart, a full broker queue, two bridges in one mesh."""

from __future__ import annotations

from meshaid.node.bridge.simnet import BridgedSim, two_meshes

HOUR = 3600.0


def bridged(hours: float = 8.0, bridges: dict[int, str] | None = None, **kw: float) -> BridgedSim:
    sim = BridgedSim(two_meshes(6, hours=hours, rate=1.0, history=40, **kw),
                     bridges=bridges or {0: "port", 6: "hills"})
    sim.begin()
    return sim


def test_meshes_stay_apart_without_the_link_and_converge_after_each_flap() -> None:
    sim = bridged()
    broker = sim.broker
    assert broker is not None
    broker.cut("port")
    sim.events.run_until(HOUR)
    assert sim.missing() > 0  # two separate meshes, each with its own news
    for cycle in range(3):
        broker.heal("port")
        assert sim.settle(sim.events.now + 0.5 * HOUR) is not None, f"heal {cycle}"
        broker.cut("port")
        sim.events.run_until(sim.events.now + 0.5 * HOUR)
    broker.heal("port")
    assert sim.settle(sim.events.now + 0.5 * HOUR) is not None
    # only records crossed: each mesh's engines saw no foreign digests or sketches
    for n in (0, 6):
        assert sim.glues[n].counts.to_radio > 0 and sim.glues[n].counts.to_ip > 0


def test_a_four_hour_split_and_a_broker_restart_heal() -> None:
    sim = bridged(hours=7.0)
    broker = sim.broker
    assert broker is not None
    sim.events.run_until(0.5 * HOUR)
    assert sim.settle(sim.events.now + 0.5 * HOUR) is not None
    broker.cut("port")
    broker.cut("hills")
    sim.events.run_until(sim.events.now + 4 * HOUR)
    behind = sim.missing()
    assert behind > 40  # four hours of posts on each side
    broker.heal("port")
    broker.heal("hills")
    sim.events.run_until(sim.events.now + 60.0)
    broker.restart(down_s=120.0)
    assert sim.settle(sim.events.now + HOUR) is not None
    # the catch-up went on air paced: each bridge stayed inside its own budget
    # (180 s an hour, half the 10 % duty cycle), in every rolling hour
    for n in (0, 6):
        engine = sim.nodes[n].engine
        assert engine.budget.limit_s == 180.0
        assert sim.mesh.max_duty_cycle_pct(n) <= 5.0
        assert engine.stats.sent["bridge"] > 0


def test_a_catch_up_over_the_cap_is_handed_over_and_still_reconciled() -> None:
    sim = BridgedSim(two_meshes(6, hours=7.0, rate=1.0, history=40),
                     bridges={0: "port", 6: "hills"}, radio_queue=4)
    for glue in sim.glues.values():
        glue.backlog_cap = 10
    sim.begin()
    broker = sim.broker
    assert broker is not None
    waiting: list[int] = []
    original = sim.glues[6].feed_radio

    def feed(now: float) -> int:
        moved = original(now)
        waiting.append(sim.nodes[6].engine.pending_injections())
        return moved

    sim.glues[6].feed_radio = feed  # type: ignore[method-assign]
    sim.nodes[6].engine.before_poll = feed
    sim.events.run_until(0.5 * HOUR)
    broker.cut("port")
    broker.cut("hills")
    sim.events.run_until(4.5 * HOUR)
    broker.heal("port")
    broker.heal("hills")
    assert sim.settle(7 * HOUR) is not None
    # never more than 4 injections queued at once; what was over the backlog cap
    # was only counted by the radio engine, and the mesh reconciled it from there
    assert max(waiting) <= 4
    assert sim.glues[6].counts.handed_over > 0


def test_a_full_broker_queue_drops_the_newest_and_the_reconnect_digest_repairs() -> None:
    sim = bridged(hours=4.0)
    broker = sim.broker
    assert broker is not None
    broker.queue_limit = 3
    sim.events.run_until(0.25 * HOUR)
    broker.cut("hills")  # hills is away while port publishes: its queue overflows
    sim.events.run_until(2 * HOUR)
    assert broker.stats.dropped["queue-full"] > 0
    broker.heal("hills")
    assert sim.settle(sim.events.now + HOUR) is not None


def two_bridges_in_mesh_a(ranked: bool) -> tuple[int, int]:
    """(records injected on mesh A's air, records that crossed into it) with two
    bridges in mesh A; `ranked` False gives every bridge rank 0 (no ordering)."""
    sim = bridged(hours=4.0, bridges={0: "port-a", 3: "port-b", 6: "hills"})
    if not ranked:
        for glue in sim.glues.values():
            glue.radio_gap = 0.0
    broker = sim.broker
    assert broker is not None
    broker.cut("hills")
    sim.events.run_until(2 * HOUR)
    broker.heal("hills")
    assert sim.settle(sim.events.now + HOUR) is not None
    # records posted in the other mesh (nodes 6-11): they crossed
    crossed = [rid for rid, (_t, author, _n) in sim.created.items() if author >= 6]
    assert len(crossed) > 10
    # both bridges of mesh A learn each of them over IP
    assert sim.glues[0].counts.to_radio + sim.glues[3].counts.to_radio > len(crossed)
    return sim.nodes[0].engine.injected_sent + sim.nodes[3].engine.injected_sent, len(crossed)


def test_two_bridges_in_one_mesh_do_not_both_inject() -> None:
    ranked, crossed = two_bridges_in_mesh_a(ranked=True)
    blind, _ = two_bridges_in_mesh_a(ranked=False)
    # Unranked, both bridges put nearly every record on air; ranked, the second
    # one cancels when it hears the first one's copy (it still sends the records
    # whose copy never reached it: the mesh missed them too). Measured: 35
    # against 42, then 40 once decoded ids were asked for paced (sketchin.py);
    # without the ranking both go, ranked about as many as blind.
    assert blind >= 1.7 * crossed
    assert 0 < ranked <= 0.9 * blind


def test_a_silent_bridge_is_forgotten() -> None:
    sim = bridged(hours=9.0)
    broker = sim.broker
    assert broker is not None
    sim.events.run_until(HOUR)
    port = sim.ips[0]
    assert "hills" in port.snapshot(sim.events.now, 0.0)["bridges"]
    broker.cut("hills")
    sim.events.run_until(8 * HOUR)
    snap = port.snapshot(sim.events.now, 0.0)
    assert snap["bridges"] == [] and snap["link"] == "up"
