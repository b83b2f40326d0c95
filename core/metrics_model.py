"""The report's shape: figures per group, backlog points, "you said, we did", as JSON and rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from frontdesk.core.metrics_time import NO_STATS, Stats

GROUPINGS = ("channel", "team", "operator", "category", "tag")
NONE_KEY = "-"
"""The group of facts without a value for the grouping (no team, no operator, no tag)."""
CSAT_SCORES = range(1, 6)
NPS_SCORES = range(11)


@dataclass(frozen=True, slots=True)
class Timing:
    """Durations in seconds, on the wall clock and in the team calendar's open time."""

    count: int = 0
    wall: Stats = NO_STATS
    business: Stats = NO_STATS

    def as_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "wall": self.wall.as_json(),
            "business": self.business.as_json(),
        }


@dataclass(frozen=True, slots=True)
class Scores:
    """Survey answers: how many, their mean, and how many gave each score."""

    survey: str = "csat"
    count: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)
    nps: float | None = None
    """Promoters (9-10) minus detractors (0-6), in % of answers; NPS surveys only."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "count": self.count,
            "average": self.average,
            "distribution": {str(k): v for k, v in self.distribution.items()},
        }
        if self.survey == "nps":
            data["nps"] = self.nps
        return data


def duration(seconds: float | None) -> str:
    """Seconds for people: 45s, 25m, 1h05m, 2d03h."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


@dataclass(frozen=True, slots=True)
class Figures:
    """Every figure of one group (or of the whole desk) for the period."""

    conversations: int = 0
    messages_in: int = 0
    replies: int = 0
    handled: int = 0
    first_response: Timing = Timing()
    next_response: Timing = Timing()
    sla_met: int = 0
    sla_breached: int = 0
    resolved: int = 0
    resolved_in_channel: int = 0
    resolution: Timing = Timing()
    referred: int = 0
    signoffs_requested: int = 0
    signoffs_approved: int = 0
    signoffs_rejected: int = 0
    praise: int = 0
    praise_answered: int = 0
    complaints: int = 0
    complaints_answered: int = 0
    csat: Scores = Scores()
    nps: Scores = Scores("nps")

    @property
    def sla_compliance(self) -> float | None:
        """Clocks met in % of clocks met or breached in the period."""
        return percent(self.sla_met, self.sla_met + self.sla_breached)

    @property
    def in_channel(self) -> float | None:
        """Resolutions without a referral to phone or email, in % of resolutions."""
        return percent(self.resolved_in_channel, self.resolved)

    def as_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "messages_in": self.messages_in,
            "replies": self.replies,
            "handled": self.handled,
            "first_response": self.first_response.as_json(),
            "next_response": self.next_response.as_json(),
            "sla": {
                "met": self.sla_met,
                "breached": self.sla_breached,
                "compliance_pct": self.sla_compliance,
            },
            "resolved": self.resolved,
            "resolution": self.resolution.as_json(),
            "resolved_in_channel": self.resolved_in_channel,
            "in_channel_pct": self.in_channel,
            "referred": self.referred,
            "signoffs": {
                "requested": self.signoffs_requested,
                "approved": self.signoffs_approved,
                "rejected": self.signoffs_rejected,
            },
            "praise": {"count": self.praise, "answered": self.praise_answered},
            "complaints": {"count": self.complaints, "answered": self.complaints_answered},
            "csat": self.csat.as_json(),
            "nps": self.nps.as_json(),
        }

    def flat(self) -> dict[str, int | float | None]:
        """One value per column, for CSV and the table (durations in seconds)."""
        row: dict[str, int | float | None] = {
            "conversations": self.conversations,
            "messages_in": self.messages_in,
            "replies": self.replies,
            "handled": self.handled,
        }
        for name, timing in (
            ("first_response", self.first_response),
            ("next_response", self.next_response),
            ("resolution", self.resolution),
        ):
            row[f"{name}_count"] = timing.count
            row[f"{name}_median_s"] = timing.wall.median
            row[f"{name}_p90_s"] = timing.wall.p90
            row[f"{name}_business_median_s"] = timing.business.median
            row[f"{name}_business_p90_s"] = timing.business.p90
        row |= {
            "sla_met": self.sla_met,
            "sla_breached": self.sla_breached,
            "sla_compliance_pct": self.sla_compliance,
            "resolved": self.resolved,
            "resolved_in_channel": self.resolved_in_channel,
            "in_channel_pct": self.in_channel,
            "referred": self.referred,
            "signoffs_requested": self.signoffs_requested,
            "signoffs_approved": self.signoffs_approved,
            "signoffs_rejected": self.signoffs_rejected,
            "praise": self.praise,
            "praise_answered": self.praise_answered,
            "complaints": self.complaints,
            "complaints_answered": self.complaints_answered,
            "csat_count": self.csat.count,
            "csat_average": self.csat.average,
        }
        row |= {f"csat_{s}": self.csat.distribution.get(s, 0) for s in CSAT_SCORES}
        row |= {"nps_count": self.nps.count, "nps": self.nps.nps}
        return row


@dataclass(frozen=True, slots=True)
class BacklogPoint:
    """Open conversations at the end of one hour or day, and what came and went in it."""

    start: datetime
    open: int
    opened: int
    resolved: int

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "open": self.open,
            "opened": self.opened,
            "resolved": self.resolved,
        }


@dataclass(frozen=True, slots=True)
class Change:
    """A "you said, we did" record: feedback that led to a change."""

    at: datetime
    actor: str
    summary: str
    conversations: tuple[int, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "actor": self.actor,
            "summary": self.summary,
            "conversations": list(self.conversations),
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The figures for [since, until): the whole desk, then one row per group (by key)."""

    since: datetime
    until: datetime
    by: str | None
    total: Figures
    groups: dict[str, Figures]
    backlog: list[BacklogPoint]
    bucket: str
    """"hour" or "day": the width of each backlog point."""
    changes: list[Change]

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "by": self.by,
            "total": self.total.as_json(),
            "groups": {key: figures.as_json() for key, figures in self.groups.items()},
            "backlog": {"bucket": self.bucket, "points": [p.as_json() for p in self.backlog]},
            "you_said_we_did": [c.as_json() for c in self.changes],
        }

    def rows(self) -> list[dict[str, Any]]:
        """The total then each group as flat rows, the group's name first (for CSV)."""
        name = self.by or "group"
        rows = [{name: "total", **self.total.flat()}]
        rows += [{name: key, **figures.flat()} for key, figures in self.groups.items()]
        return rows
