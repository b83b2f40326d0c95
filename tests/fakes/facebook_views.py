"""The fake Graph API's read routes, cursor paging and test-only hooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from tests.fakes.facebook_state import (
    PRIVATE_REPLY_WINDOW,
    FbComment,
    FbMessage,
    FbPost,
    PageWorld,
    graph_error,
)
from tests.fakes.platform import DUPLICATE_DELIVERY, TRUNCATE_PAGE, FakeClock, Faults, PageTokens


def requested(params: dict[str, str]) -> set[str]:
    """Field names of a Graph `fields` list, nested selections like parent{id} included."""
    return {re.split(r"[{.]", f)[0] for f in re.split(r",(?![^{]*})", params.get("fields", ""))}


class GraphViews:
    """Mixed into FakeFacebook; everything here runs under the fake's lock."""

    world: PageWorld
    faults: Faults
    clock: FakeClock
    pages: PageTokens

    def time(self, value: datetime) -> str | int:
        raise NotImplementedError

    def _paged(
        self, request: httpx.Request, items: list[Any], render: Callable[[Any], Any], route: str
    ) -> httpx.Response:
        """Cursor paging as Graph does it: `limit`, `after`, a `next` link while more remain;
        TRUNCATE_PAGE gives a short page (or with empty=True an empty one) that still has a
        `next`, and a cursor from another query is refused."""
        params = dict(request.url.params)
        limit = max(1, min(100, int(params.get("limit", 25))))
        start = 0
        if "after" in params:
            found = self.pages.read(params["after"], params, ignore=("after", "before"))
            if found is None:
                return graph_error(400, 100, "(#100) The after cursor is not valid")
            start = found
        truncated = self.faults.take(TRUNCATE_PAGE, route)
        if truncated is not None:
            limit = 0 if truncated.get("empty") else max(1, limit // 2)
        end = start + limit
        page = items[start:end]
        if self.faults.take(DUPLICATE_DELIVERY, route) is not None and page:
            page = [*page, page[0]]
        body: dict[str, Any] = {"data": [render(item) for item in page]}
        paging: dict[str, Any] = {}
        if items:
            token = self.pages.issue(params, end, ignore=("after", "before"))
            paging["cursors"] = {
                "before": self.pages.issue(params, start, ignore=("after", "before")),
                "after": token,
            }
            if end < len(items):
                paging["next"] = str(request.url.copy_set_param("after", token))
        if paging:
            body["paging"] = paging
        return httpx.Response(200, json=body)

    def _conversations(self, request: httpx.Request, body: Any) -> httpx.Response:
        params = dict(request.url.params)
        if params.get("platform") != "messenger":
            return graph_error(400, 100, "(#100) The parameter platform is required")
        every = [c for c in self.world.conversations.values() if c.messages]
        if "user_id" in params:
            every = [c for c in every if c.psid == params["user_id"]]
        ordered = sorted(every, key=lambda c: c.updated, reverse=True)
        fields = requested(params)

        def render(conversation: Any) -> dict[str, Any]:
            out: dict[str, Any] = {"id": conversation.id}
            if "updated_time" in fields:
                out["updated_time"] = self.time(conversation.updated)
            return out

        return self._paged(request, ordered, render, "conversations")

    def _messages(self, request: httpx.Request, body: Any, conversation: str) -> httpx.Response:
        messages = self.world.conversations[conversation].messages
        ordered = sorted(messages, key=lambda m: m.created, reverse=True)
        fields = requested(dict(request.url.params))

        def render(message: FbMessage) -> dict[str, Any]:
            out: dict[str, Any] = {"id": message.id, "created_time": self.time(message.created)}
            if "from" in fields:
                out["from"] = self.world.ref(message.sender)
            if "to" in fields:
                out["to"] = {"data": [self.world.ref(message.recipient)]}
            if "message" in fields:
                out["message"] = message.text
            return out

        return self._paged(request, ordered, render, "conversation.messages")

    def _feed(self, request: httpx.Request, body: Any) -> httpx.Response:
        ordered = sorted(self.world.posts.values(), key=lambda p: p.created, reverse=True)
        fields = requested(dict(request.url.params))

        def render(post: FbPost) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": post.id,
                "message": post.text,
                "created_time": self.time(post.created),
                "updated_time": self.time(post.updated),
            }
            if "from" in fields:  # every post of this fake's feed is the Page's own
                out["from"] = self.world.ref(self.world.page.psid)
            if "permalink_url" in fields:
                out["permalink_url"] = f"https://www.facebook.com/{post.id}"
            return out

        return self._paged(request, ordered, render, "feed")

    def _comments(self, request: httpx.Request, body: Any, target: str) -> httpx.Response:
        params = dict(request.url.params)
        if target in self.world.posts:
            under = [c for c in self.world.comments.values() if c.post_id == target]
            if params.get("filter") != "stream":
                under = [c for c in under if c.parent is None]
        else:
            under = [c for c in self.world.comments.values() if c.parent == target]
        newest_first = params.get("order") == "reverse_chronological"
        ordered = sorted(under, key=lambda c: (c.created, c.id), reverse=newest_first)
        fields = requested(params)

        def render(comment: FbComment) -> dict[str, Any]:
            out: dict[str, Any] = {"id": comment.id, "created_time": self.time(comment.created)}
            if "message" in fields:
                out["message"] = comment.text
            if "from" in fields:
                out["from"] = self.world.ref(comment.sender)
            if "parent" in fields and comment.parent:
                out["parent"] = {"id": comment.parent}
            if "permalink_url" in fields:
                out["permalink_url"] = (
                    f"https://www.facebook.com/{comment.post_id}?comment_id={comment.id}"
                )
            return out

        return self._paged(request, ordered, render, "comments")

    def _comment(self, request: httpx.Request, body: Any, comment_id: str) -> httpx.Response:
        comment = self.world.comments[comment_id]
        fresh = self.clock() - comment.created <= PRIVATE_REPLY_WINDOW
        return httpx.Response(
            200,
            json={
                "id": comment.id,
                "message": comment.text,
                "can_reply_privately": fresh and not comment.private_replied,
            },
        )

    def _hook(self, request: httpx.Request, body: Any, action: str) -> httpx.Response:
        """Test-only: customers' messages and comments, faults, history, the clock."""
        data = body if isinstance(body, dict) else {}
        now = self.clock()
        if action == "fault":
            options = {k: v for k, v in data.items() if k not in ("kind", "route", "times")}
            route = data.get("route", "*")
            self.faults.arm(data["kind"], route, times=data.get("times", 1), **options)
            return httpx.Response(204)
        if action == "clock":
            self.clock.advance(float(data.get("advance", 0)))
            return httpx.Response(204)
        if action == "post":
            return httpx.Response(201, json={"id": self.world.add_post(str(data["text"]), now).id})
        if action in ("inbound_message", "comment"):
            person = self.world.person(str(data.get("name", "Customer")))
            if action == "comment":
                made = self.world.add_comment(str(data["target"]), person.psid, data["text"], now)
                if made is None:
                    return httpx.Response(404)
                return httpx.Response(201, json={"id": made.id})
            message = self.world.add_message(person.psid, self.world.page.psid, data["text"], now)
            return httpx.Response(201, json={"id": message.id})
        if action == "history":
            return httpx.Response(200, json=self._history())
        return httpx.Response(404)

    def _history(self) -> dict[str, Any]:
        return {
            "messages": [
                {"id": m.id, "from": m.sender, "to": m.recipient, "text": m.text}
                for c in self.world.conversations.values()
                for m in c.messages
            ],
            "comments": [
                {"id": c.id, "from": c.sender, "text": c.text, "parent": c.parent or c.post_id}
                for c in self.world.comments.values()
            ],
        }
