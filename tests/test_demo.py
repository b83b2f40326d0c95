"""The demo feed: deterministic, valid ingest input, threaded, and never from the future."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.demo import demo_messages
from frontdesk.core.ingest import ingest_stream, parse_line
from frontdesk.core.models import Conversation, Customer

NOW = datetime(2025, 3, 10, 15, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def feed() -> list[dict[str, Any]]:
    return demo_messages(300, now=NOW)


def test_same_seed_same_output(feed):
    assert demo_messages(300, now=NOW) == feed
    assert demo_messages(300, now=NOW, seed=8) != feed


def test_every_message_parses(feed):
    for item in feed:
        msg = parse_line(json.dumps(item))
        assert msg.external_id == item["external_id"]
    assert len({(m["channel"], m["external_id"]) for m in feed}) == len(feed)


def test_channel_and_visibility_mix(feed):
    mix = Counter((m["channel"], m["visibility"]) for m in feed)
    assert set(mix) == {
        ("x", "public"),
        ("x", "private"),
        ("facebook", "public"),
        ("facebook", "private"),
        ("email", "private"),
    }
    assert all(count >= 10 for count in mix.values())


def test_no_message_from_the_future_and_most_are_recent(feed):
    times = [datetime.fromisoformat(m["created_at"]) for m in feed]
    assert all(t.tzinfo is not None and t <= NOW for t in times)
    assert times == sorted(times)
    recent = sum(t > NOW - timedelta(hours=2) for t in times)
    assert recent > len(times) / 2
    assert min(times) < NOW - timedelta(days=7)  # returning customers go back weeks


def test_threads_are_consistent(feed):
    by_id = {(m["channel"], m["external_id"]): m for m in feed}
    threads = Counter(m["thread_id"] for m in feed if "thread_id" in m)
    assert max(threads.values()) >= 3
    replies = [m for m in feed if m["visibility"] == "public" and m.get("in_reply_to")]
    own = [m for m in replies if (m["channel"], m["in_reply_to"]) in by_id]
    assert own, "public follow-ups reply to the customer's own earlier post"
    for m in own:
        parent = by_id[(m["channel"], m["in_reply_to"])]
        assert parent["author"] == m["author"]
        assert datetime.fromisoformat(parent["created_at"]) < datetime.fromisoformat(
            m["created_at"]
        )
    for m in feed:
        if m["channel"] == "email":
            assert m["visibility"] == "private" and m.get("thread_id")


def test_authors_are_stable_and_some_are_influencers(feed):
    authors: dict[tuple[str, str], dict[str, Any]] = {}
    for m in feed:
        key = (m["channel"], m["author"]["id"])
        assert authors.setdefault(key, m["author"]) == m["author"]
    assert any((a.get("followers") or 0) > 50_000 for a in authors.values())


def test_hostile_texts_are_rare_but_present():
    for n in (50, 300, 1000):
        msgs = demo_messages(n, now=NOW)
        hostile = [m for m in msgs if "\x1b" in m["text"] or "[/" in m["text"]]
        assert len(hostile) <= 0.02 * n
        assert hostile or n < 60


def test_texts_vary():
    msgs = demo_messages(1000, now=NOW)
    openings = [m["text"] for m in msgs if not m.get("in_reply_to") and "Re: " not in m["text"]]
    assert len(set(openings)) > 0.8 * len(openings)


def test_small_and_empty_feeds():
    assert demo_messages(0, now=NOW) == []
    assert demo_messages(1, now=NOW)


def test_ingest_300_conversations(db: Database, feed):
    lines = [json.dumps(m) for m in feed]
    report = ingest_stream(db, lines, sla=Settings().sla, actor="demo", now=NOW)
    assert report.rejected == []
    assert report.duplicates == 0
    assert report.accepted == len(feed)
    assert report.conversations_created == 300
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(Conversation)).one() == 300
        due = [c.sla_due_at for c in session.exec(select(Conversation)).all()]
        returning = session.exec(
            select(Conversation.customer_id)
            .group_by(col(Conversation.customer_id))
            .having(func.count() > 1)
        ).all()
        assert session.exec(select(func.count()).select_from(Customer)).one() < 300
    assert len(returning) >= 5
    naive_now = NOW.replace(tzinfo=None)
    stamps = [d.replace(tzinfo=None) for d in due if d is not None]
    assert any(d < naive_now for d in stamps), "some SLAs are breached"
    assert any(d > naive_now for d in stamps), "some SLAs are still running"
