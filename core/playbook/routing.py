"""Routing: teams and their members, rules that send a conversation to a team, and overflow."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pydantic import Field, model_validator

from frontdesk.core.playbook.base import ANYONE, Channel, Section
from frontdesk.core.playbook.calendar import ALWAYS
from frontdesk.core.playbook.phrases import PhraseMatcher, normalise
from frontdesk.core.playbook.triage import Inbound, Triage


class TeamConfig(Section):
    """One `[teams.NAME]` table."""

    members: list[str] = Field(default_factory=list)
    """Operator logins."""
    calendar: str = ALWAYS
    """The calendar the team's SLA clocks run on: a `[calendars.NAME]` or `always` (24/7)."""
    overflow: list[str] = Field(default_factory=lambda: [ANYONE])
    """Who may take the team's conversations while none of its members is available: other
    team names, `*` for any operator, or nobody (`[]`: the work waits for the team)."""


class RoutingRule(Section):
    """One `[[routing.rules]]` entry: every condition given must hold; first match wins."""

    name: str = Field(min_length=1)
    team: str = Field(min_length=1)
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    """Any of these source tags."""
    channels: list[Channel] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    """Whole words or phrases of the message, any case."""

    @model_validator(mode="after")
    def _has_condition(self) -> RoutingRule:
        if not (self.categories or self.tags or self.channels or self.keywords):
            raise ValueError(f"rule {self.name!r} has no condition; use routing.default_team")
        return self


class RoutingConfig(Section):
    """The `[routing]` table."""

    default_team: str = "care"
    """Where a conversation goes when no rule matches; also the team of an operator who is
    in no team."""
    rules: list[RoutingRule] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Route:
    """The team a conversation goes to, and why."""

    team: str
    rule: str | None
    why: str


@dataclass(frozen=True, slots=True)
class TeamOffer:
    """The teams whose conversations an operator may take: their own first, then the
    overflow of teams with nobody available, each with the reason."""

    own: tuple[str, ...]
    overflow: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def teams(self) -> tuple[str, ...]:
        """Every team the operator may take from, in the order to serve them."""
        return self.own + self.overflow

    def overflow_reasons(self) -> dict[str, str]:
        """Each overflow team's reason ("billing: nobody available, overflow to care")."""
        return dict(zip(self.overflow, self.reasons[1:], strict=True))


class Router:
    """The routing rules compiled once."""

    def __init__(self, routing: RoutingConfig, teams: Mapping[str, TeamConfig]) -> None:
        self.routing = routing
        self.teams = dict(teams)
        self._matchers = [PhraseMatcher(rule.keywords) for rule in routing.rules]

    def route(self, message: Inbound, triage: Triage) -> Route:
        """The first rule whose conditions all hold, else the default team."""
        for rule, matcher in zip(self.routing.rules, self._matchers, strict=True):
            why = _why(rule, matcher, message, triage)
            if why is not None:
                return Route(rule.team, rule.name, why)
        return Route(self.routing.default_team, None, "no routing rule matched: default team")

    def teams_of(self, operator: str) -> tuple[str, ...]:
        """The operator's teams in file order; the default team for someone in none."""
        own = tuple(name for name, team in self.teams.items() if operator in team.members)
        return own or (self.routing.default_team,)

    def offer(self, operator: str, available: Collection[str]) -> TeamOffer:
        """Which teams' conversations `operator` may take while `available` (logins that are
        on shift and not away) are working. The operator counts as available."""
        present = {*available, operator}
        own = self.teams_of(operator)
        overflow: list[str] = []
        reasons = [f"member of {', '.join(own)}"]
        for name, team in self.teams.items():
            if name in own or present.intersection(team.members):
                continue
            if ANYONE in team.overflow or set(own).intersection(team.overflow):
                overflow.append(name)
                via = "anyone" if ANYONE in team.overflow else ", ".join(own)
                reasons.append(f"{name}: nobody available, overflow to {via}")
        return TeamOffer(own, tuple(overflow), tuple(reasons))


def _why(rule: RoutingRule, matcher: PhraseMatcher, message: Inbound, triage: Triage) -> str | None:
    why: list[str] = []
    if rule.categories:
        if triage.category not in rule.categories:
            return None
        why.append(f"category {triage.category}")
    if rule.tags:
        tags = [t for t in triage.tags if t in rule.tags]
        if not tags:
            return None
        why.append("tag " + ", ".join(tags))
    if rule.channels:
        if message.channel not in rule.channels:
            return None
        why.append(f"channel {message.channel}")
    if rule.keywords:
        found = matcher.present(message.text)
        words = [k for k in rule.keywords if normalise(k) in found]
        if not words:
            return None
        why.append("keyword " + ", ".join(f'"{w}"' for w in words))
    return f"rule {rule.name!r}: " + "; ".join(why)
