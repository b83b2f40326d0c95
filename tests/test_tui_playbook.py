"""The playbook's keys in the workstation: live tone findings, sign-off, escalate, go private,
thank, and the one-key overrides of triage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontdesk.core.clock import utcnow
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.approvals import ApprovalsScreen
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, screen_text, settle

SIZE = (160, 48)
PLAYBOOK = """
[escalation.legal]
primary = { name = "Dana Ortiz", reach = "legal@northwind.example" }
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(
        playbook=str(tmp_path / "playbook.toml"),
        roles=RoleSettings(supervisors=["sue"]),
    )


def _seed(db: Database, text: str) -> None:
    line = {
        "channel": "x",
        "external_id": "p1",
        "text": text,
        "created_at": utcnow().isoformat(),
        "author": {"id": "7", "handle": "@kim", "name": "Kim Lee"},
    }
    Desk(Settings(), "ingest", db=db).ingest([json.dumps(line)])


def _app(db: Database, settings: Settings, login: str) -> FrontdeskApp:
    return FrontdeskApp(Desk(settings, login, db=db), DEMO_KB)


def workstation(app: FrontdeskApp) -> WorkstationScreen:
    screen = app.screen
    assert isinstance(screen, WorkstationScreen)
    return screen


async def test_findings_show_while_typing_and_a_block_keeps_the_draft(
    db: Database, settings: Settings
) -> None:
    _seed(db, "where is my order?")
    app = _app(db, settings, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("r", *"Unfortunately it is late")
        await pilot.pause()
        assert {f.rule for f in screen.composer.findings} == {"banned-phrase", "customer-name"}
        assert "⚠ banned-phrase" in screen_text(app)
        await pilot.press(*" mail me at kim@example.com")
        await pilot.pause()
        assert any(f.blocks for f in screen.composer.findings)
        assert "⛔ personal-data" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert screen.composer.text.endswith("kim@example.com")  # the draft is kept
        assert screen.thread is not None
        assert [m.direction for m in screen.thread.messages] == ["inbound"]


async def test_a_held_reply_is_approved_in_the_signoff_screen(
    db: Database, settings: Settings
) -> None:
    _seed(db, "this is going to my lawyer")
    alice_app, sue_app = _app(db, settings, "alice"), _app(db, settings, "sue")
    async with alice_app.run_test(size=SIZE) as alice, sue_app.run_test(size=SIZE) as sue:
        await settle(alice, alice_app)
        await settle(sue, sue_app)
        a = workstation(alice_app)
        await alice.press("n")
        await settle(alice, alice_app)
        await alice.press("r", *"Hi Kim, our team will call you today.", "ctrl+s")
        await settle(alice, alice_app)
        assert a.composer.text == ""
        assert a.queue.rows[0].flag == "sign-off"
        for _ in range(40):  # the row repaints on the next refresh
            if "[sign-off]" in screen_text(alice_app):
                break
            await alice.pause(0.05)
        assert "[sign-off]" in screen_text(alice_app)

        await sue.press("A")
        await settle(sue, sue_app)
        assert isinstance(sue_app.screen, ApprovalsScreen)
        assert 'the customer wrote "lawyer"' in screen_text(sue_app)
        await sue.press("y")
        await settle(sue, sue_app)
        assert "approved: the reply is queued" in screen_text(sue_app)

        def told() -> bool:
            return any("sue approved your reply" in n.message for n in alice_app._notifications)

        for _ in range(100):  # the decision reaches Alice through the change feed
            if told():
                break
            await alice.pause(0.05)
        assert told()
        assert a.thread is not None
        assert any(m.direction == "outbound" for m in a.thread.messages)


async def test_escalate_go_private_and_retriage_keys(db: Database, settings: Settings) -> None:
    _seed(db, "you charged me twice")
    app = _app(db, settings, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        public = screen.thread.conversation.id if screen.thread else None

        await pilot.press("C")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "enter")  # the second category: complaint
        await settle(pilot, app)
        assert screen.thread is not None and screen.thread.conversation.category == "complaint"
        await pilot.press("P")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        await pilot.press("backspace", *"7", "enter")
        await settle(pilot, app)
        assert screen.thread.conversation.priority == 7
        assert "override: alice set priority 7" in screen_text(app)

        await pilot.press("e")
        await pilot.pause()
        await pilot.press("enter")  # legal, the only department
        await pilot.pause()
        await pilot.press(*"double charge dispute", "enter")
        await settle(pilot, app)
        assert "Escalated to legal: Dana Ortiz" in screen_text(app)

        await pilot.press("p")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        assert screen.thread is not None and screen.thread.conversation.visibility == "private"
        assert screen.thread.conversation.linked_id == public
        assert screen.thread.conversation.id in screen.held

        await pilot.press("t")
        await settle(pilot, app)
        assert screen.composer.text.strip() and "Kim" in screen.composer.text


async def test_a_playbook_edit_takes_effect_and_a_broken_one_is_refused(
    db: Database, settings: Settings
) -> None:
    _seed(db, "where is my order?")
    assert settings.playbook is not None
    path = Path(settings.playbook)
    app = _app(db, settings, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("r", *"Hi Kim, that is bananas")
        await pilot.pause()
        assert screen.composer.findings == []

        def said(text: str) -> bool:
            return any(text in n.message for n in app._notifications)

        path.write_text(
            PLAYBOOK + '\n[[tone.banned]]\nphrase = "bananas"\ninstead = "surprising"\n',
            encoding="utf-8",
        )
        for _ in range(200):  # the watcher debounces bursts of saves
            if said("playbook updated"):
                break
            await pilot.pause(0.05)
        assert said("playbook updated")
        await pilot.press("space")  # any change re-runs the check against the new rules
        await pilot.pause()
        assert [f.rule for f in screen.composer.findings] == ["banned-phrase"]

        path.write_text("[tone\nbroken = ", encoding="utf-8")
        for _ in range(200):
            if said("playbook edit refused"):
                break
            await pilot.pause(0.05)
        assert said("playbook edit refused") and said("playbook.toml:1")
        await pilot.press("space")
        await pilot.pause()
        assert [f.rule for f in screen.composer.findings] == ["banned-phrase"]  # last good


async def test_a_session_opening_on_a_broken_playbook_says_what_is_in_force(
    db: Database, settings: Settings
) -> None:
    _seed(db, "where is my order?")
    assert settings.playbook is not None
    Path(settings.playbook).write_text("[tone\nbroken = ", encoding="utf-8")
    app = _app(db, settings, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert any(
            m.startswith("playbook file is broken:")
            and "playbook.toml:1" in m
            and m.endswith("the built-in defaults are in force")
            for m in said
        ), said
        assert not any("edit refused" in m for m in said)


async def test_resolving_the_private_talk_asks_for_the_public_follow_up(
    db: Database, settings: Settings
) -> None:
    _seed(db, "you charged me twice")
    app = _app(db, settings, "alice")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        public = screen.thread.conversation.id if screen.thread else None
        await pilot.press("p")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, app)
        assert screen.thread is not None and screen.thread.conversation.linked_id == public

        await pilot.press("x")
        await settle(pilot, app)
        wanted = f"post the public follow-up on #{public}"
        assert any(wanted in n.message for n in app._notifications)
        assert Desk(settings, "alice", db=db).thread(public or 0).conversation.follow_up == "due"
