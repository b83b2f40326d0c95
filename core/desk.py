"""The desk: one operator's view of the shared queue, each action one short transaction.

The CLI and the workstation both call these methods; each opens its own unit of work
around the core functions, which never commit on their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from frontdesk.core import (
    claims,
    conversations,
    events,
    follow_up,
    handoff,
    identities,
    ingest,
    outbox,
    presence,
    queue,
    schema_version,
    sla_watch,
    staff,
    surveys,
    sync_status,
)
from frontdesk.core.claims import Claim
from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.crisis_desk import CrisisDesk
from frontdesk.core.db import Database
from frontdesk.core.desk_broadcast import BroadcastDesk
from frontdesk.core.desk_playbook import PlaybookDesk
from frontdesk.core.errors import DatabaseError
from frontdesk.core.events import EventRecord
from frontdesk.core.feedback_desk import FeedbackDesk
from frontdesk.core.intake import Intake
from frontdesk.core.metrics_desk import MetricsDesk
from frontdesk.core.models import Message, Operator
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.operators import ensure_operator, require_role
from frontdesk.core.queue import QueueCounts, QueueFilter


class Desk(PlaybookDesk, BroadcastDesk, CrisisDesk, FeedbackDesk, MetricsDesk):
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
        self._playbooks = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.claims.lease_seconds)

    def check_schema(self) -> None:
        """Refuse to work on a database that is missing tables or behind the code."""
        current = schema_version.current_revision(self.db)
        head = schema_version.head_revision()
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
        """The most urgent conversation of the operator's own teams, else of the teams that
        overflow to them because nobody of theirs is online (the playbook's routing)."""
        self.operator()
        playbook = self.playbook
        default = playbook.config.routing.default_team
        # One write transaction on a bare Connection: the routing reads and the claim see
        # one snapshot, and no Session is built around them (it was a third of a claim).
        with self.db.connect(write=True) as conn:
            staff.require_present(conn, self.login)  # away: no work handed out
            # After an abusive conversation, a non-abusive one first (core/staff.py).
            spread = playbook.config.staff.spread_abusive and staff.last_claim_abusive(
                conn, self.login
            )
            available = presence.online(conn, now=self.clock())
            offer = playbook.claimable_teams(self.login, available)
            # Another team's conversation comes with the reason it overflowed to this operator.
            for teams, why in ((offer.own, None), (offer.overflow, offer.overflow_reasons())):
                for avoid in (True, False) if spread and teams else (False,):
                    if not teams:
                        continue
                    claim = claims.claim_next(
                        conn,
                        operator=self.login,
                        now=self.clock(),
                        lease=self.lease,
                        teams=teams,
                        default_team=default,
                        avoid_abusive=avoid,
                        reasons=why,
                    )
                    if claim is not None:
                        return claim
            return None

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

    def resolve(self, conversation_id: int, *, seen_version: int = -1) -> int | None:
        """Resolve; returns the public conversation whose follow-up is now due, if any."""
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
            # The playbook's survey and follow-up reminder, in the same transaction.
            surveys.after_resolve(
                session, self.playbook, conversation_id, actor=self.login, now=self.clock()
            )
            return handoff.after_resolve(session, self.playbook, conversation_id, now=self.clock())

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

    def link_customers(self, first: int, second: int) -> int:
        """One person behind two identities (an X handle and an email address, say)."""
        with self.db.write() as session:
            return identities.link(session, first, second, by=self.login, now=self.clock())

    def sweep(self) -> sla_watch.Sweep:
        """Record SLA warnings and breaches that are due (sync runs this every pass), and
        land the follow-up reminders that came due."""
        with self.db.write() as session:
            follow_up.sweep(session, now=self.clock(), playbook=self.playbook)
            return sla_watch.sweep(session, now=self.clock())

    def ingest(self, lines: Iterable[str | bytes]) -> ingest.IngestReport:
        return ingest.ingest_stream(
            self.db,
            lines,
            sla=self.settings.sla,
            actor=self.login,
            now=self.clock(),
            intake=Intake(self.playbook),
        )
