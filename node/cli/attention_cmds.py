"""attention and renew: what needs someone now (uncovered urgent needs, records
to renew, pledges on expired needs, quiet sites), derived from the ledger
alone (node/store/attention.py), and renewing with one command."""

from __future__ import annotations

import json
from typing import Any

import click

from .. import actions
from ..home import Home
from ..ledger import identity
from ..store import Store, attention
from .common import Refused, failures, opened
from .fmt import span


def my_key(home: Home) -> bytes | None:
    """This node's public key, or None if its key file cannot be read."""
    try:
        return identity.public_bytes(home.key())
    except Exception:  # noqa: BLE001 - an unreadable key only hides own prompts
        return None


def lines(flags: dict[str, Any], now: float) -> list[str]:
    """The attention block of `meshaid list`, most pressing first."""
    out = []
    for need in flags["uncovered"]:
        out.append(f"UNCOVERED {need['urgency']} need {need['id']} '{need['text']}' at "
                   f"{need['site'] or '?'}: no pledge after {span(need['waiting_s'])}")
    for item in flags["renew"]:
        when = (f"expired {span(now - item['valid_until'])} ago" if item["expired"]
                else f"expires in {span(item['valid_until'] - now)}")
        out.append(f"RENEW? your {item['kind']} {item['id']} '{item['text']}' {when}: "
                   f"{item['question']} meshaid renew {item['id']}")
    for p in flags["expired_pledges"]:
        out.append(f"EXPIRED need {p['need']} '{p['text']}' still has open pledge "
                   f"{p['pledge']} by {p['pledger_name'] or '?'}: deliver or withdraw it")
    for q in flags["quiet"]:
        out.append(f"QUIET {q['site'] or q['short']} ({q['name'] or q['short']}): nothing for "
                   f"{span(q['silent_s'])}, usually every {span(q['usual_s'])}")
    return out


def flags_of(home: Home, store: Store) -> tuple[dict[str, Any], float]:
    now = store.mesh_now()
    return attention.summary(store, now, my_key(home)), now


@click.command("attention")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def attention_cmd(ctx: click.Context, as_json: bool) -> None:
    """What needs someone now, derived from the ledger (no air time): urgent
    needs nobody pledged to in time, your needs and offers about to expire,
    open pledges on expired needs, and sites quiet for longer than usual.

    \b
    Example:
      meshaid attention
      meshaid attention --json
    """
    with opened(ctx, write=False) as (home, store):
        flags, now = flags_of(home, store)
    if as_json:
        click.echo(json.dumps(flags, indent=2, ensure_ascii=False))
        return
    shown = lines(flags, now)
    for line in shown:
        click.echo(line)
    if not shown:
        click.echo("nothing needs attention")


@click.command("renew")
@click.argument("record_ids", nargs=-1)
@click.option("--for", "duration", metavar="DURATION",
              help="Valid for this long from now (default: as long as when it was posted).")
@click.option("--all", "renew_all", is_flag=True,
              help="Renew every need and offer of yours that is about to expire or expired.")
@click.pass_context
def renew(ctx: click.Context, record_ids: tuple[str, ...], duration: str | None,
          renew_all: bool) -> None:
    """Still needed, still available: renew your own needs or offers (an update
    with a new valid-until; an expired one comes back on the board).

    \b
    Examples:
      meshaid renew 84f6efae-3
      meshaid renew 84f6efae-3 --for 2d
      meshaid renew --all
    """
    if not record_ids and not renew_all:
        raise click.UsageError("give the id of a need or offer of yours, or --all")
    with opened(ctx) as (home, store), failures():
        key = home.key()
        due = {d["id"]: d for d in attention.renewals(
            store, identity.public_bytes(key), store.mesh_now())}
        targets = list(dict.fromkeys(rid.strip() for rid in record_ids)) or list(due)
        if not targets:
            click.echo("nothing of yours is about to expire")
            return
        for rid in targets:  # all checked before any is signed
            why = attention.not_renewable(store, *actions.inputs.record_id(rid),
                                          duration_given=duration is not None)
            if why:
                raise Refused(why)
        for rid in targets:
            minutes = duration or attention.posted_validity(
                store, *actions.inputs.record_id(rid))
            rec = actions.update(store, key, rid, renew=minutes)
            click.echo(f"renewed {rid.strip()} (update "
                       f"{actions.record_id(rec.short_author, rec.seq)})")


COMMANDS = [attention_cmd, renew]
