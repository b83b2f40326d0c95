"""A stateful fake of the Graph API for one Page, after research/connectors.md section 2.6."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.fakes.facebook_state import (
    HUMAN_AGENT_WINDOW,
    PRIVATE_REPLY_WINDOW,
    WINDOW,
    FbComment,
    FbMessage,
    FbPost,
    PageWorld,
    Person,
    graph_error,
    graph_time,
)
from tests.fakes.facebook_views import GraphViews
from tests.fakes.platform import THROTTLE, FakeClock, FakePlatform, PageTokens, Routed

VERSION = re.compile(r"^/v\d+\.\d+(/.*)$")


class FakeFacebook(GraphViews, FakePlatform):
    """One Page and its audience. Knobs are attributes; faults are in `self.faults`."""

    def __init__(
        self,
        clock: FakeClock | None = None,
        *,
        page_id: str = "1000001",
        page_name: str = "Acme",
        seed: int = 0,
    ) -> None:
        super().__init__(clock, seed)
        self.world = PageWorld(page_id, page_name)
        self.page_token = "page-token-acme"
        self.human_agent_permission = False
        self.epoch_times = False
        """Answer times as Unix seconds instead of ISO 8601 (the guide shows both)."""
        self.hourly_calls: int | None = None
        """Calls per rolling hour before error 4; None: unlimited."""
        self.unavailable: set[str] = set()
        self.pages = PageTokens("facebook")
        self._calls: list[datetime] = []

    # Test helpers: what customers do.

    @property
    def page(self) -> Person:
        return self.world.page

    def person(self, name: str) -> Person:
        with self.lock:
            return self.world.person(name)

    def message_from(self, person: Person, text: str) -> FbMessage:
        with self.lock:
            return self.world.add_message(person.psid, self.page.psid, text, self.clock())

    def post(self, text: str) -> FbPost:
        with self.lock:
            return self.world.add_post(text, self.clock())

    def comment(self, person: Person, target: str, text: str) -> FbComment:
        with self.lock:
            comment = self.world.add_comment(target, person.psid, text, self.clock())
            assert comment is not None, f"no post or comment {target}"
            return comment

    def page_messages(self) -> list[FbMessage]:
        """Every message the Page sent: the oracle for "never twice"."""
        with self.lock:
            return [
                m
                for c in self.world.conversations.values()
                for m in c.messages
                if m.sender == self.page.psid
            ]

    def page_posts(self, text: str | None = None) -> list[FbPost]:
        """The Page's posts (all of them, or those with `text`): the oracle for scheduled
        posts published "exactly once"."""
        with self.lock:
            return [p for p in self.world.posts.values() if text is None or p.text == text]

    def page_comments(self) -> list[FbComment]:
        with self.lock:
            return [c for c in self.world.comments.values() if c.sender == self.page.psid]

    # Dispatch, token and throttling.

    def route(self, request: httpx.Request) -> Routed | None:
        path = request.url.path
        if path.startswith("/_fake/"):
            return Routed("_fake", self._hook, (path.removeprefix("/_fake/"),))
        match = VERSION.match(path)
        if match is None:
            return None
        parts = match.group(1).strip("/").split("/")
        world, method = self.world, request.method
        node = parts[0]
        edge = parts[1] if len(parts) > 1 else ""
        is_page = node == world.page.psid
        table: dict[tuple[str, bool, str], tuple[str, Any, bool]] = {
            ("GET", True, "conversations"): ("conversations", self._conversations, False),
            ("GET", True, "feed"): ("feed", self._feed, False),
            ("POST", True, "messages"): ("messages.send", self._send, True),
            ("POST", True, "feed"): ("feed.create", self._create_post, True),
        }
        if (method, is_page, edge) in table:
            name, handler, write = table[(method, is_page, edge)]
            return Routed(name, handler, (), write)
        if node in world.conversations and method == "GET" and edge == "messages":
            return Routed("conversation.messages", self._messages, (node,))
        known = node in world.posts or node in world.comments
        if known and edge == "comments":
            if method == "GET":
                return Routed("comments", self._comments, (node,))
            if method == "POST":
                return Routed("comments.create", self._create_comment, (node,), True)
        if node in world.comments and method == "GET" and not edge:
            return Routed("comment", self._comment, (node,))
        return None

    def gate(self, routed: Routed, request: httpx.Request) -> httpx.Response | dict[str, str]:
        if routed.route == "_fake":
            return {}
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        token = request.url.params.get("access_token", token)
        if token != self.page_token:
            return graph_error(
                400, 190, "Error validating access token: Session has expired.", subcode=463
            )
        now = self.clock()
        forced = self.faults.take(THROTTLE, routed.route)
        if forced is not None:
            return self._throttled(
                int(forced.get("code", 32)),
                int(forced.get("status", 400)),
                int(forced.get("regain_minutes", 10)),
            )
        if self.hourly_calls is None:
            return {}
        self._calls = [t for t in self._calls if now - t < timedelta(hours=1)] + [now]
        percent = 100 * len(self._calls) // self.hourly_calls
        if percent > 100:
            return self._throttled(4, 403, 60 - int((now - self._calls[0]).total_seconds() // 60))
        usage = {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
        return {"x-app-usage": json.dumps(usage)}

    def _throttled(self, code: int, status: int, minutes: int) -> httpx.Response:
        messages = {
            4: "(#4) Application request limit reached",
            17: "(#17) User request limit reached",
            32: "(#32) Page request limit reached",
            613: "(#613) Calls to this api have exceeded the rate limit.",
        }
        response = graph_error(status, code, messages.get(code, f"(#{code}) Rate limited"))
        usage = {
            self.page.psid: [
                {
                    "type": "pages",
                    "call_count": 100,
                    "total_cputime": 40,
                    "total_time": 40,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        response.headers["x-business-use-case-usage"] = json.dumps(usage)
        return response

    # The Send API: Messenger replies and private replies to comments.

    def _send(self, request: httpx.Request, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
            return graph_error(400, 100, "(#100) param recipient must be non-empty.")
        text = (body.get("message") or {}).get("text")
        if not isinstance(text, str) or not text:
            return graph_error(400, 100, "(#100) Message cannot be empty", subcode=2018034)
        recipient = body["recipient"]
        if "comment_id" in recipient:
            return self._private_reply(str(recipient["comment_id"]), text)
        psid = str(recipient.get("id"))
        if psid not in self.world.people or psid == self.page.psid:
            return graph_error(400, 100, "(#100) No matching user found", subcode=2018001)
        if psid in self.unavailable:
            return graph_error(400, 551, "(#551) This person isn't available right now.", 1545041)
        refused = self._window(psid, body)
        if refused is not None:
            return refused
        message = self.world.add_message(self.page.psid, psid, text, self.clock())
        return httpx.Response(200, json={"recipient_id": psid, "message_id": message.id})

    def _window(self, psid: str, body: dict[str, Any]) -> httpx.Response | None:
        last = self.world.last_inbound.get(psid)
        age = self.clock() - last if last else None
        kind = body.get("messaging_type", "RESPONSE")
        if kind == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT":
            if not self.human_agent_permission:
                return graph_error(
                    400, 10, "(#10) The app lacks the human_agent permission", 2018065
                )
            limit = HUMAN_AGENT_WINDOW
        else:
            limit = WINDOW
        if age is None or age > limit:
            return graph_error(
                400, 10, "(#10) This message is sent outside of allowed window.", 2018278
            )
        return None

    def _private_reply(self, comment_id: str, text: str) -> httpx.Response:
        comment = self.world.comments.get(comment_id)
        if comment is None:
            return graph_error(400, 100, "(#100) Invalid comment_id parameter", 2018292)
        if comment.private_replied:
            return graph_error(400, 10900, "(#10900) Activity already replied to")
        if self.clock() - comment.created > PRIVATE_REPLY_WINDOW:
            return graph_error(400, 10903, "(#10903) This activity can't be replied to")
        comment.private_replied = True
        message = self.world.add_message(self.page.psid, comment.sender, text, self.clock())
        return httpx.Response(200, json={"recipient_id": comment.sender, "message_id": message.id})

    def _create_post(self, request: httpx.Request, body: Any) -> httpx.Response:
        """POST /{page-id}/feed: a post on the Page's own feed, answered {"id": page_post}."""
        text = body.get("message") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return graph_error(400, 100, "(#100) Missing message or attachment")
        return httpx.Response(200, json={"id": self.world.add_post(text, self.clock()).id})

    def _create_comment(self, request: httpx.Request, body: Any, target: str) -> httpx.Response:
        text = body.get("message") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text:
            return graph_error(400, 100, "(#100) Missing message or attachment")
        comment = self.world.add_comment(target, self.page.psid, text, self.clock())
        assert comment is not None  # the route only matches known targets
        return httpx.Response(200, json={"id": comment.id})

    def time(self, value: datetime) -> str | int:
        return graph_time(value, self.epoch_times)
