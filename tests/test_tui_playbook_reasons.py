"""The workstation shows why: the thread header sums the priority with every reason and its
weight, and taking another team's conversation with `n` says why it overflowed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Static

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp
from frontdesk.tui.screens.workstation import WorkstationScreen
from frontdesk.tui.widgets.thread_view import ThreadView
from tests.test_playbook_reasons_shown import PLAYBOOK as BASE_PLAYBOOK
from tests.tui_support import DEMO_KB, HOSTILE, settle

# The CLI tests' playbook with two more weighted rules (appended tables join the same list).
PLAYBOOK = (
    BASE_PLAYBOOK
    + """
[[triage.rules]]
name = "sarcasm"
patterns = ["great\\\\W+job.*"]
weight = 5

[[triage.rules]]
name = "repeat"
keywords = ["again"]
weight = 10
"""
)
# Four weighted rules and the routing: the old header kept only the last three, unweighted.
TEXT = "great job \x1b[2J[@click=app.quit]x[/] my refund never came AGAIN, tent broken " + HOSTILE


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


def _seed(db: Database, settings: Settings) -> None:
    line = {
        "channel": "x",
        "external_id": "p1",
        "text": TEXT,
        "created_at": utcnow().isoformat(),
        "author": {"id": "7", "handle": "@kim", "name": "Kim Lee", "followers": 90_000},
    }
    Desk(settings, "ingest", db=db).ingest([json.dumps(line)])


def _header(app: FrontdeskApp) -> list[str]:
    """The thread header's third block (category, team, reasons) as its rendered lines."""
    block = app.screen.query_one(ThreadView).query(".thread-history").results(Static)
    widget = list(block)[1]
    return [s.text.rstrip() for s in widget.render_lines(widget.content_region.reset_offset)]


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_n_says_why_and_the_header_sums_every_reason(
    db: Database, settings: Settings, size: tuple[int, int]
) -> None:
    _seed(db, settings)
    app = FrontdeskApp(Desk(settings, "alice", db=db), DEMO_KB)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, WorkstationScreen)
        await pilot.press("n")  # alice is in care; bob (billing) is not at his desk
        await settle(pilot, app)
        said = [n.message for n in app._notifications]
        assert "claimed #1 (billing: nobody available, overflow to anyone)" in said
        assert screen.thread is not None and screen.thread.conversation.priority == 65
        lines = _header(app)
        text = " ".join(lines)
        assert "complaint · team billing" in text
        assert "priority 65 = influencer +30, angry +20, sarcasm +5, repeat +10;" in text
        assert "routed to billing: rule 'money'" in text
        width = screen.query_one(ThreadView).content_region.width
        assert all(len(line) <= width for line in lines)
        assert "\x1b" not in text and "great job" not in text  # no customer text here
        assert len(lines) <= (4 if size[0] > 80 else 6)
