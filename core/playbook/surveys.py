"""The `[surveys]` playbook table: who is asked how satisfied they were, and who is followed up."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from frontdesk.core.playbook.base import Section, channel_key, channel_name

SurveyKind = Literal["csat", "nps"]
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10)}
"""The scores each kind accepts, inclusive."""

DEFAULT_QUESTIONS = {
    "csat": "How did we do, {name}? Reply with a number from 1 (poor) to 5 (great), "
    "and a comment if you like.",
    "nps": "One last thing, {name}: how likely are you to recommend us to a friend? "
    "Reply with a number from 0 (not at all) to 10 (very likely).",
}
DEFAULT_REASON = "touch base again to make sure they are satisfied"
# Mail scanners open every link in a message, so a link in a survey would vote on its own.
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def _where(value: str) -> str:
    """A channel (`email`) or a channel and visibility (`x.private`)."""
    return channel_key(value) if "." in value else channel_name(value)


def _question(value: str) -> str:
    if not value.strip():
        raise ValueError("the question is empty")
    if _LINK.search(value):
        raise ValueError(
            "a survey asks for a reply, never a link (mail scanners follow links and vote)"
        )
    return value


Where = Annotated[str, AfterValidator(_where)]
Question = Annotated[str, AfterValidator(_question)]


class SurveyRule(Section):
    """One `[[surveys.rules]]` entry; the first that matches a resolution decides."""

    kind: SurveyKind = "csat"
    channels: list[Where] = Field(default_factory=list)
    """`email`, `facebook.private`...; empty: every channel."""
    categories: list[str] = Field(default_factory=list)
    """Empty: every category (an untriaged conversation matches only an empty list)."""
    question: Question | None = None
    """Overrides the kind's question for this rule."""


class FollowUpRule(Section):
    """One `[[surveys.follow_ups]]` entry: a reminder to touch base after a resolution."""

    categories: list[str] = Field(min_length=1)
    channels: list[Where] = Field(default_factory=list)
    after_hours: float = Field(default=48.0, gt=0)
    reason: str = Field(default=DEFAULT_REASON, min_length=1, max_length=200)
    """Shown in the queue when the reminder lands."""


class SurveysConfig(Section):
    """The `[surveys]` table. Without rules nobody is asked anything."""

    window_hours: float = Field(default=72.0, gt=0)
    """A reply this long after the survey is still read as its answer."""
    quiet_days: float = Field(default=30.0, ge=0)
    """A customer asked within this many days is not asked again."""
    csat_question: Question = DEFAULT_QUESTIONS["csat"]
    nps_question: Question = DEFAULT_QUESTIONS["nps"]
    rules: list[SurveyRule] = Field(default_factory=list)
    follow_ups: list[FollowUpRule] = Field(default_factory=list)


def references(
    config: SurveysConfig, categories: set[str]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """The categories the rules name that triage does not know (checked like the others)."""
    named: list[tuple[str, list[list[str]]]] = [
        ("rules", [rule.categories for rule in config.rules]),
        ("follow_ups", [rule.categories for rule in config.follow_ups]),
    ]
    for table, lists in named:
        for i, names in enumerate(lists):
            for j, name in enumerate(names):
                if name not in categories:
                    known = ", ".join(sorted(categories)) or "none"
                    where = ("surveys", table, i, "categories", j)
                    yield where, f"unknown category {name!r} (known: {known})"


def _matches(rule: SurveyRule | FollowUpRule, channel: str, visibility: str,
             category: str | None) -> bool:  # fmt: skip
    """Empty lists match everything; a channel entry matches every visibility of it."""
    channels = rule.channels
    if channels and channel not in channels and f"{channel}.{visibility}" not in channels:
        return False
    return not rule.categories or category in rule.categories


class SurveyPolicy:
    """The compiled table: which survey (if any) and which reminder a resolution gets."""

    def __init__(self, config: SurveysConfig) -> None:
        self.config = config

    def survey_for(
        self, *, channel: str, visibility: str, category: str | None
    ) -> tuple[SurveyKind, str] | None:
        """The kind and question of the first matching rule, or None."""
        for rule in self.config.rules:
            if _matches(rule, channel, visibility, category):
                default = (
                    self.config.csat_question if rule.kind == "csat" else self.config.nps_question
                )
                return rule.kind, rule.question or default
        return None

    def follow_up_for(
        self, *, channel: str, visibility: str, category: str | None
    ) -> FollowUpRule | None:
        """The first matching follow-up rule, or None."""
        for rule in self.config.follow_ups:
            if _matches(rule, channel, visibility, category):
                return rule
        return None
