"""Durations for the metrics: business seconds on a team's calendar, medians and p90s."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from frontdesk.core.playbook.calendar import Calendar

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch(at: dt.datetime) -> int:
    """Whole seconds since 1970 (UTC) of an aware datetime, as the metrics' SQL returns them."""
    return math.floor((at - _EPOCH).total_seconds())


def from_epoch(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=seconds)


class BusinessClock:
    """How many seconds a calendar is open between two instants, for many pairs at once.

    The calendar's own open spans (`Calendar.open_spans`, the ones the SLA clocks run on)
    between `low` and `high` become a cumulative table: open seconds before each span's
    start. The open time up to any instant is then one binary search, and the open time
    between two instants is a difference of two of those (the same figure as
    `sla.running_time` without pauses; a test holds them equal).
    """

    def __init__(self, calendar: Calendar, low: int, high: int) -> None:
        starts: list[int] = []
        ends: list[int] = []
        if high > low:
            for opens, closes in calendar.open_spans(from_epoch(low)):
                start = epoch(opens)
                if start >= high:
                    break
                starts.append(start)
                ends.append(min(_ceil_epoch(closes), high))
        self._low = low
        self._starts = np.array(starts, dtype=np.int64)
        lengths = np.array(ends, dtype=np.int64) - self._starts
        self._lengths = lengths
        self._before = np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64)

    def open_until(self, instants: np.ndarray) -> np.ndarray:
        """Open seconds from `low` to each instant (instants between `low` and `high`)."""
        if not len(self._starts):
            return np.zeros(len(instants), dtype=np.int64)
        index = np.searchsorted(self._starts, instants, side="right") - 1
        safe = np.maximum(index, 0)
        inside = np.clip(instants - self._starts[safe], 0, self._lengths[safe])
        return np.where(index < 0, 0, self._before[safe] + inside)

    def seconds(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """Open seconds between each start and its end (zero when the end is not later)."""
        result: np.ndarray = np.maximum(self.open_until(ends) - self.open_until(starts), 0)
        return result


def _ceil_epoch(at: dt.datetime) -> int:
    if at.year >= 9999:  # the 24/7 calendar's one span never closes
        return 2**62
    return math.ceil((at - _EPOCH).total_seconds())


@dataclass(frozen=True, slots=True)
class Stats:
    """The median and the 90th percentile of some durations in seconds (None without any).

    The median of an even count is the mean of the two middle values; the p90 is the
    nearest rank: the smallest value that at least 90% of the values do not exceed.
    """

    median: float | None
    p90: float | None

    def as_json(self) -> dict[str, float | None]:
        return {"median": self.median, "p90": self.p90}


NO_STATS = Stats(None, None)


def summarise(values: Sequence[float] | np.ndarray) -> Stats:
    """The median and p90 of `values` (see Stats)."""
    n = len(values)
    if not n:
        return NO_STATS
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    middle = (float(ordered[(n - 1) // 2]) + float(ordered[n // 2])) / 2
    rank = (9 * n + 9) // 10  # ceil(0.9 n) in integers
    return Stats(middle, float(ordered[rank - 1]))
