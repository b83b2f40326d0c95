"""Small modal questions: pick from a list (one or several), or type a line of text."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, SelectionList, Static
from textual.widgets.selection_list import Selection

from frontdesk.core.text import terminal_safe


class ChoiceScreen(ModalScreen[list[str] | None]):
    """Choose from a list: enter takes the highlighted one (or, with `multi`, the ticked ones,
    ticked with space); escape cancels."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="choice.cancel"),
        Binding("enter", "take", "Choose", id="choice.take", priority=True),
    ]

    def __init__(
        self,
        title: str,
        options: list[tuple[str, str]],
        *,
        multi: bool = False,
        chosen: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.multi = multi
        self.chosen = chosen or set()

    def compose(self) -> ComposeResult:
        hint = "space ticks, enter saves" if self.multi else "enter chooses"
        with Vertical(id="prompt-body"):
            yield Static(Content(f"{self.title_text} ({hint}, esc cancels)"), classes="help-title")
            yield SelectionList[str](
                *(
                    Selection(Content(terminal_safe(label, keep_newlines=False)), value,
                              value in self.chosen)
                    for value, label in self.options
                ),
                id="prompt-choices",
            )  # fmt: skip

    def action_take(self) -> None:
        choices = self.query_one(SelectionList)
        if self.multi:
            self.dismiss([str(v) for v in choices.selected])
            return
        index = choices.highlighted
        self.dismiss([self.options[index][0]] if index is not None and self.options else None)


class TextScreen(ModalScreen[str | None]):
    """Type one line; enter gives it back, escape cancels."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="text.cancel")]

    def __init__(self, title: str, hint: str = "", value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-body"):
            yield Static(Content(self.title_text), classes="help-title")
            if self.hint:
                yield Static(Content(self.hint))
            yield Input(self.value, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
