"""The meshaid terminal UI: wiring and bindings only.

`create_app(data_dir)` is the one factory the CLI (`meshaid tui`, `meshaid
demo`) and the tests use. The app polls PRAGMA data_version on a read-only
connection every `poll_s` seconds; when the ledger changed it bumps
`generation`, which the live screens watch to re-read their rows in workers,
and re-reads the daemon's status row for the status bar."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.theme import Theme

from meshaid.node.home import Home
from meshaid.node.ledger import identity
from meshaid.node.store import Store, StoreError

from .data import Ledger
from .screens.board import BoardScreen
from .screens.compose import ComposeScreen
from .screens.members import MembersScreen
from .screens.mesh import MeshScreen
from .writes import Writer

NewsQueue = queue.SimpleQueue[str]
HIGH_CONTRAST = Theme(
    name="meshaid-high-contrast", primary="#ffff00", secondary="#00ffff", accent="#ffff00",
    foreground="#ffffff", background="#000000", surface="#000000", panel="#202020",
    boost="#303030", warning="#ffff00", error="#ff6060", success="#00ff00", dark=True,
)
NORMAL_THEME = "textual-dark"
# Screens where the app-wide single-key bindings must not fire.
_TYPING_SCREENS = (ComposeScreen,)

CLOCK_CHECK_S = 300.0  # how often the app checks the wall clock against mesh time


class MeshaidApp(App[None]):
    """The field terminal over one node's ledger."""

    CSS_PATH = "app.tcss"
    TITLE = "meshaid"
    ENABLE_COMMAND_PALETTE = False  # every action has a key in the footer
    MODES: ClassVar[dict[str, Any]] = {
        "board": BoardScreen, "mesh": MeshScreen, "members": MembersScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('board')", "Board"),
        Binding("2", "switch_mode('mesh')", "Mesh"),
        Binding("3", "switch_mode('members')", "Members"),
        Binding("c", "toggle_contrast", "Contrast"),
        Binding("q", "quit", "Quit"),
    ]

    generation: reactive[int] = reactive(0)
    status: reactive[dict[str, Any] | None] = reactive(None, always_update=True)
    now: reactive[float] = reactive(0.0)
    high_contrast: reactive[bool] = reactive(False)

    def __init__(self, ledger: Ledger, writer: Writer, me: str, *,
                 clock: Callable[[], float] = time.time, poll_s: float = 0.5,
                 high_contrast: bool = False, news: NewsQueue | None = None) -> None:
        super().__init__()
        self.ledger = ledger
        self.writer = writer
        self.me = me
        self.clock = clock
        self.poll_s = poll_s
        self.where = ""
        self._version: int | None = None
        self.clock_behind: str | None = None  # the clock warning last shown, if any
        self._clock_next = 0.0  # time.monotonic() of the next clock check
        self._start_contrast = high_contrast
        self.news = news

    def on_mount(self) -> None:
        self.register_theme(HIGH_CONTRAST)
        self.now = self.clock()
        self.high_contrast = self._start_contrast
        self._version = self.ledger.data_version()
        self._read_status()
        self.switch_mode("board")
        self.set_interval(self.poll_s, self.poll)
        self.set_interval(1.0, self._tick)

    def on_unmount(self) -> None:
        self.ledger.close()

    def poll(self) -> None:
        """Bump `generation` if another connection committed since the last poll;
        show lines the demo's story told meanwhile."""
        latest = None
        while self.news is not None and not self.news.empty():
            latest = self.news.get_nowait()
        if latest is not None:  # one at a time: toasts must not hide the board at 80x24
            self.clear_notifications()
            self.notify(latest, title="on the mesh", timeout=6)
        version = self.ledger.data_version()
        if version != self._version:
            self._version = version
            self.generation += 1
            self._read_status()

    def _tick(self) -> None:
        self.now = self.clock()

    @work(thread=True, exclusive=True, group="status")
    def _read_status(self) -> None:
        status = self.ledger.status(self.clock())
        if status is not None:
            status["records_here"] = self.ledger.record_count()
        net = self.ledger.network()
        where = f"{net['my_name']} @ {net['my_site']}".strip(" @")
        behind = self.clock_behind
        if time.monotonic() >= self._clock_next:  # opens a Store: not on every change
            self._clock_next = time.monotonic() + CLOCK_CHECK_S
            try:
                behind = self.writer.clock_warning()
            except StoreError:
                behind = None  # a data dir we cannot open for writing: posting says so
        try:
            self.call_from_thread(self._got_status, status, where, behind)
        except RuntimeError:
            pass  # the app is closing

    def _got_status(self, status: dict[str, Any] | None, where: str,
                    behind: str | None) -> None:
        self.where = where
        self.status = status
        if behind is not None and self.clock_behind is None:  # once, until it is set right
            self.notify(behind, title="clock", severity="warning", timeout=30)
        self.clock_behind = behind

    def watch_high_contrast(self, on: bool) -> None:
        self.theme = HIGH_CONTRAST.name if on else NORMAL_THEME
        self.generation += 1  # cell styles depend on it

    def action_toggle_contrast(self) -> None:
        self.high_contrast = not self.high_contrast

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = isinstance(self.screen, _TYPING_SCREENS)
        return not (typing and action in ("switch_mode", "toggle_contrast", "quit"))


def create_app(data_dir: Path, *, clock: Callable[[], float] = time.time, poll_s: float = 0.5,
               high_contrast: bool = False, news: NewsQueue | None = None) -> MeshaidApp:
    """The TUI on the node at `data_dir`; StoreError if there is no node there.
    `clock` is wall time (the demo's runs fast); `news` lines are shown as
    notifications as they come."""
    home = Home(Path(data_dir))
    if not home.exists():
        raise StoreError(f"no node at {home.path}; run 'meshaid init' first")
    Store.open(home.db_path).close()  # brings the schema up to date before reading it
    key = home.key()
    return MeshaidApp(Ledger(home.db_path), Writer(home.db_path, key, clock),
                      identity.public_bytes(key).hex(), clock=clock, poll_s=poll_s,
                      high_contrast=high_contrast, news=news)
