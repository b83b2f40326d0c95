"""The SLA sweep: record each clock's warning and breach once, as events everyone sees.

Each step is one conditional UPDATE … RETURNING: the state moves ok → warned → breached
only from the state the row is in, so sweeps running at once (sync on two hosts, a cron
job) record every warning and breach exactly once between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, text
from sqlmodel import Session

from frontdesk.core import events
from frontdesk.core.clock import as_utc

_WORKING = "status IN ('new', 'open') AND sla_due_at IS NOT NULL"


def _statement(sql: str) -> Any:
    # Typed binds and columns: timestamps are compared and read in the form the ORM
    # stores them on each backend.
    aware = DateTime(timezone=True)
    return text(sql).bindparams(bindparam("now", type_=aware)).columns(id=Integer, sla_due_at=aware)


_WARN = _statement(
    "UPDATE conversation SET sla_state = 'warned'"
    f" WHERE sla_state = 'ok' AND sla_warn_at <= :now AND sla_due_at > :now AND {_WORKING}"
    " RETURNING id, sla_due_at"
)
_BREACH = _statement(
    "UPDATE conversation SET sla_state = 'breached'"
    f" WHERE sla_state IN ('ok', 'warned') AND sla_due_at <= :now AND {_WORKING}"
    " RETURNING id, sla_due_at"
)


@dataclass(frozen=True, slots=True)
class Sweep:
    """What one sweep recorded."""

    warned: list[int]
    breached: list[int]


def sweep(session: Session, *, now: datetime, actor: str = "sla") -> Sweep:
    """Record warnings and breaches due by `now`, in the caller's transaction."""
    found: dict[str, list[tuple[int, datetime]]] = {}
    for kind, statement in (("sla.breached", _BREACH), ("sla.warning", _WARN)):
        rows = session.connection().execute(statement, {"now": now}).all()
        found[kind] = [(int(r[0]), r[1]) for r in rows]
    log: list[tuple[datetime, str, str, int | None, dict[str, Any]]] = [
        (now, actor, kind, conversation_id, {"due": as_utc(due).isoformat()})
        for kind, rows in found.items()
        for conversation_id, due in rows
    ]
    if log:
        events.append_many(session, log)
    return Sweep(
        warned=sorted(c for c, _ in found["sla.warning"]),
        breached=sorted(c for c, _ in found["sla.breached"]),
    )
