"""Plain-text rendering for the CLI: narrow enough for an 80x24 terminal."""

from __future__ import annotations

import time
from typing import Any

import click

URGENCY_MARK = {"critical": "!!!", "high": "!! ", "normal": "!  ", "low": "   ", None: "   "}


def _qty(row: dict[str, Any]) -> str:
    if not row["qty"]:
        return ""
    return f"{row['qty']} {row['unit']}".strip()


def print_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("nothing to show")
        return
    for row in rows:
        detail = _qty(row)
        if row["kind"] == "need" and row["qty"]:
            detail = f"{row['remaining']}/{row['qty']} {row['unit']} left"
        elif row["kind"] == "pledge":
            detail = f"{row['qty']} for {row['need']}"
        trust = "" if row["trust"] == "trusted" else " [unverified member]"
        fork = " [FORKED]" if row["forked"] else ""
        click.echo(
            f"{URGENCY_MARK.get(row['urgency'], '   ')} {row['id']:<12} {row['kind']:<6} "
            f"{row['status']:<14} {row['text'][:34]:<34} {detail}"
        )
        place = row["site"] or row["author_name"]
        click.echo(f"{'':16}{row['category'] or ''} @ {place} by {row['author_name'] or row['author'][:8]}"
                   f"{trust}{fork}")


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def print_object(obj: dict[str, Any]) -> None:
    click.echo(f"{obj['kind']} {obj['id']}  [{obj['status']}]  trust: {obj['trust']}"
               + ("  FORKED AUTHOR" if obj["forked"] else ""))
    click.echo(f"  {obj['text']}")
    fields = [
        ("author", f"{obj['author_name']} ({obj['author'][:8]})"),
        ("category", obj["category"]),
        ("urgency", obj["urgency"] or ""),
        ("quantity", _qty(obj)),
        ("site", obj["site"]),
        ("created", when(obj["created"])),
        ("valid until", when(obj["valid_until"])),
        ("note", obj["note"]),
    ]
    if obj["kind"] == "need":
        fields += [("pledged", str(obj["pledged"])), ("delivered", str(obj["delivered"])),
                   ("remaining", str(obj["remaining"]))]
    if obj["kind"] == "offer":
        fields += [("type", obj["offer_type"] + (f" per {obj['per']}" if obj["per"] else ""))]
    if obj["kind"] == "pledge":
        fields += [("for need", obj["need"]), ("by", when(obj["by"])),
                   ("delivered", str(obj["delivered"]))]
    for label, value in fields:
        if value:
            click.echo(f"  {label:<12} {value}")
    for p in obj.get("pledge_list", []):
        click.echo(f"  pledge {p['id']}: {p['qty']} by {p['author_name'] or p['author'][:8]}"
                   f" [{p['status']}, {p['trust']}] {p['text']}")
