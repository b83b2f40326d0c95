"""Escalation to key contacts, and a public talk moved private then followed up in public."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from frontdesk.core.clock import as_utc
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.queue import QueueFilter
from tests.test_cli import Cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday
PLAYBOOK = """
[calendars.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }

[escalation.legal]
primary = { name = "Dana Ortiz", reach = "legal@northwind.example" }
backup = { name = "Lee Park", reach = "+1 555 0100" }
calendar = "office"
when_closed = "call the on-call lawyer"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


def _desk(db: Database, settings: Settings, login: str = "alice") -> Desk:
    return Desk(settings, login, db=db, clock=lambda: NOW)


def _claimed(desk: Desk) -> int:
    line = {
        "channel": "x",
        "external_id": "p1",
        "text": "You double charged me and I want answers",
        "created_at": (desk.clock() - timedelta(minutes=10)).isoformat(),
        "author": {"id": "42", "handle": "@jo_m", "name": "Jo Malik"},
    }
    desk.ingest([json.dumps(line)])
    claim = desk.claim_next()
    assert claim is not None
    return claim.conversation_id


def test_escalation_records_whom_and_why_in_the_thread(db: Database, workspace: Settings) -> None:
    desk = _desk(db, workspace)
    conv = _claimed(desk)
    due = desk.thread(conv).conversation.sla_due_at
    row = desk.escalate(conv, "legal", "customer threatens to sue")
    assert row.contact["primary"] == {"name": "Dana Ortiz", "reach": "legal@northwind.example"}
    assert row.contact["open_now"] is True
    thread = desk.thread(conv)
    (note,) = [m for m in thread.messages if m.direction == "note"]
    assert note.body.startswith("Escalated to legal: Dana Ortiz (legal@northwind.example)")
    assert "backup Lee Park" in note.body and "Why: customer threatens to sue" in note.body
    assert thread.conversation.sla_due_at == due and thread.conversation.claimed_by == "alice"
    with pytest.raises(NotFound, match=r"no department 'pr'.*legal"):
        desk.escalate(conv, "pr", "x")
    with pytest.raises(InvalidInput, match="say why"):
        desk.escalate(conv, "legal", "  ")


def test_public_to_private_and_the_follow_up_task(db: Database, workspace: Settings) -> None:
    desk = _desk(db, workspace)
    public = _claimed(desk)
    due = desk.thread(public).conversation.sla_due_at
    ack, private = desk.move_private(public)
    assert ack.message is not None and ack.message.body == "We've sent you a DM, Jo."
    assert private.visibility == "private" and private.linked_id == public
    assert private.sla_due_at == due and private.claimed_by == "alice"
    moved = desk.thread(public).conversation
    assert moved.linked_id == private.id and moved.status == "waiting"
    with db.read() as session:
        (item,) = session.exec(select(OutboxItem)).all()
        assert (item.conversation_id, item.kind) == (public, "public_reply")
    with pytest.raises(InvalidInput, match="moved to"):
        desk.move_private(public)
    assert private.id is not None
    with pytest.raises(InvalidInput, match="private already"):
        desk.move_private(private.id)

    # Resolving the private talk puts the public follow-up on the queue, on the next clock.
    assert desk.resolve(private.id) == public
    task = desk.thread(public).conversation
    assert (task.follow_up, task.status) == ("due", "open")
    assert task.sla_due_at is not None and as_utc(task.sla_due_at) > NOW
    rows = desk.queue(QueueFilter())
    assert rows[0].conversation.id == public and rows[0].conversation.preview.startswith("post")
    # Posting it clears the task.
    desk.claim(public)
    text = desk.follow_up_text(public)
    assert text.startswith("It was great speaking with you today, Jo.")
    outcome = desk.reply(public, text)
    assert outcome.message is not None
    assert desk.thread(public).conversation.follow_up is None


def test_escalate_and_private_from_the_cli(
    db: Database, db_url: str, tmp_path: Path, workspace: Settings
) -> None:
    conv = _claimed(Desk(workspace, "alice", db=db))  # the CLI runs on the real clock
    cli = Cli(db_url, tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(f'playbook = "{workspace.playbook}"\n', encoding="utf-8")
    env = {"FRONTDESK_CONFIG": str(config)}
    done = cli("escalate", str(conv), "--to", "legal", "--note", "legal threat", env=env)
    assert done.returncode == 0 and "escalated to legal: Dana Ortiz" in done.stdout
    wrong = cli("escalate", str(conv), "--to", "nowhere", "--note", "x", env=env)
    assert "no department 'nowhere'" in wrong.error_line
    moved = cli("private", str(conv), env=env)
    assert moved.returncode == 0 and "continue in private conversation #" in moved.stdout
