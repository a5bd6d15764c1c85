"""`ByteMeter`: how much of a text field's byte budget the typed text uses.

Records fit one radio packet, so text limits are in UTF-8 bytes, not characters;
an accented letter or an emoji costs more than one."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ..format import bar


class ByteMeter(Static):
    """Shows 'text 34/72 bytes' with a bar; past the limit it says 'too long'."""

    DEFAULT_CSS = """
    ByteMeter {
        height: 1;
        width: 1fr;
    }
    """

    used: reactive[int] = reactive(0)

    def __init__(self, limit: int, label: str = "text", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.limit = limit
        self.label = label

    def measure(self, text: str) -> None:
        self.used = len(text.encode("utf-8"))

    def render(self) -> Text:
        over = self.used > self.limit
        style = "bold red" if over else ("yellow" if self.used > 0.8 * self.limit else "green")
        line = Text(f"{self.label} ")
        line.append(bar(self.used / self.limit, 12), style=style)
        line.append(f" {self.used}/{self.limit} bytes")
        if over:
            line.append(f"  too long by {self.used - self.limit}", style="bold red")
        return line
