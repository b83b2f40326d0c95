"""Keeping the knowledge base true: schema, placeholders, lengths, duplicates, staleness, words."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from frontdesk.kb.article import (
    CHANNELS,
    FRONTMATTER_KEYS,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    Article,
    fill,
)

if TYPE_CHECKING:  # the index pulls in numpy; the playbook reads LIMITS at start-up
    from frontdesk.kb.store import KnowledgeBase

URL_RE = re.compile(r"https?://[^\s<>()\"']+")
X_URL_LENGTH = 23  # every link counts as a t.co link on X
LIMITS = {"x": 280, "facebook": 2000}
# Placeholder values at the long end of real ones, so a variant that passes fits in practice.
SAMPLE_VALUES = {
    "name": "Maximiliana",
    "handle": "@northwind_fan_15",
    "agent": "Alexandra",
    "conversation": "1234567",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file."""

    path: str
    line: int
    rule: str
    message: str

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "rule": self.rule, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.message}"


def x_length(text: str) -> int:
    """Length as X counts it: URLs as 23, and characters outside the Latin and general
    punctuation ranges (CJK, emoji) as two."""
    total = 0
    position = 0
    for match in URL_RE.finditer(text):
        total += _weighted(text[position : match.start()]) + X_URL_LENGTH
        position = match.end()
    return total + _weighted(text[position:])


def _weighted(text: str) -> int:
    light = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
    return sum(1 if any(lo <= ord(c) <= hi for lo, hi in light) else 2 for c in text)


def lint(
    kb: KnowledgeBase,
    *,
    today: dt.date,
    review_days: int = 180,
    banned_words: tuple[str, ...] = (),
) -> list[Finding]:
    """Every finding for the knowledge base, sorted by path and line."""
    findings = [Finding(p.path, p.line, "parse", p.reason) for p in kb.problems.values()]
    with kb.lock:
        articles = list(kb.articles.values())
    banned = [re.compile(rf"\b{re.escape(w)}\b", re.IGNORECASE) for w in banned_words]
    for article in articles:
        findings.extend(_article_findings(article, today, review_days, banned))
    findings.extend(_duplicates(articles))
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule))


def _article_findings(
    article: Article, today: dt.date, review_days: int, banned: list[re.Pattern[str]]
) -> list[Finding]:
    out: list[Finding] = []
    path, lines = article.path, article.meta_lines
    for key in lines:
        if key not in FRONTMATTER_KEYS:
            out.append(Finding(path, lines[key], "schema", f"unknown frontmatter key {key!r}"))
    for channel in article.channels:
        if channel not in CHANNELS:
            out.append(
                Finding(
                    path,
                    lines.get("channels", 1),
                    "schema",
                    f"unknown channel {channel!r} (use {', '.join(CHANNELS)})",
                )
            )
    for link in article.links:
        if not URL_RE.fullmatch(link):
            out.append(Finding(path, lines.get("links", 1), "schema", f"not a URL: {link!r}"))
    texts = {"body": article.body, **article.variants}
    for part, text in texts.items():
        for name in sorted(set(PLACEHOLDER_RE.findall(text))):
            if name not in PLACEHOLDERS:
                out.append(
                    Finding(
                        path,
                        1,
                        "placeholder",
                        f"unknown placeholder {{{name}}} in {part} "
                        f"(known: {', '.join(PLACEHOLDERS)})",
                    )
                )
        for pattern in banned:
            if match := pattern.search(text):
                out.append(
                    Finding(
                        path, 1, "banned-word", f"{match.group()!r} in {part} is on the banned list"
                    )
                )
    for channel in article.channels:
        limit = LIMITS.get(channel)
        if limit is None:
            continue
        filled = fill(article.text_for(channel), SAMPLE_VALUES)
        length = x_length(filled) if channel == "x" else len(filled)
        if length > limit:
            source = channel if channel in article.variants else "body (no variant)"
            out.append(
                Finding(
                    path,
                    1,
                    "length",
                    f"{channel}: {source} is {length} characters with placeholders "
                    f"filled; the limit is {limit}",
                )
            )
    if article.reviewed is None:
        out.append(Finding(path, 1, "review", "no `reviewed` date"))
    elif (today - article.reviewed).days > review_days:
        out.append(
            Finding(
                path,
                lines.get("reviewed", 1),
                "review",
                f"last reviewed {article.reviewed.isoformat()}, more than {review_days} days ago",
            )
        )
    return out


def _duplicates(articles: list[Article]) -> list[Finding]:
    out: list[Finding] = []
    for attribute in ("id", "title"):
        seen: dict[str, list[Article]] = defaultdict(list)
        for article in articles:
            seen[getattr(article, attribute).casefold()].append(article)
        for group in seen.values():
            if len(group) < 2:
                continue
            paths = ", ".join(sorted(a.path for a in group))
            for article in group:
                out.append(
                    Finding(
                        article.path,
                        article.meta_lines.get(attribute, 1),
                        f"duplicate-{attribute}",
                        f"{attribute} {getattr(article, attribute)!r} is shared by {paths}",
                    )
                )
    return out
