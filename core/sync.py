"""`frontdesk sync`'s passes: pull each account into the queue, and deliver the outbox once.

Order of writes is what makes a kill -9 at any point safe:
- ingest commits the messages, then the cursor is stored; a crash between them re-reads
  messages that ingest drops as duplicates (by external id);
- a reply is marked "sending" and committed before the platform is called; a crash after
  that leaves it "sending", which the next start turns into "unknown" and reads back
  (`Connector.find_sent`) before any resend, so the customer never gets it twice;
- only one sync runs against a database (core/sync_lock.py), so a "sending" row at start is
  the remains of a stopped sender, never another sender's reply in flight.
Scheduled posts follow the same rules (core/scheduled_publish.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from frontdesk.core import ingest, outbox, scheduled, scheduled_publish, sync_state
from frontdesk.core.clock import utcnow
from frontdesk.core.config import SlaSettings
from frontdesk.core.connectors.base import Connector, Reply, SendReceipt
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ConnectorError,
    RateLimited,
)
from frontdesk.core.db import Database
from frontdesk.core.intake import Intake
from frontdesk.core.models_channels import OutboxItem

log = logging.getLogger("frontdesk.sync")

READBACK_DELAY = timedelta(seconds=10)
"""After an ambiguous send, how long the platform gets to show the post before it is read
back: a read-back that comes too early finds nothing and the reply would go twice."""


@dataclass
class PassReport:
    """What one step (poll, drain or publish) did for one account."""

    account: str
    step: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    retry_at: datetime | None = None
    """Set when the platform throttled this step: nothing more goes before then."""
    more: bool = False
    """The drain stopped at its budget with rows still due."""

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class SyncService:
    """Polls accounts and drains the outbox through them; one instance per database."""

    def __init__(
        self,
        db: Database,
        connectors: dict[str, Connector],
        *,
        sla: SlaSettings,
        intake: Intake | None = None,
        channels: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 100,
        budget: int = 500,
    ) -> None:
        self.db = db
        self.sla = sla
        # The playbook in force triages, routes and clocks what sync brings in.
        self.intake = intake
        self.connectors = connectors
        # The queue channel each account brings messages into and sends the replies of.
        self.channels = {n: c.channel for n, c in connectors.items()} | (channels or {})
        self.clock = clock
        self.batch = batch
        self.budget = budget
        self._stranded = False
        self._throttled: dict[str, datetime] = {}  # sending paused per account until then

    def recover(self) -> dict[str, int]:
        """At start: replies and posts a stopped sender left mid-send become unknown."""
        now = self.clock()
        with self.db.write() as session:
            counts = {
                "replies": outbox.recover_interrupted(session, now=now),
                "posts": scheduled.recover_interrupted(session, now=now),
            }
        self._stranded = False
        return counts

    def poll(self, name: str) -> PassReport:
        """Fetch what is new on one account, queue it, and only then move its cursor."""
        connector = self.connectors[name]
        report = PassReport(name, "poll")
        cursor = sync_state.cursor(self.db, name)
        try:
            result = connector.fetch(cursor)
        except ConnectorError as exc:
            if isinstance(exc, RateLimited):
                report.retry_at = exc.reset_at
            report.errors.append(exc.message)
            self._save_state(name, connector, error=exc.message, polled=True)
            return report
        report.add("fetched", len(result.messages))
        report.add("own", len(result.sent))
        if result.messages:
            lines = [m.model_dump_json() for m in result.messages]
            done = ingest.ingest_stream(
                self.db, lines, sla=self.sla, actor="sync", now=self.clock(), intake=self.intake
            )
            report.add("accepted", done.accepted)
            report.add("duplicates", done.duplicates)
            report.errors += [f"{name}: message refused by ingest: {r}" for _, r in done.rejected]
        report.errors += [p.message for p in result.problems]
        self._save_state(
            name, connector, cursor=result.cursor, error="; ".join(report.errors), polled=True
        )
        return report

    def drain(self, name: str, *, stop: Callable[[], bool] = lambda: False) -> PassReport:
        """Deliver the due outbox rows of this account's channel, oldest first, up to the
        budget; stops at the first throttling or refused sign-in."""
        connector = self.connectors[name]
        report = PassReport(name, "drain")
        paused = self._throttled.get(name)
        if paused is not None and paused > self.clock():
            report.retry_at = paused  # no row is taken only to be refused by the gate
            return report
        if self._stranded:
            self.recover()
        after, handled = 0, 0
        channel = self.channels[name]
        while not stop():
            with self.db.read() as session:
                items = outbox.due(
                    session, now=self.clock(), limit=self.batch, channels=(channel,), after_id=after
                )
            if not items:
                break
            for item in items:
                assert item.id is not None
                after = item.id
                try:
                    self._deliver(connector, item, report)
                except (RateLimited, AuthFailed) as exc:
                    report.errors.append(exc.message)
                    if isinstance(exc, RateLimited):
                        report.retry_at = self._throttled[name] = exc.reset_at
                    self._save_state(name, connector)
                    return report
                handled += 1
                if handled >= self.budget:
                    report.more = True
                    return report
                if stop():
                    break
        if handled and connector.rate_limits:
            self._save_state(name, connector)  # the limits the sends reported
        return report

    def publish(self, name: str) -> PassReport:
        """Publish this account's scheduled posts that are due, unless the hold is on."""
        report = PassReport(name, "publish")
        done = scheduled_publish.publish_due(self.db, name, self.connectors[name], self.clock)
        for key, value in done.counts.items():
            report.add(key, value)
        report.errors += done.errors
        report.retry_at = done.retry_at
        return report

    def _deliver(self, connector: Connector, item: OutboxItem, report: PassReport) -> None:
        assert item.id is not None
        reply = Reply(
            text=item.body,
            key=f"frontdesk-outbox-{item.id}",
            in_reply_to=item.in_reply_to,
            recipient=item.recipient,
        )
        private = item.kind == "private_message"
        state = item.state
        if state == "unknown":
            if not self._read_back(connector, item, reply, private, report):
                return
            state = "queued"
        with self.db.write() as session:
            if not outbox.take(session, item.id, expected=state, new="sending", now=self.clock()):
                return  # an operator or an earlier step moved it meanwhile
        # From here until the row leaves "sending", a failure to record the outcome leaves it
        # stranded; the next drain recovers it (read back, never resent blindly).
        self._stranded = True
        attempts = item.attempts + 1
        try:
            receipt = (
                connector.send_private_message(reply)
                if private
                else connector.send_public_reply(reply)
            )
        except AmbiguousOutcome as exc:
            self._unknown(item, exc.message, self.clock() + READBACK_DELAY, report)
            return
        except ConnectorError as exc:
            now = self.clock()
            if isinstance(exc, RateLimited):
                retry_at: datetime | None = exc.reset_at
            elif exc.retryable or isinstance(exc, AuthFailed):
                # Sign-in is the account's problem, not the reply's: it goes once fixed.
                retry_at = outbox.backoff(attempts, now)
            else:
                retry_at = None
            with self.db.write() as session:
                outbox.mark_failed(session, item, error=exc.message, now=now, retry_at=retry_at)
            self._stranded = False
            report.add("failed")
            if isinstance(exc, RateLimited | AuthFailed):
                raise
            report.errors.append(exc.message)
            return
        except Exception as exc:  # a bug below the contract: the reply may have gone
            log.exception("send failed unexpectedly", extra={"event": "error"})
            self._unknown(item, f"unexpected {type(exc).__name__}: {exc}", None, report)
            return
        self._sent(item, receipt, report)

    def _read_back(
        self,
        connector: Connector,
        item: OutboxItem,
        reply: Reply,
        private: bool,
        report: PassReport,
    ) -> bool:
        """Settle an unknown row: sent if the platform has it; True when it must go again."""
        assert item.id is not None
        try:
            receipt = connector.find_sent(reply, private=private)
        except RateLimited:
            raise
        except ConnectorError as exc:
            retry = outbox.backoff(item.attempts, self.clock())
            self._unknown(item, f"reading back failed: {exc.message}", retry, report)
            report.errors.append(exc.message)
            return False
        if receipt is not None:
            report.add("found")
            self._sent(item, receipt, report)
            return False
        with self.db.write() as session:
            return outbox.take(session, item.id, expected="unknown", new="queued", now=self.clock())

    def _sent(self, item: OutboxItem, receipt: SendReceipt, report: PassReport) -> None:
        with self.db.write() as session:
            outbox.mark_sent(session, item, external_id=receipt.external_id, now=self.clock())
        self._stranded = False
        report.add("sent")

    def _unknown(
        self, item: OutboxItem, error: str, retry_at: datetime | None, report: PassReport
    ) -> None:
        with self.db.write() as session:
            outbox.mark_unknown(session, item, error=error, now=self.clock(), retry_at=retry_at)
        self._stranded = False
        report.add("unknown")

    def _save_state(
        self,
        name: str,
        connector: Connector,
        *,
        cursor: str | None = None,
        error: str | None = None,
        polled: bool = False,
    ) -> None:
        sync_state.save(
            self.db,
            name,
            self.channels[name],
            connector,
            now=self.clock(),
            cursor=cursor,
            error=error,
            polled=polled,
        )
