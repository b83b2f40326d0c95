"""Every key path of the workstation, driven through the pilot and checked in the database."""

from __future__ import annotations

import pytest
from sqlmodel import select

from frontdesk.core.db import Database
from frontdesk.core.models import Conversation
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.confirm import ConfirmScreen
from frontdesk.tui.screens.filter import FilterScreen
from frontdesk.tui.screens.help import HelpScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, desk_for, message, screen_text, seed_queue, settle

SIZE = (160, 48)


@pytest.fixture
def seeded(db: Database) -> Database:
    return seed_queue(db)


def workstation(app: FrontdeskApp) -> WorkstationScreen:
    screen = app.screen
    assert isinstance(screen, WorkstationScreen)
    return screen


def holder(db: Database, conversation_id: int) -> str | None:
    return desk_for(db, "x").thread(conversation_id).conversation.claimed_by


def bodies(db: Database, conversation_id: int, direction: str) -> list[str]:
    thread = desk_for(db, "x").thread(conversation_id)
    return [m.body for m in thread.messages if m.direction == direction]


async def test_j_k_move_and_c_claims_the_selected_row(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("j", "j", "j", "k")
        await settle(pilot, app)
        assert screen.queue.cursor == 2
        target = screen.queue.rows[2].conversation_id
        assert screen.thread is not None and screen.thread.conversation.id == target
        await pilot.press("c")
        await settle(pilot, app)
        assert holder(seeded, target) == "alice"
        assert list(screen.held) == [target]
        assert screen.queue.rows[2].holder == "alice"


async def test_u_releases_the_open_conversation(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        (target,) = screen.held
        await pilot.press("u")
        await settle(pilot, app)
        assert holder(seeded, target) is None
        assert screen.held == {}


async def test_i_writes_an_internal_note_and_ctrl_enter_sends(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        (target,) = screen.held
        await pilot.press("i")
        await pilot.pause()
        assert screen.composer.as_note and screen.composer.area.has_focus
        await pilot.press(*"checked the courier")
        await pilot.press("ctrl+enter")
        await settle(pilot, app)
        assert bodies(seeded, target, "note") == ["checked the courier"]
        assert bodies(seeded, target, "outbound") == []
        assert "checked the courier (internal note)" not in screen_text(app)
        assert "alice (internal note)" in screen_text(app)


async def test_x_resolves_and_moves_to_the_next(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        (target,) = screen.held
        await pilot.press("x")
        await settle(pilot, app)
        with seeded.read() as session:
            status = session.exec(
                select(Conversation.status).where(Conversation.id == target)
            ).one()
        assert status == "resolved"
        assert screen.queue.total == 29
        assert all(r.conversation_id != target for r in screen.queue.rows.values())
        assert screen.thread is not None and screen.thread.conversation.id != target


async def test_slash_searches_and_a_number_inserts_the_answer(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        assert screen.knowledge.hits, "the latest message already found answers"
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"refund")
        await settle(pilot, app)
        top = screen.knowledge.hits[0].article
        assert "refund" in (top.title + " ".join(top.tags)).lower()
        await pilot.press("escape")
        await pilot.press("1")
        await settle(pilot, app)
        draft = screen.composer.text
        assert draft == top.render("x", screen.knowledge.values)
        assert "{name}" not in draft and "Name" in draft  # the customer's first name


async def test_filter_prompt_by_tag_and_team_with_a_clear_error(seeded: Database) -> None:
    with seeded.write() as session:
        convs = session.exec(select(Conversation).limit(3)).all()
        convs[0].tags, convs[1].tags, convs[2].team = ["refund"], ["refund"], "billing"
        for conv in convs:
            session.add(conv)
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("F")
        await pilot.pause()
        assert isinstance(app.screen, FilterScreen)
        await pilot.press(*"nonsense", "enter")
        await pilot.pause()
        assert isinstance(app.screen, FilterScreen)
        assert "unknown filter 'nonsense'" in screen_text(app)
        await pilot.press(*("backspace" for _ in range(8)), *"tag:refund", "enter")
        await settle(pilot, app)
        assert isinstance(app.screen, WorkstationScreen) and screen.queue.total == 2
        await pilot.press("F", *("backspace" for _ in range(10)), *"team:billing", "enter")
        await settle(pilot, app)
        assert screen.queue.total == 1
        assert "queue · team:billing" in screen_text(app)


async def test_help_lists_the_focused_panes_keys(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert "Keys in QueueList" in screen_text(app)
        assert "queue.claim_next" in screen_text(app)
        listed = "\n".join(help_screen.rows)
        for binding_id in ("queue.down", "queue.release", "thread.resolve", "app.quit"):
            assert binding_id in listed
        assert "help.close" not in listed  # the workstation's keys, not the help's own
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WorkstationScreen)


async def test_palette_runs_a_namespaced_command(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"queue: claim next")
        await pilot.pause(0.3)  # the palette searches in its own worker
        await pilot.press("enter")
        await settle(pilot, app)
        screen = workstation(app)
        assert len(screen.held) == 1
        (target,) = screen.held
        assert holder(seeded, target) == "alice"


async def test_quit_warns_while_holding_claims(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("escape", "q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "You still hold 1 conversation(s)" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, WorkstationScreen)
        await pilot.press("q")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert not app.is_running


async def test_g_jumps_to_the_last_row_and_stays_there_as_rows_arrive(db: Database) -> None:
    lines = [message(i, f"question {i}", 300 - i) for i in range(1, 301)]
    assert desk_for(db, "ingest").ingest(lines).accepted == 300
    app = FrontdeskApp(desk_for(db, "alice"), DEMO_KB)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        await pilot.press("G")
        await settle(pilot, app)
        last = screen.queue.rows[299]
        assert screen.queue.cursor == 299
        assert screen.thread is not None and screen.thread.conversation.id == last.conversation_id
        # A new message elsewhere reloads the queue; the cursor keeps its row.
        desk_for(db, "ingest").ingest([message(999, "new one", 0)])
        for _ in range(100):  # readiness wait for the change feed
            await pilot.pause(0.05)
            if screen.queue.total == 301:
                break
        await settle(pilot, app)
        assert screen.queue.total == 301
        assert screen.queue.rows[screen.queue.cursor].conversation_id == last.conversation_id
        assert "question 300" in screen_text(app)


async def test_a_failed_reply_shows_why_and_r_queues_it_again(seeded: Database) -> None:
    from frontdesk.core import outbox
    from frontdesk.core.clock import utcnow

    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        workstation(app)
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("r", *"We are on it", "ctrl+s")
        await settle(pilot, app)
        with seeded.write() as session:
            (item,) = outbox.due(session, now=utcnow())
            outbox.mark_failed(
                session, item, error="duplicate content", now=utcnow(), retry_at=None
            )
        await pilot.press("escape")
        for _ in range(100):  # the failure arrives through the change feed
            await pilot.pause(0.05)
            if "failed: duplicate" in screen_text(app):
                break
        assert "failed: duplicate" in screen_text(app) and "(R retries)" in screen_text(app)
        await pilot.press("R")
        await settle(pilot, app)
        with seeded.read() as session:
            assert outbox.get(session, item.id or 0).state == "queued"
        assert "· queued" in screen_text(app)
