"""One person on two channels: linked identities share their history in every thread."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, NotFound
from tests.test_cli import Cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _seed(db: Database) -> Desk:
    desk = Desk(Settings(), "alice", db=db, clock=lambda: NOW)
    lines = [
        ("email", "m1", "ana@example.com", 40 * 24 * 60, "private"),  # a month and more ago
        ("x", "x1", "42", 30, "public"),
        ("facebook", "f1", "777", 20, "public"),
    ]
    desk.ingest(
        [
            json.dumps(
                {
                    "channel": ch,
                    "external_id": ext,
                    "text": "hello",
                    "visibility": vis,
                    "created_at": (NOW - timedelta(minutes=ago)).isoformat(),
                    "author": {"id": who, "handle": who, "name": "Ana Ruiz"},
                }
            )
            for ch, ext, who, ago, vis in lines
        ]
    )
    return desk


def _conversation_of(desk: Desk, channel: str) -> int:
    for conversation_id in (1, 2, 3):
        if desk.thread(conversation_id).conversation.channel == channel:
            return conversation_id
    raise AssertionError(channel)


def test_linked_identities_share_history(db: Database) -> None:
    desk = _seed(db)
    x_conv = _conversation_of(desk, "x")
    before = desk.thread(x_conv)
    assert before.earlier_conversations == 0
    email_customer = desk.thread(_conversation_of(desk, "email")).customer.id
    assert email_customer is not None and before.customer.id is not None
    person = desk.link_customers(before.customer.id, email_customer)
    after = desk.thread(x_conv)
    assert after.earlier_conversations == 1
    assert after.first_contact_at is not None
    assert after.first_contact_at.date() == (NOW - timedelta(days=40)).date()
    # Linking a third identity to either side joins the same person.
    fb_customer = desk.thread(_conversation_of(desk, "facebook")).customer.id
    assert fb_customer is not None
    assert desk.link_customers(fb_customer, email_customer) == person
    assert desk.thread(x_conv).earlier_conversations == 2
    with pytest.raises(InvalidInput):
        desk.link_customers(fb_customer, fb_customer)
    with pytest.raises(NotFound):
        desk.link_customers(fb_customer, 999)


def test_link_from_the_cli(db: Database, db_url: str, tmp_path: Path) -> None:
    _seed(db)
    result = Cli(db_url, tmp_path)("link", "1", "2")
    assert result.returncode == 0 and "one person now" in result.stdout
    assert "does not exist" in Cli(db_url, tmp_path)("link", "1", "99").error_line
