"""The fake X's world (users, posts, DMs, tokens, rate windows) and how X renders it."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

X_EPOCH_MS = 1288834974657
WINDOW = timedelta(minutes=15)
DAY = timedelta(hours=24)

# Per-user 15-minute limits from X's published tables (they differ by tier; tests may
# change them on the instance).
LIMITS = {
    "users.me": 75,
    "mentions": 300,
    "search": 300,
    "timeline": 900,
    "tweets.create": 100,
    "dm_events": 15,
    "dm_conversation": 15,
    "dm.create": 15,
}
DAILY_LIMITS = {"tweets.create": 10_000, "dm.create": 1_440}


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int = 0


@dataclass
class Post:
    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    replied_to: str | None = None
    in_reply_to_user_id: str | None = None


@dataclass
class DmEvent:
    id: str
    text: str
    sender_id: str
    conversation_id: str
    created_at: datetime


@dataclass
class Window:
    remaining: int
    reset: datetime


@dataclass
class TokenFamily:
    refresh: dict[str, bool] = field(default_factory=dict)
    """Refresh tokens issued in the chain, and whether each was spent."""
    access: set[str] = field(default_factory=set)
    revoked: bool = False


def stamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def escape(text: str) -> str:
    """X escapes these three in every text it returns."""
    return html.escape(text, quote=False)


def new_secret(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(18)}"


def render_post(post: Post, fields: set[str], naming: str) -> dict[str, Any]:
    """A post as X returns it: id, text and edit history always, the rest when asked for."""
    out: dict[str, Any] = {
        "id": post.id,
        "text": escape(post.text),
        f"edit_history_{naming}_ids": [post.id],
    }
    if "author_id" in fields:
        out["author_id"] = post.author_id
    if "created_at" in fields:
        out["created_at"] = stamp(post.created_at)
    if "conversation_id" in fields:
        out["conversation_id"] = post.conversation_id
    if "in_reply_to_user_id" in fields and post.in_reply_to_user_id:
        out["in_reply_to_user_id"] = post.in_reply_to_user_id
    if ("referenced_tweets" in fields or "referenced_posts" in fields) and post.replied_to:
        out[f"referenced_{naming}s"] = [{"type": "replied_to", "id": post.replied_to}]
    return out


def render_user(user: User, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
    if "public_metrics" in fields:
        out["public_metrics"] = {
            "followers_count": user.followers,
            "following_count": 0,
            "tweet_count": 0,
            "listed_count": 0,
        }
    return out


def render_dm(event: DmEvent, fields: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": event.id,
        "event_type": "MessageCreate",
        "text": escape(event.text),
    }
    if "sender_id" in fields:
        out["sender_id"] = event.sender_id
    if "created_at" in fields:
        out["created_at"] = stamp(event.created_at)
    if "dm_conversation_id" in fields:
        out["dm_conversation_id"] = event.conversation_id
    return out


def fields_of(params: dict[str, str], *names: str) -> set[str]:
    wanted: set[str] = set()
    for name in names:
        wanted.update(f for f in params.get(name, "").split(",") if f)
    return wanted


class XWorld:
    """State only: the routes in tests/fakes/x.py read and change it under the fake's lock."""

    def __init__(self, me: User) -> None:
        self.me = me
        self.users: dict[str, User] = {me.id: me}
        self.posts: dict[str, Post] = {}
        self.dms: list[DmEvent] = []
        self.families: list[TokenFamily] = []
        self.access_expiry: dict[str, datetime] = {}
        self.app_bearer = new_secret("app")
        self.windows: dict[tuple[str, str], Window] = {}
        self.limits = dict(LIMITS)
        self.daily_limits = dict(DAILY_LIMITS)
        self._sequence = 0

    def new_id(self, now: datetime) -> str:
        """A snowflake: milliseconds since X's epoch in the top bits, a counter below, so
        ids grow with time and never repeat."""
        self._sequence += 1
        millis = int(now.timestamp() * 1000) - X_EPOCH_MS
        return str((millis << 22) + (self._sequence % (1 << 22)))

    def user(self, username: str, name: str = "", followers: int = 0) -> User:
        for known in self.users.values():
            if known.username.lower() == username.lower():
                return known
        user = User(str(10_000_000 + len(self.users)), username, name or username, followers)
        self.users[user.id] = user
        return user

    def add_post(
        self, author: User, text: str, now: datetime, replied_to: str | None = None
    ) -> Post:
        post_id = self.new_id(now)
        parent = self.posts.get(replied_to or "")
        post = Post(
            id=post_id,
            text=text,
            author_id=author.id,
            created_at=now,
            conversation_id=parent.conversation_id if parent else post_id,
            replied_to=replied_to,
            in_reply_to_user_id=parent.author_id if parent else None,
        )
        self.posts[post_id] = post
        return post

    def add_dm(self, sender: User, recipient: User, text: str, now: datetime) -> DmEvent:
        low, high = sorted((sender.id, recipient.id), key=int)
        event = DmEvent(self.new_id(now), text, sender.id, f"{low}-{high}", now)
        self.dms.append(event)
        return event

    def mentions(self) -> list[Post]:
        handle = f"@{self.me.username.lower()}"
        found = [
            p for p in self.posts.values() if handle in p.text.lower() and p.author_id != self.me.id
        ]
        return sorted(found, key=lambda p: int(p.id), reverse=True)

    def issue_tokens(self, now: datetime, family: TokenFamily | None = None) -> dict[str, str]:
        if family is None:
            family = TokenFamily()
            self.families.append(family)
        access, refresh = new_secret("access"), new_secret("refresh")
        family.access.add(access)
        family.refresh[refresh] = False
        self.access_expiry[access] = now + timedelta(hours=2)
        return {"access_token": access, "refresh_token": refresh}

    def token_valid(self, token: str, now: datetime) -> bool:
        for family in self.families:
            if token in family.access:
                return not family.revoked and self.access_expiry.get(token, now) > now
        return False
