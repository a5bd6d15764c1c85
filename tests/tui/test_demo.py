"""`meshaid demo`: the README's first command. Piped it prints the story and
exits 0; in process, records the user signs at the seat go out on the
simulated mesh, the seat's status row follows the daemon's format, and the TUI
on the seat fills live."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

from meshaid.node import actions
from meshaid.node.daemon.status import read_status
from meshaid.node.sim.demo import PortDemo
from meshaid.node.sim.demo_story import SEAT, STEWARD
from meshaid.node.store import Store
from meshaid.node.store import queries as q
from meshaid.tui.app import create_app
from meshaid.tui.widgets.status_bar import StatusBar

from .helpers import board_shows, env_without_tty, static_text, wait_for

EPOCH = 1_780_000_000.0


def test_piped_demo_prints_the_story_and_exits_0(tmp_path: Path) -> None:
    env = env_without_tty() | {"MESHAID_DEMO_EPOCH": str(EPOCH)}  # one run, not today's
    result = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "demo", "--keep",
                             str(tmp_path / "port")], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "CRITICAL need: drinking water" in out
    assert "reached your machine shop" in out
    assert "The dock pledges water from the container" in out
    assert "The district is back in step" in out
    assert "The school shelter caught up" in out
    assert "every site holds the same ledger" in out
    assert (tmp_path / "port" / "machine-shop" / "ledger.db").exists()
    again = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "demo", "--keep",
                            str(tmp_path / "port")], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, env=env_without_tty(), timeout=60,
                           check=False)
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "not empty" in again.stderr
    bad = subprocess.run([sys.executable, "-m", "meshaid.node.cli", "demo"], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=60, check=False,
                         env=env_without_tty() | {"MESHAID_DEMO_EPOCH": "yesterday"})
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1
    assert "MESHAID_DEMO_EPOCH='yesterday' is not a time" in bad.stderr


def test_a_record_signed_at_the_seat_goes_out_on_the_mesh(tmp_path: Path) -> None:
    demo = PortDemo(tmp_path, epoch=EPOCH, say=None)
    try:
        demo.start()
        demo.events.run_until(30.0)
        seat = demo.seat_dir()
        other = Store.open(seat / "ledger.db", wall=demo.wall)  # as the TUI writes
        try:
            key = demo.nodes[SEAT].key
            rec = actions.post_offer(other, key, "M6 brackets, laser + brake",
                                     category="sheet-metal", qty=40, offer_type="capacity",
                                     per="day", now=demo.wall())
        finally:
            other.close()
        rid = f"{rec.short_author.hex()}-{rec.seq}"
        demo.events.run_until(90.0)
        clinic = demo.nodes[STEWARD].store
        assert q.get_object(clinic, rid, demo.wall())["text"] == "M6 brackets, laser + brake"
        status = read_status(demo.nodes[SEAT].store, wall=demo.wall())
        assert status is not None and status["state"] == "running" and status["link"] == "up"
        assert status["peers"] and status["airtime_used_s"] > 0
        assert status["airtime_budget_s"] == 180.0
        assert status["outbox"] == 0  # the offer went on air
    finally:
        demo.close()


def test_the_tui_on_the_seat_fills_live(tmp_path: Path) -> None:
    ready, stop = threading.Event(), threading.Event()
    box: dict[str, PortDemo] = {}

    def mesh() -> None:
        demo = PortDemo(tmp_path, epoch=EPOCH, say=None)
        box["demo"] = demo
        ready.set()
        try:
            demo.run_realtime(30.0, stop)
        finally:
            demo.close()

    thread = threading.Thread(target=mesh, daemon=True)
    thread.start()
    assert ready.wait(60)
    demo = box["demo"]

    async def main() -> None:
        app = create_app(demo.seat_dir(), clock=demo.wall, poll_s=0.1)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: board_shows(app, "drinking water"), "the water need",
                           timeout=60)
            bar = app.screen.query_one(StatusBar)
            await wait_for(pilot, lambda: "radio up" in static_text(bar), "the seat's radio",
                           timeout=30)
            await wait_for(pilot, lambda: board_shows(app, "800/2000 L"),
                           "the dock's pledge lowering what remains", timeout=60)

    try:
        asyncio.run(main())
    finally:
        stop.set()
        thread.join(30)


def test_headlines_are_whole_sentences(tmp_path: Path) -> None:
    """What the TUI pops up from the story ends in a sentence, never in the colon
    that, in the printed story, leads to the record's details on the next line."""
    lines: list[str] = []
    story: list[str] = []
    demo = PortDemo(tmp_path, epoch=EPOCH, say=story.append, headlines=lines.append)
    try:
        demo.start()
        demo.events.run_until(240.0)
    finally:
        demo.close()
    assert any("pledges printed splints" in line for line in lines)
    assert any(line.endswith("pledges printed splints:") for line in story)
    assert lines and not [line for line in lines if line.endswith(":")]
