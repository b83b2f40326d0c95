"""What the workstation's pilot tests share: a seeded queue, a settle wait, the screen as text."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from textual.worker import WorkerCancelled

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.tui.app import FrontdeskApp

DEMO_KB = Path(__file__).resolve().parent.parent / "kb" / "demo"
HOSTILE = (
    "[@click=app.quit]x[/] [link=https://evil.example]y[/link] [/] [b "
    "\x1b]52;c;aGk=\x07 \x9b2J \u202eevil"
)


def message(n: int, text: str, minutes_ago: int, author: str = "u") -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": f"m{n}",
            "text": text,
            "created_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
            "author": {"id": f"{author}{n}", "handle": f"@{author}{n}", "name": f"Name {n}"},
        }
    )


def desk_for(db: Database, login: str) -> Desk:
    return Desk(Settings(), login, db=db)


LIFETIME_WORKERS = {"feed", "kb-watch", "playbook-watch"}  # run until the app exits


async def settle(pilot, app: FrontdeskApp) -> None:
    """Wait until every worker started by a key or a message has finished, twice over: the
    thread and answer previews start on short timers once keys rest or results arrive."""
    for _ in range(2):
        await pilot.pause(0.2)
        for _ in range(3):
            await pilot.pause()
            pending = [
                w for w in app.workers if w.group not in LIFETIME_WORKERS and not w.is_finished
            ]
            if pending:  # an empty list would mean "every worker", the endless ones included
                try:
                    await app.workers.wait_for_complete(pending)
                except WorkerCancelled:
                    pass  # replaced by a newer one of its group (a reload, a search): done
    await pilot.pause()


def screen_text(app: FrontdeskApp) -> str:
    lines = []
    for strip in app.screen._compositor.render_strips():
        lines.append("".join(segment.text for segment in strip))
    return "\n".join(lines)


def seed_queue(db: Database) -> Database:
    """29 ordinary x mentions, oldest most urgent, and one hostile one."""
    lines = [message(i, f"where is my order number {i}", 100 - i) for i in range(1, 30)]
    lines.append(message(99, HOSTILE, 5, author="evil"))
    report = desk_for(db, "ingest").ingest(lines)
    assert report.accepted == 30
    return db
