"""A generic connector: poll a URL serving normalised messages, POST replies to another."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.core.clock import utcnow
from frontdesk.core.connectors.accounts import JsonFeedAccount
from frontdesk.core.connectors.base import (
    Capabilities,
    Clock,
    Connector,
    FetchResult,
    RateWindow,
    Reply,
    SendReceipt,
    SentRecord,
    make_inbound,
)
from frontdesk.core.connectors.errors import (
    AmbiguousOutcome,
    AuthFailed,
    MalformedResponse,
    PermanentError,
    RateLimited,
    TransientError,
)
from frontdesk.core.connectors.http import HttpApi, json_of, one_line, parse_time, validate

THROTTLE_FALLBACK = timedelta(seconds=60)


class _Page(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messages: list[dict[str, Any]] = Field(default_factory=list)
    cursor: str | None = None
    more: bool = False


class _Stored(BaseModel):
    model_config = ConfigDict(extra="ignore")

    external_id: str = Field(min_length=1, max_length=255)
    url: str | None = None


class JsonFeedConnector(Connector):
    """Polls `url` (GET, `?cursor=` after the first page) and sends to `reply_url`."""

    channel = "jsonfeed"

    def __init__(
        self,
        name: str,
        account: JsonFeedAccount,
        *,
        token: str | None = None,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utcnow,
    ) -> None:
        super().__init__(name, clock=clock)
        self.account = account
        self.api = HttpApi("", client=client, transport=transport, timeout=account.timeout_seconds)
        self._token = token

    @property
    def capabilities(self) -> Capabilities:
        can_send = self.account.reply_url is not None
        return Capabilities(
            private_messages=can_send,
            comments=can_send,
            private_replies_to_comments=False,
            max_length=self.account.max_length,
        )

    def _headers(self) -> dict[str, str]:
        if self._token is None and self.account.credentials is not None:
            self._token = self.account.credentials.read(self.name)
        return {"authorization": f"Bearer {self._token}"} if self._token else {}

    def _call(
        self,
        method: str,
        url: str,
        *,
        where: str,
        write: bool = False,
        missing_ok: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        self.check_gate("feed")
        headers = self._headers() | kw.pop("headers", {})
        response = self.api.send(method, url, where=where, write=write, headers=headers, **kw)
        status = response.status_code
        if status < 300 or (status == 404 and missing_ok):
            return response
        reason = _reason(response)
        if status == 429:
            until = self._retry_after(response)
            self.rate_limits["feed"] = RateWindow(None, 0, None, until)
            raise RateLimited(f"{where}: rate-limited until {until:%H:%M:%S} UTC", reset_at=until)
        if status in (401, 403):
            raise AuthFailed(f"{where}: the feed refused the credentials ({reason})")
        if status >= 500:
            if write:
                raise AmbiguousOutcome(f"{where}: the feed failed ({reason}); read it back first")
            raise TransientError(f"{where}: the feed is unavailable ({reason})")
        raise PermanentError(f"{where}: the feed refused it ({reason})")

    def _retry_after(self, response: httpx.Response) -> datetime:
        now = self.clock()
        raw = response.headers.get("retry-after", "").strip()
        if raw.isdigit():
            return now + timedelta(seconds=int(raw))
        try:
            when = parsedate_to_datetime(raw) if raw else None
        except (TypeError, ValueError):
            when = None
        return when if when is not None and when > now else now + THROTTLE_FALLBACK

    def fetch(self, cursor: str | None) -> FetchResult:
        where = f"{self.name}: feed (GET {self.account.url})"
        result = FetchResult(messages=[], cursor=cursor)
        seen: set[str] = set()
        for _ in range(self.account.max_pages):
            params = {"cursor": result.cursor} if result.cursor else {}
            response = self._call("GET", self.account.url, where=where, params=params)
            page = validate(_Page, json_of(response, where), where)
            for index, item in enumerate(page.messages):
                self._take(item, f"{where}: messages.{index}", seen, result)
            result.cursor = page.cursor or result.cursor
            if not page.more:
                break
        return result

    def _take(self, item: dict[str, Any], where: str, seen: set[str], result: FetchResult) -> None:
        if item.get("outbound") is True:
            try:
                record = SentRecord(
                    external_id=str(item["external_id"]),
                    text=str(item.get("text", "")),
                    created_at=parse_time(item["created_at"]),
                    in_reply_to=item.get("in_reply_to"),
                )
            except (KeyError, ValueError, TypeError) as exc:
                raise MalformedResponse(f"{where}: an outbound item needs {exc}") from None
            result.sent.append(record)
            return
        message = make_inbound(where, **({"channel": self.account.channel} | item))
        if message.external_id not in seen:
            seen.add(message.external_id)
            result.messages.append(message)

    def _post(self, reply: Reply, private: bool) -> SendReceipt:
        url = str(self.account.reply_url)
        where = f"{self.name}: feed reply (POST {url})"
        body = {
            "key": reply.key,
            "text": reply.text,
            "private": private,
            "in_reply_to": reply.in_reply_to,
            "recipient": reply.recipient,
        }
        # The protocol makes the reply URL idempotent on the key: a resend is harmless.
        headers = {"idempotency-key": reply.key}
        response = self._call("POST", url, where=where, write=True, json=body, headers=headers)
        try:
            stored = validate(_Stored, json_of(response, where), where)
        except MalformedResponse as exc:
            raise AmbiguousOutcome(f"{exc.message}; read it back before resending") from None
        return SendReceipt(external_id=stored.external_id, sent_at=self.clock(), url=stored.url)

    def _send_public(self, reply: Reply) -> SendReceipt:
        return self._post(reply, private=False)

    def _send_private(self, reply: Reply) -> SendReceipt:
        return self._post(reply, private=True)

    def find_sent(self, reply: Reply, *, private: bool) -> SendReceipt | None:
        if self.account.reply_url is None:
            return None
        where = f"{self.name}: feed reply lookup (GET {self.account.reply_url})"
        response = self._call(
            "GET", self.account.reply_url, where=where, missing_ok=True, params={"key": reply.key}
        )
        if response.status_code == 404:
            return None
        stored = validate(_Stored, json_of(response, where), where)
        return SendReceipt(external_id=stored.external_id, sent_at=self.clock(), url=stored.url)

    def close(self) -> None:
        self.api.close()


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    return (
        one_line(f"HTTP {response.status_code}: {error}")
        if error
        else f"HTTP {response.status_code}"
    )
