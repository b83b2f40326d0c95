"""The X connector sending to the stateful fake: replies, refusals, and every fault switch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    MalformedResponse,
    PermanentError,
    TransientError,
)
from frontdesk.core.connectors.x import XConnector
from tests.fakes.connect import x_connector
from tests.fakes.platform import (
    CONNECT_ERROR,
    DROP_AFTER_COMMIT,
    MALFORMED,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
    FakeClock,
)
from tests.fakes.server import serve
from tests.fakes.x import FakeX


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


def connect(fake: FakeX, clock: FakeClock, **overrides: Any) -> XConnector:
    return x_connector(fake, clock, **overrides)


def test_public_and_private_replies_land_on_the_platform(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    question = fake.mention(jane, "help")
    public = connector.send_public_reply(Reply("We're on it", "k1", in_reply_to=question.id))
    (posted,) = fake.replies()
    assert (posted.id, posted.text, posted.replied_to) == (
        public.external_id,
        "We're on it",
        question.id,
    )
    assert public.url == f"https://x.com/acme/status/{posted.id}"
    private = connector.send_private_message(Reply("Details here", "k2", recipient=jane.id))
    (dm,) = fake.sent_dms()
    assert (dm.id, dm.text) == (private.external_id, "Details here")


def test_policy_refusals_are_permanent_and_say_why(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    question = fake.mention(jane, "help")
    connector.send_public_reply(Reply("Thanks!", "k1", in_reply_to=question.id))
    with pytest.raises(PermanentError) as duplicate:
        connector.send_public_reply(Reply("Thanks!", "k2", in_reply_to=question.id))
    assert duplicate.value.title == "duplicate post"
    fake.reply_restriction = True
    stranger = fake.world.add_post(jane, "a post that does not mention us", clock())
    with pytest.raises(PermanentError, match="not been mentioned"):
        connector.send_public_reply(Reply("Hello", "k3", in_reply_to=stranger.id))
    with pytest.raises(PermanentError, match="does not exist"):
        connector.send_public_reply(Reply("Hello", "k4", in_reply_to="1234"))
    assert len(fake.replies()) == 1


def test_too_long_or_empty_replies_are_refused_before_any_request(fake, clock) -> None:
    connector = connect(fake, clock)
    before = len(fake.log)
    with pytest.raises(PermanentError, match="281 characters") as long:
        connector.send_public_reply(Reply("x" * 281, "k1", in_reply_to="1"))
    assert long.value.title == "reply too long"
    # X counts a link as 23 and an emoji as 2, whatever their real length.
    fits = "https://example.com/" + "a" * 300 + " " + "🙂" * 128
    assert connector.text_length(fits) == 23 + 1 + 256
    with pytest.raises(PermanentError, match="empty"):
        connector.send_private_message(Reply("  ", "k2", recipient="1"))
    assert len(fake.log) == before


def test_connect_errors_are_transient_and_store_nothing(fake, clock) -> None:
    connector = connect(fake, clock)
    question = fake.mention(fake.user("jane"), "help")
    fake.faults.arm(CONNECT_ERROR, "tweets.create")
    with pytest.raises(TransientError, match="cannot connect"):
        connector.send_public_reply(Reply("Hi", "k1", in_reply_to=question.id))
    assert fake.replies() == []
    fake.faults.arm(CONNECT_ERROR, "mentions")
    fake.faults.arm(CONNECT_ERROR, "dm_events")
    with pytest.raises(TransientError):
        connector.fetch(None)


def test_a_server_error_on_a_write_is_ambiguous_and_reading_back_settles_it(fake, clock) -> None:
    connector = connect(fake, clock)
    question = fake.mention(fake.user("jane"), "help")
    reply = Reply("We'll check", "k1", in_reply_to=question.id)
    fake.faults.arm(SERVER_ERROR, "tweets.create", status=503)
    with pytest.raises(AmbiguousOutcome, match="HTTP 503"):
        connector.send_public_reply(reply)
    assert connector.find_sent(reply, private=False) is None
    connector.send_public_reply(reply)
    assert len(fake.replies()) == 1


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_a_write_lost_after_the_platform_stored_it_is_found_again(fake, clock, fault) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    question = fake.mention(jane, "help")
    public = Reply(
        "Fixed it & sent a link: https://acme.example/r/1", "k1", in_reply_to=question.id
    )
    private = Reply("Your code is 1234", "k2", recipient=jane.id)
    fake.faults.arm(fault, "tweets.create")
    fake.faults.arm(fault, "dm.create")
    for reply, private_flag in ((public, False), (private, True)):
        with pytest.raises(AmbiguousOutcome, match="read it back"):
            send = connector.send_private_message if private_flag else connector.send_public_reply
            send(reply)
        found = connector.find_sent(reply, private=private_flag)
        assert found is not None
    (posted,) = fake.replies()
    (dm,) = fake.sent_dms()
    found_public = connector.find_sent(public, private=False)
    found_private = connector.find_sent(private, private=True)
    assert found_public is not None and found_public.external_id == posted.id
    assert found_private is not None and found_private.external_id == dm.id


def test_malformed_answers_are_one_line_errors_naming_the_call(fake, clock) -> None:
    connector = connect(fake, clock, direct_messages=False)
    fake.faults.arm(MALFORMED, "mentions")
    with pytest.raises(MalformedResponse) as not_json:
        connector.fetch(None)
    assert "\n" not in str(not_json.value)
    assert "X mentions (GET /2/users/2244994945/mentions)" in str(not_json.value)
    assert "not JSON" in str(not_json.value)

    bad = {"data": [{"id": 17, "text": "numeric id"}], "meta": {"result_count": 1}}
    odd = x_connector(
        fake,
        clock,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=bad)),
        user_id="1",
        direct_messages=False,
    )
    with pytest.raises(MalformedResponse, match=r"mentions\): data\.0\.id: Input should be"):
        odd.fetch(None)


def test_a_malformed_answer_to_a_write_is_ambiguous(clock, fake) -> None:
    connector = x_connector(
        fake,
        clock,
        transport=httpx.MockTransport(lambda request: httpx.Response(201, json={"data": {}})),
        user_id="1",
    )
    with pytest.raises(AmbiguousOutcome, match=r"data\.id: Field required; X accepted"):
        connector.send_public_reply(Reply("hi", "k", in_reply_to="5"))


def test_over_a_real_socket_the_same_fake_serves_reads_writes_and_faults(fake, clock) -> None:
    jane = fake.user("jane")
    question = fake.mention(jane, "help")
    with serve(fake) as base_url:
        connector = x_connector(fake, clock, transport=httpx.HTTPTransport(), base_url=base_url)
        httpx.post(f"{base_url}/_fake/dm", json={"username": "bob", "text": "hi from bob"})
        result = connector.fetch(None)
        assert {m.text for m in result.messages} == {"@acme help", "hi from bob"}
        httpx.post(f"{base_url}/_fake/fault", json={"kind": "timeout_after_commit"})
        reply = Reply("On it", "k1", in_reply_to=question.id)
        with pytest.raises(AmbiguousOutcome):
            connector.send_public_reply(reply)
        assert connector.find_sent(reply, private=False) is not None
        history = httpx.get(f"{base_url}/_fake/history").json()
        connector.close()
    assert [p["text"] for p in history["posts"]].count("On it") == 1


def test_nothing_after_a_stored_post_can_fail_the_send(fake, clock) -> None:
    """The handle for the link is looked up after posting; if that fails the reply still
    went, and saying otherwise would make the outbox send it again."""
    connector = connect(fake, clock)
    question = fake.mention(fake.user("jane"), "help")
    fake.faults.arm(SERVER_ERROR, "users.me")
    receipt = connector.send_public_reply(Reply("On it", "k1", in_reply_to=question.id))
    (posted,) = fake.replies()
    assert receipt.external_id == posted.id
    assert receipt.url == f"https://x.com/i/status/{posted.id}"
