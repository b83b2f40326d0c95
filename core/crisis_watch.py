"""Crisis detection: inbound volume (all messages, and those with a crisis keyword) in the last
window against the median hour of a trailing baseline; a spike appends one "crisis.alert".

Messages are bucketed by their platform time. The scan is bounded by the message id where
the baseline starts, found by a binary search over the primary key on `recorded_at` (ids are
handed out in recording order), so a long history costs a few point reads, not a scan.
An alert is recorded at most once per `alert_every_minutes`, never while crisis mode is on;
the counting reads, and the last check and the append share one write transaction (SQLite:
BEGIN IMMEDIATE; PostgreSQL: an advisory lock first), so two checkers at once (sync on two
hosts, a supervisor's workstation) record one alert between them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from frontdesk.core import crisis, events
from frontdesk.core.clock import as_utc
from frontdesk.core.db import Database
from frontdesk.core.models import Message
from frontdesk.core.playbook.crisis import CrisisConfig
from frontdesk.core.playbook.phrases import PhraseMatcher

_ALERT_LOCK = 0x66_64_63_72  # "fdcr": any constant shared by every frontdesk process


@dataclass(frozen=True, slots=True)
class Figures:
    """What one look at the inbound volume found, and which alarms it trips."""

    at: datetime
    window_minutes: int
    count: int
    baseline: float
    keyword_count: int
    keyword_baseline: float
    factor: float
    tripped: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figures:
        """The figures an alert event carries."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**known, "at": as_utc(datetime.fromisoformat(str(data["at"])))})

    def summary(self) -> str:
        """One line with the numbers, for the banner, the CLI and the log."""
        parts = [f"{self.count} inbound in the last {self.window_minutes} min"
                 f" (median hour {self.baseline:g})"]  # fmt: skip
        if self.keyword_count or self.keyword_baseline:
            parts.append(
                f"{self.keyword_count} with crisis keywords (median {self.keyword_baseline:g})"
            )
        return "; ".join(parts)


def _first_id_since(session: Session, since: datetime) -> int | None:
    """The smallest message id recorded at or after `since` (None: none is)."""
    low, high = session.exec(select(func.min(Message.id), func.max(Message.id))).one()
    if low is None or high is None:
        return None

    def recorded(position: int) -> datetime:
        query = select(Message.recorded_at).where(col(Message.id) >= position)
        return as_utc(session.exec(query.order_by(col(Message.id)).limit(1)).one())

    if recorded(high) < since:
        return None
    while low < high:
        middle = (low + high) // 2
        if recorded(middle) >= since:
            high = middle
        else:
            low = middle + 1
    return low


def measure(session: Session, config: CrisisConfig, now: datetime) -> Figures:
    """Count the window's inbound messages and the baseline's hours; say what trips."""
    window = timedelta(minutes=config.window_minutes)
    start = now - window - timedelta(hours=config.baseline_hours)
    first = _first_id_since(session, start)
    hours = [0] * config.baseline_hours
    keyword_hours = [0] * config.baseline_hours
    count = keyword_count = 0
    keywords = config.matcher()
    if first is not None:
        columns = (Message.created_at, Message.body) if keywords else (Message.created_at,)
        query = select(*columns).where(col(Message.id) >= first, Message.direction == "inbound")
        for row in session.execute(query):  # rows, even of one column
            when = as_utc(row[0])
            if when < start or when > now:
                continue
            hit = bool(keywords) and _has(keywords, row[1])
            if when > now - window:
                count += 1
                keyword_count += hit
                continue
            index = int((now - window - when).total_seconds() // 3600)
            if index < config.baseline_hours:
                hours[index] += 1
                keyword_hours[index] += hit
    base, keyword_base = float(median(hours)), float(median(keyword_hours))
    tripped = []
    if count >= config.min_count and count >= config.factor * base:
        tripped.append("volume")
    if keywords and keyword_count >= config.keyword_min_count:
        if keyword_count >= config.factor * keyword_base:
            tripped.append("keywords")
    return Figures(
        now, config.window_minutes, count, base, keyword_count, keyword_base, config.factor,
        tripped,
    )  # fmt: skip


def _has(keywords: PhraseMatcher, body: str) -> bool:
    return keywords.search(body) is not None


def quiet(session: Session, config: CrisisConfig, now: datetime) -> bool:
    """Whether an alert may be recorded now: crisis mode is off and the last alert is old."""
    if crisis.is_on(session):
        return False
    last = crisis.latest(session, crisis.ALERT)
    return last is None or as_utc(last.at) <= now - timedelta(minutes=config.alert_every_minutes)


def check(db: Database, config: CrisisConfig, now: datetime, *, actor: str) -> Figures | None:
    """Record a "crisis.alert" with the figures when an alarm trips, unless crisis mode is on
    or the last alert is recent; returns the figures recorded (None: nothing recorded).

    The counting runs in a read transaction (it never holds SQLite's write lock); only a
    tripped alarm opens a write, which asks `quiet` again under the lock before appending.
    """
    with db.read() as session:
        if not quiet(session, config, now):
            return None
        figures = measure(session, config, now)
    if not figures.tripped:
        return None
    with db.write() as session:
        if session.connection().dialect.name == "postgresql":
            session.connection().execute(text(f"SELECT pg_advisory_xact_lock({_ALERT_LOCK})"))
        if not quiet(session, config, now):
            return None
        events.append(session, at=now, actor=actor, kind=crisis.ALERT, payload=figures.as_json())
    return figures
