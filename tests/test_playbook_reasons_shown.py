"""Every rule's effect shown with its reason: the priority as a sum of weighted reasons in
`show` and `show --json`, and why an overflow conversation was handed to its taker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from frontdesk.core.clock import utcnow
from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.triage_reasons import explain
from tests.test_cli import Cli

PLAYBOOK = """
[teams.care]
members = ["alice"]

[teams.billing]
members = ["bob"]

[[triage.rules]]
name = "influencer"
min_followers = 50000
tags = ["influencer"]
weight = 30

[[triage.rules]]
name = "angry"
keywords = ["broken"]
category = "complaint"
weight = 20

[[routing.rules]]
name = "money"
keywords = ["refund"]
team = "billing"
"""
LOUD = "my refund never came and the tent was broken"
REASONS = [
    {"rule": "influencer", "weight": 30, "why": "120,000 followers >= 50,000"},
    {"rule": "angry", "weight": 20, "why": 'keyword "broken"'},
    {"rule": "money", "weight": 0, "why": "rule 'money': keyword \"refund\"", "route": "billing"},
]
SUMMARY = (
    'priority 50 = influencer +30 (120,000 followers >= 50,000), angry +20 (keyword "broken");'
    " routed to billing: rule 'money': keyword \"refund\""
)
OVERFLOW = "billing: nobody available, overflow to anyone"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


def _ingest(desk: Desk, *texts: str) -> None:
    now = desk.clock()
    desk.ingest(
        [
            json.dumps(
                {
                    "channel": "x",
                    "external_id": f"m{n}",
                    "text": text,
                    "created_at": (now - timedelta(minutes=20 - n)).isoformat(),
                    "author": {
                        "id": f"a{n}",
                        "handle": f"@a{n}",
                        "name": "A",
                        "followers": 120_000,
                    },
                }
            )
            for n, text in enumerate(texts)
        ]
    )


def _cli(db_url: str, tmp_path: Path, settings: Settings) -> tuple[Cli, dict[str, str]]:
    config = tmp_path / "config.toml"
    config.write_text(f'playbook = "{settings.playbook}"\n', encoding="utf-8")
    return Cli(db_url, tmp_path), {"FRONTDESK_CONFIG": str(config)}


# -- the priority and its reasons


def test_the_summary_sums_the_weights_and_names_every_reason() -> None:
    assert "; ".join(explain(50, REASONS)) == SUMMARY
    # An operator's priority is not the rules' sum: both are shown, and who set it.
    override = [*REASONS, {"rule": "override", "weight": 0, "why": "sue set priority 90"}]
    assert explain(90, override, clip=12) == [
        'priority 90 (rules gave 50 = influencer +30 (120,000 fol…), angry +20 (keyword "br…))',
        "routed to billing: rule 'money…",
        "override: sue set pri…",
    ]
    # Rows stored before routing marked its entry are recognised by routing's wording.
    legacy = [{"rule": "default team", "weight": 0, "why": "no routing rule matched: default team"}]
    assert explain(0, legacy, team="care") == [
        "priority 0",
        "routed to care: no routing rule matched: default team",
    ]


def test_show_json_carries_every_reason_and_the_playbook_flags(
    db: Database, settings: Settings
) -> None:
    desk = Desk(settings, "alice", db=db)
    _ingest(desk, LOUD)
    conv = desk.thread(1).as_json()["conversation"]
    assert (conv["priority"], conv["team"], conv["category"]) == (50, "billing", "complaint")
    assert conv["triage"] == REASONS
    assert (conv["awaiting_signoff"], conv["follow_up"], conv["linked_id"]) == (False, None, None)


def test_show_prints_the_priority_sum_and_every_reason(
    db: Database, db_url: str, tmp_path: Path, settings: Settings
) -> None:
    _ingest(Desk(settings, "ingest", db=db), LOUD)
    cli, env = _cli(db_url, tmp_path, settings)
    shown = cli("show", "1", env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"complaint · team billing · {SUMMARY}" in shown.stdout.splitlines()
    as_json = cli("show", "1", "--json", env=env).json()["conversation"]
    assert as_json["triage"] == REASONS


# -- why an overflow conversation was handed out


def test_claim_next_says_why_it_hands_out_another_teams_conversation(
    db: Database, settings: Settings
) -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    alice = Desk(settings, "alice", db=db, clock=lambda: now)
    _ingest(alice, "where is my parcel", "I want a refund")
    own = alice.claim_next()
    assert own is not None and own.reason is None  # care is alice's own team
    # bob is not online, so billing's conversation overflows to anyone, with the reason.
    spill = alice.claim_next()
    assert spill is not None and spill.reason == OVERFLOW
    assert alice.thread(spill.conversation_id).conversation.team == "billing"
    taken = [e for e in alice.events_after(0) if e.kind == "claim.taken"]
    assert [e.payload.get("reason") for e in taken] == [None, OVERFLOW]
    assert [e.payload["next"] for e in taken] == [True, True]


def test_claim_next_on_the_cli_prints_the_overflow_reason(
    db: Database, db_url: str, tmp_path: Path, settings: Settings
) -> None:
    _ingest(Desk(settings, "ingest", db=db, clock=utcnow), "I want a refund", "a refund, now")
    cli, env = _cli(db_url, tmp_path, settings)
    text = cli("claim", "--next", env=env)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("claimed #1 until ")
    assert text.stdout.rstrip().endswith(f"UTC ({OVERFLOW})")
    as_json = cli("claim", "--next", "--json", env=env).json()
    assert (as_json["conversation_id"], as_json["reason"]) == (2, OVERFLOW)
