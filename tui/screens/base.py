"""`LiveScreen`: a screen with the status bar on top and the footer below that
re-reads its data in a worker whenever the ledger changed.

The app counts ledger changes in its `generation` reactive (it polls PRAGMA
data_version); each live screen watches it and calls `reload()`. A screen that
is not the current one only notes that it is stale and reloads when it comes
back, so hidden screens cost nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from ..app import MeshaidApp


class LiveScreen(Screen[Any]):
    """Status bar, the screen's body, footer; `reload()` on every ledger change."""

    _stale = False

    @property
    def node(self) -> MeshaidApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        app = self.node
        self.watch(app, "generation", self._changed, init=False)
        self.watch(app, "status", self._status, init=True)
        self.watch(app, "now", self._status, init=False)
        self.reload()

    def _status(self, _value: object = None) -> None:
        bar = self.query_one(StatusBar)
        bar.now = self.node.now
        bar.where = self.node.where
        bar.status = self.node.status

    def _changed(self, _generation: int) -> None:
        if self.is_current:
            self.reload()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> None:
        """Read this screen's rows again (in a worker) and show them."""

    def show_later(self, callback: Any, *args: Any) -> None:
        """From a worker thread: run `callback(*args)` on the UI thread, unless
        the app has already gone."""
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass
