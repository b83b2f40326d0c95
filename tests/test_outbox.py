"""The outbox's rows and states: queued with the reply, taken once, recovered, retried."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from frontdesk.core import outbox
from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, StaleVersion
from frontdesk.core.models import Message
from frontdesk.core.models_channels import OutboxItem


def _inbound(ext: str, channel: str, visibility: str, **extra: object) -> str:
    return json.dumps(
        {
            "channel": channel,
            "visibility": visibility,
            "external_id": ext,
            "text": f"help {ext}",
            "created_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            "author": {"id": f"user-{ext}", "handle": f"@h{ext}", "name": "Sam Lee"},
            **extra,
        }
    )


@pytest.fixture
def desk(db: Database) -> Desk:
    desk = Desk(Settings(), "alice", db=db)
    report = desk.ingest(
        [
            _inbound("p1", "x", "public"),
            _inbound("p2", "x", "public", in_reply_to="p1"),
            _inbound("d1", "facebook", "private", thread_id="t_1"),
        ]
    )
    assert report.conversations_created == 2
    return desk


def _reply(desk: Desk, channel: str, body: str) -> Message:
    claim = desk.claim_next()
    while claim is not None and desk.thread(claim.conversation_id).conversation.channel != channel:
        claim = desk.claim_next()
    assert claim is not None
    seen = desk.thread(claim.conversation_id).conversation.version
    outcome = desk.reply(claim.conversation_id, body, seen_version=seen)
    assert outcome.message is not None
    return outcome.message


def _items(db: Database) -> list[OutboxItem]:
    with db.read() as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


def test_a_public_reply_is_queued_answering_the_latest_post(db: Database, desk: Desk) -> None:
    message = _reply(desk, "x", "On it, Sam!")
    (item,) = _items(db)
    assert (item.message_id, item.kind, item.state) == (message.id, "public_reply", "queued")
    assert item.in_reply_to == "p2" and item.recipient is None
    assert item.body == "On it, Sam!"


def test_a_private_reply_goes_to_the_customer(db: Database, desk: Desk) -> None:
    _reply(desk, "facebook", "Thanks, checking now")
    (item,) = _items(db)
    assert (item.kind, item.recipient, item.in_reply_to) == ("private_message", "user-d1", "d1")


def test_a_refused_reply_queues_nothing(db: Database, desk: Desk) -> None:
    claim = desk.claim_next()
    assert claim is not None
    with pytest.raises(StaleVersion):
        desk.reply(claim.conversation_id, "too late", seen_version=-5)
    assert _items(db) == []


def test_only_one_sender_takes_a_row(db: Database, desk: Desk) -> None:
    _reply(desk, "x", "hello")
    (item,) = _items(db)
    assert item.id is not None
    now = utcnow()
    with db.write() as first:
        assert outbox.take(first, item.id, expected="queued", new="sending", now=now)
    with db.write() as second:
        assert not outbox.take(second, item.id, expected="queued", new="sending", now=now)
    (item,) = _items(db)
    assert (item.state, item.attempts) == ("sending", 1)


def test_interrupted_sends_become_unknown_and_failures_retry(db: Database, desk: Desk) -> None:
    _reply(desk, "x", "hello")
    (item,) = _items(db)
    assert item.id is not None
    now = utcnow()
    with db.write() as session:
        outbox.take(session, item.id, expected="queued", new="sending", now=now)
    with db.write() as session:
        assert outbox.recover_interrupted(session, now=now) == 1
        assert outbox.depth(session) == outbox.Depth(queued=0, failed=0, unknown=1, sending=0)
    with db.write() as session, pytest.raises(InvalidInput, match="is unknown, not failed"):
        outbox.retry(session, item.id, operator="alice", now=now)
    with db.write() as session:
        row = outbox.get(session, item.id)
        outbox.mark_failed(session, row, error="refused", now=now, retry_at=None)
    with db.read() as session:
        assert outbox.due(session, now=now + timedelta(days=1)) == []  # no automatic retry
    with db.write() as session:
        assert outbox.retry(session, item.id, operator="alice", now=now).state == "queued"
    with db.read() as session:
        assert [i.id for i in outbox.due(session, now=now)] == [item.id]


def test_sent_keeps_the_platform_id_on_the_message(db: Database, desk: Desk) -> None:
    message = _reply(desk, "x", "hello")
    (item,) = _items(db)
    with db.write() as session:
        outbox.mark_sent(
            session, outbox.get(session, item.id or 0), external_id="999", now=utcnow()
        )
    with db.read() as session:
        stored = session.get(Message, message.id)
        assert stored is not None and stored.external_id == "999"
        assert outbox.depth(session) == outbox.Depth(0, 0, 0, 0)


def test_backoff_grows_then_holds() -> None:
    now = utcnow()
    waits = [(outbox.backoff(n, now) - now).total_seconds() for n in range(1, 8)]
    assert waits == sorted(waits) and waits[0] == 30 and waits[-1] == waits[-2] == 3600
