"""X API v2 answers as models (both the tweet.* and post.* namings), and their ingest form."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from frontdesk.core.connectors.base import RateWindow, SentRecord, make_inbound
from frontdesk.core.connectors.errors import MalformedResponse
from frontdesk.core.connectors.http import header_int
from frontdesk.core.ingest import InboundMessage

X_EPOCH_MS = 1288834974657
WEB_URL = "https://x.com"
ID = r"^[0-9]{1,19}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class Reference(_Model):
    type: str
    id: str = Field(pattern=ID)


class Post(_Model):
    """A post (tweet); the spec renamed the tweet fields to post fields in 2.167."""

    id: str = Field(pattern=ID)
    text: str
    author_id: str | None = None
    created_at: datetime | None = None
    conversation_id: str | None = None
    referenced: list[Reference] = Field(
        default_factory=list, validation_alias=AliasChoices("referenced_tweets", "referenced_posts")
    )
    edit_history: list[str] = Field(
        default_factory=list,
        validation_alias=AliasChoices("edit_history_tweet_ids", "edit_history_post_ids"),
    )

    @property
    def replied_to(self) -> str | None:
        return next((r.id for r in self.referenced if r.type == "replied_to"), None)


class Metrics(_Model):
    followers_count: int | None = Field(default=None, ge=0)


class User(_Model):
    id: str = Field(pattern=ID)
    username: str = ""
    name: str = ""
    public_metrics: Metrics | None = None


class Includes(_Model):
    users: list[User] = Field(default_factory=list)
    posts: list[Post] = Field(
        default_factory=list, validation_alias=AliasChoices("tweets", "posts")
    )


class Meta(_Model):
    result_count: int | None = None
    newest_id: str | None = None
    oldest_id: str | None = None
    next_token: str | None = None


class PostPage(_Model):
    """One page of GET /2/users/:id/mentions (or any post list); `data` is absent when empty."""

    data: list[Post] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    meta: Meta = Field(default_factory=Meta)


class DmEvent(_Model):
    id: str = Field(pattern=ID)
    event_type: str
    text: str | None = None
    sender_id: str | None = None
    dm_conversation_id: str | None = None
    created_at: datetime | None = None
    participant_ids: list[str] = Field(default_factory=list)


class DmPage(_Model):
    data: list[DmEvent] = Field(default_factory=list)
    includes: Includes = Field(default_factory=Includes)
    meta: Meta = Field(default_factory=Meta)


class CreatedPost(_Model):
    class _Data(_Model):
        id: str = Field(pattern=ID)
        text: str = ""

    data: _Data


class CreatedDm(_Model):
    class _Data(_Model):
        dm_conversation_id: str = Field(min_length=1)
        dm_event_id: str = Field(pattern=ID)

    data: _Data


class Me(_Model):
    data: User


class TokenAnswer(_Model):
    access_token: str = Field(min_length=1)
    refresh_token: str = Field(min_length=1)
    expires_in: int = Field(default=7200, gt=0)


def snowflake_time(post_id: str) -> datetime:
    """When X minted an id: its top bits are milliseconds since X's epoch."""
    return datetime.fromtimestamp(((int(post_id) >> 22) + X_EPOCH_MS) / 1000, UTC)


def post_url(post_id: str, username: str = "") -> str:
    return f"{WEB_URL}/{username or 'i'}/status/{post_id}"


def users_by_id(includes: Includes) -> dict[str, User]:
    return {u.id: u for u in includes.users}


def _author(user_id: str, users: dict[str, User]) -> dict[str, Any]:
    user = users.get(user_id)
    if user is None:
        return {"id": user_id}
    metrics = user.public_metrics
    return {
        "id": user_id,
        "handle": user.username,
        "name": user.name,
        "followers": metrics.followers_count if metrics else None,
    }


def mention_message(post: Post, users: dict[str, User], where: str) -> InboundMessage:
    """A mention as ingest takes it. X escapes &, < and > in text; ingest stores it plain."""
    if not post.author_id:
        raise MalformedResponse(
            f"{where}: post {post.id} has no author_id (was expansions=author_id sent?)"
        )
    author = _author(post.author_id, users)
    return make_inbound(
        f"{where}: post {post.id}",
        channel="x",
        external_id=post.id,
        text=html.unescape(post.text),
        created_at=post.created_at or snowflake_time(post.id),
        author=author,
        visibility="public",
        in_reply_to=post.replied_to,
        url=post_url(post.id, author.get("handle", "")),
    )


def dm_message(event: DmEvent, users: dict[str, User], where: str) -> InboundMessage:
    """A customer's direct message; one-to-one threads are keyed by the customer (ingest)."""
    if not event.sender_id:
        raise MalformedResponse(f"{where}: event {event.id} has no sender_id")
    cid = event.dm_conversation_id or ""
    one_to_one = re.fullmatch(r"[0-9]+-[0-9]+", cid) is not None
    return make_inbound(
        f"{where}: event {event.id}",
        channel="x",
        external_id=event.id,
        text=html.unescape(event.text or ""),
        created_at=event.created_at or snowflake_time(event.id),
        author=_author(event.sender_id, users),
        visibility="private",
        thread_id=None if one_to_one or not cid else f"dm-group:{cid}",
    )


def dm_sent(event: DmEvent) -> SentRecord:
    """One of our own direct messages; the recipient is the other side of a 1:1 id."""
    ids = (event.dm_conversation_id or "").split("-")
    others = [i for i in ids if i != event.sender_id] if len(ids) == 2 else []
    return SentRecord(
        external_id=event.id,
        text=html.unescape(event.text or ""),
        created_at=event.created_at or snowflake_time(event.id),
        recipient=others[0] if others else None,
    )


_LIMIT_HEADER = re.compile(r"^x-(?P<family>[a-z0-9-]*limit[a-z0-9-]*?)-remaining$")


def rate_window(headers: httpx.Headers) -> RateWindow | None:
    """The 15-minute window X reports on (most) answers."""
    remaining = header_int(headers, "x-rate-limit-remaining")
    reset = header_int(headers, "x-rate-limit-reset")
    if remaining is None and reset is None:
        return None
    return RateWindow(
        limit=header_int(headers, "x-rate-limit-limit"),
        remaining=remaining,
        reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
    )


def throttled_until(headers: httpx.Headers, now: datetime, fallback: timedelta) -> datetime:
    """When a 429 lifts: the latest reset among the exhausted limit families (15-minute,
    24-hour user and app); if none reports exhaustion (X has answered 429 with remaining
    above zero), the latest reset given; never earlier than `now + fallback` otherwise."""
    exhausted: list[int] = []
    every: list[int] = []
    for name in headers:
        match = _LIMIT_HEADER.match(name.lower())
        if match is None:
            continue
        reset = header_int(headers, f"x-{match['family']}-reset")
        if reset is None:
            continue
        every.append(reset)
        if header_int(headers, name) == 0:
            exhausted.append(reset)
    chosen = max(exhausted or every, default=None)
    if chosen is None:
        return now + fallback
    until = datetime.fromtimestamp(chosen, UTC)
    return until if until > now else now + fallback


def same_text(posted: str, wanted: str) -> bool:
    """Whether a post read back is the text we sent: X escapes HTML and rewrites links."""

    def norm(text: str) -> str:
        text = re.sub(r"https?://\S+", "<link>", html.unescape(text))
        return " ".join(text.split())

    return norm(posted) == norm(wanted)
