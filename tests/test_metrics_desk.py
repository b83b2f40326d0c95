"""The report over an event log the desk itself wrote: ingest, claim, reply, refer, resolve."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def message(n: int, thread: str) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": f"m{n}",
            "text": "my parcel has not arrived, can you check?",
            "created_at": START.isoformat(),
            "author": {"id": "c1", "handle": "@pat", "name": "Pat"},
            "thread_id": thread,
        }
    )


def test_first_and_next_response_and_a_referral_from_real_actions(db: Database) -> None:
    clock = Clock()
    ingest = Desk(Settings(), "ingest", db=db, clock=clock)
    alice = Desk(Settings(), "alice", db=db, clock=clock)
    ingest.ingest([message(1, "t1")])
    cid = 1
    clock.now += timedelta(minutes=20)
    alice.claim(cid)
    alice.reply(cid, "Hi Pat, let me check that parcel for you.")
    clock.now += timedelta(minutes=10)
    ingest.ingest([message(2, "t1")])
    clock.now += timedelta(minutes=5)
    alice.claim(cid)
    alice.reply(cid, "It is on its way; call us if it is not there tomorrow.")
    alice.refer(cid, "phone")
    clock.now += timedelta(minutes=1)
    alice.resolve(cid)
    report = alice.report(START, START + timedelta(days=1), "operator")
    total = report.total
    assert (total.conversations, total.messages_in, total.replies, total.handled) == (1, 2, 2, 1)
    assert (total.first_response.count, total.first_response.wall.median) == (1, 1200)
    assert (total.next_response.count, total.next_response.wall.median) == (1, 300)
    assert (total.sla_met, total.sla_breached, total.resolved, total.in_channel) == (2, 0, 1, 0.0)
    assert (total.resolution.wall.median, total.referred) == (36 * 60, 1)
    assert report.groups["alice"].replies == 2 and report.groups["-"].messages_in == 2
    ten = report.backlog[0]  # hourly from 10:00; created and resolved before 11:00
    assert (ten.start.hour, ten.opened, ten.resolved) == (10, 1, 1)
    assert {p.open for p in report.backlog} == {0}
