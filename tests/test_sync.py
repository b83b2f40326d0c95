"""SyncService against the fake X: messages land once, replies go once, every send fault."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from frontdesk.core import ingest, outbox
from frontdesk.core.clock import as_utc
from frontdesk.core.config import Settings, SlaSettings
from frontdesk.core.connectors.base import Reply
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import DatabaseBusy, InvalidInput
from frontdesk.core.models import Message
from frontdesk.core.models_channels import ChannelState, OutboxItem
from frontdesk.core.sync import READBACK_DELAY, SyncService
from frontdesk.core.sync_status import ServiceStatus, headline, service_status
from tests.fakes.connect import x_connector
from tests.fakes.platform import (
    CONNECT_ERROR,
    DROP_AFTER_COMMIT,
    DUPLICATE_DELIVERY,
    SERVER_ERROR,
    THROTTLE,
    TIMEOUT_AFTER_COMMIT,
    TRUNCATE_PAGE,
    FakeClock,
)
from tests.fakes.x import FakeX

ACCOUNT = "acme_x"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
def service(db: Database, fake: FakeX, clock: FakeClock) -> SyncService:
    connector = x_connector(fake, clock, page_size=5)
    return SyncService(db, {ACCOUNT: connector}, sla=SlaSettings(), clock=clock)


@pytest.fixture
def desk(db: Database, clock: FakeClock) -> Desk:
    return Desk(Settings(), "alice", db=db, clock=clock)


def inbound(db: Database) -> list[str]:
    with db.read() as session:
        query = select(Message.external_id).where(Message.direction == "inbound")
        return [str(e) for e in session.exec(query.order_by(col(Message.id)))]


def cursor(db: Database) -> dict[str, str]:
    with db.read() as session:
        state = session.get(ChannelState, ACCOUNT)
        return json.loads(state.cursor["value"]) if state and state.cursor else {}


def reply(db: Database, desk: Desk, external_id: str, text: str) -> int:
    """An operator answers the conversation holding `external_id`; returns the outbox id."""
    with db.read() as session:
        query = select(Message.conversation_id).where(Message.external_id == external_id)
        conversation_id = session.exec(query).one()
    desk.claim(conversation_id)
    outcome = desk.reply(conversation_id, text)
    assert outcome.message is not None
    with db.read() as session:
        item = select(OutboxItem.id).where(OutboxItem.message_id == outcome.message.id)
        return int(session.exec(item).one() or 0)


def service_status_now(db: Database) -> ServiceStatus:
    with db.read() as session:
        return service_status(session)


def row(db: Database, item_id: int) -> OutboxItem:
    with db.read() as session:
        return outbox.get(session, item_id)


def test_messages_land_once_through_duplicates_and_truncated_pages(db, fake, service) -> None:
    jane, omar = fake.user("jane"), fake.user("omar")
    posts = [fake.mention(jane if n % 2 else omar, f"question {n}") for n in range(12)]
    dm = fake.dm(jane, "a private detail")
    fake.faults.arm(TRUNCATE_PAGE, "mentions", times=2)
    report = service.poll(ACCOUNT)
    assert (report.counts["accepted"], report.errors) == (13, [])
    assert sorted(inbound(db)) == sorted([p.id for p in posts] + [dm.id])
    assert cursor(db)["mentions"] == max(p.id for p in posts)

    later = fake.mention(omar, "one more")
    fake.faults.arm(DUPLICATE_DELIVERY, "mentions")
    report = service.poll(ACCOUNT)
    assert report.counts["accepted"] == 1 and inbound(db).count(later.id) == 1
    # A crash after ingest committed but before the cursor was stored: everything is read
    # again and ingest keeps none of it twice.
    with db.write() as session:
        state = session.get(ChannelState, ACCOUNT)
        assert state is not None
        state.cursor = {}
        session.add(state)
    report = service.poll(ACCOUNT)
    assert (report.counts["fetched"], report.counts["accepted"]) == (14, 0)
    assert report.counts["duplicates"] == 14
    assert len(inbound(db)) == len(set(inbound(db))) == 14


def test_the_cursor_moves_only_after_the_messages_commit(db, fake, service, monkeypatch) -> None:
    fake.mention(fake.user("jane"), "first")
    service.poll(ACCOUNT)
    before = cursor(db)
    newer = fake.mention(fake.user("omar"), "second")

    def busy(*args: object, **kwargs: object) -> ingest.IngestReport:
        raise DatabaseBusy("database is locked by another writer")

    monkeypatch.setattr(ingest, "ingest_stream", busy)
    with pytest.raises(DatabaseBusy):
        service.poll(ACCOUNT)
    assert cursor(db) == before and newer.id not in inbound(db)
    monkeypatch.undo()
    service.poll(ACCOUNT)
    assert newer.id in inbound(db) and cursor(db)["mentions"] == newer.id


def test_public_and_private_replies_go_once(db, fake, service, desk) -> None:
    jane = fake.user("jane")
    post = fake.mention(jane, "where is my order?")
    fake.dm(fake.user("omar"), "my address changed")
    service.poll(ACCOUNT)
    public = reply(db, desk, post.id, "Checking, Jane")
    private = reply(db, desk, inbound(db)[1], "Noted, Omar")
    assert service.drain(ACCOUNT).counts == {"sent": 2}
    assert service.drain(ACCOUNT).counts == {}
    (posted,) = fake.replies()
    (dm,) = fake.sent_dms()
    assert (posted.text, posted.replied_to, dm.text) == ("Checking, Jane", post.id, "Noted, Omar")
    assert (row(db, public).state, row(db, public).external_id) == ("sent", posted.id)
    assert (row(db, private).state, row(db, private).external_id) == ("sent", dm.id)
    with db.read() as session:
        ours = session.exec(select(Message.external_id).where(Message.direction == "outbound"))
        assert sorted(str(e) for e in ours) == sorted([posted.id, dm.id])
    # Our own reply read back from the platform is not a new customer message.
    assert service.poll(ACCOUNT).counts.get("accepted", 0) == 0


def test_a_connect_error_fails_safely_and_retries_at_the_backoff(db, fake, service, desk, clock):
    post = fake.mention(fake.user("jane"), "hello?")
    service.poll(ACCOUNT)
    item = reply(db, desk, post.id, "Hello Jane")
    fake.faults.arm(CONNECT_ERROR, "tweets.create")
    assert service.drain(ACCOUNT).counts == {"failed": 1}
    failed = row(db, item)
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.next_attempt_at is not None and "cannot connect" in failed.last_error
    assert outbox.backoff(1, clock()) == clock() + timedelta(seconds=outbox.RETRY_BACKOFF[0])
    posts_before = len(fake.requests_to("tweets.create"))
    assert service.drain(ACCOUNT).counts == {}  # not before its time
    assert len(fake.requests_to("tweets.create")) == posts_before
    clock.advance(outbox.RETRY_BACKOFF[0])
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    assert (row(db, item).state, row(db, item).attempts, len(fake.replies())) == ("sent", 2, 1)


@pytest.mark.parametrize("fault", [SERVER_ERROR, TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_an_ambiguous_send_is_read_back_before_any_resend(
    db, fake, service, desk, clock, fault
) -> None:
    post = fake.mention(fake.user("jane"), "refund?")
    service.poll(ACCOUNT)
    item = reply(db, desk, post.id, "Your refund is on its way")
    fake.faults.arm(fault, "tweets.create")
    assert service.drain(ACCOUNT).counts == {"unknown": 1}
    assert row(db, item).state == "unknown"
    stored = len(fake.replies())
    assert stored == (0 if fault == SERVER_ERROR else 1)  # a 5xx stored nothing, X may not
    assert service.drain(ACCOUNT).counts == {}  # the platform gets time to show it
    clock.advance(READBACK_DELAY.total_seconds())
    report = service.drain(ACCOUNT)
    assert report.counts == ({"sent": 1} if stored == 0 else {"found": 1, "sent": 1})
    (posted,) = fake.replies()
    assert (row(db, item).state, row(db, item).external_id) == ("sent", posted.id)
    assert len(fake.requests_to("tweets.create")) == 2 - stored


def test_a_throttled_send_waits_for_the_reset(db, fake, service, desk, clock) -> None:
    first, second = (fake.mention(fake.user(n), "hi") for n in ("jane", "omar"))
    service.poll(ACCOUNT)
    one, two = reply(db, desk, first.id, "Hi Jane"), reply(db, desk, second.id, "Hi Omar")
    fake.faults.arm(THROTTLE, "tweets.create", reset_in=900)
    report = service.drain(ACCOUNT)
    reset = clock() + timedelta(seconds=900)
    assert (report.counts, report.retry_at) == ({"failed": 1}, reset)
    throttled = row(db, one)
    assert throttled.state == "failed" and throttled.next_attempt_at is not None
    assert as_utc(throttled.next_attempt_at) == reset
    assert row(db, two).state == "queued"
    status = service_status_now(db)
    assert "acme_x rate-limited until 09:15" in headline(status, clock())
    assert status.outbox.failed == 1 and status.outbox.queued == 1
    clock.advance(600)
    assert service.drain(ACCOUNT).retry_at == reset  # nothing is even tried
    assert len(fake.requests_to("tweets.create")) == 1
    clock.advance(300)
    assert service.drain(ACCOUNT).counts == {"sent": 2}
    assert sorted(p.text for p in fake.replies()) == ["Hi Jane", "Hi Omar"]
    service.poll(ACCOUNT)
    assert headline(service_status_now(db), clock()) == "channels ok"


def test_a_refusal_fails_for_good_until_an_operator_retries(db, fake, service, desk, clock):
    post = fake.mention(fake.user("jane"), "help")
    service.poll(ACCOUNT)
    item = reply(db, desk, post.id, "We are on it")
    fake.faults.arm(SERVER_ERROR, "tweets.create", status=403)
    assert service.drain(ACCOUNT).counts == {"failed": 1}
    refused = row(db, item)
    assert (refused.state, refused.next_attempt_at) == ("failed", None)
    assert "X refused it" in refused.last_error
    clock.advance(86_400)
    assert service.drain(ACCOUNT).counts == {} and fake.replies() == []
    assert "1 reply not sent" in headline(service_status_now(db), clock())
    assert desk.retry_send(item).state == "queued"
    with pytest.raises(InvalidInput, match="is queued, not failed"):
        desk.retry_send(item)
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    assert (row(db, item).state, row(db, item).attempts, len(fake.replies())) == ("sent", 2, 1)


def test_a_stopped_sender_is_recovered_by_reading_back(db, fake, service, desk, clock) -> None:
    post = fake.mention(fake.user("jane"), "status?")
    service.poll(ACCOUNT)
    sent_before_crash = reply(db, desk, post.id, "Shipped today")
    # The process died after X stored the post and before the outcome was recorded.
    with db.write() as session:
        assert outbox.take(
            session, sent_before_crash, expected="queued", new="sending", now=clock()
        )
    connector = service.connectors[ACCOUNT]
    connector.send_public_reply(Reply("Shipped today", "k", in_reply_to=post.id))
    assert service.recover() == {"replies": 1, "posts": 0}
    assert row(db, sent_before_crash).state == "unknown"
    assert service.drain(ACCOUNT).counts == {"found": 1, "sent": 1}
    assert len(fake.replies()) == 1


def test_rows_of_other_channels_are_left_to_their_accounts(db, fake, service, desk) -> None:
    lines = [
        json.dumps(
            {
                "channel": "email",
                "external_id": "<m1@example.com>",
                "text": "hello by mail",
                "created_at": "2025-03-03T08:00:00+00:00",
                "author": {"id": "ann@example.com", "name": "Ann"},
                "visibility": "private",
            }
        )
    ]
    desk.ingest(lines)
    mail = reply(db, desk, "<m1@example.com>", "Hello Ann")
    assert service.drain(ACCOUNT).counts == {}
    assert row(db, mail).state == "queued" and fake.log == []


def test_status_shows_the_account_and_the_waiting_reply(db, fake, service, desk) -> None:
    post = fake.mention(fake.user("jane"), "hi")
    service.poll(ACCOUNT)
    reply(db, desk, post.id, "Hello")
    with db.read() as session:
        assert session.exec(select(func.count()).select_from(OutboxItem)).one() == 1
    status = service_status_now(db)
    (account,) = status.accounts
    assert (account.account, account.channel, account.last_error) == (ACCOUNT, "x", "")
    assert json.loads(account.cursor or "{}")["mentions"] == post.id
    assert status.outbox.queued == 1
