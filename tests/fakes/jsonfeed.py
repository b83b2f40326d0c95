"""A stateful fake of the JSON feed protocol of docs/channels.md, replies idempotent on key."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.platform import (
    DUPLICATE_DELIVERY,
    THROTTLE,
    TRUNCATE_PAGE,
    FakeClock,
    FakePlatform,
    Routed,
)


class FakeFeed(FakePlatform):
    """`GET /feed`, `POST /replies`, `GET /replies?key=`; a bearer token when `token` is set."""

    def __init__(
        self, clock: FakeClock | None = None, *, page_size: int = 3, token: str | None = None
    ) -> None:
        super().__init__(clock)
        self.items: list[dict[str, Any]] = []
        self.replies: dict[str, dict[str, Any]] = {}
        self.page_size = page_size
        self.token = token

    def publish(self, **item: Any) -> dict[str, Any]:
        """A message appears at the source (any fields; the connector validates them)."""
        with self.lock:
            item.setdefault("external_id", f"feed-{len(self.items) + 1}")
            item.setdefault("created_at", self.clock().isoformat())
            self.items.append(item)
            return item

    def route(self, request: httpx.Request) -> Routed | None:
        path, method = request.url.path, request.method
        if path == "/feed" and method == "GET":
            return Routed("feed", self._feed)
        if path == "/replies" and method == "POST":
            return Routed("replies.create", self._reply, write=True)
        if path == "/replies" and method == "GET":
            return Routed("replies.lookup", self._lookup)
        return None

    def gate(self, routed: Routed, request: httpx.Request) -> httpx.Response | dict[str, str]:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"error": "bad token"})
        throttle = self.faults.take(THROTTLE, routed.route)
        if throttle is not None:
            retry = str(throttle.get("retry_after", 30))
            return httpx.Response(429, json={"error": "slow down"}, headers={"retry-after": retry})
        return {}

    def _feed(self, request: httpx.Request, body: Any) -> httpx.Response:
        cursor = request.url.params.get("cursor", "pos-0")
        if not cursor.startswith("pos-") or not cursor[4:].isdigit():
            return httpx.Response(400, json={"error": f"unknown cursor {cursor}"})
        start = int(cursor[4:])
        size = self.page_size
        if self.faults.take(TRUNCATE_PAGE, "feed") is not None:
            size = max(1, size // 2)
        page = self.items[start : start + size]
        end = start + len(page)
        if self.faults.take(DUPLICATE_DELIVERY, "feed") is not None and start > 0:
            page = [self.items[start - 1], *page]  # one delivered before, again
        return httpx.Response(
            200,
            json={"messages": page, "cursor": f"pos-{end}", "more": end < len(self.items)},
        )

    def _reply(self, request: httpx.Request, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not body.get("key") or not body.get("text"):
            return httpx.Response(422, json={"error": "key and text are required"})
        known = self.replies.get(body["key"])
        if known is not None:
            return httpx.Response(200, json=known)
        stored = {
            "external_id": f"reply-{len(self.replies) + 1}",
            "url": f"https://feed.example/replies/{len(self.replies) + 1}",
            **{k: body.get(k) for k in ("text", "private", "in_reply_to", "recipient")},
        }
        self.replies[body["key"]] = stored
        return httpx.Response(201, json=stored)

    def _lookup(self, request: httpx.Request, body: Any) -> httpx.Response:
        known = self.replies.get(request.url.params.get("key", ""))
        return httpx.Response(200, json=known) if known else httpx.Response(404)
