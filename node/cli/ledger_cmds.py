"""post need, post offer, pledge, update, list, show: thin wrappers around
node.actions and node.store.queries."""

from __future__ import annotations

import json
from typing import Any

import click

from .. import actions
from ..actions import inputs
from ..ledger import records as r
from ..ledger.vocab import CATEGORIES, OFFER_TYPES, UNITS, URGENCIES
from ..store import queries as q
from . import attention_cmds
from .common import choices, failures, opened
from .fmt import print_object, print_table

STATUS_CHOICES = ["open", "uncovered", "partial", "covered", "over-committed", "fulfilled",
                  "delivered", "withdrawn", "expired"]


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
@click.option("--urgency", type=choices(URGENCIES), default="normal", show_default=True,
              help="Priority: critical and high are Urgent, normal Routine, low Low.")
@click.option("--substitutes", default="", help="What else would do.")
@click.option("--deliver-to", default="", help="Where to deliver (default: the site).")
@click.option("--needed-by", default="", help="Wanted delivered within: 12h, 3d.")
@click.option("--pack", default="", help="What one unit holds, e.g. '24 pcs'.")
@click.pass_context
def post_need(ctx: click.Context, text: str, qty: int, unit: str, category: str, site: str,
              valid_for: str, lat: float | None, lon: float | None, urgency: str,
              substitutes: str, deliver_to: str, needed_by: str, pack: str) -> None:
    """Post a need: what is needed, how much, where, by when.

    \b
    Examples:
      meshaid post need "drinking water" --qty 200 --unit L --category water \\
          --urgency critical --site "Pier 3 clinic"
      meshaid post need "armour plate, 6 mm" --qty 4 --unit m2 --category other \\
          --urgency high --substitutes "8 mm mild steel" --deliver-to "Pier 3 gate" \\
          --needed-by 2d
    """
    with opened(ctx) as (home, store):
        rec = actions.post_need(store, home.key(), text, category=category, qty=qty, unit=unit,
                                urgency=urgency, valid_for=valid_for, site=site, lat=lat, lon=lon,
                                substitutes=substitutes, deliver_to=deliver_to,
                                needed_by=needed_by, pack=pack)
        _signed(rec)


@post.command("offer")
@_common_options
@click.option("--type", "offer_type", type=choices(OFFER_TYPES), default="stock", show_default=True)
@click.option("--per", type=click.Choice(["hour", "day", "week"]), help="Capacity rate period.")
@click.option("--pack", default="", help="What one unit holds, e.g. '6 L'.")
@click.option("--input", "needs_inputs", multiple=True, type=choices(CATEGORIES),
              help="A category the capacity consumes (repeat, at most 3).")
@click.option("--window", "windows", multiple=True, metavar="START+LENGTH",
              help="When it can work, from now: 0h+10h, 1d+8h (repeat, at most 3).")
@click.pass_context
def post_offer(ctx: click.Context, text: str, qty: int, unit: str, category: str, site: str,
               valid_for: str, lat: float | None, lon: float | None, offer_type: str,
               per: str | None, pack: str, needs_inputs: tuple[str, ...],
               windows: tuple[str, ...]) -> None:
    """Post an offer: stock, production capacity, a skill or a service.

    \b
    Example:
      meshaid post offer "laser cut + brake, M6 brackets" --qty 40 --per day \\
          --type capacity --category sheet-metal
      meshaid post offer "MIG welding, 2 bays" --qty 16 --unit h --per day \\
          --type capacity --category welding --input metal --window 0h+10h --window 1d+10h
    """
    with opened(ctx) as (home, store):
        rec = actions.post_offer(store, home.key(), text, category=category, qty=qty, unit=unit,
                                 offer_type=offer_type, per=per, valid_for=valid_for, site=site,
                                 lat=lat, lon=lon, pack=pack, needs_inputs=needs_inputs,
                                 windows=windows)
        _signed(rec)


def _signed(rec: r.Record) -> None:
    click.echo(f"{rec.kind.label} {actions.record_id(rec.short_author, rec.seq)} signed and "
               f"stored ({len(rec.raw)} bytes)")


@click.command()
@click.argument("need_id")
@click.option("--qty", type=int, required=True, help="How much of the need you will cover.")
@click.option("--by", "by", default="", help="By when: 90m, 12h, 3d.")
@click.option("--text", default="", help="A short note, e.g. how it will come.")
@click.option("--from-offer", "offer_id", default=None, metavar="OFFER_ID",
              help="Your own offer this draws on (its stock or capacity window shrinks).")
@click.pass_context
def pledge(ctx: click.Context, need_id: str, qty: int, by: str, text: str,
           offer_id: str | None) -> None:
    """Promise to cover part of a need.

    \b
    Examples:
      meshaid pledge 84f6efae-3 --qty 50 --by 4h --text "water truck"
      meshaid pledge 84f6efae-3 --qty 8 --by 1d --from-offer 2c9d11aa-5
    """
    with opened(ctx) as (home, store):
        rec = actions.pledge(store, home.key(), need_id, qty, by=by, text=text,
                             offer_id=offer_id)
        need = q.object_state(store, *inputs.record_id(need_id))
        unit = UNITS.get(need.unit, "") if need is not None and need.unit is not None else ""
        click.echo(f"pledge {actions.record_id(rec.short_author, rec.seq)} of "
                   f"{f'{qty} {unit}'.strip()} towards {need_id.strip()} signed and stored")
        if need is not None and need.qty and qty > need.qty:
            click.echo(f"meshaid: warning: need {need_id.strip()} asks for "
                       f"{f'{need.qty} {unit}'.strip()}: one pledger's pledges count for at "
                       "most that (PROTOCOL.md §4)", err=True)


@click.command()
@click.argument("record_id")
@click.option("--qty", type=int, help="New quantity.")
@click.option("--delivered", type=int, help="Delivered so far (pledges).")
@click.option("--fulfil", "fulfil", is_flag=True, help="Mark fulfilled (needs) or delivered (pledges).")
@click.option("--withdraw", is_flag=True, help="Withdraw it.")
@click.option("--renew", metavar="DURATION", help="Still needed: valid for DURATION from now; reopens.")
@click.option("--note", default=None, help="A short note (default: keep the current one).")
@click.pass_context
def update(ctx: click.Context, record_id: str, qty: int | None, delivered: int | None,
           fulfil: bool, withdraw: bool, renew: str | None, note: str | None) -> None:
    """Change one of your own needs, offers or pledges.

    \b
    Examples:
      meshaid update 84f6efae-3 --qty 150
      meshaid update 84f6efae-3 --fulfil
      meshaid update 84f6efae-4 --delivered 50 --fulfil
      meshaid update 84f6efae-3 --renew 2d
    """
    with opened(ctx) as (home, store):
        rec = actions.update(store, home.key(), record_id, qty=qty, delivered=delivered,
                             fulfil=fulfil, withdraw=withdraw, renew=renew, note=note)
        click.echo(f"update {actions.record_id(rec.short_author, rec.seq)} of "
                   f"{record_id.strip()} signed and stored")


@click.command("list")
@click.option("--kind", type=click.Choice(["need", "offer", "pledge"]))
@click.option("--category", type=choices(CATEGORIES))
@click.option("--urgency", type=choices(URGENCIES), help="At least this urgent.")
@click.option("--status", type=click.Choice(STATUS_CHOICES))
@click.option("--text", help="Full-text search in text, site and notes.")
@click.option("--trusted", is_flag=True, help="Only records from admitted members.")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="At most this many rows (after the other filters).")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of records.")
@click.pass_context
def list_cmd(ctx: click.Context, kind: str | None, category: str | None, urgency: str | None,
             status: str | None, text: str | None, trusted: bool, limit: int | None,
             as_json: bool) -> None:
    """List needs, offers and pledges: trusted first, what still needs doing
    before what is done, then the most urgent.

    \b
    Examples:
      meshaid list --kind need --status open
      meshaid list --category water --urgency high --json
      meshaid list --text "brackets"
    """
    with failures():
        filters = q.Filters(
            kind=kind,
            category=inputs.vocab(CATEGORIES, category, "category") if category else None,
            min_urgency=inputs.vocab(URGENCIES, urgency, "urgency") if urgency else None,
            status=status,
            text=inputs.text(text, 1000, "--text") if text else None,
            trusted_only=trusted,
            limit=limit,
        )
    with opened(ctx, write=False) as (home, store):
        rows = q.list_objects(store, filters)
        flagged = [] if as_json else attention_cmds.lines(*attention_cmds.flags_of(home, store))
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for line in flagged:  # uncovered urgent needs, renewals due, ... (meshaid attention)
            click.echo(line)
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
    with failures():
        inputs.record_id(record_id)
    with opened(ctx, write=False) as (_home, store):
        obj = q.get_object(store, record_id)
    if as_json:
        click.echo(json.dumps(obj, indent=2, ensure_ascii=False))
    else:
        print_object(obj)


COMMANDS = [post, pledge, update, list_cmd, show]
