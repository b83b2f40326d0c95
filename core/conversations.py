"""Reading and writing threads: replies behind the claim fence, notes, and the thread view."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from frontdesk.core import claims, events, outbox
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput, NotFound, StaleVersion
from frontdesk.core.models import Conversation, Customer, Message
from frontdesk.core.models_channels import OutboxItem

PREVIEW_CHARS = 200

# What a reply does to its conversation: the customer's turn now, so no clock runs until
# they write again; a public follow-up task is done once anything is posted.
REPLY_ASSIGNMENTS = (
    "status = 'waiting', sla_due_at = NULL, sla_warn_at = NULL, sla_clock = NULL,"
    " sla_state = 'ok',"
    " follow_up = NULL, first_response_at = COALESCE(first_response_at, :now),"
    " last_message_at = :now, message_count = message_count + 1,"
    " preview = :preview, updated_at = :now"
)


def preview_of(body: str) -> str:
    """The first non-blank line of a message, cut to fit the queue row."""
    for line in body.splitlines():
        if line.strip():
            return line.strip()[:PREVIEW_CHARS]
    return body.strip()[:PREVIEW_CHARS]


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation with its customer, messages and the customer's history."""

    conversation: Conversation
    customer: Customer
    messages: list[Message]
    earlier_conversations: int
    first_contact_at: datetime | None
    deliveries: dict[int, OutboxItem] = field(default_factory=dict)
    """The outbox row of each reply, by message id: queued, sent, failed (and why)."""

    def as_json(self) -> dict[str, Any]:
        from frontdesk.core.thread_json import thread_json

        return thread_json(self)


def get_thread(session: Session, conversation_id: int) -> Thread:
    """Load one conversation, oldest message first.

    Raises:
        NotFound: no such conversation.
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    customer = session.get(Customer, conv.customer_id)
    assert customer is not None  # a foreign key guarantees it
    messages = list(
        session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(col(Message.id))
        )
    )
    # History spans every identity linked to the same person (X and email, say).
    same_person = (
        select(Customer.id).where(Customer.person_id == customer.person_id)
        if customer.person_id is not None
        else select(Customer.id).where(Customer.id == customer.id)
    )
    earlier, first = session.exec(
        select(func.count(col(Conversation.id)), func.min(Conversation.first_inbound_at)).where(
            col(Conversation.customer_id).in_(same_person)
        )
    ).one()
    deliveries = {
        item.message_id: item
        for item in session.exec(
            select(OutboxItem).where(OutboxItem.conversation_id == conversation_id)
        )
    }
    first_at = as_utc(first) if first else None
    return Thread(conv, customer, messages, int(earlier) - 1, first_at, deliveries)


def reply(
    session: Session,
    *,
    conversation_id: int,
    operator: str,
    body: str,
    seen_version: int,
    now: datetime,
) -> Message:
    """Record an outbound reply, fenced by the operator's claim and the version they saw.

    Raises:
        ClaimConflict: the operator does not hold a live claim.
        StaleVersion: a message arrived since `seen_version`; the message names it.
        InvalidInput: an empty reply.
    """
    if not body.strip():
        raise InvalidInput("the reply is empty")
    try:
        row = claims.fenced_update(
            session,
            conversation_id=conversation_id,
            operator=operator,
            seen_version=seen_version,
            now=now,
            assignments=REPLY_ASSIGNMENTS,
            params={"preview": preview_of(body)},
        )
    except StaleVersion as exc:
        raise StaleVersion(
            f"{exc.message}: {_what_changed(session, conversation_id, seen_version)}; "
            "your draft is kept"
        ) from exc
    return _queue_reply(session, conversation_id, operator, body, now, {"version": row.version})


def record_reply(
    session: Session,
    *,
    conversation_id: int,
    author: str,
    body: str,
    now: datetime,
    extra: dict[str, Any],
) -> Message:
    """Record and queue a reply without the claim fence: for a reply an approver signed off,
    which its author submitted behind the fence earlier.

    Raises:
        NotFound: no such conversation.
    """
    result = session.execute(
        text(f"UPDATE conversation SET {REPLY_ASSIGNMENTS}, version = version + 1 WHERE id = :id"),
        {"id": conversation_id, "now": now, "preview": preview_of(body)},
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"conversation {conversation_id} does not exist")
    return _queue_reply(session, conversation_id, author, body, now, extra)


def _queue_reply(
    session: Session,
    conversation_id: int,
    author: str,
    body: str,
    now: datetime,
    payload: dict[str, Any],
) -> Message:
    conv = session.get(Conversation, conversation_id, populate_existing=True)
    assert conv is not None
    message = _record(session, conversation_id, conv.channel, "outbound", author, body, now,
                      "reply.queued", {**payload, "version": conv.version})  # fmt: skip
    outbox.enqueue(session, message=message, conversation=conv)
    return message


def _what_changed(session: Session, conversation_id: int, seen_version: int) -> str:
    """Describe the customer-visible messages that arrived after `seen_version`."""
    current = session.get(Conversation, conversation_id)
    assert current is not None
    newer = max(current.version - seen_version, 0)
    latest = list(
        session.exec(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction != "note")
            .order_by(col(Message.id).desc())
            .limit(max(newer, 1))
        )
    )
    if not latest:
        return "it was updated"
    inbound = sum(1 for m in latest if m.direction == "inbound")
    outbound = len(latest) - inbound
    parts = []
    if inbound:
        parts.append(f"{inbound} new message{'s' if inbound > 1 else ''} from the customer")
    if outbound:
        parts.append(f"{outbound} reply{'ies' if outbound > 1 else ''} by {latest[0].author}")
    newest = latest[0]
    when = as_utc(newest.created_at).strftime("%H:%M")
    return f"{' and '.join(parts)}, latest at {when}: {preview_of(newest.body)[:80]!r}"


def add_note(
    session: Session, *, conversation_id: int, operator: str, body: str, now: datetime
) -> Message:
    """Add an internal note; anyone may, and notes never make a draft stale.

    Raises:
        NotFound: no such conversation.
        InvalidInput: an empty note.
    """
    if not body.strip():
        raise InvalidInput("the note is empty")
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return _record(session, conversation_id, conv.channel, "note", operator, body, now,
                   "note.added", {})  # fmt: skip


def _record(
    session: Session,
    conversation_id: int,
    channel: str,
    direction: str,
    operator: str,
    body: str,
    now: datetime,
    kind: str,
    payload: dict[str, Any],
) -> Message:
    """Store an operator's message and its event in the caller's transaction."""
    message = Message(
        conversation_id=conversation_id,
        channel=channel,
        direction=direction,
        author=operator,
        body=body,
        created_at=now,
        recorded_at=now,
    )
    session.add(message)
    session.flush()
    events.append(
        session,
        at=now,
        actor=operator,
        kind=kind,
        conversation_id=conversation_id,
        payload={"message_id": message.id, **payload},
    )
    return message
