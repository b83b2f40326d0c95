"""The dashboard: hour-by-hour figures that agree with the report, and the g-d screen that
shows them and follows new events without a key press."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Sparkline

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.metrics_model import duration
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens import dashboard as dashboard_screen
from frontdesk.tui.screens import go_actions
from frontdesk.tui.screens.dashboard import DashboardScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.fakes.platform import FakeClock
from tests.test_tui_two_operators import SIZE, until, workstation
from tests.tui_support import DEMO_KB, screen_text, seed_queue, settle

START = datetime(2026, 11, 23, 9, 10, tzinfo=UTC)


def line(n: int, at: datetime) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": f"d{n}",
            "text": f"where is my order {n}",
            "created_at": at.isoformat(),
            "author": {"id": f"c{n}", "handle": f"@c{n}", "name": f"Customer {n}"},
        }
    )


def test_each_hour_is_the_report_of_that_hour(db: Database) -> None:
    clock = FakeClock(START)
    desk = Desk(Settings(), "alice", db=db, clock=clock)
    desk.ingest([line(n, clock()) for n in range(3)])  # 09:10
    clock.now = START.replace(hour=11, minute=30)
    desk.ingest([line(n, clock()) for n in range(3, 5)])  # 11:30
    clock.now = START.replace(hour=11, minute=40)
    claim = desk.claim_next()
    assert claim is not None
    assert desk.reply(claim.conversation_id, "Hi Customer, it is on its way.").message
    clock.now = START.replace(hour=12, minute=5)

    dash = desk.dashboard(hours=4)
    assert [s.hour for s in dash.starts] == [9, 10, 11, 12]
    assert dash.volume() == [3.0, 0.0, 2.0, 0.0]
    # The most urgent conversation came in at 09:10 and was answered at 11:40: 150 minutes.
    assert dash.first_response_minutes() == [0.0, 0.0, 150.0, 0.0]
    assert dash.hours[2].replies == 1 and dash.report.total.replies == 1
    assert dash.report.total.messages_in == 5
    assert dash.backlog()[-1] == 5.0  # all five still open
    for start, figures in zip(dash.starts, dash.hours, strict=True):
        alone = desk.report(start, start + timedelta(hours=1)).total
        assert figures == alone

    week = desk.dashboard(hours=24 * 7, step_hours=6)
    assert len(week.hours) == 28 and sum(week.volume()) == 5.0


def test_durations_read_as_an_operator_reads_them() -> None:
    assert [duration(s) for s in (None, 45, 720, 3 * 3600 + 300, 2 * 86400 + 3 * 3600)] == [
        "-",
        "45s",
        "12m",
        "3h05m",
        "2d03h",
    ]


async def test_g_d_opens_the_dashboard_which_follows_new_messages(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard_screen, "REFRESH_SECONDS", 0.2)
    # A loaded machine can stall the loop between two pilot key presses for longer than an
    # operator's pause; the prefix's expiry has its own test below.
    monkeypatch.setattr(go_actions, "PATIENCE", 60.0)
    seed_queue(db)  # 30 conversations
    app = FrontdeskApp(Desk(Settings(), "alice", db=db), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("d")  # alone, d is nothing
        await settle(pilot, app)
        assert app.screen is screen
        await pilot.press("j", "j", "g", "g")  # g g: back to the top of the queue
        await settle(pilot, app)
        assert screen.queue.cursor == 0 and app.screen is screen

        await pilot.press("g", "d")
        assert await until([pilot], lambda: "messages in" in screen_text(app))
        assert isinstance(app.screen, DashboardScreen)
        assert await until([pilot], lambda: "now 30" in screen_text(app))
        volume = app.screen.query_one("#chart-volume", Sparkline)
        assert sum(volume.data or []) == 30

        # A new message elsewhere reaches the figures without a key press.
        Desk(Settings(), "ingest", db=db).ingest([line(500, datetime.now(UTC))])
        assert await until([pilot], lambda: "now 31" in screen_text(app))

        await pilot.press("escape")
        await settle(pilot, app)
        assert isinstance(app.screen, WorkstationScreen)


async def test_the_g_prefix_lapses_when_no_second_key_follows(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(go_actions, "PATIENCE", 0.05)
    seed_queue(db)
    app = FrontdeskApp(Desk(Settings(), "alice", db=db), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("j", "j", "g")
        await pilot.pause(0.3)  # the prefix has lapsed: this g starts a new one
        await pilot.press("g")
        await settle(pilot, app)
        assert screen.queue.cursor == 2
        await pilot.pause(0.3)
        await pilot.press("d")  # a lapsed prefix makes d nothing again
        await settle(pilot, app)
        assert app.screen is screen
