"""Scheduled posts: published on time exactly once through the account, or kept back by the
hold switch, which the listing shows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from frontdesk.core import events, scheduled
from frontdesk.core.config import RoleSettings, Settings, SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, NotFound, PermissionDenied
from frontdesk.core.models_channels import ChannelState, ScheduledPost
from frontdesk.core.sync import SyncService
from tests.fakes.connect import x_connector
from tests.fakes.platform import (
    CONNECT_ERROR,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
    FakeClock,
)
from tests.fakes.x import FakeX

ACCOUNT = "acme_x"
TEN_MINUTES = timedelta(minutes=10)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
def service(db: Database, fake: FakeX, clock: FakeClock) -> SyncService:
    connector = x_connector(fake, clock, direct_messages=False)
    service = SyncService(db, {ACCOUNT: connector}, sla=SlaSettings(), clock=clock)
    service.poll(ACCOUNT)  # sync has seen the account: posts may name it
    return service


def add(db: Database, when: datetime, text: str, now: datetime) -> int:
    with db.write() as session:
        post = scheduled.schedule(
            session, account=ACCOUNT, body=text, publish_at=when, by="alice", now=now
        )
        assert post.id is not None
        return post.id


def get(db: Database, post_id: int) -> ScheduledPost:
    with db.read() as session:
        post = session.get(ScheduledPost, post_id)
        assert post is not None
        return post


def listing(db: Database) -> list[tuple[int | None, str]]:
    with db.read() as session:
        held = scheduled.hold_state(session)
        return [(p.id, scheduled.status_of(p, held)) for p in scheduled.posts(session)]


def test_a_post_goes_out_on_time_and_once(db, service, fake, clock) -> None:
    post = add(db, clock() + TEN_MINUTES, "Winter sale from today", clock())
    assert service.publish(ACCOUNT).counts == {}
    assert listing(db) == [(post, "scheduled")]
    clock.advance(TEN_MINUTES.total_seconds())
    assert service.publish(ACCOUNT).counts == {"published": 1}
    (tweet,) = fake.replies()
    assert (tweet.text, tweet.replied_to) == ("Winter sale from today", None)
    assert (get(db, post).state, get(db, post).external_id) == ("published", tweet.id)
    assert service.publish(ACCOUNT).counts == {} and listing(db) == []


def test_the_hold_keeps_every_post_back_and_says_so(db, service, fake, clock) -> None:
    first = add(db, clock(), "Sale!", clock())
    later = add(db, clock() + TEN_MINUTES, "Sale, day two", clock())
    with db.write() as session:
        scheduled.hold(session, by="alice", reason="delivery outage", now=clock())
        again = scheduled.hold(session, by="bob", reason="", now=clock())
    assert (again.by, again.reason) == ("alice", "delivery outage")  # the first hold stands
    clock.advance(TEN_MINUTES.total_seconds())
    assert service.publish(ACCOUNT).counts == {"held": 2}
    assert fake.replies() == [] and listing(db) == [(first, "held"), (later, "held")]

    operator = Desk(Settings(), "alice", db=db, clock=clock).operator()
    with db.write() as session, pytest.raises(PermissionDenied, match="only supervisor"):
        scheduled.release(session, operator=operator, now=clock())
    roles = RoleSettings(supervisors=["sam"])
    supervisor = Desk(Settings(roles=roles), "sam", db=db, clock=clock).operator()
    with db.write() as session:
        released = scheduled.release(session, operator=supervisor, now=clock())
        assert released is not None and released.by == "alice"
        assert scheduled.release(session, operator=supervisor, now=clock()) is None
    assert service.publish(ACCOUNT).counts == {"published": 2}
    assert [p.text for p in fake.replies()] == ["Sale!", "Sale, day two"]
    with db.read() as session:
        kinds = [e.kind for e in events.after(session, 0, limit=1000)]
    assert kinds.count("scheduled.hold") == 1 and kinds.count("scheduled.release") == 1


def test_a_hold_committed_after_sync_looked_still_stops_the_post(db, service, clock) -> None:
    post = add(db, clock(), "Flash sale", clock())
    with db.read() as session:
        (due,) = scheduled.due(session, account=ACCOUNT, now=clock())
    with db.write() as session:
        scheduled.hold(session, by="alice", reason="", now=clock())
    with db.write() as session:
        assert not scheduled.take(session, post, expected=due.state, new="publishing")
    assert get(db, post).state == "scheduled"


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, SERVER_ERROR])
def test_an_ambiguous_publish_is_read_back_not_repeated(db, service, fake, clock, fault) -> None:
    post = add(db, clock(), "New store opening", clock())
    fake.faults.arm(fault, "tweets.create")
    assert service.publish(ACCOUNT).counts == {"unknown": 1}
    assert get(db, post).state == "unknown"
    assert listing(db) == [(post, "unknown")]
    assert service.publish(ACCOUNT).counts == {"published": 1}
    (tweet,) = fake.replies()
    assert get(db, post).external_id == tweet.id
    assert len(fake.requests_to("tweets.create")) == (1 if fault == TIMEOUT_AFTER_COMMIT else 2)


def test_a_refusal_is_final_and_a_safe_failure_retries(db, service, fake, clock) -> None:
    refused = add(db, clock(), "Refused post", clock())
    flaky = add(db, clock(), "Flaky post", clock())
    fake.faults.arm(SERVER_ERROR, "tweets.create", status=403)
    fake.faults.arm(CONNECT_ERROR, "tweets.create", skip=1)
    assert service.publish(ACCOUNT).counts == {"failed": 1, "retry": 1}
    assert get(db, refused).state == "failed" and "X refused it" in get(db, refused).last_error
    assert get(db, flaky).state == "scheduled" and "cannot connect" in get(db, flaky).last_error
    assert service.publish(ACCOUNT).counts == {"published": 1}
    assert [p.text for p in fake.replies()] == ["Flaky post"]
    assert listing(db) == [(refused, "failed")]


def test_a_post_left_publishing_by_a_stop_is_read_back(db, service, fake, clock) -> None:
    post = add(db, clock(), "Opening hours change", clock())
    with db.write() as session:
        assert scheduled.take(session, post, expected="scheduled", new="publishing")
    assert service.recover() == {"replies": 0, "posts": 1}
    assert service.publish(ACCOUNT).counts == {"published": 1}
    assert len(fake.replies()) == 1


def test_a_post_can_be_cancelled_until_it_goes(db, service, fake, clock) -> None:
    waiting = add(db, clock() + TEN_MINUTES, "Wrong price in this one", clock())
    with db.write() as session:
        assert scheduled.cancel(session, waiting, by="alice", now=clock()).state == "cancelled"
    gone = add(db, clock() + TEN_MINUTES, "Right price", clock())
    clock.advance(TEN_MINUTES.total_seconds())
    assert service.publish(ACCOUNT).counts == {"published": 1}
    assert [p.text for p in fake.replies()] == ["Right price"]
    with db.write() as session, pytest.raises(InvalidInput, match="is published"):
        scheduled.cancel(session, gone, by="alice", now=clock())
    with db.write() as session, pytest.raises(NotFound):
        scheduled.cancel(session, 999, by="alice", now=clock())
    assert listing(db) == []
    with db.read() as session:
        shown = [(p.id, p.state) for p in scheduled.posts(session, everything=True)]
    assert shown == [(waiting, "cancelled"), (gone, "published")]


def test_scheduling_refuses_what_could_not_go(db, service, clock) -> None:
    now = clock()
    with db.write() as session:
        session.add(ChannelState(account="mail", channel="email", updated_at=now))
    cases = [
        ("unknown", "hello", now, "never polled an account named 'unknown'"),
        (ACCOUNT, "   ", now, "the post is empty"),
        (ACCOUNT, "hello", now - timedelta(hours=1), "is in the past"),
        (ACCOUNT, "x" * 281, now, "281 characters as X counts them"),
        ("mail", "hello", now, "mail is on email"),
    ]
    for account, body, when, error in cases:
        with db.write() as session, pytest.raises(InvalidInput, match=error):
            scheduled.schedule(
                session, account=account, body=body, publish_at=when, by="alice", now=now
            )
    with db.read() as session:
        assert session.exec(select(ScheduledPost)).all() == []
