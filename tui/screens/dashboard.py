"""The dashboard (g then d): the desk's figures for the last day with hourly sparklines, live."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static
from textual.worker import get_current_worker

from frontdesk.core.clock import as_utc
from frontdesk.core.errors import FrontdeskError
from frontdesk.core.metrics_dashboard import Dashboard
from frontdesk.core.metrics_model import Figures, Timing, duration

if TYPE_CHECKING:
    from frontdesk.core.desk import Desk

REFRESH_SECONDS = 10.0
"""How often the figures are computed again while the dashboard is shown."""
WINDOWS = ((24, 1), (24 * 7, 6))
"""The windows `w` cycles through, in hours, and each chart point's width: the last day by
the hour, the last week by six hours."""
CHARTS = (
    ("volume", "messages in"),
    ("first_response", "median first response (min)"),
    ("sla", "SLA compliance (%)"),
    ("backlog", "open conversations"),
)


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def timing(t: Timing) -> str:
    return f"{duration(t.wall.median)} / p90 {duration(t.wall.p90)} ({t.count})"


def cards(f: Figures) -> list[tuple[str, str]]:
    """The headline figures, label and value, in reading order."""
    csat = f"{f.csat.average:.1f} ({f.csat.count})" if f.csat.average is not None else "-"
    nps = f"{f.nps.nps:+.0f} ({f.nps.count})" if f.nps.nps is not None else "-"
    return [
        ("conversations", str(f.conversations)),
        ("messages in", str(f.messages_in)),
        ("replies", str(f.replies)),
        ("first response", timing(f.first_response)),
        ("next response", timing(f.next_response)),
        ("SLA compliance", f"{pct(f.sla_compliance)} ({f.sla_met} met, {f.sla_breached} missed)"),
        ("resolved", f"{f.resolved} · in channel {pct(f.in_channel)}"),
        ("time to resolve", timing(f.resolution)),
        ("praise answered", f"{f.praise_answered} of {f.praise}"),
        ("complaints answered", f"{f.complaints_answered} of {f.complaints}"),
        ("sign-offs", f"{f.signoffs_requested} asked · {f.signoffs_approved} approved"),
        ("CSAT · NPS", f"{csat} · {nps}"),
    ]


class DashboardScreen(Screen[None]):
    """Figures and charts from the event log (core/metrics_dashboard.py), recomputed live."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back", id="dashboard.close"),
        Binding("w", "cycle_window", "Day / week", id="dashboard.window"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.window = WINDOWS[0]

    def compose(self) -> ComposeResult:
        with Vertical(id="dashboard"):
            yield Static(Content("dashboard · computing…"), id="dashboard-title")
            yield Grid(id="dashboard-cards")
            for name, label in CHARTS:
                yield Static(Content(label), classes="dashboard-label", id=f"label-{name}")
                yield Sparkline([], id=f"chart-{name}", classes="dashboard-chart")
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one("#dashboard-cards", Grid)
        for label, _ in cards(Figures()):
            grid.mount(Static(Content(label), classes="dashboard-card-label"))
            grid.mount(Static(Content("-"), classes="dashboard-card-value"))
        self.compute()
        self.set_interval(REFRESH_SECONDS, self.compute)

    def action_cycle_window(self) -> None:
        self.window = WINDOWS[(WINDOWS.index(self.window) + 1) % len(WINDOWS)]
        self.compute()

    @work(thread=True, exclusive=True, group="dashboard")
    def compute(self) -> None:
        try:
            dash = self.desk.dashboard(*self.window)
        except FrontdeskError as exc:  # the database is busy or away: say so, try again
            self.app.call_from_thread(self.show_trouble, exc.message)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show, dash, self.desk.clock())

    def show_trouble(self, message: str) -> None:
        title = self.query_one("#dashboard-title", Static)
        title.update(Content(f"dashboard · {message} (retrying)"))

    def show(self, dash: Dashboard, now: datetime) -> None:
        """Take computed figures (attributes down); only the values change."""
        since = as_utc(dash.report.since).astimezone()
        hours, step = self.window
        window = "24 hours" if hours == 24 else f"{hours // 24} days"
        title = (
            f"dashboard · last {window} since {since:%a %H:%M} · updated"
            f" {as_utc(now).astimezone():%H:%M:%S} · w: day / week"
        )
        per = "per hour" if step == 1 else f"per {step} hours"
        self.query_one("#dashboard-title", Static).update(Content(title))
        values = self.query(".dashboard-card-value").results(Static)
        for widget, (_, value) in zip(values, cards(dash.report.total), strict=False):
            widget.update(Content(value))
        series = {
            "volume": dash.volume(),
            "first_response": dash.first_response_minutes(),
            "sla": dash.sla_compliance(),
            "backlog": dash.backlog(),
        }
        for name, label in CHARTS:
            data = series[name]
            chart = self.query_one(f"#chart-{name}", Sparkline)
            chart.data = data
            last = f"{data[-1]:.0f}" if data else "-"
            peak = f"{max(data):.0f}" if data else "-"
            width = "" if name == "backlog" else f" {per}"
            self.query_one(f"#label-{name}", Static).update(
                Content(f"{label}{width} · now {last} · peak {peak}")
            )
