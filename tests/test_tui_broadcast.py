"""The workstation's proactive-care keys: mark rows, broadcast an answer to them, note an idea."""

from __future__ import annotations

from sqlmodel import select

from frontdesk.core.db import Database
from frontdesk.core.models_channels import OutboxItem
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, desk_for, message, screen_text, settle

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
        await pilot.press("m", "j", "j", "m", "j", "m", "m")  # the last one unmarked again
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
