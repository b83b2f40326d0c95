"""The X connector reading the stateful fake: mentions and direct messages, cursors, paging."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors import x_feeds
from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.errors import PermanentError, TransientError
from frontdesk.core.connectors.x import XConnector
from tests.fakes.connect import x_connector
from tests.fakes.platform import (
    DUPLICATE_DELIVERY,
    SERVER_ERROR,
    TRUNCATE_PAGE,
    FakeClock,
)
from tests.fakes.x import FakeX


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


def connect(fake: FakeX, clock: FakeClock, **overrides: Any) -> XConnector:
    return x_connector(fake, clock, **overrides)


def test_first_poll_reads_mentions_and_direct_messages_as_ingest_messages(fake, clock) -> None:
    jane = fake.user("jane", "Jane Doe", followers=1200)
    mention = fake.mention(jane, "my order #12 is late & the box was <open>")
    clock.advance(30)
    dm = fake.dm(jane, "here is my order number: 12")
    result = connect(fake, clock).fetch(None)
    assert result.problems == []
    public, private = result.messages
    assert public.channel == "x" and public.visibility == "public"
    assert public.external_id == mention.id
    assert public.text == "@acme my order #12 is late & the box was <open>"
    assert (public.author.id, public.author.handle, public.author.name) == (
        jane.id,
        "jane",
        "Jane Doe",
    )
    assert public.author.followers == 1200
    assert public.url == f"https://x.com/jane/status/{mention.id}"
    assert public.created_at == mention.created_at
    assert private.visibility == "private" and private.external_id == dm.id
    assert private.text == "here is my order number: 12" and private.thread_id is None
    assert json.loads(result.cursor or "") == {"mentions": mention.id, "dms": dm.id}


def test_a_second_poll_asks_since_the_cursor_and_finds_only_what_is_new(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    fake.mention(jane, "first")
    first = connector.fetch(None)
    second = connector.fetch(first.cursor)
    assert second.messages == [] and second.cursor == first.cursor
    newer = fake.mention(jane, "second")
    third = connector.fetch(second.cursor)
    assert [m.external_id for m in third.messages] == [newer.id]
    sent_since = [e.params.get("since_id") for e in fake.requests_to("mentions")]
    assert sent_since == [None, first.messages[0].external_id, first.messages[0].external_id]


def test_a_reply_to_our_reply_names_the_post_it_answers(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    question = fake.mention(jane, "where is my parcel?")
    cursor = connector.fetch(None).cursor
    ours = connector.send_public_reply(Reply("On its way!", "k1", in_reply_to=question.id))
    fake.mention(jane, "thanks!", replied_to=ours.external_id)
    (answer,) = connector.fetch(cursor).messages
    assert answer.in_reply_to == ours.external_id


@pytest.mark.parametrize("naming", ["tweet", "post"])
def test_both_field_namings_are_understood(clock, naming) -> None:
    fake = FakeX(clock, naming=naming)
    answers: list[dict[str, Any]] = []

    def recording(request: httpx.Request) -> httpx.Response:
        response: httpx.Response = fake(request)
        if request.url.path.endswith("/mentions"):
            answers.append(response.json())
        return response

    connector = x_connector(fake, clock, transport=httpx.MockTransport(recording))
    jane = fake.user("jane")
    root = fake.mention(jane, "question")
    reply = fake.mention(jane, "more detail", replied_to=root.id)
    messages = connector.fetch(None).messages
    assert [(m.external_id, m.in_reply_to) for m in messages] == [
        (root.id, None),
        (reply.id, root.id),
    ]
    (answer,) = answers
    assert f"{naming}s" in answer["includes"]
    assert any(f"referenced_{naming}s" in post for post in answer["data"])
    assert all(f"edit_history_{naming}_ids" in post for post in answer["data"])


def test_every_page_is_followed_and_the_cursor_moves_to_the_newest(fake, clock) -> None:
    people = [fake.user(f"c{n}") for n in range(5)]
    posts = [fake.mention(people[n % 5], f"message {n}") for n in range(250)]
    result = connect(fake, clock).fetch(None)
    assert sorted(m.external_id for m in result.messages) == sorted(p.id for p in posts)
    assert len(fake.requests_to("mentions")) == 3
    assert json.loads(result.cursor or "")["mentions"] == posts[-1].id


def test_truncated_pages_with_a_next_token_are_followed_to_the_end(fake, clock) -> None:
    posts = [fake.mention(fake.user("jane"), f"message {n}") for n in range(150)]
    fake.faults.arm(TRUNCATE_PAGE, "mentions", times=None)
    result = connect(fake, clock).fetch(None)
    assert len({m.external_id for m in result.messages}) == len(posts) == len(result.messages)
    # Pages of 50 instead of 100: three requests, none ending the list early.
    assert len(fake.requests_to("mentions")) == 3


def test_only_the_newest_800_mentions_are_reachable(fake, clock) -> None:
    jane = fake.user("jane")
    posts = [fake.mention(jane, f"m{n}") for n in range(850)]
    result = connect(fake, clock).fetch(None)
    assert len(result.messages) == 800
    assert {m.external_id for m in result.messages} == {p.id for p in posts[50:]}


def test_max_pages_bounds_the_backfill_and_later_polls_read_to_the_cursor(fake, clock) -> None:
    connector = connect(fake, clock, page_size=5, max_pages=2, direct_messages=False)
    jane = fake.user("jane")
    early = [fake.mention(jane, f"early {n}") for n in range(12)]
    first = connector.fetch(None)
    assert [m.external_id for m in first.messages] == [p.id for p in early[2:]]
    late = [fake.mention(jane, f"late {n}") for n in range(23)]
    second = connector.fetch(first.cursor)
    assert [m.external_id for m in second.messages] == [p.id for p in late]


def test_a_poll_stopped_at_the_page_cap_keeps_its_cursor_for_the_rest(
    fake, clock, monkeypatch
) -> None:
    connector = connect(fake, clock, page_size=5, direct_messages=False)
    jane = fake.user("jane")
    fake.mention(jane, "first")
    first = connector.fetch(None)
    late = [fake.mention(jane, f"late {n}") for n in range(12)]
    monkeypatch.setattr(x_feeds, "PAGE_CAP", 2)  # ten of twelve read, a next_token left
    capped = connector.fetch(first.cursor)
    assert len(capped.messages) == 10 and capped.cursor == first.cursor
    monkeypatch.undo()
    rest = connector.fetch(capped.cursor)
    assert [m.external_id for m in rest.messages] == [p.id for p in late]
    assert json.loads(rest.cursor or "")["mentions"] == late[-1].id


def test_a_mention_delivered_again_is_not_returned_and_the_cursor_never_goes_back(
    fake, clock
) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    fake.mention(jane, "one")
    first = connector.fetch(None)
    newer = fake.mention(jane, "two")
    fake.faults.arm(DUPLICATE_DELIVERY, "mentions")
    second = connector.fetch(first.cursor)
    assert [m.external_id for m in second.messages] == [newer.id]
    fake.faults.arm(DUPLICATE_DELIVERY, "mentions")
    third = connector.fetch(second.cursor)
    assert third.messages == [] and third.cursor == second.cursor


def test_mentions_arriving_between_pages_are_neither_lost_nor_doubled(fake, clock) -> None:
    jane = fake.user("jane")
    early = [fake.mention(jane, f"early {n}") for n in range(120)]
    late: list[str] = []

    def between_pages(request: httpx.Request) -> httpx.Response:
        response: httpx.Response = fake(request)
        if request.url.path.endswith("/mentions") and not late:
            late.extend(fake.mention(jane, f"late {n}").id for n in range(7))
        return response

    connector = x_connector(fake, clock, transport=httpx.MockTransport(between_pages))
    first = connector.fetch(None)
    ids = [m.external_id for m in first.messages]
    assert len(ids) == len(set(ids)) == len(early)
    # The late ones are newer than the cursor, so the next poll brings exactly them.
    second = connector.fetch(first.cursor)
    assert sorted(m.external_id for m in second.messages) == sorted(late)


def test_a_failure_between_pages_raises_and_the_retry_reads_everything(fake, clock) -> None:
    connector = connect(fake, clock, direct_messages=False)
    posts = [fake.mention(fake.user("jane"), f"m{n}") for n in range(150)]
    fake.faults.arm(SERVER_ERROR, "mentions", skip=1, status=502)
    with pytest.raises(TransientError, match="HTTP 502"):
        connector.fetch(None)
    retried = connector.fetch(None)
    assert {m.external_id for m in retried.messages} == {p.id for p in posts}


def test_direct_messages_stop_at_the_first_event_already_read(fake, clock) -> None:
    connector = connect(fake, clock, mentions=False)
    people = [fake.user(f"c{n}") for n in range(3)]
    for n in range(230):
        fake.dm(people[n % 3], f"dm {n}")
    first = connector.fetch(None)
    assert len(first.messages) == 230
    assert len(fake.requests_to("dm_events")) == 3
    latest = fake.dm(people[0], "one more")
    second = connector.fetch(first.cursor)
    assert [m.external_id for m in second.messages] == [latest.id]
    assert len(fake.requests_to("dm_events")) == 4  # one page was enough


def test_our_own_direct_messages_come_back_as_sent_not_as_customer_messages(fake, clock) -> None:
    connector = connect(fake, clock, mentions=False)
    jane = fake.user("jane")
    fake.dm(jane, "hello?")
    cursor = connector.fetch(None).cursor
    receipt = connector.send_private_message(Reply("Hi Jane", "k1", recipient=jane.id))
    result = connector.fetch(cursor)
    assert result.messages == []
    (sent,) = result.sent
    assert (sent.external_id, sent.text, sent.recipient) == (
        receipt.external_id,
        "Hi Jane",
        jane.id,
    )


def test_direct_messages_delivered_twice_or_older_than_30_days_are_dropped(fake, clock) -> None:
    connector = connect(fake, clock, mentions=False)
    jane = fake.user("jane")
    fake.dm(jane, "too old")
    clock.advance(31 * 86_400)
    recent = fake.dm(jane, "recent")
    fake.faults.arm(DUPLICATE_DELIVERY, "dm_events")
    result = connector.fetch(None)
    assert [m.external_id for m in result.messages] == [recent.id]


def test_a_corrupt_stored_cursor_is_refused_with_its_value(fake, clock) -> None:
    with pytest.raises(PermanentError, match="not X's"):
        connect(fake, clock).fetch('{"mentions": "abc"}')
