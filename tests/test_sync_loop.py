"""The sync loop on a fake clock: poll intervals, drains between polls, rest while throttled."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from frontdesk.core import outbox
from frontdesk.core.config import Settings, SlaSettings
from frontdesk.core.connectors.accounts import JsonFeedAccount
from frontdesk.core.connectors.jsonfeed import JsonFeedConnector
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.queue import QueueFilter
from frontdesk.core.sync import SyncService
from frontdesk.core.sync_loop import SyncLoop
from tests.fakes.connect import x_connector
from tests.fakes.jsonfeed import FakeFeed
from tests.fakes.platform import THROTTLE, FakeClock, FakePlatform
from tests.fakes.x import FakeX


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
def feed(clock: FakeClock) -> FakeFeed:
    return FakeFeed(clock, token="feed-secret")


@pytest.fixture
def service(db: Database, fake: FakeX, feed: FakeFeed, clock: FakeClock) -> SyncService:
    table = {
        "type": "jsonfeed",
        "url": "https://feed.example/feed",
        "reply_url": "https://feed.example/replies",
        "channel": "email",
    }
    webchat = JsonFeedConnector(
        "webchat",
        JsonFeedAccount.model_validate(table),
        token="feed-secret",
        transport=feed.transport(),
        clock=clock,
    )
    connectors = {"acme_x": x_connector(fake, clock, direct_messages=False), "webchat": webchat}
    return SyncService(
        db, connectors, sla=SlaSettings(), channels={"webchat": "email"}, clock=clock
    )


def run(
    service: SyncService,
    clock: FakeClock,
    seconds: float,
    *,
    poll: dict[str, float],
    at: Mapping[float, Callable[[], object]] | None = None,
    drain: float = 2.0,
) -> list[float]:
    """Run the loop for `seconds` of fake time; `at` runs actions at given offsets. Returns
    every sleep the loop asked for."""
    start = clock()
    pending = dict(sorted((at or {}).items()))
    sleeps: list[float] = []

    def sleep(delay: float) -> bool:
        sleeps.append(delay)
        wake = clock() + timedelta(seconds=delay)
        for offset in list(pending):
            if start + timedelta(seconds=offset) <= wake:  # an operator acts meanwhile
                clock.now = max(clock.now, start + timedelta(seconds=offset))
                pending.pop(offset)()
        clock.now = wake
        return clock() - start > timedelta(seconds=seconds)

    SyncLoop(service, poll_seconds=poll, drain_seconds=drain, sleep=sleep).run()
    return sleeps


def offsets(platform: FakePlatform, route: str, start: datetime) -> list[float]:
    return [(e.at - start).total_seconds() for e in platform.requests_to(route)]


def answer_everyone(desk: Desk) -> None:
    for row in desk.queue(QueueFilter()):
        conversation = row.conversation.id
        assert conversation is not None
        desk.claim(conversation)
        desk.reply(conversation, f"answer {conversation}")


def test_each_account_is_polled_on_its_own_interval(service, fake, feed, clock) -> None:
    start = clock()
    sleeps = run(service, clock, 300, poll={"acme_x": 60, "webchat": 20})
    assert offsets(fake, "mentions", start) == [0, 60, 120, 180, 240, 300]
    assert offsets(feed, "feed", start) == [20.0 * n for n in range(16)]
    assert min(sleeps) > 0  # it always waits for something; it never spins


def test_replies_go_at_the_drain_interval_through_their_channel_account(
    db, service, fake, feed, clock
) -> None:
    start = clock()
    post = fake.mention(fake.user("jane"), "help")
    feed.publish(text="hello from the web", author={"id": "v1", "name": "Visitor"})
    desk = Desk(Settings(), "alice", db=db, clock=clock)
    answer = {31.0: lambda: answer_everyone(desk)}
    run(service, clock, 120, poll={"acme_x": 60, "webchat": 60}, at=answer)
    (sent,) = offsets(fake, "tweets.create", start)
    (posted,) = offsets(feed, "replies.create", start)
    # Queued at 31 s: sent by the next drain, two seconds apart, not at the next poll (60 s).
    assert 31 <= sent <= 33 and 31 <= posted <= 33
    assert fake.replies()[0].replied_to == post.id
    ((_, stored),) = feed.replies.items()
    assert (stored["in_reply_to"], stored["private"]) == ("feed-1", False)


def test_a_throttled_poll_rests_until_the_reset(service, fake, clock, caplog) -> None:
    start = clock()
    fake.faults.arm(THROTTLE, "mentions", reset_in=900)
    caplog.set_level(logging.INFO, logger="frontdesk.sync")
    sleeps = run(service, clock, 1200, poll={"acme_x": 60, "webchat": 600}, drain=30)
    times = offsets(fake, "mentions", start)
    assert times[:2] == [0, 900]  # no request at all while throttled
    assert times == [0, *range(900, 1201, 60)]
    assert min(sleeps) > 0
    throttled = [r for r in caplog.records if getattr(r, "until", None)]
    assert throttled and throttled[0].account == "acme_x"
    assert throttled[0].levelname == "WARNING"


def test_one_pass_drains_everything_past_the_budget(db, service, fake, clock) -> None:
    posts = [fake.mention(fake.user(f"user{n}"), f"question {n}") for n in range(7)]
    SyncLoop(service, poll_seconds={}).run(once=True)
    answer_everyone(Desk(Settings(), "alice", db=db, clock=clock))
    service.budget = 3
    assert SyncLoop(service, poll_seconds={}).run(once=True) is True
    assert sorted(p.replied_to or "" for p in fake.replies()) == sorted(p.id for p in posts)


def test_a_stop_ends_the_loop_between_steps(service, fake, clock) -> None:
    loop = SyncLoop(service, poll_seconds={"acme_x": 60, "webchat": 60})
    loop.stop.set()
    assert loop.run() is True
    assert fake.log == []


def test_a_refused_sign_in_stops_the_account_and_retries_later(db, service, feed, clock) -> None:
    for n in range(2):
        feed.publish(text=f"question {n}", author={"id": f"v{n}", "name": "Visitor"})
    service.poll("webchat")
    answer_everyone(Desk(Settings(), "alice", db=db, clock=clock))
    feed.token = "rotated-by-the-platform"
    report = service.drain("webchat")
    assert report.counts == {"failed": 1} and "refused the credentials" in report.errors[0]
    with db.read() as session:
        rows = sorted(session.exec(select(OutboxItem)).all(), key=lambda r: r.id or 0)
    assert [r.state for r in rows] == ["failed", "queued"]  # the second was not tried
    assert rows[0].next_attempt_at is not None  # the reply goes once sign-in is fixed
    feed.token = "feed-secret"
    clock.advance(outbox.RETRY_BACKOFF[0])
    assert service.drain("webchat").counts == {"sent": 2}
