"""One need or offer: its current state, the updates its author signed, its
pledges and deliveries, who wrote it and whether they are trusted, and when
and from whom this node first heard it."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from meshaid.node.store.store import StoreError

from ..format import age, hops, remaining_cell, urgency_cell, when
from .base import LiveScreen


def render_detail(obj: dict[str, Any], now: float, high_contrast: bool = False) -> Table:
    """The record as a two-column table of labels and values."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    head = Text(f"{obj['kind']} {obj['id']}  ")
    head.append_text(urgency_cell(obj["urgency"], high_contrast))
    head.append(f"  [{obj['status']}]" if obj["urgency"] else f"[{obj['status']}]")
    grid.add_row("", head)
    grid.add_row("what", obj["text"])
    if obj["qty"]:
        grid.add_row("left" if obj["kind"] == "need" else "quantity",
                     remaining_cell(obj, high_contrast))
    if obj["kind"] == "need":
        grid.add_row("pledged", f"{obj['pledged']} in {obj['pledges']} pledges, "
                                f"{obj['delivered']} delivered")
        if obj["over_committed"]:
            grid.add_row("", Text(f"over-committed by {obj['over_committed']}", style="bold"))
    if obj["kind"] == "offer":
        grid.add_row("type", obj["offer_type"] + (f" per {obj['per']}" if obj["per"] else ""))
    grid.add_row("category", obj["category"])
    grid.add_row("site", obj["site"] or "-")
    trust = Text(obj["trust"], style="" if obj["trust"] == "trusted" else "bold magenta")
    trust.append(f" (author: {obj['author_state']})")
    if obj["forked"]:
        trust.append("  FORKED: this key signed two records with one seq", style="bold red")
    grid.add_row("author", f"{obj['author_name'] or '?'} · key id {obj['id'].split('-')[0]}")
    grid.add_row("trust", trust)
    grid.add_row("posted", f"{when(obj['created'])} ({age(obj['created'], now)} ago)")
    if obj["valid_until"]:
        grid.add_row("valid until", when(obj["valid_until"]))
    if obj["note"]:
        grid.add_row("note", obj["note"])
    heard = obj.get("heard")
    if heard:
        line = f"stored {when(heard['received_at'])}"
        if heard["node"] is not None:
            line += f" from node !{heard['node']:08x}, {hops(heard['hops_at_least'])} hops"
            if heard["snr"] is not None:
                line += f", SNR {heard['snr']:.1f} dB"
        grid.add_row("first heard", line)
    grid.add_row("", "")
    history = obj.get("history") or []
    grid.add_row("updates", "none" if not history else f"{len(history)}, oldest first")
    for u in history:
        line = f"{when(u['at'])} {u['status']} qty {u['qty']}"
        if u["delivered"]:
            line += f", delivered {u['delivered']}"
        if u["renewed_min"]:
            line += f", renewed for {u['renewed_min'] // 60} h"
        if u["note"]:
            line += f" · {u['note']}"
        grid.add_row("", line)
    pledges = obj.get("pledge_list") or []
    if obj["kind"] == "need":
        grid.add_row("pledges", "none yet" if not pledges else "")
    for p in pledges:
        mark = "" if p["trust"] == "trusted" else " [QUARANTINE: not counted]"
        by = f" by {when(p['by'])}" if p["by"] else ""
        grid.add_row("", f"{p['qty']} from {p['author_name'] or p['author'][:8]}{by} "
                         f"[{p['status']}, delivered {p['delivered']}]{mark} {p['text']}".rstrip())
    return grid


class DetailScreen(LiveScreen):
    """A record in full; p pledges towards it, u updates it (if it is yours), m
    shows who could cover it (or what an offer could serve)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "compose('pledge')", "Pledge"),
        Binding("u", "compose('update')", "Update"),
        Binding("m", "match", "Match"),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.obj: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"reading {self.record_id}...", id="detail")

    def reload(self) -> None:
        self._load(self.node.clock())

    @work(thread=True, exclusive=True, group="detail")
    def _load(self, now: float) -> None:
        try:
            obj: dict[str, Any] | str = self.node.ledger.detail(self.record_id, now)
        except StoreError as exc:
            obj = str(exc)
        self.show_later(self._loaded, obj, now)

    def _loaded(self, obj: dict[str, Any] | str, now: float) -> None:
        body = self.query_one("#detail", Static)
        if isinstance(obj, str):
            self.obj = None
            body.update(obj)
            return
        self.obj = obj
        body.update(render_detail(obj, now, self.node.high_contrast))

    def action_match(self) -> None:
        from .match import MatchScreen

        obj = self.obj
        if obj is None:
            return
        if obj["kind"] not in ("need", "offer"):
            self.notify("only needs and offers are matched", severity="warning")
            return
        self.app.push_screen(MatchScreen(obj["id"]))

    def action_compose(self, kind: str) -> None:
        from .compose import ComposeScreen

        obj = self.obj
        if obj is None:
            return
        if kind == "pledge":
            if obj["kind"] != "need":
                self.notify("only a need can be pledged to", severity="warning")
                return
            self.app.push_screen(ComposeScreen("pledge", {"need": obj["id"],
                                                          "qty": str(obj["remaining"] or "")}))
        elif obj["author"] != self.node.me:
            self.notify("only its author can update a record", severity="warning")
        else:
            self.app.push_screen(ComposeScreen("update", {"target": obj["id"]}))
