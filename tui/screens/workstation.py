"""The workstation screen: mediates between the queue, thread, composer and knowledge panes.

Every database and knowledge-base call runs in a thread worker; results come back as
attributes set on the panes from the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Footer
from textual.worker import get_current_worker

from frontdesk.core import engagement, handoff
from frontdesk.core.claims import Claim, live_holder
from frontdesk.core.conversations import Thread
from frontdesk.core.desk import Desk
from frontdesk.core.errors import DatabaseError, FrontdeskError
from frontdesk.core.queue_peek import RowView, row_flag
from frontdesk.core.sync_status import headline
from frontdesk.core.text import terminal_safe
from frontdesk.kb.store import KnowledgeBase
from frontdesk.tui.screens.broadcast_actions import BroadcastActions
from frontdesk.tui.screens.crisis_actions import CrisisActions
from frontdesk.tui.screens.filter import QueueView
from frontdesk.tui.screens.go_actions import GoActions
from frontdesk.tui.screens.live_actions import LiveActions
from frontdesk.tui.screens.playbook_actions import PlaybookActions
from frontdesk.tui.screens.presence_actions import PresenceActions
from frontdesk.tui.screens.work_actions import WorkActions, ident
from frontdesk.tui.widgets.composer import Composer
from frontdesk.tui.widgets.crisis_banner import BreakReminder, CrisisBanner
from frontdesk.tui.widgets.kb_panel import KnowledgePanel
from frontdesk.tui.widgets.queue_list import QueueList
from frontdesk.tui.widgets.status_bar import StatusBar
from frontdesk.tui.widgets.thread_view import ThreadView

T = TypeVar("T")
PREVIEW_DELAY = 0.12
"""Seconds the queue cursor rests before the thread under it is loaded."""


class WorkstationScreen(
    WorkActions,
    PresenceActions,
    PlaybookActions,
    BroadcastActions,
    CrisisActions,
    GoActions,
    LiveActions,
):
    """Queue on the left, thread and composer in the middle, knowledge on the right."""

    def __init__(
        self,
        desk: Desk,
        kb: KnowledgeBase | None,
        first_rows: tuple[int, list[RowView]] | None = None,
    ) -> None:
        super().__init__()
        self.desk = desk
        self.kb = kb
        self.first_rows = first_rows
        """The boot screen's peek at the queue, shown until the first real window arrives."""
        self.thread: Thread | None = None
        self.view = QueueView()
        self._preview_timer: Timer | None = None
        self._wanted_thread: int | None = None
        """The conversation last asked for: a slower load of another one is not drawn."""
        self.held: dict[int, Claim] = {}
        self.presence: dict[int, list[tuple[str, str]]] = {}
        self._typing_announced = 0.0

    def compose(self) -> ComposeResult:
        op = self.desk.login
        yield StatusBar(op, "…", self.desk.db.backend, id="status")
        yield CrisisBanner(id="crisis-banner")  # hidden unless crisis mode or an alert
        with Horizontal(id="panes"):
            with Vertical(id="queue-box"):
                queue = QueueList(op, id="queue")
                queue.clock = self.desk.clock  # countdowns on the desk's time, as the SLA
                yield queue
            with Vertical(id="middle"):
                yield ThreadView(id="thread")
                yield Composer(id="composer")
            yield KnowledgePanel(id="knowledge")
        yield BreakReminder(id="break-reminder")  # hidden unless a break is due or away
        yield Footer()

    def on_mount(self) -> None:
        self.queue.focus()
        if self.first_rows is not None:
            total, rows = self.first_rows
            self.queue.set_rows(total, 0, rows, reset=True)
        self.load_operator()
        self.reload_queue(reset=True)
        lease = self.desk.settings.claims.lease_seconds
        self.set_interval(max(lease / 3, 5), self.renew_claims)
        self.set_interval(10, self.beat_presence)

    def on_resize(self, event: events.Resize) -> None:
        # At 80 columns three panes are unreadable: the knowledge pane steps aside, and
        # takes the queue's place while the operator searches (escape gives it back).
        self.set_class(event.size.width < 120, "-narrow")

    # -- workers ---------------------------------------------------------------------

    def _guard(self, call: Callable[[], T]) -> T | None:
        """Run a core call in a worker; a failure becomes a message, never a traceback."""
        try:
            result = call()
        except FrontdeskError as exc:
            self.app.call_from_thread(self.report, exc)
            return None
        self.app.call_from_thread(self._database_answered)
        return result

    def _database_answered(self) -> None:
        # On the UI thread: a worker that ends as the app quits finds the panes gone (the
        # screen can still be attached while its children are being removed).
        for bar in self.query(StatusBar):
            bar.set_db_state("ok")

    def report(self, exc: FrontdeskError) -> None:
        if isinstance(exc, DatabaseError):
            self.status.set_db_state("busy: retrying" if "busy" in exc.title else "error")
        # Messages can quote what a platform or a customer sent: control characters made visible.
        message, title = terminal_safe(exc.message), terminal_safe(exc.title)
        self.notify(message, title=title, severity="error", markup=False, timeout=8)

    @work(thread=True, exclusive=True, group="operator")
    def load_operator(self) -> None:
        self._guard(lambda: self.desk.playbook)  # read the playbook file off the UI thread
        operator = self._guard(self.desk.operator)
        if operator is not None:
            self.app.call_from_thread(setattr, self.status, "role", operator.role)

    @work(thread=True, exclusive=True, group="queue")
    def reload_queue(self, reset: bool = False, start: int | None = None) -> None:
        flt = self.view.query(self.desk.login, self.desk.clock())
        first, count = self.queue.visible_window() if start is None else (start, 0)
        count = max(count, 60)

        def fetch() -> tuple[int, list[RowView]]:
            total = self.desk.queue_count(flt)
            rows = self.desk.queue(replace(flt, offset=first, limit=count))
            return total, [self._row_view(r) for r in rows]

        # The rows first: another operator's claim shows in the list before the header's
        # counts and channel line are read.
        result = self._guard(fetch)
        if result is None:
            return
        total, rows = result
        self.app.call_from_thread(self.queue.set_rows, total, first, rows, reset=reset)
        figures = self._guard(
            lambda: (self.desk.counts(), headline(self.desk.service_status(), self.desk.clock()))
        )
        if figures is not None:
            self.app.call_from_thread(self.status.set_counts, figures[0])
            self.app.call_from_thread(self.status.set_channels, figures[1])

    def _row_view(self, row: Any) -> RowView:
        conv = row.conversation
        now = self.desk.clock()
        live = live_holder(conv, now)
        return RowView(
            conv.id,
            conv.sla_due_at,
            conv.sla_warn_at,
            conv.channel,
            row.handle or row.name,
            conv.preview,
            live,
            conv.status,
            row_flag(conv.awaiting_signoff, conv.follow_up),
        )

    def load_thread(self, conversation_id: int) -> None:
        """Load a conversation into the thread pane (on the UI thread; the read is a worker)."""
        self._wanted_thread = conversation_id
        self._fetch_thread(conversation_id)

    @work(thread=True, exclusive=True, group="thread")
    def _fetch_thread(self, conversation_id: int) -> None:
        thread = self._guard(lambda: self.desk.thread(conversation_id))
        # A newer load (a claim's, after this preview's) replaced this one: its older
        # picture of the thread must not be drawn over the newer one.
        if thread is not None and not get_current_worker().is_cancelled:
            # call_from_thread awaits the coroutine, so the thread is on screen when we return.
            self.app.call_from_thread(self.show_thread, thread)  # type: ignore[arg-type]

    async def show_thread(self, thread: Thread) -> None:
        if ident(thread.conversation) != self._wanted_thread:
            # The operator moved on (j j then g g, back to the open thread) while this one
            # loaded: drawing it would pull the cursor back to a row they left.
            return
        opened = self.thread is None or self.thread.conversation.id != thread.conversation.id
        self.thread = thread
        self.queue.select(ident(thread.conversation))
        if opened:
            self.announce(ident(thread.conversation), "viewing")
        await self.thread_view.show(thread)
        self._show_presence()
        conv, cust = thread.conversation, thread.customer
        self.composer.set_channel(conv.channel)
        playbook, login = self.desk.playbook, self.desk.login
        self.composer.set_checker(lambda text: engagement.check(playbook, thread, login, text))
        self.composer.follow_up = (
            handoff.follow_up_text(playbook, engagement.first_name(thread))
            if conv.follow_up == "due"
            else ""
        )
        first_name = (cust.display_name or cust.handle).split(" ")[0]
        self.knowledge.set_context(
            conv.channel,
            {
                "name": first_name,
                "handle": cust.handle,
                "agent": self.desk.login,
                "conversation": str(conv.id),
            },
        )
        latest = next((m.body for m in reversed(thread.messages) if m.direction == "inbound"), "")
        self.search_kb(latest)

    @work(thread=True, exclusive=True, group="kb")
    def search_kb(self, query: str) -> None:
        if self.kb is None:
            return
        channel = self.thread.conversation.channel if self.thread else None
        hits = self.kb.search(query, limit=9, channel=channel)
        if not get_current_worker().is_cancelled:  # a newer keystroke's search replaced it
            self.app.call_from_thread(self.knowledge.show_hits, hits)

    # -- pane messages ---------------------------------------------------------------

    @on(QueueList.WindowNeeded)
    def fetch_window(self, event: QueueList.WindowNeeded) -> None:
        self.reload_queue(start=event.start)

    @on(QueueList.Highlighted)
    def preview_conversation(self, event: QueueList.Highlighted) -> None:
        # The thread follows the cursor once it rests: while j is held down, loading and
        # drawing every thread it passes would put the screen behind the keys.
        if self._preview_timer is not None:
            self._preview_timer.stop()
        target = event.conversation_id
        # Wanted from now on, not from when the timer fires: a refresh of the open thread
        # landing meanwhile must not select its row again and undo the key.
        self._wanted_thread = target
        if self.thread is None or self.thread.conversation.id != target:
            self._preview_timer = self.set_timer(PREVIEW_DELAY, lambda: self.load_thread(target))

    @on(QueueList.Opened)
    def open_conversation(self, event: QueueList.Opened) -> None:
        self.load_thread(event.conversation_id)
        self.thread_view.focus()

    @on(KnowledgePanel.QueryChanged)
    def refine_answers(self, event: KnowledgePanel.QueryChanged) -> None:
        self.search_kb(event.query)

    @on(KnowledgePanel.AnswerChosen)
    def insert_chosen_answer(self, event: KnowledgePanel.AnswerChosen) -> None:
        panel = self.knowledge
        self.composer.insert(event.hit.article.render(panel.channel, panel.values))

    @on(Composer.Submitted)
    def send_draft(self, event: Composer.Submitted) -> None:
        if self.thread is not None:
            self.send(self.thread, event.text, event.as_note)
