"""The generic JSON feed connector against its stateful fake."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.accounts import JsonFeedAccount
from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    MalformedResponse,
    PermanentError,
    RateLimited,
    TransientError,
)
from frontdesk.core.connectors.jsonfeed import JsonFeedConnector
from tests.fakes.jsonfeed import FakeFeed
from tests.fakes.platform import (
    CONNECT_ERROR,
    DUPLICATE_DELIVERY,
    MALFORMED,
    SERVER_ERROR,
    THROTTLE,
    TIMEOUT_AFTER_COMMIT,
    TRUNCATE_PAGE,
    FakeClock,
)
from tests.fakes.server import serve

BASE = "https://feed.example"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeFeed:
    return FakeFeed(clock, token="feed-secret")


def connect(fake: FakeFeed, clock: FakeClock, base: str = BASE, **overrides: Any):
    settings = {
        "type": "jsonfeed",
        "url": f"{base}/feed",
        "reply_url": f"{base}/replies",
        "channel": "email",
        "credentials": {"env": "FEED_TOKEN"},
    }
    transport = fake.transport() if base == BASE else None
    return JsonFeedConnector(
        "webchat",
        JsonFeedAccount.model_validate(settings | overrides),
        token="feed-secret",
        transport=transport,
        clock=clock,
    )


def customer(fake: FakeFeed, text: str, **extra: Any) -> dict[str, Any]:
    return fake.publish(text=text, author={"id": "visitor-7", "name": "Visitor"}, **extra)


def test_pages_are_followed_and_items_take_the_account_channel(fake, clock) -> None:
    items = [customer(fake, f"message {n}", visibility="private") for n in range(7)]
    result = connect(fake, clock).fetch(None)
    assert [m.external_id for m in result.messages] == [i["external_id"] for i in items]
    assert {m.channel for m in result.messages} == {"email"}
    assert result.cursor == "pos-7"
    assert len(fake.requests_to("feed")) == 3
    assert [e.params.get("cursor") for e in fake.requests_to("feed")] == [None, "pos-3", "pos-6"]


def test_the_cursor_brings_only_what_is_new(fake, clock) -> None:
    connector = connect(fake, clock)
    customer(fake, "one")
    first = connector.fetch(None)
    assert connector.fetch(first.cursor).messages == []
    later = customer(fake, "two", channel="x")
    result = connector.fetch(first.cursor)
    assert [(m.external_id, m.channel) for m in result.messages] == [(later["external_id"], "x")]


def test_truncated_pages_and_repeated_items_lose_and_double_nothing(fake, clock) -> None:
    items = [customer(fake, f"m{n}") for n in range(7)]
    fake.faults.arm(TRUNCATE_PAGE, "feed")
    fake.faults.arm(DUPLICATE_DELIVERY, "feed", skip=1)
    result = connect(fake, clock).fetch(None)
    ids = [m.external_id for m in result.messages]
    assert ids == [i["external_id"] for i in items]


def test_outbound_items_are_reported_as_sent(fake, clock) -> None:
    fake.publish(external_id="ours-1", text="We replied", outbound=True, in_reply_to="feed-0")
    result = connect(fake, clock).fetch(None)
    assert result.messages == []
    assert [(s.external_id, s.in_reply_to) for s in result.sent] == [("ours-1", "feed-0")]


def test_a_bad_item_is_named_by_index_and_field(fake, clock) -> None:
    customer(fake, "fine")
    fake.publish(text="no author")
    with pytest.raises(MalformedResponse) as caught:
        connect(fake, clock).fetch(None)
    message = str(caught.value)
    assert "webchat: feed (GET https://feed.example/feed): messages.1: author: Field required" in (
        message
    )
    assert "\n" not in message
    fake.faults.arm(MALFORMED, "feed")
    with pytest.raises(MalformedResponse, match="not JSON"):
        connect(fake, clock).fetch(None)


def test_replies_are_idempotent_on_the_outbox_key_and_can_be_read_back(fake, clock) -> None:
    connector = connect(fake, clock)
    reply = Reply("Thanks for waiting", "outbox-3", in_reply_to="feed-1", recipient="visitor-7")
    assert connector.find_sent(reply, private=True) is None
    fake.faults.arm(TIMEOUT_AFTER_COMMIT, "replies.create")
    with pytest.raises(AmbiguousOutcome):
        connector.send_private_message(reply)
    found = connector.find_sent(reply, private=True)
    assert found is not None and found.external_id == "reply-1"
    again = connector.send_private_message(reply)
    assert again.external_id == "reply-1" and len(fake.replies) == 1
    assert fake.requests_to("replies.create")[0].body["private"] is True


def test_faults_map_to_the_error_hierarchy(fake, clock) -> None:
    connector = connect(fake, clock)
    reply = Reply("hi", "outbox-4", in_reply_to="feed-1")
    fake.faults.arm(CONNECT_ERROR, "feed")
    with pytest.raises(TransientError, match="cannot connect"):
        connector.fetch(None)
    fake.faults.arm(SERVER_ERROR, "feed")
    with pytest.raises(TransientError, match="unavailable"):
        connector.fetch(None)
    fake.faults.arm(SERVER_ERROR, "replies.create")
    with pytest.raises(AmbiguousOutcome):
        connector.send_public_reply(reply)
    with pytest.raises(PermanentError, match="key and text are required"):
        connector._post(Reply("", "", in_reply_to="x"), private=False)
    fake.faults.arm(THROTTLE, "feed", retry_after=90)
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    assert caught.value.reset_at == clock() + timedelta(seconds=90)
    before = len(fake.log)
    with pytest.raises(RateLimited):
        connector.send_public_reply(reply)
    assert len(fake.log) == before
    clock.advance(90)
    connector.fetch(None)
    fake.token = "rotated"
    with pytest.raises(AuthFailed):
        connector.fetch(None)


def test_without_a_reply_url_the_feed_is_read_only(fake, clock) -> None:
    connector = connect(fake, clock, reply_url=None, max_length=500)
    assert connector.capabilities.max_length == 500
    with pytest.raises(PermanentError, match="cannot send private messages"):
        connector.send_private_message(Reply("hi", "k", recipient="visitor-7"))
    assert connector.find_sent(Reply("hi", "k", recipient="visitor-7"), private=True) is None


def test_over_a_real_socket(fake, clock) -> None:
    customer(fake, "hello over http")
    with serve(fake) as base:
        connector = connect(fake, clock, base=base)
        (message,) = connector.fetch(None).messages
        receipt = connector.send_public_reply(Reply("hi", "k1", in_reply_to=message.external_id))
        connector.close()
    assert message.text == "hello over http" and receipt.external_id == "reply-1"


def test_a_feed_answering_html_is_a_clear_error(clock) -> None:
    transport = httpx.MockTransport(
        lambda request: httpx.Response(502, text="<h1>Bad Gateway</h1>")
    )
    settings = {"type": "jsonfeed", "url": f"{BASE}/feed", "channel": "x"}
    connector = JsonFeedConnector(
        "webchat", JsonFeedAccount.model_validate(settings), transport=transport, clock=clock
    )
    with pytest.raises(TransientError, match=r"feed is unavailable \(HTTP 502\)"):
        connector.fetch(None)
