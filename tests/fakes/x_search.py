"""The fake X's recent search (GET /2/tweets/search/recent) and a small subset of X's query
language: bare keywords, "quoted phrases", OR between terms, -negation, from:, is:reply,
is:retweet, lang: (every post matches), @mentions and #hashtags (as words). Terms side by
side must all hold; parentheses are dropped, so `(a OR b) c` works and deeper nesting does
not."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from tests.fakes.platform import DUPLICATE_DELIVERY
from tests.fakes.x_state import Post, XWorld
from tests.fakes.x_views import int_param, invalid

if TYPE_CHECKING:
    from tests.fakes.x import FakeX

RECENT = timedelta(days=7)
MAX_QUERY = 512
_TOKEN = re.compile(r'-?"[^"]*"|-?\S+')


@dataclass(frozen=True, slots=True)
class Term:
    kind: str  # word, phrase, from, is
    value: str
    negated: bool = False

    def holds(self, post: Post, world: XWorld) -> bool:
        if self.kind == "from":
            author = world.users.get(post.author_id)
            return author is not None and author.username.lower() == self.value
        if self.kind == "lang":
            return True  # the fake's posts have no language
        if self.kind == "is":
            if self.value == "reply":
                return post.replied_to is not None
            return self.value == "retweet" and post.text.startswith("RT @")
        text = " ".join(post.text.lower().split())
        return re.search(rf"(?<![\w@#]){re.escape(self.value)}(?!\w)", text) is not None


def parse(query: str) -> list[list[Term]]:
    """Groups that must all hold; a group holds when any of its terms does (OR)."""
    groups: list[list[Term]] = []
    join = False
    for raw in _TOKEN.findall(query.replace("(", " ").replace(")", " ")):
        if raw == "OR":
            join = bool(groups)
            continue
        negated = raw.startswith("-")
        body = raw[1:] if negated else raw
        if body.startswith('"'):
            term = Term("phrase", " ".join(body.strip('"').lower().split()), negated)
        elif body.startswith(("from:", "is:", "lang:")):
            kind, _, value = body.partition(":")
            term = Term(kind, value.lower().removeprefix("@"), negated)
        else:
            term = Term("word", body.lower(), negated)
        if join and not negated:
            groups[-1].append(term)
        else:
            groups.append([term])
        join = False
    return groups


def matches(groups: list[list[Term]], post: Post, world: XWorld) -> bool:
    for group in groups:
        if len(group) == 1 and group[0].negated:
            if group[0].holds(post, world):
                return False
        elif not any(t.holds(post, world) for t in group):
            return False
    return True


def search(fake: FakeX, request: httpx.Request, body: Any) -> httpx.Response:
    params = dict(request.url.params)
    query = params.get("query", "")
    if not query.strip():
        return invalid("query", "is required")
    if len(query) > MAX_QUERY:
        return invalid("query", f"must be at most {MAX_QUERY} characters")
    size = int_param(params, "max_results", 10, 10, 100)
    if size is None:
        return invalid("max_results", "must be between 10 and 100")
    if "since_id" in params and not re.fullmatch(r"[0-9]{1,19}", params["since_id"]):
        return invalid("since_id", "must be a numeric id")
    token = params.get("next_token") or params.get("pagination_token")
    start = 0
    if token is not None:
        found = fake.pages.read(token, params, ignore=("next_token", "pagination_token"))
        if found is None:
            return invalid("next_token", "is not a token of this query")
        start = found
    groups = parse(query)
    horizon = fake.clock() - RECENT
    since = int(params.get("since_id", 0))
    items = sorted(
        (
            p
            for p in fake.world.posts.values()
            if p.created_at >= horizon and int(p.id) > since and matches(groups, p, fake.world)
        ),
        key=lambda p: int(p.id),
        reverse=True,
    )
    page, following = fake._slice(items, start, size, "search")
    if fake.faults.take(DUPLICATE_DELIVERY, "search") is not None and page:
        page = [*page, page[0]]
    next_token = None
    if following is not None:
        next_token = fake.pages.issue(params, following, ignore=("next_token", "pagination_token"))
    response = fake.post_page(page, {k: v for k, v in params.items() if k != "next_token"}, None)
    if next_token:
        data = response.json()
        data["meta"]["next_token"] = next_token
        response = httpx.Response(200, json=data)
    return response
