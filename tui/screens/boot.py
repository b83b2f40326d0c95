"""The first frame, and the top of the queue, before the database layer is even imported."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Static

from frontdesk.core.queue_peek import RowView
from frontdesk.tui.widgets.queue_list import QueueList


class BootScreen(Screen[None]):
    """What the operator sees while the desk opens in a worker: the frame, then the most
    urgent rows (read with stdlib sqlite3 on the embedded default), then the workstation."""

    def __init__(self, login: str) -> None:
        super().__init__()
        self.login = login
        self.first_rows: tuple[int, list[RowView]] | None = None
        self.pending_keys: list[events.Key] = []
        """Keys typed before the desk is open, replayed on the workstation."""

    def compose(self) -> ComposeResult:
        # Plain text only: the login comes from the environment, not from markup we wrote.
        status = f"frontdesk · {self.login} · opening the desk…"
        yield Static(status, id="boot-status", markup=False)
        with Horizontal(id="panes"):
            with Vertical(id="queue-box"):
                queue = QueueList(self.login, id="queue")
                queue.can_focus = False  # every key comes to the screen, to be kept
                yield queue
            yield Static("Opening the conversation and the answers…", id="boot-body", markup=False)
        # No footer: its keys do nothing yet (they are kept for the workstation), and it is
        # the costliest widget of a first frame to style.

    def show_rows(self, total: int, rows: list[RowView]) -> None:
        """The peeked top of the queue (attributes down); the workstation takes them over."""
        self.first_rows = (total, rows)
        self.query_one(QueueList).set_rows(total, 0, rows, reset=True)

    def on_key(self, event: events.Key) -> None:
        # An operator who sees the queue starts working: n, j, enter must not be lost.
        self.pending_keys.append(event)
        event.stop()
        event.prevent_default()
