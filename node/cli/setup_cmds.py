"""init, whoami, key export, key import."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..actions import inputs
from ..home import Home
from ..ledger import identity
from ..ledger.records import NAME_MAX, SITE_MAX
from ..ledger.vocab import ROLES
from ..store import admin
from ..store import queries as q
from .common import Refused, choices, failures, opened

PAPER_MAX = 4096  # characters of a paper backup read at most (stdin may be /dev/zero)


@click.command()
@click.option("--new-network", "new_network", metavar="NAME", help="Found a new network with this name.")
@click.option("--join", metavar="ID", help="Join the network with this id (XXXX-XXXX-XXXX).")
@click.option("--name", default="", help="Your display name (24 bytes at most).")
@click.option("--site", default="", help="Your site, e.g. 'Pier 3 clinic'.")
@click.option("--role", type=choices(ROLES), default="field", show_default=True)
@click.option("--reset", is_flag=True, help="Start this node over (wrong network, damaged "
              "ledger): the old ledger.db is kept beside it as a backup, the key is kept.")
@click.pass_obj
def init(home: Home, new_network: str | None, join: str | None, name: str, site: str, role: str,
         reset: bool) -> None:
    """Create this node: a key, a database, and a network to found or join.

    A key already in the data directory (from 'meshaid key import') is used,
    and its next record jumps to a fresh range of sequence numbers, so it never
    repeats one the lost node signed.

    \b
    Examples:
      meshaid init --new-network Port --name Anna --site "Pier 3 clinic"
      meshaid init --join <the id the founder's init printed> --name Bo --site "Foundry"
      meshaid init --reset --join <the right id> --name Bo   # joined the wrong network
    """
    if new_network is not None and not new_network.strip():
        raise click.UsageError("--new-network needs a name for the network, like Port")
    if join is not None and not join.strip():
        raise click.UsageError("--join needs the network id the founder's init printed")
    if bool(new_network) == bool(join):
        raise click.UsageError("give exactly one of --new-network NAME or --join ID")
    with failures():
        if reset and not home.writable():
            raise Refused(f"{home.path} is read-only, so it cannot be reset")
        # Everything typed is checked before a reset moves anything: a name too
        # long must not leave a node with its ledger set aside and none in its place.
        my_name = inputs.text(name, NAME_MAX, "--name")
        my_site = inputs.text(site, SITE_MAX, "--site")
        my_role = inputs.vocab(ROLES, role, "role")
        network = inputs.text(new_network, NAME_MAX, "the network's name") \
            if new_network else None
        if join:
            identity.parse_network_code(join)  # a typo must not reset anything
        aside = None
        if reset and (home.db_path.exists() or Path(f"{home.db_path}-wal").exists()):
            aside = home.reset()
        store = home.create(name=my_name, site=my_site, role=my_role, new_network=network,
                            join=join)
    key = identity.public_bytes(home.key())
    if aside is not None:
        click.echo(f"the old ledger is kept as {aside}")
    click.echo(f"node created in {home.path}")
    click.echo(f"key      {identity.short_id(key).hex()}  ({key.hex()})")
    if new_network:
        click.echo(f"network  {new_network}  id {store.network_code}")
        click.echo("hand this id to people who join: meshaid init --join " + str(store.network_code))
    else:
        click.echo(f"waiting for the charter of network {store.network_code}:")
        click.echo("import a bundle from a member (meshaid import FILE) or let the daemon sync")
    store.close()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def whoami(ctx: click.Context, as_json: bool) -> None:
    """Show this node's key, name, network and membership.

    \b
    Example:
      meshaid whoami
    """
    with opened(ctx, write=False) as (home, store):
        key = identity.public_bytes(home.key())
        member = next((m for m in q.members(store) if m["key"] == key.hex()), None)
        info = {
            "key": key.hex(),
            "short": identity.short_id(key).hex(),
            "name": store.meta("my_name") or "",
            "site": store.meta("my_site") or "",
            "network": store.network_code,
            "network_name": store.meta("network_name") or "",
            "charter_known": store.network is not None,
            "membership": member["status"] if member else "not admitted",
            "records": store.count(),
            "data_dir": str(home.path),
        }
    if as_json:
        import json

        click.echo(json.dumps(info, indent=2))
        return
    for label, value in info.items():
        click.echo(f"{label:<13} {value}")


@click.group()
def key() -> None:
    """Back up or restore this node's private key on paper.

    \b
    Examples:
      meshaid key export
      meshaid key import "ABCD-EFGH-..."
    """


@key.command("export")
@click.pass_obj
def key_export(home: Home) -> None:
    """Print the private key as base32 with a checksum, for a paper backup.

    \b
    Example:
      meshaid key export > /dev/null   # then copy it by hand
    """
    try:
        secret = home.key()
    except identity.KeyFileError as exc:
        raise Refused(str(exc)) from None
    click.echo(identity.paper_backup(secret))


@key.command("import")
@click.argument("backup", required=False)
@click.option("--force", is_flag=True, help="Replace an existing, different key.")
@click.pass_obj
def key_import(home: Home, backup: str | None, force: bool) -> None:
    """Restore a private key from its paper backup (argument, or stdin when
    absent or '-').

    Into an empty data directory, then 'meshaid init --join CODE' and
    'meshaid import BUNDLE' (or sync): the restored key's next record jumps to a
    fresh range of sequence numbers, so it never repeats one the lost node
    signed, even if the bundle is older than the lost node.

    \b
    Example:
      meshaid --data-dir /srv/meshaid key import "0A1B-2C3D-..."
      meshaid key import - < paper-key.txt
    """
    text = backup if backup not in (None, "-") else sys.stdin.read(PAPER_MAX + 1)
    if len(text) > PAPER_MAX:
        raise Refused(f"key not imported: a paper backup is 72 characters; more than "
                      f"{PAPER_MAX} came in (not a paper backup)")
    try:
        secret = identity.from_paper_backup(text)
    except identity.KeyFileError as exc:
        raise Refused(f"key not imported: {exc}") from None
    if home.key_path.exists():
        existing = home.key()
        if identity.seed_bytes(existing) == identity.seed_bytes(secret):
            click.echo("this key is already installed")
            return
        if not force:
            raise Refused(f"{home.key_path} holds a different key; use --force to replace it")
    home.path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with failures():
        store = home.open_store() if home.db_path.exists() else None
        try:
            identity.write_key_file(home.key_path, secret)
            if store is not None:
                admin.mark_restored(store, identity.public_bytes(secret))
        finally:
            if store is not None:
                store.close()
    click.echo(f"key {identity.short_id(identity.public_bytes(secret)).hex()} restored to {home.key_path}")


COMMANDS = [init, whoami, key]
