"""meshaid check: is the ledger sound, and how to recover when it is not."""

from __future__ import annotations

import click

from ..home import RECOVER, Home
from ..store import StoreError
from ..store import check as c
from .common import Refused


@click.command("check")
@click.pass_obj
def check_cmd(home: Home) -> None:
    """Check the ledger: SQLite's integrity check, every stored signature
    verified again, and the derived state (board, members, keys) rebuilt from
    the raw records. Says how to recover when something is wrong.

    \b
    Example:
      meshaid check
    """
    if not home.db_path.exists():
        raise Refused(f"no {home.db_path} to check; run 'meshaid init' first")
    problem = c.probe(home.db_path)
    if problem:
        click.echo(f"database    {home.db_path} {problem}")
        click.echo(f"to {RECOVER}")
        raise Refused("the ledger cannot be used; see above")
    try:
        store = home.open_store(readonly=True)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    try:
        report = c.verify(store)
        click.echo("integrity   " + ("ok" if not report.integrity
                                     else "FAILED: " + "; ".join(report.integrity[:3])))
        bad = len(report.bad_records)
        click.echo(f"records     {report.records} checked, "
                   + ("every signature valid" if not bad else f"{bad} BAD"))
        for rid, why in report.bad_records[:5]:
            click.echo(f"  record #{rid}: {why}")
        if report.integrity:
            click.echo("derived     not rebuilt (the database itself is damaged)")
        elif store.readonly:
            click.echo("derived     not rebuilt (the data directory is read-only)")
        else:
            rebuilt = c.rebuild(store)
            changed = sum(rebuilt.values())
            click.echo("derived     rebuilt from the records: "
                       + ("nothing differed" if not changed else ", ".join(
                           f"{n} {table} rows repaired" for table, n in rebuilt.items() if n)))
    finally:
        store.close()
    if not report.ok:
        click.echo(f"to {RECOVER}")
        raise Refused("the ledger is damaged; see above")
    click.echo("the ledger is sound")
