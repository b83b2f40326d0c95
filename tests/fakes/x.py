"""A stateful fake of X API v2, after research/connectors.md section 1.7."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from frontdesk.kb.lint import x_length
from tests.fakes import x_search
from tests.fakes.platform import (
    DUPLICATE_DELIVERY,
    THROTTLE,
    FakeClock,
    FakePlatform,
    PageTokens,
    Routed,
    problem,
)
from tests.fakes.x_state import (
    DAY,
    WINDOW,
    DmEvent,
    Post,
    User,
    Window,
    XWorld,
    render_post,
)
from tests.fakes.x_views import XViews, int_param, invalid

APP_ONLY = {"mentions", "timeline", "search"}


class FakeX(XViews, FakePlatform):
    """X for one account (`me`). Knobs are plain attributes; faults are in `self.faults`."""

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        username: str = "acme",
        user_id: str = "2244994945",
        naming: str = "tweet",
        seed: int = 0,
    ) -> None:
        super().__init__(clock, seed)
        self.world = XWorld(User(user_id, username, "Acme Support"))
        self.naming = naming
        """"tweet" (documented) or "post" (production spec 2.167) field names in answers."""
        self.rate_limits = True
        self.legacy_throttle_body = False
        self.duplicate_window: timedelta | None = DAY
        self.reply_restriction = False
        self.revoke_family_on_reuse = True
        self.mention_cap = 800
        self.client_id = "fake-client-id"
        self.pages = PageTokens("x")
        self._routes: list[tuple[str, re.Pattern[str], str, Any, bool]] = [
            ("GET", re.compile(r"/2/users/me"), "users.me", self._users_me, False),
            ("GET", re.compile(r"/2/users/(\d+)/mentions"), "mentions", self._mentions, False),
            ("GET", re.compile(r"/2/users/(\d+)/tweets"), "timeline", self._timeline, False),
            ("POST", re.compile(r"/2/tweets"), "tweets.create", self._create_post, True),
            ("GET", re.compile(r"/2/tweets/search/recent"), "search", self._search, False),
            ("GET", re.compile(r"/2/dm_events"), "dm_events", self._dm_events, False),
            (
                "GET",
                re.compile(r"/2/dm_conversations/with/(\d+)/dm_events"),
                "dm_conversation",
                self._dm_conversation,
                False,
            ),
            (
                "POST",
                re.compile(r"/2/dm_conversations/with/(\d+)/messages"),
                "dm.create",
                self._create_dm,
                True,
            ),
            ("POST", re.compile(r"/2/oauth2/token"), "oauth.token", self._token, True),
            ("POST", re.compile(r"/_fake/(mention|dm|fault|clock)"), "_fake", self._hook, False),
            ("GET", re.compile(r"/_fake/history"), "_fake", self._history, False),
        ]

    # Test helpers: what customers do on the platform.

    @property
    def me(self) -> User:
        return self.world.me

    def user(self, username: str, name: str = "", followers: int = 0) -> User:
        with self.lock:
            return self.world.user(username, name, followers)

    def mention(self, author: User, text: str = "", *, replied_to: str | None = None) -> Post:
        """A customer's post mentioning us (the handle is added when the text lacks it)."""
        with self.lock:
            if f"@{self.me.username.lower()}" not in text.lower():
                text = f"@{self.me.username} {text}".strip()
            return self.world.add_post(author, text, self.clock(), replied_to)

    def post(self, author: User, text: str, *, replied_to: str | None = None) -> Post:
        """A public post by anyone, mentioning us or not (what listening finds)."""
        with self.lock:
            return self.world.add_post(author, text, self.clock(), replied_to)

    def dm(self, sender: User, text: str) -> DmEvent:
        with self.lock:
            return self.world.add_dm(sender, self.me, text, self.clock())

    def replies(self) -> list[Post]:
        """Every post our account made, oldest first: the oracle for "never twice"."""
        with self.lock:
            return [p for p in self.world.posts.values() if p.author_id == self.me.id]

    def sent_dms(self) -> list[DmEvent]:
        with self.lock:
            return [e for e in self.world.dms if e.sender_id == self.me.id]

    def oauth_pair(self, lifetime: timedelta = timedelta(hours=2)) -> dict[str, Any]:
        """A fresh user token pair for `me`, as the authorisation flow would hand it over."""
        with self.lock:
            pair: dict[str, Any] = dict(self.world.issue_tokens(self.clock()))
            self.world.access_expiry[pair["access_token"]] = self.clock() + lifetime
            return {**pair, "expires_at": self.clock() + lifetime, "client_id": self.client_id}

    @property
    def app_bearer(self) -> str:
        return self.world.app_bearer

    # Dispatch, authentication and rate limits.

    def route(self, request: httpx.Request) -> Routed | None:
        for method, pattern, name, handler, write in self._routes:
            match = pattern.fullmatch(request.url.path)
            if match and request.method == method:
                return Routed(name, handler, match.groups(), write)
        return None

    def gate(self, routed: Routed, request: httpx.Request) -> httpx.Response | dict[str, str]:
        if routed.route in ("oauth.token", "_fake"):
            return {}
        now = self.clock()
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == self.world.app_bearer:
            if routed.route not in APP_ONLY:
                return problem(
                    403,
                    "Unsupported Authentication",
                    "Authenticating with OAuth 2.0 Application-Only is forbidden for this"
                    " endpoint.",
                )
        elif not self.world.token_valid(token, now):
            return problem(401, "Unauthorized", "Unauthorized")
        forced = self.faults.take(THROTTLE, routed.route)
        if forced is not None:
            reset = now + timedelta(seconds=float(forced.get("reset_in", 900)))
            remaining = int(forced.get("remaining", 0))
            return self._throttle(routed.route, remaining, reset, forced.get("body"))
        headers: dict[str, str] = {}
        if not self.rate_limits:
            return headers
        for family, span, limits in (
            ("x-rate-limit", WINDOW, self.world.limits),
            ("x-user-limit-24hour", DAY, self.world.daily_limits),
        ):
            limit = limits.get(routed.route)
            if limit is None:
                continue
            key = (routed.route, family)
            window = self.world.windows.get(key)
            if window is None or now >= window.reset:
                window = self.world.windows[key] = Window(limit, now + span)
            if window.remaining <= 0:
                return self._throttle(routed.route, 0, window.reset, None, family)
            window.remaining -= 1
            headers |= {
                f"{family}-limit": str(limit),
                f"{family}-remaining": str(window.remaining),
                f"{family}-reset": str(int(window.reset.timestamp())),
            }
        return headers

    def _throttle(
        self,
        route: str,
        remaining: int,
        reset: datetime,
        body: str | None,
        family: str = "x-rate-limit",
    ) -> httpx.Response:
        headers = {
            f"{family}-limit": str(self.world.limits.get(route, 15)),
            f"{family}-remaining": str(remaining),
            f"{family}-reset": str(int(reset.timestamp())),
        }
        if body == "legacy" or (body is None and self.legacy_throttle_body):
            payload: dict[str, Any] = {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        else:
            kind = "usage-capped" if body == "usage_capped" else "rate-limit-exceeded"
            payload = {
                "title": "Too Many Requests",
                "detail": "Too Many Requests",
                "type": f"https://api.twitter.com/2/problems/{kind}",
                "status": 429,
            }
        return httpx.Response(429, json=payload, headers=headers)

    # Routes.

    def _mentions(self, request: httpx.Request, body: Any, user_id: str) -> httpx.Response:
        params = dict(request.url.params)
        size = int_param(params, "max_results", 10, 5, 100)
        if size is None:
            return invalid("max_results", "must be between 5 and 100")
        for key in ("since_id", "until_id"):
            if key in params and not re.fullmatch(r"[0-9]{1,19}", params[key]):
                return invalid(key, "must be a numeric id")
        every = self.world.mentions() if user_id == self.me.id else []
        reachable = every[: self.mention_cap]
        since, until = int(params.get("since_id", 0)), int(params.get("until_id", 0) or 1 << 64)
        items = [p for p in reachable if since < int(p.id) < until]
        start = self._position(params)
        if start is None:
            return invalid("pagination_token", "is not a token of this query")
        page, following = self._slice(items, start, size, "mentions")
        if self.faults.take(DUPLICATE_DELIVERY, "mentions") is not None:
            # Deliver again one already delivered: the newest at or below since_id.
            old = [p for p in reachable if int(p.id) <= since]
            page = page + old[:1] if old else page + page[:1]
        return self.post_page(page, params, following)

    def _timeline(self, request: httpx.Request, body: Any, user_id: str) -> httpx.Response:
        params = dict(request.url.params)
        size = int_param(params, "max_results", 10, 5, 100) or 10
        mine = [p for p in self.world.posts.values() if p.author_id == user_id]
        items = sorted(mine, key=lambda p: int(p.id), reverse=True)
        start = self._position(params) or 0
        page, following = self._slice(items, start, size, "timeline")
        return self.post_page(page, params, following)

    def _search(self, request: httpx.Request, body: Any) -> httpx.Response:
        return x_search.search(self, request, body)

    def _create_post(self, request: httpx.Request, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
            return invalid("text", "is required")
        text: str = body["text"]
        if x_length(text) > 280:
            return problem(403, "Forbidden", "Your Tweet text is too long.")
        parent: Post | None = None
        reply = body.get("reply")
        if reply is not None:
            target = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            parent = self.world.posts.get(str(target))
            if parent is None:
                return invalid("reply.in_reply_to_tweet_id", f"post {target} does not exist")
            summoned = f"@{self.me.username.lower()}" in parent.text.lower()
            if self.reply_restriction and not summoned and parent.author_id != self.me.id:
                return problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been"
                    " mentioned or otherwise engaged by the author of the post you are"
                    " replying to.",
                )
        now = self.clock()
        window = self.duplicate_window
        for post in self.world.posts.values():
            recent = window is not None and now - post.created_at < window
            if post.author_id == self.me.id and post.text == text and recent:
                return problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
        post = self.world.add_post(self.me, text, now, parent.id if parent else None)
        fields = {"id", "text"}
        return httpx.Response(201, json={"data": render_post(post, fields, self.naming)})
