"""You said, we did: changes made because of customer feedback, and the conversations behind.

Each record is also the event "feedback.change_recorded" with the payload
{"summary": str, "conversations": [int, ...]}, which the report lists for the team to tell
its fans.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation
from frontdesk.core.models_surveys import FeedbackChange

MAX_SUMMARY = 2000


def record(
    session: Session, *, summary: str, conversations: Iterable[int], by: str, now: datetime
) -> FeedbackChange:
    """Record a change and the conversations whose feedback led to it.

    Raises:
        InvalidInput: an empty or overlong summary, or no conversation.
        NotFound: a conversation that does not exist.
    """
    summary = summary.strip()
    if not summary:
        raise InvalidInput("say what changed (the summary is empty)")
    if len(summary) > MAX_SUMMARY:
        raise InvalidInput(f"the summary is {len(summary)} characters; keep it to {MAX_SUMMARY}")
    ids = sorted(set(conversations))
    if not ids:
        raise InvalidInput("name at least one conversation the feedback came from")
    found = set(session.exec(select(Conversation.id).where(col(Conversation.id).in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"conversation {', '.join(map(str, missing))} does not exist")
    change = FeedbackChange(summary=summary, conversations=ids, created_by=by, created_at=now)
    session.add(change)
    session.flush()
    events.append(
        session,
        at=now,
        actor=by,
        kind="feedback.change_recorded",
        payload={"summary": summary, "conversations": ids},
    )
    return change


def listing(session: Session, *, limit: int = 200) -> list[FeedbackChange]:
    """The changes recorded, newest first."""
    return list(
        session.exec(select(FeedbackChange).order_by(col(FeedbackChange.id).desc()).limit(limit))
    )
