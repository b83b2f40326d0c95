"""Facebook Page: Messenger and Page comments in; Send API, comment replies, private replies out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors import facebook_feeds, facebook_readback
from frontdesk.core.connectors.accounts import FacebookAccount
from frontdesk.core.connectors.base import (
    Capabilities,
    Clock,
    Connector,
    FetchResult,
    RateWindow,
    Reply,
    SendReceipt,
)
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    ConnectorError,
    MalformedResponse,
    PermanentError,
    RateLimited,
    WindowClosed,
)
from frontdesk.core.connectors.facebook_feeds import Watermark
from frontdesk.core.connectors.facebook_parse import Created, Sent, judge
from frontdesk.core.connectors.http import HttpApi, json_of, validate

M = TypeVar("M", bound=BaseModel)
GATE = "Graph API"
POST_MAX_LENGTH = 63_206
"""The longest Page post Facebook takes (the Messenger limit of replies is 2,000)."""
Stream = Callable[["FacebookConnector", Watermark, FetchResult], Watermark]


class FacebookConnector(Connector):
    """One Facebook Page, through a Page access token."""

    channel = "facebook"

    def __init__(
        self,
        name: str,
        account: FacebookAccount,
        *,
        token: str | None = None,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(name, clock=clock)
        self.account = account
        self.page_id = account.page_id
        self.api = HttpApi(
            f"{account.base_url}/{account.api_version}",
            client=client,
            transport=transport,
            timeout=account.timeout_seconds,
        )
        self._token = token

    @property
    def capabilities(self) -> Capabilities:
        # Messenger's text limit (2,000) is the tighter one; comments allow 8,000.
        return Capabilities(
            private_messages=True,
            comments=True,
            private_replies_to_comments=True,
            max_length=2000,
            posts=True,
            max_post_length=POST_MAX_LENGTH,
        )

    def fetch(self, cursor: str | None) -> FetchResult:
        state = self._decode(cursor)
        result = FetchResult(messages=[], cursor=None)
        streams: list[tuple[str, Stream]] = []
        if self.account.messenger:
            streams.append(("messenger", facebook_feeds.read_messenger))
        if self.account.comments:
            streams.append(("comments", facebook_feeds.read_comments))
        for key, read in streams:
            try:
                state[key] = read(self, state.get(key, Watermark()), result)
            except ConnectorError as exc:
                result.problems.append(exc)
        if streams and len(result.problems) == len(streams):
            raise result.problems[0]
        result.messages.sort(key=lambda m: m.created_at)
        result.cursor = json.dumps({k: v.as_json() for k, v in state.items()}, sort_keys=True)
        return result

    def _decode(self, cursor: str | None) -> dict[str, Watermark]:
        if cursor is None:
            return {}
        try:
            raw = json.loads(cursor)
            return {str(k): Watermark.from_json(v) for k, v in dict(raw).items()}
        except (ValueError, TypeError):
            raise PermanentError(
                f"{self.name}: the stored cursor {cursor[:60]!r} is not Facebook's"
            ) from None

    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        if not private:
            return facebook_readback.find_comment_reply(self, reply)
        if reply.recipient:
            return facebook_readback.find_message(self, reply)
        return facebook_readback.find_private_reply(self, reply)

    def _send_public(self, reply: Reply) -> SendReceipt:
        path = f"/{reply.in_reply_to}/comments"
        where = f"{self.name}: Facebook comment reply (POST {path})"
        response = self.call(
            path, where=where, write=True, method="POST", data={"message": reply.text}
        )
        created = _written(Created, response, where)
        return SendReceipt(external_id=created.id, sent_at=self.clock())

    def _publish(self, post: Reply) -> SendReceipt:
        path = f"/{self.page_id}/feed"
        where = f"{self.name}: Facebook Page post (POST {path})"
        response = self.call(
            path, where=where, write=True, method="POST", data={"message": post.text}
        )
        made = _written(Created, response, where)
        url = f"https://www.facebook.com/{made.id}"
        return SendReceipt(external_id=made.id, sent_at=self.clock(), url=url)

    def _find_published(self, post: Reply) -> SendReceipt | None:
        return facebook_readback.find_post(self, post)

    def _send_private(self, reply: Reply) -> SendReceipt:
        path = f"/{self.page_id}/messages"
        if reply.recipient is None:
            return self._private_reply(reply, path)
        where = f"{self.name}: Facebook message (POST {path})"
        body: dict[str, Any] = {
            "recipient": {"id": reply.recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": reply.text},
        }
        try:
            response = self.call(path, where=where, write=True, method="POST", json=body)
        except WindowClosed:
            if not self.account.human_agent_tag:
                raise
            # Refused outright, so nothing was stored: a human may answer for 7 days with
            # the HUMAN_AGENT tag (a permission Meta grants per app).
            tagged = body | {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
            response = self.call(
                path, where=where, write=True, method="POST", json=tagged, human_agent=True
            )
        sent = _written(Sent, response, where)
        return SendReceipt(external_id=sent.message_id, sent_at=self.clock())

    def _private_reply(self, reply: Reply, path: str) -> SendReceipt:
        where = f"{self.name}: Facebook private reply to comment {reply.in_reply_to} (POST {path})"
        body = {"recipient": {"comment_id": reply.in_reply_to}, "message": {"text": reply.text}}
        try:
            response = self.call(path, where=where, write=True, method="POST", json=body)
        except PermanentError as exc:
            raise PermanentError(
                f"{exc.message}; Facebook allows one private reply per comment, within 7 days"
                " of it",
                title="private reply refused",
            ) from None
        sent = _written(Sent, response, where)
        return SendReceipt(external_id=sent.message_id, sent_at=self.clock())

    def call(
        self,
        path: str,
        *,
        where: str,
        write: bool = False,
        method: str = "GET",
        human_agent: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        """One Graph request with the Page token; throttling closes the gate for every call
        of this Page until Meta's estimate has passed."""
        self.check_gate(GATE)
        if self._token is None:
            self._token = self.account.credentials.read(self.name)
        headers = {"authorization": f"Bearer {self._token}"}
        response = self.api.send(method, path, where=where, write=write, headers=headers, **kw)
        self._note_usage(response)
        try:
            judge(response, where, write=write, now=self.clock(), human_agent=human_agent)
        except RateLimited as exc:
            window = self.rate_limits.get(GATE) or RateWindow(100, 0, None)
            self.rate_limits[GATE] = RateWindow(window.limit, 0, None, exc.reset_at)
            raise
        return response

    def _note_usage(self, response: httpx.Response) -> None:
        """Meta reports usage as percentages once an app calls enough; keep the highest."""
        highest = 0
        for name in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
            raw = response.headers.get(name)
            if raw:
                highest = max(highest, _percent(raw))
        if highest:
            self.rate_limits[GATE] = RateWindow(
                limit=100, remaining=max(0, 100 - highest), reset_at=None
            )

    def close(self) -> None:
        self.api.close()


def _percent(raw: str) -> int:
    try:
        data = json.loads(raw)
    except ValueError:
        return 0
    entries: list[Any] = [data] if isinstance(data, dict) and "call_count" in data else []
    if isinstance(data, dict) and not entries:
        for value in data.values():
            entries.extend(value if isinstance(value, list) else [])
    numbers = [
        int(v)
        for entry in entries
        if isinstance(entry, dict)
        for k, v in entry.items()
        if k in ("call_count", "total_cputime", "total_time") and isinstance(v, int | float)
    ]
    return max(numbers, default=0)


def _written(model: type[M], response: httpx.Response, where: str) -> M:
    try:
        return validate(model, json_of(response, where), where)
    except MalformedResponse as exc:
        raise AmbiguousOutcome(
            f"{exc.message}; Facebook accepted the request, so read it back before resending"
        ) from None
