"""`Confirm`: a yes/no question that names exactly what will be signed."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class Confirm(ModalScreen[tuple[bool, str]]):
    """Answers (yes?, reason); y or enter confirms, n or escape refuses. With
    `ask_reason` a short reason can be typed first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: str, ask_reason: bool = False) -> None:
        super().__init__()
        self.question = question
        self.ask_reason = ask_reason

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(self.question, id="question")
            if self.ask_reason:
                yield Input(placeholder="reason (optional), then enter", id="reason",
                            max_length=40, compact=True)
            yield Static("[b]y[/b] yes, sign it   [b]n[/b] no", id="answer")

    def on_input_submitted(self) -> None:
        self.action_answer(True)

    def action_answer(self, yes: bool) -> None:
        reason = self.query_one("#reason", Input).value if self.ask_reason else ""
        self.dismiss((yes, reason.strip()))
