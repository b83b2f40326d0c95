"""Public to private and back: move a sensitive talk to a private message, then follow up.

The seeds' practice: acknowledge in public ("We've sent you a DM"), carry on privately with
the same deadline, and once that is resolved post a short public follow-up so onlookers see
the matter closed. The follow-up stays on the queue as a task until it is posted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col

from frontdesk.core import claims, conversations, events
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import Conversation, Message
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.kb.article import fill


def move_private(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    operator: str,
    seen_version: int,
    now: datetime,
    lease: timedelta,
) -> tuple[Message, Conversation]:
    """Post the public acknowledgement and open the linked private conversation, held by
    `operator` and due when the public one was due.

    Raises:
        InvalidInput: the conversation is private already, or was moved before.
        ClaimConflict, StaleVersion: the acknowledgement is a reply, fenced like one.
    """
    thread = conversations.get_thread(session, conversation_id)
    public = thread.conversation
    if public.visibility != "public":
        raise InvalidInput(f"conversation {conversation_id} is private already")
    if public.linked_id is not None:
        raise InvalidInput(
            f"conversation {conversation_id} was moved to #{public.linked_id} already"
        )
    due = public.sla_due_at
    name = (thread.customer.display_name or thread.customer.handle.lstrip("@")).split(" ")[0]
    ack = conversations.reply(
        session,
        conversation_id=conversation_id,
        operator=operator,
        body=fill(playbook.config.replies.moved_private, {"name": name}),
        seen_version=seen_version,
        now=now,
    )
    private = Conversation(
        channel=public.channel,
        visibility="private",
        thread_key=f"moved-from-{conversation_id}",
        customer_id=public.customer_id,
        status="open",
        priority=public.priority,
        category=public.category,
        tags=list(public.tags),
        team=public.team,
        account=public.account,  # the private messages leave by the same account
        first_inbound_at=public.first_inbound_at,
        last_inbound_at=public.last_inbound_at,
        last_message_at=now,
        sla_due_at=due,
        sla_clock=public.sla_clock or ("first" if due else None),
        linked_id=conversation_id,
        preview=f"moved from public conversation #{conversation_id}",
        created_at=now,
        updated_at=now,
    )
    session.add(private)
    session.flush()
    assert private.id is not None
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(linked_id=private.id)
    )
    claims.claim(session, conversation_id=private.id, operator=operator, now=now, lease=lease)
    session.refresh(private)
    events.append(
        session,
        at=now,
        actor=operator,
        kind="conversation.moved_private",
        conversation_id=conversation_id,
        payload={"private_id": private.id},
    )
    return ack, private


def after_resolve(session: Session, conversation_id: int, *, now: datetime) -> int | None:
    """When a private conversation that came from a public one is resolved, put the public
    follow-up on the queue as a task, due now. Returns the public conversation's id."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.visibility != "private" or conv.linked_id is None:
        return None
    public = session.get(Conversation, conv.linked_id)
    if public is None or public.visibility != "public":
        return None
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == public.id)
        .values(
            follow_up="due",
            status="open",
            sla_due_at=now,
            sla_clock="next",
            sla_state="ok",
            preview="post the public follow-up",
            updated_at=now,
            version=Conversation.version + 1,
        )
    )
    events.append(
        session,
        at=now,
        actor="playbook",
        kind="follow_up.due",
        conversation_id=public.id,
        payload={"private_id": conversation_id},
    )
    return public.id


def follow_up_text(playbook: Playbook, name: str) -> str:
    """The public follow-up, addressed to the customer."""
    return fill(playbook.config.replies.follow_up, {"name": name})
