"""An operator's override of what triage decided (category, tags, priority), reason kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from frontdesk.core import events
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation
from frontdesk.core.playbook.playbook import Playbook


def override(
    session: Session,
    playbook: Playbook,
    *,
    conversation_id: int,
    operator: str,
    now: datetime,
    category: str | None = None,
    tags: list[str] | None = None,
    priority: int | None = None,
) -> Conversation:
    """Set what the operator chose; the triage reasons gain an "override" entry naming them.

    Anyone may override (triage is advice); the change does not make drafts stale.

    Raises:
        NotFound: no such conversation.
        InvalidInput: a category or added tag the playbook does not know, or nothing to change.
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if category is not None and category not in playbook.categories:
        known = ", ".join(playbook.categories)
        raise InvalidInput(f"unknown category {category!r}: use one of {known}")
    # Tags it already carries may stay (a listening stream's `stream:NAME`, or one an older
    # playbook listed); only the ones added must be the playbook's.
    unknown = [t for t in tags or [] if t not in playbook.tags and t not in conv.tags]
    if unknown:
        raise InvalidInput(f"unknown tag {unknown[0]!r}: use any of {', '.join(playbook.tags)}")
    changes: dict[str, Any] = {}
    if category is not None and category != conv.category:
        changes["category"] = category
    if tags is not None and sorted(tags) != sorted(conv.tags):
        changes["tags"] = sorted(set(tags))
    if priority is not None and priority != conv.priority:
        changes["priority"] = priority
    if not changes:
        raise InvalidInput(f"conversation {conversation_id} already has that")
    what = ", ".join(f"{key} {value}" for key, value in changes.items())
    reasons = [*conv.triage, {"rule": "override", "weight": 0, "why": f"{operator} set {what}"}]
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(**changes, triage=reasons, updated_at=now)
    )
    events.append(
        session,
        at=now,
        actor=operator,
        kind="conversation.retriaged",
        conversation_id=conversation_id,
        payload=changes,
    )
    session.refresh(conv)
    return conv
