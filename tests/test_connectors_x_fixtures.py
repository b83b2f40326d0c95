"""X parsing against real recorded X API v2 answers, and the fake's answers against them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.accounts import XAccount
from frontdesk.core.connectors.errors import MalformedResponse
from frontdesk.core.connectors.http import validate
from frontdesk.core.connectors.x import XConnector
from frontdesk.core.connectors.x_parse import (
    CreatedDm,
    CreatedPost,
    DmPage,
    Me,
    PostPage,
    rate_window,
    snowflake_time,
)
from tests.fakes.platform import FakeClock
from tests.fakes.x import FakeX

RECORDED = Path(__file__).parent / "data" / "x-api-v2"


def interactions(name: str) -> list[dict[str, Any]]:
    data = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    result: list[dict[str, Any]] = data["interactions"]
    return result


def recorded(name: str, index: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """(response body, response headers) of one recorded interaction."""
    response = interactions(name)[index]["response"]
    return response["body"], response["headers"]


def test_recorded_mentions_page_parses_every_post_and_the_paging_meta() -> None:
    body, _ = recorded("client_get_users_mentions")
    page = validate(PostPage, body, "recorded mentions")
    assert [p.id for p in page.data] == [p["id"] for p in body["data"]]
    assert len(page.data) == 10
    assert page.data[0].text.startswith("@Twitter @TwitterSupport this is my ENTIRE feed")
    assert page.data[0].edit_history == ["1578516295611748353"]
    assert page.meta.next_token == "7140dibdnow9c7btw423i3sy3u5zupmkcpofxcsmxj48j"
    assert page.meta.newest_id == page.data[0].id
    assert page.meta.oldest_id == page.data[-1].id
    # Nothing but the default fields was asked for in the recording.
    assert all(p.author_id is None and p.created_at is None for p in page.data)


def test_recorded_search_and_lookup_answers_parse_as_post_pages() -> None:
    search, _ = recorded("client_search_recent_tweets")
    page = validate(PostPage, search, "recorded search")
    assert page.meta.result_count == 10 and page.meta.next_token
    many, _ = recorded("client_get_tweets")
    assert [p.id for p in validate(PostPage, many, "lookup").data] == [
        "1293593516040269825",
        "1293595870563381249",
    ]


def test_snowflake_time_matches_the_time_a_recorded_post_states() -> None:
    """The recorded search posts carry the time their bot wrote them in their text."""
    search, _ = recorded("client_search_recent_tweets")
    for post in search["data"]:
        written = datetime.fromisoformat(post["text"].removesuffix(" tweepy")).replace(tzinfo=UTC)
        minted = snowflake_time(post["id"])
        assert abs((minted - written).total_seconds()) < 1.0, post["id"]


def test_recorded_direct_message_answers_parse() -> None:
    empty, _ = recorded("manage_and_lookup_direct_messages", 3)
    assert validate(DmPage, empty, "dm_events").data == []
    events, _ = recorded("manage_and_lookup_direct_messages", 4)
    page = validate(DmPage, events, "conversation")
    assert [(e.id, e.event_type, e.text) for e in page.data] == [
        ("1585800613752881156", "MessageCreate", "Testing 2"),
        ("1585800613253812228", "MessageCreate", "Testing 1"),
    ]
    assert page.meta.next_token == "18LAA5G1SL0NR5OG0G00ZZZZ"
    sent, _ = recorded("manage_and_lookup_direct_messages", 0)
    created = validate(CreatedDm, sent, "dm create").data
    assert created.dm_event_id == "1585800613253812228"
    assert created.dm_conversation_id == "750362064426721281-1072250532645998596"


def test_recorded_write_and_account_answers_parse() -> None:
    post, _ = recorded("client_create_and_delete_tweet")
    assert validate(CreatedPost, post, "create").data.id == "1456012973835788293"
    me, _ = recorded("client_get_me")
    user = validate(Me, me, "me").data
    assert (user.id, user.username) == ("1072250532645998596", "TweepyDev")


def test_recorded_rate_limit_headers_become_a_window() -> None:
    _, headers = recorded("client_get_users_mentions")
    window = rate_window(httpx.Headers(headers))
    assert window is not None
    assert (window.limit, window.remaining) == (450, 448)
    assert window.reset_at == datetime.fromtimestamp(1665183228, UTC)


def test_replaying_the_recorded_mentions_names_the_missing_author_in_one_line() -> None:
    """The recording asked for no expansions, so its posts have no author: the connector
    says so instead of inventing a customer."""
    body, headers = recorded("client_get_users_mentions")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body, headers=headers))
    account = XAccount.model_validate(
        {
            "type": "x",
            "auth": "bearer",
            "user_id": "783214",
            "direct_messages": False,
            "credentials": {"env": "X_BEARER"},
        }
    )
    connector = XConnector("brand", account, bearer="app-token", transport=transport)
    with pytest.raises(MalformedResponse) as caught:
        connector.fetch(None)
    message = str(caught.value)
    assert "\n" not in message
    assert "GET /2/users/783214/mentions" in message
    assert "post 1578516295611748353 has no author_id" in message


def _keys(value: Any) -> Any:
    """The shape of a JSON value: dict keys recursively, the first item of lists."""
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(value[0])] if value else []
    return type(value).__name__


def test_the_fake_answers_in_the_recorded_shapes() -> None:
    """Asked what the recordings asked, the fake answers with the same keys and types."""
    clock = FakeClock()
    fake = FakeX(clock, username="Twitter", user_id="783214")
    pair = fake.oauth_pair()
    token = {"authorization": f"Bearer {pair['access_token']}"}
    for n in range(12):
        fake.mention(fake.user(f"customer{n}"), f"question {n}")
    client = httpx.Client(transport=fake.transport(), base_url="https://api.x.test")

    def fake_body(method: str, path: str, **kw: Any) -> Any:
        return client.request(method, path, headers=token, **kw).json()

    mentions, _ = recorded("client_get_users_mentions")
    assert _keys(fake_body("GET", "/2/users/783214/mentions")) == _keys(mentions)
    me, _ = recorded("client_get_me")
    assert _keys(fake_body("GET", "/2/users/me")) == _keys(me)
    customer = fake.user("customer0")
    sent, _ = recorded("manage_and_lookup_direct_messages", 0)
    path = f"/2/dm_conversations/with/{customer.id}/messages"
    assert _keys(fake_body("POST", path, json={"text": "Testing 1"})) == _keys(sent)
    created, _ = recorded("client_create_and_delete_tweet")
    answer = fake_body("POST", "/2/tweets", json={"text": "Test Tweet"})
    # The 2022 recording predates edit history on created posts; the rest is identical.
    assert _keys(answer)["data"].keys() - {"edit_history_tweet_ids"} == {"id", "text"}
    assert _keys(created)["data"] == {"id": "str", "text": "str"}
    events, _ = recorded("manage_and_lookup_direct_messages", 4)
    conversation = fake_body("GET", f"/2/dm_conversations/with/{customer.id}/dm_events")
    assert _keys(conversation)["data"] == _keys(events)["data"]
    assert set(_keys(conversation)["meta"]) <= set(_keys(events)["meta"])
