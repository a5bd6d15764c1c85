"""Who could cover a need, or what an offer could serve: the ranked list with
every factor explained and, for a product that takes a production chain, the
chain of offers and its bottleneck (node/match), re-read live as the ledger
changes."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from meshaid.node.match.explain import lines
from meshaid.node.store.store import StoreError

from .base import LiveScreen


def render_match(result: dict[str, Any]) -> Text:
    """The match as text: headings bold, the chain and the bottleneck marked."""
    out = Text()
    for line in lines(result):
        style = ""
        if line.startswith(("need ", "offer ")):
            style = "bold"
        elif line.startswith("chain"):
            style = "bold green" if result.get("chain", {}).get("complete") else "bold yellow"
        elif "bottleneck" in line or "OVER-COMMITTED" in line:
            style = "bold yellow"
        out.append(line + "\n", style=style)
    return out


class MatchScreen(LiveScreen):
    """The match of one need or offer; enter on the detail screen's m."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.result: dict[str, Any] | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"matching {self.record_id}...", id="match")

    def reload(self) -> None:
        self._load(self.node.clock())

    @work(thread=True, exclusive=True, group="match")
    def _load(self, now: float) -> None:
        try:
            result: dict[str, Any] | str = self.node.ledger.match(self.record_id, now)
        except StoreError as exc:
            result = str(exc)
        self.show_later(self._loaded, result)

    def _loaded(self, result: dict[str, Any] | str) -> None:
        body = self.query_one("#match", Static)
        if isinstance(result, str):
            self.result = None
            body.update(result)
            return
        self.result = result
        body.update(render_match(result))
