"""The fake Facebook Page's world: people, conversations, posts, comments, error envelopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)


@dataclass
class Person:
    psid: str
    name: str


@dataclass
class FbMessage:
    id: str
    sender: str
    recipient: str
    text: str
    created: datetime


@dataclass
class Conversation:
    id: str
    psid: str
    messages: list[FbMessage] = field(default_factory=list)

    @property
    def updated(self) -> datetime:
        return max(m.created for m in self.messages)


@dataclass
class FbComment:
    id: str
    post_id: str
    sender: str
    text: str
    created: datetime
    parent: str | None = None
    private_replied: bool = False


@dataclass
class FbPost:
    id: str
    text: str
    created: datetime
    updated: datetime


def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> httpx.Response:
    """Meta's error envelope."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return httpx.Response(status, json={"error": error})


class PageWorld:
    """State only; routes in tests/fakes/facebook.py read and change it under the lock."""

    def __init__(self, page_id: str, page_name: str) -> None:
        self.page = Person(page_id, page_name)
        self.people: dict[str, Person] = {page_id: self.page}
        self.conversations: dict[str, Conversation] = {}
        self.posts: dict[str, FbPost] = {}
        self.comments: dict[str, FbComment] = {}
        self.last_inbound: dict[str, datetime] = {}
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def person(self, name: str) -> Person:
        for known in self.people.values():
            if known.name == name:
                return known
        person = Person(str(2_400_000_000_000_000 + self._next()), name)
        self.people[person.psid] = person
        return person

    def conversation_with(self, psid: str) -> Conversation:
        for conversation in self.conversations.values():
            if conversation.psid == psid:
                return conversation
        conversation = Conversation(f"t_{10_000 + self._next()}", psid)
        self.conversations[conversation.id] = conversation
        return conversation

    def add_message(self, sender: str, recipient: str, text: str, now: datetime) -> FbMessage:
        psid = recipient if sender == self.page.psid else sender
        message = FbMessage(f"m_{self._next():08d}AbCd", sender, recipient, text, now)
        self.conversation_with(psid).messages.append(message)
        if sender != self.page.psid:
            self.last_inbound[sender] = now
        return message

    def add_post(self, text: str, now: datetime) -> FbPost:
        post = FbPost(f"{self.page.psid}_{self._next()}", text, now, now)
        self.posts[post.id] = post
        return post

    def add_comment(self, target: str, sender: str, text: str, now: datetime) -> FbComment | None:
        """A comment on a post, or on a comment (a reply); None when `target` is unknown."""
        parent = self.comments.get(target)
        post = self.posts.get(parent.post_id if parent else target)
        if post is None:
            return None
        comment = FbComment(
            f"{post.id.split('_')[1]}_{self._next()}",
            post.id,
            sender,
            text,
            now,
            parent.id if parent else None,
        )
        self.comments[comment.id] = comment
        post.updated = max(post.updated, now)
        return comment

    def ref(self, psid: str) -> dict[str, str]:
        person = self.people[psid]
        return {"id": person.psid, "name": person.name}


def graph_time(value: datetime, epoch: bool) -> str | int:
    return int(value.timestamp()) if epoch else value.strftime("%Y-%m-%dT%H:%M:%S+0000")
