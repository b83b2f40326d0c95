"""The key help: every binding of the focused pane and of the app, with its id for remapping."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    """Lists the keys in force where the operator is; any key closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, focused: Widget | None) -> None:
        super().__init__()
        self.focused_widget = focused

    def compose(self) -> ComposeResult:
        rows: list[str] = []
        seen: set[str] = set()
        app = self.app
        for key, active in app.active_bindings.items():
            binding: Binding = active.binding
            if binding.id in seen:
                continue
            seen.add(binding.id or key)
            label = binding.description or binding.action
            rows.append(f"{active.binding.key_display or key:<12} {label:<28} {binding.id or ''}")
        where = type(self.focused_widget).__name__ if self.focused_widget else "workstation"
        with VerticalScroll(id="help-body"):
            yield Static(
                Content(f"Keys in {where} (remap by id in the config's [keymap])"),
                classes="help-title",
            )
            yield Static(Content("\n".join(rows)))
