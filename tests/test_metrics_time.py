"""Business seconds and percentiles of the metrics, against the SLA clock's own arithmetic."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from frontdesk.core.metrics_time import BusinessClock, epoch, from_epoch, summarise
from frontdesk.core.playbook.calendar import BusinessHours, Calendar, CalendarConfig
from frontdesk.core.playbook.sla import running_time

UTC = dt.UTC


def office(**settings: object) -> BusinessHours:
    config = {"timezone": "UTC", "hours": {"mon-fri": "09:00-17:00"}, **settings}
    return BusinessHours("office", CalendarConfig.model_validate(config))


def business(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> int:
    a, b = epoch(start), epoch(end)
    clock = BusinessClock(calendar, min(a, b), max(a, b))
    return int(clock.seconds(np.array([a]), np.array([b]))[0])


def test_friday_afternoon_to_monday_morning_is_25_business_minutes() -> None:
    friday = dt.datetime(2026, 12, 4, 16, 45, tzinfo=UTC)
    monday = dt.datetime(2026, 12, 7, 9, 10, tzinfo=UTC)
    assert business(office(), friday, monday) == 25 * 60


def test_closed_time_counts_nothing_and_always_open_counts_everything() -> None:
    saturday = dt.datetime(2026, 12, 5, 10, tzinfo=UTC)
    assert business(office(), saturday, saturday + dt.timedelta(hours=20)) == 0
    assert business(office(), saturday, saturday - dt.timedelta(hours=1)) == 0
    assert business(Calendar(), saturday, saturday + dt.timedelta(days=3)) == 3 * 86400


def test_equal_to_the_sla_running_time_on_random_pairs() -> None:
    """A zone with DST, a lunch break, a holiday country and an extra closed day."""
    calendar = office(
        timezone="Europe/London",
        hours={"mon-thu": "08:30-12:30, 13:30-17:00", "fri": "09:00-15:00", "sat": "10:00-12:00"},
        holidays="GB",
        subdivision="ENG",
        closed=["2026-10-30"],
    )
    rng = random.Random(11)
    low = epoch(dt.datetime(2026, 3, 1, tzinfo=UTC))
    high = epoch(dt.datetime(2026, 12, 31, tzinfo=UTC))
    starts = np.array([rng.randint(low, high) for _ in range(400)], dtype=np.int64)
    ends = starts + np.array([rng.randint(0, 9 * 86400) for _ in range(400)], dtype=np.int64)
    clock = BusinessClock(calendar, int(starts.min()), int(ends.max()))
    got = clock.seconds(starts, ends)
    for start, end, seconds in zip(starts, ends, got, strict=True):
        expected = running_time(from_epoch(int(start)), from_epoch(int(end)), calendar)
        assert int(seconds) == expected.total_seconds(), from_epoch(int(start))


def test_median_and_nearest_rank_p90() -> None:
    assert summarise([]).median is None and summarise([]).p90 is None
    assert (summarise([7]).median, summarise([7]).p90) == (7, 7)
    assert (summarise([4, 1, 3, 2]).median, summarise([4, 1, 3, 2]).p90) == (2.5, 4)
    ten = summarise(list(range(1, 11)))
    assert (ten.median, ten.p90) == (5.5, 9)
    eleven = summarise(list(range(1, 12)))
    assert (eleven.median, eleven.p90) == (6, 10)
