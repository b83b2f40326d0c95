"""The append-only event log: every change writes one row here, in the changing transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, bindparam, text
from sqlalchemy.orm import Session

from frontdesk.core.clock import as_utc
from frontdesk.core.db import DriverStatement

NOTIFY_CHANNEL = "frontdesk_events"
# Any constant works; it only has to be the same in every frontdesk process.
_EVENT_LOCK_KEY = 0x66_64_65_76  # "fdev"

# Every change writes here, so these run through the driver (see DriverStatement).
_INSERT = DriverStatement(
    "INSERT INTO event (at, actor, kind, conversation_id, payload) "
    "VALUES (:at, :actor, :kind, :conversation_id, :payload)"
)
_PG_SERIALISE = f"SELECT pg_advisory_xact_lock({_EVENT_LOCK_KEY})"
_PG_NOTIFY = f"NOTIFY {NOTIFY_CHANNEL}"
_AFTER = (
    text(
        "SELECT id, at, actor, kind, conversation_id, payload FROM event "
        "WHERE id > :after ORDER BY id LIMIT :limit"
    )
    .bindparams(bindparam("after", type_=BigInteger), bindparam("limit", type_=Integer))
    .columns(at=DateTime(timezone=True), payload=JSON())
)
_LAST_ID = text("SELECT COALESCE(MAX(id), 0) FROM event")


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event as the change feed hands it out."""

    id: int
    at: datetime
    actor: str
    kind: str
    conversation_id: int | None
    payload: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "kind": self.kind,
            "conversation_id": self.conversation_id,
            "payload": self.payload,
        }


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    kind: str,
    conversation_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Append one event inside the caller's transaction."""
    append_many(session, [(at, actor, kind, conversation_id, payload or {})])


def append_many(
    session: Session,
    rows: list[tuple[datetime, str, str, int | None, dict[str, Any]]],
) -> None:
    """Append several events inside the caller's transaction, in order."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        # A sequence hands out ids at insert time, not commit time, so two writers could
        # commit ids 8 and 7 in that order and a reader that has seen 8 would skip 7 for
        # ever. Serialising event writers until commit makes ids visible in commit order,
        # which is what lets the feed be a plain "id > N". SQLite has one writer anyway.
        conn.exec_driver_sql(_PG_SERIALISE)
    params = [
        {"at": at, "actor": actor, "kind": kind, "conversation_id": cid,
         "payload": json.dumps(payload)}
        for at, actor, kind, cid, payload in rows
    ]  # fmt: skip
    _INSERT.run(conn, params[0] if len(params) == 1 else params)
    if conn.dialect.name == "postgresql":
        # A wake-up only, delivered at commit; the table stays the source of truth.
        conn.exec_driver_sql(_PG_NOTIFY)


def after(session: Session, after_id: int, *, limit: int = 1000) -> list[EventRecord]:
    """Events with an id greater than `after_id`, oldest first."""
    rows = session.connection().execute(_AFTER, {"after": after_id, "limit": limit})
    return [
        EventRecord(r.id, as_utc(r.at), r.actor, r.kind, r.conversation_id, r.payload or {})
        for r in rows
    ]


def last_id(session: Session) -> int:
    """The id of the newest event, 0 for an empty log."""
    return int(session.connection().execute(_LAST_ID).scalar_one())
