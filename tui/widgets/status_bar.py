"""The header line: who is working, the queue's counts, and the database's state."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from frontdesk.core.queue import QueueCounts
from frontdesk.core.text import terminal_safe


class StatusBar(Static):
    """operator (role) · unclaimed · breaching · mine · database state · KB state."""

    def __init__(self, operator: str, role: str, database: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.operator = operator
        self.role = role
        self.database = database
        self.counts: QueueCounts | None = None
        self.db_state = "connecting"
        self.kb_state = ""
        self.channels = ""
        self._drawn = ""

    def on_mount(self) -> None:
        self._draw()

    def set_counts(self, counts: QueueCounts) -> None:
        self.counts = counts
        self._draw()

    def set_db_state(self, state: str) -> None:
        self.db_state = state
        self._draw()

    def set_kb_state(self, state: str) -> None:
        self.kb_state = state
        self._draw()

    def set_channels(self, headline: str) -> None:
        """The channel service's one-line summary ("X rate-limited until 10:45")."""
        self.channels = headline
        self._draw()

    def _draw(self) -> None:
        c = self.counts
        figures = f"unclaimed {c.unclaimed} · breaching {c.breaching} · mine {c.mine}" if c else "…"
        parts = [
            f"frontdesk · {self.operator} ({self.role})",
            figures,
            f"{self.database} {self.db_state}",
        ]
        if self.kb_state:
            parts.append(self.kb_state)
        if self.channels:
            parts.append(terminal_safe(self.channels, keep_newlines=False))
        line = "  │  ".join(parts)
        self.set_class(self.db_state != "ok", "-trouble")
        if line == self._drawn:
            return  # every change refreshes the counts; unchanged text costs no bytes over SSH
        self._drawn = line
        self.update(Content(line))
