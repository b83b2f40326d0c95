"""SLA clocks: business hours, weekends, holidays, time zones, DST, pauses and warnings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from frontdesk.core.playbook.calendar import (
    BusinessHours,
    Calendar,
    CalendarConfig,
    parse_days,
    parse_spans,
)
from frontdesk.core.playbook.sla import (
    SlaConfig,
    due_at,
    merge_pauses,
    start_clock,
    state,
)

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)


def office(**changes: object) -> BusinessHours:
    settings_ = {"timezone": "Europe/London", "hours": {"mon-fri": "09:00-17:00"}, **changes}
    return BusinessHours("office", CalendarConfig.model_validate(settings_))


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = LONDON
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


# -- the example the issue fixes


def test_friday_afternoon_is_due_monday_morning() -> None:
    friday = local(2026, 11, 20, 16, 45)
    assert friday.strftime("%A") == "Friday"
    due = due_at(friday, dt.timedelta(minutes=30), office())
    assert due == local(2026, 11, 23, 9, 15)
    assert due.tzinfo == UTC


def test_before_opening_and_at_closing() -> None:
    cal = office()
    target = dt.timedelta(minutes=30)
    assert due_at(local(2026, 11, 23, 7, 0), target, cal) == local(2026, 11, 23, 9, 30)
    # Exactly at closing the clock has nothing left today.
    assert due_at(local(2026, 11, 23, 17, 0), target, cal) == local(2026, 11, 24, 9, 30)
    # Due exactly at closing time stays today.
    assert due_at(local(2026, 11, 23, 16, 30), target, cal) == local(2026, 11, 23, 17, 0)


def test_a_target_longer_than_a_day_spans_several_days() -> None:
    due = due_at(local(2026, 11, 23, 9, 0), dt.timedelta(hours=20), office())
    assert due == local(2026, 11, 25, 13, 0)  # 8 h Monday, 8 h Tuesday, 4 h Wednesday


def test_split_hours_skip_lunch() -> None:
    cal = office(hours={"mon-fri": "09:00-12:00, 13:00-17:00"})
    assert due_at(local(2026, 11, 23, 11, 50), 30 * MINUTE, cal) == local(2026, 11, 23, 13, 20)


def test_saturday_hours_and_closed_sunday() -> None:
    cal = office(hours={"mon-fri": "09:00-17:00", "sat": "10:00-14:00"})
    saturday = local(2026, 11, 21, 13, 50)
    assert due_at(saturday, 30 * MINUTE, cal) == local(2026, 11, 23, 9, 20)


def test_always_open_is_plain_addition() -> None:
    received = dt.datetime(2026, 11, 21, 23, 50, tzinfo=UTC)
    assert due_at(received, 30 * MINUTE) == received + 30 * MINUTE
    assert due_at(received, 30 * MINUTE, Calendar()) == received + 30 * MINUTE


def test_naive_times_are_utc() -> None:
    naive = dt.datetime(2026, 11, 20, 16, 45)
    assert due_at(naive, 30 * MINUTE, office()) == local(2026, 11, 23, 9, 15)


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        due_at(local(2026, 11, 23, 9, 0), dt.timedelta(0), office())


# -- holidays and closed dates


def test_christmas_and_boxing_day_are_skipped() -> None:
    cal = office(holidays="GB", subdivision="ENG")
    christmas_eve = local(2026, 12, 24, 16, 50)  # a Thursday; 25th and 28th (observed) off
    assert cal.closed_on(dt.date(2026, 12, 25))
    assert cal.closed_on(dt.date(2026, 12, 28))
    assert not cal.closed_on(dt.date(2026, 12, 29))
    assert due_at(christmas_eve, 30 * MINUTE, cal) == local(2026, 12, 29, 9, 20)


def test_extra_closed_dates() -> None:
    cal = office(closed=[dt.date(2026, 11, 23)])
    assert due_at(local(2026, 11, 20, 16, 45), 30 * MINUTE, cal) == local(2026, 11, 24, 9, 15)


def test_subdivision_holidays_differ() -> None:
    scotland = office(holidays="GB", subdivision="SCT")
    england = office(holidays="GB", subdivision="ENG")
    st_andrews = dt.date(2026, 11, 30)
    assert scotland.closed_on(st_andrews)
    assert not england.closed_on(st_andrews)


def test_a_calendar_that_never_opens_says_so() -> None:
    cal = office(hours={"mon": "09:00-17:00"})
    cal.closed = frozenset(dt.date(2026, 11, 23) + dt.timedelta(weeks=w) for w in range(80))
    with pytest.raises(ValueError, match="stays closed"):
        due_at(local(2026, 11, 22, 9, 0), 30 * MINUTE, cal)


# -- time zones


def test_hours_are_local_to_the_team() -> None:
    seattle = office(timezone="America/Los_Angeles")
    # 17:30 UTC is 09:30 in Seattle (PST, UTC-8): open, so half an hour later.
    received = dt.datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert due_at(received, 30 * MINUTE, seattle) == received + 30 * MINUTE
    # 16:30 UTC is 08:30 there: the clock starts at 09:00 Seattle time.
    early = dt.datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert due_at(early, 30 * MINUTE, seattle) == dt.datetime(2026, 11, 23, 17, 30, tzinfo=UTC)


def test_received_time_zone_does_not_matter() -> None:
    cal = office()
    instant = local(2026, 11, 20, 16, 45)
    tokyo = instant.astimezone(ZoneInfo("Asia/Tokyo"))
    assert due_at(tokyo, 30 * MINUTE, cal) == due_at(instant, 30 * MINUTE, cal)


def test_opening_follows_the_local_clock_across_daylight_saving() -> None:
    cal = office(hours={"mon-sun": "09:00-17:00"})
    # Clocks go forward on Sunday 29 March 2026: 09:00 is 09:00 UTC on Saturday, 08:00 UTC
    # on Sunday.
    saturday = due_at(local(2026, 3, 28, 17, 0), 30 * MINUTE, cal)
    assert saturday == dt.datetime(2026, 3, 29, 8, 30, tzinfo=UTC)
    assert saturday.astimezone(LONDON).hour == 9


def test_a_day_open_around_the_clock_on_the_short_night() -> None:
    cal = office(hours={"mon-sun": "00:00-24:00"})
    received = local(2026, 3, 29, 0, 30)  # an hour vanishes at 01:00
    due = due_at(received, dt.timedelta(hours=2), cal)
    # Two real hours, which the wall clock shows as three.
    assert due == received.astimezone(UTC) + dt.timedelta(hours=2)
    assert due.astimezone(LONDON).time() == dt.time(3, 30)


# -- pauses


def test_a_pause_inside_open_hours_moves_the_due_time_by_its_length() -> None:
    cal = office()
    received = local(2026, 11, 23, 10, 0)
    pause = (local(2026, 11, 23, 10, 10), local(2026, 11, 23, 10, 40))
    assert due_at(received, 30 * MINUTE, cal, [pause]) == local(2026, 11, 23, 11, 0)


def test_a_pause_in_closed_hours_changes_nothing() -> None:
    cal = office()
    received = local(2026, 11, 20, 16, 45)
    weekend = (local(2026, 11, 21, 8, 0), local(2026, 11, 22, 20, 0))
    assert due_at(received, 30 * MINUTE, cal, [weekend]) == local(2026, 11, 23, 9, 15)


def test_a_pause_across_closing_takes_only_open_time() -> None:
    cal = office()
    received = local(2026, 11, 23, 16, 0)
    pause = (local(2026, 11, 23, 16, 20), local(2026, 11, 24, 9, 10))
    # 20 minutes ran before the pause, 10 minutes left from 09:10 on Tuesday.
    assert due_at(received, 30 * MINUTE, cal, [pause]) == local(2026, 11, 24, 9, 20)


def test_overlapping_pauses_count_once() -> None:
    received = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    pauses = [
        (received + 5 * MINUTE, received + 15 * MINUTE),
        (received + 10 * MINUTE, received + 20 * MINUTE),
        (received + 20 * MINUTE, received + 20 * MINUTE),  # empty
    ]
    assert merge_pauses(pauses) == [(received + 5 * MINUTE, received + 20 * MINUTE)]
    assert due_at(received, 30 * MINUTE, pauses=pauses) == received + 45 * MINUTE


def test_a_pause_before_the_message_changes_nothing() -> None:
    received = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    earlier = (received - 60 * MINUTE, received - 30 * MINUTE)
    assert due_at(received, 30 * MINUTE, pauses=[earlier]) == received + 30 * MINUTE


# -- warnings and state


def test_warning_at_a_quarter_left_in_running_time() -> None:
    clock = start_clock(local(2026, 11, 20, 16, 45), 40 * MINUTE, office())
    assert clock.due_at == local(2026, 11, 23, 9, 25)
    assert clock.warn_at == local(2026, 11, 23, 9, 15)  # 30 of 40 minutes used
    assert clock.state(local(2026, 11, 21, 12, 0)) == "ok"
    assert clock.state(local(2026, 11, 23, 9, 15)) == "due_soon"
    assert clock.state(local(2026, 11, 23, 9, 25)) == "due_soon"  # on time at the due time
    assert clock.state(local(2026, 11, 23, 9, 26)) == "breached"


def test_state_without_a_warning_time() -> None:
    due = dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert state(due - MINUTE, due) == "ok"
    assert state(due + MINUTE, due) == "breached"


def test_targets_default_to_the_seeds_and_the_ceiling_caps_them() -> None:
    sla = SlaConfig()
    assert sla.target("x", "public") == dt.timedelta(minutes=30)
    assert sla.target("facebook", "public") == dt.timedelta(minutes=60)
    assert sla.target("x", "private") == dt.timedelta(minutes=60)
    assert sla.target("facebook", "private") == dt.timedelta(minutes=60)
    assert sla.target("email", "private") == dt.timedelta(hours=4)
    assert sla.target("smoke-signal", "public") == dt.timedelta(hours=24)
    capped = SlaConfig(first_response={"email.private": 3000}, ceiling_minutes=1440)
    assert capped.target("email", "private") == dt.timedelta(hours=24)
    next_ = SlaConfig(next_response={"x.public": 15})
    assert next_.target("x", "public", "next") == dt.timedelta(minutes=15)
    assert next_.target("x", "public", "first") == dt.timedelta(minutes=30)


def test_parse_days_and_spans() -> None:
    assert parse_days("mon-fri") == [0, 1, 2, 3, 4]
    assert parse_days("SUN") == [6]
    assert parse_spans("closed") == []
    assert parse_spans("13:00-17:00, 9:00-12:00") == [(540, 720), (780, 1020)]
    assert parse_spans("00:00-24:00") == [(0, 1440)]
    for bad in ("fri-mon", "funday"):
        with pytest.raises(ValueError):
            parse_days(bad)
    for bad in ("9-5", "10:00-09:00", "09:00-12:00, 11:00-13:00", "09:60-10:00", "00:00-24:30"):
        with pytest.raises(ValueError):
            parse_spans(bad)
