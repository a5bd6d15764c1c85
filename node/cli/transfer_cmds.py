"""export and import: signed bundles, so that a USB stick is a transport."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .. import actions
from .common import opened
from .interop_cmds import FORMATS, export_other


@click.command("export")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--force", is_flag=True, help="Replace FILE if it exists (never the node's own "
              "database or key).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="bundle", show_default=True,
              help="bundle: signed records for another node; hxl: CSV with HXL hashtags; "
              "json: the same objects as 'list --json'; edxl-rm: one need and its pledges "
              "as EDXL-RM 1.0 XML (with --need).")
@click.option("--need", "need_id", metavar="NEED_ID", help="The need to export (edxl-rm).")
@click.option("--offer", "offer_id", metavar="OFFER_ID",
              help="The offer to export (edxl-rm: OfferUnsolicitedResource).")
@click.option("--compact", is_flag=True, help="Bundle: leave out superseded updates and hellos "
              "(the retention policy, node/PROTOCOL.md); the importer gets the same state.")
@click.pass_context
def export_cmd(ctx: click.Context, file: Path, force: bool, fmt: str,
               need_id: str | None, offer_id: str | None, compact: bool) -> None:
    """Write every stored record to FILE as a signed bundle ('-' for stdout), or
    the needs, offers and pledges as HXL CSV, JSON or EDXL-RM XML (--format).

    The file is written whole or not at all, and an existing file is kept
    unless --force is given. The column mapping of HXL and the EDXL-RM message
    types are in node/INTEROP.md.

    \b
    Examples:
      meshaid export /media/usb/port-ledger.bundle
      meshaid export --compact /media/usb/port-latest.bundle
      meshaid export --format hxl /media/usb/port.csv
      meshaid export --format json - | jq '.records[0]'
      meshaid export --format edxl-rm --need 42f93919-11 splints.xml
    """
    if fmt != "bundle" or need_id is not None or offer_id is not None or compact:
        export_other(ctx, fmt, file, force, need_id, compact, offer_id)
        return
    with opened(ctx, write=False) as (home, store):
        if str(file) == "-":
            actions.export_bundle(store, sys.stdout.buffer)
            sys.stdout.flush()
            return
        count = actions.export_bundle(store, file, force=force, protect=[home.key_path])
    click.echo(f"exported {count} records to {file}")


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Verify and store the records of a bundle ('-' for stdin); count each
    rejection by reason.

    Exits 1 if any record was rejected (the others are still stored). A bundle
    carries the hello of every author it has records of, so a record whose
    author stays unknown is damaged or forged: it is rejected, not kept.

    \b
    Example:
      meshaid import /media/usb/port-ledger.bundle
    """
    with opened(ctx) as (home, store):
        source = sys.stdin.buffer if str(file) == "-" else file
        report = actions.import_bundle(store, home.key(), source)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(f"accepted {report.accepted}, duplicate {report.duplicate}, "
                   f"held {report.held}, rejected {report.rejected}")
        for reason, entry in sorted(report.reasons.items()):
            click.echo(f"  rejected {entry.count} x {reason}, first at line {entry.first_line}"
                       + (f" ({entry.detail})" if entry.detail else ""))
    if report.rejected:
        raise click.exceptions.Exit(1)


COMMANDS = [export_cmd, import_cmd]
