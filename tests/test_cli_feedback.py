"""`frontdesk yousaid add|list` and `frontdesk surveys ID`, through the installed script."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Event
from frontdesk.core.models_surveys import FeedbackChange
from frontdesk.core.queue import QueueFilter
from tests.test_cli import Cli

PLAYBOOK = "[[surveys.rules]]\nkind = 'csat'\nchannels = ['email']\n"


def _conversations(desk: Desk, count: int) -> list[int]:
    for i in range(count):
        line = {
            "channel": "email",
            "visibility": "private",
            "external_id": f"<ask{i}@example.com>",
            "text": "Could you sell the tent poles separately?",
            "created_at": (utcnow() - timedelta(minutes=30)).isoformat(),
            "author": {"id": f"c{i}@example.com", "name": f"Customer {i}"},
        }
        desk.ingest([json.dumps(line)])
    return [row.conversation.id for row in desk.queue(QueueFilter()) if row.conversation.id]


def test_yousaid_add_and_list(db: Database, db_url: str, tmp_path: Path) -> None:
    desk = Desk(Settings(), "alice", db=db)
    first, second = sorted(_conversations(desk, 2))
    cli = Cli(db_url, tmp_path)
    added = cli("yousaid", "add", "--text", "Tent poles now sold separately",
                "--conversation", str(first), "--conversation", str(second))  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout == (
        f"recorded change 1 (from #{first}, #{second}): Tent poles now sold separately\n"
    )
    hostile = cli("yousaid", "add", "--text", "Dark mode \x1b[31mshipped\x07",
                  "--conversation", str(first), "--json")  # fmt: skip
    assert hostile.returncode == 0 and hostile.json()["conversations"] == [first]

    listed = cli("yousaid", "list", "--json")
    assert listed.returncode == 0
    rows = listed.json()
    assert [r["summary"] for r in rows] == [
        "Dark mode \x1b[31mshipped\x07",
        "Tent poles now sold separately",
    ]
    assert rows[1]["conversations"] == [first, second] and rows[1]["created_by"] == "alice"
    table = cli("yousaid", "list")
    assert "Tent poles now sold separately" in table.stdout
    assert f"#{first} #{second}" in table.stdout
    assert cli("yousaid").stdout == table.stdout  # `list` is the default action

    with db.read() as session:
        recorded = session.exec(select(Event).where(Event.kind == "feedback.change_recorded")).all()
        assert recorded[0].payload == {
            "summary": "Tent poles now sold separately",
            "conversations": [first, second],
        }
        assert len(session.exec(select(FeedbackChange)).all()) == 2


def test_yousaid_refuses_what_it_cannot_record(db: Database, db_url: str, tmp_path: Path) -> None:
    cli = Cli(db_url, tmp_path)
    missing = cli("yousaid", "add", "--text", "Faster refunds", "--conversation", "99")
    assert missing.returncode != 0 and "conversation 99 does not exist" in missing.error_line
    empty = cli("yousaid", "add", "--text", "  ", "--conversation", "1")
    assert empty.returncode != 0 and "summary is empty" in empty.error_line
    without = cli("yousaid", "add", "--text", "Faster refunds")
    assert without.returncode != 0
    assert cli("yousaid", "list").stdout.startswith("no changes recorded yet")


def test_surveys_shows_a_conversation_s_answer(db: Database, db_url: str, tmp_path: Path) -> None:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    desk = Desk(Settings(playbook=str(tmp_path / "playbook.toml")), "alice", db=db)
    (conv,) = _conversations(desk, 1)
    desk.claim(conv)
    assert desk.reply(conv, "Yes! Search for 'spare poles' in the shop.").message
    desk.resolve(conv)
    answer = {
        "channel": "email",
        "visibility": "private",
        "external_id": "<answer@example.com>",
        "text": "5/5 thanks!",
        "created_at": (utcnow() + timedelta(seconds=1)).isoformat(),
        "author": {"id": "c0@example.com", "name": "Customer 0"},
    }
    desk.ingest([json.dumps(answer)])
    cli = Cli(db_url, tmp_path)
    shown = cli("surveys", str(conv), "--json")
    assert shown.returncode == 0, shown.stderr
    (survey,) = shown.json()["surveys"]
    assert (survey["survey"], survey["score"], survey["comment"]) == ("csat", 5, "thanks!")
    text = cli("surveys", str(conv))
    assert text.stdout.startswith("csat asked ") and text.stdout.rstrip().endswith(": 5 (thanks!)")
    assert "does not exist" in cli("surveys", "999").error_line
