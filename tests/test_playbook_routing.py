"""Routing rules, the teams an operator may take with overflow, and the escalation directory."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from frontdesk.core.errors import NotFound
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.routing import Route, TeamOffer
from frontdesk.core.playbook.triage import Inbound, Triage

PLAYBOOK = """
[calendars.london]
timezone = "Europe/London"
hours = { mon-fri = "09:00-17:00" }
holidays = "GB"
subdivision = "ENG"

[teams.care]
members = ["alice", "bob"]

[teams.billing]
members = ["carol"]
calendar = "london"
overflow = ["care"]

[teams.sales]
members = ["dave"]
overflow = ["*"]

[teams.pr]
members = ["erin"]
overflow = []

[teams.legal]
members = []
calendar = "london"
overflow = ["billing", "care"]

[routing]
default_team = "care"

[[routing.rules]]
name = "press"
team = "pr"
tags = ["press", "influencer"]

[[routing.rules]]
name = "money"
team = "billing"
categories = ["complaint", "question"]
keywords = ["refund*", "charged twice"]

[[routing.rules]]
name = "email leads"
team = "sales"
categories = ["sales_lead"]
channels = ["email"]

[escalation.legal]
primary = { name = "Dana Okafor", reach = "legal@example.com" }
backup = { name = "Sam Reid", reach = "+44 20 7946 0101" }
calendar = "london"
when_closed = "Hold the reply until morning."

[escalation.pr]
primary = { name = "Marcus Webb", reach = "press@example.com" }
"""


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return Playbook.from_text(PLAYBOOK)


# -- routing


def test_first_matching_rule_wins_with_its_reason(playbook: Playbook) -> None:
    message = Inbound("I was CHARGED  twice, refund me", "x")
    route = playbook.route(message, Triage("complaint", ("influencer",)))
    assert route == Route("pr", "press", "rule 'press': tag influencer")
    route = playbook.route(message, Triage("complaint"))
    assert route == Route(
        "billing", "money", 'rule \'money\': category complaint; keyword "refund*", "charged twice"'
    )


def test_all_conditions_must_hold(playbook: Playbook) -> None:
    assert playbook.route(Inbound("refund please", "x"), Triage("praise")).team == "care"
    lead = Triage("sales_lead")
    assert playbook.route(Inbound("bulk order", "email"), lead).team == "sales"
    assert playbook.route(Inbound("bulk order", "x"), lead).team == "care"


def test_no_rule_means_the_default_team(playbook: Playbook) -> None:
    route = playbook.route(Inbound("hello", "facebook"), Triage("question"))
    assert route == Route("care", None, "no routing rule matched: default team")


def test_route_triages_when_not_given_a_triage(playbook: Playbook) -> None:
    assert playbook.route(Inbound("refund please", "x")).team == "billing"  # "question"


def test_a_rule_needs_a_condition() -> None:
    from frontdesk.core.playbook.base import PlaybookError

    with pytest.raises(PlaybookError, match="has no condition"):
        Playbook.from_text("[[routing.rules]]\nname = 'all'\nteam = 'care'\n")


# -- which teams an operator may take


def test_own_teams_first_then_overflow_from_teams_with_nobody_available(
    playbook: Playbook,
) -> None:
    offer = playbook.claimable_teams("alice", available={"alice", "bob", "carol", "dave"})
    # Everyone is in except erin (pr, no overflow) and the empty legal team.
    assert offer == TeamOffer(
        own=("care",),
        overflow=("legal",),
        reasons=("member of care", "legal: nobody available, overflow to care"),
    )


def test_a_team_with_nobody_available_overflows_by_its_rule(playbook: Playbook) -> None:
    # carol (billing) and dave (sales) are away.
    offer = playbook.claimable_teams("bob", available={"alice"})
    assert offer.own == ("care",)
    assert offer.overflow == ("billing", "sales", "legal")
    assert "sales: nobody available, overflow to anyone" in offer.reasons
    assert offer.teams == ("care", "billing", "sales", "legal")


def test_overflow_to_named_teams_only(playbook: Playbook) -> None:
    # dave is in sales only: billing overflows to care, not to him; legal neither.
    offer = playbook.claimable_teams("dave", available=set())
    assert offer.own == ("sales",)
    assert offer.overflow == ("care",)  # care overflows to anyone by default
    offer = playbook.claimable_teams("carol", available=set())
    assert offer.overflow == ("care", "sales", "legal")


def test_a_team_that_never_overflows_waits(playbook: Playbook) -> None:
    offer = playbook.claimable_teams("alice", available=set())
    assert "pr" not in offer.teams


def test_the_asking_operator_counts_as_available(playbook: Playbook) -> None:
    offer = playbook.claimable_teams("carol", available={"alice"})
    assert "billing" in offer.own
    assert "billing" not in offer.overflow


def test_an_operator_in_no_team_works_the_default_team(playbook: Playbook) -> None:
    offer = playbook.claimable_teams("zoe", available={"alice", "carol", "dave", "erin"})
    assert offer.own == ("care",)
    assert offer.overflow == ("legal",)


def test_a_member_of_several_teams() -> None:
    playbook = Playbook.from_text(
        "[teams.care]\nmembers = ['a']\n[teams.vip]\nmembers = ['a', 'b']\noverflow = []\n"
    )
    assert playbook.claimable_teams("a", available=set()).own == ("care", "vip")


# -- SLA per team


def test_a_team_clock_runs_on_its_calendar(playbook: Playbook) -> None:
    friday = dt.datetime(2026, 11, 20, 16, 45, tzinfo=ZoneInfo("Europe/London"))

    def due(team: str | None) -> dt.datetime:
        return playbook.sla_due(channel="x", visibility="public", received_at=friday, team=team)

    assert due("billing") == dt.datetime(2026, 11, 23, 9, 15, tzinfo=dt.UTC)
    assert due("care") == friday + dt.timedelta(minutes=30)
    assert due(None) == friday + dt.timedelta(minutes=30)  # the default team
    assert due("gone") == friday + dt.timedelta(minutes=30)
    clock = playbook.sla_clock(
        channel="x", visibility="public", received_at=friday, team="billing", kind="next"
    )
    assert clock.warn_at == dt.datetime(2026, 11, 23, 9, 7, 30, tzinfo=dt.UTC)


# -- escalation


def test_a_department_in_hours(playbook: Playbook) -> None:
    monday = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    found = playbook.escalation("legal", monday)
    assert found.open_now
    assert found.opens_at is None
    assert found.primary.name == "Dana Okafor"
    assert found.backup is not None and found.backup.reach == "+44 20 7946 0101"
    assert found.summary() == (
        "legal: Dana Okafor (legal@example.com); backup Sam Reid (+44 20 7946 0101); "
        "open now (Mon-Fri 09:00-17:00 (Europe/London), closed on GB holidays)"
    )


def test_a_department_out_of_hours_says_when_it_opens(playbook: Playbook) -> None:
    christmas = dt.datetime(2026, 12, 25, 12, 0, tzinfo=dt.UTC)
    found = playbook.escalation("legal", christmas)
    assert not found.open_now
    assert found.opens_at == dt.datetime(2026, 12, 29, 9, 0, tzinfo=ZoneInfo("Europe/London"))
    assert "closed now" in found.summary()
    assert "opens Tue 29 Dec 09:00 GMT; meanwhile: Hold the reply until morning." in found.summary()
    assert found.as_json()["opens_at"] == "2026-12-29T09:00:00+00:00"


def test_a_department_around_the_clock(playbook: Playbook) -> None:
    found = playbook.escalation("pr", dt.datetime(2026, 12, 25, 3, 0, tzinfo=dt.UTC))
    assert found.open_now
    assert found.backup is None
    assert found.summary() == "pr: Marcus Webb (press@example.com); open now (24/7)"


def test_an_unknown_department(playbook: Playbook) -> None:
    with pytest.raises(NotFound, match=r"no department 'it' .*\(legal, pr\)"):
        playbook.escalation("it", dt.datetime(2026, 11, 23, tzinfo=dt.UTC))
    assert playbook.directory.names() == ["legal", "pr"]
