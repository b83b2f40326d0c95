"""The workstation's proactive-care keys: mark rows, broadcast an answer to them, note an idea."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select

from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models_channels import OutboxItem
from frontdesk.kb.store import KnowledgeBase
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, HOSTILE, desk_for, message, screen_text, settle

SIZE = (160, 48)


def seed(db: Database) -> None:
    desk_for(db, "ingest").ingest(
        [message(i, "is your website down? checkout keeps failing", 60 - i) for i in range(1, 5)]
    )


def workstation(app: FrontdeskApp) -> WorkstationScreen:
    screen = app.screen
    assert isinstance(screen, WorkstationScreen)
    return screen


async def test_mark_rows_then_broadcast_a_searched_answer_to_them(db: Database) -> None:
    seed(db)
    app = FrontdeskApp(desk_for(db, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        first = screen.queue.row_at_cursor()
        # One step at a time: a queue reload landing between keys may follow the selection.
        for keys in (("m",), ("j", "j"), ("m",), ("j",), ("m",), ("m",)):  # last: unmarked
            await pilot.press(*keys)
            await settle(pilot, app)
        third = screen.queue.rows[2]
        assert first is not None and screen.queue.marked == {
            first.conversation_id,
            third.conversation_id,
        }
        assert "* @u1" in screen_text(app)

        await pilot.press("B")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        # The knowledge pane's answers come first; the last choice is a search.
        await pilot.press("end", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        await pilot.press(*"website down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Broadcast care/outage-holding to 2 conversations: 2 queue" in app.screen.question
        assert "Hi Name, sorry!" in app.screen.question
        await pilot.press("y")
        await settle(pilot, app)
        assert screen.queue.marked == set()
    with db.read() as session:
        sent = sorted(i.conversation_id for i in session.exec(select(OutboxItem)))
    assert sent == sorted([first.conversation_id, third.conversation_id])


async def test_broadcast_without_marks_says_how(db: Database) -> None:
    seed(db)
    app = FrontdeskApp(desk_for(db, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("B")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)
        said = [n.message for n in app._notifications]
        assert "mark conversations with m first" in said


async def test_i_notes_the_open_conversation_as_an_idea(db: Database) -> None:
    seed(db)
    desk = desk_for(db, "alice")
    app = FrontdeskApp(desk, DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("I")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")  # where the playbook routes it
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        await pilot.press(*"status page for outages", "enter")
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert "new idea #1 for care: status page for outages" in said
    [row] = desk.ideas()
    assert (row.idea.text, row.customers) == ("status page for outages", 1)


async def test_an_idea_in_the_customers_own_words_is_shown_safely(db: Database) -> None:
    desk_for(db, "ingest").ingest([message(1, f"add a status page {HOSTILE}", 5)])
    app = FrontdeskApp(desk_for(db, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        await pilot.press("I")
        await settle(pilot, app)
        await pilot.press("enter")  # where the playbook routes it
        await settle(pilot, app)
        await pilot.press("enter")  # the customer's own words
        await settle(pilot, app)
        [said] = [n.message for n in app._notifications if "idea #" in n.message]
    assert said.startswith("new idea #1 for care: add a status page")
    assert "\x1b" not in said and "\x9b" not in said and "\u202e" not in said
    assert "\u241b" in said  # the escape, visible


async def test_searching_answers_and_reading_departments_stay_off_the_ui_thread(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db)
    ui: list[str] = []
    search, playbook = KnowledgeBase.search, Desk.playbook

    def on_ui(what: str) -> None:
        if threading.current_thread() is threading.main_thread():
            ui.append(what)

    def searching(kb: KnowledgeBase, *args: Any, **kw: Any) -> Any:
        on_ui("search")
        return search(kb, *args, **kw)

    def reading(desk: Desk) -> Any:
        on_ui("playbook")
        return playbook.fget(desk)  # type: ignore[attr-defined]

    monkeypatch.setattr(KnowledgeBase, "search", searching)
    monkeypatch.setattr(Desk, "playbook", property(reading))
    app = FrontdeskApp(desk_for(db, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("m")
        await settle(pilot, app)
        ui.clear()
        await pilot.press("B")
        await settle(pilot, app)
        await pilot.press("end", "enter")
        await settle(pilot, app)
        await pilot.press(*"website down", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await settle(pilot, app)
        assert ui == []
        await pilot.press("enter")
        await settle(pilot, app)
        ui.clear()  # (opening the thread is not this test's business)
        await pilot.press("I")
        await settle(pilot, app)
        assert isinstance(app.screen, ChoiceScreen)
    assert ui == []
