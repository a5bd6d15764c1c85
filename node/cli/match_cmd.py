"""meshaid match: the offers for a need (with its production chain), or the
needs for an offer, ranked and explained (node/match)."""

from __future__ import annotations

import json

import click

from ..actions import inputs
from ..match import match as run_match
from ..match.explain import lines
from .common import failures, opened


@click.command("match")
@click.argument("record_id", metavar="NEED_ID|OFFER_ID")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True,
              help="At most this many offers (or needs).")
@click.option("--json", "as_json", is_flag=True, help="The whole result as one JSON object.")
@click.pass_context
def match_cmd(ctx: click.Context, record_id: str, limit: int, as_json: bool) -> None:
    """Who can cover a need, or what an offer could serve: ranked, each factor
    explained (category, text, quantity by the deadline, distance, time). A need
    for a product that takes a production chain (armour plate: steel, cutting,
    welding) also gets the chain of offers that makes it and its bottleneck.

    \b
    Examples:
      meshaid match 84f6efae-7
      meshaid match 2c9d11aa-5 --json
      meshaid --data-dir port/machine-shop match 84f6efae-7
    """
    with failures():
        inputs.record_id(record_id)
    with opened(ctx, write=False) as (_home, store):
        result = run_match(store, record_id, limit=limit)
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        for line in lines(result):
            click.echo(line)


COMMANDS = [match_cmd]
