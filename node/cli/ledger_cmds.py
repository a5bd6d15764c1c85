"""post need, post offer, pledge, update, list, show."""

from __future__ import annotations

import json
from typing import Any

import click

from ..ledger import records as r
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, RATE_PERIODS, UNITS, URGENCIES, code_for
from ..ledger.wire import fit_text
from ..store import queries as q
from ..store.store import parse_record_id
from .common import Refused, choices, opened, parse_minutes
from .fmt import print_object, print_table


def _position(lat: float | None, lon: float | None) -> r.Position | None:
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise click.UsageError("give both --lat and --lon")
    pos = r.Position.from_degrees(lat, lon)
    if not pos.valid():
        raise click.BadParameter("position outside the globe", param_hint="--lat/--lon")
    return pos


def _qty(value: int) -> int:
    if not 0 <= value <= r.QTY_MAX:
        raise click.BadParameter(f"quantity must be 0-{r.QTY_MAX}", param_hint="--qty")
    return value


def _common_options(func: Any) -> Any:
    options = [
        click.argument("text"),
        click.option("--qty", type=int, default=0, help="Quantity (0: unquantified)."),
        click.option("--unit", type=choices(UNITS), default="pcs", show_default=True),
        click.option("--category", type=choices(CATEGORIES), required=True),
        click.option("--site", default="", help="Where (default: your site)."),
        click.option("--valid-for", default="7d", show_default=True,
                      help="Expiry: 90m, 12h, 3d, 2w or 'never'."),
        click.option("--lat", type=float, help="Latitude, degrees."),
        click.option("--lon", type=float, help="Longitude, degrees."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def post() -> None:
    """Post a need or an offer.

    \b
    Examples:
      meshaid post need "drinking water" --qty 200 --unit L --category water --urgency critical
      meshaid post offer "M6 brackets" --qty 40 --per day --type capacity --category sheet-metal
    """


@post.command("need")
@_common_options
@click.option("--urgency", type=choices(URGENCIES), default="normal", show_default=True)
@click.pass_context
def post_need(ctx: click.Context, text: str, qty: int, unit: str, category: str, site: str,
              valid_for: str, lat: float | None, lon: float | None, urgency: str) -> None:
    """Post a need: what is needed, how much, where, by when.

    \b
    Example:
      meshaid post need "drinking water" --qty 200 --unit L --category water \\
          --urgency critical --site "Pier 3 clinic"
    """
    body = r.Need(
        category=code_for(CATEGORIES, category, "category"),
        text=fit_text(text, r.TEXT_MAX),
        qty=_qty(qty),
        unit=code_for(UNITS, unit, "unit"),
        urgency=code_for(URGENCIES, urgency, "urgency"),
        valid_for_min=parse_minutes(valid_for, "--valid-for"),
        site=fit_text(site, r.SITE_MAX),
        position=_position(lat, lon),
    )
    _author(ctx, body)


@post.command("offer")
@_common_options
@click.option("--type", "offer_type", type=choices(OFFER_TYPES), default="stock", show_default=True)
@click.option("--per", type=click.Choice(["hour", "day", "week"]), help="Capacity rate period.")
@click.pass_context
def post_offer(ctx: click.Context, text: str, qty: int, unit: str, category: str, site: str,
               valid_for: str, lat: float | None, lon: float | None, offer_type: str,
               per: str | None) -> None:
    """Post an offer: stock, production capacity, a skill or a service.

    \b
    Example:
      meshaid post offer "laser cut + brake, M6 brackets" --qty 40 --per day \\
          --type capacity --category sheet-metal
    """
    body = r.Offer(
        category=code_for(CATEGORIES, category, "category"),
        text=fit_text(text, r.TEXT_MAX),
        qty=_qty(qty),
        unit=code_for(UNITS, unit, "unit"),
        offer_type=code_for(OFFER_TYPES, offer_type, "type"),
        rate=code_for(RATE_PERIODS, per, "per") if per else 0,
        valid_for_min=parse_minutes(valid_for, "--valid-for"),
        site=fit_text(site, r.SITE_MAX),
        position=_position(lat, lon),
    )
    _author(ctx, body)


def _author(ctx: click.Context, body: r.Body) -> None:
    with opened(ctx) as (home, store):
        rec = store.author(body, home.key())
        click.echo(f"{rec.kind.label} {rec.short_author.hex()}-{rec.seq} signed and stored "
                   f"({len(rec.raw)} bytes)")


@click.command()
@click.argument("need_id")
@click.option("--qty", type=int, required=True, help="How much of the need you will cover.")
@click.option("--by", "by", default="", help="By when: 90m, 12h, 3d.")
@click.option("--text", default="", help="A short note, e.g. how it will come.")
@click.pass_context
def pledge(ctx: click.Context, need_id: str, qty: int, by: str, text: str) -> None:
    """Promise to cover part of a need.

    \b
    Example:
      meshaid pledge 84f6efae-3 --qty 50 --by 4h --text "water truck"
    """
    with opened(ctx) as (home, store):
        short, seq = parse_record_id(need_id)
        need = q.get_object(store, need_id)
        if need["kind"] != "need":
            raise Refused(f"{need_id} is a {need['kind']}, not a need")
        body = r.Pledge(short, seq, _qty(qty), parse_minutes(by, "--by"), fit_text(text, r.TEXT_MAX))
        rec = store.author(body, home.key())
        click.echo(f"pledge {rec.short_author.hex()}-{rec.seq} of {qty} {need['unit']} "
                   f"towards {need_id} signed and stored")


@click.command()
@click.argument("record_id")
@click.option("--qty", type=int, help="New quantity.")
@click.option("--delivered", type=int, help="Delivered so far (pledges).")
@click.option("--fulfil", "fulfil", is_flag=True, help="Mark fulfilled (needs) or delivered (pledges).")
@click.option("--withdraw", is_flag=True, help="Withdraw it.")
@click.option("--renew", metavar="DURATION", help="Still needed: valid for DURATION from now; reopens.")
@click.option("--note", default="", help="A short note.")
@click.pass_context
def update(ctx: click.Context, record_id: str, qty: int | None, delivered: int | None,
           fulfil: bool, withdraw: bool, renew: str | None, note: str) -> None:
    """Change one of your own needs, offers or pledges.

    \b
    Examples:
      meshaid update 84f6efae-3 --qty 150
      meshaid update 84f6efae-3 --fulfil
      meshaid update 84f6efae-4 --delivered 50 --fulfil
      meshaid update 84f6efae-3 --renew 2d
    """
    if fulfil and withdraw:
        raise click.UsageError("--fulfil and --withdraw exclude each other")
    with opened(ctx) as (home, store):
        from ..ledger.identity import public_bytes

        short, seq = parse_record_id(record_id)
        obj = q.get_object(store, record_id)
        if bytes.fromhex(obj["author"]) != public_bytes(home.key()):
            raise Refused(f"{record_id} was written by someone else; only its author can update it")
        row = store.db.execute(
            "SELECT status, qty, delivered FROM objects WHERE short = ? AND seq = ?", [short, seq]
        ).fetchone()
        status, new_qty, new_delivered = row
        if qty is not None:
            new_qty = _qty(qty)
        if delivered is not None:
            new_delivered = _qty(delivered)
        if withdraw:
            status = 2
        elif fulfil:
            status = 3 if obj["kind"] == "pledge" else 1
            if obj["kind"] == "pledge" and delivered is None:
                new_delivered = new_qty
        elif renew:
            status = 0
        body = r.Update(seq, status, new_qty, new_delivered,
                        parse_minutes(renew, "--renew") if renew else 0, fit_text(note, r.NOTE_MAX))
        rec = store.author(body, home.key())
        click.echo(f"update {rec.short_author.hex()}-{rec.seq} of {record_id} signed and stored")


@click.command("list")
@click.option("--kind", type=click.Choice(["need", "offer", "pledge"]))
@click.option("--category", type=choices(CATEGORIES))
@click.option("--urgency", type=choices(URGENCIES), help="At least this urgent.")
@click.option("--status", type=click.Choice(
    ["open", "uncovered", "partial", "covered", "over-committed", "fulfilled", "delivered",
     "withdrawn", "expired"]))
@click.option("--text", help="Full-text search in text, site and notes.")
@click.option("--trusted", is_flag=True, help="Only records from admitted members.")
@click.option("--limit", type=click.IntRange(1), help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of records.")
@click.pass_context
def list_cmd(ctx: click.Context, kind: str | None, category: str | None, urgency: str | None,
             status: str | None, text: str | None, trusted: bool, limit: int | None,
             as_json: bool) -> None:
    """List needs, offers and pledges, most urgent first.

    \b
    Examples:
      meshaid list --kind need --status open
      meshaid list --category water --urgency high --json
      meshaid list --text "brackets"
    """
    filters = q.Filters(
        kind=kind,
        category=code_for(CATEGORIES, category, "category") if category else None,
        min_urgency=code_for(URGENCIES, urgency, "urgency") if urgency else None,
        status=status,
        text=text,
        trusted_only=trusted,
        limit=limit,
    )
    with opened(ctx) as (_home, store):
        rows = q.list_objects(store, filters)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print_table(rows)


@click.command()
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, record_id: str, as_json: bool) -> None:
    """Show one need, offer or pledge in full (a need with its pledges).

    \b
    Example:
      meshaid show 84f6efae-3
    """
    with opened(ctx) as (_home, store):
        obj = q.get_object(store, record_id)
    if as_json:
        click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        print_object(obj)


COMMANDS = [post, pledge, update, list_cmd, show]
