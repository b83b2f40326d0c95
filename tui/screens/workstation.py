"""The workstation screen: mediates between the queue, thread, composer and knowledge panes.

Every database and knowledge-base call runs in a thread worker; results come back as
attributes set on the panes from the UI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from frontdesk.core.claims import Claim, live_holder
from frontdesk.core.conversations import Thread
from frontdesk.core.desk import Desk
from frontdesk.core.errors import ClaimConflict, DatabaseError, FrontdeskError, StaleVersion
from frontdesk.core.models import Conversation
from frontdesk.core.sync_status import headline
from frontdesk.core.text import terminal_safe
from frontdesk.kb.store import KnowledgeBase
from frontdesk.tui.messages import ChangesArrived, KnowledgeReloaded, PresenceChanged
from frontdesk.tui.screens.filter import FilterScreen, QueueView
from frontdesk.tui.widgets.composer import Composer
from frontdesk.tui.widgets.kb_panel import KnowledgePanel
from frontdesk.tui.widgets.queue_list import QueueList, RowView
from frontdesk.tui.widgets.status_bar import StatusBar
from frontdesk.tui.widgets.thread_view import ThreadView

T = TypeVar("T")


def ident(conv: Conversation) -> int:
    """A stored conversation's id (always set once it has been read from the database)."""
    assert conv.id is not None
    return conv.id


class WorkstationScreen(Screen[None]):
    """Queue on the left, thread and composer in the middle, knowledge on the right."""

    BINDINGS = [
        Binding("n", "claim_next", "Next", id="queue.claim_next"),
        Binding("c", "claim", "Claim", id="queue.claim"),
        Binding("u", "release", "Release", id="queue.release"),
        Binding("r", "compose_reply", "Reply", id="thread.reply"),
        Binding("i", "compose_note", "Note", id="thread.note"),
        Binding("x", "resolve", "Resolve", id="thread.resolve"),
        Binding("R", "retry_sends", "Retry send", show=False, id="thread.retry_send"),
        # ctrl+enter reaches the app only where the terminal reports it (kitty protocol).
        Binding("ctrl+s,ctrl+enter", "send", "Send", id="composer.send", priority=True),
        Binding("slash", "search", "Search KB", id="kb.search"),
        Binding("f", "cycle_filter", "View", id="queue.filter"),
        Binding("F", "edit_filter", "Filter", id="queue.filter_prompt"),
        Binding("escape", "leave", "Back", show=False, id="app.leave"),
        *[
            Binding(str(n), f"insert_answer({n})", f"Insert {n}", show=False, id=f"kb.insert_{n}")
            for n in range(1, 10)
        ],
    ]

    def __init__(self, desk: Desk, kb: KnowledgeBase | None) -> None:
        super().__init__()
        self.desk = desk
        self.kb = kb
        self.thread: Thread | None = None
        self.view = QueueView()
        self.held: dict[int, Claim] = {}
        self.presence: dict[int, list[tuple[str, str]]] = {}
        self._typing_announced = 0.0

    def compose(self) -> ComposeResult:
        op = self.desk.login
        yield StatusBar(op, "…", self.desk.db.backend, id="status")
        with Horizontal(id="panes"):
            yield QueueList(op, id="queue")
            with Vertical(id="middle"):
                yield ThreadView(id="thread")
                yield Composer(id="composer")
            yield KnowledgePanel(id="knowledge")
        yield Footer()

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

    def on_mount(self) -> None:
        self.queue.focus()
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
        self.app.call_from_thread(self.status.set_db_state, "ok")
        return result

    def report(self, exc: FrontdeskError) -> None:
        if isinstance(exc, DatabaseError):
            self.status.set_db_state("busy: retrying" if "busy" in exc.title else "error")
        self.notify(exc.message, title=exc.title, severity="error", markup=False, timeout=8)

    @work(thread=True, exclusive=True, group="operator")
    def load_operator(self) -> None:
        operator = self._guard(self.desk.operator)
        if operator is not None:
            self.app.call_from_thread(setattr, self.status, "role", operator.role)

    @work(thread=True, exclusive=True, group="queue")
    def reload_queue(self, reset: bool = False, start: int | None = None) -> None:
        flt = self.view.query(self.desk.login, self.desk.clock())
        first, count = self.queue.visible_window() if start is None else (start, 0)
        count = max(count, 60)

        def fetch() -> tuple[int, list[RowView], Any, str]:
            total = self.desk.queue_count(flt)
            rows = self.desk.queue(replace(flt, offset=first, limit=count))
            channels = headline(self.desk.service_status(), self.desk.clock())
            return total, [self._row_view(r) for r in rows], self.desk.counts(), channels

        result = self._guard(fetch)
        if result is not None:
            total, rows, counts, channels = result
            self.app.call_from_thread(self.queue.set_rows, total, first, rows, reset=reset)
            self.app.call_from_thread(self.status.set_counts, counts)
            self.app.call_from_thread(self.status.set_channels, channels)

    def _row_view(self, row: Any) -> RowView:
        conv = row.conversation
        now = self.desk.clock()
        live = live_holder(conv, now)
        return RowView(
            conv.id,
            conv.sla_due_at,
            self.desk.settings.sla.target_minutes(conv.channel, conv.visibility),
            conv.channel,
            row.handle or row.name,
            conv.preview,
            live,
            conv.status,
        )

    @work(thread=True, exclusive=True, group="thread")
    def load_thread(self, conversation_id: int) -> None:
        thread = self._guard(lambda: self.desk.thread(conversation_id))
        if thread is not None:
            # call_from_thread awaits the coroutine, so the thread is on screen when we return.
            self.app.call_from_thread(self.show_thread, thread)  # type: ignore[arg-type]

    async def show_thread(self, thread: Thread) -> None:
        opened = self.thread is None or self.thread.conversation.id != thread.conversation.id
        self.thread = thread
        self.queue.select(ident(thread.conversation))
        if opened:
            self.announce(ident(thread.conversation), "viewing")
        await self.thread_view.show(thread)
        self._show_presence()
        conv, cust = thread.conversation, thread.customer
        self.composer.set_channel(conv.channel)
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
        self.app.call_from_thread(self.knowledge.show_hits, hits)

    # -- pane messages ---------------------------------------------------------------

    @on(QueueList.WindowNeeded)
    def fetch_window(self, event: QueueList.WindowNeeded) -> None:
        self.reload_queue(start=event.start)

    @on(QueueList.Highlighted)
    def preview_conversation(self, event: QueueList.Highlighted) -> None:
        if self.thread is None or self.thread.conversation.id != event.conversation_id:
            self.load_thread(event.conversation_id)

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

    def on_changes_arrived(self, message: ChangesArrived) -> None:
        self.reload_queue()
        if self.thread is None:
            return
        open_id = ident(self.thread.conversation)
        mine = self.thread.conversation.claimed_by == self.desk.login
        others = [
            e for e in message.events
            if e.conversation_id == open_id and e.actor != self.desk.login
        ]  # fmt: skip
        if not others:
            return
        self.load_thread(open_id)
        taker = next(
            (e.actor for e in others if e.kind in ("claim.taken", "claim.reassigned")), None
        )
        if mine and taker is not None:
            self.notify(
                f"your claim on #{open_id} was taken by {taker}", severity="warning", markup=False
            )

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
            here = self.presence.get(ident(self.thread.conversation), [])
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

    def on_knowledge_reloaded(self, message: KnowledgeReloaded) -> None:
        self.status.set_kb_state(
            f"KB {message.articles} articles"
            + (f", {len(message.problems)} broken" if message.problems else "")
        )
        if message.updated:
            self.notify(f"KB updated: {message.updated} article(s)", markup=False)

    # -- actions ---------------------------------------------------------------------

    @work(thread=True, group="act")
    def act(self, label: str, call: Callable[[], Any], reload_thread: int | None = None) -> None:
        if self._guard(call) is not None or label in ("released", "resolved"):
            self.app.call_from_thread(self.notify, label, markup=False, timeout=3)
        self.reload_queue()
        if reload_thread is not None:
            self.load_thread(reload_thread)

    def action_claim_next(self) -> None:
        def go() -> Any:
            claim = self.desk.claim_next()
            if claim is None:
                self.app.call_from_thread(self.notify, "nothing to claim", markup=False)
                return None
            self.held[claim.conversation_id] = claim
            self.app.call_from_thread(self.load_thread, claim.conversation_id)
            return claim

        self.act("claimed the most urgent conversation", go)

    def action_claim(self) -> None:
        row = self.queue.row_at_cursor()
        target = row.conversation_id if row else None
        if target is not None:

            def go() -> Claim:
                claim = self.desk.claim(target)
                self.held[target] = claim
                return claim

            self.act(f"claimed #{target}", go, target)

    def action_release(self) -> None:
        target = self.thread.conversation.id if self.thread else None
        if target is not None:

            def go() -> bool:
                self.desk.release(target)
                self.held.pop(target, None)
                return True

            self.act(f"released #{target}", go, target)

    def action_resolve(self) -> None:
        if self.thread is None:
            return
        conv = self.thread.conversation
        target, seen = ident(conv), conv.version

        def go() -> bool:
            self.desk.resolve(target, seen_version=seen)
            return True

        self.act(f"resolved #{target}", go)
        self.queue.action_cursor_down()

    def action_retry_sends(self) -> None:
        if self.thread is None:
            return
        failed = [i.id for i in self.thread.deliveries.values() if i.state == "failed" and i.id]
        if not failed:
            self.notify("no failed reply here", markup=False, timeout=3)
            return

        def go() -> bool:
            for outbox_id in failed:
                self.desk.retry_send(outbox_id)
            return True

        self.act(f"queued {len(failed)} repl{'ies' if len(failed) > 1 else 'y'} again", go,
                 ident(self.thread.conversation))  # fmt: skip

    def action_compose_reply(self) -> None:
        self.composer.start(as_note=False)

    def action_compose_note(self) -> None:
        self.composer.start(as_note=True)

    def action_send(self) -> None:
        self.composer.submit()

    def action_search(self) -> None:
        self.add_class("-kb-open")
        self.knowledge.focus_search()

    def action_insert_answer(self, number: int) -> None:
        self.knowledge.choose(number)

    def action_leave(self) -> None:
        self.remove_class("-kb-open")
        self.queue.focus()

    def action_cycle_filter(self) -> None:
        self.apply_view(self.view.cycled())

    def action_edit_filter(self) -> None:
        def chosen(view: QueueView | None) -> None:
            if view is not None:
                self.apply_view(view)

        self.app.push_screen(FilterScreen(self.view), chosen)

    def apply_view(self, view: QueueView) -> None:
        """Show the queue through `view`, from its most urgent row."""
        self.view = view
        label = view.label() or "all"
        self.queue.border_title = Content(f"queue · {terminal_safe(label, keep_newlines=False)}")
        self.notify(f"queue: {label}", markup=False, timeout=2)
        self.queue.cursor = 0
        self.reload_queue(reset=True, start=0)

    @work(thread=True, group="send")
    def send(self, thread: Thread, text: str, as_note: bool) -> None:
        conv = thread.conversation
        target = ident(conv)
        done = "note added"
        try:
            if as_note:
                self.desk.note(target, text)
            else:
                outcome = self.desk.reply(target, text, seen_version=conv.version)
                done = "reply queued"
                if outcome.approval is not None:
                    done = f"held for sign-off (approval #{outcome.approval.id}): " + "; ".join(
                        outcome.approval.reasons
                    )
        except (StaleVersion, ClaimConflict) as exc:
            # The draft stays in the composer; show what changed.
            self.app.call_from_thread(self.report, exc)
            self.load_thread(target)
            return
        except FrontdeskError as exc:
            self.app.call_from_thread(self.report, exc)
            return
        self.app.call_from_thread(self.composer.clear)
        self.app.call_from_thread(self.notify, done, markup=False, timeout=5)
        self.load_thread(target)
        self.reload_queue()

    @work(thread=True, exclusive=True, group="heartbeat")
    def renew_claims(self) -> None:
        """Keep the operator's leases alive while the app runs; say so at once if one is lost."""
        for conversation_id, claim in list(self.held.items()):
            try:
                self.held[conversation_id] = self.desk.heartbeat(claim)
            except ClaimConflict as exc:
                self.held.pop(conversation_id, None)
                self.app.call_from_thread(self.report, exc)
            except FrontdeskError:
                pass  # a busy database: the next beat retries, well inside the lease
