"""A relay window longer than a crowd's: reconciliation waits for records still being
relayed but not for urgent ones (a crowd keeping its own window: test_crowd.py)."""

from __future__ import annotations

from meshaid.node.sim.runner import Simulation
from meshaid.node.sim.scenario import load

from .harness import line
from .meshes import fresh_mesh

LONG = (2.0, 240.0)


def test_a_difference_waits_out_the_relay_window_unless_urgent_records_are_about() -> None:
    eng = fresh_mesh(3, line(3), seed=21).engines[1]
    cfg = eng.cfg
    cfg.forward_window = LONG
    assert cfg.in_flight_s == 240.0  # the relay back-off (settle at the least)
    t = 1000.0
    eng._news(t, urgent=False)
    assert eng.quiet_since(t + 1.0) == t + 240.0  # a normal record may still be relayed
    eng._news(t + 10.0, urgent=True)
    assert eng.quiet_since(t + 11.0) == t + 10.0 + cfg.settle  # an urgent one is not waited on
    eng._news(t + 20.0, urgent=False)  # (urgent records still about: settle)
    assert eng.quiet_since(t + 21.0) == t + 20.0 + cfg.settle
    later = t + 10.0 + 240.0 + 1.0
    eng._news(later, urgent=False)
    assert eng.quiet_since(later) == later + 240.0
    # With the default window (30 s) the wait is `settle`, as it always was.
    plain = fresh_mesh(3, line(3), seed=21).engines[1]
    assert plain.cfg.in_flight_s == plain.cfg.settle


def test_a_mesh_with_a_long_relay_window_delivers_everything() -> None:
    sc = load("ci-small")
    sc.sync["forward_window"] = list(LONG)
    res = Simulation(sc, "meshaid").run()
    assert res["delivered_fraction"] == 1.0
