"""Plain-text rendering for the CLI: narrow enough for an 80x24 terminal, with
columns measured in terminal cells (wide CJK characters take two, combining
marks none), so they stay aligned whatever the script."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

import click

URGENCY_MARK = {"critical": "!!!", "high": "!! ", "normal": "!  ", "low": "   ", None: "   "}


def cells(ch: str) -> int:
    """Terminal cells one character takes."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(cells(ch) for ch in text)


def pad(text: str, size: int) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `size` cells."""
    if width(text) > size:
        out, used = [], 0
        for ch in text:
            if used + cells(ch) > size - 1:
                break
            out.append(ch)
            used += cells(ch)
        text = "".join(out) + "…"
    return text + " " * (size - width(text))


def quantity(row: dict[str, Any]) -> str:
    """'40 pcs', or '40 pcs/day' for a capacity with a rate; '' if unquantified."""
    if not row["qty"]:
        return ""
    text = f"{row['qty']} {row['unit']}".strip()
    if row.get("per"):
        text += f"/{row['per']}"
    return text


def span(seconds: float) -> str:
    """'under 1m', '45m', '3h 10m', '2d 4h'."""
    minutes = max(0, int(seconds // 60))
    if minutes < 1:
        return "under 1m"
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def amount(n: int, unit: str) -> str:
    return f"{n} {unit}".strip()


CLOSED = ("fulfilled", "withdrawn")  # a need nobody works on any more: nothing is "left"


def detail(row: dict[str, Any]) -> str:
    if row["kind"] == "need" and row["qty"] and row["status"] in CLOSED:
        done = f", {row['delivered']} delivered" if row.get("delivered") else ""
        return f"{amount(row['qty'], row['unit'])}{done}"
    if row["kind"] == "need" and row["qty"]:
        return f"{row['remaining']}/{row['qty']} {row['unit']} left".replace("  ", " ")
    if row["kind"] == "pledge":
        return f"{amount(row['qty'], row['unit'])} for {row['need']}"
    return quantity(row)


def print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("nothing to show")
        return
    id_width = max(12, *(len(row["id"]) for row in rows))
    for row in rows:
        trust = "" if row["trust"] == "trusted" else " [unverified member]"
        fork = " [FORKED]" if row["forked"] else ""
        click.echo(
            f"{URGENCY_MARK.get(row['urgency'], '   ')} {row['id']:<{id_width}} {row['kind']:<6} "
            f"{row['status']:<14} {pad(row['text'], 34)} {detail(row)}".rstrip()
        )
        place = row["site"] or row["author_name"]
        where = f"{row['category']} @ {place}" if row["category"] else f"@ {place}"
        click.echo(f"{'':{id_width + 4}}{where} by "
                   f"{row['author_name'] or row['author'][:8]}{trust}{fork}")


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def print_object(obj: dict[str, Any]) -> None:
    click.echo(f"{obj['kind']} {obj['id']}  [{obj['status']}]  trust: {obj['trust']}"
               + ("  FORKED AUTHOR" if obj["forked"] else ""))
    click.echo(f"  {obj['text']}")
    unit = obj["unit"]
    fields = [
        ("author", f"{obj['author_name']} ({obj['id'].split('-')[0]})"),
        ("category", obj["category"]),
        ("urgency", obj["urgency"] or ""),
        ("quantity", quantity(obj)),
        ("site", obj["site"]),
        ("created", when(obj["created"])),
        ("valid until", when(obj["valid_until"])),
        ("note", obj["note"]),
        ("priority", obj.get("priority", "")),
        ("substitutes", obj.get("substitutes", "")),
        ("deliver to", obj.get("deliver_to", "")),
        ("needed by", when(obj["needed_by"]) if obj.get("needed_by") else ""),
        ("pack", f"{obj['pack']['count']} {obj['pack']['unit']} each" if obj.get("pack") else ""),
        ("inputs", ", ".join(obj.get("inputs", []))),
        ("windows", "; ".join(f"{when(a)} to {when(b)}" for a, b in obj.get("windows", []))),
        ("from offer", obj.get("offer", "")),
    ]
    if obj["kind"] == "need" and obj["qty"]:
        fields += [("pledged", amount(obj["pledged"], unit)),
                   ("delivered", amount(obj["delivered"], unit)),
                   ("remaining", amount(obj["remaining"], unit))]
    elif obj["kind"] == "need":  # unquantified: who pledged, not how much is left
        fields += [("pledges", str(obj["pledges"] or "none"))]
    if obj["kind"] == "offer":
        fields += [("type", obj["offer_type"])]
    if obj["kind"] == "pledge":
        fields += [("for need", obj["need"]), ("by", when(obj["by"])),
                   ("delivered", amount(obj["delivered"], unit))]
    for label, value in fields:
        if value:
            click.echo(f"  {label:<12} {value}")
    for p in obj.get("pledge_list", []):
        click.echo(f"  pledge {p['id']}: {amount(p['qty'], unit)} by "
                   f"{p['author_name'] or p['id'].split('-')[0]} [{p['status']}, {p['trust']}] "
                   f"{p['text']}".rstrip())
