"""Reading back after an ambiguous send finds this reply, never an older one of the same text."""

from __future__ import annotations

import pytest
from sqlmodel import select

from frontdesk.core.config import Settings, SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation
from frontdesk.core.sync import READBACK_DELAY, SyncService
from tests.fakes.connect import x_connector
from tests.fakes.platform import SERVER_ERROR, FakeClock
from tests.fakes.x import FakeX
from tests.test_sync import ACCOUNT, reply, row

TEMPLATE = "Thanks for waiting, we are looking into it now."


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
def service(db: Database, fake: FakeX, clock: FakeClock) -> SyncService:
    return SyncService(db, {ACCOUNT: x_connector(fake, clock)}, sla=SlaSettings(), clock=clock)


@pytest.fixture
def desk(db: Database, clock: FakeClock) -> Desk:
    return Desk(Settings(), "alice", db=db, clock=clock)


def test_an_older_identical_reply_is_not_taken_for_the_lost_one(
    db, fake, service, desk, clock
) -> None:
    post = fake.mention(fake.user("jane"), "any news on my order?")
    service.poll(ACCOUNT)
    first = reply(db, desk, post.id, TEMPLATE)
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    clock.advance(3600)
    # The same template an hour later, to the same post; X answers 5xx and stores nothing.
    second = reply(db, desk, post.id, TEMPLATE)
    fake.faults.arm(SERVER_ERROR, "tweets.create")
    assert service.drain(ACCOUNT).counts == {"unknown": 1}
    clock.advance(READBACK_DELAY.total_seconds())
    # Read back: the older reply is not this one, so it goes again, and X refuses the
    # repeat; the operator rewords it. Never marked sent as the older post.
    assert service.drain(ACCOUNT).counts == {"failed": 1}
    (only,) = fake.replies()
    assert row(db, first).external_id == only.id
    lost = row(db, second)
    assert (lost.state, lost.external_id) == ("failed", None)
    assert "identical to a recent one" in lost.last_error


def test_an_older_identical_direct_message_is_not_taken_for_the_lost_one(
    db, fake, service, desk, clock
) -> None:
    event = fake.dm(fake.user("jane"), "where is my parcel?")
    service.poll(ACCOUNT)
    first = reply(db, desk, event.id, TEMPLATE)
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    clock.advance(3600)
    with db.read() as session:
        (conversation,) = session.exec(select(Conversation)).all()
    assert conversation.visibility == "private"
    second = reply(db, desk, event.id, TEMPLATE)
    fake.faults.arm(SERVER_ERROR, "dm.create")
    assert service.drain(ACCOUNT).counts == {"unknown": 1}
    clock.advance(READBACK_DELAY.total_seconds())
    assert service.drain(ACCOUNT).counts == {"sent": 1}
    assert [e.text for e in fake.sent_dms()] == [TEMPLATE, TEMPLATE]
    assert row(db, first).state == row(db, second).state == "sent"
