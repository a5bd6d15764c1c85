"""members, vouch, revoke."""

from __future__ import annotations

import json

import click

from ..ledger import records as r
from ..ledger.wire import fit_text
from ..store import Store
from ..store import queries as q
from .common import Refused, opened


def resolve_key(store: Store, who: str) -> bytes:
    """A full key from 64 hex digits, an 8-digit short id or a unique display name."""
    text = who.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) == 32:
        return raw
    if len(raw) == 4:
        rows = store.db.execute("SELECT key FROM keys WHERE short = ?", [raw]).fetchall()
    else:
        rows = store.db.execute("SELECT key FROM keys WHERE name = ?", [text]).fetchall()
    if not rows:
        raise Refused(f"no known key matches {who!r}; its hello must be imported first")
    if len(rows) > 1:
        raise Refused(f"{who!r} matches {len(rows)} keys; give the full 64-digit key")
    return bytes(rows[0][0])


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def members(ctx: click.Context, as_json: bool) -> None:
    """List known keys: stewards, members, revoked and not yet admitted.

    \b
    Example:
      meshaid members
    """
    with opened(ctx) as (_home, store):
        rows = q.members(store)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for m in rows:
        fork = "  FORKED" if m["forked"] else ""
        click.echo(f"{m['short'] or m['key'][:8]:<9} {m['status']:<22} {m['name']:<24} {m['site']}{fork}")


@click.command()
@click.argument("who")
@click.option("--steward", is_flag=True, help="Make them a steward, not only a member.")
@click.pass_context
def vouch(ctx: click.Context, who: str, steward: bool) -> None:
    """Admit a key to the network (stewards only). WHO: key, short id or name.

    \b
    Example:
      meshaid vouch 1a2b3c4d
    """
    with opened(ctx) as (home, store):
        subject = resolve_key(store, who)
        rec = store.author(r.Vouch(subject, 1 if steward else 0), home.key())
        click.echo(f"vouch {rec.short_author.hex()}-{rec.seq} for {subject.hex()[:8]} signed and stored")
        _warn_if_not_steward(store, rec)


@click.command()
@click.argument("who")
@click.option("--through-seq", type=int, help="Trust their records up to this seq "
              "(default: the last one seen).")
@click.option("--reason", default="", help="Why, in a few words.")
@click.pass_context
def revoke(ctx: click.Context, who: str, through_seq: int | None, reason: str) -> None:
    """Throw a key out of the network (stewards only).

    \b
    Example:
      meshaid revoke 1a2b3c4d --reason "stolen radio"
    """
    with opened(ctx) as (home, store):
        subject = resolve_key(store, who)
        if through_seq is None:
            row = store.db.execute("SELECT MAX(seq) FROM records WHERE author = ?", [subject]).fetchone()
            through_seq = row[0] or 0
        if not 0 <= through_seq <= r.SEQ_MAX:
            raise Refused("--through-seq out of range")
        rec = store.author(r.Revoke(subject, through_seq, fit_text(reason, r.REASON_MAX)), home.key())
        click.echo(f"revoke {rec.short_author.hex()}-{rec.seq} of {subject.hex()[:8]} "
                   f"(trusted through seq {through_seq}) signed and stored")
        _warn_if_not_steward(store, rec)


def _warn_if_not_steward(store: Store, rec: r.Record) -> None:
    row = store.db.execute("SELECT role FROM members WHERE key = ?", [rec.author]).fetchone()
    if row is None or row[0] != "steward":
        click.echo("note: you are not a steward, so other nodes will not count this", err=True)


COMMANDS = [members, vouch, revoke]
