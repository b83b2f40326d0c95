"""The Facebook Page connector sending to the Graph fake: the window, private replies, faults."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    MalformedResponse,
    PermanentError,
    RateLimited,
    TransientError,
    WindowClosed,
)
from frontdesk.core.connectors.facebook import FacebookConnector
from frontdesk.core.connectors.facebook_parse import window_open
from tests.fakes.connect import facebook_connector
from tests.fakes.facebook import FakeFacebook
from tests.fakes.platform import (
    CONNECT_ERROR,
    DROP_AFTER_COMMIT,
    MALFORMED,
    SERVER_ERROR,
    THROTTLE,
    TIMEOUT_AFTER_COMMIT,
    FakeClock,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeFacebook:
    return FakeFacebook(clock)


def connect(fake: FakeFacebook, clock: FakeClock, **overrides: Any) -> FacebookConnector:
    return facebook_connector(fake, clock, **overrides)


def test_replies_go_with_messaging_type_response_and_come_back_as_sent(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    sale = fake.post("Sale")
    fake.message_from(jane, "hello")
    comment = fake.comment(jane, sale.id, "price?")
    cursor = connector.fetch(None).cursor
    private = connector.send_private_message(Reply("Hi Jane", "k1", recipient=jane.psid))
    public = connector.send_public_reply(Reply("It's 20% off", "k2", in_reply_to=comment.id))
    (send,) = fake.requests_to("messages.send")
    assert send.body["messaging_type"] == "RESPONSE"
    assert send.body["recipient"] == {"id": jane.psid}
    sent = {s.external_id: s for s in connector.fetch(cursor).sent}
    assert sent[private.external_id].recipient == jane.psid
    assert sent[public.external_id].in_reply_to == comment.id
    assert [c.text for c in fake.page_comments()] == ["It's 20% off"]


def test_a_closed_window_says_why_and_what_can_still_be_sent(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    fake.message_from(jane, "hello")
    clock.advance(25 * 3600)
    with pytest.raises(WindowClosed) as caught:
        connector.send_private_message(Reply("Sorry for the wait", "k1", recipient=jane.psid))
    error = caught.value
    assert "within 24 hours of their last message" in error.reason
    assert "reply publicly to one of their comments" in error.alternatives
    assert error.title == "messaging window closed" and "\n" not in str(error)
    assert fake.page_messages() == []
    assert not window_open(clock() - timedelta(hours=25), clock(), human_agent=False)
    assert window_open(clock() - timedelta(hours=25), clock(), human_agent=True)


def test_the_human_agent_tag_extends_the_window_to_seven_days(fake, clock) -> None:
    fake.human_agent_permission = True
    connector = connect(fake, clock, human_agent_tag=True)
    jane = fake.person("Jane")
    fake.message_from(jane, "hello")
    clock.advance(3 * 86_400)
    connector.send_private_message(Reply("Here's an update", "k1", recipient=jane.psid))
    tagged = fake.requests_to("messages.send")[-1].body
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")
    clock.advance(5 * 86_400)
    with pytest.raises(WindowClosed, match="more than 7 days"):
        connector.send_private_message(Reply("Another", "k2", recipient=jane.psid))
    assert [m.text for m in fake.page_messages()] == ["Here's an update"]


def test_one_private_reply_per_comment_within_seven_days(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    sale = fake.post("Sale")
    comment = fake.comment(jane, sale.id, "I was charged twice")
    old = fake.comment(jane, sale.id, "an old one")
    connector.send_private_message(Reply("Let's sort this out", "k1", in_reply_to=comment.id))
    (body,) = [e.body for e in fake.requests_to("messages.send")]
    assert body["recipient"] == {"comment_id": comment.id}
    with pytest.raises(PermanentError, match="one private reply per comment") as twice:
        connector.send_private_message(Reply("Again", "k2", in_reply_to=comment.id))
    assert twice.value.title == "private reply refused"
    clock.advance(8 * 86_400)
    with pytest.raises(PermanentError, match="within 7 days"):
        connector.send_private_message(Reply("Late", "k3", in_reply_to=old.id))
    assert [m.text for m in fake.page_messages()] == ["Let's sort this out"]


@pytest.mark.parametrize("code", [4, 17, 32, 613])
@pytest.mark.parametrize("status", [400, 403])
def test_throttling_codes_close_the_gate_until_meta_says(fake, clock, code, status) -> None:
    connector = connect(fake, clock, comments=False)
    fake.faults.arm(THROTTLE, "conversations", code=code, status=status, regain_minutes=12)
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    assert caught.value.reset_at == clock() + timedelta(minutes=12)
    assert f"(#{code})" in str(caught.value)
    calls = len(fake.log)
    with pytest.raises(RateLimited):
        connector.send_public_reply(Reply("hi", "k", in_reply_to="1_1"))
    assert len(fake.log) == calls  # nothing sent while throttled
    clock.advance(12 * 60)
    connector.fetch(None)


def test_usage_headers_are_kept_and_an_exhausted_budget_throttles(fake, clock) -> None:
    fake.hourly_calls = 4
    connector = connect(fake, clock, comments=False)
    fake.message_from(fake.person("Jane"), "hi")
    connector.fetch(None)  # two calls: the list and one conversation
    assert connector.rate_limits["Graph API"].remaining == 50
    connector.fetch(None)
    with pytest.raises(RateLimited, match=r"\(#4\) Application request limit"):
        connector.fetch(None)


def test_an_expired_token_and_an_unreachable_person_are_explained(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    fake.message_from(jane, "hello")
    fake.unavailable.add(jane.psid)
    with pytest.raises(PermanentError, match="cannot be messaged right now"):
        connector.send_private_message(Reply("Hi", "k1", recipient=jane.psid))
    fake.page_token = "rotated"
    with pytest.raises(AuthFailed, match="issue a new one") as caught:
        connector.fetch(None)
    assert "\n" not in str(caught.value)


def test_transport_faults_are_transient_on_reads_and_before_writes(fake, clock) -> None:
    connector = connect(fake, clock, comments=False)
    jane = fake.person("Jane")
    fake.message_from(jane, "hello")
    fake.faults.arm(SERVER_ERROR, "conversations", status=500)
    with pytest.raises(TransientError, match="unavailable"):
        connector.fetch(None)
    fake.faults.arm(CONNECT_ERROR, "messages.send")
    with pytest.raises(TransientError, match="cannot connect"):
        connector.send_private_message(Reply("Hi", "k1", recipient=jane.psid))
    assert fake.page_messages() == []


@pytest.mark.parametrize("fault", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_a_send_lost_after_it_was_stored_is_found_and_not_resent(fake, clock, fault) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    sale = fake.post("Sale")
    fake.message_from(jane, "hello")
    comment = fake.comment(jane, sale.id, "question")
    replies = [
        (Reply("Hi Jane", "k1", recipient=jane.psid), True),
        (Reply("Answered below", "k2", in_reply_to=comment.id), False),
        (Reply("Details in private", "k3", in_reply_to=comment.id), True),
    ]
    fake.faults.arm(fault, "messages.send", times=2)
    fake.faults.arm(fault, "comments.create")
    for reply, private in replies:
        send = connector.send_private_message if private else connector.send_public_reply
        assert connector.find_sent(reply, private=private) is None
        with pytest.raises(AmbiguousOutcome, match="read it back"):
            send(reply)
        assert connector.find_sent(reply, private=private) is not None
    assert sorted(m.text for m in fake.page_messages()) == ["Details in private", "Hi Jane"]
    assert [c.text for c in fake.page_comments()] == ["Answered below"]


def test_a_server_error_on_a_send_is_ambiguous(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.person("Jane")
    fake.message_from(jane, "hello")
    fake.faults.arm(SERVER_ERROR, "messages.send", status=502)
    reply = Reply("Hi", "k1", recipient=jane.psid)
    with pytest.raises(AmbiguousOutcome):
        connector.send_private_message(reply)
    assert connector.find_sent(reply, private=True) is None


def test_malformed_answers_name_the_call_in_one_line(fake, clock) -> None:
    connector = connect(fake, clock, comments=False)
    fake.faults.arm(MALFORMED, "conversations")
    with pytest.raises(MalformedResponse) as caught:
        connector.fetch(None)
    assert "\n" not in str(caught.value)
    assert f"Facebook conversations (GET /{fake.page.psid}/conversations)" in str(caught.value)
    odd = {"data": [{"id": "t_1", "updated_time": "yesterday"}]}
    broken = connect(
        fake,
        clock,
        comments=False,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=odd)),
    )
    with pytest.raises(MalformedResponse, match=r"data\.0\.updated_time"):
        broken.fetch(None)
    accepted = connect(
        fake,
        clock,
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True})),
    )
    with pytest.raises(AmbiguousOutcome, match="message_id: Field required"):
        accepted.send_private_message(Reply("Hi", "k", recipient="24"))
