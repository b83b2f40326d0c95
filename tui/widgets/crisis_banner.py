"""Two one-line notices: the crisis banner (crisis mode, or a spike alert for supervisors) and
the staff-care line under the panes (a gentle break reminder, or "you are away")."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.widgets import Static

from frontdesk.core.clock import as_utc
from frontdesk.core.text import terminal_safe


class CrisisBanner(Static):
    """One line above the panes, hidden while there is neither a crisis nor an alert."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(Content(""), **kwargs)  # type: ignore[arg-type]
        self.on = False
        self.alert = ""

    def show_crisis(self, since: datetime | None, by: str, reason: str) -> None:
        """Crisis mode is on: who switched it, when, and why."""
        self.on = True
        when = f" since {as_utc(since).astimezone():%H:%M}" if since else ""
        said = terminal_safe(reason, keep_newlines=False)
        self.update(
            Content(
                f"⚠ CRISIS MODE{when} ({by}): {said} · every reply needs sign-off · "
                "scheduled posts held · holding statement atop the knowledge pane"
            )
        )
        self.set_class(True, "-on")
        self.set_class(False, "-alert")

    def show_alert(self, summary: str, switch_key: str) -> None:
        """A spike tripped the detector (shown to supervisors while crisis mode is off)."""
        self.alert = summary
        if self.on:
            return
        figures = terminal_safe(summary, keep_newlines=False)
        self.update(Content(f"⚠ crisis alert: {figures} · {switch_key} switches crisis mode on"))
        self.set_class(True, "-alert")

    def clear(self) -> None:
        """Crisis mode is off (an alert seen before it went on is no longer news)."""
        self.on = False
        self.alert = ""
        self.update(Content(""))
        self.set_class(False, "-on")
        self.set_class(False, "-alert")


class BreakReminder(Static):
    """Hidden unless the operator has worked a long stretch or is marked away."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(Content(""), **kwargs)  # type: ignore[arg-type]
        self.state = ""

    def show_break(self, minutes: int, away_key: str) -> None:
        hours, rest = divmod(minutes, 60)
        stretch = f"{hours} h {rest:02d} min" if hours else f"{rest} min"
        self._show(
            "break",
            f"☕ You've been handling conversations for {stretch} without a pause. "
            f"Time for a break? {away_key} sets you away; the team covers your queue.",
        )

    def show_away(self, away_key: str) -> None:
        self._show("away", f"You are away: no work is handed to you. {away_key} brings you back.")

    def clear(self) -> None:
        self.state = ""
        self.update(Content(""))
        self.set_class(False, "-break")
        self.set_class(False, "-away")

    def _show(self, state: str, text: str) -> None:
        self.state = state
        self.update(Content(text))
        self.set_class(state == "break", "-break")
        self.set_class(state == "away", "-away")
