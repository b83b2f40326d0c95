"""The workstation's panes and shared state, as the screen and its key mixins see them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.screen import Screen

from frontdesk.core.claims import Claim
from frontdesk.core.conversations import Thread
from frontdesk.core.desk import Desk
from frontdesk.kb.store import KnowledgeBase
from frontdesk.tui.screens.filter import QueueView
from frontdesk.tui.widgets.composer import Composer
from frontdesk.tui.widgets.kb_panel import KnowledgePanel
from frontdesk.tui.widgets.queue_list import QueueList
from frontdesk.tui.widgets.status_bar import StatusBar
from frontdesk.tui.widgets.thread_view import ThreadView

if TYPE_CHECKING:
    from collections.abc import Callable

    from frontdesk.core.errors import FrontdeskError


class PaneScreen(Screen[None]):
    """The panes by role, and the state every part of the workstation reads."""

    desk: Desk
    kb: KnowledgeBase | None
    thread: Thread | None
    held: dict[int, Claim]
    view: QueueView
    presence: dict[int, list[tuple[str, str]]]
    _typing_announced: float
    _wanted_thread: int | None  # the conversation last asked for (see load_thread)

    if TYPE_CHECKING:
        # Loaders the screen defines; the key mixins call them.
        reload_queue: Callable[..., Any]
        load_thread: Callable[[int], Any]
        report: Callable[[FrontdeskError], None]
        _guard: Callable[[Callable[[], Any]], Any]

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    @property
    def thread_view(self) -> ThreadView:
        return self.query_one(ThreadView)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def knowledge(self) -> KnowledgePanel:
        return self.query_one(KnowledgePanel)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)
