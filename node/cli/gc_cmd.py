"""meshaid gc: collect superseded records on this node (node/store/gc.py)."""

from __future__ import annotations

import click

from ..store import gc, strangers
from .common import opened


@click.command("gc")
@click.option("--dry-run", is_flag=True, help="Count what would be collected; change nothing.")
@click.pass_context
def gc_cmd(ctx: click.Context, dry_run: bool) -> None:
    """Collect superseded records: updates and hellos below a later version by
    the same author (never objects, membership records, fork evidence or a
    revoked author's versions). Each leaves a small tombstone, so the board and
    every state stay the same, a copy arriving again is a duplicate, and nothing
    is fetched again over the air. Records of keys nobody admitted expire a week
    after their timestamp or arrival, whichever is earlier (each key's newest
    hello stays). The daemon does this on its own every hour; safe while it
    runs.

    \b
    Example:
      meshaid gc --dry-run
      meshaid gc
    """
    with opened(ctx, write=not dry_run) as (_home, store):
        done = gc.collect(store, dry_run=dry_run)
        tombs = gc.count(store.db)
        gone = strangers.expire(store, dry_run=dry_run)
    if dry_run:
        click.echo(f"would collect {done.records} superseded records "
                   f"({done.bytes_before} bytes of records); {tombs} collected before; "
                   f"would expire {gone.records} records of keys nobody admitted")
        return
    click.echo(f"collected {done.records} superseded records ({done.bytes_before} bytes of "
               f"records); {tombs} tombstones in all; expired {gone.records} records of keys "
               "nobody admitted")


COMMANDS = [gc_cmd]
