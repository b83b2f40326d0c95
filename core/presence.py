"""Presence: advisory "who is viewing, who is typing" with expiry; the claim is the guarantee.

Presence changes are not events (they would drown the audit log); they still wake other
sessions, through `PRAGMA data_version` on SQLite and a NOTIFY on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from frontdesk.core.db import DriverStatement, connection_of
from frontdesk.core.events import NOTIFY_CHANNEL
from frontdesk.core.models import Presence

TTL = timedelta(seconds=30)
STATES = ("viewing", "typing")


def announce(
    session: Session,
    *,
    operator: str,
    conversation_id: int | None,
    state: str,
    now: datetime,
    ttl: timedelta = TTL,
) -> None:
    """Say where the operator is (None: nowhere) until `now + ttl`."""
    if state not in STATES:
        raise ValueError(f"unknown presence state {state!r}")
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    row = {
        "operator": operator,
        "conversation_id": conversation_id,
        "state": state,
        "expires_at": now + ttl,
    }
    stmt = insert(Presence).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=["operator"],
        set_={k: getattr(stmt.excluded, k) for k in ("conversation_id", "state", "expires_at")},
    )
    conn.execute(stmt)
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def active(session: Session, *, now: datetime) -> dict[int, list[tuple[str, str]]]:
    """Conversation id -> [(operator, state)] for every presence that has not expired."""
    rows = session.exec(
        select(Presence.conversation_id, Presence.operator, Presence.state).where(
            col(Presence.expires_at) > now, col(Presence.conversation_id).is_not(None)
        )
    )
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for conversation_id, operator, state in rows:
        if conversation_id is not None:
            found[conversation_id].append((operator, state))
    return dict(found)


# Read inside every claim_next (routing), so straight through the driver: building the
# ORM expression each time cost more than the claim's own UPDATE.
_ONLINE = DriverStatement(
    "SELECT presence.operator FROM presence"
    " LEFT OUTER JOIN operator ON operator.login = presence.operator"
    " WHERE presence.expires_at > :now AND (operator.away IS NULL OR NOT operator.away)"
)


def online(session: Session | Connection, *, now: datetime) -> set[str]:
    """Operators with a live presence (the workstation beats every few seconds) who are
    not marked away: the ones who can take work now."""
    return {row[0] for row in _ONLINE.run(connection_of(session), {"now": now})}
