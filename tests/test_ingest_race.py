"""Two ingests storing the same message at once on PostgreSQL: it is stored and counted once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.ingest import IngestReport, ingest_stream, parse_line
from frontdesk.core.ingest_batch import ingest_batch

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SLA = SlaSettings()
# Guards against a hung ingest, not performance assertions.
BLOCKED_WAIT_S = 30
JOIN_WAIT_S = 60


def line(external_id: str, thread: str, author: str, minute: int) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": external_id,
            "text": f"text of {external_id}",
            "created_at": f"2026-03-02T08:{minute:02d}:00Z",
            "author": {"id": author, "handle": f"@{author}"},
            "thread_id": thread,
        }
    )


def store_with_core(session: Session, raw: str) -> None:
    """What another ingest does: the whole batch path, customer included."""
    ingest_batch(session, [parse_line(raw)], sla=SLA, actor="other", now=NOW)


def store_thread_and_message(session: Session, raw: str) -> None:
    """Another writer's first steps: the thread and the message, but no customer lock."""
    msg = parse_line(raw)
    conn = session.connection()
    cid = conn.execute(
        text(
            "INSERT INTO conversation (channel, visibility, thread_key, customer_id, status,"
            " priority, tags, claim_token, version, message_count, preview, created_at,"
            " updated_at) VALUES ('x', 'public', :thread, :customer, 'new', 0, '[]', 0, 1, 1,"
            " '', :now, :now) RETURNING id"
        ),
        {"thread": msg.thread_id, "customer": _customer(conn, "early"), "now": NOW},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO message (conversation_id, channel, direction, author, body,"
            " external_id, created_at, recorded_at)"
            " VALUES (:cid, 'x', 'inbound', '', '', :ext, :now, :now)"
        ),
        {"cid": cid, "ext": msg.external_id, "now": NOW},
    )


def _customer(conn: Any, user: str) -> int:
    return int(
        conn.execute(
            text("SELECT id FROM customer WHERE platform_user_id = :u"), {"u": user}
        ).scalar_one()
    )


@pytest.mark.parametrize("other", [store_with_core, store_thread_and_message])
def test_message_stored_by_a_concurrent_ingest_is_a_duplicate(
    db: Database, db_url: str, other: Callable[[Session, str], None]
) -> None:
    if db.is_sqlite:
        pytest.skip("BEGIN IMMEDIATE: nothing can write between an ingest's lookup and insert")
    ingest_stream(db, [line("seed", "seed", "early", 0)], sla=SLA, actor="feed", now=NOW)
    shared = line("x1", "t", "alice", 1)
    other_db = Database(db_url)
    reports: list[IngestReport] = []
    try:
        with other_db.write() as session:
            other(session, shared)
            pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            racer = threading.Thread(
                target=lambda: reports.append(
                    ingest_stream(
                        db, [shared, line("x2", "t", "bob", 2)], sla=SLA, actor="feed", now=NOW
                    )
                )
            )
            racer.start()
            # Commit only once the racing ingest has looked and is waiting on our rows.
            _wait_until_blocked_by(db, pid)
        racer.join(timeout=JOIN_WAIT_S)
        assert not racer.is_alive()
    finally:
        other_db.dispose()

    assert len(reports) == 1
    report = reports[0]
    assert (report.accepted, report.duplicates, report.conversations_created) == (1, 1, 0)
    with db.read() as session:
        conn = session.connection()
        conv = conn.execute(
            text("SELECT id, version, message_count FROM conversation WHERE thread_key = 't'")
        ).one()
        stored = conn.execute(
            text("SELECT external_id FROM message WHERE conversation_id = :c ORDER BY id"),
            {"c": conv.id},
        ).scalars()
        received = conn.execute(
            text(
                "SELECT COUNT(*) FROM event WHERE kind = 'message.received'"
                " AND conversation_id = :c AND actor = 'feed'"
            ),
            {"c": conv.id},
        ).scalar_one()
        assert list(stored) == ["x1", "x2"]
        # Each message counted once: x1 by the other writer, x2 by the racing ingest.
        assert (conv.version, conv.message_count, received) == (2, 2, 1)


def _wait_until_blocked_by(db: Database, pid: int) -> None:
    deadline = time.monotonic() + BLOCKED_WAIT_S
    while time.monotonic() < deadline:
        with db.read() as session:
            blocked = session.connection().execute(
                text(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"
                ),
                {"pid": pid},
            )
            if blocked.scalar_one():
                return
        time.sleep(0.01)
    pytest.fail("the racing ingest never waited on the other transaction")
