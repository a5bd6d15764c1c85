"""Entry point: the `meshaid` group, the global --data-dir option and the
promise that every error is one line on stderr (exit 2 for usage, 1 for
refused input), never a traceback. MESHAID_DEBUG=1 shows tracebacks."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..home import Home, default_data_dir
from . import demo_cmd, ledger_cmds, members_cmds, setup_cmds, transfer_cmds
from .common import Refused


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Node directory (default: $MESHAID_HOME or the XDG data dir).",
)
@click.version_option(package_name="meshaid")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None) -> None:
    """meshaid: a signed ledger of needs and capabilities over a LoRa mesh.

    \b
    Example:
      meshaid init --new-network Port --name Anna --site "Pier 3 clinic"
      meshaid post need "drinking water" --qty 200 --unit L --category water
      meshaid list
    """
    ctx.obj = Home(data_dir or default_data_dir())


for module in (setup_cmds, ledger_cmds, members_cmds, transfer_cmds):
    for command in module.COMMANDS:
        cli.add_command(command)
cli.add_command(demo_cmd.demo)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every failure into one line on stderr."""
    debug = bool(os.environ.get("MESHAID_DEBUG"))
    try:
        cli.main(args=argv, prog_name="meshaid", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("meshaid: aborted", err=True)
        sys.exit(1)
    except click.UsageError as exc:
        if debug:
            raise
        where = f" (see 'meshaid {exc.ctx.command_path.split(' ', 1)[1]} --help')" if (
            exc.ctx and " " in exc.ctx.command_path) else " (see 'meshaid --help')"
        click.echo(f"meshaid: {exc.format_message()}{where}", err=True)
        sys.exit(2)
    except (Refused, click.ClickException) as exc:
        if debug:
            raise
        click.echo(f"meshaid: {exc.format_message()}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("meshaid: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except Exception as exc:  # the last line of defence: still one line, never a traceback
        if debug:
            raise
        click.echo(f"meshaid: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
