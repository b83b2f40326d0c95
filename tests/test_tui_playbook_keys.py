"""The playbook in the workstation, past what test_tui_playbook covers: an approver's
rejection reaches the author, a held reply shows "awaiting sign-off" while its clock keeps
running, and the one-key tag override `T`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select
from textual.pilot import Pilot
from textual.widget import Widget

from frontdesk.core.clock import as_utc, utcnow
from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation, Event, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.prompt import ChoiceScreen
from frontdesk.tui.screens.workstation import WorkstationScreen
from frontdesk.tui.widgets.queue_list import QueueList
from frontdesk.tui.widgets.thread_view import ThreadView
from tests.db_reads import stored
from tests.fakes.platform import FakeClock
from tests.tui_support import DEMO_KB, settle

SIZE = (160, 48)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text("", encoding="utf-8")  # the seeds' defaults
    return Settings(
        playbook=str(tmp_path / "playbook.toml"), roles=RoleSettings(supervisors=["sue"])
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One clock for the operator's Desk and the queue's countdowns. The queue pane reads
    the wall clock itself (`queue_list.utcnow`), not the Desk's, so both are pointed here."""
    fake = FakeClock(utcnow().replace(second=0, microsecond=0))
    monkeypatch.setattr("frontdesk.tui.widgets.queue_list.utcnow", fake)
    return fake


def _seed(db: Database, settings: Settings, clock: FakeClock, *texts: str) -> None:
    lines = [
        json.dumps(
            {
                "channel": "x",
                "external_id": f"p{n}",
                "text": text,
                "created_at": clock.now.isoformat(),
                "author": {"id": f"{n}", "handle": f"@kim{n}", "name": f"Kim Lee{n}"},
            }
        )
        for n, text in enumerate(texts, start=1)
    ]
    assert Desk(settings, "ingest", db=db, clock=clock).ingest(lines).accepted == len(texts)


def _app(db: Database, settings: Settings, login: str, clock: FakeClock) -> FrontdeskApp:
    return FrontdeskApp(Desk(settings, login, db=db, clock=clock), DEMO_KB)


def workstation(app: FrontdeskApp) -> WorkstationScreen:
    screen = app.screen
    assert isinstance(screen, WorkstationScreen)
    return screen


def pane_lines(app: FrontdeskApp, widget: Widget) -> list[str]:
    """What the terminal shows inside one widget's region, line by line."""
    region = widget.region
    strips = app.screen._compositor.render_strips()
    return [
        "".join(s.text for s in strips[y].crop(region.x, region.right))
        for y in range(region.y, min(region.bottom, len(strips)))
    ]


def pane_text(app: FrontdeskApp, widget: Widget) -> str:
    """A pane's words as one line: borders dropped and wrapped lines joined again (a line
    wraps at a space), so a phrase is found wherever the pane's width broke it."""
    words = " ".join(line.strip("│╭╮╰╯─ ") for line in pane_lines(app, widget))
    return " ".join(words.split())


async def until(pilot: Pilot[Any], check: Callable[[], bool], tries: int = 200) -> bool:
    """Wait for something the change feed or a timer brings (a bounded readiness loop)."""
    for _ in range(tries):
        if check():
            return True
        await pilot.pause(0.05)
    return check()


def _sent(db: Database, conversation_id: int) -> tuple[list[Message], list[OutboxItem]]:
    with db.read() as session:
        replies = list(
            session.exec(
                select(Message).where(
                    Message.conversation_id == conversation_id, Message.direction == "outbound"
                )
            )
        )
        return replies, list(session.exec(select(OutboxItem)))


async def _hold_a_reply(pilot: Pilot[Any], app: FrontdeskApp) -> int:
    """Claim the most urgent conversation and send a reply that sign-off holds."""
    screen = workstation(app)
    await pilot.press("n")
    await settle(pilot, app)
    assert screen.thread is not None
    conv = screen.thread.conversation.id
    assert conv is not None
    await pilot.press("r", *"Hi Kim, our team will call you today.", "ctrl+s")
    await settle(pilot, app)
    assert screen.composer.text == ""
    return conv


async def test_the_author_is_told_when_an_approver_rejects_their_reply(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    _seed(db, settings, clock, "this is going to my lawyer", "my lawyer will hear of this")
    bob = Desk(settings, "bob", db=db, clock=clock)
    bob_claim = bob.claim_next()
    assert bob_claim is not None
    bobs = bob.reply(bob_claim.conversation_id, "Hi Kim, we are on it.").approval
    assert bobs is not None and bobs.id is not None

    app = _app(db, settings, "alice", clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        conv = await _hold_a_reply(pilot, app)
        assert conv != bob_claim.conversation_id
        thread = screen.query_one(ThreadView)
        assert await until(pilot, lambda: "awaiting sign-off" in pane_text(app, thread))

        # Another operator decides, from their own Desk on the same database: Bob's reply
        # first (no concern of Alice's), then Alice's.
        sue = Desk(settings, "sue", db=db)
        (alices,) = [a for a in sue.approvals() if a.conversation_id == conv]
        assert alices.author == "alice" and alices.id is not None
        sue.reject(bobs.id, note="not Bob's call to make")
        sue.reject(alices.id, note="offer a voucher instead")

        def notices() -> list[str]:
            return [n.message for n in app._notifications if "rejected your reply" in n.message]

        expected = f"sue rejected your reply on #{conv}: offer a voucher instead"
        assert await until(pilot, lambda: expected in notices())
        # The events arrive in order, so Bob's rejection was seen first and said nothing.
        assert notices() == [expected]
        (told,) = [n for n in app._notifications if n.message == expected]
        assert told.severity == "warning"

        # The thread re-reads: no longer waiting, and nothing was sent.
        def cleared() -> bool:
            return "awaiting sign-off" not in pane_text(app, thread)

        assert await until(pilot, cleared)
        assert screen.thread is not None and not screen.thread.conversation.awaiting_signoff
        assert [m.direction for m in screen.thread.messages] == ["inbound"]
        assert _sent(db, conv) == ([], [])
        await settle(pilot, app)  # no worker left to finish as the app quits


async def test_a_held_reply_shows_awaiting_signoff_while_its_clock_keeps_running(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    _seed(db, settings, clock, "this is going to my lawyer")
    app = _app(db, settings, "alice", clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        queue, thread = screen.query_one(QueueList), screen.query_one(ThreadView)
        conv = stored(db, Conversation, await _hold_a_reply(pilot, app))
        assert conv.awaiting_signoff and conv.sla_due_at is not None
        due = as_utc(conv.sla_due_at)
        left = int((due - clock.now).total_seconds()) // 60
        assert left == 30  # X public: 30 minutes, untouched by the hold

        def header() -> str:
            return pane_text(app, thread)

        def row() -> str:
            return next(
                (line for line in pane_lines(app, queue) if "@kim1" in line), "no @kim1 row"
            )

        assert await until(pilot, lambda: "awaiting sign-off" in header())
        assert await until(pilot, lambda: "[sign-off]" in row())
        assert row().split()[0] == f"{left}m"  # the countdown stays on the row

        clock.advance(7 * 60)  # the clock runs on while the reply waits; the row follows it
        assert await until(pilot, lambda: row().split()[0] == f"{left - 7}m")
        assert "[sign-off]" in row() and "awaiting sign-off" in header()
        assert stored(db, Conversation, conv.id or 0).sla_due_at == conv.sla_due_at
        assert _sent(db, conv.id or 0) == ([], [])
        await settle(pilot, app)  # no worker left to finish as the app quits


async def test_the_tags_key_overrides_the_source_tags(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    _seed(db, settings, clock, "where is my order?")
    app = _app(db, settings, "alice", clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        screen = workstation(app)
        thread = screen.query_one(ThreadView)
        await pilot.press("n")
        await settle(pilot, app)
        assert screen.thread is not None
        conv = screen.thread.conversation.id
        assert conv is not None and screen.thread.conversation.tags == []

        def header() -> str:
            return pane_text(app, thread)

        # Escape leaves the tags as they were.
        await pilot.press("T")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("space", "escape")
        await settle(pilot, app)
        assert isinstance(app.screen, WorkstationScreen)
        assert stored(db, Conversation, conv).tags == []

        # The playbook's tags in order: tier1, influencer, employee, competitor, press.
        await pilot.press("T")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "space", "down", "down", "down", "space", "enter")
        await settle(pilot, app)
        assert stored(db, Conversation, conv).tags == ["influencer", "press"]
        assert await until(pilot, lambda: "tags influencer, press" in header())
        assert any(f"#{conv} tags: influencer, press" in n.message for n in app._notifications)
        row = stored(db, Conversation, conv)
        assert row.triage[-1]["rule"] == "override"
        assert "alice set tags" in row.triage[-1]["why"]

        # Opened again, the current tags are ticked: unticking one removes just that one.
        await pilot.press("T")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("down", "down", "down", "down", "space", "enter")
        await settle(pilot, app)
        assert stored(db, Conversation, conv).tags == ["influencer"]
        assert await until(pilot, lambda: "tags influencer" in header())
        assert "tags influencer, press" not in header()

        with db.read() as session:
            changes = [
                e.payload
                for e in session.exec(
                    select(Event)
                    .where(Event.kind == "conversation.retriaged")
                    .order_by(col(Event.id))
                )
            ]
        assert changes == [{"tags": ["influencer", "press"]}, {"tags": ["influencer"]}]
        await settle(pilot, app)  # no worker left to finish as the app quits
