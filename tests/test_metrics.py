"""Metrics on a seeded event log equal figures worked out by hand, on SQLite and PostgreSQL.

The week (UTC): Mon 2026-11-30 to Mon 2026-12-07; the period is [Mon 30 Nov, Tue 8 Dec).
Team care works Mon-Fri 09:00-17:00 UTC (calendar office), team social around the clock.

  #1 x, care, complaint, [refund]: Fri 4 Dec 16:45 in; alice replies Mon 7 Dec 09:10
     (first response 64h25m wall, 25 business minutes), resolves 09:20; CSAT 5 at 10:00.
  #2 email, social, praise, [refund, delivery]: Tue 1 Dec 10:00 in; bob's reply is held for
     sign-off (approved) and goes 10:30; the customer writes 11:00 and 11:05, the clock
     breaches 11:50, alice answers 12:00 (next response 1h), refers to phone, resolves 12:30;
     NPS 10 at 13:00, then 9 at 14:00 (the latest counts).
  #3 x, care, complaint: Fri 27 Nov 16:00 in (before the period), breached Mon 09:05, bob
     answers Mon 30 Nov 09:30 (65h30m wall, 90 business minutes). Stays open.
  #4 facebook, no team, complaint: Wed 2 Dec 09:00 in; carol's reply is rejected; the clock
     breaches 10:00; never answered.
  #5 email, social, praise: Thu 3 Dec 08:00 in; bob resolves it 09:00 without a reply;
     CSAT 3 at 10:00 (a bare answer: logged, not reopened); the customer writes Fri 4 Dec
     10:00 (reopened), bob answers 10:20 and resolves 10:40.
  #6 after the period (Tue 8 Dec 01:00), and an old "you said, we did" before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk.core import events, metrics, metrics_scan, metrics_series
from frontdesk.core.db import Database
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.metrics_desk import refer
from frontdesk.core.models import Conversation, Customer
from frontdesk.core.playbook.playbook import Playbook

PLAYBOOK = """
[calendars.office]
timezone = "UTC"
hours = { "mon-fri" = "09:00-17:00" }

[teams.care]
calendar = "office"

[teams.social]
calendar = "always"
"""
SINCE = datetime(2026, 11, 30, tzinfo=UTC)
UNTIL = datetime(2026, 12, 8, tzinfo=UTC)
CONVERSATIONS = {  # id: channel, team, category, tags
    1: ("x", "care", "complaint", ["refund"]),
    2: ("email", "social", "praise", ["refund", "delivery"]),
    3: ("x", "care", "complaint", []),
    4: ("facebook", None, "complaint", []),
    5: ("email", "social", "praise", []),
    6: ("x", "care", "question", []),
}


def t(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _survey(survey: str, score: int) -> dict[str, Any]:
    return {"survey": survey, "score": score, "comment": ""}


# (when, actor, kind, conversation, payload), in log order.
LOG: list[tuple[datetime, str, str, int | None, dict[str, Any]]] = [
    (t(20, 12, month=11), "dana", "feedback.change_recorded", None,
     {"summary": "Old change", "conversations": [3]}),
    (t(27, 16, month=11), "ingest", "conversation.created", 3, {}),
    (t(27, 16, month=11), "ingest", "message.received", 3, {}),
    (t(30, 9, 5, month=11), "sla", "sla.breached", 3, {}),
    (t(30, 9, 30, month=11), "bob", "reply.queued", 3, {}),
    (t(1, 10), "ingest", "conversation.created", 2, {}),
    (t(1, 10), "ingest", "message.received", 2, {}),
    (t(1, 10, 20), "bob", "approval.requested", 2, {"reasons": ["refund"]}),
    (t(1, 10, 29), "dana", "approval.approved", 2, {"author": "bob"}),
    (t(1, 10, 30), "bob", "reply.queued", 2, {}),
    (t(1, 11), "ingest", "message.received", 2, {}),
    (t(1, 11, 5), "ingest", "message.received", 2, {}),
    (t(1, 11, 50), "sla", "sla.breached", 2, {}),
    (t(1, 12), "alice", "reply.queued", 2, {}),
    (t(1, 12, 10), "alice", "conversation.referred", 2, {"to": "phone"}),
    (t(1, 12, 30), "alice", "conversation.resolved", 2, {}),
    (t(1, 13), "ingest", "survey.answered", 2, _survey("nps", 10)),
    (t(1, 13), "ingest", "message.received", 2, {}),
    (t(1, 14), "ingest", "survey.answered", 2, _survey("nps", 9)),
    (t(1, 14), "ingest", "message.received", 2, {}),
    (t(2, 9), "ingest", "conversation.created", 4, {}),
    (t(2, 9), "ingest", "message.received", 4, {}),
    (t(2, 9, 30), "carol", "approval.requested", 4, {"reasons": ["legal"]}),
    (t(2, 9, 40), "dana", "approval.rejected", 4, {"author": "carol", "note": "no"}),
    (t(2, 10), "sla", "sla.breached", 4, {}),
    (t(3, 8), "ingest", "conversation.created", 5, {}),
    (t(3, 8), "ingest", "message.received", 5, {}),
    (t(3, 9), "bob", "conversation.resolved", 5, {}),
    (t(3, 10), "ingest", "survey.answered", 5, _survey("csat", 3)),
    (t(3, 10), "ingest", "message.received", 5, {}),
    (t(4, 10), "ingest", "conversation.reopened", 5, {}),
    (t(4, 10), "ingest", "message.received", 5, {}),
    (t(4, 10, 20), "bob", "reply.queued", 5, {}),
    (t(4, 10, 40), "bob", "conversation.resolved", 5, {}),
    (t(4, 16, 45), "ingest", "conversation.created", 1, {}),
    (t(4, 16, 45), "ingest", "message.received", 1, {}),
    (t(5, 12), "dana", "feedback.change_recorded", None,
     {"summary": "Faster refunds", "conversations": [1, 2]}),
    (t(7, 9, 10), "alice", "reply.queued", 1, {}),
    (t(7, 9, 20), "alice", "conversation.resolved", 1, {}),
    (t(7, 10), "ingest", "survey.answered", 1, _survey("csat", 5)),
    (t(7, 10), "ingest", "message.received", 1, {}),
    (t(8, 1), "ingest", "conversation.created", 6, {}),
    (t(8, 1), "ingest", "message.received", 6, {}),
    (t(8, 1, 10), "erin", "reply.queued", 6, {}),
]  # fmt: skip


def seed(db: Database) -> None:
    """The conversations and the log above."""
    with db.write() as session:
        for cid, (channel, team, category, tags) in CONVERSATIONS.items():
            session.add(
                Customer(id=cid, channel=channel, platform_user_id=f"u{cid}", created_at=SINCE)
            )
            session.flush()
            session.add(
                Conversation(id=cid, channel=channel, thread_key=f"t{cid}", customer_id=cid,
                             team=team, category=category, tags=tags, created_at=SINCE,
                             updated_at=SINCE)
            )  # fmt: skip
        session.flush()
        events.append_many(session, LOG)


@pytest.fixture
def seeded(db: Database) -> Iterator[Database]:
    seed(db)
    yield db


def report(db: Database, by: str | None = None, since: datetime = SINCE, until: datetime = UNTIL):
    with db.read() as session:
        return metrics.compute(session, since, until, by, Playbook.from_text(PLAYBOOK))


def test_the_whole_desk_equals_the_hand_worked_figures(seeded: Database) -> None:
    total = report(seeded).total
    assert (total.conversations, total.messages_in, total.replies, total.handled) == (4, 11, 5, 4)
    first = total.first_response
    # Wall: 1200, 1800, 231900, 235800. Business: 1200 (#5), 1500 (#1), 1800 (#2), 5400 (#3).
    assert first.count == 4
    assert (first.wall.median, first.wall.p90) == ((1800 + 231900) / 2, 235800)
    assert (first.business.median, first.business.p90) == (1650, 5400)
    nxt = total.next_response
    assert (nxt.count, nxt.wall.median, nxt.wall.p90, nxt.business.median) == (1, 3600, 3600, 3600)
    # Met: #2 first, #5, #1. Breached in the period: #3, #2's second turn, #4.
    assert (total.sla_met, total.sla_breached, total.sla_compliance) == (3, 3, 50.0)
    # Resolutions: #2 9000 s, #5 3600 s then 2400 s, #1 232500 s (2100 business seconds).
    assert (total.resolved, total.resolved_in_channel, total.in_channel) == (4, 3, 75.0)
    res = total.resolution
    assert (res.count, res.wall.median, res.wall.p90) == (4, 6300, 232500)
    assert (res.business.median, res.business.p90) == (3000, 9000)
    assert total.referred == 1
    assert (total.signoffs_requested, total.signoffs_approved, total.signoffs_rejected) == (2, 1, 1)
    assert (total.praise, total.praise_answered) == (2, 2)
    assert (total.complaints, total.complaints_answered) == (2, 1)
    assert (total.csat.count, total.csat.average) == (2, 4.0)
    assert total.csat.distribution == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert (total.nps.count, total.nps.average, total.nps.nps) == (1, 9.0, 100.0)
    assert total.nps.distribution[9] == 1 and sum(total.nps.distribution.values()) == 1


def test_business_time_counts_only_open_hours(seeded: Database) -> None:
    """Friday 16:45 to Monday 09:10 on Mon-Fri 09:00-17:00 is 25 business minutes."""
    x = report(seeded, "channel").groups["x"]
    # #3: 65h30m wall, 90 business minutes; #1: 64h25m wall, 25 business minutes.
    assert sorted([x.first_response.wall.median, x.first_response.wall.p90]) == [233850, 235800]
    assert (x.first_response.business.median, x.first_response.business.p90) == (3450, 5400)
    assert (x.resolution.wall.median, x.resolution.business.median) == (232500, 2100)


def test_by_channel(seeded: Database) -> None:
    groups = report(seeded, "channel").groups
    assert list(groups) == ["email", "facebook", "x"]
    email, facebook, x = groups["email"], groups["facebook"], groups["x"]
    assert (email.conversations, email.messages_in, email.replies, email.handled) == (2, 8, 3, 2)
    assert (email.first_response.wall.median, email.first_response.wall.p90) == (1500, 1800)
    assert (email.sla_met, email.sla_breached, email.resolved) == (2, 1, 3)
    assert email.in_channel == 200 / 3
    assert (email.referred, email.signoffs_requested, email.signoffs_approved) == (1, 1, 1)
    assert (email.praise, email.praise_answered) == (2, 2)
    assert (email.csat.average, email.nps.nps) == (3.0, 100.0)
    assert (facebook.conversations, facebook.sla_breached, facebook.sla_compliance) == (1, 1, 0.0)
    assert facebook.signoffs_rejected == 1
    assert (facebook.complaints, facebook.complaints_answered) == (1, 0)
    assert facebook.first_response.count == 0 and facebook.first_response.wall.median is None
    assert (x.conversations, x.replies, x.sla_met, x.sla_breached) == (1, 2, 1, 1)
    assert x.csat.average == 5.0


def test_by_operator(seeded: Database) -> None:
    groups = report(seeded, "operator").groups
    assert list(groups) == ["-", "alice", "bob", "carol"]
    alice, bob, carol, nobody = groups["alice"], groups["bob"], groups["carol"], groups["-"]
    assert (alice.replies, alice.handled, alice.sla_met, alice.sla_breached) == (2, 2, 1, 1)
    first = alice.first_response
    assert (first.wall.median, first.business.median) == (231900, 1500)
    assert alice.next_response.wall.median == 3600
    assert (alice.resolved, alice.in_channel, alice.resolution.wall.median) == (2, 50.0, 120750)
    assert (alice.referred, alice.csat.average, alice.nps.count) == (1, 5.0, 1)
    assert (alice.complaints, alice.complaints_answered) == (1, 1)
    assert (bob.replies, bob.handled, bob.sla_met, bob.sla_breached) == (3, 3, 2, 1)
    assert (bob.first_response.wall.median, bob.first_response.wall.p90) == (1800, 235800)
    assert (bob.first_response.business.median, bob.first_response.business.p90) == (1800, 5400)
    assert (bob.resolved, bob.resolution.wall.median, bob.resolution.wall.p90) == (2, 3000, 3600)
    assert (bob.signoffs_requested, bob.signoffs_approved, bob.praise_answered) == (1, 1, 2)
    assert bob.csat.distribution[3] == 1
    assert (carol.signoffs_requested, carol.signoffs_rejected, carol.replies) == (1, 1, 0)
    assert (nobody.conversations, nobody.messages_in, nobody.sla_breached) == (4, 11, 1)
    assert (nobody.complaints, nobody.complaints_answered, nobody.replies) == (1, 0, 0)


def test_by_team_category_and_tag(seeded: Database) -> None:
    teams = report(seeded, "team").groups
    assert list(teams) == ["-", "care", "social"]
    assert (teams["care"].replies, teams["social"].replies, teams["-"].sla_breached) == (2, 3, 1)
    categories = report(seeded, "category").groups
    assert list(categories) == ["complaint", "praise"]
    assert (categories["complaint"].complaints, categories["praise"].praise) == (2, 2)
    tags = report(seeded, "tag").groups
    assert list(tags) == ["-", "delivery", "refund"]
    assert (tags["refund"].conversations, tags["refund"].replies) == (2, 3)
    assert (tags["delivery"].replies, tags["delivery"].nps.nps, tags["-"].replies) == (2, 100.0, 2)


def test_backlog_and_you_said_we_did(seeded: Database) -> None:
    result = report(seeded)
    assert result.bucket == "day"
    points = [(p.start.day, p.open, p.opened, p.resolved) for p in result.backlog]
    assert points == [
        (30, 1, 0, 0), (1, 1, 1, 1), (2, 2, 1, 0), (3, 2, 1, 1),
        (4, 3, 2, 1), (5, 3, 0, 0), (6, 3, 0, 0), (7, 2, 0, 1),
    ]  # fmt: skip
    assert [(c.summary, c.actor, c.conversations) for c in result.changes] == [
        ("Faster refunds", "dana", (1, 2))
    ]


def test_an_empty_period_has_zeros_and_no_durations(seeded: Database) -> None:
    result = report(seeded, "channel", since=t(10, 0), until=t(11, 0))
    assert result.groups == {}
    total = result.total
    assert (total.conversations, total.replies, total.sla_compliance, total.in_channel) == (
        0, 0, None, None)  # fmt: skip
    assert total.first_response.wall.median is None and total.csat.average is None
    assert result.bucket == "hour" and len(result.backlog) == 24
    assert {p.open for p in result.backlog} == {3}  # #3, #4 and #6 are still open


def test_an_empty_log(db: Database) -> None:
    result = report(db, "operator")
    assert result.total.conversations == 0 and result.groups == {}
    assert {p.open for p in result.backlog} == {0} and result.changes == []
    assert result.as_json()["total"]["sla"]["compliance_pct"] is None


def test_bad_periods_and_groupings_are_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        report(db, since=UNTIL, until=SINCE)
    with pytest.raises(InvalidInput, match="cannot group by"):
        report(db, by="planet")


def test_a_referral_is_an_event_and_takes_the_resolution_out_of_the_channel(
    seeded: Database,
) -> None:
    with seeded.write() as session:
        refer(session, conversation_id=3, operator="bob", to="email", now=t(7, 11))
        events.append(session, at=t(7, 12), actor="bob", kind="conversation.resolved",
                      conversation_id=3)  # fmt: skip
    total = report(seeded).total
    assert (total.referred, total.resolved, total.resolved_in_channel) == (2, 5, 3)
    with seeded.write() as session, pytest.raises(InvalidInput):
        refer(session, conversation_id=1, operator="alice", to="fax", now=t(7, 9))
    with seeded.write() as session, pytest.raises(NotFound):
        refer(session, conversation_id=99, operator="alice", to="phone", now=t(7, 9))


def test_the_report_as_json_round_trips(seeded: Database) -> None:
    data = report(seeded, "channel").as_json()
    assert data["total"]["first_response"]["business"] == {"median": 1650.0, "p90": 5400.0}
    assert data["groups"]["x"]["csat"]["distribution"]["5"] == 1
    assert data["you_said_we_did"][0]["conversations"] == [1, 2]
    assert data["backlog"]["points"][0] == {
        "start": "2026-11-30T00:00:00+00:00", "open": 1, "opened": 0, "resolved": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("since", "until"),
    [(t(1, 0), t(2, 0)), (t(1, 11, 30), t(1, 13)), (t(3, 9), t(5, 0)), (t(7, 9), t(9, 0))],
)
def test_reading_only_the_touched_history_gives_the_same_facts(
    seeded: Database, since: datetime, until: datetime
) -> None:
    """A short period reads only its conversations' history and counts the backlog at
    `since` in SQL; every fact, and so every figure, is what the full read gives."""

    def facts(history: str) -> tuple[object, ...]:
        with seeded.read() as session:
            found = metrics_scan.scan(session, since, until, history)
        first_by = {cid: found.first_by.get(cid) for cid, _ in found.created}
        return (
            sorted(found.turns, key=repr), found.episodes, found.created, found.received,
            found.replies, found.referrals, found.signoffs, found.surveys, found.changes,
            first_by, metrics._backlog(found),
        )  # fmt: skip

    assert facts("touched") == facts("full")
    with seeded.read() as session:
        assert metrics_scan._short(session, since, until)


@pytest.mark.parametrize(
    ("since", "until", "step"),
    [(SINCE, UNTIL, timedelta(days=1)), (t(1, 9), t(1, 15, 30), timedelta(hours=1))],
)
def test_a_series_is_the_report_of_each_step(
    seeded: Database, since: datetime, until: datetime, step: timedelta
) -> None:
    playbook = Playbook.from_text(PLAYBOOK)
    with seeded.read() as session:
        steps = metrics_series.series(session, since, until, step, playbook)
        for start, figures in steps:
            end = min(start + step, until)
            assert figures == metrics.compute(session, start, end, None, playbook).total, start
    assert steps[0][0] == since and len(steps) == -(-(until - since) // step)
    assert (
        sum(f.replies for _, f in steps) == report(seeded, since=since, until=until).total.replies
    )
