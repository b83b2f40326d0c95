"""Satisfaction surveys: asked through the outbox on resolution, answered by a reply at ingest.

Events: "survey.sent" {"survey", "message_id"} when asked, and "survey.answered" with exactly
{"survey": "csat"|"nps", "score": int, "comment": str} (the metrics read that contract).

No survey is asked while crisis mode is on. An answer is read only from a conversation that
is still resolved (or closed), within the survey's window, written after the question. A
bare answer, or one with praise, leaves the conversation resolved; an answer whose comment
asks something or explains a low score (`surveys_parse.reopens`), or any other message,
reopens it as an ordinary inbound message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from frontdesk.core import crisis, events, follow_up, outbox
from frontdesk.core.clock import as_utc
from frontdesk.core.conversations import preview_of
from frontdesk.core.models import Conversation, Customer, Message
from frontdesk.core.models_surveys import Survey
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.surveys_parse import parse_answer, reopens
from frontdesk.kb.article import fill

Inbound = tuple[int, str, datetime]
"""A new inbound message of a batch: its id, text and when the customer wrote it."""


def after_resolve(
    session: Session, playbook: Playbook, conversation_id: int, *, actor: str, now: datetime
) -> Survey | None:
    """Ask the playbook's survey (if any) and schedule its follow-up reminder (if any), in
    the resolving transaction. Returns the survey asked."""
    conv = session.get(Conversation, conversation_id, populate_existing=True)
    # Nothing to rate in a conversation we never answered (spam, a duplicate closed unread).
    if conv is None or conv.status != "resolved" or conv.first_response_at is None:
        return None
    follow_up.schedule(session, playbook, conv, now=now)
    chosen = playbook.surveys.survey_for(
        channel=conv.channel, visibility=conv.visibility, category=conv.category
    )
    if chosen is None or _asked_lately(session, playbook, conv, now):
        return None
    # In crisis mode every reply waits for sign-off, and "how did we do?" would grate.
    if crisis.is_on(session):
        return None
    kind, question = chosen
    customer = session.get(Customer, conv.customer_id)
    assert customer is not None  # a foreign key guarantees it
    name = (customer.display_name or customer.handle.lstrip("@")).split(" ")[0]
    message = Message(
        conversation_id=conversation_id,
        channel=conv.channel,
        direction="outbound",
        author=actor,
        body=fill(question, {"name": name}),
        created_at=now,
        recorded_at=now,
    )
    session.add(message)
    session.flush()
    assert message.id is not None
    outbox.enqueue(session, message=message, conversation=conv)
    # The conversation stays resolved: the question is ours, and nobody owes a reply to it.
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(
            message_count=Conversation.message_count + 1,
            last_message_at=now,
            updated_at=now,
            version=Conversation.version + 1,
        )
    )
    window = timedelta(hours=playbook.config.surveys.window_hours)
    survey = Survey(
        conversation_id=conversation_id,
        kind=kind,
        channel=conv.channel,
        category=conv.category,
        asked_at=now,
        expires_at=now + window,
        question_message_id=message.id,
    )
    session.add(survey)
    session.flush()
    events.append(
        session,
        at=now,
        actor=actor,
        kind="survey.sent",
        conversation_id=conversation_id,
        payload={"survey": kind, "message_id": message.id},
    )
    return survey


def _asked_lately(session: Session, playbook: Playbook, conv: Conversation, now: datetime) -> bool:
    """This customer was asked within `quiet_days`, or this conversation's survey is open."""
    quiet = now - timedelta(days=playbook.config.surveys.quiet_days)
    found = session.exec(
        select(Survey.id)
        .join(Conversation, col(Conversation.id) == col(Survey.conversation_id))
        .where(
            or_(
                (col(Conversation.customer_id) == conv.customer_id)
                & (col(Survey.asked_at) > quiet),
                (col(Survey.conversation_id) == conv.id)
                & col(Survey.answered_at).is_(None)
                & (col(Survey.expires_at) > now),
            )
        )
        .limit(1)
    ).first()
    return found is not None


def recognise(
    session: OrmSession, closed: Mapping[int, Sequence[Inbound]], *, actor: str, now: datetime
) -> set[int]:
    """Record the survey answers among the new messages of resolved or closed conversations
    (one lookup for the whole ingest batch). Returns the conversations that stay resolved:
    their only new message is an answer that needs nobody; ingest folds those in quietly
    (`fold_quietly`) and reopens the rest as usual."""
    if not closed:
        return set()
    pending: dict[int, Survey] = {}
    for survey in session.scalars(
        select(Survey)
        .where(col(Survey.answered_at).is_(None), col(Survey.conversation_id).in_(list(closed)))
        .order_by(col(Survey.asked_at))
    ):
        pending[survey.conversation_id] = survey  # the latest question wins
    quiet: set[int] = set()
    log: list[tuple[datetime, str, str, int | None, dict[str, Any]]] = []
    for conversation_id, survey in pending.items():
        messages = sorted(closed[conversation_id], key=lambda m: as_utc(m[2]))
        for message_id, body, written in messages:
            if not as_utc(survey.asked_at) <= as_utc(written) <= as_utc(survey.expires_at):
                continue
            answer = parse_answer(body, survey.kind)
            if answer is None:
                continue
            # Conditional: of two ingests racing (PostgreSQL), one records the answer.
            stored = session.execute(
                update(Survey)
                .where(col(Survey.id) == survey.id, col(Survey.answered_at).is_(None))
                .values(
                    answered_at=as_utc(written),
                    score=answer.score,
                    comment=answer.comment,
                    answer_message_id=message_id,
                )
            )
            if stored.rowcount:  # type: ignore[attr-defined]
                payload = {"survey": survey.kind, "score": answer.score, "comment": answer.comment}
                log.append((now, actor, "survey.answered", conversation_id, payload))
                if len(messages) == 1 and not reopens(answer, survey.kind):
                    quiet.add(conversation_id)
            break
    events.append_many(session, log)
    _fold_quietly(session, {cid: closed[cid] for cid in quiet}, now)
    return quiet


def _fold_quietly(
    session: OrmSession, folds: Mapping[int, Sequence[Inbound]], now: datetime
) -> None:
    """Count an answer into its conversation like any message, without reopening it."""
    for conversation_id, messages in folds.items():
        last = max(messages, key=lambda m: as_utc(m[2]))
        at = as_utc(last[2])
        later = case(
            (
                or_(
                    col(Conversation.last_message_at).is_(None),
                    col(Conversation.last_message_at) < at,
                ),
                at,
            ),
            else_=col(Conversation.last_message_at),
        )
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conversation_id)
            .values(
                message_count=Conversation.message_count + len(messages),
                version=Conversation.version + len(messages),
                last_inbound_at=at,
                last_message_at=later,
                preview=preview_of(last[1]),
                updated_at=now,
            )
        )


def for_conversation(session: Session, conversation_id: int) -> list[Survey]:
    """A conversation's surveys, oldest first (for `frontdesk surveys`)."""
    return list(
        session.exec(
            select(Survey).where(Survey.conversation_id == conversation_id).order_by(col(Survey.id))
        )
    )
