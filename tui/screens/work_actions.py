"""The workstation's keys for working the queue: claim, release, reply, note, resolve, filter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.content import Content

from frontdesk.core.claims import Claim
from frontdesk.core.conversations import Thread
from frontdesk.core.errors import ClaimConflict, FrontdeskError, StaleVersion
from frontdesk.core.models import Conversation
from frontdesk.core.text import terminal_safe
from frontdesk.tui.screens.filter import FilterScreen, QueueView
from frontdesk.tui.screens.panes import PaneScreen


def ident(conv: Conversation) -> int:
    """A stored conversation's id (always set once it has been read from the database)."""
    assert conv.id is not None
    return conv.id


class WorkActions(PaneScreen):
    """Mixed into the workstation screen, which supplies the panes and loaders below."""

    BINDINGS: ClassVar[list[BindingType]] = [
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
            if claim.reason:  # another team's conversation: say why it came to this operator
                self.app.call_from_thread(
                    self.notify,
                    f"claimed #{claim.conversation_id} ({claim.reason})",
                    markup=False,
                    timeout=8,
                )
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
            public = self.desk.resolve(target, seen_version=seen)
            if public is not None:
                self.app.call_from_thread(
                    self.notify,
                    f"post the public follow-up on #{public} (open it, press r)",
                    markup=False,
                    timeout=10,
                )
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
        box = self.query_one("#queue-box")  # the border is the box's (see app.tcss)
        box.border_title = Content(f"queue · {terminal_safe(label, keep_newlines=False)}")
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
