"""export --format hxl|json|edxl-rm and import-csv: the ledger in and out of the
formats responders use (node/interop, node/INTEROP.md)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from .. import actions
from ..interop import compact as compact_bundle
from ..interop import csvin, edxl, hxl, importer, tags
from .common import failures, opened

FORMATS = ["bundle", "hxl", "json", "edxl-rm"]
SHOW_PROBLEMS = 200  # rows with problems listed one by one; the rest are counted


def export_other(ctx: click.Context, fmt: str, file: Path, force: bool,
                 need_id: str | None, compact: bool = False,
                 offer_id: str | None = None) -> None:
    """The non-bundle exports of `meshaid export`, and the compacted bundle (see
    its help)."""
    if compact and fmt != "bundle":
        raise click.UsageError("--compact goes with --format bundle", ctx)
    if need_id is not None and offer_id is not None:
        raise click.UsageError("give --need or --offer, not both", ctx)
    kind = "offer" if offer_id is not None else "need"
    need_id = need_id if offer_id is None else offer_id
    if fmt == "edxl-rm" and need_id is None:
        raise click.UsageError("--format edxl-rm exports one need or offer: give "
                               "--need NEED_ID or --offer OFFER_ID", ctx)
    if fmt != "edxl-rm" and need_id is not None:
        raise click.UsageError(f"--{kind} goes with --format edxl-rm", ctx)
    with opened(ctx, write=False) as (home, store):
        if compact:
            def write(out: Any) -> int:
                return compact_bundle.write_records(store, out)
            what = "records"
        elif fmt == "edxl-rm":
            assert need_id is not None
            with failures():
                short, seq = actions.inputs.record_id(need_id)

            def write(out: Any) -> int:
                return edxl.write_need(store, short, seq, out, kind=kind)
            what = "pledges"
        else:
            def write(out: Any) -> int:
                return (hxl.write_csv if fmt == "hxl" else hxl.write_json)(store, out)
            what = "needs, offers and pledges"
        if str(file) == "-":
            count = write(sys.stdout)
            sys.stdout.flush()
            return
        from ..interop import files

        count = files.write_text(store, file, write, force=force, protect=[home.key_path])
    if compact:
        click.echo(f"exported {count} records (superseded versions left out) to {file}")
    elif fmt == "edxl-rm" and kind == "offer":
        click.echo(f"exported offer {need_id} to {file}")
    elif fmt == "edxl-rm":
        click.echo(f"exported need {need_id} with {count} {what} to {file}")
    else:
        click.echo(f"exported {count} {what} to {file}")


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        # --map COLUMN=FIELD: a header may hold '='; --set FIELD=VALUE: a value may
        source, sep, target = value.rpartition("=") if option == "--map" else value.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise click.UsageError(f"{option} {value!r}: write it as LEFT=RIGHT")
        if out.get(source.strip(), target.strip()) != target.strip():
            raise click.UsageError(f"{option} gives {source.strip()!r} twice: "
                                   f"{out[source.strip()]!r} and {target.strip()!r}")
        out[source.strip()] = target.strip()
    return out


@click.command("import-csv")
@click.argument("file", metavar="FILE")
@click.option("--as", "as_kind", type=click.Choice(["needs", "offers", "auto"]), required=True,
              help="Sign the rows as needs or offers; auto: the file's kind column "
              "(#meta+kind) decides, as in an HXL export.")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help="Read FIELD from COLUMN (a header, or an HXL tag pattern like "
              "#item+num). Fields: " + ", ".join(csvin.FIELDS) + ".")
@click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
              help="Use VALUE where the file has no FIELD column or the cell is empty.")
@click.option("--valid-for", default="7d", show_default=True,
              help="Expiry of rows without a valid-until date: 90m, 12h, 3d, 2w or 'never'.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; sign nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_csv(ctx: click.Context, file: str, as_kind: str, maps: tuple[str, ...],
               sets: tuple[str, ...], valid_for: str, dry_run: bool, as_json: bool) -> None:
    """Sign the rows of a stock list or shipping manifest (CSV, plain or HXL;
    '-' reads standard input) as this node's offers or needs.

    Every row is checked first; if any is wrong, each bad row is listed with
    its reason and nothing is signed (exit 1). Otherwise all rows are signed
    in one transaction. Rows that are not for this import (pledges, closed or
    expired or quarantined records of an HXL export) are skipped and counted.

    \b
    Examples:
      meshaid import-csv manifest.csv --as offers --set category=logistics \\
          --map "Contents=text" --map "Count=qty"
      meshaid import-csv port.csv --as auto        # an 'export --format hxl' file
      meshaid --data-dir dock export --format hxl - | meshaid import-csv - --as auto
    """
    if not file.strip():  # Path('') would be '.', "not a regular file"
        raise click.UsageError("give a CSV file name, or - for standard input")
    mapping = {k: v for k, v in _pairs(maps, "--map").items()}
    defaults = _pairs(sets, "--set")
    with opened(ctx, write=not dry_run) as (home, store):
        with failures():
            plan = csvin.read(Path(file), as_kind, now=store.mesh_now(), mapping=mapping,
                              defaults=defaults, valid_for=valid_for)
        records = []
        if not plan.problems and not dry_run and plan.rows:
            total = len(plan.rows)
            show = total > importer.PROGRESS_EVERY and not as_json

            def progress(done: int, total: int) -> None:
                if show:
                    click.echo(f"signed {done}/{total}", err=True)
            with failures():
                records = importer.sign_plan(store, home.key(), plan, progress=progress)
    ids = [actions.record_id(rec.short_author, rec.seq) for rec in records]
    if as_json:
        click.echo(json.dumps({
            "signed": ids, "dry_run": dry_run, "checked": len(plan.rows),
            "columns": plan.columns, "hxl": plan.hxl, "tag_matching": tags.BACKEND,
            "skipped": [{"line": s.line, "reason": s.reason} for s in plan.skipped],
            "problems": [{"line": p.line, "reason": p.reason} for p in plan.problems],
        }, indent=2, ensure_ascii=False))
    else:
        _report(plan, ids, dry_run, file)
    if plan.problems:
        raise click.ClickException(
            f"{len(plan.problems)} of {len(plan.rows) + len(plan.problems)} rows of {file} "
            "have problems (listed above); nothing was signed")


def _report(plan: csvin.Plan, ids: list[str], dry_run: bool, file: str) -> None:
    mapped = ", ".join(f"{name}<-{source}" for name, source in plan.columns.items())
    click.echo(f"columns: {mapped}")
    for problem in plan.problems[:SHOW_PROBLEMS]:
        click.echo(f"line {problem.line}: {problem.reason}")
    if len(plan.problems) > SHOW_PROBLEMS:
        click.echo(f"... and {len(plan.problems) - SHOW_PROBLEMS} more rows with problems")
    reasons = Counter(s.reason for s in plan.skipped)
    first: dict[str, int] = {}
    for s in plan.skipped:
        first.setdefault(s.reason, s.line)
    for reason, count in sorted(reasons.items(), key=lambda kv: first[kv[0]]):
        click.echo(f"skipped {count} x {reason} (first at line {first[reason]})")
    if plan.problems:
        return
    kinds = Counter("need" if isinstance(row.body, csvin.r.Need) else "offer"
                    for row in plan.rows)
    what = " and ".join(f"{n} {k}s" if n != 1 else f"1 {k}" for k, n in sorted(kinds.items()))
    if dry_run:
        click.echo(f"checked {len(plan.rows)} rows of {file}: would sign {what or 'nothing'}")
    elif ids:
        span = ids[0] if len(ids) == 1 else f"{ids[0]} .. {ids[-1]}"
        click.echo(f"signed {what} from {file}: {span}")
    else:
        click.echo(f"nothing to sign in {file}")


COMMANDS = [import_csv]
