"""The Facebook Page connector reading the stateful Graph fake: Messenger, comments, paging."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.facebook import FacebookConnector
from tests.fakes.connect import facebook_connector
from tests.fakes.facebook import FakeFacebook
from tests.fakes.platform import (
    DUPLICATE_DELIVERY,
    TRUNCATE_PAGE,
    FakeClock,
)
from tests.fakes.server import serve


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeFacebook:
    return FakeFacebook(clock)


def connect(fake: FakeFacebook, clock: FakeClock, **overrides: Any) -> FacebookConnector:
    return facebook_connector(fake, clock, **overrides)


def test_first_poll_reads_messenger_and_comments_as_ingest_messages(fake, clock) -> None:
    jane, omar = fake.person("Jane"), fake.person("Omar")
    sale = fake.post("Spring sale starts today")
    dm = fake.message_from(jane, "my order #12 is late")
    question = fake.comment(omar, sale.id, "is shipping free?")
    follow_up = fake.comment(jane, question.id, "same question here")
    result = connect(fake, clock).fetch(None)
    assert result.problems == []
    by_id = {m.external_id: m for m in result.messages}
    assert set(by_id) == {dm.id, question.id, follow_up.id}
    private = by_id[dm.id]
    assert (private.channel, private.visibility, private.text) == (
        "facebook",
        "private",
        "my order #12 is late",
    )
    assert (private.author.id, private.author.name) == (jane.psid, "Jane")
    assert by_id[question.id].visibility == "public"
    assert by_id[question.id].in_reply_to == sale.id
    assert by_id[follow_up.id].in_reply_to == question.id
    assert by_id[question.id].url == f"https://www.facebook.com/{sale.id}?comment_id={question.id}"
    assert set(json.loads(result.cursor or "")) == {"messenger", "comments"}


def test_the_watermark_keeps_later_polls_to_what_is_new(fake, clock) -> None:
    connector = connect(fake, clock, overlap_seconds=60)
    jane = fake.person("Jane")
    sale = fake.post("Sale")
    first_dm = fake.message_from(jane, "hello")
    first_comment = fake.comment(jane, sale.id, "nice")
    first = connector.fetch(None)
    clock.advance(120)  # past the overlap: nothing old is read again
    quiet = connector.fetch(first.cursor)
    assert quiet.messages == []
    newer_dm = fake.message_from(jane, "still there?")
    newer_comment = fake.comment(jane, sale.id, "when does it end?")
    later = connector.fetch(quiet.cursor)
    assert {m.external_id for m in later.messages} == {newer_dm.id, newer_comment.id}
    assert first_dm.id not in {m.external_id for m in later.messages}
    assert first_comment.id not in {m.external_id for m in later.messages}


def test_a_late_arrival_stamped_before_the_watermark_is_read_once(fake, clock) -> None:
    """Meta's times are to the second and its lists are not snapshots: a message can show
    up after a poll with a time at (or just before) the watermark. The overlap reads it;
    the ids remembered with the watermark keep the rest from being handed out again."""
    connector = connect(fake, clock, overlap_seconds=300)
    jane, omar = fake.person("Jane"), fake.person("Omar")
    clock.advance(10)
    early = fake.message_from(jane, "hello")
    first = connector.fetch(None)
    late = fake.world.add_message(
        omar.psid, fake.page.psid, "me too", clock() - timedelta(seconds=5)
    )
    second = connector.fetch(first.cursor)
    assert [m.external_id for m in second.messages] == [late.id]
    third = connector.fetch(second.cursor)
    assert third.messages == [] and early.id in json.loads(third.cursor or "")["messenger"]["seen"]


def test_every_page_is_followed_through_short_and_empty_pages(fake, clock) -> None:
    people = [fake.person(f"Customer {n}") for n in range(60)]
    for n, person in enumerate(people):
        clock.advance(1)
        fake.message_from(person, f"message {n}")
    fake.faults.arm(TRUNCATE_PAGE, "conversations", times=2)
    fake.faults.arm(TRUNCATE_PAGE, "conversations", empty=True)
    result = connect(fake, clock, page_size=25, comments=False).fetch(None)
    assert sorted(m.text for m in result.messages) == sorted(f"message {n}" for n in range(60))
    assert len(fake.requests_to("conversations")) >= 4


def test_max_pages_bounds_the_backfill_and_later_polls_read_to_the_watermark(fake, clock) -> None:
    connector = connect(fake, clock, page_size=5, max_pages=2, comments=False)
    for n in range(12):
        clock.advance(600)
        fake.message_from(fake.person(f"Early {n}"), f"early {n}")
    first = connector.fetch(None)
    # The first poll reads two pages, newest first; the two oldest stay unread.
    assert sorted(m.text for m in first.messages) == sorted(f"early {n}" for n in range(2, 12))
    clock.advance(3600)
    for n in range(23):
        fake.message_from(fake.person(f"Late {n}"), f"late {n}")
    second = connector.fetch(first.cursor)
    assert sorted(m.text for m in second.messages) == sorted(f"late {n}" for n in range(23))


def test_items_delivered_twice_on_a_page_come_once(fake, clock) -> None:
    jane = fake.person("Jane")
    fake.message_from(jane, "one")
    fake.faults.arm(DUPLICATE_DELIVERY, "conversation.messages")
    result = connect(fake, clock, comments=False).fetch(None)
    ids = [m.external_id for m in result.messages]
    assert len(ids) == 2 and len(set(ids)) == 1  # the page repeats it; ingest drops one


def test_unix_timestamps_are_read_as_well_as_iso_ones(fake, clock) -> None:
    fake.epoch_times = True
    dm = fake.message_from(fake.person("Jane"), "hello")
    (message,) = connect(fake, clock, comments=False).fetch(None).messages
    assert message.created_at == dm.created


def test_a_hidden_author_becomes_an_anonymous_customer_of_one_comment(fake, clock) -> None:
    sale = fake.post("Sale")
    comment = fake.comment(fake.person("Jane"), sale.id, "hi")

    def without_from(request: httpx.Request) -> httpx.Response:
        response: httpx.Response = fake(request)
        if request.url.path.endswith("/comments"):
            body = response.json()
            for item in body["data"]:
                item.pop("from", None)
            return httpx.Response(200, json=body)
        return response

    connector = connect(fake, clock, messenger=False, transport=httpx.MockTransport(without_from))
    (message,) = connector.fetch(None).messages
    assert message.author.id == f"anonymous:{comment.id}"


def test_over_a_real_socket_the_fake_serves_the_connector(fake, clock) -> None:
    with serve(fake) as base_url:
        connector = connect(fake, clock, base_url=base_url, transport=httpx.HTTPTransport())
        sale = httpx.post(f"{base_url}/_fake/post", json={"text": "Sale"}).json()["id"]
        httpx.post(f"{base_url}/_fake/inbound_message", json={"name": "Jane", "text": "hello"})
        httpx.post(
            f"{base_url}/_fake/comment", json={"name": "Omar", "target": sale, "text": "price?"}
        )
        result = connector.fetch(None)
        assert sorted(m.text for m in result.messages) == ["hello", "price?"]
        jane = fake.person("Jane")
        connector.send_private_message(Reply("Hi Jane", "k1", recipient=jane.psid))
        history = httpx.get(f"{base_url}/_fake/history").json()
        connector.close()
    assert [m["text"] for m in history["messages"] if m["from"] == fake.page.psid] == ["Hi Jane"]
