"""The desk's playbook actions: replies through the tone check and sign-off, escalation,
moving a talk private and the public follow-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from frontdesk.core import (
    approvals,
    conversations,
    engagement,
    escalations,
    handoff,
    retriage,
)
from frontdesk.core.config import Settings
from frontdesk.core.conversations import Thread
from frontdesk.core.db import Database
from frontdesk.core.errors import PermissionDenied
from frontdesk.core.models import Conversation, Message, Operator
from frontdesk.core.models_playbook import Approval, Escalation
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.store import PlaybookStore
from frontdesk.core.playbook.tone import Finding

_OPENING = threading.Lock()
"""Held while a desk opens its playbook store (rare: once per desk)."""


class PlaybookDesk:
    """Mixed into Desk: the operations the playbook governs."""

    settings: Settings
    login: str
    db: Database
    clock: Callable[[], datetime]
    _playbooks: PlaybookStore | None
    on_playbook_problem: Callable[[str], None] | None = None
    """Told, once, when the playbook is opened and its file's current text is not in force
    (core prints nothing: the shell decides how to say it)."""

    def operator(self) -> Operator:
        raise NotImplementedError

    def thread(self, conversation_id: int) -> Thread:
        raise NotImplementedError

    @property
    def lease(self) -> timedelta:
        raise NotImplementedError

    @property
    def playbook(self) -> Playbook:
        """The playbook in force (the built-in defaults when no file is configured)."""
        if self._playbooks is None:
            # Workers open it concurrently at start (the workstation's first read and its
            # playbook watcher): two stores would leave the watcher reloading one the desk
            # no longer reads.
            with _OPENING:
                if self._playbooks is None:
                    path = self.settings.resolved_playbook()
                    store = PlaybookStore.open(path) if path else PlaybookStore(Path())
                    self._playbooks = store
                    warning = store.warning
                    if warning is not None and self.on_playbook_problem is not None:
                        self.on_playbook_problem(warning)
        return self._playbooks.current

    @property
    def playbook_store(self) -> PlaybookStore:
        self.playbook  # noqa: B018  (opens the store)
        assert self._playbooks is not None
        return self._playbooks

    def reply(
        self, conversation_id: int, body: str, *, seen_version: int | None = None
    ) -> engagement.Outcome:
        """Check and send (or hold for sign-off) a reply; without `seen_version` the current
        version is taken as seen."""
        self.operator()
        if seen_version is None:
            seen_version = self.thread(conversation_id).conversation.version
        with self.db.write() as session:
            outcome = engagement.send_reply(
                session,
                self.playbook,
                conversation_id=conversation_id,
                operator=self.login,
                body=body,
                seen_version=seen_version,
                now=self.clock(),
            )
            session.expunge_all()
            return outcome

    def check_reply(self, conversation_id: int, body: str) -> list[Finding]:
        """The tone and safety findings for a draft, without sending anything."""
        return engagement.check(self.playbook, self.thread(conversation_id), self.login, body)

    def approvals(self) -> list[Approval]:
        with self.db.read() as session:
            rows = approvals.pending(session)
            session.expunge_all()
            return rows

    def approve(self, approval_id: int, *, body: str | None = None, note: str = "") -> Message:
        self._require_approver("approve replies")
        with self.db.write() as session:
            if body is not None:
                self._check_edit(session, approval_id, body)
            message = approvals.approve(
                session, approval_id, approver=self.login, now=self.clock(), body=body, note=note
            )
            session.expunge(message)
            return message

    def reject(self, approval_id: int, *, note: str) -> Approval:
        self._require_approver("reject replies")
        with self.db.write() as session:
            approval = approvals.reject(
                session, approval_id, approver=self.login, note=note, now=self.clock()
            )
            session.expunge(approval)
            return approval

    def _require_approver(self, action: str) -> None:
        if not self.settings.roles.may_approve(self.login):
            raise PermissionDenied(
                f"{self.login} is not an approver; only supervisors and the configured"
                f" approvers may {action}"
            )

    def _check_edit(self, session: Session, approval_id: int, body: str) -> None:
        """An approver's edit passes the same tone check as the original."""
        approval = approvals.get(session, approval_id)
        thread = conversations.get_thread(session, approval.conversation_id)
        findings = engagement.check(self.playbook, thread, approval.author, body)
        if any(f.blocks for f in findings):
            raise engagement.ReplyBlocked(findings)

    def escalate(self, conversation_id: int, department: str, note: str) -> Escalation:
        """Escalate to a department of the directory; the contact lands in the thread."""
        self.operator()
        with self.db.write() as session:
            row = escalations.escalate(
                session,
                self.playbook,
                conversation_id=conversation_id,
                by=self.login,
                department=department,
                note=note,
                now=self.clock(),
            )
            session.expunge(row)
            return row

    def move_private(
        self, conversation_id: int, *, seen_version: int | None = None
    ) -> tuple[engagement.Outcome, Conversation]:
        """Acknowledge in public (or hold the acknowledgement for sign-off, as any reply) and
        open the linked private conversation (held by you)."""
        self.operator()
        if seen_version is None:
            seen_version = self.thread(conversation_id).conversation.version
        with self.db.write() as session:
            ack, private = handoff.move_private(
                session,
                self.playbook,
                conversation_id=conversation_id,
                operator=self.login,
                seen_version=seen_version,
                now=self.clock(),
                lease=self.lease,
            )
            session.expunge_all()
            return ack, private

    def override(
        self,
        conversation_id: int,
        *,
        category: str | None = None,
        tags: list[str] | None = None,
        priority: int | None = None,
    ) -> Conversation:
        """Change what triage decided (one key each in the workstation)."""
        with self.db.write() as session:
            conv = retriage.override(
                session,
                self.playbook,
                conversation_id=conversation_id,
                operator=self.login,
                now=self.clock(),
                category=category,
                tags=tags,
                priority=priority,
            )
            session.expunge(conv)
            return conv

    def follow_up_text(self, conversation_id: int) -> str:
        """The public follow-up for this conversation's customer, ready to edit and send."""
        return handoff.follow_up_text(
            self.playbook, engagement.first_name(self.thread(conversation_id))
        )
