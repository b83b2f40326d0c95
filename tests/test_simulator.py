"""The demo's live simulator: arrivals go through ingest, land at `now`, and survive errors."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.demo import arriving
from frontdesk.core.desk import Desk
from frontdesk.core.errors import DatabaseBusy
from frontdesk.core.queue import QueueFilter
from frontdesk.core.simulator import Simulator

NOW = datetime(2026, 11, 23, 14, 0, 7, tzinfo=UTC)


def test_an_arrival_is_one_new_conversation_sent_now() -> None:
    rng = random.Random(3)
    seen: set[str] = set()
    for _ in range(200):
        messages = arriving(rng, now=NOW)
        assert len(messages) == 1
        (msg,) = messages
        assert datetime.fromisoformat(msg["created_at"]) == NOW.replace(microsecond=0)
        assert msg["channel"] in ("x", "facebook", "email") and msg["text"].strip()
        seen.add(msg["channel"])
    assert seen == {"x", "facebook", "email"}


def test_steps_add_conversations_to_the_live_queue(db: Database) -> None:
    desk = Desk(Settings(), "demo-feed", db=db)
    sim = Simulator(desk, seed=11, clock=lambda: NOW)
    for _ in range(5):
        assert sim.step() == 1
    assert sim.sent == 5
    rows = desk.queue(QueueFilter(limit=10))
    assert len(rows) == 5
    assert all(r.conversation.status == "new" for r in rows)


def test_the_feed_keeps_going_through_a_busy_database(db: Database) -> None:
    desk = Desk(Settings(), "demo-feed", db=db)
    sim = Simulator(desk, interval=(0.01, 0.02), seed=5)
    real_ingest = desk.ingest
    calls = {"n": 0}

    def flaky(lines):
        calls["n"] += 1
        if calls["n"] == 2:
            raise DatabaseBusy("the database is busy")
        return real_ingest(lines)

    desk.ingest = flaky  # type: ignore[method-assign]
    sim.start()
    deadline = time.monotonic() + 20
    while sim.sent < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    sim.stop()
    assert sim.errors == 1
    assert sim.sent >= 4
    assert desk.queue_count(QueueFilter()) == sim.sent
