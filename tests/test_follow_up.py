"""Satisfaction follow-ups: scheduled on resolution, landing on the queue with their reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from frontdesk.core.clock import as_utc
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Event
from frontdesk.core.models_surveys import FollowUpReminder
from frontdesk.core.queue import QueueFilter

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PLAYBOOK = """
[[triage.rules]]
name = "broken"
keywords = ["broken"]
category = "complaint"

[[surveys.follow_ups]]
categories = ["complaint"]
after_hours = 48
reason = "touch base: is the new tent OK?"
"""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(db: Database, tmp_path: Path, clock: Clock) -> Desk:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Desk(Settings(playbook=str(tmp_path / "playbook.toml")), "alice", db=db, clock=clock)


def _write(desk: Desk, text: str, external_id: str) -> None:
    line = {
        "channel": "x",
        "visibility": "private",
        "external_id": external_id,
        "text": text,
        "created_at": desk.clock().isoformat(),
        "author": {"id": "42", "handle": "@jo_m", "name": "Jo Malik"},
    }
    desk.ingest([json.dumps(line)])


def _answered_and_resolved(desk: Desk, text: str = "My tent arrived broken") -> int:
    _write(desk, text, f"m-{desk.clock().timestamp()}")
    claim = desk.claim_next()
    assert claim is not None
    assert desk.reply(claim.conversation_id, "A new one is on its way, Jo.").message
    desk.resolve(claim.conversation_id)
    return claim.conversation_id


def _reminders(db: Database) -> list[FollowUpReminder]:
    with db.read() as session:
        return list(session.exec(select(FollowUpReminder).order_by(col(FollowUpReminder.id))))


def test_the_reminder_lands_on_the_queue_after_the_delay(
    db: Database, desk: Desk, clock: Clock
) -> None:
    conv = _answered_and_resolved(desk)
    (reminder,) = _reminders(db)
    assert reminder.state == "pending" and as_utc(reminder.due_at) == NOW + timedelta(hours=48)
    clock.now = NOW + timedelta(hours=47, minutes=59)
    desk.sweep()
    assert desk.queue(QueueFilter()) == [] and _reminders(db)[0].state == "pending"

    clock.now = NOW + timedelta(hours=48)
    desk.sweep()
    (row,) = desk.queue(QueueFilter())
    task = row.conversation
    assert task.id == conv and task.status == "open"
    assert (task.follow_up, task.preview) == ("check", "touch base: is the new tent OK?")
    # On the team's next-response clock, so it is not born breached.
    assert task.sla_due_at is not None and as_utc(task.sla_due_at) > clock.now
    assert task.sla_state == "ok"
    with db.read() as session:
        (due,) = session.exec(select(Event).where(Event.kind == "follow_up.due")).all()
    assert due.conversation_id == conv
    assert due.payload == {"reminder_id": reminder.id, "reason": "touch base: is the new tent OK?"}
    assert _reminders(db)[0].state == "landed"
    desk.sweep()  # a second sweep lands nothing again
    assert len(desk.queue(QueueFilter())) == 1

    # The touch-base reply clears the task; resolving it again schedules no other reminder.
    desk.claim(conv)
    assert desk.reply(conv, "Hi Jo, just checking the new tent is all good?").message
    assert desk.thread(conv).conversation.follow_up is None
    desk.resolve(conv)
    assert len(_reminders(db)) == 1


def test_a_conversation_reopened_before_the_reminder_drops_it(
    db: Database, desk: Desk, clock: Clock
) -> None:
    conv = _answered_and_resolved(desk)
    clock.now = NOW + timedelta(hours=5)
    _write(desk, "still broken!", "m-again")
    clock.now = NOW + timedelta(hours=49)
    desk.sweep()
    assert _reminders(db)[0].state == "dropped"
    assert desk.thread(conv).conversation.follow_up is None


def test_other_categories_get_no_reminder(db: Database, desk: Desk) -> None:
    _answered_and_resolved(desk, "Do you ship to Canada?")
    assert _reminders(db) == []


def test_frontdesk_sync_lands_due_reminders_too(db: Database, desk: Desk, clock: Clock) -> None:
    from frontdesk.core.config import SlaSettings
    from frontdesk.core.sync import SyncService
    from frontdesk.core.sync_loop import SyncLoop

    conv = _answered_and_resolved(desk)
    service = SyncService(db, {}, sla=SlaSettings(), clock=clock)
    clock.now = NOW + timedelta(hours=47)
    SyncLoop(service, poll_seconds={}).run(once=True)
    assert desk.queue(QueueFilter()) == []
    clock.now = NOW + timedelta(hours=48, minutes=1)
    SyncLoop(service, poll_seconds={}).run(once=True)
    (row,) = desk.queue(QueueFilter())
    assert (row.conversation.id, row.conversation.follow_up) == (conv, "check")
