"""The queue as operators see it: open conversations in urgency order, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Table, bindparam, func, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col, select

from frontdesk.core.models import OPEN_STATUSES, STATUSES, Conversation, Customer

# Most urgent first, no due time last. ix_conversation_urgency (core/models.py) is keyed on
# exactly these, so the database reads a window of the queue from it in order: cost by
# window, not by queue length. Change one, change the other (tests/test_queue_plan.py).
QUEUE_ORDER = (
    col(Conversation.sla_due_at).is_(None),
    col(Conversation.sla_due_at),
    col(Conversation.priority).desc(),
    col(Conversation.first_inbound_at),
    col(Conversation.id),
)
URGENCY_INDEX = "ix_conversation_urgency"
HOLDER_INDEX = "ix_conversation_holder"
_CONVERSATION: Table = Conversation.__table__  # type: ignore[attr-defined]


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
    stream: str | None = None
    """Conversations a listening stream started (they carry the tag `stream:NAME`)."""
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One conversation as a queue row."""

    conversation: Conversation
    handle: str
    name: str


def _status_in(statuses: tuple[str, ...]) -> ColumnElement[bool]:
    for status in statuses:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
    # Literals, in the models' order: a partial index serves only a query that spells out
    # its predicate, and a bound parameter is not spelled out when the plan is made.
    ordered = [s for s in STATUSES if s in statuses]
    return col(Conversation.status).in_(
        bindparam("statuses", ordered, expanding=True, literal_execute=True, unique=True)
    )


def _held(now: datetime) -> ColumnElement[bool]:
    """Claimed by someone whose lease runs (exactly the rows `unclaimed_at=now` leaves out)."""
    expires = col(Conversation.claim_expires_at)
    return col(Conversation.claimed_by).is_not(None) & or_(expires > now, expires.is_(None))


def _indexed_by(query: Any, index: str) -> Any:
    """`query` reading conversations through `index` on SQLite (INDEXED BY); as is elsewhere.

    Without statistics (nothing runs ANALYZE) SQLite takes every equality or IN on an
    indexed column to match ten rows, so it reaches for ix_conversation_status_due and
    reads (for a listing, sorts) every open row; naming the index is the one plan it
    cannot misjudge. PostgreSQL plans from its statistics and needs no hint.
    """
    return query.with_hint(_CONVERSATION, f"INDEXED BY {index}", "sqlite")


@compiles(Table, "sqlite")
def _table_with_hint(element: Table, compiler: Any, **kw: Any) -> str:
    # SQLite's compiler drops table hints; this renders the one _indexed_by gives.
    sql: str = compiler.visit_table(element, **kw)
    hint = (kw.get("fromhints") or {}).get(element)
    if hint and kw.get("asfrom") and not kw.get("ashint"):
        sql += f" {hint}"
    return sql


def _filtered(query: Any, flt: QueueFilter) -> Any:
    query = query.where(_status_in(flt.statuses))
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
    if flt.stream is not None:
        query = query.where(JsonListHas(Conversation.tags, f"stream:{flt.stream}"))
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


def _count(flt: QueueFilter) -> Any:
    return _filtered(select(func.count()).select_from(Conversation), flt)


def count_queue(session: Session, flt: QueueFilter) -> int:
    """How many conversations match `flt` (the length of the workstation's virtual list)."""
    if flt.unclaimed_at is None:
        return int(session.exec(_count(flt)).one())
    # Few rows are held: all minus the held reads the holder index, where counting the
    # unclaimed directly reads every row. One statement, so one snapshot.
    rest = replace(flt, unclaimed_at=None)
    held = _indexed_by(_count(rest).where(_held(flt.unclaimed_at)), HOLDER_INDEX)
    return int(session.exec(select(_count(rest).scalar_subquery() - held.scalar_subquery())).one())


def list_queue(session: Session, flt: QueueFilter) -> list[QueueRow]:
    """The conversations matching `flt`, most urgent first (no SLA due sorts last)."""
    query = _filtered(
        select(Conversation, Customer.handle, Customer.display_name).join(
            Customer, col(Customer.id) == Conversation.customer_id
        ),
        flt,
    )
    # The urgency index holds open rows only; an operator's own few rows are found faster
    # through the holder index and sorted.
    if set(flt.statuses) == set(OPEN_STATUSES) and flt.mine_of is None:
        query = _indexed_by(query, URGENCY_INDEX)
    order: tuple[Any, ...] = QUEUE_ORDER
    if flt.breaching_at is not None:
        # Only a row with a due time can breach, so the first key is the same on every row
        # here; said outright (IS FALSE, which PostgreSQL keeps as written), it lets both
        # databases read just the breaching range of the index, however few rows breach.
        query = query.where(QUEUE_ORDER[0].is_(False))
        order = QUEUE_ORDER[1:]
    query = query.order_by(*order).offset(flt.offset).limit(flt.limit)
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
    # One count per figure, each over the index that finds just its rows (a single pass
    # with a CASE per figure reads every open row); one statement, so one snapshot.
    c = Conversation
    everyone = QueueFilter()
    total, held, late, mine = session.exec(
        select(
            _count(everyone).scalar_subquery(),
            _indexed_by(_count(everyone).where(_held(now)), HOLDER_INDEX).scalar_subquery(),
            _count(everyone).where(col(c.sla_due_at) < now).scalar_subquery(),
            _count(everyone)
            .where(c.claimed_by == operator, col(c.claim_expires_at) > now)
            .scalar_subquery(),
        )
    ).one()
    return QueueCounts(int(total), int(total) - int(held), int(late), int(mine))
