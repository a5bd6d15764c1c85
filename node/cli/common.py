"""Shared helpers of the CLI commands: opening the node, turning library errors
into one-line refusals (exit 1) or usage errors (exit 2)."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from typing import Any

import click

from ..actions import ActionError
from ..home import Home
from ..ledger.identity import KeyFileError
from ..store import Store, StoreError
from . import fmt


class Finite(click.FloatRange):
    """A float option in a range that refuses nan and inf (nan passes every
    comparison a plain range makes)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return float(number)


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
            behind = clock_warning(store)
            if behind:
                click.echo(f"meshaid: warning: {behind}", err=True)
    finally:
        store.close()


def clock_warning(store: Store) -> str | None:
    """A warning when this machine's wall clock is far behind mesh time (no
    real-time clock, no network time): records are still dated in mesh time
    (the hybrid clock follows the newest trusted records), but the clock
    should be set. Checked after a command, so an import that brought mesh
    time warns at once."""
    report = store.clock_report()
    if not report["wall_behind"]:
        return None
    wall, mesh = float(report["wall"]), float(report["mesh"])
    stamp = "%Y-%m-%d %H:%M UTC"
    return (f"this machine's clock ({time.strftime(stamp, time.gmtime(max(0.0, wall)))}) is "
            f"{fmt.span(mesh - wall)} behind the mesh ({time.strftime(stamp, time.gmtime(mesh))}); "
            "records are dated in mesh time, but set the clock (a real-time clock, GPS or "
            "'date -s')")


class _AnyCase(click.Choice):
    """Choices taken in any case, shown as the vocabulary spells them (click
    lowercases them: 'l|ml|kwh', where errors and lists say L, mL, kWh)."""

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "[" + "|".join(str(c) for c in self.choices) + "]"

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        return f"{value!r} is not one of {', '.join(str(c) for c in self.choices)}"


def choices(table: dict[int, str]) -> click.Choice:
    return _AnyCase([v for v in table.values() if v], case_sensitive=False)
