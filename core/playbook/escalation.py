"""The escalation directory: per department its key contacts, their hours and how to reach them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field

from frontdesk.core.errors import NotFound
from frontdesk.core.playbook.base import Section
from frontdesk.core.playbook.calendar import ALWAYS, Calendar


class Contact(Section):
    """A person to escalate to."""

    name: str = Field(min_length=1)
    reach: str = Field(min_length=1)
    """How to reach them: an address, a phone number, a channel."""


class DepartmentConfig(Section):
    """One `[escalation.DEPARTMENT]` table."""

    primary: Contact
    backup: Contact | None = None
    calendar: str = ALWAYS
    """When the department answers: a `[calendars.NAME]` or `always`."""
    when_closed: str = ""
    """What to do outside those hours (an on-call number, "wait for Monday")."""
    note: str = ""
    """When to escalate here, shown to the operator choosing a department."""


@dataclass(frozen=True, slots=True)
class Escalation:
    """A department looked up at one moment: whom to contact and whether they are in."""

    department: str
    primary: Contact
    backup: Contact | None
    open_now: bool
    opens_at: dt.datetime | None
    hours: str
    when_closed: str

    def summary(self) -> str:
        """One line for the thread: who, how to reach them, and whether they are in."""
        text = f"{self.department}: {self.primary.name} ({self.primary.reach})"
        if self.backup:
            text += f"; backup {self.backup.name} ({self.backup.reach})"
        if self.open_now:
            return text + f"; open now ({self.hours})"
        text += f"; closed now ({self.hours})"
        if self.opens_at is not None:
            text += f", opens {self.opens_at:%a %d %b %H:%M %Z}"
        if self.when_closed:
            text += f"; meanwhile: {self.when_closed}"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "department": self.department,
            "primary": self.primary.model_dump(),
            "backup": self.backup.model_dump() if self.backup else None,
            "open_now": self.open_now,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "hours": self.hours,
            "when_closed": self.when_closed,
        }


class Directory:
    """The departments, with their calendars resolved."""

    def __init__(
        self, departments: Mapping[str, DepartmentConfig], calendars: Mapping[str, Calendar]
    ) -> None:
        self.departments = dict(departments)
        self.calendars = calendars

    def names(self) -> list[str]:
        return list(self.departments)

    def lookup(self, department: str, now: dt.datetime) -> Escalation:
        """The department's contacts as of `now`.

        Raises:
            NotFound: no such department in the directory.
        """
        config = self.departments.get(department)
        if config is None:
            known = ", ".join(self.departments) or "none configured"
            raise NotFound(f"no department {department!r} in the escalation directory ({known})")
        calendar = self.calendars[config.calendar]
        open_now = calendar.is_open(now)
        return Escalation(
            department=department,
            primary=config.primary,
            backup=config.backup,
            open_now=open_now,
            opens_at=None if open_now else calendar.local(calendar.next_open(now)),
            hours=calendar.describe(),
            when_closed=config.when_closed,
        )
