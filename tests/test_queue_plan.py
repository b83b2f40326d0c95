"""The queue's queries read a window through the urgency index, not a sort of every row."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.schema import CreateIndex
from sqlmodel import SQLModel

from frontdesk.core import queue
from frontdesk.core.db import Database
from frontdesk.core.models import OPEN_STATUSES, STATUSES, Conversation, Customer
from frontdesk.core.queue import QueueFilter

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

# The workstation's views (tui/screens/filter.py), and a window further down the queue.
VIEWS: dict[str, QueueFilter] = {
    "all": QueueFilter(limit=5),
    "window": QueueFilter(limit=5, offset=7),
    "unclaimed": QueueFilter(unclaimed_at=NOW, limit=5),
    "breaching": QueueFilter(breaching_at=NOW, limit=5),
    "channel": QueueFilter(channel="x", limit=5),
    "team": QueueFilter(team="billing", limit=5),
    "tag": QueueFilter(tag="refund", limit=5),
}


@pytest.fixture
def seeded(db: Database) -> list[Conversation]:
    """Forty conversations in every status, with ties, missing due times and all claim states."""
    rng = random.Random(4)
    rows: list[Conversation] = []
    with db.write() as session:
        customer = Customer(channel="x", platform_user_id="u", handle="@u", created_at=NOW)
        session.add(customer)
        session.flush()
        assert customer.id is not None
        for n in range(40):
            due = None if n % 4 == 0 else NOW + timedelta(minutes=rng.choice([-30, -5, 10, 10, 60]))
            claim = rng.choice(["none", "none", "live", "lapsed", "no expiry"])
            conv = Conversation(
                channel=rng.choice(["x", "email"]),
                thread_key=f"t{n}",
                customer_id=customer.id,
                status=rng.choice(STATUSES),
                priority=rng.choice([0, 0, 1, 2]),
                tags=["refund"] if n % 3 == 0 else [],
                team=rng.choice([None, "billing"]),
                claimed_by=None if claim == "none" else rng.choice(["alice", "bob"]),
                claim_expires_at={
                    "live": NOW + timedelta(minutes=5),
                    "lapsed": NOW - timedelta(minutes=5),
                }.get(claim),
                first_inbound_at=NOW - timedelta(minutes=rng.choice([1, 2, 3])),
                sla_due_at=due,
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(conv)
            rows.append(conv)
        session.flush()
        for conv in rows:
            session.expunge(conv)
    return rows


def _expected(rows: list[Conversation], flt: QueueFilter) -> list[int]:
    """What the queue should list, worked out in Python from the rows as written."""

    def unclaimed(c: Conversation, at: datetime) -> bool:
        return c.claimed_by is None or (c.claim_expires_at is not None and c.claim_expires_at <= at)

    def breaching(c: Conversation, at: datetime) -> bool:
        return c.sla_due_at is not None and c.sla_due_at < at

    keep = [
        c
        for c in rows
        if c.status in flt.statuses
        and (flt.mine_of is None or c.claimed_by == flt.mine_of)
        and (flt.unclaimed_at is None or unclaimed(c, flt.unclaimed_at))
        and (flt.channel is None or c.channel == flt.channel)
        and (flt.breaching_at is None or breaching(c, flt.breaching_at))
        and (flt.team is None or c.team == flt.team)
        and (flt.tag is None or flt.tag in c.tags)
    ]
    keep.sort(
        key=lambda c: (
            c.sla_due_at is None,
            c.sla_due_at or NOW,
            -c.priority,
            c.first_inbound_at,
            c.id,
        )
    )
    return [c.id for c in keep if c.id is not None]


EVERY_FILTER = {
    **VIEWS,
    "mine": QueueFilter(mine_of="alice", limit=50),
    "closed": QueueFilter(statuses=("resolved", "closed"), limit=50),
    "subset": QueueFilter(statuses=("open", "new"), limit=50),  # the index cannot serve these
    "reordered": QueueFilter(statuses=("waiting", "open", "new"), unclaimed_at=NOW, limit=50),
    "breaching email": QueueFilter(breaching_at=NOW, channel="email", limit=50),
    "mine unclaimed": QueueFilter(mine_of="bob", unclaimed_at=NOW, limit=50),
}


@pytest.mark.parametrize("name", EVERY_FILTER)
def test_listing_and_counting_match_the_rows(
    db: Database, seeded: list[Conversation], name: str
) -> None:
    flt = EVERY_FILTER[name]
    everything = _expected(seeded, replace(flt, limit=1000, offset=0))
    with db.read() as session:
        listed = [r.conversation.id for r in queue.list_queue(session, flt)]
        assert listed == everything[flt.offset : flt.offset + flt.limit]
        assert queue.count_queue(session, flt) == len(everything)


def test_header_counts_match_the_rows(db: Database, seeded: list[Conversation]) -> None:
    def number(**kw: Any) -> int:
        return len(_expected(seeded, QueueFilter(limit=1000, **kw)))

    with db.read() as session:
        got = queue.counts(session, operator="alice", now=NOW)
    live_mine = [
        c
        for c in seeded
        if c.status in OPEN_STATUSES
        and c.claimed_by == "alice"
        and c.claim_expires_at is not None
        and c.claim_expires_at > NOW
    ]
    assert (got.open, got.unclaimed, got.breaching, got.mine) == (
        number(),
        number(unclaimed_at=NOW),
        number(breaching_at=NOW),
        len(live_mine),
    )
    assert 0 < got.mine < got.open - got.unclaimed  # the data exercises every figure


def test_the_migration_builds_the_index_the_model_declares(db: Database) -> None:
    """Alembic cannot read an expression index back from SQLite, so compare the DDL itself."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's expression indexes are compared by tests/test_schema.py")
    table = SQLModel.metadata.tables["conversation"]
    (declared,) = [i for i in table.indexes if i.name == queue.URGENCY_INDEX]
    with db.engine.connect() as conn:
        built = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
            (queue.URGENCY_INDEX,),
        ).scalar()
    assert built == str(CreateIndex(declared).compile(dialect=db.engine.dialect)).strip()


# --- plans ------------------------------------------------------------------------------


@contextmanager
def sent(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (and their parameters) sent to the database inside the block."""
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)


def plan(db: Database, call: Callable[[Any], object]) -> str:
    """The database's plan for the one statement `call` sends."""
    with sent(db) as seen, db.read() as session:
        call(session)
    (statement, parameters), *rest = [s for s in seen if s[0].lstrip().upper().startswith("SELECT")]
    assert not rest
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            found = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(row[3] for row in found)
        # PostgreSQL costs a handful of rows as cheaper to sort; forbidding sorts and table
        # scans asks whether the index can serve the query at all.
        conn.execute(text("SET LOCAL enable_sort = off"))
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        found = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in found)


@pytest.mark.parametrize("view", VIEWS)
def test_a_window_of_the_queue_is_read_through_the_urgency_index(
    db: Database, seeded: list[Conversation], view: str
) -> None:
    found = plan(db, lambda session: queue.list_queue(session, VIEWS[view]))
    assert "ix_conversation_urgency" in found, found
    if db.engine.dialect.name == "sqlite":
        assert "USE TEMP B-TREE FOR ORDER BY" not in found, found
    else:
        assert "Sort" not in found, found


def test_the_breaching_view_reads_only_the_breaching_range(
    db: Database, seeded: list[Conversation]
) -> None:
    found = plan(db, lambda session: queue.list_queue(session, VIEWS["breaching"]))
    if db.engine.dialect.name == "sqlite":
        assert "ix_conversation_urgency (<expr>=? AND sla_due_at<?)" in found, found
    else:
        assert "sla_due_at <" in found.split("Index Cond:", 1)[1], found


def test_the_header_counts_search_indexes_and_never_scan_the_table(
    db: Database, seeded: list[Conversation]
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL chooses from its statistics; this pins SQLite's plan")
    found = plan(db, lambda session: queue.counts(session, operator="alice", now=NOW))
    reads = [line for line in found.splitlines() if "conversation" in line]
    assert len(reads) == 4 and all(line.startswith("SEARCH conversation USING") for line in reads)
    assert "ix_conversation_holder (claimed_by>?)" in found, found
    found = plan(db, lambda session: queue.count_queue(session, VIEWS["unclaimed"]))
    reads = [line for line in found.splitlines() if "conversation" in line]
    assert len(reads) == 2 and all(line.startswith("SEARCH conversation USING") for line in reads)
    found = plan(db, lambda session: queue.count_queue(session, VIEWS["channel"]))
    assert found.startswith("SEARCH conversation USING COVERING INDEX"), found
