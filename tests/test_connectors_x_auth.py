"""X: rate limits obeyed without a hot loop, and single-use refresh tokens refreshed once."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from frontdesk.core.connectors.base import Reply
from frontdesk.core.connectors.errors import AuthFailed, PermanentError, RateLimited
from frontdesk.core.connectors.tokens import FileTokenStore, MemoryTokenStore, OAuthTokens
from frontdesk.core.connectors.x import XConnector
from frontdesk.core.connectors.x_parse import throttled_until
from tests.fakes.connect import x_account, x_connector
from tests.fakes.platform import THROTTLE, FakeClock
from tests.fakes.x import FakeX


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> FakeX:
    return FakeX(clock)


def connect(fake: FakeX, clock: FakeClock, store: Any = None, **overrides: Any) -> XConnector:
    return x_connector(fake, clock, tokens=store, **overrides)


def token_file(tmp_path: Path, fake: FakeX, lifetime: timedelta) -> Path:
    path = tmp_path / "x-tokens.json"
    FileTokenStore(path).save(OAuthTokens(**fake.oauth_pair(lifetime)))
    return path


def test_an_exhausted_window_raises_with_its_reset_and_sends_nothing_until_then(
    fake, clock
) -> None:
    connector = connect(fake, clock, direct_messages=False)
    fake.world.limits["mentions"] = 3
    cursor = None
    for _ in range(3):
        cursor = connector.fetch(cursor).cursor
    window = connector.rate_limits["mentions"]
    assert window.remaining == 0 and window.reset_at == clock() + timedelta(minutes=15)
    before = len(fake.requests_to("mentions"))
    for _ in range(5):
        with pytest.raises(RateLimited) as caught:
            connector.fetch(cursor)
        assert caught.value.reset_at == window.reset_at
    assert len(fake.requests_to("mentions")) == before  # no hot loop against the platform
    clock.advance(15 * 60)
    connector.fetch(cursor)
    assert len(fake.requests_to("mentions")) == before + 1


@pytest.mark.parametrize("body", ["problem", "legacy", "usage_capped"])
def test_a_429_is_obeyed_whatever_its_body_and_even_with_calls_remaining(fake, clock, body) -> None:
    connector = connect(fake, clock, direct_messages=False)
    fake.faults.arm(THROTTLE, "mentions", remaining=7, reset_in=420, body=body)
    with pytest.raises(RateLimited) as caught:
        connector.fetch(None)
    assert caught.value.reset_at == clock() + timedelta(seconds=420)
    assert "\n" not in str(caught.value) and "until 09:07:00 UTC" in str(caught.value)
    with pytest.raises(RateLimited):
        connector.fetch(None)
    assert len(fake.requests_to("mentions")) == 1
    clock.advance(420)
    connector.fetch(None)


def test_the_latest_reset_among_exhausted_families_wins() -> None:
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    epoch = int(now.timestamp())
    headers = httpx.Headers(
        {
            "x-rate-limit-remaining": "40",
            "x-rate-limit-reset": str(epoch + 100),
            "x-user-limit-24hour-remaining": "0",
            "x-user-limit-24hour-reset": str(epoch + 5000),
            "x-app-limit-24hour-remaining": "0",
            "x-app-limit-24hour-reset": str(epoch + 3000),
        }
    )
    fallback = timedelta(seconds=60)
    assert throttled_until(headers, now, fallback) == now + timedelta(seconds=5000)
    assert throttled_until(httpx.Headers({}), now, fallback) == now + fallback
    stale = httpx.Headers({"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(epoch - 5)})
    assert throttled_until(stale, now, fallback) == now + fallback


def test_a_throttled_stream_does_not_hold_back_the_others(fake, clock) -> None:
    connector = connect(fake, clock)
    jane = fake.user("jane")
    fake.world.limits["dm_events"] = 1
    first = connector.fetch(None)
    fake.mention(jane, "new mention")
    fake.dm(jane, "new dm")
    second = connector.fetch(first.cursor)
    assert [m.visibility for m in second.messages] == ["public"]
    (problem,) = second.problems
    assert isinstance(problem, RateLimited)
    assert json.loads(second.cursor or "")["dms"] == json.loads(first.cursor or "").get("dms")
    clock.advance(15 * 60)
    third = connector.fetch(second.cursor)
    assert [m.text for m in third.messages] == ["new dm"]


def test_when_every_stream_is_throttled_fetch_raises(fake, clock) -> None:
    connector = connect(fake, clock)
    fake.faults.arm(THROTTLE, "mentions")
    fake.faults.arm(THROTTLE, "dm_events")
    with pytest.raises(RateLimited):
        connector.fetch(None)


def test_an_expiring_token_is_refreshed_first_and_the_new_pair_saved_0600(
    fake, clock, tmp_path
) -> None:
    path = token_file(tmp_path, fake, timedelta(minutes=1))
    old = json.loads(path.read_text())
    connector = connect(fake, clock, FileTokenStore(path))
    connector.fetch(None)
    new = json.loads(path.read_text())
    assert new["refresh_token"] != old["refresh_token"]
    assert new["access_token"] != old["access_token"]
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [e.route for e in fake.log[:2]] == ["oauth.token", "users.me"]
    assert fake.requests_to("oauth.token")[0].body["refresh_token"] == old["refresh_token"]


def test_concurrent_callers_share_one_refresh(fake, clock, tmp_path) -> None:
    path = token_file(tmp_path, fake, timedelta(seconds=30))
    connector = connect(fake, clock, FileTokenStore(path), user_id=fake.me.id)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def poll() -> None:
        start.wait()
        try:
            connector.fetch(None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(fake.requests_to("oauth.token")) == 1


def test_a_second_process_reads_the_pair_the_first_refreshed(fake, clock, tmp_path) -> None:
    """Two syncs on one token file: the second must not spend the old refresh token."""
    path = token_file(tmp_path, fake, timedelta(minutes=10))
    first = connect(fake, clock, FileTokenStore(path), user_id=fake.me.id)
    second = connect(fake, clock, FileTokenStore(path), user_id=fake.me.id)
    stale = second.auth.token()  # the pair in memory, still valid: no refresh yet
    assert fake.requests_to("oauth.token") == []
    clock.advance(9 * 60)  # now both hold a pair about to expire
    first.fetch(None)
    second.fetch(None)
    assert len(fake.requests_to("oauth.token")) == 1
    assert second.auth.token() == first.auth.token() != stale
    assert not any(f.revoked for f in fake.world.families)


def test_a_revoked_access_token_is_refreshed_once_and_the_call_retried(fake, clock) -> None:
    connector = connect(fake, clock, user_id=fake.me.id)
    connector.fetch(None)
    fake.world.access_expiry.update(dict.fromkeys(fake.world.access_expiry, clock()))
    question = fake.mention(fake.user("jane"), "help")
    receipt = connector.send_public_reply(Reply("Hello", "k1", in_reply_to=question.id))
    assert [p.id for p in fake.replies()] == [receipt.external_id]
    assert [e.outcome for e in fake.requests_to("tweets.create")] == ["401", "201"]


def test_a_spent_refresh_token_fails_auth_with_a_way_out(fake, clock) -> None:
    pair = fake.oauth_pair(timedelta(seconds=10))
    fake.world.families[-1].refresh[pair["refresh_token"]] = True  # spent elsewhere
    connector = connect(fake, clock, MemoryTokenStore(OAuthTokens(**pair)))
    with pytest.raises(AuthFailed) as caught:
        connector.fetch(None)
    assert "authorise the account again" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert fake.world.families[-1].revoked


def test_a_token_file_others_can_read_is_refused(fake, clock, tmp_path) -> None:
    path = token_file(tmp_path, fake, timedelta(hours=2))
    path.chmod(0o644)
    with pytest.raises(AuthFailed, match="chmod 600"):
        connect(fake, clock, FileTokenStore(path)).fetch(None)


def test_an_app_bearer_reads_mentions_and_cannot_send(fake, clock, monkeypatch) -> None:
    monkeypatch.setenv("ACME_X_BEARER", fake.app_bearer)
    settings = x_account(
        auth="bearer",
        user_id=fake.me.id,
        direct_messages=False,
        credentials={"env": "ACME_X_BEARER"},
    )
    connector = XConnector("acme_x", settings, transport=fake.transport(), clock=clock)
    fake.mention(fake.user("jane"), "hello")
    assert [m.text for m in connector.fetch(None).messages] == ["@acme hello"]
    assert not connector.capabilities.comments
    with pytest.raises(PermanentError, match="cannot send public replies"):
        connector.send_public_reply(Reply("hi", "k", in_reply_to="1"))
    assert fake.requests_to("tweets.create") == []
