"""The workstation driven through Textual's pilot: keys, live changes, inert hostile text."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.conversations import Thread
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.workstation import WorkstationScreen
from frontdesk.tui.widgets.queue_list import QueueList
from frontdesk.tui.widgets.thread_view import ThreadView
from tests.tui_support import DEMO_KB, desk_for, screen_text, seed_queue, settle

WAIT_S = 30  # a guard against a hang only


@pytest.fixture
def seeded(db: Database) -> Database:
    return seed_queue(db)


async def test_queue_shows_most_urgent_first_and_claims_next(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        queue = app.screen.query_one(QueueList)
        assert queue.total == 30
        first = queue.rows[0]
        assert "order number 1" in first.preview  # the oldest message is the most urgent
        await pilot.press("n")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        assert screen.thread is not None
        assert screen.thread.conversation.id == first.conversation_id
        assert first.conversation_id in screen.held
        thread = desk_for(seeded, "alice").thread(first.conversation_id)
        assert thread.conversation.claimed_by == "alice"


async def test_reply_is_queued_and_stale_reply_keeps_the_draft(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen) and screen.thread is not None
        conversation_id = screen.thread.conversation.id
        assert conversation_id is not None
        await pilot.press("r")
        await pilot.pause()
        screen.composer.area.insert("Hello from alice")
        # Meanwhile the customer writes again, from another session.
        desk_for(seeded, "ingest").ingest(
            [
                json.dumps(
                    {
                        "channel": "x",
                        "external_id": "late",
                        "text": "are you there?",
                        "created_at": utcnow().isoformat(),
                        "in_reply_to": "m1",
                        "author": {"id": "u1", "handle": "@u1", "name": "Name 1"},
                    }
                )
            ]
        )
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        assert screen.composer.text == "Hello from alice"  # the draft is kept
        outbound = [
            m
            for m in desk_for(seeded, "x").thread(conversation_id).messages
            if m.direction == "outbound"
        ]
        assert outbound == []
        await settle(pilot, app)  # the thread reloads with the new message
        await pilot.press("ctrl+s")
        await settle(pilot, app)
        outbound = [
            m
            for m in desk_for(seeded, "x").thread(conversation_id).messages
            if m.direction == "outbound"
        ]
        assert [m.body for m in outbound] == ["Hello from alice"]
        assert screen.composer.text == ""


async def test_hostile_customer_text_is_inert(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        queue = app.screen.query_one(QueueList)
        index = next(i for i, r in queue.rows.items() if "evil" in r.customer)
        queue.cursor = index
        await settle(pilot, app)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.is_running  # a lone [/] did not crash the render
        text = screen_text(app)
        assert "[@click=app.quit]x[/]" in text
        assert "␛]52;c;aGk=␇" in text
        assert "<U+202E>evil" in text
        for char in text:
            assert not (ord(char) < 0x20 and char != "\n") and not 0x7F <= ord(char) <= 0x9F
        thread = app.screen.query_one(ThreadView)
        assert thread.thread is not None


async def test_changes_from_another_session_appear_without_a_key(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        queue = app.screen.query_one(QueueList)
        target = queue.rows[2].conversation_id
        desk_for(seeded, "bob").claim(target)
        for _ in range(200):  # readiness wait for the feed, not a timing assertion
            await pilot.pause(0.1)
            row = next((r for r in queue.rows.values() if r.conversation_id == target), None)
            if row is not None and row.holder == "bob":
                break
        assert row is not None and row.holder == "bob"


async def test_keymap_override_from_config(seeded: Database) -> None:
    settings = Settings(keymap={"queue.claim_next": "N"})
    app = FrontdeskApp(Desk(settings, "alice", db=seeded), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        assert screen.held == {}
        await pilot.press("N")
        await settle(pilot, app)
        assert len(screen.held) == 1


async def test_filter_cycles_to_mine_and_by_channel(seeded: Database) -> None:
    app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        queue = app.screen.query_one(QueueList)
        await pilot.press("f")  # mine
        await settle(pilot, app)
        assert queue.total == 1 and queue.rows[0].holder == "alice"
        for _ in range(3):  # unclaimed, breaching, x
            await pilot.press("f")
        await settle(pilot, app)
        assert queue.total == 30 and all(r.channel == "x" for r in queue.rows.values())
        await pilot.press("f")  # facebook: none in this queue
        await settle(pilot, app)
        assert queue.total == 0


def hold_thread_reads(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, held: Callable[[int], bool]
) -> tuple[threading.Event, threading.Event]:
    """Make the desk's reads of the threads `held` picks wait until `release` is set;
    `started` is set when one begins waiting. Reads after the release go straight through."""
    read = desk.thread
    started, release = threading.Event(), threading.Event()

    def slow_thread(conversation_id: int) -> Thread:
        if held(conversation_id) and not release.is_set():
            started.set()
            release.wait(WAIT_S)
        return read(conversation_id)

    monkeypatch.setattr(desk, "thread", slow_thread)
    return started, release


async def reached(pilot: Any, started: threading.Event) -> None:
    """Readiness, not timing: wait (bounded) until a held read has begun."""
    for _ in range(1500):
        if started.is_set():
            return
        await pilot.pause(0.02)
    raise AssertionError("the held thread read never began")


async def test_a_slow_preview_of_a_row_left_behind_does_not_pull_the_cursor_back(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = desk_for(seeded, "alice")
    app = FrontdeskApp(desk, DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        queue = screen.query_one(QueueList)
        top, passed = queue.rows[0].conversation_id, queue.rows[2].conversation_id
        assert screen.thread is not None and screen.thread.conversation.id == top
        # The row the operator rests on, then leaves, is read slowly.
        started, release = hold_thread_reads(desk, monkeypatch, lambda cid: cid == passed)
        await pilot.press("j", "j")
        await reached(pilot, started)  # the preview of row 2 is being read
        await pilot.press("g", "g")  # back to the top, whose thread is already open
        release.set()
        await settle(pilot, app)
        assert queue.cursor == 0
        assert screen.thread.conversation.id == top


async def test_a_refresh_of_the_open_thread_does_not_undo_a_key_pressed_meanwhile(
    seeded: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = desk_for(seeded, "alice")
    app = FrontdeskApp(desk, DEMO_KB)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        queue = screen.query_one(QueueList)
        top, below = queue.rows[0].conversation_id, queue.rows[1].conversation_id
        assert screen.thread is not None and screen.thread.conversation.id == top
        started, release = hold_thread_reads(desk, monkeypatch, lambda cid: cid == top)
        desk_for(seeded, "bob").note(top, "customer called too")  # the open thread changes
        await reached(pilot, started)  # the change reached alice and her refresh started
        selected: list[int] = []
        select = queue.select

        def spy(conversation_id: int) -> None:
            selected.append(conversation_id)
            select(conversation_id)

        monkeypatch.setattr(queue, "select", spy)
        await pilot.press("j")  # within the preview's rest, the refresh lands
        release.set()
        await settle(pilot, app)
        assert queue.cursor == 1
        assert screen.thread.conversation.id == below
        assert top not in selected  # the cursor was never pulled back, not even for a frame
