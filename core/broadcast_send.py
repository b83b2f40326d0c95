"""Sending one broadcast copy: guarded, once per article and conversation, in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from frontdesk.core import claims, conversations, engagement, handoff, surveys
from frontdesk.core.broadcast import CopyResult, already_sent, copy_text
from frontdesk.core.errors import ClaimConflict
from frontdesk.core.models import Conversation
from frontdesk.core.models_broadcast import RETRYABLE_COPY_STATES, Broadcast, BroadcastCopy
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.kb.article import Article


def _had_it(session: Session, broadcast: Broadcast, conversation_id: int) -> CopyResult | None:
    """The copy's result if another broadcast of its article has answered the conversation."""
    sent = already_sent(session, broadcast.article, [conversation_id])
    if conversation_id not in sent:
        return None
    why = f"had this article already (broadcast #{sent[conversation_id]})"
    return CopyResult(conversation_id, "skipped", why)


def send_copy(
    session: Session,
    playbook: Playbook,
    article: Article,
    *,
    broadcast: Broadcast,
    conversation_id: int,
    operator: str,
    now: datetime,
    lease: timedelta,
) -> CopyResult:
    """Send one copy in the caller's transaction, or record why not.

    Raises:
        FrontdeskError: an unexpected refusal; the caller rolls back and the copy stays
            pending for the next run.
    """
    assert broadcast.id is not None
    # The guard: only the transaction that moves the copy out of a retryable state sends
    # it. A concurrent run blocks on this row (PostgreSQL re-checks the WHERE once the first
    # commits; SQLite runs one writer at a time) and then finds it done.
    guard = session.execute(
        update(BroadcastCopy)
        .where(
            col(BroadcastCopy.broadcast_id) == broadcast.id,
            col(BroadcastCopy.conversation_id) == conversation_id,
            col(BroadcastCopy.state).in_(RETRYABLE_COPY_STATES),
        )
        .values(updated_at=now)
    )
    if not guard.rowcount:  # type: ignore[attr-defined]
        return CopyResult(conversation_id, "done")
    # Another broadcast of this article may have answered the conversation since this one
    # started (or since this copy was skipped); the guard holds this copy, not that one.
    had_it = _had_it(session, broadcast, conversation_id)
    if had_it is not None:
        return _record(session, broadcast.id, had_it, now)
    thread = conversations.get_thread(session, conversation_id)
    body = copy_text(article, thread, operator)
    findings = engagement.check(playbook, thread, operator, body)
    if any(f.blocks for f in findings):
        reason = str(engagement.ReplyBlocked(findings).message)
        return _record(session, broadcast.id, CopyResult(conversation_id, "blocked", reason), now)
    try:
        # A savepoint: if a concurrent broadcast's copy committed first (PostgreSQL; the
        # check above cannot see it until then), the unique index refuses this copy's row
        # and everything it wrote goes, leaving the copy to be recorded as skipped.
        with session.begin_nested():
            return _send(session, playbook, broadcast, thread, body, operator, now, lease)
    except ClaimConflict as exc:
        result = CopyResult(conversation_id, "skipped", exc.message)
    except IntegrityError:
        had_it = _had_it(session, broadcast, conversation_id)
        if had_it is None:
            raise  # not the once-per-article index: unexpected, the caller rolls back
        result = had_it
    return _record(session, broadcast.id, result, now)


def _send(
    session: Session,
    playbook: Playbook,
    broadcast: Broadcast,
    thread: conversations.Thread,
    body: str,
    operator: str,
    now: datetime,
    lease: timedelta,
) -> CopyResult:
    """Claim, send and record the copy; give the claim back or resolve as the broadcast says."""
    assert broadcast.id is not None
    conversation_id = thread.conversation.id
    assert conversation_id is not None
    _, had = claims.claim_for_broadcast(
        session, conversation_id=conversation_id, operator=operator, now=now, lease=lease
    )
    # Our claim now locks the row against other writers until commit, so this version is
    # the one the fence will see (and this status the one the copy finds).
    conv = session.get(Conversation, conversation_id, populate_existing=True)
    assert conv is not None
    was_resolved = conv.status == "resolved"
    outcome = engagement.send_reply(
        session,
        playbook,
        conversation_id=conversation_id,
        operator=operator,
        body=body,
        seen_version=conv.version,
        now=now,
    )
    if outcome.message is not None and was_resolved:
        _keep_resolved(session, conversation_id, now)
    if outcome.message is not None and broadcast.resolve and not was_resolved:
        claims.resolve(session, conversation_id=conversation_id, operator=operator, now=now)
        # A broadcast's resolve is a resolve like any other: the survey and reminder follow.
        surveys.after_resolve(session, playbook, conversation_id, actor=operator, now=now)
        handoff.after_resolve(session, playbook, conversation_id, now=now)
    elif not had:
        claims.release(session, conversation_id=conversation_id, operator=operator, now=now)
    if outcome.approval is not None:
        reason = "; ".join(outcome.approval.reasons)
        result = CopyResult(conversation_id, "held", reason, approval_id=outcome.approval.id)
    else:
        assert outcome.message is not None
        result = CopyResult(conversation_id, "queued", message_id=outcome.message.id)
    # Written here, inside the savepoint, so the unique index judges it with the reply.
    return _record(session, broadcast.id, result, now)


def _keep_resolved(session: Session, conversation_id: int, now: datetime) -> None:
    """A reply makes a conversation "waiting"; a copy to a resolved one (a "you said, we
    did", a notice) is news after the resolution, not a reason to reopen it. resolved_at
    keeps the time it was resolved, and no second resolution is logged."""
    session.execute(
        update(Conversation)
        .where(col(Conversation.id) == conversation_id)
        .values(
            status="resolved",
            resolved_at=func.coalesce(col(Conversation.resolved_at), now),
            updated_at=now,
        )
    )


def _record(session: Session, broadcast_id: int, result: CopyResult, now: datetime) -> CopyResult:
    session.execute(
        update(BroadcastCopy)
        .where(
            col(BroadcastCopy.broadcast_id) == broadcast_id,
            col(BroadcastCopy.conversation_id) == result.conversation_id,
        )
        .values(
            state=result.state,
            reason=result.reason,
            message_id=result.message_id,
            approval_id=result.approval_id,
            updated_at=now,
        )
    )
    return result
