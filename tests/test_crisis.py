"""Crisis mode: the spike detector (volume and keywords against the median hour), the alert
deduplicated, and what switching on and off does to replies, scheduled posts and routing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from frontdesk.core import events, scheduled
from frontdesk.core.config import RoleSettings, Settings, SlaSettings
from frontdesk.core.db import Database
from frontdesk.core.desk import Desk
from frontdesk.core.errors import InvalidInput, PermissionDenied
from frontdesk.core.intake import Intake
from frontdesk.core.models import Event
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.queue import QueueFilter
from frontdesk.core.sync import SyncService
from frontdesk.core.sync_loop import SyncLoop
from tests.fakes.connect import x_connector
from tests.fakes.platform import FakeClock
from tests.fakes.x import FakeX

ACCOUNT = "acme_x"
PLAYBOOK = """
[teams.care]
members = ["alice"]

[teams.crisis]
members = ["cara"]
overflow = []

[crisis]
keywords = ["outage", "data leak*"]
team = "crisis"
min_count = 20
keyword_min_count = 5
holding_statement = "We know checkout is down and we're on it."
"""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    return Settings(
        playbook=str(tmp_path / "playbook.toml"), roles=RoleSettings(supervisors=["sam"])
    )


def desk(db: Database, settings: Settings, login: str, clock: FakeClock) -> Desk:
    return Desk(settings, login, db=db, clock=clock)


def line(n: int, text: str, at: datetime) -> str:
    return json.dumps(
        {
            "channel": "x",
            "external_id": f"m{n}",
            "text": text,
            "created_at": at.isoformat(),
            "author": {"id": f"a{n}", "handle": f"@a{n}", "name": f"Ann {n}"},
        }
    )


def history(now: datetime, per_hour: int, hours: int = 72) -> list[tuple[str, datetime]]:
    """A flat trailing baseline: `per_hour` ordinary messages in every hour before the window."""
    return [
        ("where is my parcel", now - timedelta(minutes=61 + 60 * h + 7 * i))
        for h in range(hours)
        for i in range(per_hour)
    ]


def ingest(d: Desk, items: list[tuple[str, datetime]], start: int = 0) -> None:
    report = d.ingest([line(start + n, text, at) for n, (text, at) in enumerate(items)])
    assert report.accepted == len(items)


def test_a_spike_of_volume_trips_the_alarm_once_with_its_figures(db, settings, clock) -> None:
    sam = desk(db, settings, "sam", clock)
    now = clock()
    spike = [("my order is late", now - timedelta(minutes=i + 1)) for i in range(40)]
    ingest(sam, history(now, 3) + spike)
    figures = sam.crisis_figures()
    assert (figures.count, figures.baseline, figures.tripped) == (40, 3.0, ["volume"])

    alert = sam.crisis_check(actor="sync")
    assert alert is not None and alert.count == 40
    assert sam.crisis_check(actor="sync") is None  # deduplicated: not every poll
    with db.read() as session:
        alerts = [e for e in events.after(session, 0, limit=5000) if e.kind == "crisis.alert"]
    assert len(alerts) == 1
    assert alerts[0].payload["count"] == 40 and alerts[0].payload["tripped"] == ["volume"]
    assert "40 inbound in the last 60 min (median hour 3)" in alert.summary()

    clock.advance(61 * 60)  # the next alert waits alert_every_minutes; the spike is older now
    assert sam.crisis_check() is None
    sam.crisis_on("checkout down")
    assert sam.crisis_check() is None  # never while crisis mode is on


def test_a_flat_baseline_and_a_quiet_night_do_not_alarm(db, settings, clock) -> None:
    sam = desk(db, settings, "sam", clock)
    now = clock()
    recent = [("where is my parcel", now - timedelta(minutes=5 + 7 * i)) for i in range(8)]
    ingest(sam, history(now, 8) + recent)
    figures = sam.crisis_figures()
    assert (figures.count, figures.baseline, figures.tripped) == (8, 8.0, [])
    assert sam.crisis_check() is None


def test_quiet_night_below_the_minimum_does_not_alarm(db, settings, clock) -> None:
    sam = desk(db, settings, "sam", clock)
    now = clock()
    # No history at all, so the median is 0: only min_count stands between 6 and an alarm.
    ingest(sam, [("hello?", now - timedelta(minutes=m)) for m in (3, 9, 20, 31, 44, 50)])
    assert sam.crisis_figures().tripped == []


def test_a_keyword_burst_trips_the_keyword_alarm(db, settings, clock) -> None:
    sam = desk(db, settings, "sam", clock)
    now = clock()
    burst = [
        ("Is there an OUTAGE? app is dead", now - timedelta(minutes=2 + 3 * i)) for i in range(6)
    ]
    ingest(sam, history(now, 3) + burst)
    figures = sam.crisis_figures()
    assert figures.keyword_count == 6 and figures.count == 6
    assert figures.tripped == ["keywords"]  # 6 messages are no volume spike on their own


def test_only_supervisors_switch_and_the_state_is_the_latest_event(db, settings, clock) -> None:
    alice, sam = desk(db, settings, "alice", clock), desk(db, settings, "sam", clock)
    with pytest.raises(PermissionDenied):
        alice.crisis_on("panic")
    with pytest.raises(InvalidInput, match="why"):
        sam.crisis_on("   ")
    assert not sam.crisis_state().on
    sam.crisis_on("checkout down")
    state = alice.crisis_state()
    assert (state.on, state.by, state.reason) == (True, "sam", "checkout down")
    with pytest.raises(InvalidInput, match="already on"):
        sam.crisis_on("again")
    with pytest.raises(PermissionDenied):
        alice.crisis_off()
    sam.crisis_off()
    assert not alice.crisis_state().on
    with pytest.raises(InvalidInput, match="not on"):
        sam.crisis_off()


def test_crisis_mode_holds_replies_routes_keywords_and_off_restores(db, settings, clock) -> None:
    alice, sam = desk(db, settings, "alice", clock), desk(db, settings, "sam", clock)
    ingest(alice, [("where is my parcel", clock() - timedelta(minutes=9))])
    ingest(alice, [("an outage? nothing loads", clock() - timedelta(minutes=8))], start=3)
    sam.crisis_on("checkout down")  # the queue's keyword conversation goes to the crisis team
    ingest(alice, [("the outage again?!", clock() - timedelta(minutes=3))], start=1)
    ingest(alice, [("size guide please", clock() - timedelta(minutes=2))], start=2)
    rows = {r.conversation.preview: r.conversation for r in alice.queue(_all())}
    crisis_conv = rows["the outage again?!"]
    assert crisis_conv.team == "crisis" and "crisis" in crisis_conv.tags
    assert rows["an outage? nothing loads"].team == "crisis"
    assert rows["size guide please"].team == "care"

    # Every reply waits for sign-off, with the reason.
    claim = alice.claim_next()
    assert claim is not None and claim.conversation_id != crisis_conv.id  # not alice's team
    outcome = alice.reply(claim.conversation_id, "Hi Ann, we're looking into it.")
    assert outcome.message is None and outcome.approval is not None
    assert outcome.approval.reasons == ["crisis mode: every reply needs sign-off"]

    assert sam.crisis_off() == {"released_hold": 1, "rerouted": 2}
    back = alice.thread(crisis_conv.id or 0).conversation
    assert back.team == "care"
    assert alice.thread(rows["an outage? nothing loads"].id or 0).conversation.team == "care"
    assert any(r.get("rule") == "crisis over" for r in back.triage)
    with db.read() as session:
        moves = session.exec(select(Event).where(Event.kind == "conversation.rerouted")).all()
    moved = rows["an outage? nothing loads"].id
    assert [e.payload for e in moves if e.conversation_id == moved] == [
        {"from": "care", "to": "crisis"},
        {"from": "crisis", "to": "care"},
    ]
    other = alice.claim_next()
    assert other is not None
    assert alice.reply(other.conversation_id, "Hi Ann, here it is.").message is not None


def test_scheduled_posts_wait_for_the_crisis_to_end(db, settings, clock) -> None:
    fake = FakeX(clock)
    service = SyncService(
        db,
        {ACCOUNT: x_connector(fake, clock, direct_messages=False)},
        sla=SlaSettings(),
        clock=clock,
        intake=Intake(Playbook.load(Path(settings.playbook or ""))),
    )
    service.poll(ACCOUNT)
    sam = desk(db, settings, "sam", clock)
    with db.write() as session:
        scheduled.schedule(
            session, account=ACCOUNT, body="Flash sale!", publish_at=clock(), by="mo", now=clock()
        )
    sam.crisis_on("checkout down")
    assert service.publish(ACCOUNT).counts == {"held": 1}
    with db.read() as session:
        hold = scheduled.hold_state(session)
    assert hold is not None and hold.reason == "crisis mode: checkout down"
    SyncLoop(service, poll_seconds={}).crisis_check()  # the loop's check runs, records nothing
    sam.crisis_off()
    assert service.publish(ACCOUNT).counts == {"published": 1}
    assert [p.text for p in fake.replies()] == ["Flash sale!"]


def test_a_supervisor_may_release_posts_during_a_crisis(db, settings, clock) -> None:
    fake = FakeX(clock)
    service = SyncService(
        db,
        {ACCOUNT: x_connector(fake, clock, direct_messages=False)},
        sla=SlaSettings(),
        clock=clock,
    )
    service.poll(ACCOUNT)
    sam = desk(db, settings, "sam", clock)
    with db.write() as session:
        scheduled.schedule(
            session, account=ACCOUNT, body="Apology post", publish_at=clock(), by="sam", now=clock()
        )
    sam.crisis_on("checkout down")
    with db.write() as session:
        scheduled.release(session, operator=sam.operator(), now=clock())
    assert service.publish(ACCOUNT).counts == {"published": 1}
    assert sam.crisis_state().on
    assert sam.crisis_off()["released_hold"] == 0


def _all() -> QueueFilter:
    return QueueFilter(limit=100)


def test_the_cli_switches_and_reports(db_url, tmp_path, monkeypatch, capsys) -> None:
    from frontdesk.core import schema
    from frontdesk.tui.cli.main import main

    schema.upgrade(Database(db_url))
    (tmp_path / "playbook.toml").write_text(PLAYBOOK, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(
        f'database_url = "{db_url}"\nplaybook = "{tmp_path / "playbook.toml"}"\n'
        '[roles]\nsupervisors = ["sam"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("FRONTDESK_CONFIG", str(config))
    monkeypatch.setenv("FRONTDESK_OPERATOR", "alice")
    assert main(["crisis", "on", "--reason", "checkout down"]) == 1
    assert "only supervisor" in capsys.readouterr().err
    monkeypatch.setenv("FRONTDESK_OPERATOR", "sam")
    assert main(["crisis", "on", "--reason", "checkout down"]) == 0
    assert "crisis mode ON: checkout down" in capsys.readouterr().out
    assert main(["crisis", "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state"]["on"] and status["figures"]["count"] == 0
    assert main(["crisis", "off"]) == 0
    assert main(["crisis", "status"]) == 0
    assert "crisis mode off" in capsys.readouterr().out
    assert main(["away", "on"]) == 0 and main(["away", "status"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "sam is away"
    assert main(["claim", "--next"]) == 1
    assert "marked away" in capsys.readouterr().err
    assert main(["away", "off"]) == 0
