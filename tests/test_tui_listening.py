"""The workstation's mute key on a conversation a listening stream started, and its filter."""

from __future__ import annotations

import json

from frontdesk.core import listening
from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models_listening import ListeningStream
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.prompt import ChoiceScreen, TextScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from tests.tui_support import DEMO_KB, settle

SIZE = (160, 48)


def _seed(db: Database, external_id: str, tags: list[str]) -> None:
    line = {
        "channel": "x",
        "external_id": external_id,
        "text": "acme tents are everywhere this summer",
        "created_at": utcnow().isoformat(),
        "author": {"id": "7", "handle": "@kim", "name": "Kim Lee"},
        "tags": tags,
    }
    Desk(Settings(), "sync", db=db).ingest([json.dumps(line)])
    with db.write() as session:
        if session.get(ListeningStream, "brand") is None:
            session.add(
                ListeningStream(name="brand", account="acme_x", query="acme", updated_at=utcnow())
            )


async def test_the_mute_key_mutes_the_author_or_a_phrase_of_the_stream(db: Database) -> None:
    _seed(db, "p1", ["stream:brand", "brand"])
    app = FrontdeskApp(Desk(Settings(), "alice", db=db), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        await pilot.press("n")
        await settle(pilot, app)
        assert screen.thread is not None
        assert "stream:brand" in screen.thread.conversation.tags

        await pilot.press("M")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("enter")  # the first choice: this author
        await settle(pilot, app)
        await pilot.press("M")
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        await pilot.press(*"Summer SALE", "enter")
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert "brand mutes phrase Summer SALE" in said
    rules = listening.list_mutes(db, "brand")
    assert [(r.kind, r.value, r.created_by) for r in rules] == [
        ("author", "kim", "alice"),
        ("phrase", "summer sale", "alice"),
    ]


async def test_the_mute_key_says_so_when_no_stream_brought_the_conversation(
    db: Database,
) -> None:
    _seed(db, "p2", [])
    app = FrontdeskApp(Desk(Settings(), "alice", db=db), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("n")
        await settle(pilot, app)
        await pilot.press("M")
        await pilot.pause()
        assert not isinstance(app.screen, ChoiceScreen)
        said = [n.message for n in app._notifications]
        assert any("did not come from a listening stream" in m for m in said)
    assert listening.list_mutes(db) == []
