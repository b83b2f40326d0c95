"""Resolution broadcasts: one knowledge-base answer sent to every conversation of a set.

A broadcast is a row, and each of its targets a copy row written when it starts. Each copy
is sent in its own transaction that also moves the copy row out of "pending"
(`broadcast_send`), so a crash leaves every copy either wholly sent (reply, outbox row, copy
row) or wholly not, and a re-run sends exactly the rest. Every copy goes through
`engagement.send_reply`, the path of any reply: the tone check, sign-off (a held copy waits
for an approver), the claim fence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.core import conversations, engagement, events, queue
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import OPEN_STATUSES, STATUSES, Conversation
from frontdesk.core.models_broadcast import SENT_COPY_STATES, Broadcast, BroadcastCopy
from frontdesk.kb.article import Article

MAX_TARGETS = 5000
"""A broadcast larger than this is refused: narrow the filter (it is a reply, not a mailing)."""


@dataclass(frozen=True, slots=True)
class Selection:
    """Which conversations a broadcast answers: explicit ids, or a queue filter (both: the
    ids that also match the filter). Without statuses, a filter means the open queue."""

    ids: tuple[int, ...] = ()
    tag: str | None = None
    channel: str | None = None
    team: str | None = None
    statuses: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Selection:
        return cls(
            ids=tuple(data.get("ids") or ()),
            tag=data.get("tag"),
            channel=data.get("channel"),
            team=data.get("team"),
            statuses=tuple(data.get("statuses") or ()),
        )

    @property
    def empty(self) -> bool:
        return not (self.ids or self.tag or self.channel or self.team or self.statuses)


def targets(session: Session, selection: Selection) -> list[int]:
    """The ids of the conversations `selection` names, in id order.

    Raises:
        InvalidInput: an empty selection (that would be everyone), or too many targets.
    """
    if selection.empty:
        raise InvalidInput("say which conversations: ids, a tag, a channel, a team or a status")
    for status in selection.statuses:
        if status not in STATUSES:
            raise InvalidInput(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
    if selection.ids:
        rows = session.exec(
            select(Conversation).where(col(Conversation.id).in_(selection.ids))
        ).all()
        ids = sorted(c.id for c in rows if c.id is not None and _matches(c, selection))
    else:
        flt = queue.QueueFilter(
            statuses=selection.statuses or OPEN_STATUSES,
            tag=selection.tag,
            channel=selection.channel,
            team=selection.team,
            limit=MAX_TARGETS + 1,
        )
        ids = sorted(row.conversation.id for row in queue.list_queue(session, flt))  # type: ignore[misc]
    if len(ids) > MAX_TARGETS:
        raise InvalidInput(f"more than {MAX_TARGETS} conversations match: narrow the selection")
    return ids


def _matches(conv: Conversation, s: Selection) -> bool:
    return (
        (s.tag is None or s.tag in conv.tags)
        and (s.channel is None or conv.channel == s.channel)
        and (s.team is None or conv.team == s.team)
        and (not s.statuses or conv.status in s.statuses)
    )


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What became of one copy: queued, held (for sign-off), skipped, blocked, or done
    already (an earlier run or a concurrent one sent it)."""

    conversation_id: int
    state: str
    reason: str = ""
    message_id: int | None = None
    approval_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def start(
    session: Session,
    *,
    article_id: str,
    selection: Selection,
    operator: str,
    now: datetime,
    resolve: bool,
) -> Broadcast:
    """The operator's unfinished broadcast of the same article to the same selection (so
    running the same command again resumes it), or a new one with its targets fixed now."""
    wanted = selection.as_json()
    for row in session.exec(
        select(Broadcast).where(
            Broadcast.state == "running",
            Broadcast.created_by == operator,
            Broadcast.article == article_id,
            Broadcast.resolve == resolve,
        )
    ):
        if row.selection == wanted:
            return row
    matching = targets(session, selection)
    sent = already_sent(session, article_id, matching)
    ids = [cid for cid in matching if cid not in sent]
    if not matching:
        raise InvalidInput("no conversation matches the selection")
    if not ids:
        raise InvalidInput(f"all {len(matching)} conversations have had {article_id} already")
    broadcast = Broadcast(
        article=article_id, selection=wanted, resolve=resolve, created_by=operator, created_at=now
    )
    session.add(broadcast)
    session.flush()
    assert broadcast.id is not None
    session.add_all(
        BroadcastCopy(
            broadcast_id=broadcast.id, article=article_id, conversation_id=cid, updated_at=now
        )
        for cid in ids
    )
    session.flush()
    events.append(
        session,
        at=now,
        actor=operator,
        kind="broadcast.started",
        payload={"broadcast_id": broadcast.id, "article": article_id, "targets": len(ids)},
    )
    return broadcast


def already_sent(session: Session, article_id: str, ids: list[int]) -> dict[int, int]:
    """Which of `ids` a broadcast of this article answered already (queued or held), and by
    which broadcast: running the same command after it finished never posts it twice."""
    if not ids:
        return {}
    rows = session.exec(
        select(BroadcastCopy.conversation_id, BroadcastCopy.broadcast_id).where(
            BroadcastCopy.article == article_id,
            col(BroadcastCopy.state).in_(SENT_COPY_STATES),
            col(BroadcastCopy.conversation_id).in_(ids),
        )
    )
    return {cid: bid for cid, bid in rows}


def copy_text(article: Article, thread: conversations.Thread, operator: str) -> str:
    """The article for the conversation's channel with its customer's placeholders filled."""
    values = dict(engagement.reply_context(thread, operator).values)
    return article.render(thread.conversation.channel, values).strip()
