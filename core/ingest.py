"""Ingest: normalised inbound messages (JSON Lines) become customers, conversations, messages."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import DateTime, and_, bindparam, func, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.conversations import preview_of
from frontdesk.core.db import Database
from frontdesk.core.models import Conversation, Customer, Message, VerbatimText


class Author(BaseModel):
    """Who wrote an inbound message, as the platform names them."""

    model_config = ConfigDict(extra="ignore", strict=True)

    id: str = Field(min_length=1, max_length=255)
    handle: str = Field(default="", max_length=255)
    name: str = Field(default="", max_length=255)
    followers: int | None = Field(default=None, ge=0)


class InboundMessage(BaseModel):
    """One line of `frontdesk ingest` input."""

    model_config = ConfigDict(extra="ignore", strict=True)

    channel: Literal["x", "facebook", "email"]
    external_id: str = Field(min_length=1, max_length=255)
    text: str
    created_at: AwareDatetime = Field(strict=False)
    author: Author
    thread_id: str | None = Field(default=None, min_length=1, max_length=255)
    visibility: Literal["public", "private"] = "public"
    in_reply_to: str | None = Field(default=None, max_length=255)
    url: str | None = None


@dataclass
class IngestReport:
    """What an ingest run did: counts, and each rejected line with its reason."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    conversations_created: int = 0
    conversations_reopened: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [{"line": n, "reason": r} for n, r in self.rejected],
            "conversations_created": self.conversations_created,
            "conversations_reopened": self.conversations_reopened,
        }


def parse_line(line: str | bytes) -> InboundMessage:
    """Validate one JSON line; raises ValueError with a one-line reason."""
    try:
        return InboundMessage.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if first["type"] == "json_invalid":
            raise ValueError(f"invalid JSON: {first['ctx'].get('error', first['msg'])}") from None
        reason = first["msg"][0].lower() + first["msg"][1:]
        raise ValueError(f"{where}: {reason}" if where else reason) from None


def parse_lines(lines: Iterable[str | bytes], report: IngestReport) -> Iterator[InboundMessage]:
    """Yield the good lines; record every bad one (blank lines are skipped silently)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_line(line)
        except ValueError as exc:
            report.rejected.append((number, str(exc)))


def ingest_stream(
    db: Database,
    lines: Iterable[str | bytes],
    *,
    sla: SlaSettings,
    actor: str,
    now: datetime,
    batch_size: int = 1000,
) -> IngestReport:
    """Ingest every good line, one transaction per batch so other writers wait briefly."""
    report = IngestReport()
    batch: list[InboundMessage] = []
    for message in parse_lines(lines, report):
        batch.append(message)
        if len(batch) >= batch_size:
            with db.write() as session:
                ingest_batch(session, batch, sla=sla, actor=actor, now=now, report=report)
            batch = []
    if batch:
        with db.write() as session:
            ingest_batch(session, batch, sla=sla, actor=actor, now=now, report=report)
    return report


def _insert(session: Session) -> Any:
    name = session.connection().dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


def thread_key(msg: InboundMessage, known: dict[tuple[str, str], str]) -> str:
    """Which thread a message belongs to.

    An explicit thread_id wins. Private messages form one thread per author. A public
    message joins the thread of the post it replies to when frontdesk knows that post,
    and otherwise starts a thread of its own (its root is itself).
    """
    if msg.thread_id:
        return msg.thread_id
    if msg.visibility == "private":
        return f"dm:{msg.author.id}"
    if msg.in_reply_to and (msg.channel, msg.in_reply_to) in known:
        return known[(msg.channel, msg.in_reply_to)]
    return msg.external_id


def ingest_batch(
    session: Session,
    batch: list[InboundMessage],
    *,
    sla: SlaSettings,
    actor: str,
    now: datetime,
    report: IngestReport,
) -> None:
    """Upsert customers and conversations and append the new messages of one batch.

    Set-based on purpose: a handful of multi-row statements per batch instead of several
    per message, so a backfill of 50,000 messages stays near the speed of raw inserts.
    """
    insert = _insert(session)
    unique: dict[tuple[str, str], InboundMessage] = {}
    for msg in batch:
        if (msg.channel, msg.external_id) in unique:
            report.duplicates += 1
        else:
            unique[(msg.channel, msg.external_id)] = msg
    msgs = list(unique.values())

    customer_ids = _upsert_customers(session, insert, msgs, now)
    keys = _thread_keys(session, msgs)
    conv_ids, created = _ensure_conversations(session, insert, msgs, keys, customer_ids, now)
    report.conversations_created += len(created)

    rows = [
        {
            "conversation_id": conv_ids[(m.channel, keys[i])],
            "channel": m.channel,
            "direction": "inbound",
            "author": m.author.handle or m.author.name or m.author.id,
            "body": m.text,
            "external_id": m.external_id,
            "in_reply_to": m.in_reply_to,
            "url": m.url,
            # SQLite's DateTime drops the offset without converting, so store UTC always.
            "created_at": as_utc(m.created_at),
            "recorded_at": now,
        }
        for i, m in enumerate(msgs)
    ]
    inserted: set[tuple[str, str]] = set()
    if rows:
        stmt = (
            insert(Message)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(col(Message.id), col(Message.channel), col(Message.external_id))
        )
        message_ids: dict[tuple[str, str], int] = {}
        for r in session.connection().execute(stmt, rows):
            message_ids[(r.channel, r.external_id)] = r.id
            inserted.add((r.channel, r.external_id))
    report.duplicates += len(rows) - len(inserted)
    report.accepted += len(inserted)
    fresh = [(i, m) for i, m in enumerate(msgs) if (m.channel, m.external_id) in inserted]
    if fresh:
        reopened = _update_conversations(session, fresh, keys, conv_ids, created, sla, now)
        report.conversations_reopened += len(reopened)
        log: list[tuple[datetime, str, str, int | None, dict[str, Any]]] = [
            (now, actor, "conversation.created", cid, {}) for cid in created
        ]
        log += [(now, actor, "conversation.reopened", cid, {}) for cid in reopened]
        log += [
            (
                now,
                actor,
                "message.received",
                conv_ids[(m.channel, keys[i])],
                {
                    "message_id": message_ids[(m.channel, m.external_id)],
                    "external_id": m.external_id,
                },
            )
            for i, m in fresh
        ]
        events.append_many(session, log)


def _upsert_customers(
    session: Session, insert: Any, msgs: list[InboundMessage], now: datetime
) -> dict[tuple[str, str], int]:
    latest: dict[tuple[str, str], InboundMessage] = {}
    for m in msgs:
        latest[(m.channel, m.author.id)] = m
    if not latest:
        return {}
    stmt = insert(Customer)
    stmt = stmt.on_conflict_do_update(
        index_elements=["channel", "platform_user_id"],
        set_={
            "handle": stmt.excluded.handle,
            "display_name": stmt.excluded.display_name,
            # A message without a follower count keeps the count we already know.
            "followers": func.coalesce(stmt.excluded.followers, col(Customer.followers)),
        },
    ).returning(col(Customer.id), col(Customer.channel), col(Customer.platform_user_id))
    rows: list[dict[str, Any]] = [
        {
            "channel": m.channel,
            "platform_user_id": m.author.id,
            "handle": m.author.handle,
            "display_name": m.author.name,
            "followers": m.author.followers,
            "tags": [],
            "created_at": now,
        }
        for m in latest.values()
    ]
    result = session.connection().execute(stmt, rows)
    return {(r.channel, r.platform_user_id): r.id for r in result}


def _thread_keys(session: Session, msgs: list[InboundMessage]) -> list[str]:
    """Resolve each message's thread, looking up replied-to posts in the database and batch."""
    wanted = {(m.channel, m.in_reply_to) for m in msgs if m.in_reply_to and not m.thread_id}
    known: dict[tuple[str, str], str] = {}
    if wanted:
        query = (
            select(Message.channel, Message.external_id, Conversation.thread_key)
            .join(Conversation, col(Conversation.id) == Message.conversation_id)
            .where(_pairs_in(col(Message.channel), col(Message.external_id), wanted))
        )
        for channel, external_id, key in session.exec(query):
            if external_id is not None and (channel, external_id) in wanted:
                known[(channel, external_id)] = key
    keys: list[str] = []
    for m in msgs:
        key = thread_key(m, known)
        keys.append(key)
        known[(m.channel, m.external_id)] = key
    return keys


def _ensure_conversations(
    session: Session,
    insert: Any,
    msgs: list[InboundMessage],
    keys: list[str],
    customer_ids: dict[tuple[str, str], int],
    now: datetime,
) -> tuple[dict[tuple[str, str], int], list[int]]:
    firsts: dict[tuple[str, str], InboundMessage] = {}
    for m, key in zip(msgs, keys, strict=True):
        firsts.setdefault((m.channel, key), m)
    ids = _conversation_ids(session, list(firsts))
    missing = [k for k in firsts if k not in ids]
    created: list[int] = []
    if missing:
        rows = [
            {
                "channel": channel,
                "visibility": firsts[(channel, key)].visibility,
                "thread_key": key,
                "customer_id": customer_ids[(channel, firsts[(channel, key)].author.id)],
                "status": "new",
                "priority": 0,
                "tags": [],
                "claim_token": 0,
                "version": 0,
                "message_count": 0,
                "preview": "",
                "created_at": now,
                "updated_at": now,
            }
            for channel, key in missing
        ]
        stmt = (
            insert(Conversation)
            .on_conflict_do_nothing(index_elements=["channel", "thread_key"])
            .returning(
                col(Conversation.id), col(Conversation.channel), col(Conversation.thread_key)
            )
        )
        for r in session.connection().execute(stmt, rows):
            ids[(r.channel, r.thread_key)] = r.id
            created.append(r.id)
        # Another ingest on PostgreSQL may have created some meanwhile: read those back.
        ids.update(_conversation_ids(session, [k for k in missing if k not in ids]))
    return ids, created


def _conversation_ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    if not keys:
        return {}
    wanted = set(keys)
    query = select(Conversation.id, Conversation.channel, Conversation.thread_key).where(
        _pairs_in(col(Conversation.channel), col(Conversation.thread_key), wanted)
    )
    return {
        (channel, key): cid
        for cid, channel, key in session.exec(query)
        if cid is not None and (channel, key) in wanted
    }


def _pairs_in(channel: Any, key: Any, pairs: Collection[tuple[str, str]]) -> Any:
    """A filter matching the rows whose (channel, key) is in `pairs`, and possibly a few more.

    Not `tuple_(channel, key).in_(pairs)`: SQLite (3.40) answers a row-value IN (VALUES ...)
    by scanning the whole (channel, key) index, or the whole message table, once per batch:
    seconds per batch at a million messages. Two plain INs are answered with index probes on
    both backends; callers keep only the rows whose pair they asked for.
    """
    return and_(channel.in_(sorted({c for c, _ in pairs})), key.in_(sorted({k for _, k in pairs})))


_UPDATE_SQL = (
    "UPDATE conversation SET"
    " version = version + :n, message_count = message_count + :n,"
    " status = CASE WHEN status IN ('resolved', 'closed', 'waiting') THEN 'open' ELSE status END,"
    " first_inbound_at = COALESCE(first_inbound_at, :first_at),"
    " sla_due_at = CASE WHEN status IN ('new', 'open') AND sla_due_at IS NOT NULL"
    "   THEN sla_due_at ELSE :due END,"
    " last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < :last_at"
    "   THEN :last_at ELSE last_inbound_at END,"
    " preview = CASE WHEN last_message_at IS NULL OR last_message_at <= :last_at"
    "   THEN :preview ELSE preview END,"
    " last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < :last_at"
    "   THEN :last_at ELSE last_message_at END,"
    " updated_at = :now"
    " WHERE id = :id"
)
_UPDATE = text(_UPDATE_SQL).bindparams(
    *(bindparam(n, type_=DateTime(timezone=True)) for n in ("first_at", "last_at", "due", "now")),
    bindparam("preview", type_=VerbatimText()),
)


def _update_conversations(
    session: Session,
    fresh: list[tuple[int, InboundMessage]],
    keys: list[str],
    conv_ids: dict[tuple[str, str], int],
    created: list[int],
    sla: SlaSettings,
    now: datetime,
) -> list[int]:
    """Fold the batch's new messages into their conversations; returns the reopened ids."""
    grouped: dict[int, list[InboundMessage]] = {}
    for i, m in fresh:
        grouped.setdefault(conv_ids[(m.channel, keys[i])], []).append(m)
    statuses = dict(
        session.exec(
            select(Conversation.id, Conversation.status).where(col(Conversation.id).in_(grouped))
        ).all()
    )
    params = []
    for cid, items in grouped.items():
        first = min(items, key=lambda m: m.created_at)
        last = max(items, key=lambda m: m.created_at)
        target = timedelta(minutes=sla.target_minutes(first.channel, first.visibility))
        params.append(
            {
                "id": cid,
                "n": len(items),
                "first_at": as_utc(first.created_at),
                "last_at": as_utc(last.created_at),
                "due": as_utc(first.created_at) + target,
                "preview": preview_of(last.text),
                "now": now,
            }
        )
    session.connection().execute(_UPDATE, params)
    return [cid for cid in grouped if statuses.get(cid) in ("resolved", "closed")]


def dumps_report(report: IngestReport) -> str:
    """The report as one JSON object."""
    return json.dumps(report.as_json())
