"""The radio as the daemon sees it: link and device, the IP bridge if any,
peers heard (SNR, hops, last heard), air time this hour against the budget, rejected packets by
reason. All of it comes from the daemon's status row; without one the screen
says plainly that no radio is connected."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..format import age, bar, hops
from ..widgets.status_bar import link_words
from .base import LiveScreen

NO_DAEMON = (
    "No radio connected / no daemon.\n\n"
    "This node works on its local ledger: you can read the board, post, pledge\n"
    "and vouch, and everything you sign waits in the outbox. Start the daemon\n"
    "with a radio attached ('meshaid daemon') to sync it over LoRa."
)


def render_mesh(status: dict[str, Any] | None, now: float) -> RenderableType:
    """The whole screen as one renderable."""
    if status is None:
        return NO_DAEMON
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    words, style = link_words(status, now)
    grid.add_row("link", Text(words, style=style))
    if status.get("link_detail"):
        grid.add_row("", str(status["link_detail"]))
    device = status.get("device") or {}
    if device:
        grid.add_row("device", device_line(device))
    grid.add_row("status from", f"the daemon ({status.get('state', 'running')}), "
                                f"{age(status.get('updated_at'), now)} ago")
    used = float(status.get("airtime_used_s") or 0)
    budget = float(status.get("airtime_budget_s") or 0)
    if budget:
        grid.add_row("air time", f"{bar(used / budget, 20)} {used:.1f} of {budget:.0f} s this "
                                 f"hour ({100 * used / budget:.0f} %)")
    grid.add_row("outbox", f"{status.get('outbox', 0)} records waiting to go on air")
    last = status.get("last_sync")
    grid.add_row("last sync", f"{age(last, now)} ago" if last else "never")
    failed = status.get("send_failed") or {}
    if failed:
        grid.add_row("send failed", ", ".join(f"{k} {n}" for k, n in sorted(failed.items())))
    rejected = status.get("rejected") or {}
    grid.add_row("rejected", ", ".join(f"{reason} {n}" for reason, n in
                                       sorted(rejected.items(), key=lambda kv: -kv[1]))
                 or "none")
    bridge = status.get("bridge")
    if bridge:
        grid.add_row("bridge", bridge_line(bridge, now))
    peers = status.get("peers") or []
    grid.add_row("peers", f"{len(peers)} heard" if peers else "none heard yet")
    if peers:
        table = Table(box=None, padding=(0, 1), show_edge=False, title_justify="left")
        for column in ("node", "SNR dB", "hops", "last heard", "packets", "its digest"):
            table.add_column(column, justify="left" if column in ("node", "its digest")
                             else "right")
        here = status.get("records_here")
        for p in sorted(peers, key=lambda p: -(p.get("last_heard") or 0)):
            snr = p.get("snr")
            table.add_row(str(p.get("node", "?")), "-" if snr is None else f"{snr:.1f}",
                          hops(p.get("hops_at_least")), f"{age(p.get('last_heard'), now)} ago",
                          str(p.get("count", 0)), sync_state(p.get("holds"), here))
        return Group(grid, "", table)
    return grid


def bridge_line(bridge: dict[str, Any], now: float) -> str:
    """'port up · last exchange 12 s ago · 40 to IP, 37 from IP · 2 bridges'."""
    last = bridge.get("last_exchange")
    others = bridge.get("bridges") or []
    waiting = bridge.get("backlog") or 0
    return " · ".join(p for p in (
        f"{bridge.get('name', '?')} {bridge.get('link', '?')}",
        f"last exchange {age(last, now)} ago" if last else "no exchange yet",
        f"{bridge.get('to_ip', 0)} to IP, {bridge.get('to_radio', 0)} from IP",
        f"{waiting} waiting for air time" if waiting else "",
        f"{len(others)} other bridge{'s' if len(others) != 1 else ''}",
    ) if p)


def device_line(device: dict[str, Any]) -> str:
    """'Pier 3 relay !a1b2c3d4 · TBEAM · fw 2.7.15 · EU_868 LONG_FAST'."""
    parts = [" ".join(str(device[k]) for k in ("long_name", "node_id") if device.get(k)),
             str(device.get("hw_model") or ""),
             f"fw {device['firmware']}" if device.get("firmware") else "",
             " ".join(str(device[k]) for k in ("region", "preset") if device.get(k))]
    return " · ".join(p for p in parts if p) or "connected"


def sync_state(holds: int | None, here: int | None) -> str:
    """What a peer's last digest said it holds, against what this node holds
    now. Digests are sparse when the mesh is in step, so a peer that looks
    behind may simply not have spoken since; the words say 'when last heard'."""
    if holds is None or here is None:
        return "no digest yet"
    if holds == here:
        return f"{holds}: in step"
    if holds < here:
        return f"{holds}: {here - holds} fewer than here"
    return f"{holds}: {holds - here} more: we catch up"


class MeshScreen(LiveScreen):
    """Radio state; it follows the status row the daemon rewrites."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.switch_mode('board')", "Board", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("", id="mesh")

    def on_mount(self) -> None:
        super().on_mount()
        self.watch(self.node, "status", self._redraw, init=False)
        self.watch(self.node, "now", self._redraw, init=False)

    def reload(self) -> None:
        self._redraw()

    def _redraw(self, _value: object = None) -> None:
        self.query_one("#mesh", Static).update(render_mesh(self.node.status, self.node.now))
