"""Satisfaction follow-ups: a reminder to touch base that lands on the queue once it is due.

It reuses the public follow-up's mechanism (core/handoff.py): a landed reminder opens the
conversation with `follow_up` set (here "check"; "due" is the public follow-up), due now,
its reason as the queue row's preview, and a "follow_up.due" event; the next reply clears
it. A reminder waits in `followupreminder` until the sweep (`frontdesk sweep`, and sync's
periodic sweep through `Desk.sweep`) finds it due; one is scheduled per conversation at
most, so resolving the touch-base itself never schedules another.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.models import Conversation
from frontdesk.core.models_surveys import FollowUpReminder
from frontdesk.core.playbook.playbook import Playbook

CHECK = "check"
"""The `follow_up` value of a landed satisfaction reminder."""


def schedule(
    session: Session, playbook: Playbook, conv: Conversation, *, now: datetime
) -> FollowUpReminder | None:
    """Schedule the playbook's reminder for a conversation just resolved, if a rule matches
    and it never had one."""
    rule = playbook.surveys.follow_up_for(
        channel=conv.channel, visibility=conv.visibility, category=conv.category
    )
    if rule is None or conv.id is None:
        return None
    had = session.exec(
        select(FollowUpReminder.id).where(FollowUpReminder.conversation_id == conv.id).limit(1)
    ).first()
    if had is not None:
        return None
    reminder = FollowUpReminder(
        conversation_id=conv.id,
        due_at=now + timedelta(hours=rule.after_hours),
        reason=rule.reason,
        created_at=now,
    )
    session.add(reminder)
    session.flush()
    return reminder


def sweep(
    session: Session, *, now: datetime, playbook: Playbook | None = None, actor: str = "playbook"
) -> list[int]:
    """Land every reminder due by `now` on the queue; returns their conversations.

    With `playbook` the landed task runs on the next-response clock of its team, so it is
    not born breached; without one it is due at once.

    A reminder whose conversation the customer reopened meanwhile is dropped: someone is
    talking with them already. Each reminder moves out of `pending` by a conditional
    UPDATE, so two sweeps at once land it once.
    """
    due = session.exec(
        select(FollowUpReminder)
        .where(FollowUpReminder.state == "pending", col(FollowUpReminder.due_at) <= now)
        .order_by(col(FollowUpReminder.due_at))
    ).all()
    landed: list[int] = []
    for reminder in due:
        conv = session.get(Conversation, reminder.conversation_id, populate_existing=True)
        assert conv is not None  # a foreign key guarantees it
        state = "landed" if conv.status in ("resolved", "closed") else "dropped"
        moved = session.execute(
            update(FollowUpReminder)
            .where(
                col(FollowUpReminder.id) == reminder.id, col(FollowUpReminder.state) == "pending"
            )
            .values(state=state, landed_at=now)
        )
        if not moved.rowcount or state == "dropped":  # type: ignore[attr-defined]
            continue
        clock = (
            playbook.sla_clock(channel=conv.channel, visibility=conv.visibility,
                               received_at=now, team=conv.team, kind="next")
            if playbook is not None
            else None
        )  # fmt: skip
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conv.id)
            .values(
                follow_up=CHECK,
                status="open",
                sla_due_at=clock.due_at if clock else now,
                sla_warn_at=clock.warn_at if clock else None,
                sla_clock="next",
                sla_state="ok",
                preview=reminder.reason,
                updated_at=now,
                version=Conversation.version + 1,
            )
        )
        events.append(
            session,
            at=now,
            actor=actor,
            kind="follow_up.due",
            conversation_id=conv.id,
            payload={"reminder_id": reminder.id, "reason": reminder.reason},
        )
        landed.append(reminder.conversation_id)
    return landed


def reminders(session: Session, conversation_id: int) -> list[FollowUpReminder]:
    """A conversation's reminders, oldest first."""
    return list(
        session.exec(
            select(FollowUpReminder)
            .where(FollowUpReminder.conversation_id == conversation_id)
            .order_by(col(FollowUpReminder.id))
        )
    )
