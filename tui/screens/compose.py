"""Compose a need, offer, pledge or update. Every field is checked as you type,
text fields show how much of their byte budget they use, and ctrl+s signs and
stores the record at once (the daemon sends it). A refused post keeps the form
as typed."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from meshaid.node.store.store import StoreError

from ..forms import FORMS, Context, Field, check
from ..widgets.byte_meter import ByteMeter
from .base import LiveScreen

TITLES = {
    "need": "New need: what is needed, how much, where, by when",
    "offer": "New offer: stock, capacity, a skill or a service",
    "pledge": "Pledge: promise to cover part of a need",
    "update": "Update one of your own needs, offers or pledges",
}


class ComposeScreen(LiveScreen):
    """One form; ctrl+s posts, escape goes back without posting."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "post", "Post", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, kind: str, prefill: dict[str, str] | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.fields: tuple[Field, ...] = FORMS[kind]
        self.prefill = prefill or {}
        self.ctx = Context()
        self.errors: dict[str, str] = {}
        self.posting = False

    def compose_body(self) -> ComposeResult:
        yield Static(TITLES[self.kind], id="form-title")
        with VerticalScroll(), Grid(id="form"):
            for f in self.fields:
                yield Label(f.label, classes="field-label")
                value = self.prefill.get(f.name, f.default)
                if f.choices:
                    yield Select([(c, c) for c in f.choices], id=f"f-{f.name}",
                                 value=value if value in f.choices else f.choices[0],
                                 allow_blank=False, compact=True)
                else:
                    yield Input(value, placeholder=f.placeholder, id=f"f-{f.name}",
                                compact=True)
                if f.limit:
                    yield ByteMeter(f.limit, "bytes", id=f"m-{f.name}")
                else:
                    yield Static("", id=f"e-{f.name}", classes="field-error")
        yield Static("", id="problems")

    def on_mount(self) -> None:
        super().on_mount()
        for f in self.fields:
            if f.limit:
                self.query_one(f"#m-{f.name}", ByteMeter).measure(self._value(f.name))
        first = next((f for f in self.fields if not self._value(f.name)), self.fields[0])
        self.query_one(f"#f-{first.name}").focus()
        self._validate()

    # ------------------------------------------------------------ data

    def reload(self) -> None:
        if self.kind in ("pledge", "update"):
            self._load(self.node.clock())

    @work(thread=True, exclusive=True, group="compose")
    def _load(self, now: float) -> None:
        ledger = self.node.ledger
        needs = {n["id"]: n for n in ledger.open_needs(now)}
        own = {o["id"]: o for o in ledger.own_objects(self.node.me, now)}
        self.show_later(self._loaded, Context(needs, own))

    def _loaded(self, ctx: Context) -> None:
        self.ctx = ctx
        self._validate()

    # ------------------------------------------------------------ checking

    def _value(self, name: str) -> str:
        widget = self.query_one(f"#f-{name}")
        if isinstance(widget, Select):
            return "" if widget.value is Select.NULL else str(widget.value)
        assert isinstance(widget, Input)
        return widget.value

    def values(self) -> dict[str, str]:
        return {f.name: self._value(f.name) for f in self.fields}

    def _validate(self) -> Any:
        body, errors = check(self.kind, self.values(), self.ctx)
        self.errors = errors
        for f in self.fields:
            widget = self.query_one(f"#f-{f.name}")
            widget.set_class(f.name in errors, "-invalid")
            if not f.limit:
                self.query_one(f"#e-{f.name}", Static).update(errors.get(f.name, ""))
        problems = self.query_one("#problems", Static)
        if errors:
            labels = {f.name: f.label for f in self.fields}
            problems.update("to fix: " + "; ".join(f"{labels[n]}: {m}" for n, m in errors.items()))
        else:
            problems.update("ready: ctrl+s signs and stores it")
        problems.set_class(bool(errors), "-bad")
        return body

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        name = (event.input.id or "")[2:]
        meter = self.query(f"#m-{name}")
        if meter:
            meter.first(ByteMeter).measure(event.value)
        self._validate()

    @on(Select.Changed)
    def _picked(self, _event: Select.Changed) -> None:
        self._validate()

    # ------------------------------------------------------------ actions

    def action_post(self) -> None:
        if self.posting:
            return
        body = self._validate()
        if body is None:
            bad = next(f for f in self.fields if f.name in self.errors)
            self.query_one(f"#f-{bad.name}").focus()
            self.notify("not posted: " + self.errors[bad.name], title=bad.label,
                        severity="error")
            return
        self.posting = True
        self._post(self.values())

    @work(thread=True, exclusive=True, group="post")
    def _post(self, values: dict[str, str]) -> None:
        try:
            rid: str | None = self.node.writer.post(self.kind, values)
            error = ""
        except (StoreError, ValueError, OSError) as exc:
            rid, error = None, str(exc) or type(exc).__name__
        self.show_later(self._posted, rid, error)

    def _posted(self, rid: str | None, error: str) -> None:
        self.posting = False
        if rid is None:
            problems = self.query_one("#problems", Static)
            problems.update(f"not posted: {error}")
            problems.add_class("-bad")
            self.notify(f"not posted: {error}", severity="error")
            return
        self.notify(f"{self.kind} {rid} signed and stored", title="posted")
        self.dismiss(rid)

    def action_cancel(self) -> None:
        self.dismiss(None)
