"""The queue's filters and counts, on every backend: what each filter lets through."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation
from frontdesk.core.queue import QueueFilter


def _line(n: int, channel: str, minutes_ago: int) -> str:
    return json.dumps(
        {
            "channel": channel,
            "external_id": f"q{n}",
            "text": f"message {n}",
            "created_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
            "author": {"id": f"a{n}", "handle": f"@a{n}", "name": f"A {n}"},
            "visibility": "private" if channel == "email" else "public",
        }
    )


@pytest.fixture
def desk(db: Database) -> Desk:
    """Nine conversations: three per channel, with tags and teams on some."""
    desk = Desk(Settings(), "alice", db=db)
    channels = ["x", "facebook", "email"] * 3
    report = desk.ingest([_line(n, ch, 10 + n) for n, ch in enumerate(channels)])
    assert report.conversations_created == 9
    with db.write() as session:
        convs = session.exec(select(Conversation).order_by(col(Conversation.id))).all()
        convs[0].tags = ["refund", "vip"]
        convs[1].tags = ["refund"]
        convs[2].tags = ["vipx"]  # a near miss: tags match whole, never by substring
        convs[3].team = "billing"
        convs[4].team = "billing"
        convs[5].team = "sales"
        for conv in convs:
            session.add(conv)
    return desk


def _ids(desk: Desk, flt: QueueFilter) -> list[int]:
    return [r.conversation.id for r in desk.queue(flt) if r.conversation.id is not None]


def test_tag_filter_matches_whole_tags(desk: Desk) -> None:
    assert len(_ids(desk, QueueFilter(tag="refund"))) == 2
    vip = desk.queue(QueueFilter(tag="vip"))
    assert [r.conversation.tags for r in vip] == [["refund", "vip"]]
    assert desk.queue_count(QueueFilter(tag="vi")) == 0
    assert desk.queue_count(QueueFilter(tag="nothing")) == 0


def test_team_filter_and_combinations(desk: Desk) -> None:
    assert desk.queue_count(QueueFilter(team="billing")) == 2
    assert desk.queue_count(QueueFilter(team="sales")) == 1
    billing_fb = desk.queue(QueueFilter(team="billing", channel="facebook"))
    assert [r.conversation.channel for r in billing_fb] == ["facebook"]
    assert desk.queue_count(QueueFilter(team="billing", tag="refund")) == 0


def test_channel_mine_unclaimed_and_breaching(desk: Desk) -> None:
    assert desk.queue_count(QueueFilter(channel="email")) == 3
    claim = desk.claim_next()
    assert claim is not None
    now = desk.clock()
    assert _ids(desk, QueueFilter(mine_of="alice")) == [claim.conversation_id]
    unclaimed = _ids(desk, QueueFilter(unclaimed_at=now))
    assert claim.conversation_id not in unclaimed and len(unclaimed) == 8
    # Nothing is late now; an hour and a day on, the x (30 min) ones are, then all.
    assert desk.queue_count(QueueFilter(breaching_at=now)) == 0
    assert desk.queue_count(QueueFilter(breaching_at=now + timedelta(hours=1))) == 6
    assert desk.queue_count(QueueFilter(breaching_at=now + timedelta(days=2))) == 9


def test_listing_is_most_urgent_first_and_pages(desk: Desk) -> None:
    rows = desk.queue(QueueFilter(limit=100))
    dues = [r.conversation.sla_due_at for r in rows]
    assert dues == sorted(d for d in dues if d is not None)
    page = desk.queue(QueueFilter(limit=3, offset=3))
    assert [r.conversation.id for r in page] == [r.conversation.id for r in rows[3:6]]
    counts = desk.counts()
    assert (counts.open, counts.unclaimed, counts.breaching, counts.mine) == (9, 9, 0, 0)
