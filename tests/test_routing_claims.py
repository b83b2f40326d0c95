"""claim_next by team: members get their teams' work first, overflow only when a team has
nobody online, and a conversation no rule routed belongs to the default team."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from frontdesk.core.config import Settings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.models import Operator

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PLAYBOOK = """
[teams.care]
members = ["alice"]

[teams.billing]
members = ["bob"]

[teams.legal]
members = ["lee"]
overflow = []

[[triage.rules]]
name = "money"
keywords = ["refund", "charged"]
category = "complaint"

[[triage.rules]]
name = "lawyer"
keywords = ["lawyer"]
category = "complaint"

[[routing.rules]]
name = "billing"
keywords = ["refund", "charged"]
team = "billing"

[[routing.rules]]
name = "legal"
keywords = ["lawyer"]
team = "legal"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(playbook=str(tmp_path / "playbook.toml"))


def _desk(db: Database, settings: Settings, login: str) -> Desk:
    return Desk(settings, login, db=db, clock=lambda: NOW)


def _ingest(desk: Desk, texts: list[str]) -> None:
    desk.ingest(
        [
            json.dumps(
                {
                    "channel": "x",
                    "external_id": f"m{n}",
                    "text": text,
                    "created_at": (NOW - timedelta(minutes=20 - n)).isoformat(),
                    "author": {"id": f"a{n}", "handle": f"@a{n}", "name": "A"},
                }
            )
            for n, text in enumerate(texts)
        ]
    )


def _team_of(desk: Desk, conversation_id: int) -> str | None:
    return desk.thread(conversation_id).conversation.team


def test_members_take_their_own_teams_work_first(db: Database, settings: Settings) -> None:
    alice, bob = _desk(db, settings, "alice"), _desk(db, settings, "bob")
    _ingest(alice, ["I was charged twice", "where is my parcel", "refund please", "hi there"])
    bob.announce(None)  # bob is at his desk, so billing is staffed
    taken = [alice.claim_next(), alice.claim_next()]
    assert [_team_of(alice, c.conversation_id) for c in taken if c] == ["care", "care"]
    assert alice.claim_next() is None  # billing's work waits for bob, who is online
    billing = [bob.claim_next(), bob.claim_next()]
    assert [_team_of(bob, c.conversation_id) for c in billing if c] == ["billing", "billing"]
    assert bob.claim_next() is None  # nothing left in billing, nor in care's overflow


def test_overflow_when_a_team_has_nobody_online(db: Database, settings: Settings) -> None:
    alice, bob = _desk(db, settings, "alice"), _desk(db, settings, "bob")
    _ingest(alice, ["I was charged twice", "my lawyer will call"])
    # bob is not online: billing overflows to anyone, so alice gets it after her own (none).
    claim = alice.claim_next()
    assert claim is not None and _team_of(alice, claim.conversation_id) == "billing"
    # legal never overflows (overflow = []): its work waits for lee even with nobody online.
    assert alice.claim_next() is None
    bob.announce(None)
    with db.write() as session:  # bob marks himself away: his team counts as unstaffed
        session.execute(update(Operator).where(col(Operator.login) == "bob").values(away=True))
    lee = _desk(db, settings, "lee")
    claim = lee.claim_next()
    assert claim is not None and _team_of(lee, claim.conversation_id) == "legal"
