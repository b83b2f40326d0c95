"""A queue row's SLA countdown changes colour on its own as time passes: "due soon" from the
conversation's stored warning time (sla_warn_at), "breached" once sla_due_at has passed."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from rich.style import Style
from sqlmodel import select

from frontdesk.core.clock import as_utc, utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.widgets.queue_list import QueueList
from tests.fakes.platform import FakeClock
from tests.tui_support import DEMO_KB, settle

SIZE = (160, 48)
# Not the defaults (30 minutes, a quarter left), so the row can only be following what
# was stored for this conversation: due after 20 minutes, warning with 8 minutes left.
PLAYBOOK = """
[sla]
warn_share = 0.4
first_response = { "x.public" = 20 }
"""
COUNTDOWN = re.compile(r"^-?\d+(m|h\d\d|d)$")


@pytest.fixture
def clock() -> FakeClock:
    """The Desk's clock. Nothing else is patched: the queue's countdowns must follow the
    Desk's time (the SLA's), not the wall clock."""
    return FakeClock(utcnow().replace(second=0, microsecond=0))


def _seed(db: Database, settings: Settings, clock: FakeClock) -> Conversation:
    line = {
        "channel": "x",
        "external_id": "p1",
        "text": "my parcel never came",
        "created_at": clock.now.isoformat(),
        "author": {"id": "7", "handle": "@kim", "name": "Kim Lee"},
    }
    Desk(settings, "ingest", db=db, clock=clock).ingest([json.dumps(line)])
    with db.read() as session:
        (conv,) = session.exec(select(Conversation)).all()
        session.expunge(conv)
        return conv


def _row_clock(app: FrontdeskApp, queue: QueueList) -> tuple[str, Style] | None:
    """The countdown on @kim's row as the terminal shows it: its text and its style."""
    region = queue.region
    for strip in app.screen._compositor.render_strips()[region.y : region.bottom]:
        cells = strip.crop(region.x, region.right)
        if "@kim" not in "".join(s.text for s in cells):
            continue
        for segment in cells:
            if COUNTDOWN.match(segment.text.strip()):
                return segment.text.strip(), segment.style or Style()
    return None


async def test_a_row_turns_due_soon_at_its_warning_time_and_breached_after_its_due_time(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    settings = Settings(playbook=str(tmp_path / "playbook.toml"))
    conv = _seed(db, settings, clock)
    assert conv.sla_due_at is not None and conv.sla_warn_at is not None
    due, warn = as_utc(conv.sla_due_at), as_utc(conv.sla_warn_at)
    assert (due - clock.now, due - warn) == (timedelta(minutes=20), timedelta(minutes=8))

    app = FrontdeskApp(Desk(settings, "alice", db=db, clock=clock), DEMO_KB)
    async with app.run_test(size=SIZE) as pilot:
        queue = app.screen.query_one(QueueList)
        ink = {level: queue._ink(f"queue-list--{level}") for level in ("ok", "soon", "late")}
        colours = {level: style.color for level, style in ink.items()}
        assert len(set(colours.values())) == 3, colours  # the theme tells the three apart

        async def shows(label: str) -> tuple[str, Style]:
            # Nothing else happens meanwhile: the row must repaint by itself (its timer).
            for _ in range(300):
                drawn = _row_clock(app, queue)
                if drawn is not None and drawn[0] == label:
                    return drawn
                await pilot.pause(0.05)
            raise AssertionError(f"the row never showed {label}; it shows {_row_clock(app, queue)}")

        def level(style: Style) -> str:
            return next(name for name, colour in colours.items() if colour == style.color)

        assert level((await shows("20m"))[1]) == "ok"

        clock.now = warn - timedelta(minutes=1)  # a minute before the warning: still ok
        assert level((await shows("9m"))[1]) == "ok"

        clock.now = warn  # the stored warning time itself: due soon
        _, style = await shows("8m")
        assert level(style) == "soon" and style.bold

        clock.now = due  # on time at the due time itself
        _, style = await shows("0m")
        assert level(style) == "soon"

        clock.now = due + timedelta(minutes=1, seconds=1)  # past due: breached
        _, style = await shows("-1m")
        assert level(style) == "late" and style.bold
        await settle(pilot, app)  # no worker left to finish as the app quits
