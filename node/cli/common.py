"""Shared helpers of the CLI commands: opening the node, turning library errors
into one-line refusals (exit 1) or usage errors (exit 2)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from ..actions import ActionError
from ..home import Home
from ..ledger.identity import KeyFileError
from ..store import Store, StoreError


class Refused(click.ClickException):
    """Input the node refuses: exit 1 with one line."""

    exit_code = 1


def refusal(exc: Exception) -> click.ClickException:
    """The CLI form of a library error: usage (exit 2) for input that can never be
    right, a refusal (exit 1) otherwise."""
    if isinstance(exc, ActionError) and exc.usage:
        return click.UsageError(str(exc), click.get_current_context(silent=True))
    return Refused(str(exc))


@contextlib.contextmanager
def failures() -> Iterator[None]:
    """Turn library errors raised inside into one-line CLI errors."""
    try:
        yield
    except (StoreError, KeyFileError) as exc:
        raise refusal(exc) from None


@contextlib.contextmanager
def opened(ctx: click.Context, *, write: bool = True) -> Iterator[tuple[Home, Store]]:
    """Open the node's store (read-only when `write` is False), mapping library
    errors to one-line refusals and printing the home's warnings once."""
    home: Home = ctx.obj
    with failures():
        store = home.open_store(readonly=not write)
    for warning in home.warnings():
        click.echo(f"meshaid: warning: {warning}", err=True)
    try:
        with failures():
            yield home, store
    finally:
        store.close()


def choices(table: dict[int, str]) -> click.Choice:
    return click.Choice([v for v in table.values() if v], case_sensitive=False)
