"""What `frontdesk status`, `frontdesk retry` and the workstation header say about channels."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from frontdesk.core import outbox
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models_channels import ChannelState
from frontdesk.core.sync_status import headline, service_status
from tests.test_cli import Cli

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _state(account: str, **values: Any) -> ChannelState:
    base: dict[str, Any] = {"channel": "x", "updated_at": NOW, "last_poll_at": NOW}
    return ChannelState(account=account, **{**base, **values})


def _seed_failed_reply(db: Database) -> int:
    desk = Desk(Settings(), "alice", db=db, clock=lambda: NOW)
    line = {
        "channel": "x",
        "external_id": "p1",
        "text": "help",
        "created_at": (NOW - timedelta(minutes=3)).isoformat(),
        "author": {"id": "u1", "handle": "@u1", "name": "U One"},
    }
    desk.ingest([json.dumps(line)])
    claim = desk.claim_next()
    assert claim is not None
    seen = desk.thread(claim.conversation_id).conversation.version
    desk.reply(claim.conversation_id, "on it", seen_version=seen)
    with db.write() as session:
        (item,) = outbox.due(session, now=NOW)
        outbox.mark_failed(
            session, item, error="refused: duplicate content", now=NOW, retry_at=None
        )
        assert item.id is not None
        return item.id


def test_headline_names_only_what_needs_attention(db: Database) -> None:
    with db.write() as session:
        session.add(_state("x-main", rate_remaining=0, rate_reset_at=NOW + timedelta(minutes=45)))
        session.add(_state("fb-page", channel="facebook", last_error="token expired"))
        session.add(_state("mail", channel="email", last_poll_at=NOW - timedelta(minutes=30)))
        session.add(_state("feed", last_poll_at=None))
    with db.read() as session:
        status = service_status(session)
    text = headline(status, NOW)
    assert "x-main rate-limited until 10:45" in text
    assert "fb-page: token expired" in text
    assert "mail not polled for 30 min" in text
    assert "feed never polled" in text


def test_headline_is_quiet_when_all_is_well(db: Database) -> None:
    with db.read() as session:
        assert headline(service_status(session), NOW) == ""  # no sync configured: nothing
    with db.write() as session:
        session.add(_state("x-main", rate_remaining=120, rate_reset_at=NOW))
    with db.read() as session:
        assert headline(service_status(session), NOW) == "channels ok"
    _seed_failed_reply(db)
    with db.read() as session:
        assert headline(service_status(session), NOW) == "1 reply not sent"


def test_status_and_retry_from_the_cli(db: Database, db_url: str, tmp_path: Path) -> None:
    cli = Cli(db_url, tmp_path)
    outbox_id = _seed_failed_reply(db)
    with db.write() as session:
        session.add(_state("x-main", cursor={"value": "1890"}, rate_remaining=7))
    report = cli("status", "--json").json()
    assert report["outbox"] == {"queued": 0, "sending": 0, "failed": 1, "unknown": 0}
    (account,) = report["accounts"]
    assert (account["account"], account["cursor"], account["rate_remaining"]) == (
        "x-main",
        "1890",
        7,
    )
    text = cli("status").stdout
    assert "x-main" in text and "1 failed" in text
    done = cli("retry", str(outbox_id))
    assert done.returncode == 0 and f"outbox item {outbox_id} queued again" in done.stdout
    again = cli("retry", str(outbox_id))
    assert again.returncode != 0
    assert "is queued, not failed" in again.error_line
    assert "does not exist" in cli("retry", "999").error_line


def test_thread_json_shows_each_replys_delivery(db: Database) -> None:
    outbox_id = _seed_failed_reply(db)
    desk = Desk(Settings(), "alice", db=db)
    with db.read() as session:
        conversation_id = outbox.get(session, outbox_id).conversation_id
    messages = desk.thread(conversation_id).as_json()["messages"]
    (reply,) = [m for m in messages if m["direction"] == "outbound"]
    assert reply["delivery"] == {
        "outbox_id": outbox_id,
        "state": "failed",
        "error": "refused: duplicate content",
    }
