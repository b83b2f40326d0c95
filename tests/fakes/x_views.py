"""The fake X's read routes for direct messages, paging, token refresh and test-only hooks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.fakes.platform import (
    DUPLICATE_DELIVERY,
    TRUNCATE_PAGE,
    FakeClock,
    Faults,
    PageTokens,
)
from tests.fakes.x_state import (
    DmEvent,
    Post,
    User,
    XWorld,
    fields_of,
    render_dm,
    render_post,
    render_user,
)

HORIZON = timedelta(days=30)
INVALID = "https://api.twitter.com/2/problems/invalid-request"


def invalid(parameter: str, message: str) -> httpx.Response:
    return httpx.Response(
        400,
        json={
            "errors": [{"parameters": {parameter: []}, "message": f"{parameter} {message}"}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID,
        },
    )


def int_param(params: dict[str, str], name: str, default: int, low: int, high: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        return None
    return int(raw)


class XViews:
    """Mixed into FakeX; everything here runs under the fake's lock."""

    world: XWorld
    naming: str
    faults: Faults
    clock: FakeClock
    pages: PageTokens
    client_id: str
    revoke_family_on_reuse: bool

    def _position(self, params: dict[str, str]) -> int | None:
        token = params.get("pagination_token")
        if token is None:
            return 0
        return self.pages.read(token, params, ignore=("pagination_token",))

    def _slice(
        self, items: list[Any], start: int, size: int, route: str
    ) -> tuple[list[Any], int | None]:
        """One page and where the next starts (None: last page). TRUNCATE_PAGE serves fewer
        than asked for, with the next token still given, as Meta documents and X may do."""
        if self.faults.take(TRUNCATE_PAGE, route) is not None:
            size = max(1, size // 2)
        end = start + size
        return items[start:end], end if end < len(items) else None

    def _next(self, params: dict[str, str], position: int | None) -> str | None:
        if position is None:
            return None
        return self.pages.issue(params, position, ignore=("pagination_token",))

    def post_page(
        self, page: list[Post], params: dict[str, str], following: int | None
    ) -> httpx.Response:
        fields = fields_of(params, "tweet.fields", "post.fields")
        expansions = fields_of(params, "expansions")
        user_fields = fields_of(params, "user.fields")
        body: dict[str, Any] = {}
        if page:
            body["data"] = [render_post(p, fields, self.naming) for p in page]
        includes: dict[str, Any] = {}
        if "author_id" in expansions and page:
            authors = dict.fromkeys(p.author_id for p in page)
            includes["users"] = [render_user(self.world.users[a], user_fields) for a in authors]
        if expansions & {"referenced_tweets.id", "referenced_posts.id"}:
            parents = [self.world.posts[p.replied_to] for p in page if p.replied_to]
            if parents:
                includes[f"{self.naming}s"] = [render_post(p, fields, self.naming) for p in parents]
        if includes:
            body["includes"] = includes
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = max((p.id for p in page), key=int)
            meta["oldest_id"] = min((p.id for p in page), key=int)
        token = self._next(params, following)
        if token:
            meta["next_token"] = token
        body["meta"] = meta
        return httpx.Response(200, json=body)

    def _dm_list(self, params: dict[str, str], events: list[DmEvent], route: str) -> httpx.Response:
        size = int_param(params, "max_results", 100, 1, 100)
        if size is None:
            return invalid("max_results", "must be between 1 and 100")
        token = params.get("pagination_token")
        if token is not None and len(token) < 16:
            return invalid("pagination_token", "must be at least 16 characters")
        start = self._position(params)
        if start is None:
            return invalid("pagination_token", "is not a token of this query")
        horizon = self.clock() - HORIZON
        recent = [e for e in events if e.created_at >= horizon]
        items = sorted(recent, key=lambda e: int(e.id), reverse=True)
        page, following = self._slice(items, start, size, route)
        if self.faults.take(DUPLICATE_DELIVERY, route) is not None and page:
            page = [*page, page[0]]
        fields = fields_of(params, "dm_event.fields")
        body: dict[str, Any] = {}
        if page:
            body["data"] = [render_dm(e, fields) for e in page]
            if "sender_id" in fields_of(params, "expansions"):
                senders = dict.fromkeys(e.sender_id for e in page)
                user_fields = fields_of(params, "user.fields")
                body["includes"] = {
                    "users": [render_user(self.world.users[s], user_fields) for s in senders]
                }
        meta: dict[str, Any] = {"result_count": len(page)}
        if following is not None:
            meta["next_token"] = self._next(params, following)
        body["meta"] = meta
        return httpx.Response(200, json=body)

    def _mine(self, event: DmEvent) -> bool:
        return self.world.me.id in event.conversation_id.split("-")

    def _dm_events(self, request: httpx.Request, body: Any) -> httpx.Response:
        events = [e for e in self.world.dms if self._mine(e)]
        return self._dm_list(dict(request.url.params), events, "dm_events")

    def _dm_conversation(self, request: httpx.Request, body: Any, other: str) -> httpx.Response:
        low, high = sorted((self.world.me.id, other), key=int)
        events = [e for e in self.world.dms if e.conversation_id == f"{low}-{high}"]
        return self._dm_list(dict(request.url.params), events, "dm_conversation")

    def _create_dm(self, request: httpx.Request, body: Any, other: str) -> httpx.Response:
        recipient = self.world.users.get(other)
        if recipient is None or recipient.id == self.world.me.id:
            return invalid("participant_id", f"{other} is not a user who can be messaged")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return invalid("text", "is required")
        event = self.world.add_dm(self.world.me, recipient, body["text"], self.clock())
        data = {"dm_conversation_id": event.conversation_id, "dm_event_id": event.id}
        return httpx.Response(201, json={"data": data})

    def _token(self, request: httpx.Request, body: Any) -> httpx.Response:
        form = body if isinstance(body, dict) else {}
        refused = httpx.Response(
            400,
            json={
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
        )
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != self.client_id:
            return refused
        for family in self.world.families:
            spent = family.refresh.get(str(form.get("refresh_token")))
            if spent is None:
                continue
            if spent or family.revoked:
                # Reusing a spent refresh token breaks the whole chain.
                family.revoked = family.revoked or self.revoke_family_on_reuse
                return refused
            family.refresh[str(form["refresh_token"])] = True
            pair = self.world.issue_tokens(self.clock(), family)
            scope = "tweet.read tweet.write users.read dm.read dm.write offline.access"
            return httpx.Response(
                200, json={"token_type": "bearer", "expires_in": 7200, "scope": scope, **pair}
            )
        return refused

    def _users_me(self, request: httpx.Request, body: Any) -> httpx.Response:
        user_fields = fields_of(dict(request.url.params), "user.fields")
        return httpx.Response(200, json={"data": render_user(self.world.me, user_fields)})

    def _hook(self, request: httpx.Request, body: Any, action: str) -> httpx.Response:
        """Test-only: what customers do, faults and the clock, for runs over a socket."""
        data = body if isinstance(body, dict) else {}
        if action == "fault":
            options = {k: v for k, v in data.items() if k not in ("kind", "route", "times")}
            route = data.get("route", "*")
            self.faults.arm(data["kind"], route, times=data.get("times", 1), **options)
            return httpx.Response(204)
        if action == "clock":
            self.clock.advance(float(data.get("advance", 0)))
            return httpx.Response(204)
        author: User = self.world.user(str(data.get("username", "customer")))
        if action == "dm":
            event = self.world.add_dm(author, self.world.me, str(data["text"]), self.clock())
            return httpx.Response(201, json={"id": event.id})
        text = str(data.get("text", ""))
        if f"@{self.world.me.username.lower()}" not in text.lower():
            text = f"@{self.world.me.username} {text}"
        post = self.world.add_post(author, text, self.clock(), data.get("in_reply_to"))
        return httpx.Response(201, json={"id": post.id})

    def _history(self, request: httpx.Request, body: Any) -> httpx.Response:
        fields = {"author_id", "referenced_tweets", "created_at"}
        posts = [render_post(p, fields, "tweet") for p in self.world.posts.values()]
        dms = [render_dm(e, {"sender_id", "dm_conversation_id"}) for e in self.world.dms]
        return httpx.Response(200, json={"posts": posts, "dms": dms})
