"""Surveys end to end: resolve, the question in the outbox, the answer read at ingest."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from frontdesk.core.config import RoleSettings, Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation, Event, Message
from frontdesk.core.models_channels import OutboxItem
from frontdesk.core.models_surveys import Survey

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PLAYBOOK = """
[[triage.rules]]
name = "broken"
keywords = ["broken"]
category = "complaint"

[surveys]
window_hours = 24
quiet_days = 30

[[surveys.rules]]
kind = "csat"
channels = ["email", "x.private"]
categories = ["complaint"]

[[surveys.rules]]
kind = "nps"
channels = ["facebook"]
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(db: Database, tmp_path: Path, clock: Clock) -> Desk:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    settings = Settings(playbook=str(tmp_path / "playbook.toml"))
    return Desk(settings, "alice", db=db, clock=clock)


Say = Callable[..., None]


@pytest.fixture
def say(desk: Desk, clock: Clock) -> Say:
    """The customer writes (a line through the real ingest path)."""
    count = iter(range(1, 1000))

    def write(text: str, *, channel: str = "email", visibility: str = "private",
              author: str = "jo@example.com", at: datetime | None = None) -> None:  # fmt: skip
        line: dict[str, Any] = {
            "channel": channel,
            "visibility": visibility,
            "external_id": f"<m{next(count)}@example.com>",
            "text": text,
            "created_at": (at or clock()).isoformat(),
            "author": {"id": author, "name": "Jo Malik"},
        }
        if channel == "email":
            line["subject"] = "My tent"
        desk.ingest([json.dumps(line)])

    return write


def _resolved(desk: Desk, say: Say, clock: Clock, text: str = "My tent arrived broken",
              **where: Any) -> int:  # fmt: skip
    """A conversation answered and resolved by alice; returns its id."""
    say(text, **where)
    claim = desk.claim_next()
    assert claim is not None
    clock.advance(minutes=5)
    assert desk.reply(claim.conversation_id, "So sorry, Jo! A new one is on its way.").message
    clock.advance(minutes=5)
    desk.resolve(claim.conversation_id)
    return claim.conversation_id


def _events(db: Database, kind: str) -> list[Event]:
    with db.read() as session:
        return list(session.exec(select(Event).where(Event.kind == kind).order_by(col(Event.id))))


def _surveys(db: Database) -> list[Survey]:
    with db.read() as session:
        return list(session.exec(select(Survey).order_by(col(Survey.id))))


def _conversation(db: Database, conversation_id: int) -> Conversation:
    with db.read() as session:
        conv = session.get(Conversation, conversation_id)
        assert conv is not None
        return conv


def test_resolution_asks_the_survey_by_email_as_a_reply(db: Database, desk: Desk, say: Say,
                                                        clock: Clock) -> None:  # fmt: skip
    conv = _resolved(desk, say, clock)
    with db.read() as session:
        items = list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))
    assert [i.kind for i in items] == ["private_message", "private_message"]
    question = items[1]
    assert question.conversation_id == conv and question.channel == "email"
    assert question.recipient == "jo@example.com" and question.subject == "Re: My tent"
    assert question.body.startswith("How did we do, Jo? Reply with a number from 1 (poor) to 5")
    assert "http" not in question.body and "www." not in question.body
    (survey,) = _surveys(db)
    assert (survey.kind, survey.conversation_id, survey.question_message_id) == (
        "csat", conv, question.message_id,
    )  # fmt: skip
    assert survey.answered_at is None and survey.category == "complaint"
    # The question is ours: the conversation stays resolved, nobody owes it a reply.
    assert _conversation(db, conv).status == "resolved"
    (sent,) = _events(db, "survey.sent")
    assert sent.conversation_id == conv
    assert sent.payload == {"survey": "csat", "message_id": question.message_id}


@pytest.mark.parametrize(
    "where",
    [
        {"channel": "x", "visibility": "public"},  # no rule for public X
        {"text": "Where is my order?"},  # a question, and the email rule is for complaints
    ],
)
def test_only_the_configured_channel_and_category_are_asked(
    db: Database, desk: Desk, say: Say, clock: Clock, where: dict[str, Any]
) -> None:
    _resolved(desk, say, clock, **where)
    assert _surveys(db) == [] and _events(db, "survey.sent") == []
    with db.read() as session:
        assert len(session.exec(select(OutboxItem)).all()) == 1  # the reply alone


def test_a_conversation_never_answered_is_not_asked(db: Database, desk: Desk, say: Say) -> None:
    say("My tent arrived broken")
    claim = desk.claim_next()
    assert claim is not None
    desk.resolve(claim.conversation_id)
    assert _surveys(db) == []


def test_a_bare_score_is_stored_and_keeps_the_conversation_resolved(
    db: Database, desk: Desk, say: Say, clock: Clock
) -> None:
    conv = _resolved(desk, say, clock)
    before = _conversation(db, conv)
    clock.advance(hours=2)
    say("4 - slow but ok\n\nOn Mon, Northwind Care wrote:\n> How did we do, Jo? Reply with 1-5")
    (survey,) = _surveys(db)
    assert (survey.score, survey.comment, survey.answered_at is not None) == (
        4, "slow but ok", True,
    )  # fmt: skip
    with db.read() as session:
        answer = session.get(Message, survey.answer_message_id)
        assert answer is not None and answer.body.startswith("4 - slow but ok")
    (answered,) = _events(db, "survey.answered")
    assert answered.conversation_id == conv
    assert answered.payload == {"survey": "csat", "score": 4, "comment": "slow but ok"}
    after = _conversation(db, conv)
    assert after.status == "resolved" and after.claimed_by is None
    assert after.message_count == before.message_count + 1
    assert after.version > before.version
    assert _events(db, "conversation.reopened") == []


def test_a_low_score_with_a_complaint_reopens(db: Database, desk: Desk, say: Say,
                                              clock: Clock) -> None:  # fmt: skip
    conv = _resolved(desk, say, clock)
    clock.advance(hours=1)
    say("1 - the new one is broken too")
    (survey,) = _surveys(db)
    assert (survey.score, survey.comment) == (1, "the new one is broken too")
    assert _conversation(db, conv).status == "open"
    assert [e.conversation_id for e in _events(db, "conversation.reopened")] == [conv]


def test_a_message_that_is_not_a_score_reopens_and_leaves_the_survey_open(
    db: Database, desk: Desk, say: Say, clock: Clock
) -> None:
    conv = _resolved(desk, say, clock)
    clock.advance(hours=1)
    say("order 12345 still missing")
    assert _conversation(db, conv).status == "open"
    (survey,) = _surveys(db)
    assert survey.answered_at is None
    # While an operator talks with the customer again, a bare number answers them, not us.
    clock.advance(minutes=10)
    say("2")
    assert _surveys(db)[0].answered_at is None and _events(db, "survey.answered") == []


def test_an_answer_after_the_window_is_an_ordinary_message(db: Database, desk: Desk, say: Say,
                                                           clock: Clock) -> None:  # fmt: skip
    conv = _resolved(desk, say, clock)
    clock.advance(hours=25)
    say("5")
    assert _surveys(db)[0].answered_at is None
    assert _conversation(db, conv).status == "open"


def test_an_answer_with_another_message_in_the_same_batch_reopens(
    db: Database, desk: Desk, say: Say, clock: Clock
) -> None:
    conv = _resolved(desk, say, clock)
    at = clock.advance(hours=1)
    lines = [
        {"channel": "email", "visibility": "private", "external_id": f"<b{i}@example.com>",
         "text": text, "created_at": (at + timedelta(seconds=i)).isoformat(),
         "author": {"id": "jo@example.com", "name": "Jo Malik"}}
        for i, text in enumerate(["5", "and can I order the poles separately"])
    ]  # fmt: skip
    desk.ingest([json.dumps(line) for line in lines])
    assert _surveys(db)[0].score == 5
    assert _conversation(db, conv).status == "open"


def test_nps_on_facebook(db: Database, desk: Desk, say: Say, clock: Clock) -> None:
    conv = _resolved(desk, say, clock, text="Do you ship to Canada?", channel="facebook",
                     author="fb-77")  # fmt: skip
    (survey,) = _surveys(db)
    assert survey.kind == "nps" and survey.channel == "facebook"
    with db.read() as session:
        question = session.get(Message, survey.question_message_id)
        assert question is not None and "0 (not at all) to 10" in question.body
    clock.advance(hours=3)
    say("10/10 would recommend", channel="facebook", author="fb-77")
    (answered,) = _events(db, "survey.answered")
    assert answered.payload == {"survey": "nps", "score": 10, "comment": "would recommend"}
    assert _conversation(db, conv).status == "resolved"


def test_a_customer_is_not_asked_twice_within_the_quiet_days(
    db: Database, desk: Desk, say: Say, clock: Clock
) -> None:
    first = _resolved(desk, say, clock)
    clock.advance(hours=1)
    say("5")
    # A new complaint by the same customer, on X this time (one person, two threads).
    clock.advance(days=3)
    second = _resolved(desk, say, clock, channel="x", visibility="private", author="jo_x")
    assert first != second
    assert [s.conversation_id for s in _surveys(db)] == [first, second]  # another person on X
    clock.advance(days=3)
    third = _resolved(desk, say, clock, text="Broken again", channel="x", visibility="private",
                      author="jo_x")  # fmt: skip
    # The same X thread (one per author in private), resolved again: asked 3 days ago.
    assert third == second and len(_surveys(db)) == 2


def test_no_survey_while_crisis_mode_is_on(db: Database, tmp_path: Path, clock: Clock,
                                           say: Say) -> None:  # fmt: skip
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    settings = Settings(
        playbook=str(tmp_path / "playbook.toml"), roles=RoleSettings(supervisors=["sam", "lee"])
    )
    sam = Desk(settings, "sam", db=db, clock=clock)
    lee = Desk(settings, "lee", db=db, clock=clock)
    sam.crisis_on("checkout down")
    say("My tent arrived broken")
    claim = sam.claim_next()
    assert claim is not None
    held = sam.reply(claim.conversation_id, "So sorry, Jo! A new one is on its way.").approval
    assert held is not None and held.id is not None  # crisis mode: every reply is signed off
    lee.approve(held.id)
    clock.advance(minutes=5)
    sam.resolve(claim.conversation_id)
    assert _conversation(db, claim.conversation_id).status == "resolved"
    assert _surveys(db) == []
    sam.crisis_off()
    clock.advance(hours=1)
    _resolved(sam, say, clock, author="ann@example.com")
    assert len(_surveys(db)) == 1
