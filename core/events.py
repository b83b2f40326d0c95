"""The append-only event log: every change writes one row here, in the changing transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from frontdesk.core.clock import as_utc
from frontdesk.core.db import connection_of, driver, sqlite_value

NOTIFY_CHANNEL = "frontdesk_events"
# Any constant works; it only has to be the same in every frontdesk process.
_EVENT_LOCK_KEY = 0x66_64_65_76  # "fdev"

# Every change writes here, so these run straight through the driver (see DriverStatement).
_COLUMNS = "INSERT INTO event (at, actor, kind, conversation_id, payload)"
_SQLITE_INSERT = f"{_COLUMNS} VALUES (?, ?, ?, ?, ?)"
_PG_INSERT = f"{_COLUMNS} VALUES (%s, %s, %s, %s, %s)"
# A sequence hands out ids at insert time, not commit time, so two writers could commit
# ids 8 and 7 in that order and a reader that has seen 8 would skip 7 for ever. Serialising
# event writers until commit (a transaction-level advisory lock, taken before the id is)
# makes ids visible in commit order, which is what lets the feed be a plain "id > N".
# SQLite has one writer anyway. The NOTIFY is a wake-up only, delivered at commit; the
# table stays the source of truth.
_PG_SERIALISE = (
    f"SELECT pg_advisory_xact_lock({_EVENT_LOCK_KEY}), pg_notify('{NOTIFY_CHANNEL}', '')"
)
# The same for one event in one round trip, since the lock is held until commit and every
# round trip under it is time all other writers wait: the CTE takes the lock before the
# INSERT draws its id. The casts type the SELECT the way VALUES would.
_PG_APPEND_ONE = (
    f"WITH serialise AS ({_PG_SERIALISE}) {_COLUMNS}"
    " SELECT %s::timestamptz, %s, %s, %s::integer, %s::json FROM serialise"
)
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
    session: Session | Connection,
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
    session: Session | Connection,
    rows: list[tuple[datetime, str, str, int | None, dict[str, Any]]],
) -> None:
    """Append several events inside the caller's transaction (a Session's or a bare
    Connection's), in order."""
    if not rows:
        return
    conn = connection_of(session)
    raw = driver(conn)
    if conn.dialect.name == "postgresql":
        params = [(at, actor, kind, cid, _json(payload)) for at, actor, kind, cid, payload in rows]
        if len(params) == 1:
            raw.execute(_PG_APPEND_ONE, params[0])
            return
        raw.execute(_PG_SERIALISE)
        with raw.cursor() as cur:
            cur.executemany(_PG_INSERT, params)
        return
    stamps: dict[datetime, Any] = {}  # a batch's events share one `at`: convert it once
    values = []
    for at, actor, kind, cid, payload in rows:
        stamp = stamps.get(at)
        if stamp is None:
            stamp = stamps[at] = sqlite_value(at)
        values.append((stamp, actor, kind, cid, _json(payload)))
    if len(values) == 1:
        raw.execute(_SQLITE_INSERT, values[0])
    else:
        raw.executemany(_SQLITE_INSERT, values)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload) if payload else "{}"  # most events carry none


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
