"""The bridge in the status row: `meshaid status` lines and the TUI's mesh screen."""

from __future__ import annotations

from rich.console import Console

from meshaid.node.bridge.simnet import BridgedSim, two_meshes
from meshaid.node.cli.daemon_cmds import describe
from meshaid.node.daemon.status import StatusBoard
from meshaid.tui.screens.mesh import render_mesh

NOW = 1_800_000_000.0


def status_row() -> dict:
    sim = BridgedSim(two_meshes(4, hours=1.0, rate=2.0, history=10),
                     bridges={0: "port", 4: "hills"})
    sim.begin()
    sim.events.run_until(1800.0)
    board = StatusBoard(pid=1, link="up")
    side = sim.ips[0]
    board.bridge = side.snapshot(sim.events.now, NOW - sim.events.now)
    assert side.last_exchange is not None  # host clock, shown as wall time:
    assert board.bridge["last_exchange"] == round(side.last_exchange + NOW - 1800.0, 1)
    return {"updated_at": NOW, "state": "running", **board.snapshot()}


def test_status_shows_the_bridge_link_last_exchange_and_records_each_way() -> None:
    row = status_row()
    bridge = row["bridge"]
    assert bridge["name"] == "port" and bridge["link"] == "up"
    assert bridge["bridges"] == ["hills"]
    assert bridge["to_ip"] > 0 and bridge["to_radio"] > 0
    assert NOW - 1800 < bridge["last_exchange"] <= NOW
    text = "\n".join(describe(row, NOW))
    assert "bridge: port up" in text
    assert f"{bridge['to_ip']} to IP, {bridge['to_radio']} from IP" in text
    assert "other bridges heard: hills" in text


def test_the_mesh_screen_shows_the_bridge_and_no_row_without_one() -> None:
    row = status_row()
    console = Console(width=120, record=True)
    console.print(render_mesh(row, NOW))
    screen = console.export_text()
    assert "bridge" in screen and "port up" in screen and "1 other bridge" in screen
    del row["bridge"]
    console = Console(width=120, record=True)
    console.print(render_mesh(row, NOW))
    assert "bridge" not in console.export_text()
    assert "bridge" not in "\n".join(describe(row, NOW))
