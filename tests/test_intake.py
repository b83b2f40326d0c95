"""The playbook at ingest: triage, routing and SLA clocks land on the conversation row."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core.clock import as_utc
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk

FRIDAY = datetime(2026, 11, 20, 16, 45, tzinfo=UTC)
PLAYBOOK = """
[calendars.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }

[teams.care]
members = ["alice"]
calendar = "office"

[teams.pr]
members = ["pat"]

[[triage.rules]]
name = "influencer"
min_followers = 50000
tags = ["influencer"]
weight = 30

[[triage.rules]]
name = "angry"
keywords = ["worst", "broken"]
category = "complaint"
weight = 20

[[routing.rules]]
name = "influencers to PR"
tags = ["influencer"]
team = "pr"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


def _line(ext: str, text: str, at: datetime, followers: int = 10, **extra: object) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": ext,
            "text": text,
            "created_at": at.isoformat(),
            "author": {
                "id": f"u{ext}",
                "handle": f"@u{ext}",
                "name": "Uma",
                "followers": followers,
            },
            **extra,
        }
    )


def test_triage_routing_and_a_business_hours_clock(db: Database, settings: Settings) -> None:
    desk = Desk(settings, "ingest", db=db, clock=lambda: FRIDAY)
    desk.ingest(
        [
            _line("a", "my tent arrived broken, worst ever", FRIDAY, followers=120_000),
            _line("b", "what time do you open?", FRIDAY),
        ]
    )
    convs = {c.preview: c for c in (desk.thread(i).conversation for i in (1, 2))}
    loud = convs["my tent arrived broken, worst ever"]
    assert (loud.category, loud.tags, loud.priority, loud.team) == (
        "complaint",
        ["influencer"],
        50,
        "pr",
    )
    assert [r["rule"] for r in loud.triage] == ["influencer", "angry", "influencers to PR"]
    # PR has no calendar: 24/7, so due 30 minutes on; care keeps office hours.
    assert loud.sla_due_at is not None and as_utc(loud.sla_due_at) == FRIDAY + timedelta(minutes=30)
    quiet = convs["what time do you open?"]
    assert (quiet.category, quiet.team, quiet.sla_clock) == ("question", "care", "first")
    assert quiet.sla_due_at is not None
    assert as_utc(quiet.sla_due_at) == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)  # Monday
    assert quiet.sla_warn_at is not None
    assert as_utc(quiet.sla_warn_at) == datetime(2026, 11, 23, 9, 7, 30, tzinfo=UTC)


def test_an_answered_conversation_starts_a_next_response_clock(
    db: Database, settings: Settings
) -> None:
    monday = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    desk = Desk(settings, "alice", db=db, clock=lambda: monday)
    desk.ingest([_line("q", "where is my parcel?", monday - timedelta(minutes=5))])
    claim = desk.claim_next()
    assert claim is not None
    desk.reply(claim.conversation_id, "Hi Uma, it is on its way.")
    answered = desk.thread(claim.conversation_id).conversation
    assert (answered.sla_due_at, answered.sla_clock, answered.status) == (None, None, "waiting")
    later = monday + timedelta(minutes=20)
    desk.ingest([_line("q2", "thanks, when exactly?", later, in_reply_to="q")])
    again = desk.thread(claim.conversation_id).conversation
    assert (again.status, again.sla_clock, again.sla_state) == ("open", "next", "ok")
    assert again.sla_due_at is not None and as_utc(again.sla_due_at) > later


BILLING = """
[calendars.office]
timezone = "UTC"
hours = { mon-fri = "09:00-17:00" }

[teams.care]
members = ["alice"]

[teams.billing]
members = ["carol"]
calendar = "office"

[sla.next_response]
"x.public" = 30

[[routing.rules]]
name = "money"
keywords = ["invoice"]
team = "billing"
"""


def test_a_next_response_clock_runs_on_the_conversations_team_calendar(
    db: Database, tmp_path: Path
) -> None:
    # The default team (care) works around the clock; billing keeps office hours, so a
    # customer writing again at 16:50 on Friday is due 20 running minutes into Monday.
    (tmp_path / "playbook.toml").write_text(BILLING, encoding="utf-8")
    settings = Settings(playbook=str(tmp_path / "playbook.toml"))
    friday = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    carol = Desk(settings, "carol", db=db, clock=lambda: friday)
    carol.ingest([_line("i", "my invoice is wrong", friday - timedelta(minutes=5))])
    claim = carol.claim_next()
    assert claim is not None
    assert carol.thread(claim.conversation_id).conversation.team == "billing"
    carol.reply(claim.conversation_id, "Hi Uma, we are looking into it.")
    later = datetime(2026, 11, 20, 16, 50, tzinfo=UTC)
    carol.ingest([_line("i2", "any news?", later, in_reply_to="i")])
    again = carol.thread(claim.conversation_id).conversation
    assert (again.sla_clock, again.team) == ("next", "billing")
    assert again.sla_due_at is not None and again.sla_warn_at is not None
    assert as_utc(again.sla_due_at) == datetime(2026, 11, 23, 9, 20, tzinfo=UTC)  # Monday
    assert as_utc(again.sla_warn_at) == datetime(2026, 11, 23, 9, 12, 30, tzinfo=UTC)
