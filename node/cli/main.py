"""Entry point: the `meshaid` group, the global --data-dir option and the
promise that every error is one line on stderr, never a traceback: exit 2 for
input that can never be right (usage), 1 for input the node refuses given its
ledger, 130 for Ctrl-C. MESHAID_DEBUG=1 shows tracebacks."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import sys
import threading
from pathlib import Path

import click

from ..home import Home, default_data_dir
from ..store.check import disk_trouble
from . import (
    attention_cmds,
    backup_cmds,
    bench_cmd,
    check_cmd,
    demo_cmd,
    doctor_cmd,
    gc_cmd,
    interop_cmds,
    ledger_cmds,
    match_cmd,
    members_cmds,
    radio_cmds,
    setup_cmds,
    transfer_cmds,
    tui_cmd,
)
from .common import Refused
from .daemon_cmds import COMMANDS as DAEMON_COMMANDS


def _data_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    if value is not None and not value.strip():
        raise click.BadParameter("an empty path (it would mean the current directory)")
    return None if value is None else Path(value)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None, callback=_data_dir,
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
    path = data_dir or default_data_dir()
    if path.exists() and not path.is_dir():
        where = "--data-dir" if data_dir else "MESHAID_HOME" if os.environ.get(
            "MESHAID_HOME") else "the data directory"
        raise click.UsageError(f"{where} {path} is a file, not a directory", ctx)
    ctx.obj = Home(path)


for module in (setup_cmds, ledger_cmds, match_cmd, members_cmds, transfer_cmds, interop_cmds,
               attention_cmds, backup_cmds, doctor_cmd, gc_cmd):
    for command in module.COMMANDS:
        cli.add_command(command)
cli.add_command(demo_cmd.demo)
cli.add_command(radio_cmds.fake_radio)
for command in DAEMON_COMMANDS:
    cli.add_command(command)
cli.add_command(bench_cmd.bench)
cli.add_command(check_cmd.check_cmd)
cli.add_command(tui_cmd.tui)


def _one_line(message: str) -> str:
    """Click spreads some messages (choices of a missing option) over lines."""
    return " ".join(message.split())


# click >= 8.2 raises this for a group called without a command; its message is
# the whole help text.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())


class Interrupted(BaseException):
    """Ctrl-C, raised past click (which would turn a KeyboardInterrupt into an
    Abort with an extra blank line): open transactions roll back on the way out."""


def _interrupt(_signum: int, _frame: object) -> None:
    raise Interrupted


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every failure into one line on stderr."""
    debug = bool(os.environ.get("MESHAID_DEBUG"))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupt)
    if sys.stdout is None:  # started with its output closed: what it says would be lost
        if sys.stderr is not None:
            print("meshaid: standard output is closed", file=sys.stderr)
        sys.exit(1)
    if argv is None:
        argv = sys.argv[1:]
    if not argv and sys.stdin.isatty() and sys.stdout.isatty():
        argv = ["tui"]  # plain `meshaid` on a terminal opens the TUI
    try:
        # Without standalone mode click *returns* the code of a ctx.exit(n) or
        # `raise Exit(n)` inside a command instead of raising it.
        code = cli.main(args=argv, prog_name="meshaid", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
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
        message = "missing command" if isinstance(exc, _NO_ARGS) else exc.format_message()
        click.echo(f"meshaid: {_one_line(message)}{where}", err=True)
        sys.exit(2)
    except (Refused, click.ClickException) as exc:
        if debug:
            raise
        click.echo(f"meshaid: {_one_line(exc.format_message())}", err=True)
        sys.exit(1)
    except (Interrupted, KeyboardInterrupt):
        click.echo("meshaid: interrupted", err=True)
        sys.exit(130)
    except sqlite3.DatabaseError as exc:
        if debug:
            raise
        if disk_trouble(str(exc)):
            click.echo(f"meshaid: cannot write the ledger ({_one_line(str(exc))}): the disk "
                       "may be full or failing; free some space and try again", err=True)
        else:
            click.echo(f"meshaid: the node's database is damaged ({_one_line(str(exc))}); "
                       "run 'meshaid check' to see what can be saved", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as exc:  # a disk full or read-only, output that cannot be written
        if debug:
            raise
        writing = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EBADF, errno.EIO)
        where = f"{exc.filename}: " if exc.filename else "cannot write: " if writing else ""
        click.echo(f"meshaid: {where}{_one_line(exc.strerror or str(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # the last line of defence: still one line, never a traceback
        if debug:
            raise
        click.echo(f"meshaid: internal error: {type(exc).__name__}: {_one_line(str(exc))}",
                   err=True)
        sys.exit(1)
