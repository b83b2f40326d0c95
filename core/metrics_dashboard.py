"""The dashboard's figures: the report of the last hours and the same figures hour by hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from frontdesk.core import metrics, metrics_series
from frontdesk.core.clock import as_utc
from frontdesk.core.metrics_model import Figures, Report
from frontdesk.core.playbook.playbook import Playbook

DEFAULT_HOURS = 24


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The whole window's report, then one Figures per step of it, oldest first."""

    report: Report
    hours: list[Figures]
    starts: list[datetime]
    step_hours: int = 1

    def volume(self) -> list[float]:
        """Customer messages received, per step."""
        return [float(f.messages_in) for f in self.hours]

    def first_response_minutes(self) -> list[float]:
        """Median first response per step, in minutes (0 where nobody was answered)."""
        return [(f.first_response.wall.median or 0) / 60 for f in self.hours]

    def sla_compliance(self) -> list[float]:
        """SLA compliance per step in % (100 where no clock ended: nothing was missed)."""
        return [100.0 if f.sla_compliance is None else f.sla_compliance for f in self.hours]

    def backlog(self) -> list[float]:
        """Open conversations at the end of each backlog point of the report."""
        return [float(p.open) for p in self.report.backlog]


def build(
    session: Session,
    *,
    now: datetime,
    hours: int = DEFAULT_HOURS,
    step_hours: int = 1,
    playbook: Playbook | None = None,
) -> Dashboard:
    """The figures of the `hours` whole hours up to the end of the current one, and of each
    `step_hours` of them.

    Each step's figures are those `frontdesk report` gives for it (core/metrics.py), so an
    hour on the dashboard and that hour in a report agree; the series reads the log once.
    """
    end = as_utc(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(hours=hours)
    steps = metrics_series.series(session, start, end, timedelta(hours=step_hours), playbook)
    report = metrics.compute(session, start, end, None, playbook)
    return Dashboard(
        report=report,
        hours=[figures for _, figures in steps],
        starts=[at for at, _ in steps],
        step_hours=step_hours,
    )
