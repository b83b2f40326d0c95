"""The desk: one operator's view of the shared queue, each action one short transaction.

The CLI and the workstation both call these methods; each opens its own unit of work
around the core functions, which never commit on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from frontdesk.core import (
    approvals,
    claims,
    conversations,
    engagement,
    events,
    ingest,
    outbox,
    presence,
    queue,
    schema,
    sync_status,
)
from frontdesk.core.claims import Claim
from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.errors import DatabaseError, PermissionDenied
from frontdesk.core.events import EventRecord
from frontdesk.core.models import Message, Operator
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.models_playbook import Approval
from frontdesk.core.operators import ensure_operator, require_role
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.store import PlaybookStore
from frontdesk.core.playbook.tone import Finding
from frontdesk.core.queue import QueueCounts, QueueFilter


class Desk:
    """The services one operator uses, bound to a database, settings and a clock."""

    def __init__(
        self,
        settings: Settings,
        operator: str,
        *,
        db: Database | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.login = operator
        self.db = db or Database(settings.resolved_database_url())
        self.clock = clock
        self._operator: Operator | None = None
        self._playbooks: PlaybookStore | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claims.lease_seconds)

    def check_schema(self) -> None:
        """Refuse to work on a database that is missing tables or behind the code."""
        current = schema.current_revision(self.db)
        head = schema.head_revision(self.db)
        if current is None:
            raise DatabaseError(f"{self.db.describe()}: not initialised; run `frontdesk init`")
        if current != head:
            raise DatabaseError(
                f"{self.db.describe()}: schema is at {current}, this frontdesk needs {head}; "
                "run `frontdesk db upgrade`"
            )

    def operator(self) -> Operator:
        """The operator's row (created on first use), cached for the desk's lifetime."""
        if self._operator is None:
            with self.db.write() as session:
                op = ensure_operator(
                    session, login=self.login, settings=self.settings, now=self.clock()
                )
                session.expunge(op)
            self._operator = op
        return self._operator

    def queue(self, flt: QueueFilter) -> list[queue.QueueRow]:
        with self.db.read() as session:
            rows = queue.list_queue(session, flt)
            session.expunge_all()
            return rows

    def queue_count(self, flt: QueueFilter) -> int:
        with self.db.read() as session:
            return queue.count_queue(session, flt)

    def counts(self) -> QueueCounts:
        with self.db.read() as session:
            return queue.counts(session, operator=self.login, now=self.clock())

    def thread(self, conversation_id: int) -> conversations.Thread:
        with self.db.read() as session:
            thread = conversations.get_thread(session, conversation_id)
            session.expunge_all()
            return thread

    def claim(self, conversation_id: int) -> Claim:
        self.operator()
        with self.db.write() as session:
            return claims.claim(
                session,
                conversation_id=conversation_id,
                operator=self.login,
                now=self.clock(),
                lease=self.lease,
            )

    def claim_next(self) -> Claim | None:
        self.operator()
        with self.db.write() as session:
            return claims.claim_next(
                session, operator=self.login, now=self.clock(), lease=self.lease
            )

    def heartbeat(self, claim: Claim) -> Claim:
        with self.db.write() as session:
            return claims.heartbeat(session, claim=claim, now=self.clock(), lease=self.lease)

    def release(self, conversation_id: int) -> None:
        with self.db.write() as session:
            claims.release(
                session, conversation_id=conversation_id, operator=self.login, now=self.clock()
            )

    def reassign(self, conversation_id: int, target: str) -> Claim:
        require_role(self.operator(), "supervisor", action="reassign conversations")
        with self.db.write() as session:
            return claims.reassign(
                session,
                conversation_id=conversation_id,
                target=target,
                actor=self.login,
                now=self.clock(),
                lease=self.lease,
            )

    @property
    def playbook(self) -> Playbook:
        """The playbook in force (the built-in defaults when no file is configured)."""
        if self._playbooks is None:
            path = self.settings.resolved_playbook()
            self._playbooks = PlaybookStore.open(path) if path else PlaybookStore(Path())
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

    def note(self, conversation_id: int, body: str) -> Message:
        self.operator()
        with self.db.write() as session:
            message = conversations.add_note(
                session,
                conversation_id=conversation_id,
                operator=self.login,
                body=body,
                now=self.clock(),
            )
            session.expunge(message)
            return message

    def resolve(self, conversation_id: int, *, seen_version: int = -1) -> None:
        force = self.operator().role == "supervisor"
        with self.db.write() as session:
            claims.resolve(
                session,
                conversation_id=conversation_id,
                operator=self.login,
                now=self.clock(),
                seen_version=seen_version,
                force=force,
            )

    def announce(self, conversation_id: int | None, state: str = "viewing") -> None:
        """Tell the team where this operator is looking (advisory, expires by itself)."""
        with self.db.write() as session:
            presence.announce(
                session,
                operator=self.login,
                conversation_id=conversation_id,
                state=state,
                now=self.clock(),
            )

    def presence(self) -> dict[int, list[tuple[str, str]]]:
        with self.db.read() as session:
            return presence.active(session, now=self.clock())

    def events_after(self, after_id: int, *, limit: int = 1000) -> list[EventRecord]:
        with self.db.read() as session:
            return events.after(session, after_id, limit=limit)

    def last_event_id(self) -> int:
        with self.db.read() as session:
            return events.last_id(session)

    def retry_send(self, outbox_id: int) -> OutboxItem:
        """Queue a failed reply again (anyone may: the reply was already approved to go)."""
        with self.db.write() as session:
            item = outbox.retry(session, outbox_id, operator=self.login, now=self.clock())
            session.expunge(item)
            return item

    def service_status(self) -> sync_status.ServiceStatus:
        with self.db.read() as session:
            return sync_status.service_status(session)

    def ingest(self, lines: Iterable[str | bytes]) -> ingest.IngestReport:
        return ingest.ingest_stream(
            self.db, lines, sla=self.settings.sla, actor=self.login, now=self.clock()
        )
