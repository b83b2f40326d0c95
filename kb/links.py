"""Checking every link and contact URL in the knowledge base, politely and concurrently."""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from frontdesk.kb.article import Article

if TYPE_CHECKING:
    import httpx

_MD_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")
_BARE = re.compile(r"https?://[^\s<>()\"']+")
USER_AGENT = "frontdesk-kb-check-links/1"


@dataclass(frozen=True, slots=True)
class LinkResult:
    """The outcome for one URL: ok, moved (with where to), broken (status) or error."""

    url: str
    state: str
    status: int | None
    detail: str
    paths: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "state": self.state,
            "status": self.status,
            "detail": self.detail,
            "articles": list(self.paths),
        }


def links_of(article: Article) -> set[str]:
    """Every http(s) URL an article mentions, in frontmatter or text."""
    found = {link for link in article.links if link.startswith(("http://", "https://"))}
    for text in (article.body, *article.variants.values()):
        found.update(_MD_LINK.findall(text))
        found.update(u.rstrip(".,;:!?") for u in _BARE.findall(text))
    return found


async def check_links(
    articles: list[Article],
    *,
    concurrency: int = 8,
    per_host: int = 2,
    host_delay: float = 0.2,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[LinkResult]:
    """Check each distinct URL once: at most `concurrency` requests in flight, at most
    `per_host` to one host, spaced by `host_delay` seconds, so no site is hammered."""
    # httpx is imported here, not at module level: when its optional CLI extras are
    # installed, `import httpx` loads Rich, and importing frontdesk.kb must not.
    import httpx

    where: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        for url in links_of(article):
            where[url].add(article.path)
    overall = asyncio.Semaphore(concurrency)
    hosts: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
    last_start: dict[str, float] = {}

    async with httpx.AsyncClient(
        follow_redirects=True,
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        transport=transport,
    ) as client:

        async def one(url: str) -> LinkResult:
            host = urlsplit(url).netloc
            async with overall, hosts[host]:
                # Book the start time before sleeping: with per_host > 1, two requests that
                # read the same last start would otherwise set off at the same moment.
                now = time.monotonic()
                start = max(now, last_start.get(host, now - host_delay) + host_delay)
                last_start[host] = start
                if start > now:
                    await asyncio.sleep(start - now)
                return await _probe(client, url, tuple(sorted(where[url])))

        return list(await asyncio.gather(*(one(u) for u in sorted(where))))


async def _probe(client: httpx.AsyncClient, url: str, paths: tuple[str, ...]) -> LinkResult:
    import httpx

    try:
        response = await client.head(url)
        if response.status_code in (405, 501):  # some servers refuse HEAD; ask properly
            response = await client.get(url)
    except httpx.TimeoutException:
        return LinkResult(url, "error", None, "timed out", paths)
    except httpx.HTTPError as exc:
        return LinkResult(url, "error", None, f"{type(exc).__name__}: {exc}", paths)
    permanent = [r for r in response.history if r.status_code in (301, 308)]
    if response.is_success and permanent:
        return LinkResult(
            url, "moved", response.status_code, f"moved permanently to {response.url}", paths
        )
    if response.is_success:
        return LinkResult(url, "ok", response.status_code, "", paths)
    return LinkResult(url, "broken", response.status_code, response.reason_phrase, paths)
