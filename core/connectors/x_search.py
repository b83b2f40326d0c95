"""Listening on X: a saved search (GET /2/tweets/search/recent) read after its since_id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontdesk.core.connectors.base import SearchResult
from frontdesk.core.connectors.x_feeds import POST_FIELDS, USER_FIELDS, read_posts_after

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
    where = f"{conn.name}: X search (GET {PATH})"
    params: dict[str, str | int] = {
        "query": query,
        "max_results": max(MIN_PAGE, conn.account.page_size),
        "tweet.fields": POST_FIELDS,
        "expansions": "author_id",
        "user.fields": USER_FIELDS,
    }
    messages, cursor, complete = read_posts_after(conn, "search", PATH, where, params, since_id)
    messages.sort(key=lambda m: (m.created_at, int(m.external_id)))
    # partial: stopped at the page cap with older matches unread (the cursor stayed put).
    return SearchResult(messages=messages, cursor=cursor, partial=not complete)
