"""Triage: rules giving an inbound message a category, source tags and a priority with reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import Field, field_validator, model_validator

from frontdesk.core.playbook.base import (
    CATEGORIES,
    SOURCE_TAGS,
    Channel,
    Regex,
    Section,
    handle_key,
)
from frontdesk.core.playbook.phrases import PhraseMatcher, normalise


class TriageRule(Section):
    """One `[[triage.rules]]` entry. Every condition given must hold (keywords: any of them;
    patterns: any of them; authors: any of them); a rule with no condition is an error."""

    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    """Whole words or phrases, any case; `refund*` matches any word starting `refund`."""
    patterns: list[Regex] = Field(default_factory=list)
    """Regular expressions searched in the text (add `(?i)` to ignore case)."""
    authors: list[str] = Field(default_factory=list)
    """Handles or platform ids (`@summit_sam`, `1012345678`), any case, @ optional."""
    min_followers: int | None = Field(default=None, ge=0)
    """The author has at least this many followers (unknown counts never match)."""
    channels: list[Channel] = Field(default_factory=list)
    streams: list[str] = Field(default_factory=list)
    """Listening streams (sync config names) whose matches the rule is for."""
    visibility: str | None = None
    """`public` or `private`."""
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    weight: int = 0
    """Added to the priority when the rule matches (may be negative)."""

    @field_validator("visibility")
    @classmethod
    def _visibility(cls, value: str | None) -> str | None:
        if value not in (None, "public", "private"):
            raise ValueError(f"visibility is public or private, not {value!r}")
        return value

    @model_validator(mode="after")
    def _has_condition(self) -> TriageRule:
        conditions = (self.keywords, self.patterns, self.authors, self.channels, self.streams)
        if not any(conditions) and self.min_followers is None and self.visibility is None:
            raise ValueError(f"rule {self.name!r} has no condition, so it would match everything")
        return self


class TriageConfig(Section):
    """The `[triage]` table."""

    categories: list[str] = Field(default_factory=lambda: list(CATEGORIES))
    """The categories operators choose from; rules may only set these."""
    tags: list[str] = Field(default_factory=lambda: list(SOURCE_TAGS))
    """The source tags operators choose from; rules may only set these."""
    default_category: str = "question"
    """The category of a message no rule categorised."""
    rules: list[TriageRule] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Inbound:
    """What triage and routing look at in an inbound message."""

    text: str
    channel: str
    visibility: str = "public"
    author_id: str = ""
    author_handle: str = ""
    author_name: str = ""
    followers: int | None = None
    tags: tuple[str, ...] = ()
    """Tags the message arrived with (a listening stream's `stream:NAME`)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One matching rule: its name, what it added to the priority, and why it matched."""

    rule: str
    weight: int
    why: str


@dataclass(frozen=True, slots=True)
class Triage:
    """The outcome: the category, the tags, the priority and every reason behind them."""

    category: str
    tags: tuple[str, ...] = ()
    priority: int = 0
    reasons: tuple[Reason, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        return {
            "category": self.category,
            "tags": list(self.tags),
            "priority": self.priority,
            "reasons": [{"rule": r.rule, "weight": r.weight, "why": r.why} for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: TriageRule
    keywords: tuple[tuple[str, str], ...]
    """Each keyword as written and normalised."""
    keyset: frozenset[str]
    patterns: tuple[re.Pattern[str], ...]
    authors: frozenset[str]


class Triager:
    """The triage rules compiled once: each keyword of any rule looked for once per message,
    each rule's patterns only tried when its cheaper conditions already hold."""

    def __init__(self, config: TriageConfig) -> None:
        self.config = config
        self._keywords = PhraseMatcher(k for r in config.rules for k in r.keywords)
        self._rules = tuple(
            _Compiled(
                rule,
                tuple((k, normalise(k)) for k in rule.keywords),
                frozenset(normalise(k) for k in rule.keywords),
                tuple(re.compile(p) for p in rule.patterns),
                frozenset(handle_key(a) for a in rule.authors),
            )
            for rule in config.rules
        )

    def triage(self, message: Inbound) -> Triage:
        """Apply every rule, in file order. The priority is the sum of the matching rules'
        weights; the first matching rule that names a category sets it; tags accumulate."""
        found = self._keywords.present(message.text)
        author = {handle_key(message.author_handle), handle_key(message.author_id)} - {""}
        category: str | None = None
        tags: list[str] = []
        reasons: list[Reason] = []
        priority = 0
        for compiled in self._rules:
            why = _match(compiled, message, found, author)
            if why is None:
                continue
            rule = compiled.rule
            priority += rule.weight
            reasons.append(Reason(rule.name, rule.weight, why))
            if category is None and rule.category:
                category = rule.category
            tags.extend(t for t in rule.tags if t not in tags)
        return Triage(
            category or self.config.default_category, tuple(tags), priority, tuple(reasons)
        )


def _match(compiled: _Compiled, message: Inbound, found: set[str], author: set[str]) -> str | None:
    """Why the rule matches the message, or None when it does not. The cheap conditions are
    tested first and the reason is only written for a rule that matches: most rules fail
    most messages."""
    rule = compiled.rule
    if rule.channels and message.channel not in rule.channels:
        return None
    if rule.visibility and message.visibility != rule.visibility:
        return None
    if rule.streams and not any(f"stream:{s}" in message.tags for s in rule.streams):
        return None
    if compiled.authors and compiled.authors.isdisjoint(author):
        return None
    threshold = rule.min_followers
    if threshold is not None and (message.followers is None or message.followers < threshold):
        return None
    if compiled.keyset and compiled.keyset.isdisjoint(found):
        return None
    match = None
    if compiled.patterns:
        match = next((m for p in compiled.patterns if (m := p.search(message.text))), None)
        if match is None:
            return None
    why: list[str] = []
    if rule.channels:
        why.append(f"channel {message.channel}")
    if rule.visibility:
        why.append(rule.visibility)
    if rule.streams:
        why.append("stream " + ", ".join(s for s in rule.streams if f"stream:{s}" in message.tags))
    if compiled.authors:
        why.append(f"author @{min(author & compiled.authors)} is listed")
    if rule.min_followers is not None:
        why.append(f"{message.followers:,} followers >= {rule.min_followers:,}")
    if compiled.keywords:
        words = [k for k, key in compiled.keywords if key in found]
        why.append("keyword " + ", ".join(f'"{w}"' for w in words))
    if match is not None:
        why.append(f'pattern matched "{_excerpt(match.group())}"')
    return "; ".join(why)


def _excerpt(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
