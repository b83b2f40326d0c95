"""The report's total figures step by step (hour by hour, say) from one read of the log."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput
from frontdesk.core.metrics import columns_of, conversations_of
from frontdesk.core.metrics_groups import attributes, figures
from frontdesk.core.metrics_model import Figures
from frontdesk.core.metrics_scan import Facts, scan
from frontdesk.core.metrics_time import from_epoch
from frontdesk.core.playbook.playbook import Playbook

MAX_STEPS = 1000
# The facts split by time, and where each row keeps its time.
_TIMES = (("episodes", 2), ("created", 1), ("received", 1), ("replies", 2), ("referrals", 2),
          ("signoffs", 3), ("surveys", 4))  # fmt: skip


def series(
    session: Session,
    since: datetime,
    until: datetime,
    step: timedelta,
    playbook: Playbook | None = None,
) -> list[tuple[datetime, Figures]]:
    """The total figures of each step of [since, until), oldest first: the same figures as
    `metrics.compute` over each step, for the cost of one read of the whole window (the
    last step ends at `until`).

    Raises:
        InvalidInput: an empty period, a step that is not positive, or over 1000 steps.
    """
    since, until = as_utc(since), as_utc(until)
    seconds = int(step.total_seconds())
    if until <= since or seconds <= 0:
        raise InvalidInput("a series needs a period and a positive step")
    facts = scan(session, since, until)
    count = -(-(facts.until - facts.since) // seconds)
    if count > MAX_STEPS:
        raise InvalidInput(f"{count} steps: at most {MAX_STEPS}, take a longer step")
    attrs = attributes(session, conversations_of(facts), tags=False)
    playbook = playbook or Playbook()
    return [
        (from_epoch(part.since), figures(columns_of(part, attrs, playbook), {}))
        for part in _split(facts, seconds, count)
    ]


def _split(facts: Facts, seconds: int, count: int) -> list[Facts]:
    """The facts of each step, each fact in the step of its time (a turn in the step it was
    answered in and, if different, the one its clock breached in)."""
    bounds = [
        (facts.since + i * seconds, min(facts.since + (i + 1) * seconds, facts.until))
        for i in range(count)
    ]
    names = ("turns", *(name for name, _ in _TIMES))
    parts: list[dict[str, list[Any]]] = [{name: [] for name in names} for _ in range(count)]

    def step_of(at: int | None) -> int | None:
        if at is None or not facts.since <= at < facts.until:
            return None
        return (at - facts.since) // seconds

    for turn in facts.turns:
        steps = {step_of(turn[2]), step_of(turn[5])} - {None}
        for i in steps:
            assert i is not None
            parts[i]["turns"].append(turn)
    for name, when in _TIMES:
        for row in getattr(facts, name):
            i = step_of(row[when])
            if i is not None:
                parts[i][name].append(row)
    return [
        replace(
            facts,
            since=low,
            until=high,
            turns=part["turns"],
            episodes=part["episodes"],
            created=part["created"],
            received=part["received"],
            replies=part["replies"],
            referrals=part["referrals"],
            signoffs=part["signoffs"],
            surveys=part["surveys"],
            lifecycle=[],
            changes=[],
        )
        for (low, high), part in zip(bounds, parts, strict=True)
    ]
