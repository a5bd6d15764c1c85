"""backup and restore: online SQLite backups that a timer makes, and putting one back."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import click

from ..home import Home
from ..ledger import bundle, identity
from ..ledger.identity import KeyFileError
from ..store import Store, StoreError, admin
from ..store import backup as b
from .common import Refused


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(1, 10_000), default=14, show_default=True,
              help="Keep this many backups in DIRECTORY, deleting older ones.")
@click.option("--bundle", "with_bundle", is_flag=True,
              help="Also write the records as a signed bundle for a USB stick.")
@click.pass_obj
def backup(home: Home, directory: Path, keep: int, with_bundle: bool) -> None:
    """Make a consistent copy of the ledger while the daemon keeps running.

    Uses SQLite's online backup, checks the copy, and keeps the newest KEEP
    copies. With --bundle a signed bundle (importable by any node with
    'meshaid import') is written next to it.

    \b
    Example:
      meshaid backup /var/backups/meshaid --keep 14 --bundle
    """
    if not home.db_path.is_file():  # (said before the key, which a missing node lacks too)
        raise Refused(f"no database at {home.db_path}")
    owner = _key_hex(home)
    try:
        made = b.make(home.db_path, directory, owner=owner)
        pruned = b.prune(directory, keep, owner)
    except StoreError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"backup {made.path} ({made.records} records, {made.bytes // 1024} KiB)")
    if with_bundle:
        target = made.path.with_suffix(".bundle")
        _write_bundle(made.path, target)
        click.echo(f"bundle {target}")
    for old in pruned:
        old.with_suffix(".bundle").unlink(missing_ok=True)
    if pruned:
        click.echo(f"removed {len(pruned)} older backup(s)")


def _write_bundle(db: Path, target: Path) -> None:
    """Write the records of the backup at `db` (not the live database) as a bundle."""
    store = Store.open(db)
    try:
        if store.network is None:
            raise Refused("this node has no charter yet, so there is no bundle to write")
        text = bundle.write(store.network, store.raw_records())
    finally:
        store.close()
    tmp = None
    try:
        tmp = b.exclusive_temp(target, 0o640)
        fd = os.open(tmp, os.O_WRONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(target)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise Refused(f"cannot write {target}: {exc.strerror}") from None


@click.command()
@click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def restore(home: Home, backup_file: Path, yes: bool) -> None:
    """Put a backup made by 'meshaid backup' back in place of the ledger.

    Stop the daemon first (sudo systemctl stop meshaid-daemon). The current
    ledger is kept beside it as ledger.db.before-restore-STAMP, never deleted.
    Records the node received after the backup come back from the mesh, or
    from a bundle with 'meshaid import'.

    \b
    Example:
      meshaid restore /var/backups/meshaid/ledger-20261201T030000Z.db
    """
    if not yes:
        if not sys.stdin.isatty():
            raise Refused("restore replaces the ledger: add --yes to confirm")
        click.confirm(f"replace {home.db_path} with {backup_file}?", abort=True)
    _same_node(home, backup_file)
    try:
        aside = b.restore(backup_file, home.db_path)
        store = Store.open(home.db_path)  # migrate an older backup, re-enable WAL
        count = store.count()
        if home.key_path.exists():  # the backup may predate records this key signed
            admin.mark_restored(store, identity.public_bytes(home.key()))
        store.close()
    except StoreError as exc:
        raise Refused(str(exc)) from None
    click.echo(f"restored {count} records from {backup_file}")
    if aside is not None:
        click.echo(f"the previous ledger is kept as {aside}")


def _key_hex(home: Home) -> str:
    """This node's public key in hex: what marks its backups (store/backup.py)."""
    try:
        return identity.public_bytes(home.key()).hex()
    except KeyFileError as exc:
        raise Refused(str(exc)) from None


def _same_node(home: Home, backup_file: Path) -> None:
    """Refuse a backup of another node (its mark names another key) or of
    another network than the one this node's ledger holds."""
    owner = b.owner_of(backup_file) if backup_file.is_file() else None
    if owner is not None and home.key_path.exists() and owner != _key_hex(home):
        raise Refused(f"{backup_file} is a backup of another node (key {owner[:8]}), "
                      "not of this one: restore it there")
    if not (backup_file.is_file() and home.db_path.is_file()):
        return  # (restore says what is missing)
    codes = []
    for path in (home.db_path, backup_file):
        try:
            store = Store.open(path, readonly=True)
        except (StoreError, sqlite3.Error):
            return  # a damaged ledger or backup: restore says what it can
        try:
            codes.append(store.network_code)
        finally:
            store.close()
    here, there = codes
    if here is not None and there is not None and here != there:
        raise Refused(f"{backup_file} holds network {there}, this node's ledger network "
                      f"{here}: not a backup of this node")


COMMANDS = [backup, restore]
