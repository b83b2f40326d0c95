"""The workstation's playbook keys: escalate, go private, thank, re-triage, sign off, mute."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.binding import Binding, BindingType

from frontdesk.core.text import terminal_safe
from frontdesk.tui.screens.approvals import ApprovalsScreen
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.panes import PaneScreen
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen
from frontdesk.tui.widgets.kb_panel import KnowledgePanel

PLAYBOOK_BINDINGS: list[BindingType] = [
    Binding("e", "escalate", "Escalate", show=False, id="thread.escalate"),
    Binding("p", "move_private", "Go private", show=False, id="thread.private"),
    Binding("t", "thank_you", "Thank", show=False, id="thread.thank_you"),
    Binding("C", "set_category", "Category", show=False, id="triage.category"),
    Binding("T", "set_tags", "Tags", show=False, id="triage.tags"),
    Binding("P", "set_priority", "Priority", show=False, id="triage.priority"),
    Binding("A", "approvals", "Sign-off", show=False, id="signoff.queue"),
    Binding("M", "mute_stream", "Mute", show=False, id="thread.mute"),
]


class PlaybookActions(PaneScreen):
    """Mixed into the workstation screen, which supplies the attributes below."""

    BINDINGS = PLAYBOOK_BINDINGS

    if TYPE_CHECKING:
        act: Callable[..., Any]

    def _open_id(self) -> int | None:
        return self.thread.conversation.id if self.thread is not None else None

    def action_escalate(self) -> None:
        target = self._open_id()
        names = self.desk.playbook.directory.names() if target is not None else []
        if target is None or not names:
            self.notify("no escalation directory in the playbook", markup=False, timeout=4)
            return

        def why(department: str) -> Callable[[str | None], None]:
            def escalate(note: str | None) -> None:
                if note:
                    label = f"escalated #{target} to {department}"
                    self.act(label, lambda: self.desk.escalate(target, department, note), target)

            return escalate

        def chosen(picked: list[str] | None) -> None:
            if picked:
                self.app.push_screen(TextScreen(f"Why escalate to {picked[0]}?"), why(picked[0]))

        options = [(n, n) for n in names]
        self.app.push_screen(ChoiceScreen("Escalate to", options), chosen)

    def action_move_private(self) -> None:
        target = self._open_id()
        if target is None or self.thread is None:
            return
        seen = self.thread.conversation.version

        def go() -> Any:
            ack, private = self.desk.move_private(target, seen_version=seen)
            assert private.id is not None
            self.held[private.id] = self.desk.claim(private.id)
            self.app.call_from_thread(self.load_thread, private.id)
            said = (
                f"the public acknowledgement waits for sign-off (approval #{ack.approval.id})"
                if ack.approval is not None
                else f"acknowledged in public on #{target}"
            )
            self.app.call_from_thread(self.notify, said, markup=False, timeout=6)
            return private

        def answer(yes: bool | None) -> None:
            if yes:
                self.act(f"#{target} continues in private", go)

        question = "Post the public acknowledgement and continue in private? (y/n)"
        self.app.push_screen(ConfirmScreen(question), answer)

    def action_thank_you(self) -> None:
        article_id = self.desk.playbook.config.replies.thank_you
        article = self.kb.by_id(article_id) if self.kb is not None else None
        if article is None or self.thread is None:
            self.notify(f"no thank-you article {article_id!r} in the KB", markup=False)
            return
        panel = self.query_one(KnowledgePanel)
        self.composer.start(as_note=False)
        self.composer.insert(article.render(panel.channel, panel.values))

    def action_set_category(self) -> None:
        if (target := self._open_id()) is None or self.thread is None:
            return
        current = self.thread.conversation.category

        def chosen(picked: list[str] | None) -> None:
            if picked and picked[0] != current:
                label = f"#{target} is now {picked[0]}"
                self.act(label, lambda: self.desk.override(target, category=picked[0]), target)

        options = [(c, c) for c in self.desk.playbook.categories]
        self.app.push_screen(ChoiceScreen("Category", options), chosen)

    def action_set_tags(self) -> None:
        if (target := self._open_id()) is None or self.thread is None:
            return
        current = set(self.thread.conversation.tags)

        def chosen(picked: list[str] | None) -> None:
            if picked is not None and set(picked) != current:
                self.act(f"#{target} tags: {', '.join(picked) or 'none'}",
                         lambda: self.desk.override(target, tags=picked), target)  # fmt: skip

        # Tags outside the playbook's list (a listening stream's) stay listed, so saving
        # the choice does not drop them.
        listed = self.desk.playbook.tags
        options = [(t, t) for t in [*listed, *sorted(current - set(listed))]]
        self.app.push_screen(
            ChoiceScreen("Source tags", options, multi=True, chosen=current), chosen
        )

    def action_set_priority(self) -> None:
        if (target := self._open_id()) is None or self.thread is None:
            return

        def typed(value: str | None) -> None:
            if value is None:
                return
            try:
                priority = int(value)
            except ValueError:
                self.notify(f"{value!r} is not a whole number", severity="error", markup=False)
                return
            self.act(f"#{target} priority {priority}",
                     lambda: self.desk.override(target, priority=priority), target)  # fmt: skip

        current = str(self.thread.conversation.priority)
        self.app.push_screen(
            TextScreen("Priority (a whole number; higher first)", value=current), typed
        )

    def action_approvals(self) -> None:
        if not self.desk.settings.roles.may_approve(self.desk.login):
            self.notify("only supervisors and approvers sign off replies", markup=False)
            return
        self.app.push_screen(ApprovalsScreen(self.desk))

    def action_mute_stream(self) -> None:
        """Mute, on the stream that brought the open conversation in, its author or a phrase."""
        if self.thread is None:
            return
        from frontdesk.core import listening

        conv, customer = self.thread.conversation, self.thread.customer
        streams = listening.streams_of(conv.tags)
        if not streams:
            self.notify(f"#{conv.id} did not come from a listening stream", markup=False)
            return
        stream = streams[0]
        author = customer.handle or customer.platform_user_id

        def mute(kind: str, value: str | None) -> None:
            if not value or not value.strip():
                return
            shown = terminal_safe(value.strip(), keep_newlines=False)
            desk = self.desk
            self.act(
                f"{stream} mutes {kind} {shown}",
                lambda: listening.add_mute(
                    desk.db, stream=stream, kind=kind, value=value, by=desk.login, now=desk.clock()
                ),
            )

        def chosen(picked: list[str] | None) -> None:
            if picked and picked[0] == "author":
                mute("author", author)
            elif picked:
                hint = "matches with these words (any case) stop coming in; `frontdesk mute list`"
                phrase = TextScreen(f"Mute a phrase on {stream}", hint)
                self.app.push_screen(phrase, lambda value: mute("phrase", value))

        options = [
            ("author", f"mute this author: @{author.lstrip('@')}"),
            ("phrase", "mute a phrase"),
        ]
        self.app.push_screen(ChoiceScreen(f"Mute on stream {stream}", options), chosen)
