"""Who else is here: the workstation's presence beats and what it shows of others'."""

from __future__ import annotations

import time

from textual import on, work
from textual.widgets import TextArea

from frontdesk.tui.messages import PresenceChanged
from frontdesk.tui.screens.panes import PaneScreen


class PresenceActions(PaneScreen):
    """Mixed into the workstation screen: announce where this operator is, show the others."""

    def on_presence_changed(self, message: PresenceChanged) -> None:
        self.load_presence()

    @work(thread=True, exclusive=True, group="presence")
    def load_presence(self) -> None:
        presence = self._guard(self.desk.presence)
        if presence is not None:
            self.app.call_from_thread(self._apply_presence, presence)

    def _apply_presence(self, presence: dict[int, list[tuple[str, str]]]) -> None:
        self.presence = presence
        self.queue.set_presence(presence)
        self._show_presence()

    def _show_presence(self) -> None:
        if self.thread is not None:
            here = self.presence.get(self.thread.conversation.id or 0, [])
            self.thread_view.set_presence([p for p in here if p[0] != self.desk.login])

    @work(thread=True, group="presence-beat")
    def announce(self, conversation_id: int | None, state: str) -> None:

        def go() -> bool:
            self.desk.announce(conversation_id, state)
            return True

        self._guard(go)

    def beat_presence(self) -> None:
        if self.thread is not None:
            typing = self.composer.has_focus_within and bool(self.composer.text.strip())
            self.announce(self.thread.conversation.id, "typing" if typing else "viewing")

    @on(TextArea.Changed)
    def announce_typing(self, event: TextArea.Changed) -> None:
        now = time.monotonic()
        if self.thread is not None and now - self._typing_announced > 5:
            self._typing_announced = now
            self.announce(self.thread.conversation.id, "typing")
