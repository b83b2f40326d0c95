"""The tone check's settings: severities, banned phrases, word lists, personal-data patterns."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, NonNegativeInt, field_validator

from frontdesk.core.playbook.base import Channel, Regex, Section, Setting, valid_regex
from frontdesk.kb.lint import LIMITS

RULES = (
    "banned-phrase",
    "customer-name",
    "length",
    "placeholder",
    "personal-data",
    "profanity",
    "shouting",
    "emoji",
)
DEFAULT_SEVERITY: dict[str, Setting] = {
    "banned-phrase": "warn",
    "customer-name": "warn",
    "length": "block",
    "placeholder": "block",
    "personal-data": "block",
    "profanity": "block",
    "shouting": "warn",
    "emoji": "warn",
}
Voice = Literal["formal", "friendly", "casual"]
EMOJI_ALLOWANCE: dict[str, int] = {"formal": 0, "friendly": 1, "casual": 3}
"""Emoji and emoticons a reply may carry, by brand voice (the seeds: some brands stay highly
professional, others like a smiley)."""

# Whole words (a trailing * takes any ending). Deliberately short: the playbook extends it.
DEFAULT_PROFANITY = (
    "arse",
    "arsehole",
    "ass",
    "asshole",
    "bastard",
    "bitch*",
    "bollocks",
    "bullshit",
    "crap",
    "crappy",
    "damn",
    "dick",
    "fuck*",
    "piss*",
    "shit*",
    "wtf",
)


def _rule_id(value: str) -> str:
    if value not in RULES:
        raise ValueError(f"unknown tone rule {value!r} (rules: {', '.join(RULES)})")
    return value


RuleId = Annotated[str, AfterValidator(_rule_id)]


class PersonalDataConfig(Section):
    """The `[tone.personal_data]` table: what a public reply must not give away."""

    email: bool = True
    phone: bool = True
    postal_address: bool = True
    """House number and street, or a UK postcode."""
    order_number: bool | str = True
    """True for the built-in shapes (`AB-1234`, `#12345`, `order 12345`), or the brand's own
    regular expression (start it with literal text, such as `NW-\\d{6}`, for speed)."""
    patterns: dict[str, Regex] = Field(default_factory=dict)
    """More kinds of data, by name: `"loyalty number" = 'LN\\d{8}'`."""

    @field_validator("order_number")
    @classmethod
    def _order(cls, value: bool | str) -> bool | str:
        return valid_regex(value) if isinstance(value, str) else value


class BannedPhrase(Section):
    """One `[[tone.banned]]` entry."""

    phrase: str = Field(min_length=1)
    """A whole word or phrase, any case; `sorry for any*` takes any ending."""
    instead: str = ""
    """What to write instead, shown as the fix."""
    severity: Setting | None = None
    """Overrides `tone.rules."banned-phrase"` for this phrase."""


def _default_banned() -> list[BannedPhrase]:
    return [
        BannedPhrase(
            phrase="unfortunately",
            instead='Lead with what you can do: "Here\'s what we can do..."',
        )
    ]


class ToneConfig(Section):
    """The `[tone]` table."""

    voice: Voice = "friendly"
    """The brand's voice: formal, friendly or casual. It sets the emoji allowance."""
    max_emoji: int | None = Field(default=None, ge=0)
    """Overrides the voice's emoji allowance (formal 0, friendly 1, casual 3)."""
    rules: dict[RuleId, Setting] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY))
    """Per rule: `warn`, `block` or `off`. Unnamed rules keep their default."""
    banned: list[BannedPhrase] = Field(default_factory=_default_banned)
    profanity: list[str] = Field(default_factory=lambda: list(DEFAULT_PROFANITY))
    lengths: dict[Channel, NonNegativeInt] = Field(default_factory=lambda: dict(LIMITS))
    """Characters per channel (X counted as X counts: links as 23); 0 means no limit."""
    shouting_words: int = Field(default=3, ge=2)
    """This many words in capitals in a row is shouting."""
    acronyms: list[str] = Field(default_factory=lambda: ["FAQ", "DM", "UK", "USA", "ID", "OK"])
    """Words in capitals that are not shouting."""
    personal_data: PersonalDataConfig = Field(default_factory=lambda: PersonalDataConfig())

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: dict[str, Setting]) -> dict[str, Setting]:
        return {**DEFAULT_SEVERITY, **value}

    @field_validator("lengths")
    @classmethod
    def _lengths(cls, value: dict[str, int]) -> dict[str, int]:
        return {**LIMITS, **value}

    def emoji_allowance(self) -> int:
        return EMOJI_ALLOWANCE[self.voice] if self.max_emoji is None else self.max_emoji
