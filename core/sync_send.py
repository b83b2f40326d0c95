"""Sync's sending half: each outbox row through its own account's connector, never twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from frontdesk.core import outbox
from frontdesk.core.clock import as_utc
from frontdesk.core.connectors.base import Connector, Reply, SendReceipt
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    ConnectorError,
    RateLimited,
)
from frontdesk.core.db import Database
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


def reply_of(item: OutboxItem) -> Reply:
    """What the connector sends for an outbox row; the key is stable across resends."""
    return Reply(
        text=item.body,
        key=f"frontdesk-outbox-{item.id}",
        in_reply_to=item.in_reply_to,
        recipient=item.recipient,
        subject=item.subject,
        references=tuple((item.email_references or "").split()),
        # Templates and broadcasts repeat text: a read-back must not take an older message
        # of the same text to the same place for this one.
        not_before=as_utc(item.created_at),
    )


class Sending:
    """Mixed into SyncService: delivering, reading back and recording one row at a time.

    A row is marked "sending" and committed before the platform is called; an ambiguous
    outcome makes it "unknown", and an unknown row is read back (`Connector.find_sent`)
    before any resend. A row leaves by the account its conversation came in on; one that
    names no account leaves by its channel's only account, and with several it is refused
    rather than sent from a guess (unless it answers no email: then any mailbox sends it).
    """

    db: Database
    clock: Callable[[], datetime]
    channels: dict[str, str]
    _stranded: bool

    def accounts_of(self, channel: str) -> list[str]:
        """The accounts sync knows on a queue channel, by name."""
        return sorted(name for name, c in self.channels.items() if c == channel)

    def _unrouted(self, name: str, item: OutboxItem, report: PassReport) -> bool:
        """Refuse a row that names no account while its channel has several: True when it
        is not this account's to send."""
        if item.account is not None:
            return False
        peers = self.accounts_of(item.channel)
        if peers == [name]:
            return False  # the channel's only account: the one it came in on
        if item.channel == "email" and item.in_reply_to is None:
            # It answers no mail (an ideas digest to a key contact): no account to come back
            # by, so any mailbox is right. The first drain to reach it keeps it, so a
            # read-back after an ambiguous send asks the mailbox that sent it.
            assert item.id is not None
            with self.db.write() as session:
                if not outbox.adopt(session, item.id, account=name, now=self.clock()):
                    return True
            item.account = name
            return False
        assert item.id is not None
        error = (
            f"outbox item {item.id}: conversation #{item.conversation_id} does not record"
            f" which {item.channel} account it came in on, and sync has {len(peers)}"
            f" {item.channel} accounts ({', '.join(peers)}), so it is not sent from a guessed"
            " one; retry it once the customer has written again"
        )
        if item.state == "unknown":
            error += " (it may have gone already: look on the platform first)"
        now = self.clock()
        with self.db.write() as session:
            if not outbox.take(session, item.id, expected=item.state, new="failed", now=now):
                return True  # another account's drain refused it first
            outbox.mark_failed(session, item, error=error, now=now, retry_at=None)
        report.add("failed")
        report.errors.append(error)
        return True

    def _deliver(self, connector: Connector, item: OutboxItem, report: PassReport) -> None:
        assert item.id is not None
        reply = reply_of(item)
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
