"""The outbox: replies waiting to go, and every state change on their way to the platform.

A reply's outbox row is written in the same transaction as its message row, so a reply is
never recorded without being queued, nor queued without being recorded. The sending side
(core/sync.py) moves each row through the states with conditional UPDATEs: whoever changes
the state from the one it read is the only sender of that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, text, update
from sqlmodel import Session, col, func, select

from frontdesk.core import events, reply_threading
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation, Customer, Message
from frontdesk.core.models_channels import OutboxItem

RETRY_BACKOFF = (30, 120, 600, 1800, 3600)
"""Seconds before automatic retry n of a safe failure; the last repeats."""


def enqueue(session: Session, *, message: Message, conversation: Conversation) -> OutboxItem:
    """Queue `message` for its platform, in the caller's transaction, to leave by the
    account the conversation came in on.

    A public reply answers the customer's latest message; a private one goes to the customer
    (and, on email, threads under their latest message: "Re:" its subject, References its
    chain and it).
    """
    latest = session.exec(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == "inbound",
            col(Message.external_id).is_not(None),
        )
        .order_by(col(Message.id).desc())
        .limit(1)
    ).first()
    customer = session.get(Customer, conversation.customer_id)
    assert customer is not None and message.id is not None and conversation.id is not None
    public = conversation.visibility == "public"
    item = OutboxItem(
        message_id=message.id,
        conversation_id=conversation.id,
        channel=conversation.channel,
        account=conversation.account,
        kind="public_reply" if public else "private_message",
        in_reply_to=latest.external_id if latest else None,
        recipient=None if public else customer.platform_user_id,
        body=message.body,
        created_at=message.created_at,
        updated_at=message.created_at,
    )
    if conversation.channel == "email":
        thread = (
            reply_threading.for_reply(session, latest)
            if latest
            else reply_threading.Threading(reply_threading.reply_subject(None), ())
        )
        # On the reply's message too: a later reply to a customer who answers this one with
        # In-Reply-To alone extends this chain.
        item.subject = message.subject = thread.subject
        item.email_references = message.email_references = " ".join(thread.references) or None
        session.add(message)
    session.add(item)
    session.flush()
    return item


def due(
    session: Session,
    *,
    now: datetime,
    limit: int = 100,
    channels: Sequence[str] | None = None,
    account: str | None = None,
    after_id: int = 0,
) -> list[OutboxItem]:
    """Rows to work on now, by id after `after_id`: queued ones, and failed and unknown ones
    whose retry (or read-back) time has come; only `channels` when given, and with `account`
    only its rows and those that name no account (the caller decides who sends those)."""
    o = OutboxItem
    query = select(o).where(
        col(o.id) > after_id,
        or_(
            col(o.state) == "queued",
            and_(col(o.state) == "failed", col(o.next_attempt_at) <= now),
            # An unknown row is read back at once, unless a read-back already failed.
            and_(
                col(o.state) == "unknown",
                or_(col(o.next_attempt_at).is_(None), col(o.next_attempt_at) <= now),
            ),
        ),
    )
    if channels is not None:
        query = query.where(col(o.channel).in_(list(channels)))
    if account is not None:
        query = query.where(or_(col(o.account) == account, col(o.account).is_(None)))
    return list(session.exec(query.order_by(col(o.id)).limit(limit)))


def take(session: Session, item_id: int, *, expected: str, new: str, now: datetime) -> bool:
    """Move one row from `expected` to `new`; False when someone else moved it first.

    Race-free by construction: the UPDATE's WHERE re-checks the state under the row lock,
    so of two senders reading the same row exactly one sees a changed row count.
    """
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.state) == expected)
        .values(state=new, attempts=OutboxItem.attempts + int(new == "sending"), updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def adopt(session: Session, item_id: int, *, account: str, now: datetime) -> bool:
    """Give a row that names no account to `account`; False when another took it first.

    Conditional like `take`, so of several drains exactly one adopts it; from then on only
    that account sends or reads it back.
    """
    result = session.execute(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.account).is_(None))
        .values(account=account, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, item: OutboxItem, *, external_id: str, now: datetime) -> None:
    """The platform stored it: keep its id on the row and on the message (so reading our own
    reply back from the platform is recognised as a duplicate)."""
    _set(session, item, state="sent", external_id=external_id, last_error="", now=now)
    session.execute(
        update(Message).where(col(Message.id) == item.message_id).values(external_id=external_id)
    )
    _event(session, item, "outbox.sent", now, external_id=external_id)


def mark_failed(
    session: Session, item: OutboxItem, *, error: str, now: datetime, retry_at: datetime | None
) -> None:
    """A failure: retried automatically at `retry_at`, or (None) only when an operator asks."""
    _set(session, item, state="failed", last_error=error, next_attempt_at=retry_at, now=now)
    _event(session, item, "outbox.failed", now, error=error, retry=retry_at is not None)


def mark_unknown(
    session: Session,
    item: OutboxItem,
    *,
    error: str,
    now: datetime,
    retry_at: datetime | None = None,
) -> None:
    """The platform may have stored it: it is read back (at `retry_at`, or on the next pass)
    before any resend."""
    _set(session, item, state="unknown", last_error=error, next_attempt_at=retry_at, now=now)
    _event(session, item, "outbox.unknown", now, error=error)


def backoff(attempts: int, now: datetime) -> datetime:
    """When to retry after `attempts` tries of a safe failure."""
    return now + timedelta(seconds=RETRY_BACKOFF[min(max(attempts, 1), len(RETRY_BACKOFF)) - 1])


def retry(session: Session, item_id: int, *, operator: str, now: datetime) -> OutboxItem:
    """An operator's retry of a failed reply: back to queued.

    Raises:
        NotFound: no such outbox row.
        InvalidInput: the row is not failed (sent, on its way, or unknown are not retried).
    """
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise NotFound(f"outbox item {item_id} does not exist")
    if not take(session, item_id, expected="failed", new="queued", now=now):
        raise InvalidInput(f"outbox item {item_id} is {item.state}, not failed: nothing to retry")
    session.refresh(item)
    if item.account is None:
        # The conversation may have learnt its account since (the customer wrote again).
        conversation = session.get(Conversation, item.conversation_id)
        item.account = conversation.account if conversation is not None else None
        session.add(item)
        session.flush()
    _event(session, item, "outbox.retry", now, by=operator)
    return item


def recover_interrupted(session: Session, *, now: datetime) -> int:
    """Rows left "sending" by a stopped sender become unknown: they may have reached the
    platform, so they are read back, never blindly resent. Returns how many."""
    result = session.execute(
        text(
            "UPDATE outboxitem SET state = 'unknown', updated_at = :now,"
            " last_error = 'the sender stopped while sending' WHERE state = 'sending'"
        ),
        {"now": now},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Depth:
    """How many rows are in each state that still needs something."""

    queued: int
    failed: int
    unknown: int
    sending: int


def depth(session: Session) -> Depth:
    """The outbox's depth by state (sent rows are history)."""
    counts = dict(
        session.exec(
            select(OutboxItem.state, func.count())
            .where(col(OutboxItem.state) != "sent")
            .group_by(OutboxItem.state)
        ).all()
    )
    return Depth(*(int(counts.get(s, 0)) for s in ("queued", "failed", "unknown", "sending")))


def failures(session: Session, *, limit: int = 50) -> list[OutboxItem]:
    """Failed and unknown rows, newest first, for the workstation and `frontdesk status`."""
    return list(
        session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.state).in_(("failed", "unknown")))
            .order_by(col(OutboxItem.id).desc())
            .limit(limit)
        )
    )


def _set(session: Session, item: OutboxItem, *, now: datetime, **values: object) -> None:
    for key, value in values.items():
        setattr(item, key, value)
    item.updated_at = now
    session.add(item)
    session.flush()


def _event(session: Session, item: OutboxItem, kind: str, now: datetime, **payload: object) -> None:
    events.append(
        session,
        at=now,
        actor="sync",
        kind=kind,
        conversation_id=item.conversation_id,
        payload={"outbox_id": item.id, "message_id": item.message_id, **payload},
    )


def get(session: Session, item_id: int) -> OutboxItem:
    """One outbox row.

    Raises:
        NotFound: no such row.
    """
    item = session.get(OutboxItem, item_id)
    if item is None:
        raise NotFound(f"outbox item {item_id} does not exist")
    return item
