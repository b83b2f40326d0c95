"""Listening on X: a saved search (GET /2/tweets/search/recent) read after its since_id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontdesk.core.connectors.base import PAGE_CAP, SearchResult
from frontdesk.core.connectors.http import json_of, validate
from frontdesk.core.connectors.x_feeds import POST_FIELDS, USER_FIELDS
from frontdesk.core.connectors.x_parse import PostPage, mention_message, users_by_id

if TYPE_CHECKING:
    from frontdesk.core.connectors.x import XConnector

PATH = "/2/tweets/search/recent"
MIN_PAGE = 10
"""The search endpoint takes 10 to 100 results a page (mentions take 5 to 100)."""


def search_recent(conn: XConnector, query: str, since_id: str | None) -> SearchResult:
    """Every post matching `query` after `since_id`, following next_token to the end.

    X answers newest first and only for the last seven days. The first run (no since_id)
    reads at most the account's `max_pages`: a busy brand name matches far more than
    anyone wants as a backlog. Later runs read to their cursor, as the mentions poller
    does, since stopping short and moving the cursor would skip the rest for good. Our
    own posts match our brand's name too; they are not customers' and are left out.
    """
    me = conn.me()
    where = f"{conn.name}: X search (GET {PATH})"
    params: dict[str, str | int] = {
        "query": query,
        "max_results": max(MIN_PAGE, conn.account.page_size),
        "tweet.fields": POST_FIELDS,
        "expansions": "author_id",
        "user.fields": USER_FIELDS,
    }
    if since_id:
        params["since_id"] = since_id
    floor = int(since_id or 0)
    newest = floor
    seen: set[str] = set()
    result = SearchResult(messages=[], cursor=since_id)
    finished = False
    for _ in range(PAGE_CAP if since_id else conn.account.max_pages):
        response = conn.call("search", "GET", PATH, where=where, params=params)
        page = validate(PostPage, json_of(response, where), where)
        users = users_by_id(page.includes)
        for post in page.data:
            if post.id in seen or int(post.id) <= floor:
                continue
            seen.add(post.id)
            newest = max(newest, int(post.id))
            if post.author_id == me:
                continue
            result.messages.append(mention_message(post, users, where))
        if not page.meta.next_token:
            finished = True
            break
        params["next_token"] = page.meta.next_token
    result.messages.sort(key=lambda m: (m.created_at, int(m.external_id)))
    if since_id and not finished:
        # Stopped at the cap with older matches unread: moving the cursor to the newest
        # would skip them for good, so it stays and the next run reads down to it again
        # (what this run read is ingested once; ingest drops the repeats).
        result.partial = True
        return result
    result.cursor = str(newest) if newest else since_id
    return result
