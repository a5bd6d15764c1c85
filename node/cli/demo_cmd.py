"""`meshaid demo`: the port story on a simulated mesh (node/sim/demo.py).

On a terminal it opens the TUI at the machine shop while the mesh runs in
accelerated real time on a thread; piped (or with --headless) it prints the
story's narrative and exits. The node directories live in a throwaway
directory unless --keep names one: never the user's own node."""

from __future__ import annotations

import math
import os
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

import click

from .common import Finite, Refused

READY_TIMEOUT_S = 60.0
EPOCH_ENV = "MESHAID_DEMO_EPOCH"  # unix seconds the story starts at: the same value, the same run


def _epoch() -> float:
    """The story's start on the wall clock: now, or MESHAID_DEMO_EPOCH (tests and
    bug reports replay one run exactly; records are dated from it)."""
    given = os.environ.get(EPOCH_ENV)
    if not given:
        return time.time()
    try:
        epoch = float(given)
    except ValueError:
        epoch = math.nan
    if not math.isfinite(epoch) or not 0 < epoch < 4e9:
        raise Refused(f"{EPOCH_ENV}={given!r} is not a time in unix seconds "
                      "(e.g. 1780000000); unset it to start the story now")
    return epoch


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path),
              help="Build the sites' node directories here (an empty or new directory) "
                   "and keep them.")
@click.option("--headless", is_flag=True,
              help="Print the story instead of opening the TUI (the default without a "
                   "terminal).")
@click.option("--speed", type=Finite(1, 120), default=10.0, show_default=True,
              help="Simulated seconds per real second in the TUI.")
def demo(keep: Path | None, headless: bool, speed: float) -> None:
    """A blockaded port's sites share needs, offers and pledges over a simulated
    LoRa mesh; you sit at the machine shop.

    \b
    Example:
      meshaid demo                      # the TUI; q quits
      meshaid demo --headless           # the story as text
      meshaid demo --keep /tmp/port     # then: meshaid --data-dir /tmp/port/clinic tui
    """
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise Refused(f"{keep} is not empty; --keep needs an empty or new directory")
    epoch = _epoch()
    interactive = not headless and sys.stdin.isatty() and sys.stdout.isatty()
    with tempfile.TemporaryDirectory(prefix="meshaid-demo-") as tmp:
        base = keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        if interactive:
            _interactive(base, speed, epoch)
        else:
            _headless(base, epoch)
        if keep is not None:
            click.echo(f"The sites' node directories are in {keep}; open one with "
                       f"'meshaid --data-dir {keep / 'machine-shop'} tui'.")


def _headless(base: Path, epoch: float) -> None:
    from ..sim.demo import PortDemo

    click.secho("meshaid demo: a blockaded port, nine sites, one simulated LoRa mesh "
                "(simulated time, mm:ss)", bold=True)
    world = PortDemo(base, epoch=epoch, say=click.echo)
    try:
        result = world.run_headless()
    finally:
        world.close()
    sites = result["records_per_site"]
    click.secho("\nAfter the story:", bold=True)
    click.echo(f"  {result['posted']} records signed during the story, "
               f"{result['deliveries']} deliveries over the radio")
    click.echo("  records held: " + ", ".join(f"{k} {v}" for k, v in sites.items()))
    click.echo("  every site holds the same ledger" if result["in_step"]
               else "  some sites are still catching up")
    click.echo(f"  the machine shop's radio used {result['seat_airtime_s']} s of air time "
               f"(budget {result['budget_s']:.0f} s an hour)")
    click.echo("On a terminal, 'meshaid demo' opens this story in the TUI at the machine shop.")


def _interactive(base: Path, speed: float, epoch: float) -> None:
    from ..sim.demo import PortDemo
    from .tui_cmd import run_tui

    news: queue.SimpleQueue[str] = queue.SimpleQueue()
    ready, stop = threading.Event(), threading.Event()
    box: dict[str, object] = {}

    def mesh() -> None:
        try:
            world = PortDemo(base, epoch=epoch, say=None, headlines=news.put)
            box["world"] = world
            ready.set()
            try:
                world.run_realtime(speed, stop)
            finally:
                world.close()
        except Exception as exc:  # noqa: BLE001 - reported after the TUI closes
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=mesh, name="meshaid-demo", daemon=True)
    thread.start()
    ready.wait(READY_TIMEOUT_S)
    world = box.get("world")
    try:
        if not isinstance(world, PortDemo):
            raise Refused(f"the demo could not start: {box.get('error', 'timed out')}")
        run_tui(world.seat_dir(), clock=world.wall, news=news)
    finally:
        stop.set()
        thread.join(10)
    if "error" in box:
        raise Refused(f"the demo mesh stopped: {box['error']}")
