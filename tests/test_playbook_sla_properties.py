"""SLA clocks under generated calendars: never due in closed hours, monotone, pauses delay."""

from __future__ import annotations

import datetime as dt

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from frontdesk.core.playbook.calendar import BusinessHours, CalendarConfig
from frontdesk.core.playbook.sla import due_at, merge_pauses, running_time, start_clock

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)

ZONES = ["Europe/London", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"]
START = dt.datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessHours:
    hours = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        if draw(st.booleans()):
            opens = draw(st.integers(0, 22 * 4)) * 15
            closes = draw(st.integers(opens // 15 + 1, 96)) * 15
            hours[day] = f"{opens // 60:02d}:{opens % 60:02d}-{closes // 60:02d}:{closes % 60:02d}"
    assume(hours)
    closed = draw(st.lists(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), max_size=20))
    config = CalendarConfig(
        timezone=draw(st.sampled_from(ZONES)),
        hours=hours,
        holidays=draw(st.sampled_from(["", "GB", "US"])),
        closed=closed,
    )
    return BusinessHours("generated", config)


instants = st.integers(0, 2 * 365 * 24 * 60).map(lambda m: START + m * MINUTE)
targets = st.integers(1, 3 * 24 * 60).map(lambda m: m * MINUTE)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, targets)
def test_due_is_never_in_closed_hours(
    cal: BusinessHours, received: dt.datetime, target: dt.timedelta
) -> None:
    due = due_at(received, target, cal)
    assert due > received
    # The clock was running just before the due time (due may be the closing instant).
    assert cal.is_open(due - dt.timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, targets)
def test_running_time_to_due_is_the_target(
    cal: BusinessHours, received: dt.datetime, target: dt.timedelta
) -> None:
    due = due_at(received, target, cal)
    assert running_time(received, due, cal) == target


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, instants, targets)
def test_due_is_monotone_in_received_time(
    cal: BusinessHours, a: dt.datetime, b: dt.datetime, target: dt.timedelta
) -> None:
    early, late = sorted((a, b))
    assert due_at(early, target, cal) <= due_at(late, target, cal)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, targets, targets)
def test_due_is_monotone_in_target(
    cal: BusinessHours, received: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    short, long = sorted((a, b))
    assert due_at(received, short, cal) <= due_at(received, long, cal)


@settings(max_examples=150, deadline=None)
@given(instants, targets)
def test_around_the_clock_is_plain_addition(received: dt.datetime, target: dt.timedelta) -> None:
    assert due_at(received, target) == received + target
    config = CalendarConfig(timezone="UTC", hours={"mon-sun": "00:00-24:00"})
    always = BusinessHours("always-open", config)
    assert due_at(received, target, always) == received + target


@settings(max_examples=150, deadline=None)
@given(
    calendars(),
    instants,
    targets,
    st.lists(st.tuples(st.integers(0, 4 * 24 * 60), st.integers(1, 600)), max_size=4),
)
def test_pauses_delay_by_the_running_time_they_cover(
    cal: BusinessHours,
    received: dt.datetime,
    target: dt.timedelta,
    raw: list[tuple[int, int]],
) -> None:
    pauses = [(received + s * MINUTE, received + (s + n) * MINUTE) for s, n in raw]
    plain = due_at(received, target, cal)
    paused = due_at(received, target, cal, pauses)
    assert paused >= plain
    # Time ran for exactly the target once the pauses are taken out.
    assert running_time(received, paused, cal, pauses) == target
    # A paused instant never counts, so the due time is outside every pause's interior.
    assert not any(s < paused <= e for s, e in merge_pauses(pauses))


@settings(max_examples=100, deadline=None)
@given(calendars(), instants, targets)
def test_warning_comes_before_due(
    cal: BusinessHours, received: dt.datetime, target: dt.timedelta
) -> None:
    clock = start_clock(received, target, cal)
    assert received < clock.warn_at <= clock.due_at
    assert clock.state(clock.warn_at) == "due_soon"
    assert clock.state(clock.due_at + MINUTE) == "breached"
