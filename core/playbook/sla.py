"""SLA clocks: targets per channel, due times in business hours, pauses, warnings and breaches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, PositiveInt, field_validator

from frontdesk.core.clock import as_utc
from frontdesk.core.config import DEFAULT_SLA_TARGETS
from frontdesk.core.playbook.base import ChannelKey, Section
from frontdesk.core.playbook.calendar import Calendar, Span

SlaState = Literal["ok", "due_soon", "breached"]
ClockKind = Literal["first", "next"]
ALWAYS_OPEN = Calendar()


def _over_defaults(value: dict[str, int]) -> dict[str, int]:
    return {**DEFAULT_SLA_TARGETS, **value}


class SlaConfig(Section):
    """The `[sla]` table. Minutes are business minutes of the team's calendar."""

    first_response: dict[ChannelKey, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_SLA_TARGETS)
    )
    """Minutes to the first reply, keyed `channel.visibility`; unnamed keys keep the default."""
    next_response: dict[ChannelKey, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_SLA_TARGETS)
    )
    """Minutes to answer a customer who writes again after a reply."""
    ceiling_minutes: int = Field(default=1440, ge=1)
    """No target exceeds this, whatever the tables say (the seeds: never more than a day)."""
    warn_share: float = Field(default=0.25, gt=0, lt=1)
    """Warn when this share of the target is left."""

    _first = field_validator("first_response")(_over_defaults)
    _next = field_validator("next_response")(_over_defaults)

    def target(self, channel: str, visibility: str, kind: ClockKind = "first") -> dt.timedelta:
        """The target for a channel and visibility, capped by the ceiling."""
        table = self.first_response if kind == "first" else self.next_response
        minutes = min(
            table.get(f"{channel}.{visibility}", self.ceiling_minutes), self.ceiling_minutes
        )
        return dt.timedelta(minutes=minutes)


def merge_pauses(pauses: Iterable[Span]) -> list[Span]:
    """Pauses in UTC, in order, overlapping ones joined and empty ones dropped."""
    merged: list[Span] = []
    for start, end in sorted((as_utc(s), as_utc(e)) for s, e in pauses):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _running(calendar: Calendar, start: dt.datetime, pauses: list[Span]) -> Iterable[Span]:
    """The periods from `start` on when the clock runs: open and not paused."""
    index = 0
    for opens, closes in calendar.open_spans(start):
        cursor = opens
        while index < len(pauses) and pauses[index][1] <= cursor:
            index += 1
        scan = index
        while scan < len(pauses) and pauses[scan][0] < closes:
            pause_start, pause_end = pauses[scan]
            if pause_start > cursor:
                yield cursor, pause_start
            cursor = max(cursor, pause_end)
            if pause_end > closes:
                break
            scan += 1
        if cursor < closes:
            yield cursor, closes


def due_at(
    received_at: dt.datetime,
    target: dt.timedelta,
    calendar: Calendar = ALWAYS_OPEN,
    pauses: Iterable[Span] = (),
) -> dt.datetime:
    """When a message received at `received_at` must be answered: `target` of running time
    later, where the clock runs only while `calendar` is open and no pause (waiting on the
    customer) holds it. A pause that is still going has no end yet; the caller shows the
    clock as stopped instead of asking for a due time.

    Raises:
        ValueError: `target` is not positive.
    """
    if target <= dt.timedelta(0):
        raise ValueError(f"an SLA target must be positive, not {target}")
    left = target
    for start, end in _running(calendar, received_at, merge_pauses(pauses)):
        if end - start >= left:
            return start + left
        left -= end - start
    raise AssertionError("a calendar's open spans never end")  # open_spans raises first


def running_time(
    start: dt.datetime,
    end: dt.datetime,
    calendar: Calendar = ALWAYS_OPEN,
    pauses: Iterable[Span] = (),
) -> dt.timedelta:
    """How long the clock ran between `start` and `end` (zero when `end` is not later)."""
    end = as_utc(end)
    total = dt.timedelta(0)
    if end <= as_utc(start):
        return total
    for opens, closes in _running(calendar, start, merge_pauses(pauses)):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total


def state(now: dt.datetime, due: dt.datetime, warn_at: dt.datetime | None = None) -> SlaState:
    """`breached` after the due time, `due_soon` from the warning on, else `ok`. A reply at
    the due time itself is on time."""
    now = as_utc(now)
    if now > as_utc(due):
        return "breached"
    if warn_at is not None and now >= as_utc(warn_at):
        return "due_soon"
    return "ok"


@dataclass(frozen=True, slots=True)
class SlaClock:
    """One running clock: when it started, when it warns and when it is due."""

    received_at: dt.datetime
    target: dt.timedelta
    warn_at: dt.datetime
    due_at: dt.datetime

    def state(self, now: dt.datetime) -> SlaState:
        return state(now, self.due_at, self.warn_at)


def start_clock(
    received_at: dt.datetime,
    target: dt.timedelta,
    calendar: Calendar = ALWAYS_OPEN,
    *,
    warn_share: float = 0.25,
    pauses: Iterable[Span] = (),
) -> SlaClock:
    """A clock for `target`; it warns when `warn_share` of the target is left in running
    time, so a warning never falls in closed hours or a pause."""
    paused = merge_pauses(pauses)
    lead = target * warn_share
    due = due_at(received_at, target, calendar, paused)
    warn = due_at(received_at, target - lead, calendar, paused) if lead < target else due
    return SlaClock(as_utc(received_at), target, warn, due)
