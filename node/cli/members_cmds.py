"""members, vouch, revoke: thin wrappers around node.actions."""

from __future__ import annotations

import json

import click

from .. import actions
from ..ledger import records as r
from ..store import queries as q
from .common import opened
from .fmt import pad


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def members(ctx: click.Context, as_json: bool) -> None:
    """List known keys by id: stewards, members, revoked and not yet admitted.

    \b
    Example:
      meshaid members
    """
    with opened(ctx, write=False) as (_home, store):
        rows = q.members(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for m in rows:
        fork = "  FORKED" if m["forked"] else ""
        person = actions.person_id(bytes.fromhex(m["key"]))
        click.echo(f"{person:<9} {m['status']:<22} {pad(m['name'], 24)} {m['site']}{fork}")


@click.command()
@click.argument("who")
@click.option("--steward", is_flag=True, help="Make them a steward, not only a member.")
@click.pass_context
def vouch(ctx: click.Context, who: str, steward: bool) -> None:
    """Admit a key to the network (stewards only). WHO: the id that
    'meshaid members' shows (check it with its owner), or a full key.

    \b
    Example:
      meshaid vouch 1a2b3c4d
    """
    with opened(ctx) as (home, store):
        key = home.key()
        rec = actions.vouch(store, key, who, steward=steward)
        assert isinstance(rec.body, r.Vouch)
        click.echo(f"vouch {actions.record_id(rec.short_author, rec.seq)} for "
                   f"{actions.person_id(rec.body.subject)} signed and stored")
        _note(actions.steward_note(store, key))


@click.command()
@click.argument("who")
@click.option("--through-seq", type=int, help="Trust their records up to this seq "
              "(default: the last one seen).")
@click.option("--reason", default="", help="Why, in a few words.")
@click.pass_context
def revoke(ctx: click.Context, who: str, through_seq: int | None, reason: str) -> None:
    """Throw a key out of the network (stewards only). WHO: an id, a full key,
    or the name of exactly one admitted member.

    \b
    Example:
      meshaid revoke 1a2b3c4d --reason "stolen radio"
    """
    with opened(ctx) as (home, store):
        key = home.key()
        rec = actions.revoke(store, key, who, through_seq=through_seq, reason=reason)
        assert isinstance(rec.body, r.Revoke)
        click.echo(f"revoke {actions.record_id(rec.short_author, rec.seq)} of "
                   f"{actions.person_id(rec.body.subject)} (trusted through seq "
                   f"{rec.body.through_seq}) signed and stored")
        _note(actions.steward_note(store, key))


def _note(text: str | None) -> None:
    if text:
        click.echo(f"note: {text}", err=True)


COMMANDS = [members, vouch, revoke]
