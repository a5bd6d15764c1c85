"""`StatusBar`: radio link, outbox, air time against budget and time since the
last sync, from the daemon's status row; says so plainly when there is none."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..format import age, bar


def link_words(status: dict[str, Any] | None, now: float) -> tuple[str, str]:
    """(words, style) for the radio link; words alone carry the meaning."""
    if status is None:
        return "no radio connected / no daemon", "bold yellow"
    state = status.get("state", "running")
    if state == "stopped":
        return "no daemon (stopped)", "bold yellow"
    if state == "stale":
        return f"no daemon (silent for {age(status.get('updated_at'), now)})", "bold yellow"
    link = str(status.get("link", "down"))
    style = {"up": "bold green", "connecting": "bold yellow"}.get(link, "bold red")
    return f"radio {link}", style


def status_line(status: dict[str, Any] | None, now: float) -> Text:
    """One line: link, outbox, air time used/budget, last sync."""
    words, style = link_words(status, now)
    line = Text()
    line.append(f" {words} ", style=style)
    if status is None or status.get("state", "running") != "running":
        return line
    used = float(status.get("airtime_used_s") or 0)
    budget = float(status.get("airtime_budget_s") or 0)
    line.append(f"│ outbox {status.get('outbox', 0)} ")
    if budget:
        line.append(f"│ air {bar(used / budget, 6)} {used:.0f}/{budget:.0f}s ")
    last = status.get("last_sync")
    if not status.get("peers"):  # (our own records sent to nobody heard are no sync)
        line.append("│ no peer heard yet ")
    else:
        line.append(f"│ sync {age(last, now) + ' ago' if last else 'never'} ")
    return line


class StatusBar(Static):
    """The one-line status bar; set `status` and `now` to update it."""

    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    status: reactive[dict[str, Any] | None] = reactive(None, always_update=True)
    now: reactive[float] = reactive(0.0)
    where: reactive[str] = reactive("")

    def render(self) -> Text:
        line = status_line(self.status, self.now)
        if self.where:
            line.append("│ " + self.where, style="bold")
        return line
