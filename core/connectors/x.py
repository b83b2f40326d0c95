"""X API v2: mentions and direct messages in, replies and direct messages out."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors import x_feeds, x_search
from frontdesk.core.connectors.accounts import XAccount
from frontdesk.core.connectors.base import (
    Capabilities,
    Clock,
    Connector,
    FetchResult,
    RateWindow,
    Reply,
    SearchResult,
    SendReceipt,
)
from frontdesk.core.connectors.errors import (
    ConnectorError,
    PermanentError,
    RateLimited,
)
from frontdesk.core.connectors.http import HttpApi, json_of, validate
from frontdesk.core.connectors.tokens import TokenStore
from frontdesk.core.connectors.x_http import XAuth, created, detail, judge
from frontdesk.core.connectors.x_parse import (
    CreatedDm,
    CreatedPost,
    Me,
    post_url,
    rate_window,
    throttled_until,
)
from frontdesk.kb.lint import x_length

THROTTLE_FALLBACK = timedelta(seconds=60)


class XConnector(Connector):
    """One X account. With OAuth 2.0 the token pair is refreshed before it expires (and once
    on a 401), one refresh at a time: refresh tokens are single-use."""

    channel = "x"

    def __init__(
        self,
        name: str,
        account: XAccount,
        *,
        tokens: TokenStore | None = None,
        bearer: str | None = None,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(name, clock=clock)
        self.account = account
        self.api = HttpApi(
            account.base_url, client=client, transport=transport, timeout=account.timeout_seconds
        )
        self.auth = XAuth(name, account, self.api, clock, tokens=tokens, bearer=bearer)
        self._user_id = account.user_id
        self.username = account.username or ""

    @property
    def capabilities(self) -> Capabilities:
        # An app bearer token reads mentions but cannot write as the account.
        return Capabilities(
            private_messages=self.auth.oauth,
            comments=self.auth.oauth,
            private_replies_to_comments=False,
            max_length=280,
            posts=self.auth.oauth,
            max_post_length=280,
            search=True,  # recent search accepts an app bearer token too
        )

    def text_length(self, text: str) -> int:
        return x_length(text)

    def fetch(self, cursor: str | None) -> FetchResult:
        state = self._decode(cursor)
        result = FetchResult(messages=[], cursor=None)
        streams: list[tuple[str, Callable[[XConnector, str | None, FetchResult], str | None]]] = []
        if self.account.mentions:
            streams.append(("mentions", x_feeds.read_mentions))
        if self.account.direct_messages:
            streams.append(("dms", x_feeds.read_direct_messages))
        for key, read in streams:
            try:
                state[key] = read(self, state.get(key), result)
            except ConnectorError as exc:
                result.problems.append(exc)
        if streams and len(result.problems) == len(streams):
            raise result.problems[0]
        result.messages.sort(key=lambda m: (m.created_at, int(m.external_id)))
        result.cursor = json.dumps(state, sort_keys=True)
        return result

    def _decode(self, cursor: str | None) -> dict[str, str | None]:
        if cursor is None:
            return {}
        try:
            state = json.loads(cursor)
        except ValueError:
            state = None
        if not isinstance(state, dict) or not all(
            isinstance(v, str | None) and str(v or "0").isdigit() for v in state.values()
        ):
            raise PermanentError(f"{self.name}: the stored cursor {cursor[:60]!r} is not X's")
        return state

    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        if private:
            return x_feeds.find_direct_message(self, reply)
        return x_feeds.find_reply(self, reply)

    def _send_public(self, reply: Reply) -> SendReceipt:
        body = {"text": reply.text, "reply": {"in_reply_to_tweet_id": reply.in_reply_to}}
        where = f"{self.name}: X reply (POST /2/tweets)"
        response = self.call("posting", "POST", "/2/tweets", where=where, write=True, json=body)
        post = created(CreatedPost, response, where).data
        if not self.username and self._user_id is None:
            # Only for the link: the post is stored, so nothing here may fail the send.
            with contextlib.suppress(ConnectorError):
                self.me()
        return SendReceipt(
            external_id=post.id,
            sent_at=self.clock(),
            url=post_url(post.id, self.username),
        )

    def _publish(self, post: Reply) -> SendReceipt:
        where = f"{self.name}: X post (POST /2/tweets)"
        response = self.call(
            "posting", "POST", "/2/tweets", where=where, write=True, json={"text": post.text}
        )
        made = created(CreatedPost, response, where).data
        return SendReceipt(
            external_id=made.id, sent_at=self.clock(), url=post_url(made.id, self.username)
        )

    def _find_published(self, post: Reply) -> SendReceipt | None:
        # Our recent posts are matched by parent and text: no parent is a post of our own.
        return x_feeds.find_reply(self, post)

    def _search_posts(self, query: str, cursor: str | None) -> SearchResult:
        if cursor is not None and not cursor.isdigit():
            raise PermanentError(
                f"{self.name}: the stored search cursor {cursor[:60]!r} is not X's"
            )
        return x_search.search_recent(self, query, cursor)

    def _send_private(self, reply: Reply) -> SendReceipt:
        path = f"/2/dm_conversations/with/{reply.recipient}/messages"
        where = f"{self.name}: X direct message (POST {path})"
        response = self.call(
            "sending direct messages",
            "POST",
            path,
            where=where,
            write=True,
            json={"text": reply.text},
        )
        event = created(CreatedDm, response, where).data
        return SendReceipt(external_id=event.dm_event_id, sent_at=self.clock())

    def me(self) -> str:
        """The account's user id (configured, or looked up once)."""
        if self._user_id is None:
            where = f"{self.name}: X account lookup (GET /2/users/me)"
            response = self.call("account lookup", "GET", "/2/users/me", where=where)
            user = validate(Me, json_of(response, where), where).data
            self._user_id, self.username = user.id, user.username
        return self._user_id

    def call(
        self, endpoint: str, method: str, path: str, *, where: str, write: bool = False, **kw: Any
    ) -> httpx.Response:
        """One authorised request, with the rate-limit gate before and the verdict after."""
        self.check_gate(endpoint)
        token = self.auth.token()
        response = self.api.send(method, path, where=where, write=write, headers=_auth(token), **kw)
        if response.status_code == 401 and self.auth.oauth:
            # Revoked or expired early: refresh once; a 401 means nothing was stored.
            token = self.auth.refresh(stale=token)
            response = self.api.send(
                method, path, where=where, write=write, headers=_auth(token), **kw
            )
        self._note(endpoint, response, where)
        judge(response, where, write)
        return response

    def _note(self, endpoint: str, response: httpx.Response, where: str) -> None:
        window = rate_window(response.headers)
        if response.status_code != 429:
            if window is not None:
                self.rate_limits[endpoint] = window
            return
        until = throttled_until(response.headers, self.clock(), THROTTLE_FALLBACK)
        base = window or RateWindow(limit=None, remaining=0, reset_at=None)
        self.rate_limits[endpoint] = RateWindow(base.limit, base.remaining, base.reset_at, until)
        raise RateLimited(
            f"{where}: rate-limited until {until:%H:%M:%S} UTC ({detail(response)})",
            reset_at=until,
        )

    def close(self) -> None:
        self.api.close()


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
