"""export and import: signed bundles, so that a USB stick is a transport."""

from __future__ import annotations

import collections
import hashlib
import json
import sys
from pathlib import Path

import click

from ..ledger import bundle, identity
from .common import Refused, opened


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export_cmd(ctx: click.Context, file: Path) -> None:
    """Write every stored record to FILE as a signed bundle ('-' for stdout).

    \b
    Example:
      meshaid export /media/usb/port-ledger.bundle
    """
    with opened(ctx) as (_home, store):
        if store.network is None:
            raise Refused("this node has no charter yet, so nothing to export")
        text = bundle.write(store.network, store.raw_records())
        count = store.count()
    if str(file) == "-":
        click.echo(text, nl=False)
        return
    tmp = file.with_name(file.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(file)
    except OSError as exc:
        raise Refused(f"cannot write {file}: {exc.strerror}") from None
    click.echo(f"exported {count} records to {file}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Verify and store the records of a bundle; report each rejection.

    Exits 1 if any record was rejected (the others are still stored). A bundle
    carries the hello of every author it has records of, so a record whose
    author stays unknown is damaged or forged: it is rejected, not kept.

    \b
    Example:
      meshaid import /media/usb/port-ledger.bundle
    """
    try:
        if str(file) == "-":
            text = sys.stdin.read()
        else:
            text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        network, lines = bundle.read(text)
    except bundle.BundleError as exc:
        raise Refused(f"{file}: {exc}") from None
    with opened(ctx) as (home, store):
        code = identity.network_code(network)
        if store.network is not None and store.network != network:
            raise Refused(f"{file} belongs to network {code}, this node to {store.network_code}")
        if store.network is None and store.network_code != code:
            raise Refused(f"{file} belongs to network {code}, this node expects {store.network_code}")
        items = list(lines)
        raws = [item.raw for item in items if item.raw is not None]
        held_before = {bytes(h) for (h,) in store.db.execute("SELECT hash FROM held")}
        outcomes = store.ingest_many(raws)
        report: collections.Counter[str] = collections.Counter()
        problems = []
        it = iter(outcomes)
        for item in items:
            if item.raw is None:
                report["rejected"] += 1
                problems.append({"line": item.number, "status": "rejected",
                                 "reason": "bad-encoding", "detail": item.error})
                continue
            outcome = next(it)
            status, detail = outcome.status, outcome.detail
            if status == "held":
                digest = hashlib.sha256(item.raw).digest()
                if store.db.execute("SELECT 1 FROM records WHERE hash = ?", [digest]).fetchone():
                    status = "accepted"  # held, then its author's hello came later in the file
                elif digest not in held_before:
                    store.db.execute("DELETE FROM held WHERE hash = ?", [digest])
                    status = "rejected"
                    detail = ("its author's hello is neither in this bundle nor on this node"
                              if outcome.reason == "unknown-author"
                              else "the network's charter was not accepted")
            report[status] += 1
            if status in ("rejected", "held"):
                problems.append({"line": item.number, "status": status, "reason": outcome.reason,
                                 "detail": detail})
        home.ensure_hello(store)
    result = {"accepted": report["accepted"], "duplicate": report["duplicate"],
              "held": report["held"], "rejected": report["rejected"], "problems": problems}
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(f"accepted {result['accepted']}, duplicate {result['duplicate']}, "
                   f"held {result['held']}, rejected {result['rejected']}")
        for p in problems:
            click.echo(f"  line {p['line']}: {p.get('status', 'rejected')}: {p['reason']}"
                       + (f" ({p['detail']})" if p["detail"] else ""))
    if report["rejected"]:
        raise click.exceptions.Exit(1)


COMMANDS = [export_cmd, import_cmd]
