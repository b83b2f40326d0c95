"""Public to private and back: move a sensitive talk to a private message, then follow up.

The seeds' practice: acknowledge in public ("We've sent you a DM"), carry on privately with
the same deadline, and once that is resolved post a short public follow-up so onlookers see
the matter closed. The follow-up stays on the queue as a task until it is posted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from frontdesk.core import claims, conversations, engagement, events
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput
from frontdesk.core.ingest_input import dm_thread_key
from frontdesk.core.models import OPEN_STATUSES, Conversation
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.kb.article import fill

_CLOCK = ("sla_due_at", "sla_warn_at", "sla_clock", "sla_state")
"""What a conversation's SLA clock consists of: the private half takes all of it."""


def move_private(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    operator: str,
    seen_version: int,
    now: datetime,
    lease: timedelta,
) -> tuple[engagement.Outcome, Conversation]:
    """Acknowledge in public and open the linked private conversation, held by `operator`
    and on the public one's clock.

    The acknowledgement is a reply like any other (core/engagement.py): a blocking tone
    finding refuses the move, and a sign-off rule holds it for an approver while the
    private conversation opens at once (every private reply passes the same rules).

    The private conversation is the thread ingest files the customer's private messages
    under, so their answer lands in it; if that thread exists already it is linked (and
    reopened) rather than duplicated.

    Raises:
        InvalidInput: the conversation is private already, was moved before, is email, its
            acknowledgement breaks a blocking rule, or the customer's private thread carries
            another public conversation's talk still.
        ClaimConflict, StaleVersion: the acknowledgement is a reply, fenced like one; or
            someone else holds the customer's private thread.
    """
    thread = conversations.get_thread(session, conversation_id)
    public = thread.conversation
    if public.visibility != "public":
        raise InvalidInput(f"conversation {conversation_id} is private already")
    if public.linked_id is not None:
        raise InvalidInput(
            f"conversation {conversation_id} was moved to #{public.linked_id} already"
        )
    if public.channel == "email":
        # Ingest threads a customer's mail by its References root, which is unknown until
        # the first private mail goes: a linked conversation would never hear back.
        raise InvalidInput(f"conversation {conversation_id} is email: answer it by mail")
    key = dm_thread_key(thread.customer.platform_user_id)
    _check_free(_private_thread(session, public.channel, key), conversation_id)
    # Taken before the acknowledgement, which stops the public clock.
    clock = {name: getattr(public, name) for name in _CLOCK}
    clock["sla_clock"] = public.sla_clock or ("first" if public.sla_due_at else None)
    body = fill(playbook.config.replies.moved_private, {"name": engagement.first_name(thread)})
    try:
        ack = engagement.send_reply(
            session,
            playbook,
            conversation_id=conversation_id,
            operator=operator,
            body=body,
            seen_version=seen_version,
            now=now,
        )
    except engagement.ReplyBlocked as exc:
        rules = "; ".join(f"{f.rule}: {f.message}" for f in exc.findings if f.blocks)
        raise InvalidInput(
            f"conversation {conversation_id} was not moved: the public acknowledgement"
            f" breaks {rules} (edit [replies] moved_private in the playbook)"
        ) from None
    private = _open_private(session, public, key, clock, now)
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


def _private_thread(session: Session, channel: str, key: str) -> Conversation | None:
    return session.exec(
        select(Conversation)
        .where(Conversation.channel == channel, Conversation.thread_key == key)
        .execution_options(populate_existing=True)
    ).first()


def _check_free(private: Conversation | None, conversation_id: int) -> None:
    """One private thread per customer and channel can carry one public talk at a time."""
    if private is None or private.status not in OPEN_STATUSES:
        return
    if private.linked_id not in (None, conversation_id):
        raise InvalidInput(
            f"conversation {conversation_id} was not moved: the customer's private"
            f" conversation #{private.id} still continues #{private.linked_id}; resolve it first"
        )


def _open_private(
    session: Session, public: Conversation, key: str, clock: dict[str, Any], now: datetime
) -> Conversation:
    """The customer's private thread, linked to `public`: inserted, or the stored one."""
    assert public.id is not None
    fresh = {
        "visibility": "private",
        "status": "open",
        "priority": public.priority,
        "category": public.category,
        "tags": list(public.tags),
        "team": public.team,
        **clock,
        "linked_id": public.id,
        "preview": f"moved from public conversation #{public.id}",
        "updated_at": now,
    }
    values = {
        **fresh,
        "channel": public.channel,
        "thread_key": key,
        "customer_id": public.customer_id,
        "account": public.account,  # the private messages leave by the same account
        "first_inbound_at": public.first_inbound_at,
        "last_inbound_at": public.last_inbound_at,
        "last_message_at": now,
        "created_at": now,
    }
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    # DO NOTHING: ingest (or another move) may create the thread meanwhile; then it is
    # taken over below like one found stored.
    inserted = session.execute(
        dialect.insert(Conversation)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["channel", "thread_key"])
        .returning(col(Conversation.id))
    ).scalar()
    stored = _private_thread(session, public.channel, key)
    assert stored is not None and stored.id is not None
    if inserted is not None:
        return stored
    _check_free(stored, public.id)
    if stored.status in OPEN_STATUSES:
        # A talk still going keeps its own triage and team; it runs on the earlier clock.
        mine, theirs = stored.sla_due_at, clock["sla_due_at"]
        earlier = mine is not None and (theirs is None or as_utc(mine) <= as_utc(theirs))
        fresh = {"status": "open", "linked_id": public.id, "updated_at": now}
        fresh.update({} if earlier else clock)
    # The check above is repeated in the UPDATE: on PostgreSQL two moves of one customer's
    # public talks can both pass it, and the row lock makes the second re-read the first's.
    taken = session.execute(
        update(Conversation)
        .where(
            col(Conversation.id) == stored.id,
            or_(
                col(Conversation.status).not_in(OPEN_STATUSES),
                col(Conversation.linked_id).is_(None),
                col(Conversation.linked_id) == public.id,
            ),
        )
        .values(**fresh, version=Conversation.version + 1)
    )
    if not taken.rowcount:  # type: ignore[attr-defined]
        session.refresh(stored)
        _check_free(stored, public.id)
        raise InvalidInput(f"conversation {public.id} was not moved: #{stored.id} changed")
    session.refresh(stored)
    return stored


def after_resolve(
    session: Session, playbook: Playbook, conversation_id: int, *, now: datetime
) -> int | None:
    """When a private conversation that came from a public one is resolved, put the public
    follow-up on the queue as a task. Returns the public conversation's id.

    The task runs on its team's next-response clock, as a landed reminder does
    (core/follow_up.py): due at once, the next SLA sweep would record it breached."""
    conv = session.get(Conversation, conversation_id)
    if conv is None or conv.visibility != "private" or conv.linked_id is None:
        return None
    public = session.get(Conversation, conv.linked_id)
    if public is None or public.visibility != "public":
        return None
    clock = playbook.sla_clock(
        channel=public.channel,
        visibility=public.visibility,
        received_at=now,
        team=public.team,
        kind="next",
    )
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == public.id)
        .values(
            follow_up="due",
            status="open",
            sla_due_at=clock.due_at,
            sla_warn_at=clock.warn_at,
            sla_clock="next",
            sla_state="ok",
            preview="post the public follow-up",
            updated_at=now,
            version=Conversation.version + 1,
        )
    )
    # The private thread is the customer's one DM thread: once its talk is over it carries
    # no public talk, so a later DM about something else cannot reopen this one.
    session.execute(
        update(Conversation).where(col(Conversation.id) == conversation_id).values(linked_id=None)
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
