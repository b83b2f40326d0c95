"""The key help: every binding of the focused pane and of the app, with its id for remapping."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def key_rows(active: dict[str, ActiveBinding]) -> list[str]:
    """One line per binding: key, what it does, and the id the keymap remaps it by."""
    rows: list[str] = []
    seen: set[str] = set()
    for key, entry in active.items():
        binding: Binding = entry.binding
        if (binding.id or key) in seen:
            continue
        seen.add(binding.id or key)
        label = binding.description or binding.action
        rows.append(f"{binding.key_display or key:<12} {label:<28} {binding.id or ''}")
    return rows


class HelpScreen(ModalScreen[None]):
    """Lists the keys in force where the operator was when they asked; escape or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, where: str, active: dict[str, ActiveBinding]) -> None:
        super().__init__()
        # Taken before this screen opens: once it is on top, its own keys are the active ones.
        self.where = where
        self.rows = key_rows(active)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static(
                Content(f"Keys in {self.where} (remap by id in the config's [keymap])"),
                classes="help-title",
            )
            yield Static(Content("\n".join(self.rows)))
