"""Shared helpers of the CLI commands: opening the node, parsing durations,
turning library errors into `Refused`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import click

from ..home import Home
from ..ledger.identity import KeyFileError
from ..ledger.vocab import code_for
from ..store import Store, StoreError


class Refused(click.ClickException):
    """Input the node refuses: exit 1 with one line."""

    exit_code = 1


@contextlib.contextmanager
def opened(ctx: click.Context) -> Iterator[tuple[Home, Store]]:
    """Open the node's store, mapping library errors to one-line refusals."""
    home: Home = ctx.obj
    try:
        store = home.open_store()
    except StoreError as exc:
        raise Refused(str(exc)) from None
    try:
        yield home, store
    except (StoreError, KeyFileError, ValueError) as exc:
        raise Refused(str(exc)) from None
    finally:
        store.close()


_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw]?)\s*$")
_UNIT_MIN = {"": 60, "m": 1, "h": 60, "d": 1440, "w": 10080}


def parse_minutes(text: str | None, what: str) -> int:
    """'90m', '12h', '3d', '2w' (bare numbers are hours) -> minutes; 0 for none."""
    if text is None or text.strip() in ("", "0", "never"):
        return 0
    match = _DURATION.match(text.lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a duration like 90m, 12h, 3d or 2w", param_hint=what)
    return int(match.group(1)) * _UNIT_MIN[match.group(2)]


def vocab_option(table: dict[int, str], value: str | None, what: str) -> int | None:
    if value is None:
        return None
    try:
        return code_for(table, value, what)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{what}") from None


def choices(table: dict[int, str]) -> click.Choice:
    return click.Choice([v for v in table.values() if v], case_sensitive=False)
