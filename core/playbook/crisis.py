"""The `[crisis]` and `[staff]` tables: when a spike raises the alarm, what crisis mode says and
who takes it, and how the team is looked after (breaks, abusive messages)."""

from __future__ import annotations

from pydantic import Field

from frontdesk.core.playbook.base import Section
from frontdesk.core.playbook.phrases import PhraseMatcher

DEFAULT_HOLDING = (
    "We know some of you are having problems right now and we're on it. We'll post an "
    "update here as soon as we know more. Thank you for your patience."
)


class CrisisConfig(Section):
    """The `[crisis]` table: detection thresholds, the holding statement, the crisis team."""

    keywords: list[str] = Field(default_factory=list)
    """Whole words or phrases (any case, `outage*` for any ending) that mark a crisis
    message: they count for the keyword alarm, and while crisis mode is on a new
    conversation with one goes to `team`."""
    factor: float = Field(default=4.0, gt=1)
    """The alarm trips when the last window holds this many times the median hour."""
    window_minutes: int = Field(default=60, ge=5, le=24 * 60)
    """The stretch of recent time whose inbound messages are counted."""
    baseline_hours: int = Field(default=72, ge=6, le=24 * 14)
    """How many hours before the window make up the baseline (their median counts)."""
    min_count: int = Field(default=20, ge=1)
    """Fewer inbound messages than this in the window never alarm (a quiet night's three
    messages are not a crisis, whatever the median)."""
    keyword_min_count: int = Field(default=5, ge=1)
    """Fewer keyword messages than this in the window never alarm."""
    alert_every_minutes: int = Field(default=60, ge=1)
    """After an alert, the next one waits at least this long (none while crisis mode is on)."""
    holding_statement: str = Field(default=DEFAULT_HOLDING, min_length=1)
    """Pinned atop every operator's knowledge pane while crisis mode is on."""
    team: str | None = None
    """Where new conversations with a keyword go while crisis mode is on (a `[teams.NAME]`);
    unset: they are routed as usual."""

    def matcher(self) -> PhraseMatcher:
        return PhraseMatcher(self.keywords)


class StaffConfig(Section):
    """The `[staff]` table: break reminders and spreading abusive messages."""

    break_after_minutes: int = Field(default=90, ge=0)
    """Remind an operator to take a break after this long of continuous handling (0: never)."""
    break_gap_minutes: int = Field(default=10, ge=1)
    """A pause in an operator's activity at least this long counts as a break."""
    spread_abusive: bool = True
    """claim_next avoids handing one operator two abusive conversations in a row."""
    flag_profanity: bool = True
    """Tag a conversation "abusive" at ingest when the customer uses the tone rules'
    profanity list."""
