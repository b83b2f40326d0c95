"""Escalating a conversation to a department's key contacts, recorded where everyone sees it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from frontdesk.core import conversations, events
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation
from frontdesk.core.models_playbook import Escalation as EscalationRow
from frontdesk.core.playbook.playbook import Playbook


def escalate(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    by: str,
    department: str,
    note: str,
    now: datetime,
) -> EscalationRow:
    """Record who escalated, why and to whom; the contact goes into the thread as a note.

    The conversation stays where it is in the queue with its SLA clock running: escalating
    asks for help, it does not hand the customer over.

    Raises:
        NotFound: no such conversation, or no such department in the directory.
        InvalidInput: no reason given.
    """
    if not note.strip():
        raise InvalidInput("say why you escalate (--note)")
    if session.get(Conversation, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    found = playbook.escalation(department, now)
    row = EscalationRow(
        conversation_id=conversation_id,
        by=by,
        department=department,
        contact=found.as_json(),
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    conversations.add_note(
        session,
        conversation_id=conversation_id,
        operator=by,
        body=f"Escalated to {found.summary()}\nWhy: {note}",
        now=now,
    )
    events.append(
        session,
        at=now,
        actor=by,
        kind="conversation.escalated",
        conversation_id=conversation_id,
        payload={"escalation_id": row.id, "department": department, "note": note},
    )
    return row


def of_conversation(session: Session, conversation_id: int) -> list[EscalationRow]:
    """A conversation's escalations, oldest first."""
    return list(
        session.exec(
            select(EscalationRow)
            .where(EscalationRow.conversation_id == conversation_id)
            .order_by(col(EscalationRow.id))
        )
    )
