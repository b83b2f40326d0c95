"""Reading a Facebook Page back before any resend: our comments, messages, replies and posts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontdesk.core.connectors.base import Reply, SendReceipt, posted_since
from frontdesk.core.connectors.facebook_feeds import COMMENT_FIELDS, MESSAGE_FIELDS
from frontdesk.core.connectors.facebook_parse import (
    CommentPage,
    ConversationPage,
    FeedPage,
    MessagePage,
    PrivateReplyState,
)
from frontdesk.core.connectors.http import json_of, validate

if TYPE_CHECKING:
    from frontdesk.core.connectors.facebook import FacebookConnector

POST_FIELDS = "id,message,created_time,from,permalink_url"
POSTS_READ_BACK = 100
"""The Page's latest posts searched for a published one (Graph's largest page)."""


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def find_comment_reply(conn: FacebookConnector, reply: Reply) -> SendReceipt | None:
    """The Page's comment under `reply.in_reply_to` with the reply's text, if stored."""
    path = f"/{reply.in_reply_to}/comments"
    where = f"{conn.name}: Facebook comments (GET {path})"
    params = {"filter": "stream", "order": "reverse_chronological", "fields": COMMENT_FIELDS}
    page = validate(CommentPage, json_of(conn.call(path, where=where, params=params), where), where)
    for comment in page.data:
        mine = comment.sender is not None and comment.sender.id == conn.page_id
        if (
            mine
            and _same(comment.message, reply.text)
            and posted_since(comment.created_time, reply)
        ):
            return SendReceipt(comment.id, comment.created_time, comment.permalink_url)
    return None


def find_message(conn: FacebookConnector, reply: Reply) -> SendReceipt | None:
    """The Page's Messenger message to `reply.recipient` with the reply's text, if stored."""
    path = f"/{conn.page_id}/conversations"
    where = f"{conn.name}: Facebook conversations (GET {path})"
    params = {"platform": "messenger", "user_id": str(reply.recipient), "fields": "id,updated_time"}
    found = validate(
        ConversationPage, json_of(conn.call(path, where=where, params=params), where), where
    )
    for conversation in found.data[:1]:
        messages = f"/{conversation.id}/messages"
        where = f"{conn.name}: Facebook messages (GET {messages})"
        query = {"fields": MESSAGE_FIELDS, "limit": conn.account.page_size}
        answer = conn.call(messages, where=where, params=query)
        for message in validate(MessagePage, json_of(answer, where), where).data:
            mine = message.sender is not None and message.sender.id == conn.page_id
            if (
                mine
                and _same(message.message, reply.text)
                and posted_since(message.created_time, reply)
            ):
                return SendReceipt(message.id, message.created_time)
    return None


def find_private_reply(conn: FacebookConnector, reply: Reply) -> SendReceipt | None:
    """Whether the comment has had its one private reply (Meta does not say which message)."""
    path = f"/{reply.in_reply_to}"
    where = f"{conn.name}: Facebook comment (GET {path})"
    params = {"fields": "id,can_reply_privately"}
    state = validate(
        PrivateReplyState, json_of(conn.call(path, where=where, params=params), where), where
    )
    if state.can_reply_privately is False:
        return SendReceipt(
            external_id=f"private-reply:{reply.in_reply_to}",
            sent_at=conn.clock(),
            warning="Facebook says the comment has had its private reply; its id is not given",
        )
    return None


def find_post(conn: FacebookConnector, post: Reply) -> SendReceipt | None:
    """The Page's own post with `post.text`, published no earlier than `post.not_before`, if
    Meta stored one among the Page's latest posts."""
    path = f"/{conn.page_id}/feed"
    where = f"{conn.name}: Facebook Page feed (GET {path})"
    params = {"fields": POST_FIELDS, "limit": POSTS_READ_BACK}
    feed = validate(FeedPage, json_of(conn.call(path, where=where, params=params), where), where)
    for item in feed.data:
        if not posted_since(item.created_time, post):
            continue  # the same text posted before (a weekly notice), not this one
        # The feed also shows visitors' posts on the Page; only the Page's own can be ours.
        ours = item.sender is None or item.sender.id == conn.page_id
        if ours and _same(item.message, post.text):
            url = item.permalink_url or f"https://www.facebook.com/{item.id}"
            return SendReceipt(item.id, item.created_time or conn.clock(), url)
    return None
