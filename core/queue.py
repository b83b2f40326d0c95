"""The queue as operators see it: open conversations in urgency order, and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, and_, case, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from frontdesk.core.models import OPEN_STATUSES, STATUSES, Conversation, Customer


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What part of the queue to list."""

    statuses: tuple[str, ...] = OPEN_STATUSES
    mine_of: str | None = None
    unclaimed_at: datetime | None = None
    channel: str | None = None
    breaching_at: datetime | None = None
    team: str | None = None
    tag: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One conversation as a queue row."""

    conversation: Conversation
    handle: str
    name: str


def _filtered(query: Any, flt: QueueFilter) -> Any:
    for status in flt.statuses:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
    query = query.where(col(Conversation.status).in_(flt.statuses))
    if flt.mine_of is not None:
        query = query.where(Conversation.claimed_by == flt.mine_of)
    if flt.unclaimed_at is not None:
        query = query.where(
            or_(
                col(Conversation.claimed_by).is_(None),
                col(Conversation.claim_expires_at) <= flt.unclaimed_at,
            )
        )
    if flt.channel is not None:
        query = query.where(Conversation.channel == flt.channel)
    if flt.breaching_at is not None:
        query = query.where(col(Conversation.sla_due_at) < flt.breaching_at)
    if flt.team is not None:
        query = query.where(Conversation.team == flt.team)
    if flt.tag is not None:
        query = query.where(JsonListHas(Conversation.tags, flt.tag))
    return query


class JsonListHas(FunctionElement[bool]):
    """`JsonListHas(column, value)`: true when a JSON array column holds the string value.

    Tags are a JSON array on both backends, and each backend has its own way to look
    inside one, so the condition compiles per dialect.
    """

    type = Boolean()
    inherit_cache = True
    name = "json_list_has"


@compiles(JsonListHas, "sqlite")
def _JsonListHas_sqlite(element: JsonListHas, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(c, **kw) for c in element.clauses)
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"


@compiles(JsonListHas, "postgresql")
def _JsonListHas_pg(element: JsonListHas, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({column} AS jsonb) ? {value})"


def count_queue(session: Session, flt: QueueFilter) -> int:
    """How many conversations match `flt` (the length of the workstation's virtual list)."""
    query = _filtered(select(func.count()).select_from(Conversation), flt)
    return int(session.exec(query).one())


def list_queue(session: Session, flt: QueueFilter) -> list[QueueRow]:
    """The conversations matching `flt`, most urgent first (no SLA due sorts last)."""
    query = _filtered(
        select(Conversation, Customer.handle, Customer.display_name).join(
            Customer, col(Customer.id) == Conversation.customer_id
        ),
        flt,
    )
    query = (
        query.order_by(
            case((col(Conversation.sla_due_at).is_(None), 1), else_=0),
            col(Conversation.sla_due_at),
            col(Conversation.priority).desc(),
            col(Conversation.first_inbound_at),
            col(Conversation.id),
        )
        .offset(flt.offset)
        .limit(flt.limit)
    )
    return [QueueRow(conv, handle, name) for conv, handle, name in session.exec(query)]


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """The header's figures."""

    open: int
    unclaimed: int
    breaching: int
    mine: int


def counts(session: Session, *, operator: str, now: datetime) -> QueueCounts:
    """Counts of open, unclaimed, breaching and own conversations."""
    c = Conversation
    unclaimed = or_(col(c.claimed_by).is_(None), col(c.claim_expires_at) <= now)
    row = session.exec(
        select(
            func.count(),
            func.sum(case((unclaimed, 1), else_=0)),
            func.sum(case((col(c.sla_due_at) < now, 1), else_=0)),
            func.sum(
                case(
                    (and_(col(c.claimed_by) == operator, col(c.claim_expires_at) > now), 1), else_=0
                )
            ),
        ).where(col(c.status).in_(OPEN_STATUSES))
    ).one()
    total, free, late, mine = row
    return QueueCounts(int(total or 0), int(free or 0), int(late or 0), int(mine or 0))
