"""How the workstation follows what changed elsewhere: other sessions, approvers, files."""

from __future__ import annotations

from frontdesk.core.text import terminal_safe
from frontdesk.tui.messages import ChangesArrived, KnowledgeReloaded, PlaybookReloaded
from frontdesk.tui.screens.panes import PaneScreen
from frontdesk.tui.screens.work_actions import ident


class LiveActions(PaneScreen):
    """Mixed into the workstation screen: the change feed's and the watchers' messages."""

    def on_changes_arrived(self, message: ChangesArrived) -> None:
        self.reload_queue()
        self.tell_about_my_replies(message)
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
        if self._wanted_thread == open_id:  # else a newer load is under way and reads it fresh
            self.load_thread(open_id)
        taker = next(
            (e.actor for e in others if e.kind in ("claim.taken", "claim.reassigned")), None
        )
        if mine and taker is not None:
            self.notify(
                f"your claim on #{open_id} was taken by {taker}", severity="warning", markup=False
            )

    def tell_about_my_replies(self, message: ChangesArrived) -> None:
        """An approver's decision on a reply this operator wrote reaches them at once."""
        for event in message.events:
            if event.payload.get("author") != self.desk.login or event.actor == self.desk.login:
                continue
            where = f"#{event.conversation_id}"
            if event.kind == "approval.approved":
                self.notify(f"{event.actor} approved your reply on {where}; it is queued",
                            markup=False, timeout=8)  # fmt: skip
            elif event.kind == "approval.rejected":
                note = terminal_safe(str(event.payload.get("note", "")))  # typed by a person
                self.notify(f"{event.actor} rejected your reply on {where}: {note}",
                            severity="warning", markup=False, timeout=12)  # fmt: skip

    def on_playbook_reloaded(self, message: PlaybookReloaded) -> None:
        if message.problem:
            said = (
                f"playbook file is broken: {message.problem}"
                if message.at_start  # the problem names what is in force instead
                else f"playbook edit refused, the last good one stays: {message.problem}"
            )
            self.notify(
                said,
                severity="error",
                markup=False,
                timeout=15,
            )
        else:
            self.notify("playbook updated", markup=False, timeout=3)
        open_id = self.thread.conversation.id if self.thread is not None else None
        if open_id is not None and open_id == self._wanted_thread:
            self.load_thread(open_id)  # the open draft's tone check follows the new rules

    def on_knowledge_reloaded(self, message: KnowledgeReloaded) -> None:
        self.status.set_kb_state(
            f"KB {message.articles} articles"
            + (f", {len(message.problems)} broken" if message.problems else "")
        )
        if message.updated:
            self.notify(f"KB updated: {message.updated} article(s)", markup=False)
