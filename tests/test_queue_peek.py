"""The first frame's stdlib-sqlite3 peek lists what list_queue lists, in the same order."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core import queue, schema
from frontdesk.core.claims import live_holder
from frontdesk.core.db import Database
from frontdesk.core.models import STATUSES, Conversation, Customer
from frontdesk.core.queue import QueueFilter
from frontdesk.core.queue_peek import RowView, peek_open_queue

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    """A migrated SQLite file with 60 conversations: every status, ties, no due time, claims
    live and lapsed, customers with and without a handle, both flags."""
    file = tmp_path / "frontdesk.db"
    db = Database(f"sqlite:///{file}")
    schema.upgrade(db)
    rng = random.Random(7)
    with db.write() as session:
        customers = []
        for n in range(6):
            customer = Customer(
                channel="x",
                platform_user_id=f"u{n}",
                handle=f"@u{n}" if n % 2 else "",
                display_name=f"Name {n}",
                created_at=NOW,
            )
            session.add(customer)
            customers.append(customer)
        session.flush()
        ids = [c.id for c in customers if c.id is not None]
        for n in range(60):
            claim = rng.choice(["none", "live", "lapsed"])
            session.add(
                Conversation(
                    channel=rng.choice(["x", "facebook", "email"]),
                    thread_key=f"t{n}",
                    customer_id=rng.choice(ids),
                    status=rng.choice(STATUSES),
                    priority=rng.choice([0, 0, 1, 2]),
                    claimed_by=None if claim == "none" else "alice",
                    claim_expires_at={
                        "live": NOW + timedelta(minutes=5),
                        "lapsed": NOW - timedelta(minutes=5),
                    }.get(claim),
                    first_inbound_at=NOW - timedelta(minutes=rng.choice([1, 2, 3])),
                    sla_due_at=None
                    if n % 5 == 0
                    else NOW + timedelta(minutes=rng.choice([-30, 10, 10, 60])),
                    sla_warn_at=NOW + timedelta(minutes=1) if n % 3 else None,
                    awaiting_signoff=n % 7 == 0,
                    follow_up="public" if n % 11 == 0 else None,
                    preview=f"message {n} \x1b[31m[b]markup[/b]",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    expected: list[RowView] = []
    with db.read() as session:
        for row in queue.list_queue(session, QueueFilter(limit=25)):
            conv = row.conversation
            expected.append(
                RowView(
                    conv.id or 0,
                    conv.sla_due_at and conv.sla_due_at.replace(tzinfo=UTC),
                    conv.sla_warn_at and conv.sla_warn_at.replace(tzinfo=UTC),
                    conv.channel,
                    row.handle or row.name,
                    conv.preview,
                    live_holder(conv, NOW),
                    conv.status,
                    "sign-off" if conv.awaiting_signoff else "follow-up" if conv.follow_up else "",
                )
            )
        total = queue.count_queue(session, QueueFilter())
    db.dispose()
    file.with_name("expected").write_text(repr((total, expected)))
    yield file


def test_the_peek_is_the_queue_s_first_window(path: Path) -> None:
    answer = peek_open_queue(path, limit=25, now=NOW)
    assert answer is not None
    assert repr(answer) == path.with_name("expected").read_text()
    total, rows = answer
    assert 0 < len(rows) <= 25 < 60 and total >= len(rows)


def test_a_file_that_cannot_answer_gives_none(tmp_path: Path) -> None:
    assert peek_open_queue(tmp_path / "missing.db", limit=5, now=NOW) is None
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    schema.upgrade(old, "0005")  # before the urgency index: the peek must not guess
    old.dispose()
    assert peek_open_queue(tmp_path / "old.db", limit=5, now=NOW) is None
