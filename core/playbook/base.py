"""Shared pieces of the playbook: the strict section model, the error type, the names rules use."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from frontdesk.core.errors import ConfigError
from frontdesk.kb.article import CHANNELS

VISIBILITIES = ("public", "private")
CATEGORIES = (
    "question",
    "complaint",
    "praise",
    "product_review",
    "sales_lead",
    "industry_discussion",
    "competitor_mention",
    "spam",
)
SOURCE_TAGS = ("tier1", "influencer", "employee", "competitor", "press")
ANYONE = "*"
"""In a team's `overflow`: any operator may take the team's work when none of it is free."""

Severity = Literal["warn", "block"]
Setting = Literal["warn", "block", "off"]


class PlaybookError(ConfigError):
    """The playbook file cannot be used; names the file, the line and the reason."""

    title = "playbook error"

    def __init__(self, path: str, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")
        self.path = path
        self.line = line
        self.reason = reason


class Section(BaseModel):
    """A playbook table: unknown keys are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def channel_key(value: str) -> str:
    """Validate a `channel.visibility` key such as `x.public`."""
    channel, _, visibility = value.partition(".")
    if channel not in CHANNELS or visibility not in VISIBILITIES:
        raise ValueError(
            f"{value!r} is not channel.visibility (channels: {', '.join(CHANNELS)}; "
            f"visibility: {', '.join(VISIBILITIES)})"
        )
    return value


def channel_name(value: str) -> str:
    """Validate a channel name such as `x`."""
    if value not in CHANNELS:
        raise ValueError(f"unknown channel {value!r} (known: {', '.join(CHANNELS)})")
    return value


def valid_regex(pattern: str) -> str:
    """Validate one regular expression, saying where it breaks."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"regular expression {pattern!r} does not compile: {exc}") from None
    return pattern


def handle_key(handle: str) -> str:
    """The form author lists are compared in: no leading @, case-folded."""
    return handle.strip().removeprefix("@").casefold()


# Validated per item, so an error names the key or element it is about and its line.
ChannelKey = Annotated[str, AfterValidator(channel_key)]
Channel = Annotated[str, AfterValidator(channel_name)]
Regex = Annotated[str, AfterValidator(valid_regex)]
