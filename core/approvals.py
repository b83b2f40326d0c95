"""Sign-off: replies a playbook rule holds back wait here until an approver decides.

Nothing in this module sends anything but `approve`, which records the reply (and queues
it in the outbox) in the same transaction that marks the approval decided; a reply waiting
here has no message row and no outbox row, so no path can deliver it early.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from frontdesk.core import claims, conversations, events
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation, Message
from frontdesk.core.models_playbook import Approval


def submit(
    session: Session,
    *,
    conversation_id: int,
    operator: str,
    body: str,
    reasons: list[str],
    seen_version: int,
    now: datetime,
) -> Approval:
    """Hold a reply for sign-off, fenced like a send: only the claim holder, on the latest
    version, may ask. The SLA clock keeps running; the queue shows "awaiting sign-off".

    Raises:
        ClaimConflict, StaleVersion: as for a reply.
    """
    row = claims.fenced_update(
        session,
        conversation_id=conversation_id,
        operator=operator,
        seen_version=seen_version,
        now=now,
        assignments="awaiting_signoff = TRUE, updated_at = :now",
        params={},
    )
    approval = Approval(
        conversation_id=conversation_id,
        author=operator,
        body=body,
        reasons=reasons,
        seen_version=row.version,
        created_at=now,
    )
    session.add(approval)
    session.flush()
    _event(session, approval, "approval.requested", operator, now, reasons=reasons)
    return approval


def pending(session: Session, *, limit: int = 100) -> list[Approval]:
    """Replies waiting for a decision, oldest first."""
    return list(
        session.exec(
            select(Approval)
            .where(Approval.status == "pending")
            .order_by(col(Approval.id))
            .limit(limit)
        )
    )


def get(session: Session, approval_id: int) -> Approval:
    """Raises NotFound for an unknown id."""
    approval = session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(f"approval {approval_id} does not exist")
    return approval


def approve(
    session: Session,
    approval_id: int,
    *,
    approver: str,
    now: datetime,
    body: str | None = None,
    note: str = "",
) -> Message:
    """Approve (optionally with an edited text): the reply is recorded and queued now.

    Raises:
        NotFound: no such approval.
        InvalidInput: it was already decided (by someone else, a moment ago).
    """
    approval = _decide(session, approval_id, "approved", approver, note, now)
    original = approval.body
    text = body if body is not None and body.strip() else original
    message = conversations.record_reply(
        session,
        conversation_id=approval.conversation_id,
        author=approval.author,
        body=text,
        now=now,
        extra={"approval_id": approval.id, "approved_by": approver},
    )
    approval.message_id = message.id
    approval.body = text
    session.add(approval)
    _clear_flag(session, approval.conversation_id)
    edited = {"edited": True} if text != original else {}
    _event(session, approval, "approval.approved", approver, now, author=approval.author, **edited)
    return message


def reject(
    session: Session, approval_id: int, *, approver: str, note: str, now: datetime
) -> Approval:
    """Reject with a note for the author; nothing is sent.

    Raises:
        NotFound, InvalidInput: as for `approve`; InvalidInput also for an empty note.
    """
    if not note.strip():
        raise InvalidInput("say why the reply is rejected (--note)")
    approval = _decide(session, approval_id, "rejected", approver, note, now)
    _clear_flag(session, approval.conversation_id)
    _event(session, approval, "approval.rejected", approver, now, author=approval.author, note=note)
    return approval


def _decide(
    session: Session, approval_id: int, status: str, approver: str, note: str, now: datetime
) -> Approval:
    # Conditional on "pending" so two approvers deciding at once cannot both win.
    result = session.execute(
        update(Approval)
        .where(col(Approval.id) == approval_id, col(Approval.status) == "pending")
        .values(status=status, reviewer=approver, review_note=note, reviewed_at=now)
    )
    approval = get(session, approval_id)
    session.refresh(approval)
    if not result.rowcount:  # type: ignore[attr-defined]
        when = as_utc(approval.reviewed_at).strftime("%H:%M") if approval.reviewed_at else "?"
        raise InvalidInput(
            f"approval {approval_id} was already {approval.status} by {approval.reviewer} at {when}"
        )
    return approval


def _clear_flag(session: Session, conversation_id: int) -> None:
    still = session.exec(
        select(Approval.id).where(
            Approval.conversation_id == conversation_id, Approval.status == "pending"
        )
    ).first()
    if still is None:
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .values(awaiting_signoff=False)
        )


def _event(
    session: Session, approval: Approval, kind: str, actor: str, now: datetime, **payload: Any
) -> None:
    events.append(
        session,
        at=now,
        actor=actor,
        kind=kind,
        conversation_id=approval.conversation_id,
        payload={"approval_id": approval.id, **payload},
    )


def approval_json(approval: Approval) -> dict[str, Any]:
    """An approval as the CLI's --json prints it."""
    return {
        "id": approval.id,
        "conversation_id": approval.conversation_id,
        "author": approval.author,
        "body": approval.body,
        "reasons": approval.reasons,
        "status": approval.status,
        "reviewer": approval.reviewer,
        "review_note": approval.review_note,
        "message_id": approval.message_id,
        "created_at": as_utc(approval.created_at).isoformat(),
    }
