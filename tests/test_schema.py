"""Schema and engine: migrations reach the models, SQLite pragmas, BEGIN IMMEDIATE, uniqueness."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlmodel import select

from frontdesk.core import schema, schema_version
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import BUSY_SLICE_MS, Database
from frontdesk.core.errors import DatabaseBusy
from frontdesk.core.ingest import ingest_stream
from frontdesk.core.models import Conversation, Customer, Message, Operator

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TABLES = {"alembic_version", "customer", "conversation", "message", "event", "operator"}


@pytest.fixture
def empty(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database, for the engine behaviour only SQLite has."""
    database = Database(f"sqlite:///{tmp_path / 'frontdesk.db'}")
    schema.upgrade(database)
    yield database
    database.dispose()


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every table with its columns and index names, to compare before and after."""
    with db.engine.connect() as conn:
        insp = inspect(conn)
        return {
            name: sorted(c["name"] for c in insp.get_columns(name))
            + sorted(str(i["name"]) for i in insp.get_indexes(name))
            for name in sorted(insp.get_table_names())
        }


def seed(db: Database, external_id: str = "m1") -> None:
    line = json.dumps(
        {
            "channel": "x",
            "external_id": external_id,
            "text": "hello",
            "created_at": "2025-03-01T11:00:00Z",
            "author": {"id": "u1", "handle": "@u1"},
        }
    )
    report = ingest_stream(db, [line], sla=SlaSettings(), actor="test", now=NOW)
    assert report.accepted == 1


# --- migrations -------------------------------------------------------------------------


def test_upgrade_of_an_empty_database_reaches_head_with_no_differences(empty: Database) -> None:
    assert schema.current_revision(empty) is None
    head = schema.head_revision(empty)
    assert head is not None
    assert schema.upgrade(empty) == head
    assert schema.current_revision(empty) == head
    assert TABLES <= set(snapshot(empty))
    assert schema.differences(empty) == []


def test_the_start_up_check_reads_the_same_revisions_as_alembic(empty: Database) -> None:
    # Start-up reads the revision without Alembic (half a second of imports); it must agree.
    assert schema_version.head_revision() == schema.head_revision(empty)
    assert schema_version.current_revision(empty) is None
    schema.upgrade(empty, "0003")
    assert schema_version.current_revision(empty) == "0003" == schema.current_revision(empty)
    schema.upgrade(empty)
    assert schema_version.current_revision(empty) == schema.head_revision(empty)


def test_upgrading_twice_is_a_no_op(empty: Database) -> None:
    head = schema.upgrade(empty)
    seed(empty)
    before = snapshot(empty)
    assert schema.upgrade(empty) == head
    assert snapshot(empty) == before
    assert schema.differences(empty) == []
    with empty.read() as session:
        assert len(session.exec(select(Message)).all()) == 1  # the data is untouched


def test_upgrade_of_a_0003_database_with_data_keeps_it(empty: Database) -> None:
    """Later migrations add columns to tables other tables reference; existing rows stay."""
    assert schema.upgrade(empty, "0003") == "0003"
    with empty.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO customer (id, channel, platform_user_id, handle, display_name,"
                " tags, created_at) VALUES (1, 'x', 'u1', '@u1', 'U', '[]', :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO conversation (id, channel, visibility, thread_key, customer_id,"
                " status, priority, tags, claim_token, version, message_count, preview,"
                " created_at, updated_at) VALUES (1, 'x', 'public', 'p1', 1, 'open', 0, '[]',"
                " 0, 1, 1, 'hi', :t, :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO message (conversation_id, channel, direction, author, body,"
                " external_id, created_at, recorded_at) VALUES (1, 'x', 'inbound', '@u1',"
                " 'hi', 'p1', :t, :t)"
            ),
            {"t": NOW},
        )
    assert schema.upgrade(empty) == schema.head_revision(empty)
    assert schema.differences(empty) == []
    with empty.read() as session:
        (conv,) = session.exec(select(Conversation)).all()
        assert (conv.preview, conv.sla_state, conv.triage, conv.awaiting_signoff) == (
            "hi",
            "ok",
            [],
            False,
        )
        assert len(session.exec(select(Message)).all()) == 1


def test_differences_notices_drift(db: Database) -> None:
    """`differences` is not vacuously empty: a dropped index shows up."""
    with db.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_conversation_holder"))
    found = schema.differences(db)
    assert [d[0] for d in found] == ["add_index"]
    assert found[0][1].name == "ix_conversation_holder"


# --- SQLite pragmas and write locking ---------------------------------------------------


def pragma(db: Database, name: str) -> object:
    with db.read() as session:
        return session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_pragmas_are_in_force_on_every_connection(sqlite_db: Database) -> None:
    db = sqlite_db
    assert pragma(db, "journal_mode") == "wal"
    assert pragma(db, "synchronous") == 1  # NORMAL
    assert pragma(db, "foreign_keys") == 1
    # SQLite waits in short slices; Database retries BEGIN IMMEDIATE up to busy_timeout_ms.
    assert pragma(db, "busy_timeout") == BUSY_SLICE_MS
    # A fresh connection (not the pooled one) is configured the same way.
    db.dispose()
    assert pragma(db, "foreign_keys") == 1
    short = Database(str(db.url), busy_timeout_ms=5)
    try:
        assert pragma(short, "busy_timeout") == 5  # never longer than the whole wait
    finally:
        short.dispose()
    assert pragma(db, "cache_size") == -2000  # SQLite's default unless asked otherwise
    lean = Database(str(db.url), page_cache_kib=512)  # the workstation's
    try:
        assert pragma(lean, "cache_size") == -512
    finally:
        lean.dispose()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sa_exc.IntegrityError), db.write() as session:
        session.add(
            Message(
                conversation_id=4242,
                channel="x",
                direction="inbound",
                body="orphan",
                external_id="orphan",
                created_at=NOW,
                recorded_at=NOW,
            )
        )


def test_write_begins_immediate_and_read_begins_deferred(sqlite_db: Database) -> None:
    # BEGIN goes straight to the driver, so watch what SQLite itself is asked to run.
    statements: list[str] = []

    def trace(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.set_trace_callback(
            lambda sql: statements.append(" ".join(sql.split()[:2]))  # enough for BEGIN kinds
        )

    sqlite_db.engine.dispose()  # fresh connections, so every one is traced
    event.listen(sqlite_db.engine, "connect", trace)
    try:
        with sqlite_db.write() as session:
            session.exec(select(Operator)).all()
        written = [s for s in statements if not s.startswith("PRAGMA")]
        statements.clear()
        with sqlite_db.read() as session:
            session.exec(select(Operator)).all()
        read = [s for s in statements if not s.startswith("PRAGMA")]
    finally:
        event.remove(sqlite_db.engine, "connect", trace)
        sqlite_db.engine.dispose()
    assert written[0] == "BEGIN IMMEDIATE"
    assert read[0] == "BEGIN"  # deferred: no lock until it would write
    assert written[1].startswith("SELECT")


def test_write_transaction_takes_the_lock_at_begin(sqlite_db: Database) -> None:
    """BEGIN IMMEDIATE: an open write() blocks other writers before it has written anything,
    while readers carry on (WAL)."""
    db = sqlite_db
    seed(db)
    other = Database(str(db.url), busy_timeout_ms=100)
    try:
        with db.write():
            with pytest.raises(DatabaseBusy) as info, other.write():
                pass
            with other.read() as session:  # readers are not blocked
                assert len(session.exec(select(Conversation)).all()) == 1
        message = info.value.message
        assert str(db.sqlite_path) in message
        assert "locked" in message and "\n" not in message
        # Once the first writer is done the second one gets in.
        with other.write() as session:
            session.add(Operator(login="late", created_at=NOW))
        with db.read() as session:
            assert session.exec(select(Operator.login)).all() == ["late"]
    finally:
        other.dispose()


def test_read_transaction_does_not_take_the_write_lock(sqlite_db: Database) -> None:
    db = sqlite_db
    other = Database(str(db.url), busy_timeout_ms=100)
    try:
        with db.read() as session:
            session.exec(select(Operator)).all()
            with other.write() as writer:
                writer.add(Operator(login="writer", created_at=NOW))
    finally:
        other.dispose()


BUSY_CHILD = """
import sys
from frontdesk.core.errors import DatabaseBusy
from frontdesk.core.db import Database
db = Database(sys.argv[1], busy_timeout_ms=100)
try:
    with db.write():
        pass
except DatabaseBusy as exc:
    print("busy:" + exc.message)
else:
    print("acquired")
"""


def test_second_process_writer_gets_database_busy(sqlite_db: Database, tmp_path: Path) -> None:
    db = sqlite_db
    with db.write():
        result = subprocess.run(
            [sys.executable, "-c", BUSY_CHILD, str(db.url)],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip()
    assert out.startswith("busy:"), out
    assert str(db.sqlite_path) in out
    assert len(result.stdout.splitlines()) == 1
    # With the lock released the same child gets in.
    again = subprocess.run(
        [sys.executable, "-c", BUSY_CHILD, str(db.url)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert again.stdout.strip() == "acquired"


# --- uniqueness -------------------------------------------------------------------------


def constraint_violated(exc: BaseException, sqlite_text: str, pg_name: str) -> bool:
    message = str(exc)
    return sqlite_text in message or pg_name in message


def test_second_message_with_same_channel_and_external_id_is_refused(db: Database) -> None:
    seed(db, "dup-1")
    with db.read() as session:
        conv_id = session.exec(select(Conversation.id)).one()
    assert conv_id is not None
    with pytest.raises(sa_exc.IntegrityError) as info, db.write() as session:
        session.add(
            Message(
                conversation_id=conv_id,
                channel="x",
                direction="inbound",
                body="again",
                external_id="dup-1",
                created_at=NOW,
                recorded_at=NOW,
            )
        )
    assert constraint_violated(
        info.value,
        "UNIQUE constraint failed: message.channel, message.external_id",
        "uq_message_external",
    )
    # The same external id on another channel is a different message.
    with db.write() as session:
        session.add(
            Message(
                conversation_id=conv_id,
                channel="facebook",
                direction="inbound",
                body="other channel",
                external_id="dup-1",
                created_at=NOW,
                recorded_at=NOW,
            )
        )
    with db.read() as session:
        assert len(session.exec(select(Message)).all()) == 2


def test_conversation_thread_and_customer_identity_are_unique(db: Database) -> None:
    seed(db, "t-1")
    with db.read() as session:
        conv = session.exec(select(Conversation)).one()
        customer_id = conv.customer_id
    with pytest.raises(sa_exc.IntegrityError) as info, db.write() as session:
        session.add(
            Conversation(
                channel="x",
                thread_key="t-1",
                customer_id=customer_id,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    assert constraint_violated(
        info.value,
        "UNIQUE constraint failed: conversation.channel, conversation.thread_key",
        "uq_conversation_thread",
    )
    with pytest.raises(sa_exc.IntegrityError) as info, db.write() as session:
        session.add(Customer(channel="x", platform_user_id="u1", created_at=NOW))
    assert constraint_violated(
        info.value,
        "UNIQUE constraint failed: customer.channel, customer.platform_user_id",
        "uq_customer_identity",
    )
