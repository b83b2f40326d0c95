"""The SLA sweep: each warning and breach recorded once, by however many sweepers at once."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlmodel import col, select

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Conversation
from tests.test_cli import Cli

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _seed(db: Database, count: int) -> list[int]:
    desk = Desk(Settings(), "ingest", db=db, clock=lambda: NOW)
    lines = [
        json.dumps(
            {
                "channel": "x",
                "external_id": f"s{n}",
                "text": "hello",
                "created_at": (NOW - timedelta(minutes=5)).isoformat(),
                "author": {"id": f"a{n}", "handle": f"@a{n}", "name": "A"},
            }
        )
        for n in range(count)
    ]
    desk.ingest(lines)
    with db.write() as session:
        ids = [c for c in session.exec(select(Conversation.id)).all() if c is not None]
        # Clock n is due n*10 minutes from NOW and warns 5 minutes before that.
        for n, conversation_id in enumerate(sorted(ids)):
            due = NOW + timedelta(minutes=10 * n)
            session.execute(
                update(Conversation)
                .where(col(Conversation.id) == conversation_id)
                .values(sla_due_at=due, sla_warn_at=due - timedelta(minutes=5), sla_state="ok")
            )
    return sorted(ids)


def test_warnings_then_breaches_each_once(db: Database) -> None:
    ids = _seed(db, 4)  # due at +0, +10, +20, +30 minutes
    desk = Desk(Settings(), "sla", db=db, clock=lambda: NOW + timedelta(minutes=6))
    first = desk.sweep()
    assert first.breached == [ids[0]]
    assert first.warned == [ids[1]]
    again = desk.sweep()
    assert (again.warned, again.breached) == ([], [])
    later = Desk(Settings(), "sla", db=db, clock=lambda: NOW + timedelta(minutes=25))
    done = later.sweep()
    assert done.breached == [ids[1], ids[2]]  # a warned clock breaches; a silent one too
    assert done.warned == [ids[3]]
    kinds = [(e.kind, e.conversation_id) for e in desk.events_after(0) if e.kind.startswith("sla")]
    assert sorted(kinds) == sorted(
        [("sla.breached", ids[0]), ("sla.warning", ids[1]), ("sla.breached", ids[1]),
         ("sla.breached", ids[2]), ("sla.warning", ids[3])]
    )  # fmt: skip


def test_a_replied_or_resolved_conversation_is_not_swept(db: Database) -> None:
    ids = _seed(db, 2)
    desk = Desk(Settings(), "alice", db=db, clock=lambda: NOW - timedelta(minutes=1))
    claim = desk.claim(ids[0])
    desk.reply(claim.conversation_id, "Hi A, looking into it now.")
    desk.resolve(ids[1])
    sweeper = Desk(Settings(), "sla", db=db, clock=lambda: NOW + timedelta(hours=2))
    assert (sweeper.sweep().warned, sweeper.sweep().breached) == ([], [])


def _sweep_in_child(url: str, rounds: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    db = Database(url)
    desk = Desk(Settings(), "sla", db=db, clock=lambda: NOW + timedelta(days=1))
    found: list[int] = []
    for _ in range(rounds):
        found += desk.sweep().breached
    out.put(found)
    db.dispose()


def test_concurrent_sweepers_record_each_breach_once(db: Database, db_url: str) -> None:
    ids = _seed(db, 60)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_sweep_in_child, args=(db_url, 5, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    found = [out.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    every = sorted(c for part in found for c in part)
    assert every == ids  # each breach by exactly one sweeper
    events = [e for e in Desk(Settings(), "x", db=db).events_after(0, limit=10_000)]
    assert sorted(e.conversation_id or 0 for e in events if e.kind == "sla.breached") == ids


def test_sweep_from_the_cli(db: Database, db_url: str, tmp_path: Path) -> None:
    _seed(db, 2)
    result = Cli(db_url, tmp_path)("sweep", "--json")
    assert result.returncode == 0
    assert len(result.json()["breached"]) == 2  # both were due before today's real clock


def test_sync_sweeps_on_each_pass(db: Database) -> None:
    from frontdesk.core.config import SlaSettings
    from frontdesk.core.sync import SyncService
    from frontdesk.core.sync_loop import SyncLoop

    ids = _seed(db, 3)
    later = NOW + timedelta(hours=1)
    service = SyncService(db, {}, sla=SlaSettings(), clock=lambda: later)
    assert SyncLoop(service, poll_seconds={}).run(once=True) is True
    breached = [e.conversation_id for e in Desk(Settings(), "x", db=db).events_after(0)
                if e.kind == "sla.breached"]  # fmt: skip
    assert sorted(c or 0 for c in breached) == ids
