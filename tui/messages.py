"""App-wide messages: facts the app's workers report to the screens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the first frame is painted before the database layer is imported
    from frontdesk.core.crisis import CrisisState
    from frontdesk.core.events import EventRecord
    from frontdesk.core.staff import BreakStatus


@dataclass
class ChangesArrived(Message):
    """Other sessions (or this one) changed the database; these are the new events."""

    events: list[EventRecord]

    def can_replace(self, message: Message) -> bool:
        return False


@dataclass
class KnowledgeReloaded(Message):
    """The knowledge base was (re)loaded: how many articles, and the files that are broken."""

    articles: int
    updated: int
    problems: list[str]


@dataclass
class DatabaseState(Message):
    """Whether the last database call worked; the header shows it."""

    ok: bool
    detail: str


class PresenceChanged(Message):
    """Something committed that was not an event (a presence beat), or time passed."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PresenceChanged)


@dataclass
class PlaybookReloaded(Message):
    """The playbook file changed: a new playbook is in force, or the edit was refused."""

    problem: str | None
    at_start: bool = False
    """The file was broken when the session opened: `problem` says what is in force."""


@dataclass
class CrisisChanged(Message):
    """Crisis mode as the database has it now (a worker read it after a crisis event)."""

    state: CrisisState
    holding_statement: str


@dataclass
class BreakChecked(Message):
    """This operator's stretch of handling and whether they are away (the minute check)."""

    status: BreakStatus
    away: bool
