"""Staff care: abusive conversations spread across operators by claim_next, away operators
get no work (and their team overflows), and the break reminder after continuous handling."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core import staff
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput
from frontdesk.core.playbook.crisis import StaffConfig
from frontdesk.core.queue import QueueFilter
from tests.fakes.platform import FakeClock

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PLAYBOOK = """
[teams.care]
members = ["alice", "bob"]

[teams.billing]
members = ["dave"]
overflow = ["*"]

[[routing.rules]]
name = "billing"
keywords = ["invoice"]
team = "billing"

[staff]
break_after_minutes = 90
break_gap_minutes = 10
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


def desk(db: Database, settings: Settings, login: str, clock: FakeClock) -> Desk:
    return Desk(settings, login, db=db, clock=clock)


def ingest(d: Desk, texts: list[tuple[str, int]]) -> dict[str, int]:
    """Messages (text, minutes ago); returns each conversation's id by its text."""
    d.ingest(
        [
            json.dumps(
                {
                    "channel": "x",
                    "external_id": f"m{text}",
                    "text": text,
                    "created_at": (NOW - timedelta(minutes=ago)).isoformat(),
                    "author": {"id": f"a{text}", "handle": f"@a{n}", "name": "Ann"},
                }
            )
            for n, (text, ago) in enumerate(texts)
        ]
    )
    return {r.conversation.preview: r.conversation.id or 0 for r in d.queue(_everything())}


def _everything() -> QueueFilter:
    return QueueFilter(limit=100)


def take(d: Desk) -> int | None:
    claim = d.claim_next()
    if claim is None:
        return None
    d.resolve(claim.conversation_id)
    return claim.conversation_id


def test_profanity_at_ingest_tags_the_conversation_abusive(db, settings, clock) -> None:
    alice = desk(db, settings, "alice", clock)
    ids = ingest(alice, [("you useless bastard", 20), ("where is my parcel", 10)])
    assert "abusive" in alice.thread(ids["you useless bastard"]).conversation.tags
    assert "abusive" not in alice.thread(ids["where is my parcel"]).conversation.tags
    # A customer who turns abusive later is flagged too.
    alice.ingest(
        [
            json.dumps(
                {
                    "channel": "x",
                    "external_id": "later",
                    "text": "answer me you bastard",
                    "in_reply_to": "mwhere is my parcel",
                    "created_at": NOW.isoformat(),
                    "author": {"id": "awhere is my parcel", "handle": "@a1", "name": "Ann"},
                }
            )
        ]
    )
    assert "abusive" in alice.thread(ids["where is my parcel"]).conversation.tags


def test_claim_next_spreads_abusive_conversations(db, settings, clock) -> None:
    alice, bob = desk(db, settings, "alice", clock), desk(db, settings, "bob", clock)
    # Due in 30 minutes from arrival: created 1-4 minutes ago, none is breaching yet.
    ids = ingest(
        alice,
        [("you bastard 1", 4), ("you bastard 2", 3), ("parcel late 1", 2), ("parcel late 2", 1)],
    )
    assert take(alice) == ids["you bastard 1"]  # the most urgent, abusive or not
    assert take(alice) == ids["parcel late 1"]  # not a second abusive one in a row
    assert take(bob) == ids["you bastard 2"]  # bob's last one was not abusive
    assert take(bob) == ids["parcel late 2"]


def test_only_abusive_left_or_breaching_still_goes(db, settings, clock) -> None:
    alice = desk(db, settings, "alice", clock)
    ids = ingest(alice, [("you bastard 1", 90), ("you bastard 2", 80), ("parcel late", 1)])
    assert take(alice) == ids["you bastard 1"]
    # The second abusive one is breaching (due 30 minutes after it came in): it goes first.
    assert take(alice) == ids["you bastard 2"]
    assert take(alice) == ids["parcel late"]
    ids = ingest(alice, [("you bastard 4", 2), ("you bastard 5", 1)])
    assert take(alice) == ids["you bastard 4"]
    assert take(alice) == ids["you bastard 5"]  # only abusive ones are left


def test_an_operator_flags_and_unflags_abusive(db, settings, clock) -> None:
    alice = desk(db, settings, "alice", clock)
    ids = ingest(alice, [("this is a disgrace", 3), ("parcel late", 2)])
    conv = alice.flag_abusive(ids["this is a disgrace"])
    assert "abusive" in conv.tags and any(r.get("rule") == "abusive" for r in conv.triage)
    with pytest.raises(InvalidInput, match="already"):
        alice.flag_abusive(ids["this is a disgrace"])
    assert take(alice) == ids["this is a disgrace"]
    assert take(alice) == ids["parcel late"]
    assert "abusive" not in alice.flag_abusive(ids["this is a disgrace"], on=False).tags


def test_away_refuses_work_and_lets_the_team_overflow(db, settings, clock) -> None:
    alice, dave = desk(db, settings, "alice", clock), desk(db, settings, "dave", clock)
    ids = ingest(alice, [("parcel late", 5), ("invoice wrong", 4)])
    alice.announce(None)
    dave.announce(None)
    assert take(dave) == ids["invoice wrong"]
    assert dave.claim_next() is None  # care's work is alice's while she is here
    assert alice.set_away(True) and not alice.set_away(True)
    assert alice.away()
    with pytest.raises(staff.Away, match="away"):
        alice.claim_next()
    assert take(dave) == ids["parcel late"]  # care has nobody available: it overflows
    assert alice.set_away(False) and not alice.away()


def test_stretch_start_breaks_at_a_gap() -> None:
    gap = timedelta(minutes=10)
    t = [NOW + timedelta(minutes=m) for m in (0, 5, 12, 30, 35, 39)]
    assert staff.stretch_start(t, now=NOW + timedelta(minutes=45), gap=gap) == t[3]
    assert staff.stretch_start(t, now=NOW + timedelta(minutes=49), gap=gap) is None
    assert staff.stretch_start([], now=NOW, gap=gap) is None


def test_the_break_reminder_follows_continuous_handling(db, settings, clock) -> None:
    alice = desk(db, settings, "alice", clock)
    ids = ingest(alice, [("parcel late", 5)])
    target = ids["parcel late"]
    alice.claim(target)
    for _ in range(10):  # a note every 9 minutes: never a 10-minute pause
        clock.advance(9 * 60)
        alice.note(target, "still checking")
    status = alice.break_status()
    assert (status.minutes, status.due) == (90, True)
    assert status.working_since == NOW
    alice.set_away(True)
    assert not alice.break_status().due  # away is the break
    alice.set_away(False)
    clock.advance(11 * 60)
    assert alice.break_status() == staff.BreakStatus(None, 0, False)  # rested
    alice.note(target, "back")
    assert alice.break_status().minutes == 0


def test_break_reminders_can_be_switched_off(db, clock) -> None:
    with db.read() as session:
        off = staff.break_status(session, "alice", StaffConfig(break_after_minutes=0), clock())
    assert not off.due
