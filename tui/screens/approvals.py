"""The sign-off queue for approvers: each held reply with why it was held; approve or reject."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from frontdesk.core.desk import Desk
from frontdesk.core.errors import FrontdeskError
from frontdesk.core.models_playbook import Approval
from frontdesk.core.text import terminal_safe
from frontdesk.tui.screens.prompt import TextScreen


class ApprovalsScreen(ModalScreen[None]):
    """y approves, n rejects with a note, e edits then approves; esc closes."""

    BINDINGS = [
        Binding("y", "approve", "Approve", id="approvals.approve"),
        Binding("n", "reject", "Reject", id="approvals.reject"),
        Binding("e", "edit", "Edit and approve", id="approvals.edit"),
        Binding("escape", "dismiss(None)", "Close", id="approvals.close"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.pending: list[Approval] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="approvals-body"):
            yield Static(
                Content("Replies waiting for sign-off: y approve · n reject · e edit · esc"),
                classes="help-title",
            )
            yield OptionList(id="approvals-list")
            yield Static(Content(""), id="approvals-status")

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="approvals")
    def load(self, done: str = "") -> None:
        try:
            pending = self.desk.approvals()
        except FrontdeskError as exc:
            self.app.call_from_thread(self.say, exc.message)
            return
        self.app.call_from_thread(self.show, pending, done)

    def show(self, pending: list[Approval], done: str = "") -> None:
        self.pending = pending
        options = self.query_one(OptionList)
        options.clear_options()
        for approval in pending:
            text = (
                f"#{approval.id} on #{approval.conversation_id} by {approval.author}:"
                f" {'; '.join(approval.reasons)}\n{approval.body}"
            )
            options.add_option(Option(Content(terminal_safe(text)), id=str(approval.id)))
        if pending:
            options.highlighted = 0
        self.say(done or ("" if pending else "no reply is waiting for sign-off"))

    def say(self, text: str) -> None:
        self.query_one("#approvals-status", Static).update(
            Content(terminal_safe(text, keep_newlines=False))
        )

    def _current(self) -> Approval | None:
        index = self.query_one(OptionList).highlighted
        return self.pending[index] if index is not None and index < len(self.pending) else None

    def action_approve(self) -> None:
        if (approval := self._current()) is not None:
            self.decide(approval.id or 0, "approve", None)

    def action_reject(self) -> None:
        if (approval := self._current()) is None:
            return

        def noted(note: str | None) -> None:
            if note is not None:
                self.decide(approval.id or 0, "reject", note)

        self.app.push_screen(TextScreen("Why is it rejected? The author sees this."), noted)

    def action_edit(self) -> None:
        if (approval := self._current()) is None:
            return

        def edited(text: str | None) -> None:
            if text:
                self.decide(approval.id or 0, "approve", text)

        self.app.push_screen(TextScreen("Edit, then enter approves", value=approval.body), edited)

    @work(thread=True, group="approvals-decide")
    def decide(self, approval_id: int, verdict: str, text: str | None) -> None:
        try:
            if verdict == "approve":
                self.desk.approve(approval_id, body=text)
                done = f"approval #{approval_id} approved: the reply is queued"
            else:
                self.desk.reject(approval_id, note=text or "")
                done = f"approval #{approval_id} rejected"
        except FrontdeskError as exc:
            done = exc.message
        self.load(done)
