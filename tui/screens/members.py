"""Members: who is admitted (stewards, members), revoked or not yet admitted;
vouch and revoke, each after a confirmation that names the person and key."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from meshaid.node.store.store import StoreError

from ..widgets.keyed_table import KeyedTable
from .base import LiveScreen
from .confirm import Confirm


def who(m: dict[str, Any]) -> str:
    site = f" ({m['site']})" if m["site"] else ""
    return f"{m['name'] or 'unnamed key'}{site}, key id {key_id(m)}"


def key_id(m: dict[str, Any]) -> str:
    """The short id that record ids and the CLI use for a key."""
    return str(m["short"] or m["key"][:8])


class MembersScreen(LiveScreen):
    """v vouches for the selected key, r revokes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "vouch", "Vouch"),
        Binding("r", "revoke", "Revoke"),
        Binding("escape", "app.switch_mode('board')", "Board", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.members: dict[str, dict[str, Any]] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("", id="charter")
        yield KeyedTable(id="members")

    def on_mount(self) -> None:
        table = self.query_one(KeyedTable)
        for key, width in (("name", 20), ("site", 16), ("key", 8), ("state", 16),
                           ("vouches", 7)):
            table.add_column(key, width=width, key=key)
        super().on_mount()
        table.focus()

    def reload(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, group="members")
    def _load(self) -> None:
        members = self.node.ledger.members()
        network = self.node.ledger.network()
        self.show_later(self._loaded, members, network)

    def _loaded(self, members: list[dict[str, Any]], network: dict[str, str]) -> None:
        self.members = {m["key"]: m for m in members}
        admitted = sum(1 for m in members if m["role"] and not m["status"].startswith("revoked"))
        self.query_one("#charter", Static).update(
            f"network {network['network_name'] or '?'} · {admitted} admitted of "
            f"{len(members)} known keys · you: {network['my_name']} ({network['my_site']})")
        rows = []
        for m in members:
            state = m["status"] + (" FORKED" if m["forked"] else "")
            you = " (you)" if m["key"] == self.node.me else ""
            rows.append((m["key"], ((m["name"] or "?") + you, m["site"], key_id(m), state,
                                    str(m["vouchers"]))))
        self.query_one(KeyedTable).sync(rows)

    def _selected(self) -> dict[str, Any] | None:
        key = self.query_one(KeyedTable).cursor_key
        return self.members.get(key or "")

    def action_vouch(self) -> None:
        m = self._selected()
        if m is None:
            return
        question = (f"Vouch for {who(m)}?\n\nThis admits them to the network: their "
                    "records leave quarantine on every node that trusts you.")

        def answered(answer: tuple[bool, str] | None) -> None:
            if answer and answer[0]:
                self._sign("vouch", m, "")

        self.app.push_screen(Confirm(question), answered)

    def action_revoke(self) -> None:
        m = self._selected()
        if m is None:
            return
        question = (f"Revoke {who(m)}?\n\nWhat this node already holds from them stays "
                    "trusted; anything they sign later counts nowhere.")

        def answered(answer: tuple[bool, str] | None) -> None:
            if answer and answer[0]:
                self._sign("revoke", m, answer[1])

        self.app.push_screen(Confirm(question, ask_reason=True), answered)

    @work(thread=True, group="sign")
    def _sign(self, what: str, m: dict[str, Any], reason: str) -> None:
        writer = self.node.writer
        try:
            if what == "vouch":
                message = f"vouched for {who(m)}: {writer.vouch(m['key'])}"
            else:
                message = f"revoked {who(m)}: {writer.revoke(m['key'], reason)}"
            severity = "information"
        except (StoreError, ValueError, OSError) as exc:
            message, severity = f"not signed: {exc}", "error"
        self.show_later(self._tell, message, severity)

    def _tell(self, message: str, severity: str) -> None:
        self.notify(message, severity=severity, timeout=8)  # type: ignore[arg-type]
