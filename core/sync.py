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

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from frontdesk.core import ingest, outbox, scheduled, scheduled_publish, sync_state
from frontdesk.core.clock import utcnow
from frontdesk.core.config import SlaSettings
from frontdesk.core.connectors.accounts import Stream
from frontdesk.core.connectors.base import Connector
from frontdesk.core.connectors.errors import AuthFailed, ConnectorError, RateLimited
from frontdesk.core.db import Database
from frontdesk.core.intake import Intake
from frontdesk.core.playbook.store import PlaybookReload, PlaybookStore
from frontdesk.core.sync_listen import Listener
from frontdesk.core.sync_send import READBACK_DELAY, PassReport, Sending

__all__ = ["READBACK_DELAY", "PassReport", "SyncService"]

PLAYBOOK_SETTLE = 1.6
"""Seconds a playbook edit must rest before sync takes it (the workstation's debounce)."""


class SyncService(Sending):
    """Polls accounts and drains the outbox through them; one instance per database."""

    def __init__(
        self,
        db: Database,
        connectors: dict[str, Connector],
        *,
        sla: SlaSettings,
        intake: Intake | None = None,
        playbooks: PlaybookStore | None = None,
        channels: dict[str, str] | None = None,
        clock: Callable[[], datetime] = utcnow,
        batch: int = 100,
        budget: int = 500,
        streams: Mapping[str, Sequence[Stream]] | None = None,
    ) -> None:
        self.db = db
        self.sla = sla
        # The playbook in force triages, routes and clocks what sync brings in; with its
        # store, each pass takes up the file's edits (refresh_playbook).
        self.playbooks = playbooks
        if intake is None and playbooks is not None:
            intake = Intake(playbooks.current)
        self.intake = intake
        self.connectors = connectors
        # The queue channel of each account sync knows (`channels` may name accounts it
        # does not run here): messages come into it, and its replies leave by the account
        # their conversation came in on.
        self.channels = {n: c.channel for n, c in connectors.items()} | (channels or {})
        self.clock = clock
        self.batch = batch
        self.budget = budget
        self._stranded = False
        self._throttled: dict[str, datetime] = {}  # sending paused per account until then
        # Listening: each account's saved searches, run after its poll.
        self.streams = dict(streams or {})
        self.listener = Listener(db, sla=sla, intake=intake, clock=clock)

    def refresh_playbook(self) -> PlaybookReload | None:
        """Re-read the playbook file (one hash when unchanged); a new playbook triages what
        comes in from now on, a broken edit leaves the one in force. None without a store."""
        if self.playbooks is None:
            return None
        result = self.playbooks.reload(settle=PLAYBOOK_SETTLE)
        if result.changed:
            self.intake = self.listener.intake = Intake(self.playbooks.current)
        return result

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
        """Fetch what is new on one account, queue it, and only then move its cursor; then
        run the account's listening streams (their own cursors, core/sync_listen.py)."""
        report = self._poll(name)
        if self.streams.get(name):
            self.listener.listen(name, self.connectors[name], self.streams[name], report)
        return report

    def _poll(self, name: str) -> PassReport:
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
                self.db,
                lines,
                sla=self.sla,
                actor="sync",
                now=self.clock(),
                intake=self.intake,
                account=name,
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
        """Deliver the due outbox rows of this account (and, if it is its channel's only
        account, those that name none), oldest first, up to the budget; stops at the first
        throttling or refused sign-in."""
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
                    session,
                    now=self.clock(),
                    limit=self.batch,
                    channels=(channel,),
                    account=name,
                    after_id=after,
                )
            if not items:
                break
            for item in items:
                assert item.id is not None
                after = item.id
                if self._unrouted(name, item, report):
                    continue
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
