"""Reading a Facebook Page: the Messenger and comment pollers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from frontdesk.core.connectors.base import (
    PAGE_CAP,
    FetchResult,
    SentRecord,
    make_inbound,
)
from frontdesk.core.connectors.facebook_parse import (
    Comment,
    CommentPage,
    ConversationPage,
    FeedPage,
    Message,
    MessagePage,
    Paging,
    Ref,
)
from frontdesk.core.connectors.http import json_of, validate

if TYPE_CHECKING:
    from frontdesk.core.connectors.facebook import FacebookConnector

P = TypeVar("P", bound=BaseModel)
MESSAGE_FIELDS = "id,created_time,from,to,message"
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url"


def _pages(
    conn: FacebookConnector,
    path: str,
    params: dict[str, str | int],
    model: type[P],
    what: str,
    reading: _Reading,
) -> Iterator[P]:
    """Every page of a Graph edge. Short and even empty pages are normal (privacy filters
    drop items), so only a missing `next` ends the list; cursors are never stored."""
    where = f"{conn.name}: Facebook {what} (GET {path})"
    query = dict(params)
    for _ in range(reading.budget):
        response = conn.call(path, where=where, params=query)
        page = validate(model, json_of(response, where), where)
        yield page
        paging = getattr(page, "paging", None)
        after = paging.after if isinstance(paging, Paging) else None
        if after is None:
            return
        query["after"] = after


def _author(sender: Ref | None, item_id: str) -> dict[str, str]:
    # Meta leaves `from` out when the person's privacy settings hide them from the app.
    if sender is None:
        return {"id": f"anonymous:{item_id}", "name": "Facebook user"}
    return {"id": sender.id, "name": sender.name}


@dataclass(frozen=True)
class Watermark:
    """A stream's position: the newest time read, and the ids read near it. Polls re-read an
    overlap before the mark (Meta's times are to the second and its lists are not snapshots);
    the ids keep that overlap from handing the same items out again."""

    mark: datetime | None = None
    seen: frozenset[str] = frozenset()

    def as_json(self) -> dict[str, Any]:
        return {"mark": self.mark.isoformat() if self.mark else None, "seen": sorted(self.seen)}

    @classmethod
    def from_json(cls, data: Any) -> Watermark:
        if not isinstance(data, dict) or not isinstance(data.get("seen", []), list):
            raise ValueError("not a watermark")
        mark = data.get("mark")
        return cls(datetime.fromisoformat(mark) if mark else None, frozenset(data.get("seen", [])))


class _Reading:
    """One poll of one stream: which items are new, and the watermark it leads to."""

    def __init__(self, start: Watermark, overlap: int, max_pages: int) -> None:
        self.start = start
        self.overlap = timedelta(seconds=overlap)
        self.since = start.mark - self.overlap if start.mark else None
        self.times: dict[str, datetime] = {}
        self.budget = max_pages if start.mark is None else PAGE_CAP

    def before(self, time: datetime) -> bool:
        """Whether `time` is older than anything this poll must look at."""
        return self.since is not None and time < self.since

    def new(self, item_id: str, time: datetime) -> bool:
        self.times[item_id] = time
        return item_id not in self.start.seen

    def end(self, complete: bool) -> Watermark:
        if not complete and self.start.mark is not None:
            # Stopped short of the old mark (PAGE_CAP): keep it, and remember what was
            # handed out, so what lies between is read later instead of skipped.
            return Watermark(self.start.mark, self.start.seen | frozenset(self.times))
        marks = [*self.times.values(), *([self.start.mark] if self.start.mark else [])]
        mark = max(marks, default=None)
        if mark is None:
            return self.start
        floor = mark - self.overlap
        return Watermark(mark, frozenset(i for i, t in self.times.items() if t >= floor))


def read_messenger(conn: FacebookConnector, start: Watermark, result: FetchResult) -> Watermark:
    """Conversations updated since the watermark, and their new messages."""
    reading = _Reading(start, conn.account.overlap_seconds, conn.account.max_pages)
    complete = False
    params: dict[str, str | int] = {
        "platform": "messenger",
        "fields": "id,updated_time",
        "limit": conn.account.page_size,
    }
    path = f"/{conn.page_id}/conversations"
    for page in _pages(conn, path, params, ConversationPage, "conversations", reading):
        for conversation in page.data:
            if reading.before(conversation.updated_time):
                complete = True
                break
            # Even an updated_time seen before is read again: it is to the second, so a
            # message of that same second may have arrived after the last read.
            _read_conversation(conn, conversation.id, reading, result)
        if complete or page.paging.after is None:
            complete = True
            break
    return reading.end(complete)


def _read_conversation(
    conn: FacebookConnector, conversation_id: str, reading: _Reading, result: FetchResult
) -> None:
    params: dict[str, str | int] = {"fields": MESSAGE_FIELDS, "limit": conn.account.page_size}
    path = f"/{conversation_id}/messages"
    for page in _pages(conn, path, params, MessagePage, "messages", reading):
        for message in page.data:
            if reading.before(message.created_time):
                return
            if reading.new(message.id, message.created_time):
                _take_message(conn, message, result)


def _take_message(conn: FacebookConnector, message: Message, result: FetchResult) -> None:
    where = f"{conn.name}: Facebook message {message.id}"
    if message.sender is not None and message.sender.id == conn.page_id:
        to = message.to.data[0].id if message.to and message.to.data else None
        result.sent.append(
            SentRecord(message.id, message.message, message.created_time, recipient=to)
        )
        return
    result.messages.append(
        make_inbound(
            where,
            channel="facebook",
            external_id=message.id,
            text=message.message,
            created_at=message.created_time,
            author=_author(message.sender, message.id),
            visibility="private",
        )
    )


def read_comments(conn: FacebookConnector, start: Watermark, result: FetchResult) -> Watermark:
    """New comments on the Page's recent posts. A post's updated_time moves when someone
    comments, so only posts touched since the watermark are opened."""
    reading = _Reading(start, conn.account.overlap_seconds, conn.account.max_pages)
    path = f"/{conn.page_id}/feed"
    where = f"{conn.name}: Facebook Page feed (GET {path})"
    params = {"fields": "id,created_time,updated_time", "limit": conn.account.feed_posts}
    feed = validate(FeedPage, json_of(conn.call(path, where=where, params=params), where), where)
    for post in feed.data:
        touched = post.updated_time or post.created_time
        if touched and reading.before(touched):
            continue
        comments = f"/{post.id}/comments"
        query: dict[str, str | int] = {
            "filter": "stream",
            "order": "reverse_chronological",
            "fields": COMMENT_FIELDS,
            "limit": conn.account.page_size,
        }
        for page in _pages(conn, comments, query, CommentPage, "comments", reading):
            fresh = [c for c in page.data if not reading.before(c.created_time)]
            for comment in fresh:
                if reading.new(comment.id, comment.created_time):
                    _take_comment(conn, comment, post.id, result)
            if len(fresh) < len(page.data):
                break
    return reading.end(complete=True)


def _take_comment(
    conn: FacebookConnector, comment: Comment, post_id: str, result: FetchResult
) -> None:
    parent = comment.parent.id if comment.parent else post_id
    if comment.sender is not None and comment.sender.id == conn.page_id:
        result.sent.append(
            SentRecord(comment.id, comment.message, comment.created_time, in_reply_to=parent)
        )
        return
    result.messages.append(
        make_inbound(
            f"{conn.name}: Facebook comment {comment.id}",
            channel="facebook",
            external_id=comment.id,
            text=comment.message,
            created_at=comment.created_time,
            author=_author(comment.sender, comment.id),
            visibility="public",
            in_reply_to=parent,
            url=comment.permalink_url,
        )
    )
