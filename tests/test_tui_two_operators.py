"""Two workstations on one database in one test: live propagation, presence, refused sends."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from frontdesk.core.clock import utcnow
from frontdesk.core.db import Database
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, desk_for, screen_text, seed_queue, settle

SIZE = (160, 48)


@pytest.fixture
def seeded(db: Database) -> Database:
    return seed_queue(db)


def workstation(app: FrontdeskApp) -> WorkstationScreen:
    screen = app.screen
    assert isinstance(screen, WorkstationScreen)
    return screen


async def until(pilots: list[Any], condition: Callable[[], bool], *, seconds: float = 10.0) -> bool:
    """Let both apps run until `condition` holds (a readiness wait, not a speed check)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return True
        for pilot in pilots:
            await pilot.pause(0.025)
    return condition()


async def test_a_claim_a_view_and_a_refusal_cross_between_workstations(
    seeded: Database,
) -> None:
    alice_app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    bob_app = FrontdeskApp(desk_for(seeded, "bob"), DEMO_KB)
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await settle(alice, alice_app)
        await settle(bob, bob_app)
        a, b = workstation(alice_app), workstation(bob_app)

        # Alice claims the most urgent conversation; Bob's queue shows it with no key.
        await alice.press("n")
        await settle(alice, alice_app)
        (target,) = a.held
        assert b.queue.rows[0].conversation_id == target

        def bob_sees_alice() -> bool:
            return b.queue.rows[0].holder == "alice"

        assert await until([alice, bob], bob_sees_alice)

        # Bob opens it: Alice's thread says Bob is viewing.
        await bob.press("enter")
        await settle(bob, bob_app)
        assert b.thread is not None and b.thread.conversation.id == target
        assert await until([alice, bob], lambda: "bob is viewing" in screen_text(alice_app))

        # Bob's claim is refused, with the holder named; Alice keeps it.
        await bob.press("c")
        await settle(bob, bob_app)
        assert b.held == {}
        assert desk_for(seeded, "x").thread(target).conversation.claimed_by == "alice"
        assert "alice" in screen_text(bob_app)

        # Bob, not the holder, cannot send either; his draft stays.
        await bob.press("r")
        await bob.pause()
        await bob.press(*"I can take this")
        await bob.press("ctrl+s")
        await settle(bob, bob_app)
        assert b.composer.text == "I can take this"
        outbound = [
            m for m in desk_for(seeded, "x").thread(target).messages if m.direction != "inbound"
        ]
        assert outbound == []


async def test_a_reply_is_stopped_when_the_thread_moved_on(seeded: Database) -> None:
    alice_app = FrontdeskApp(desk_for(seeded, "alice"), DEMO_KB)
    bob_app = FrontdeskApp(desk_for(seeded, "bob"), DEMO_KB)
    async with alice_app.run_test(size=SIZE) as alice, bob_app.run_test(size=SIZE) as bob:
        await settle(alice, alice_app)
        await settle(bob, bob_app)
        a, b = workstation(alice_app), workstation(bob_app)
        await alice.press("n")
        await settle(alice, alice_app)
        (target,) = a.held
        await alice.press("r")
        await alice.pause()
        await alice.press(*"Sorry for the wait")
        # While Alice types, Bob adds a note for her and the customer writes again.
        assert b.queue.rows[0].conversation_id == target
        await bob.press("enter")
        await settle(bob, bob_app)
        await bob.press("i")
        await bob.pause()
        await bob.press(*"courier says Tuesday", "ctrl+s")
        await settle(bob, bob_app)
        desk_for(seeded, "ingest").ingest(
            [
                json.dumps(
                    {
                        "channel": "x",
                        "external_id": "m1-again",
                        "text": "hello??",
                        "created_at": utcnow().isoformat(),
                        "in_reply_to": "m1",
                        "author": {"id": "u1", "handle": "@u1", "name": "Name 1"},
                    }
                )
            ]
        )
        # Alice sends what she wrote against the old thread: it is stopped, draft kept,
        # and the new message is on her screen.
        stale_version = a.thread.conversation.version if a.thread else None
        await alice.press("ctrl+s")
        await settle(alice, alice_app)
        assert a.composer.text == "Sorry for the wait"
        messages = desk_for(seeded, "x").thread(target).messages
        assert [m.body for m in messages if m.direction == "outbound"] == []
        assert await until([alice, bob], lambda: "hello??" in screen_text(alice_app))
        assert a.thread is not None and a.thread.conversation.version != stale_version
        # Now that she has seen it, the same draft goes.
        await alice.press("ctrl+s")
        await settle(alice, alice_app)
        messages = desk_for(seeded, "x").thread(target).messages
        assert [m.body for m in messages if m.direction == "outbound"] == ["Sorry for the wait"]
        assert [m.body for m in messages if m.direction == "note"] == ["courier says Tuesday"]
