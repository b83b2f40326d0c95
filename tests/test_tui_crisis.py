"""Crisis mode and staff care in the workstation: a supervisor's key switches crisis mode and
a second workstation shows the banner and the holding statement live; a spike alert reaches
supervisors; away, the abusive flag and the break reminder (with an injected clock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.core import crisis_watch
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.playbook.crisis import CrisisConfig
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.widgets.crisis_banner import BreakReminder, CrisisBanner
from tests.fakes.platform import FakeClock
from tests.test_tui_two_operators import SIZE, until, workstation
from tests.tui_support import DEMO_KB, screen_text, seed_queue, settle

PLAYBOOK = """
[crisis]
keywords = ["outage"]
holding_statement = "We know checkout is down and we're on it. Updates here soon."

[staff]
break_after_minutes = 90
break_gap_minutes = 10
"""


def notes(app: FrontdeskApp) -> str:
    """Every notification the app has shown, newest last."""
    return "\n".join(n.message for n in app._notifications)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(
        playbook=str(tmp_path / "playbook.toml"), roles=RoleSettings(supervisors=["alice"])
    )


@pytest.fixture
def seeded(db: Database) -> Database:
    return seed_queue(db)


async def test_crisis_mode_reaches_a_second_workstation_live(seeded, settings) -> None:
    alice_app = FrontdeskApp(Desk(settings, "alice", db=seeded), DEMO_KB)
    bob_app = FrontdeskApp(Desk(settings, "bob", db=seeded), DEMO_KB)
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await settle(alice, alice_app)
        await settle(bob, bob_app)
        a, b = workstation(alice_app), workstation(bob_app)
        assert not b.query_one(CrisisBanner).display  # hidden while all is well

        # Bob is no supervisor: his key only says so.
        await bob.press("exclamation_mark")
        await settle(bob, bob_app)
        assert not b.crisis_on and "only supervisors" in notes(bob_app)

        # Alice switches crisis mode on with a reason.
        await alice.press("exclamation_mark")
        await alice.pause()
        await alice.press(*"checkout [b]down[/b]", "enter")
        await settle(alice, alice_app)
        assert await until([alice, bob], lambda: b.crisis_on)
        await settle(bob, bob_app)
        text = screen_text(bob_app)
        assert "CRISIS MODE" in text and "checkout [b]down[/b]" in text  # never markup
        assert "We know checkout is down" in text  # pinned atop the knowledge pane
        assert b.query_one(CrisisBanner).display

        # A reply from bob now waits for sign-off.
        await bob.press("n")
        await settle(bob, bob_app)
        await bob.press("H")  # the holding statement into the composer
        await bob.press("ctrl+s")
        await settle(bob, bob_app)
        assert "held for sign-off" in notes(bob_app) and "crisis mode: every" in notes(bob_app)

        # Off again (confirmed): the banner and the statement go everywhere.
        await alice.press("exclamation_mark")
        await alice.pause()
        await alice.press("y")
        assert await until([alice, bob], lambda: not b.crisis_on and not a.crisis_on)
        await settle(bob, bob_app)
        assert not b.query_one(CrisisBanner).display
        assert "We know checkout is down" not in screen_text(bob_app)


async def test_a_spike_alert_shows_on_a_supervisors_screen(seeded, settings) -> None:
    alice_app = FrontdeskApp(Desk(settings, "alice", db=seeded), DEMO_KB)
    async with alice_app.run_test(size=SIZE) as alice:
        await settle(alice, alice_app)
        a = workstation(alice_app)
        # seed_queue's 30 messages in the last 100 minutes over an empty baseline: a spike
        # once the window is wide enough (the tests' playbook keeps min_count at 20).
        config = CrisisConfig(window_minutes=120)
        assert crisis_watch.check(seeded, config, a.desk.clock(), actor="sync")
        assert await until([alice], lambda: bool(a.query_one(CrisisBanner).alert))
        await settle(alice, alice_app)
        assert "crisis alert: 30 inbound" in screen_text(alice_app)
        assert "30 inbound in the last 120 min" in notes(alice_app)


async def test_away_abusive_and_the_break_reminder(seeded, settings) -> None:
    clock = FakeClock()
    desk = Desk(settings, "bob", db=seeded, clock=clock)
    claim = desk.claim_next()
    assert claim is not None
    for _ in range(10):  # ninety minutes without a ten-minute pause
        clock.advance(9 * 60)
        desk.note(claim.conversation_id, "still on it")
    app = FrontdeskApp(desk, DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        reminder = screen.query_one(BreakReminder)
        assert reminder.state == "break" and reminder.display
        assert "for 1 h 30 min" in screen_text(app)

        await pilot.press("a")  # away: the reminder gives way to "you are away"
        await settle(pilot, app)
        assert reminder.state == "away" and desk.away()
        await pilot.press("n")
        await settle(pilot, app)
        assert screen.held == {} and "marked away" in notes(app)
        await pilot.press("a")
        await settle(pilot, app)
        assert not desk.away()

        clock.advance(15 * 60)  # rested
        screen.check_break()
        await settle(pilot, app)
        assert reminder.state == "" and not reminder.display

        await pilot.press("enter")  # open the top row and flag it abusive
        await settle(pilot, app)
        assert screen.thread is not None
        target = screen.thread.conversation.id or 0
        await pilot.press("b")
        await settle(pilot, app)
        assert "abusive" in desk.thread(target).conversation.tags
