"""Referrals to phone or email, and the desk's measuring actions: the report and refer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from frontdesk.core import events, metrics, metrics_dashboard
from frontdesk.core.db import Database
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.metrics_dashboard import Dashboard
from frontdesk.core.metrics_model import Report
from frontdesk.core.models import Conversation, Operator
from frontdesk.core.playbook.playbook import Playbook

KIND = "conversation.referred"
TARGETS = ("phone", "email")


def refer(
    session: Session,
    *,
    conversation_id: int,
    operator: str,
    to: str,
    now: datetime,
    note: str = "",
) -> None:
    """Record a `conversation.referred` event {"to": "phone" | "email"}: the conversation's
    current episode then no longer counts as resolved in the channel (core/metrics.py).

    Raises:
        InvalidInput: `to` is not phone or email.
        NotFound: no such conversation.
    """
    if to not in TARGETS:
        raise InvalidInput(f"refer to {' or '.join(TARGETS)}, not {to!r}")
    if session.get(Conversation, conversation_id) is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    payload = {"to": to, "note": note} if note.strip() else {"to": to}
    events.append(
        session, at=now, actor=operator, kind=KIND, conversation_id=conversation_id, payload=payload
    )


class MetricsDesk:
    """Mixed into Desk: the figures of core/metrics.py over the event log, and referrals."""

    login: str
    db: Database
    clock: Callable[[], datetime]

    def operator(self) -> Operator:
        raise NotImplementedError

    @property
    def playbook(self) -> Playbook:
        raise NotImplementedError

    def report(self, since: datetime, until: datetime, by: str | None = None) -> Report:
        """The figures for [since, until), per group of `by` (see core/metrics.py)."""
        with self.db.read() as session:
            return metrics.compute(session, since, until, by, self.playbook)

    def dashboard(self, hours: int = 24, step_hours: int = 1) -> Dashboard:
        """The dashboard's figures: the last `hours`, and each `step_hours` of them."""
        with self.db.read() as session:
            return metrics_dashboard.build(
                session, now=self.clock(), hours=hours, step_hours=step_hours,
                playbook=self.playbook,
            )  # fmt: skip

    def refer(self, conversation_id: int, to: str, note: str = "") -> None:
        """Record that the customer was sent to phone or email to finish."""
        self.operator()
        with self.db.write() as session:
            refer(
                session, conversation_id=conversation_id, operator=self.login, to=to,
                now=self.clock(), note=note,
            )  # fmt: skip
