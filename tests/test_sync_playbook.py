"""`frontdesk sync` follows the playbook file: an edit triages the next message, a broken edit
is logged once and the rules in force stay, and a sync started on a broken file runs the last
good copy."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from frontdesk.core.config import SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.models import Conversation, Message
from frontdesk.core.playbook.store import PlaybookStore
from frontdesk.core.sync import SyncService
from frontdesk.core.sync_loop import SyncLoop
from tests.fakes.connect import x_connector
from tests.fakes.platform import FakeClock
from tests.fakes.server import serve
from tests.fakes.x import FakeX
from tests.test_sync_cli import WallClock, cli, write_config, x_table

RULE = '[[triage.rules]]\nname = "{name}"\nkeywords = ["refund"]\ncategory = "{category}"\n'
FIRST = RULE.format(name="refunds are complaints", category="complaint")
SECOND = RULE.format(name="refunds are sales leads", category="sales_lead")
BROKEN = SECOND + "weigth = 5\n"  # line 5: a misspelt key


def save(path: Path, text: str) -> None:
    """Write the playbook as saved a while ago: sync lets a fresh edit settle first."""
    path.write_text(text, encoding="utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))


def categories(db: Database) -> dict[str, str | None]:
    """Each inbound message's text (without the handle) and its conversation's category."""
    with db.read() as session:
        rows = session.exec(
            select(Message.body, Conversation.category).where(
                Message.conversation_id == Conversation.id, Message.direction == "inbound"
            )
        ).all()
    return {body.split(" ", 1)[1]: category for body, category in rows}


def run_loop(
    service: SyncService, clock: FakeClock, seconds: float, at: Mapping[float, Callable[[], object]]
) -> None:
    """The long-running loop on fake time, polling every second; `at` acts at given offsets."""
    start, pending = clock(), dict(sorted(at.items()))

    def sleep(delay: float) -> bool:
        wake = clock() + timedelta(seconds=delay)
        for offset in list(pending):
            if start + timedelta(seconds=offset) <= wake:
                pending.pop(offset)()
        clock.now = wake
        return clock() - start > timedelta(seconds=seconds)

    SyncLoop(service, poll_seconds={"acme_x": 1.0}, sleep=sleep).run()


def test_each_pass_takes_up_edits_and_a_broken_one_is_logged_once(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "playbook.toml"
    save(path, FIRST)
    clock = FakeClock()
    fake = FakeX(clock)
    jane = fake.user("jane")
    connector = x_connector(fake, clock, direct_messages=False)
    store = PlaybookStore.open(path)
    service = SyncService(
        db, {"acme_x": connector}, sla=SlaSettings(), playbooks=store, clock=clock
    )

    def edit_and_post(text: str | None, post: str) -> Callable[[], None]:
        def act() -> None:
            if text is not None:
                save(path, text)
            fake.mention(jane, post)

        return act

    fake.mention(jane, "refund one")
    with caplog.at_level(logging.INFO, logger="frontdesk.sync"):
        run_loop(
            service,
            clock,
            12,
            {
                3: edit_and_post(SECOND, "refund two"),
                6: edit_and_post(BROKEN, "refund three"),
                9: edit_and_post(None, "refund four"),
            },
        )
    assert categories(db) == {
        "refund one": "complaint",
        "refund two": "sales_lead",
        "refund three": "sales_lead",  # the broken edit is not taken: the rules in force stay
        "refund four": "sales_lead",
    }
    said = [r for r in caplog.records if getattr(r, "event", "") == "playbook"]
    assert [r.levelname for r in said] == ["INFO", "WARNING"]  # reloaded once, refused once
    refused = said[1]
    assert (refused.file, refused.line) == (str(path), 5)  # type: ignore[attr-defined]
    assert refused.reason == "triage.rules[0].weigth: Extra inputs are not permitted"  # type: ignore[attr-defined]
    assert refused.getMessage().endswith("the last good version stays in force")


def test_a_sync_started_on_a_broken_file_runs_the_last_good_copy(
    tmp_path: Path, db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    path = kb / "playbook.toml"
    for key, value in {
        "FRONTDESK_DATABASE_URL": db_url,
        "FRONTDESK_OPERATOR": "alice",
        "FRONTDESK_KB": str(kb),
    }.items():
        monkeypatch.setenv(key, value)
    fake = FakeX(WallClock())
    fake.rate_limits = False
    jane = fake.user("jane")
    with serve(fake) as base:
        config = write_config(tmp_path, x_table(fake, base, tmp_path))
        save(path, SECOND)
        fake.mention(jane, "refund one")
        assert cli("sync", "--once", "--config", str(config)) == 0
        capsys.readouterr()

        save(path, BROKEN)  # edited while no sync runs; the next one starts on it
        fake.mention(jane, "refund two")
        assert cli("sync", "--once", "--config", str(config)) == 0
        lines = [json.loads(x) for x in capsys.readouterr().err.splitlines()]
    assert [x["event"] for x in lines] == ["start", "playbook", "poll", "stop"]
    refused = lines[1]
    assert (refused["level"], refused["file"], refused["line"]) == ("warning", str(path), 5)
    assert "the last good copy" in refused["message"]
    assert categories(db) == {"refund one": "sales_lead", "refund two": "sales_lead"}
