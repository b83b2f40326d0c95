"""What the playbook decides as a message comes in: triage, team, and the SLA clock.

Ingest calls `Intake.new` for the first message of a new conversation and `Intake.next`
when a stored conversation hears from its customer again; both are pure, so a batch of
thousands is planned before its few set-based statements run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from frontdesk.core.clock import as_utc
from frontdesk.core.ingest_input import InboundMessage
from frontdesk.core.playbook.playbook import Playbook
from frontdesk.core.playbook.triage import Inbound


@dataclass(frozen=True, slots=True)
class Plan:
    """A new conversation's category, tags, priority, team, reasons and first clock."""

    category: str
    tags: list[str]
    priority: int
    team: str
    reasons: list[dict[str, Any]]
    due_at: datetime
    warn_at: datetime


@dataclass(frozen=True, slots=True)
class Clock:
    """A clock started by a customer's message: when it warns and when it is due."""

    kind: str
    due_at: datetime
    warn_at: datetime


def inbound(msg: InboundMessage) -> Inbound:
    """The parts of an ingest line that triage and routing read."""
    author = msg.author
    return Inbound(
        text=msg.text,
        channel=msg.channel,
        visibility=msg.visibility,
        author_id=author.id,
        author_handle=author.handle,
        author_name=author.name,
        followers=author.followers,
        tags=tuple(msg.tags),
    )


class Intake:
    """The playbook in force, applied to arriving messages."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook

    def new(self, first: InboundMessage) -> Plan:
        """Triage and route a new conversation by its first message, and start its clock."""
        message = inbound(first)
        triage = self.playbook.triage(message)
        route = self.playbook.route(message, triage)
        clock = self.clock(first, team=route.team, kind="first")
        reasons: list[dict[str, Any]] = [
            {"rule": r.rule, "weight": r.weight, "why": r.why} for r in triage.reasons
        ]
        # "route" marks the entry routing wrote (core/triage_reasons.py) and names its team.
        reasons.append(
            {
                "rule": route.rule or "default team",
                "weight": 0,
                "why": route.why,
                "route": route.team,
            }
        )
        return Plan(
            category=triage.category,
            tags=sorted({*triage.tags, *first.tags}),
            priority=triage.priority,
            team=route.team,
            reasons=reasons,
            due_at=clock.due_at,
            warn_at=clock.warn_at,
        )

    def clock(self, msg: InboundMessage, *, team: str | None, kind: str) -> Clock:
        """The clock `msg` starts: "first" until the brand has replied, "next" after."""
        clock = self.playbook.sla_clock(
            channel=msg.channel,
            visibility=msg.visibility,
            received_at=as_utc(msg.created_at),
            team=team,
            kind="next" if kind == "next" else "first",
        )
        return Clock(kind, clock.due_at, clock.warn_at)
