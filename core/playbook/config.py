"""The playbook file: `playbook.toml` read into validated settings; errors name file and line."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from frontdesk.core.playbook.base import ANYONE, PlaybookError, Section
from frontdesk.core.playbook.calendar import ALWAYS, CalendarConfig
from frontdesk.core.playbook.crisis import CrisisConfig, StaffConfig
from frontdesk.core.playbook.escalation import DepartmentConfig
from frontdesk.core.playbook.routing import RoutingConfig, TeamConfig
from frontdesk.core.playbook.signoff import SignoffConfig
from frontdesk.core.playbook.sla import SlaConfig
from frontdesk.core.playbook.surveys import SurveysConfig
from frontdesk.core.playbook.surveys import references as survey_references
from frontdesk.core.playbook.toml_lines import key_lines, line_of
from frontdesk.core.playbook.tone_config import ToneConfig
from frontdesk.core.playbook.triage import TriageConfig

FILENAME = "playbook.toml"
_BARE = re.compile(r"[A-Za-z0-9_-]+")
_POSITION = re.compile(r" \(at line (\d+), column (\d+)\)")

Loc = tuple[str | int, ...]


class RepliesConfig(Section):
    """The `[replies]` table: texts and articles behind the one-key actions."""

    thank_you: str = "care/thanks-for-praise"
    """The knowledge-base article that thanks a customer for praise."""
    moved_private: str = "We've sent you a DM, {name}."
    """The public acknowledgement when a conversation moves to a private message."""
    follow_up: str = (
        "It was great speaking with you today, {name}. Glad I could help clear everything up."
    )
    """The public follow-up once the private conversation is resolved."""


def _default_teams() -> dict[str, TeamConfig]:
    return {"care": TeamConfig()}


class PlaybookConfig(Section):
    """Everything in `playbook.toml`. Every table is optional; the defaults are the seeds'."""

    sla: SlaConfig = Field(default_factory=SlaConfig)
    calendars: dict[str, CalendarConfig] = Field(default_factory=dict)
    teams: dict[str, TeamConfig] = Field(default_factory=_default_teams)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    escalation: dict[str, DepartmentConfig] = Field(default_factory=dict)
    triage: TriageConfig = Field(default_factory=TriageConfig)
    tone: ToneConfig = Field(default_factory=ToneConfig)
    signoff: SignoffConfig = Field(default_factory=SignoffConfig)
    replies: RepliesConfig = Field(default_factory=RepliesConfig)
    crisis: CrisisConfig = Field(default_factory=CrisisConfig)
    staff: StaffConfig = Field(default_factory=StaffConfig)
    surveys: SurveysConfig = Field(default_factory=SurveysConfig)


def references(config: PlaybookConfig) -> Iterator[tuple[Loc, str]]:
    """Names that point nowhere: a team's unknown calendar, a rule's unknown team or category.

    These are checked after the tables are valid on their own, so each error can name the
    key that holds the dangling name.
    """
    calendars = {ALWAYS, *config.calendars}
    teams = set(config.teams)
    if ALWAYS in config.calendars:
        yield ("calendars", ALWAYS), f"{ALWAYS!r} is the built-in 24/7 calendar; pick another name"
    for name, team in config.teams.items():
        if team.calendar not in calendars:
            yield ("teams", name, "calendar"), _unknown("calendar", team.calendar, calendars)
        for i, target in enumerate(team.overflow):
            if target != ANYONE and target not in teams:
                yield ("teams", name, "overflow", i), _unknown("team", target, teams)
    if config.routing.default_team not in teams:
        yield ("routing", "default_team"), _unknown("team", config.routing.default_team, teams)
    triage = config.triage
    categories, tags = set(triage.categories), set(triage.tags)
    if triage.default_category not in categories:
        yield (
            ("triage", "default_category"),
            _unknown("category", triage.default_category, categories),
        )
    for i, rule in enumerate(config.routing.rules):
        where: Loc = ("routing", "rules", i)
        if rule.team not in teams:
            yield (*where, "team"), _unknown("team", rule.team, teams)
        yield from _names((*where, "categories"), rule.categories, "category", categories)
        yield from _names((*where, "tags"), rule.tags, "tag", tags)
    for i, triage_rule in enumerate(triage.rules):
        where = ("triage", "rules", i)
        if triage_rule.category is not None and triage_rule.category not in categories:
            yield (*where, "category"), _unknown("category", triage_rule.category, categories)
        yield from _names((*where, "tags"), triage_rule.tags, "tag", tags)
    for name, department in config.escalation.items():
        if department.calendar not in calendars:
            where = ("escalation", name, "calendar")
            yield where, _unknown("calendar", department.calendar, calendars)
    yield from _names(("signoff", "categories"), config.signoff.categories, "category", categories)
    yield from _names(("signoff", "tags"), config.signoff.tags, "tag", tags)
    yield from survey_references(config.surveys, categories)
    if config.crisis.team is not None and config.crisis.team not in teams:
        yield ("crisis", "team"), _unknown("team", config.crisis.team, teams)


def _names(
    where: Loc, values: Sequence[str], kind: str, known: set[str]
) -> Iterator[tuple[Loc, str]]:
    for i, value in enumerate(values):
        if value not in known:
            yield (*where, i), _unknown(kind, value, known)


def _unknown(kind: str, value: str, known: set[str]) -> str:
    return f"unknown {kind} {value!r} (known: {', '.join(sorted(known)) or 'none'})"


def _where(loc: Loc) -> str:
    """A pydantic location as the key a person would write: `tone.banned[2].phrase`,
    `sla.first_response."x.public"`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for "the key itself, not its value"
            name = part if part and _BARE.fullmatch(part) else f'"{part}"'
            text += f".{name}" if text else name
    return text


def parse_playbook(text: str, source: str = FILENAME) -> PlaybookConfig:
    """Validate playbook text.

    Raises:
        PlaybookError: not TOML, an unknown key, a wrong value or a dangling name, with the
            line it is on.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib before 3.14 keeps the position only in its message.
        message = str(exc)
        found = _POSITION.search(message)
        if found:
            line = int(found.group(1))
            reason = _POSITION.sub(f" (column {found.group(2)})", message)
        else:  # "(at end of document)"
            line = text.count("\n") + 1
            reason = message
        raise PlaybookError(source, line, f"not valid TOML: {reason}") from None
    try:
        config = PlaybookConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        reason = first["msg"].removeprefix("Value error, ")
        where = _where(loc)
        raise PlaybookError(
            source, line_of(key_lines(text), loc), f"{where}: {reason}" if where else reason
        ) from None
    for loc, reason in references(config):
        raise PlaybookError(source, line_of(key_lines(text), loc), f"{_where(loc)}: {reason}")
    return config


def read_playbook(path: Path) -> PlaybookConfig:
    """Read and validate a playbook file.

    Raises:
        PlaybookError: the file cannot be read, is not UTF-8, or is not a valid playbook.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(str(path), 0, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PlaybookError(str(path), 0, f"not UTF-8 text (byte {exc.start})") from None
    return parse_playbook(text, str(path))
