"""Running a broadcast copy by copy with progress, and previewing one without writing."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.core import broadcast, broadcast_send, claims, conversations, engagement, events
from frontdesk.core.broadcast import CopyResult, Selection
from frontdesk.core.db import Database
from frontdesk.core.errors import FrontdeskError, NotFound
from frontdesk.core.models_broadcast import RETRYABLE_COPY_STATES, Broadcast, BroadcastCopy
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.kb.article import Article


@dataclass(frozen=True, slots=True)
class Progress:
    """One copy done: how far the broadcast is, and what became of the copy."""

    broadcast_id: int
    done: int
    total: int
    result: CopyResult

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "result": self.result.as_json()}


@dataclass(slots=True)
class Summary:
    """A finished run: counts by outcome, and the copies that did not go."""

    broadcast_id: int
    state: str
    counts: dict[str, int] = field(default_factory=dict)
    not_sent: list[CopyResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "broadcast_id": self.broadcast_id,
            "state": self.state,
            "counts": self.counts,
            "not_sent": [r.as_json() for r in self.not_sent],
        }


def run(
    db: Database,
    playbook: Playbook,
    article: Article,
    broadcast_id: int,
    *,
    operator: str,
    clock: Callable[[], datetime],
    lease: timedelta,
) -> Generator[Progress, None, None]:
    """Send every copy still to go, one short write transaction each, yielding progress.

    One transaction per copy keeps each lock short (the queue stays workable during a big
    broadcast) and makes a crash cost at most the copy in flight, which rolls back whole.
    An unexpected refusal of one copy rolls back that copy alone; it stays pending.
    """
    with db.read() as session:
        row = session.get(Broadcast, broadcast_id)
        if row is None:
            raise NotFound(f"broadcast {broadcast_id} does not exist")
        session.expunge(row)
        todo = remaining(session, broadcast_id)
    for done, conversation_id in enumerate(todo, start=1):
        try:
            with db.write() as session:
                result = broadcast_send.send_copy(
                    session,
                    playbook,
                    article,
                    broadcast=row,
                    conversation_id=conversation_id,
                    operator=operator,
                    now=clock(),
                    lease=lease,
                )
        except FrontdeskError as exc:
            result = CopyResult(conversation_id, "error", exc.message)
        yield Progress(broadcast_id, done, len(todo), result)
    with db.write() as session:
        finish(session, broadcast_id, operator=operator, now=clock())


def summary(session: Session, broadcast_id: int) -> Summary:
    """Where a broadcast stands, from its copy rows."""
    row = session.get(Broadcast, broadcast_id)
    if row is None:
        raise NotFound(f"broadcast {broadcast_id} does not exist")
    result = Summary(broadcast_id, row.state)
    for copy in copies(session, broadcast_id):
        result.counts[copy.state] = result.counts.get(copy.state, 0) + 1
        if copy.state not in ("queued", "held"):
            result.not_sent.append(CopyResult(copy.conversation_id, copy.state, copy.reason))
    return result


@dataclass(frozen=True, slots=True)
class Preview:
    """What a broadcast would do to one conversation: its text and the verdict (queue,
    hold for sign-off, skip because someone holds it or it is closed, block on tone)."""

    conversation_id: int
    channel: str
    customer: str
    verdict: str
    body: str
    reasons: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "reasons": list(self.reasons)}


def preview(
    session: Session,
    playbook: Playbook,
    article: Article,
    selection: Selection,
    *,
    operator: str,
    now: datetime,
) -> list[Preview]:
    """Every copy as `run` would build it, and who would be skipped, writing nothing."""
    out: list[Preview] = []
    ids = broadcast.targets(session, selection)
    sent = broadcast.already_sent(session, article.id, ids)
    for conversation_id in ids:
        thread = conversations.get_thread(session, conversation_id)
        conv, customer = thread.conversation, thread.customer
        body = broadcast.copy_text(article, thread, operator)
        who = customer.handle or customer.display_name
        if conversation_id in sent:
            why = f"had this article already (broadcast #{sent[conversation_id]})"
            out.append(Preview(conversation_id, conv.channel, who, "skip", body, (why,)))
            continue
        holder = claims.live_holder(conv, now)
        if conv.status == "closed" or (holder is not None and holder != operator):
            why = "closed" if conv.status == "closed" else f"held by {holder}"
            out.append(Preview(conversation_id, conv.channel, who, "skip", body, (why,)))
            continue
        findings = engagement.check(playbook, thread, operator, body)
        blocking = tuple(f"{f.rule}: {f.message}" for f in findings if f.blocks)
        if blocking:
            out.append(Preview(conversation_id, conv.channel, who, "block", body, blocking))
            continue
        inbound = [m.body for m in thread.messages if m.direction == "inbound"][-3:]
        held = playbook.signoff(body, category=conv.category, tags=conv.tags, inbound=inbound)
        verdict = "hold" if held else "queue"
        out.append(
            Preview(conversation_id, conv.channel, who, verdict, body, tuple(r.why for r in held))
        )
    return out


def remaining(session: Session, broadcast_id: int) -> list[int]:
    """The conversations whose copy a run should (re)try, in id order."""
    return list(
        session.exec(
            select(BroadcastCopy.conversation_id)
            .where(
                BroadcastCopy.broadcast_id == broadcast_id,
                col(BroadcastCopy.state).in_(RETRYABLE_COPY_STATES),
            )
            .order_by(col(BroadcastCopy.conversation_id))
        )
    )


def copies(session: Session, broadcast_id: int) -> list[BroadcastCopy]:
    return list(
        session.exec(
            select(BroadcastCopy)
            .where(BroadcastCopy.broadcast_id == broadcast_id)
            .order_by(col(BroadcastCopy.conversation_id))
        )
    )


def finish(session: Session, broadcast_id: int, *, operator: str, now: datetime) -> Broadcast:
    """Mark the broadcast done once no copy is pending (skipped ones may be retried later)."""
    broadcast = session.get(Broadcast, broadcast_id)
    assert broadcast is not None
    counts: dict[str, int] = {}
    for row in copies(session, broadcast_id):
        counts[row.state] = counts.get(row.state, 0) + 1
    if broadcast.state == "running" and not counts.get("pending"):
        broadcast.state, broadcast.finished_at = "done", now
        session.add(broadcast)
        events.append(
            session,
            at=now,
            actor=operator,
            kind="broadcast.finished",
            payload={"broadcast_id": broadcast_id, **counts},
        )
        session.flush()
    return broadcast
