"""Reading X: the mentions and direct-message pollers, and reading our own sends back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontdesk.core.connectors.base import (
    PAGE_CAP,
    FetchResult,
    Reply,
    SendReceipt,
    posted_since,
)
from frontdesk.core.connectors.http import json_of, validate
from frontdesk.core.connectors.x_parse import (
    DmPage,
    PostPage,
    dm_message,
    dm_sent,
    mention_message,
    post_url,
    same_text,
    users_by_id,
)
from frontdesk.core.ingest import InboundMessage

if TYPE_CHECKING:
    from frontdesk.core.connectors.x import XConnector

POST_FIELDS = "id,text,author_id,created_at,conversation_id,in_reply_to_user_id,referenced_tweets"
USER_FIELDS = "id,name,username,public_metrics"
DM_FIELDS = "id,text,event_type,created_at,sender_id,dm_conversation_id,participant_ids"


def read_mentions(conn: XConnector, since_id: str | None, result: FetchResult) -> str | None:
    """Every mention after `since_id`, following next_token to the end; returns the new
    since_id. The caller stores it only after committing the messages, so a crash between
    pages re-reads (ingest drops the repeats) instead of skipping."""
    me = conn.me()
    path = f"/2/users/{me}/mentions"
    where = f"{conn.name}: X mentions (GET {path})"
    params: dict[str, str | int] = {
        "max_results": conn.account.page_size,
        "tweet.fields": POST_FIELDS,
        "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
        "user.fields": USER_FIELDS,
    }
    messages, cursor, _complete = read_posts_after(conn, "mentions", path, where, params, since_id)
    result.messages.extend(messages)
    return cursor


def read_posts_after(
    conn: XConnector,
    kind: str,
    path: str,
    where: str,
    params: dict[str, str | int],
    since_id: str | None,
) -> tuple[list[InboundMessage], str | None, bool]:
    """Posts newer than `since_id` from a paged post endpoint (mentions, recent search), our
    own left out; the cursor to store; and whether the walk reached the cursor. A run with a
    cursor that stops at the page cap keeps `since_id`: moving it past the unread rest would
    skip them for good; the next run reads down to it again (ingest drops the repeats)."""
    me = conn.me()
    if since_id:
        params["since_id"] = since_id
    floor = int(since_id or 0)
    newest = floor
    seen: set[str] = set()
    messages: list[InboundMessage] = []
    # Only the backfill is bounded by max_pages; a run with a cursor reads down to it.
    finished = False
    for _ in range(PAGE_CAP if since_id else conn.account.max_pages):
        response = conn.call(kind, "GET", path, where=where, params=params)
        page = validate(PostPage, json_of(response, where), where)
        users = users_by_id(page.includes)
        for post in page.data:
            # A page may repeat an item (posts arriving between pages shift them, or the
            # platform delivers twice); an item at or below the cursor was read before.
            if post.id in seen or int(post.id) <= floor:
                continue
            seen.add(post.id)
            newest = max(newest, int(post.id))
            if post.author_id == me:
                continue
            messages.append(mention_message(post, users, where))
        # Short pages are normal; only a missing next_token ends the list.
        if not page.meta.next_token:
            finished = True
            break
        # Mentions page with pagination_token, recent search with next_token.
        params["pagination_token" if kind == "mentions" else "next_token"] = page.meta.next_token
    if since_id and not finished:
        return messages, since_id, False
    return messages, str(newest) if newest else since_id, True


def read_direct_messages(conn: XConnector, newest: str | None, result: FetchResult) -> str | None:
    """Direct-message events newer than `newest`. The endpoint has no since_id: events come
    newest first, so paging stops at the first one already read (or at the page budget)."""
    me = conn.me()
    where = f"{conn.name}: X direct messages (GET /2/dm_events)"
    params: dict[str, str | int] = {
        "max_results": 100,
        "event_types": "MessageCreate",
        "dm_event.fields": DM_FIELDS,
        "expansions": "sender_id",
        "user.fields": USER_FIELDS,
    }
    floor = int(newest or 0)
    top = floor
    seen: set[str] = set()
    for _ in range(PAGE_CAP if newest else conn.account.max_pages):
        response = conn.call("direct messages", "GET", "/2/dm_events", where=where, params=params)
        page = validate(DmPage, json_of(response, where), where)
        users = users_by_id(page.includes)
        reached = False
        for event in page.data:
            if int(event.id) <= floor:
                reached = True
                break
            if event.id in seen or event.event_type != "MessageCreate":
                continue
            seen.add(event.id)
            top = max(top, int(event.id))
            if event.sender_id == me:
                result.sent.append(dm_sent(event))
            else:
                result.messages.append(dm_message(event, users, where))
        if reached or not page.meta.next_token:
            break
        params["pagination_token"] = page.meta.next_token
    return str(top) if top else newest


def find_reply(conn: XConnector, reply: Reply) -> SendReceipt | None:
    """Our recent post answering `reply.in_reply_to` (None: a post of our own that answers
    nobody) with the same text, if X stored one."""
    me = conn.me()
    path = f"/2/users/{me}/tweets"
    where = f"{conn.name}: X own posts (GET {path})"
    params = {"max_results": 100, "tweet.fields": POST_FIELDS, "exclude": "retweets"}
    response = conn.call("own posts", "GET", path, where=where, params=params)
    page = validate(PostPage, json_of(response, where), where)
    for post in page.data:
        if not posted_since(post.created_at, reply):
            continue  # the same text, posted before this one could have gone
        if post.replied_to == reply.in_reply_to and same_text(post.text, reply.text):
            return SendReceipt(
                external_id=post.id,
                sent_at=post.created_at or conn.clock(),
                url=post_url(post.id, conn.username),
            )
    return None


def find_direct_message(conn: XConnector, reply: Reply) -> SendReceipt | None:
    """Our recent direct message to `reply.recipient` with the same text, if X stored one."""
    me = conn.me()
    path = f"/2/dm_conversations/with/{reply.recipient}/dm_events"
    where = f"{conn.name}: X conversation (GET {path})"
    params = {"max_results": 100, "event_types": "MessageCreate", "dm_event.fields": DM_FIELDS}
    response = conn.call("conversation read", "GET", path, where=where, params=params)
    page = validate(DmPage, json_of(response, where), where)
    for event in page.data:
        if not posted_since(event.created_at, reply):
            continue  # the same text, sent before this one could have gone
        if event.sender_id == me and same_text(event.text or "", reply.text):
            return SendReceipt(external_id=event.id, sent_at=event.created_at or conn.clock())
    return None
