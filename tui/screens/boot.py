"""The first frame: painted before the database layer is even imported."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class BootScreen(Screen[None]):
    """What the operator sees while the desk opens in a worker (well under a second)."""

    def __init__(self, login: str) -> None:
        super().__init__()
        self.login = login

    def compose(self) -> ComposeResult:
        # Plain text only: the login comes from the environment, not from markup we wrote.
        status = f"frontdesk · {self.login} · opening the desk…"
        yield Static(status, id="boot-status", markup=False)
        yield Static("Loading the queue…", id="boot-body", markup=False)
        yield Footer()
