"""The queue's filter: a view word (mine, breaching, x, ...) plus team, tag and stream, and its
prompt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from frontdesk.core.queue import QueueFilter
from frontdesk.core.text import terminal_safe

VIEWS = ("all", "mine", "unclaimed", "breaching", "x", "facebook", "email")
CHANNELS = ("x", "facebook", "email")


@dataclass(frozen=True, slots=True)
class QueueView:
    """What the operator asked the queue to show."""

    view: str = "all"
    team: str | None = None
    tag: str | None = None
    stream: str | None = None

    def label(self) -> str:
        """The filter as the operator would type it."""
        narrowed = self.team or self.tag or self.stream
        words = [self.view] if self.view != "all" or not narrowed else []
        words += [f"team:{self.team}"] if self.team else []
        words += [f"tag:{self.tag}"] if self.tag else []
        words += [f"stream:{self.stream}"] if self.stream else []
        return " ".join(words)

    def cycled(self) -> QueueView:
        """The next view word, keeping team, tag and stream."""
        following = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        return QueueView(following, self.team, self.tag, self.stream)

    def query(self, login: str, now: datetime) -> QueueFilter:
        """The core filter for this view."""
        return QueueFilter(
            mine_of=login if self.view == "mine" else None,
            unclaimed_at=now if self.view == "unclaimed" else None,
            breaching_at=now if self.view == "breaching" else None,
            channel=self.view if self.view in CHANNELS else None,
            team=self.team,
            tag=self.tag,
            stream=self.stream,
        )


def parse_view(text: str) -> QueueView:
    """`mine tag:refund team:billing stream:brand` as a view; a word it does not know is a
    ValueError."""
    view, team, tag, stream = "all", None, None, None
    for word in text.split():
        key, _, value = word.partition(":")
        if key == "team" and value:
            team = value
        elif key == "tag" and value:
            tag = value
        elif key == "stream" and value:
            stream = value
        elif word in VIEWS:
            view = word
        else:
            raise ValueError(
                f"unknown filter {word!r}: use one of {', '.join(VIEWS)}, team:NAME, tag:NAME,"
                " stream:NAME"
            )
    return QueueView(view, team, tag, stream)


class FilterScreen(ModalScreen[QueueView | None]):
    """Type a filter; enter applies it, escape keeps the one in force."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="filter.cancel")]

    def __init__(self, current: QueueView) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-body"):
            yield Static(
                Content("Filter the queue: all mine unclaimed breaching x facebook email"),
                classes="help-title",
            )
            yield Static(
                Content("plus team:NAME, tag:NAME and stream:NAME; empty shows everything")
            )
            yield Input(self.current.label(), id="filter-input")
            yield Static(Content(""), id="filter-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.dismiss(parse_view(event.value))
        except ValueError as exc:
            error = self.query_one("#filter-error", Static)
            error.update(Content(terminal_safe(str(exc), keep_newlines=False)))
