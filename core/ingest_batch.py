"""One ingest batch: which lines are new, which threads they join, and the rows they write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from frontdesk.core import crisis_intake, events, ingest_sql, surveys
from frontdesk.core.clock import as_utc
from frontdesk.core.config import SlaSettings
from frontdesk.core.conversations import preview_of
from frontdesk.core.ingest_input import InboundMessage, thread_key
from frontdesk.core.ingest_sql import Key
from frontdesk.core.intake import Intake


@dataclass
class BatchResult:
    """What one committed batch did."""

    accepted: int = 0
    duplicates: int = 0
    created: int = 0
    reopened: int = 0


class ConcurrentIngest(Exception):
    """Another transaction stored some of this batch's messages after the batch looked.

    Only possible on PostgreSQL: on SQLite the batch runs under BEGIN IMMEDIATE, so nothing
    can change between its lookups and its writes. The caller rolls back and runs the batch
    again, which then sees those messages as the duplicates they are.
    """


@dataclass(frozen=True, slots=True)
class _Fold:
    """A thread's new messages summed up: what the conversation row takes from them."""

    count: int
    first: InboundMessage  # the earliest; its channel and visibility set the SLA target
    last: InboundMessage  # the latest; its text becomes the preview

    @staticmethod
    def of(items: list[InboundMessage]) -> _Fold:
        first = min(items, key=lambda m: m.created_at)
        last = max(items, key=lambda m: m.created_at)
        return _Fold(len(items), first, last)

    def due(self, sla: SlaSettings) -> datetime:
        minutes = sla.target_minutes(self.first.channel, self.first.visibility)
        return as_utc(self.first.created_at) + timedelta(minutes=minutes)


def ingest_batch(
    session: Session,
    batch: list[InboundMessage],
    *,
    sla: SlaSettings,
    actor: str,
    now: datetime,
    intake: Intake | None = None,
    account: str | None = None,
) -> BatchResult:
    """Upsert customers and conversations and append the new messages of one batch;
    `account` is the sync account it came in on (recorded on the conversations).

    Set-based on purpose: a handful of multi-row statements per batch instead of several
    per message, so a backfill of 50,000 messages stays near the speed of raw inserts. The
    batch first learns which of its messages are already stored, so a new conversation is
    inserted once in its final form and only stored conversations are updated.

    Raises:
        ConcurrentIngest: another ingest stored some of these messages meanwhile (PostgreSQL);
            roll back and call again.
    """
    drv = ingest_sql.Driver(session.connection())
    result = BatchResult()
    unique: dict[Key, InboundMessage] = {}
    for msg in batch:
        unique.setdefault((msg.channel, msg.external_id), msg)
    wanted = set(unique)
    wanted.update((m.channel, m.in_reply_to) for m in unique.values() if m.in_reply_to)
    # One lookup answers both questions: which lines are stored already, and which thread
    # each replied-to post belongs to.
    known = ingest_sql.stored_threads(drv, wanted)
    fresh: list[InboundMessage] = []
    groups: dict[Key, list[InboundMessage]] = {}
    for key, msg in unique.items():
        if key in known:
            continue
        thread = thread_key(msg, known)
        known[key] = thread
        fresh.append(msg)
        groups.setdefault((msg.channel, thread), []).append(msg)
    result.duplicates = len(batch) - len(fresh)
    if not fresh:
        return result

    customers = _upsert_customers(drv, fresh, now)
    stored = ingest_sql.conversations(drv, groups)
    folds = {key: _Fold.of(items) for key, items in groups.items()}
    new = [key for key in groups if key not in stored]
    # The playbook triages, routes and starts the clock of each new conversation by its
    # first message; without one (tests of ingest alone) only the SLA table applies.
    plans = {key: intake.new(folds[key].first) for key in new} if intake else {}
    if plans and intake is not None:  # abusive tag, crisis routing (core/crisis_intake.py)
        texts = {key: [m.text for m in groups[key]] for key in new}
        plans = crisis_intake.adjust_plans(session, intake.playbook, plans, texts)
    created = ingest_sql.insert_conversations(
        drv,
        [
            (ch, groups[(ch, key)][0].visibility, key,
             customers[(ch, groups[(ch, key)][0].author.id)], folds[(ch, key)].count,
             folds[(ch, key)].first.created_at, folds[(ch, key)].last.created_at,
             plans[(ch, key)].due_at if plans else folds[(ch, key)].due(sla),
             preview_of(folds[(ch, key)].last.text), now, plans.get((ch, key)))
            for ch, key in new
        ],
        account,
    )  # fmt: skip
    late = [key for key in new if key not in created]
    if late:  # PostgreSQL: another ingest created these threads meanwhile; update them
        stored.update(ingest_sql.conversations(drv, late))
    ids = {key: row.id for key, row in stored.items()} | created

    message_ids = ingest_sql.insert_messages(
        drv,
        [
            (ids[(m.channel, known[(m.channel, m.external_id)])], m.channel,
             m.author.handle or m.author.name or m.author.id, m.text, m.external_id,
             m.in_reply_to, m.url, m.created_at, now, m.subject,
             " ".join(m.references) or None)
            for m in fresh
        ],
    )  # fmt: skip
    if len(message_ids) != len(fresh):
        # The new conversations above already count every fresh message.
        raise ConcurrentIngest(f"{len(fresh) - len(message_ids)} messages stored meanwhile")
    # Survey answers are read only on conversations still resolved or closed (core/surveys.py);
    # a bare score keeps its conversation resolved, so it skips the reopening fold below.
    closed = {
        stored[key].id: [(message_ids[(m.channel, m.external_id)], m.text, m.created_at)
                         for m in items]
        for key, items in groups.items() if key in stored and stored[key].status in _CLOSED
    }  # fmt: skip
    quiet = surveys.recognise(session, closed, actor=actor, now=now) if closed else set()
    # A next-response clock runs on the calendar of the team the conversation belongs to.
    clocks = {
        key: intake.clock(fold.first, team=stored[key].team, kind="next")
        for key, fold in folds.items()
        if key in stored and intake is not None
    }
    ingest_sql.update_conversations(
        drv,
        [
            (stored[key].id, fold.count, fold.first.created_at, fold.last.created_at,
             clocks[key].due_at if clocks else fold.due(sla),
             clocks[key].warn_at if clocks else None, "next", preview_of(fold.last.text), now)
            for key, fold in folds.items()
            if key in stored and stored[key].id not in quiet
        ],
        account,
    )  # fmt: skip

    if intake is not None:
        said = {stored[k][0]: [m.text for m in items] for k, items in groups.items() if k in stored}
        crisis_intake.flag_stored(session, intake.playbook, said, actor=actor, now=now)
    reopened = [
        stored[k][0]
        for k in groups
        if k in stored and stored[k][1] in _CLOSED and stored[k][0] not in quiet
    ]
    log: list[tuple[datetime, str, str, int | None, dict[str, Any]]] = [
        (now, actor, "conversation.created", created[key], {}) for key in new if key in created
    ]
    log += [(now, actor, "conversation.reopened", cid, {}) for cid in reopened]
    log += [
        (now, actor, "message.received", ids[(m.channel, known[(m.channel, m.external_id)])],
         {"message_id": message_ids[(m.channel, m.external_id)], "external_id": m.external_id})
        for m in fresh
    ]  # fmt: skip
    events.append_many(session, log)
    result.accepted = len(fresh)
    result.created = len(created)
    result.reopened = len(reopened)
    return result


_CLOSED = ("resolved", "closed")


def _upsert_customers(
    drv: ingest_sql.Driver, fresh: list[InboundMessage], now: datetime
) -> dict[Key, int]:
    """Each author's latest details in the batch, as the customer row."""
    latest: dict[Key, InboundMessage] = {}
    for m in fresh:
        latest[(m.channel, m.author.id)] = m
    rows = [
        (m.channel, m.author.id, m.author.handle, m.author.name, m.author.followers, now)
        for m in latest.values()
    ]
    return ingest_sql.upsert_customers(drv, rows)
