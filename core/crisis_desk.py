"""The desk's crisis and staff-care actions: crisis mode on and off, the spike check, away,
the abusive flag and the break reminder, each one short transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from frontdesk.core import crisis, crisis_watch, staff
from frontdesk.core.config import Settings
from frontdesk.core.crisis import CrisisState
from frontdesk.core.crisis_watch import Figures
from frontdesk.core.db import Database
from frontdesk.core.models import Conversation, Operator
from frontdesk.core.playbook.playbook import Playbook


class CrisisDesk:
    """Mixed into Desk: crisis mode and staff care."""

    settings: Settings
    login: str
    db: Database
    clock: Callable[[], datetime]

    def operator(self) -> Operator:
        raise NotImplementedError

    @property
    def playbook(self) -> Playbook:
        raise NotImplementedError

    def crisis_state(self) -> CrisisState:
        with self.db.read() as session:
            return crisis.state(session)

    def crisis_on(self, reason: str) -> CrisisState:
        """Switch crisis mode on (supervisors): replies need sign-off, scheduled posts wait."""
        operator, config = self.operator(), self.playbook.config.crisis
        with self.db.write() as session:
            return crisis.switch_on(
                session, operator=operator, reason=reason, now=self.clock(), config=config
            )

    def crisis_off(self) -> dict[str, int]:
        """Switch crisis mode off (supervisors) and restore what it changed."""
        operator = self.operator()
        team = self.playbook.config.crisis.team
        with self.db.write() as session:
            return crisis.switch_off(session, operator=operator, now=self.clock(), team=team)

    def crisis_figures(self) -> Figures:
        """The detector's figures right now (nothing recorded)."""
        config = self.playbook.config.crisis
        with self.db.read() as session:
            return crisis_watch.measure(session, config, self.clock())

    def crisis_check(self, actor: str | None = None) -> Figures | None:
        """Record a crisis alert if a spike trips one (deduplicated); the figures if so."""
        config = self.playbook.config.crisis
        return crisis_watch.check(self.db, config, self.clock(), actor=actor or self.login)

    def away(self) -> bool:
        with self.db.read() as session:
            return staff.is_away(session, self.login)

    def set_away(self, away: bool) -> bool:
        """Mark this operator away (or back); returns whether that changed anything."""
        self.operator()
        with self.db.write() as session:
            return staff.set_away(session, login=self.login, away=away, now=self.clock())

    def flag_abusive(self, conversation_id: int, on: bool = True) -> Conversation:
        with self.db.write() as session:
            conv = staff.flag_abusive(
                session, conversation_id=conversation_id, by=self.login, on=on, now=self.clock()
            )
            session.expunge(conv)
            return conv

    def break_status(self) -> staff.BreakStatus:
        config = self.playbook.config.staff
        with self.db.read() as session:
            return staff.break_status(session, self.login, config, self.clock())
