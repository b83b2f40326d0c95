"""Publishing due scheduled posts through an account's connector, with the outbox's rules.

The post is marked "publishing" (in the statement that checks the hold) and committed before
the platform is called; an ambiguous outcome, or a stop in the middle, makes it unknown, and
an unknown post is read back before it may go again, so it is never published twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from frontdesk.core import scheduled
from frontdesk.core.clock import as_utc
from frontdesk.core.connectors.base import Connector, Reply
from frontdesk.core.connectors.errors import AmbiguousOutcome, ConnectorError, RateLimited
from frontdesk.core.db import Database
from frontdesk.core.models_channels import ScheduledPost

log = logging.getLogger("frontdesk.sync")


@dataclass
class PublishReport:
    """What one publishing pass over one account did."""

    counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    retry_at: datetime | None = None

    def add(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1


def publish_due(
    db: Database, account: str, connector: Connector, clock: Callable[[], datetime]
) -> PublishReport:
    """Publish the account's due posts; with the hold on, none goes and the report says how
    many it kept back."""
    report = PublishReport()
    with db.read() as session:
        waiting = scheduled.due(session, account=account, now=clock())
        held = scheduled.hold_state(session) if waiting else None
    if held is not None:
        for _ in waiting:
            report.add("held")
        return report
    for post in waiting:
        try:
            _publish_one(db, connector, post, clock, report)
        except RateLimited as exc:
            report.retry_at = exc.reset_at
            report.errors.append(exc.message)
            break
    return report


def _publish_one(
    db: Database,
    connector: Connector,
    post: ScheduledPost,
    clock: Callable[[], datetime],
    report: PublishReport,
) -> None:
    assert post.id is not None
    # Not published before its time, so reading back ignores older posts of the same text.
    reply = Reply(
        text=post.body, key=f"frontdesk-scheduled-{post.id}", not_before=as_utc(post.publish_at)
    )
    if post.state == "unknown":
        try:
            found = connector.find_published(reply)
        except RateLimited:
            raise
        except ConnectorError as exc:
            report.errors.append(exc.message)
            return  # still unknown: read back again on the next pass
        if found is not None:
            with db.write() as session:
                scheduled.mark(
                    session, post, "published", now=clock(), external_id=found.external_id
                )
            report.add("published")
            return
    with db.write() as session:
        if not scheduled.take(session, post.id, expected=post.state, new="publishing"):
            report.add("held")  # the hold came on (or another step moved it) just now
            return
    try:
        receipt = connector.publish_post(reply)
    except AmbiguousOutcome as exc:
        _mark(db, post, "unknown", clock, error=exc.message)
        report.add("unknown")
        return
    except ConnectorError as exc:
        # A safe failure stays scheduled and goes on the next pass (a throttled one after the
        # reset: the connector refuses to call before it); a refusal is final.
        state = "scheduled" if exc.retryable else "failed"
        _mark(db, post, state, clock, error=exc.message)
        report.add("failed" if state == "failed" else "retry")
        if isinstance(exc, RateLimited):
            raise
        report.errors.append(exc.message)
        return
    except Exception as exc:  # a bug below the contract: the post may have gone
        log.exception("publishing failed unexpectedly", extra={"event": "error"})
        _mark(db, post, "unknown", clock, error=f"unexpected {type(exc).__name__}: {exc}")
        report.add("unknown")
        return
    _mark(db, post, "published", clock, external_id=receipt.external_id)
    report.add("published")


def _mark(
    db: Database,
    post: ScheduledPost,
    state: str,
    clock: Callable[[], datetime],
    *,
    error: str = "",
    external_id: str | None = None,
) -> None:
    with db.write() as session:
        scheduled.mark(session, post, state, now=clock(), error=error, external_id=external_id)
