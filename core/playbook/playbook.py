"""The playbook in force: every rule compiled once, behind the entry points core and shells call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from importlib import resources
from pathlib import Path

from frontdesk.core.playbook.calendar import ALWAYS, BusinessHours, Calendar, Span
from frontdesk.core.playbook.config import (
    FILENAME,
    PlaybookConfig,
    parse_playbook,
    read_playbook,
)
from frontdesk.core.playbook.escalation import Directory, Escalation
from frontdesk.core.playbook.routing import Route, Router, TeamOffer
from frontdesk.core.playbook.signoff import SignoffReason, SignoffRules
from frontdesk.core.playbook.sla import ClockKind, SlaClock, start_clock
from frontdesk.core.playbook.surveys import SurveyPolicy
from frontdesk.core.playbook.tone import Finding, ReplyContext, ToneChecker
from frontdesk.core.playbook.triage import Inbound, Triage, Triager

DEMO = "demo_playbook.toml"


class Playbook:
    """A validated playbook with its rules compiled. Immutable once built: a reload builds a
    new one, so a reader holding this object never sees half of an edit."""

    def __init__(self, config: PlaybookConfig | None = None, *, source: str | None = None) -> None:
        self.config = config if config is not None else PlaybookConfig()
        self.source = source
        calendars: dict[str, Calendar] = {ALWAYS: Calendar(ALWAYS)}
        for name, calendar in self.config.calendars.items():
            calendars[name] = BusinessHours(name, calendar)
        self.calendars = calendars
        self.triager = Triager(self.config.triage)
        self.router = Router(self.config.routing, self.config.teams)
        self.tone = ToneChecker(self.config.tone)
        self.signoff_rules = SignoffRules(self.config.signoff)
        self.directory = Directory(self.config.escalation, calendars)
        self.surveys = SurveyPolicy(self.config.surveys)

    @classmethod
    def from_text(cls, text: str, source: str = FILENAME) -> Playbook:
        """Raises PlaybookError naming `source`, the line and the reason."""
        return cls(parse_playbook(text, source), source=source)

    @classmethod
    def load(cls, path: Path) -> Playbook:
        """Raises PlaybookError naming the file, the line and the reason."""
        return cls(read_playbook(path), source=str(path))

    @classmethod
    def demo(cls) -> Playbook:
        """The playbook of the demo workspace (Northwind Outfitters)."""
        text = resources.files("frontdesk.core.playbook").joinpath(DEMO).read_text(encoding="utf-8")
        return cls.from_text(text, DEMO)

    # -- triage and routing
    @property
    def categories(self) -> tuple[str, ...]:
        """The categories an operator may choose from."""
        return tuple(self.config.triage.categories)

    @property
    def tags(self) -> tuple[str, ...]:
        """The source tags an operator may choose from."""
        return tuple(self.config.triage.tags)

    def triage(self, message: Inbound) -> Triage:
        """Category, source tags and priority of an inbound message, with the reasons."""
        return self.triager.triage(message)

    def route(self, message: Inbound, triage: Triage | None = None) -> Route:
        """The team the conversation goes to (triaging the message first if needed)."""
        return self.router.route(message, triage or self.triage(message))

    def claimable_teams(self, operator: str, available: Collection[str]) -> TeamOffer:
        """The teams whose conversations `operator` may take, own teams first, then overflow
        from teams of which nobody in `available` is a member."""
        return self.router.offer(operator, available)

    # -- SLA clocks
    def calendar_for(self, team: str | None) -> Calendar:
        """The calendar a team's clocks run on (the default team's for None)."""
        config = self.config.teams.get(team or self.config.routing.default_team)
        return self.calendars[config.calendar if config else ALWAYS]

    def sla_target(self, channel: str, visibility: str, kind: ClockKind = "first") -> dt.timedelta:
        return self.config.sla.target(channel, visibility, kind)

    def sla_clock(
        self,
        *,
        channel: str,
        visibility: str,
        received_at: dt.datetime,
        team: str | None = None,
        kind: ClockKind = "first",
        pauses: Iterable[Span] = (),
    ) -> SlaClock:
        """The clock for a customer message: `first` until the brand has replied, `next` for
        a message after a reply. `pauses` are the finished waiting-on-customer periods."""
        return start_clock(
            received_at,
            self.sla_target(channel, visibility, kind),
            self.calendar_for(team),
            warn_share=self.config.sla.warn_share,
            pauses=pauses,
        )

    def sla_due(
        self,
        *,
        channel: str,
        visibility: str,
        received_at: dt.datetime,
        team: str | None = None,
        kind: ClockKind = "first",
        pauses: Iterable[Span] = (),
    ) -> dt.datetime:
        """When the reply is due (see `sla_clock`)."""
        clock = self.sla_clock(
            channel=channel,
            visibility=visibility,
            received_at=received_at,
            team=team,
            kind=kind,
            pauses=pauses,
        )
        return clock.due_at

    # -- escalation
    def escalation(self, department: str, now: dt.datetime) -> Escalation:
        """A department's contacts as of `now`. Raises NotFound for an unknown department."""
        return self.directory.lookup(department, now)

    # -- before a send
    def check_reply(self, text: str, context: ReplyContext) -> list[Finding]:
        """The tone and safety findings for a draft, by position."""
        return self.tone.check(text, context)

    def signoff(
        self,
        text: str,
        *,
        category: str | None = None,
        tags: Iterable[str] = (),
        inbound: Iterable[str] = (),
        crisis: bool = False,
    ) -> list[SignoffReason]:
        """Why the reply needs approval before it is sent; empty when it needs none."""
        return self.signoff_rules.reasons(
            text, category=category, tags=tags, inbound=inbound, crisis=crisis
        )
