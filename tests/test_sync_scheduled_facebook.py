"""Scheduled posts on a Facebook Page: on time, read back after a timeout, on the Page once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk.core import scheduled
from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models_channels import ScheduledPost
from frontdesk.core.sync import SyncService
from tests.fakes.connect import facebook_connector
from tests.fakes.facebook import FakeFacebook
from tests.fakes.platform import (
    DROP_AFTER_COMMIT,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
    FakeClock,
)

ACCOUNT = "acme_fb"
WEEK = timedelta(days=7).total_seconds()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeFacebook:
    return FakeFacebook(clock)


@pytest.fixture
def service(db: Database, fake: FakeFacebook, clock: FakeClock) -> SyncService:
    connector = facebook_connector(fake, clock)
    service = SyncService(db, {ACCOUNT: connector}, sla=SlaSettings(), clock=clock)
    assert service.poll(ACCOUNT).errors == []  # sync has seen the Page: posts may name it
    return service


def add(db: Database, text: str, clock: FakeClock, *, later: float = 0) -> int:
    with db.write() as session:
        post = scheduled.schedule(
            session,
            account=ACCOUNT,
            body=text,
            publish_at=clock() + timedelta(seconds=later),
            by="alice",
            now=clock(),
        )
        assert post.id is not None
        return post.id


def get(db: Database, post_id: int) -> ScheduledPost:
    with db.read() as session:
        post = session.get(ScheduledPost, post_id)
        assert post is not None
        return post


def test_a_page_post_goes_out_on_time_and_once(db, service, fake, clock) -> None:
    post = add(db, "Winter sale from today", clock, later=600)
    assert service.publish(ACCOUNT).counts == {}
    clock.advance(600)
    assert service.publish(ACCOUNT).counts == {"published": 1}
    (made,) = fake.page_posts("Winter sale from today")
    (request,) = fake.requests_to("feed.create")
    assert request.path == f"/v23.0/{fake.page.psid}/feed"
    assert request.body == {"message": "Winter sale from today"}
    assert (get(db, post).state, get(db, post).external_id) == ("published", made.id)
    assert service.publish(ACCOUNT).counts == {}
    # Our own post is no customer message: polling the Page again brings nothing in.
    assert service.poll(ACCOUNT).counts.get("accepted", 0) == 0


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_a_post_stored_before_the_answer_was_lost_is_read_back_not_repeated(
    db, service, fake, clock, fault
) -> None:
    post = add(db, "New store opening", clock)
    fake.faults.arm(fault, "feed.create")
    assert service.publish(ACCOUNT).counts == {"unknown": 1}
    assert get(db, post).state == "unknown" and len(fake.page_posts("New store opening")) == 1
    clock.advance(30)
    assert service.publish(ACCOUNT).counts == {"published": 1}
    (made,) = fake.page_posts("New store opening")  # exactly one on the Page
    assert get(db, post).external_id == made.id
    assert len(fake.requests_to("feed.create")) == 1
    assert service.publish(ACCOUNT).counts == {}


def test_last_weeks_post_of_the_same_text_is_not_taken_for_this_one(
    db, service, fake, clock
) -> None:
    last_week = fake.post("Open on Sunday")
    clock.advance(WEEK)
    post = add(db, "Open on Sunday", clock)
    fake.faults.arm(SERVER_ERROR, "feed.create")  # a 5xx: Meta may or may not have it
    assert service.publish(ACCOUNT).counts == {"unknown": 1}
    assert service.publish(ACCOUNT).counts == {"published": 1}
    earlier, made = fake.page_posts("Open on Sunday")
    assert earlier.id == last_week.id and get(db, post).external_id == made.id


def test_a_page_post_is_checked_against_facebooks_limit(db, service, clock) -> None:
    with db.write() as session, pytest.raises(InvalidInput, match="63207 characters; facebook"):
        scheduled.schedule(
            session, account=ACCOUNT, body="x" * 63_207, publish_at=clock(), by="a", now=clock()
        )
    add(db, "x" * 63_206, clock)
