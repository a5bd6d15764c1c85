"""`meshaid tui`: the terminal UI on this node's ledger.

The TUI lives in meshaid.tui and is imported only when this command runs, so
the headless node (daemon, CLI, relays) never loads Textual."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..home import Home
from ..ledger.identity import KeyFileError
from ..store import StoreError
from .common import Refused

TUI_APP = "meshaid.tui.app"


def run_tui(data_dir: Path, *, clock: Callable[[], float] | None = None,
            high_contrast: bool = False, news: Any = None) -> None:
    """Run the TUI on the node at `data_dir` until the user quits; Refused (one
    line) when there is no node there. `clock` replaces wall time (the demo's
    runs fast); `news` is a queue of lines to show as they come."""
    app_module: Any = importlib.import_module(TUI_APP)
    options: dict[str, Any] = {"high_contrast": high_contrast, "news": news}
    if clock is not None:
        options["clock"] = clock
    try:
        app = app_module.create_app(data_dir, **options)
    except (StoreError, KeyFileError, OSError) as exc:
        raise Refused(str(exc)) from None
    app.run()


@click.command()
@click.option("--high-contrast", is_flag=True, help="Start in the high-contrast theme "
              "(the 'c' key toggles it).")
@click.pass_context
def tui(ctx: click.Context, high_contrast: bool) -> None:
    """Open the terminal UI: the board, posting, pledging, members, radio.

    \b
    Example:
      meshaid tui
      meshaid --data-dir /srv/meshaid tui --high-contrast
    """
    home: Home = ctx.obj
    run_tui(home.path, high_contrast=high_contrast)
