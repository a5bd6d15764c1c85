"""meshaid check: is the ledger sound, and how to recover when it is not."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NoReturn

import click

from ..home import RECOVER, Home
from ..store import StoreError, gc
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
    except sqlite3.DatabaseError as exc:  # damaged past what the store can open
        _damaged(home.db_path, exc)
    try:
        report = c.verify(store)
        click.echo("integrity   " + ("ok" if not report.integrity
                                     else "FAILED: " + "; ".join(report.integrity[:3])))
        bad = len(report.bad_records)
        click.echo(f"records     {report.records} checked, "
                   + ("every signature valid" if not bad else f"{bad} BAD"))
        for rid, why in report.bad_records[:5]:
            click.echo(f"  record #{rid}: {why}")
        old = 0 if report.integrity else gc.unsigned(store.db)
        if old:
            click.echo(f"tombstones  {old} collected before schema m008 keep no signature: if a "
                       "cut or fork makes one count again, this node's state uses it, but only "
                       "a node still holding the record can send it to others")
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
    except sqlite3.DatabaseError as exc:
        _damaged(home.db_path, exc)
    finally:
        store.close()
    if not report.ok:
        click.echo(f"to {RECOVER}")
        raise Refused("the ledger is damaged; see above")
    click.echo("the ledger is sound")


def _damaged(path: Path, exc: sqlite3.DatabaseError) -> NoReturn:
    """A database SQLite reads only in part: what its integrity check says, how
    to recover, and exit 1 (the other commands send people here)."""
    click.echo(f"database    {path} is damaged ({' '.join(str(exc).split())})")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            found = [line for (row,) in conn.execute("PRAGMA integrity_check(5)")
                     for line in str(row).splitlines() if not line.startswith("***")]
        finally:
            conn.close()
    except sqlite3.Error as again:
        found = [f"the integrity check itself failed ({again})"]
    for line in found[:5]:
        click.echo(f"  {line}")
    click.echo(f"to {RECOVER}")
    raise Refused("the ledger is damaged; see above")
