"""Cell and line formatting shared by the screens: every colour comes with words
or symbols that say the same thing, so nothing is carried by colour alone."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text

# Label, normal style, high-contrast style.
URGENCY_CELL = {
    "critical": ("CRIT", "bold white on red3", "bold reverse"),
    "high": ("HIGH", "bold dark_orange", "bold underline"),
    "normal": ("norm", "", ""),
    "low": ("low", "dim", ""),
}


def urgency_cell(urgency: str | None, high_contrast: bool = False) -> Text:
    if urgency is None:
        return Text("")
    label, style, hc_style = URGENCY_CELL.get(urgency, (urgency, "", ""))
    return Text(label, style=hc_style if high_contrast else style)


def bar(fraction: float, width: int) -> str:
    """A text bar of `width` cells, full blocks for `fraction` (0-1) of it."""
    fraction = min(1.0, max(0.0, fraction))
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)


def remaining_cell(row: dict[str, Any], high_contrast: bool = False,
                   width: int | None = None) -> Text:
    """Needs: a bar of what is still uncovered and 'left/qty unit' ('left unit'
    when that does not fit `width` cells: the bar shows the share); offers:
    quantity, unit and rate."""
    unit = row.get("unit") or ""
    if row["kind"] == "need":
        qty = row["qty"]
        if not qty:
            return Text("unquantified", style="dim")
        left = row["remaining"]
        style = ("" if high_contrast else
                 "green" if left == 0 else "yellow" if left < qty else "red")
        text = Text(bar(left / qty, 5), style=style)
        figures = f" {left}/{qty} {unit}".rstrip()
        if width is not None and 5 + len(figures) > width:
            figures = f" {left} {unit}".rstrip()
        text.append(figures)
        return text
    qty = row["qty"]
    per = f"/{row['per']}" if row.get("per") else ""
    return Text(f"{qty} {unit}{per}".strip() if qty else row.get("offer_type", ""))


def kind_cell(row: dict[str, Any]) -> str:
    return row["kind"]


def what_cell(row: dict[str, Any]) -> Text:
    """The text, prefixed with plain markers for quarantine, forks and states."""
    text = Text()
    if row["trust"] != "trusted":
        text.append("[QUARANTINE] ", style="bold magenta")
    if row["forked"]:
        text.append("[FORKED] ", style="bold magenta")
    if row["status"] not in ("open", "partial"):
        text.append(f"[{row['status']}] ", style="italic")
    text.append(row["text"])
    return text


def age(ts: float | None, now: float) -> str:
    """'40s', '12m', '3h', '2d': how long ago; '+5m', '+2h' for a time that
    far ahead of our clock (the author's clock runs fast, or ours slow)."""
    if ts is None:
        return "-"
    seconds = now - ts
    if seconds < -60:
        return "+" + age(now, ts)
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def hops(value: int | None) -> str:
    """Hop counts from the radio are lower bounds (the header can be rewritten)."""
    if value is None:
        return "unknown"
    return f"at least {value}"
