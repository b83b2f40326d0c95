"""Opening hours: a team's week in its own time zone, public holidays and extra closed dates."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from frontdesk.core.clock import as_utc
from frontdesk.core.playbook.base import Section

if TYPE_CHECKING:  # holidays loads its country tables lazily; start-up need not pay for it
    from holidays import HolidayBase

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "always"
"""The built-in calendar that never closes: 24/7."""
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A calendar whose week has open hours can only stay shut this long through holidays and
# closed dates; past that the configuration is wrong, not the arithmetic.
_MAX_CLOSED_DAYS = 400

Span = tuple[dt.datetime, dt.datetime]


def parse_days(key: str) -> list[int]:
    """`mon`, `sat-sun` or `mon-fri` as weekday numbers (Monday is 0)."""
    first, _, last = key.lower().partition("-")
    if first not in DAYS or (last and last not in DAYS):
        raise ValueError(f"{key!r} is not a day or a range of days such as mon-fri")
    start, end = DAYS.index(first), DAYS.index(last or first)
    if end < start:
        raise ValueError(f"{key!r}: a range of days runs forward, mon to sun")
    return list(range(start, end + 1))


def parse_spans(value: str) -> list[tuple[int, int]]:
    """`09:00-17:00`, `09:00-12:30, 13:30-17:00` or `closed` as minutes after midnight."""
    if value.strip().lower() == "closed":
        return []
    spans = []
    for part in value.split(","):
        match = _SPAN.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not a time span such as 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or end <= start:
            raise ValueError(f"{part.strip()!r}: times run from 00:00 to 24:00, start first")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise ValueError(f"{value!r}: the spans overlap")
    return spans


def _holidays_of(country: str, subdivision: str | None) -> HolidayBase:
    from holidays import country_holidays

    try:
        return country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise ValueError(str(exc)) from None


def _days_key(key: str) -> str:
    parse_days(key)
    return key


def _hours_value(value: str) -> str:
    parse_spans(value)
    return value


DaysKey = Annotated[str, AfterValidator(_days_key)]
HoursValue = Annotated[str, AfterValidator(_hours_value)]


class CalendarConfig(Section):
    """One `[calendars.NAME]` table."""

    timezone: str = "UTC"
    """An IANA zone name: the hours below are local times there."""
    hours: dict[DaysKey, HoursValue] = Field(default_factory=lambda: {"mon-fri": "09:00-17:00"})
    """Open hours by day or range of days; a day not named is closed."""
    holidays: str = ""
    """A country code for the `holidays` package (GB, US, DE...); empty for none."""
    subdivision: str = ""
    """A state, province or nation of that country (ENG, WA...)."""
    closed: list[dt.date] = Field(default_factory=list)
    """Extra dates the team is closed (company days off)."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[int] = set()
        for key in value:
            days = parse_days(key)
            if seen.intersection(days):
                raise ValueError(f"{key!r} names a day that another key already names")
            seen.update(days)
        if not any(parse_spans(spans) for spans in value.values()):
            raise ValueError("the week has no open hours, so no clock on it would ever run")
        return value

    @field_validator("holidays")
    @classmethod
    def _country(cls, value: str) -> str:
        if value:
            _holidays_of(value, None)
        return value

    @field_validator("subdivision")
    @classmethod
    def _subdivision(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("holidays")
        if value and not country:
            raise ValueError("a subdivision needs a holidays country")
        if value and country:
            _holidays_of(country, value)
        return value

    def week(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Open spans in minutes after midnight, Monday first."""
        days: list[tuple[tuple[int, int], ...]] = [() for _ in DAYS]
        for key, spans in self.hours.items():
            for day in parse_days(key):
                days[day] = tuple(parse_spans(spans))
        return tuple(days)

    def holiday_calendar(self) -> HolidayBase | None:
        """The public holidays, or None when no country is set."""
        if not self.holidays:
            return None
        return _holidays_of(self.holidays, self.subdivision or None)


class Calendar:
    """When a clock runs. The base class is open around the clock (the built-in `always`)."""

    def __init__(self, name: str = ALWAYS) -> None:
        self.name = name

    def open_spans(self, start: dt.datetime) -> Iterator[Span]:
        """Open periods in UTC from `start` on, in order, the first one clipped to `start`."""
        yield as_utc(start), dt.datetime.max.replace(tzinfo=dt.UTC)

    def is_open(self, at: dt.datetime) -> bool:
        return True

    def next_open(self, at: dt.datetime) -> dt.datetime:
        """`at` when open, else the next opening."""
        return next(self.open_spans(at))[0]

    def local(self, at: dt.datetime) -> dt.datetime:
        """`at` on the calendar's own clock."""
        return as_utc(at)

    def describe(self) -> str:
        return "24/7"


class BusinessHours(Calendar):
    """A weekly pattern of open hours in one time zone, closed on holidays."""

    def __init__(self, name: str, config: CalendarConfig) -> None:
        super().__init__(name)
        self.config = config
        self.zone = ZoneInfo(config.timezone)
        self.week = config.week()
        self.closed = frozenset(config.closed)
        self._days: dict[dt.date, tuple[Span, ...]] = {}

    @cached_property
    def holidays(self) -> HolidayBase | None:
        return self.config.holiday_calendar()

    def closed_on(self, day: dt.date) -> bool:
        """Whether `day` is a holiday or an extra closed date."""
        public = self.holidays
        return day in self.closed or (public is not None and day in public)

    def spans_on(self, day: dt.date) -> tuple[Span, ...]:
        """The day's open spans in UTC, by the local clock of that day (DST included)."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        spans: list[Span] = []
        if not self.closed_on(day):
            midnight = dt.datetime.combine(day, dt.time())
            for start, end in self.week[day.weekday()]:
                # Wall-clock times of that date, so 09:00 stays 09:00 across a DST change.
                opens = (midnight + dt.timedelta(minutes=start)).replace(tzinfo=self.zone)
                closes = (midnight + dt.timedelta(minutes=end)).replace(tzinfo=self.zone)
                utc_open, utc_close = opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)
                if utc_close > utc_open:
                    spans.append((utc_open, utc_close))
        if len(self._days) > 4096:
            self._days.clear()
        result = self._days[day] = tuple(spans)
        return result

    def open_spans(self, start: dt.datetime) -> Iterator[Span]:
        start = as_utc(start)
        day = start.astimezone(self.zone).date()
        idle = 0
        while True:
            spans = [(max(s, start), e) for s, e in self.spans_on(day) if e > start]
            yield from spans
            idle = 0 if spans else idle + 1
            if idle > _MAX_CLOSED_DAYS:
                raise ValueError(
                    f"calendar {self.name!r} stays closed for over {_MAX_CLOSED_DAYS} days "
                    f"after {day - dt.timedelta(days=idle)}: check its hours and closed dates"
                )
            day += dt.timedelta(days=1)

    def is_open(self, at: dt.datetime) -> bool:
        at = as_utc(at)
        day = at.astimezone(self.zone).date()
        return any(s <= at < e for s, e in self.spans_on(day))

    def local(self, at: dt.datetime) -> dt.datetime:
        return as_utc(at).astimezone(self.zone)

    def describe(self) -> str:
        parts = []
        for key, spans in self.config.hours.items():
            parts.append(f"{key.title()} {spans}")
        text = ", ".join(parts) + f" ({self.config.timezone})"
        if self.config.holidays:
            text += f", closed on {self.config.holidays} holidays"
        return text
