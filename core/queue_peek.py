"""The top of the open queue read with stdlib sqlite3, for the first frame (no SQLAlchemy).

Importing the database layer costs most of the workstation's start-up. On the embedded
SQLite default the first screenful can be read without it: one statement over the urgency
index, in exactly list_queue's default order (tests/test_queue_peek.py holds the two
together). The real queue replaces these rows as soon as the desk is open.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# list_queue with QueueFilter() (every open status, no other filter): same predicate,
# same index, same keys (core/queue.py QUEUE_ORDER).
_ROWS = """
SELECT c.id, c.sla_due_at, c.sla_warn_at, c.channel, cu.handle, cu.display_name, c.preview,
       c.claimed_by, c.claim_expires_at, c.status, c.awaiting_signoff, c.follow_up
FROM conversation AS c INDEXED BY ix_conversation_urgency
JOIN customer AS cu ON cu.id = c.customer_id
WHERE c.status IN ('new', 'open', 'waiting')
ORDER BY (c.sla_due_at IS NULL), c.sla_due_at, c.priority DESC, c.first_inbound_at, c.id
LIMIT ?
"""
_COUNT = "SELECT count(*) FROM conversation WHERE status IN ('new', 'open', 'waiting')"


@dataclass(frozen=True, slots=True)
class RowView:
    """What one queue row shows: from this peek, or from core's QueueRow in a worker."""

    conversation_id: int
    due: datetime | None
    warn_at: datetime | None
    """When the playbook's warning lead starts (the row turns "due soon")."""
    channel: str
    customer: str
    preview: str
    holder: str | None
    status: str
    flag: str = ""
    """What the playbook says needs doing besides a reply: "sign-off", "follow-up"."""


def row_flag(awaiting_signoff: bool, follow_up: str | None) -> str:
    """The row's flag: a held reply waits for sign-off first, then a public follow-up."""
    return "sign-off" if awaiting_signoff else "follow-up" if follow_up else ""


def peek_open_queue(path: Path, *, limit: int, now: datetime) -> tuple[int, list[RowView]] | None:
    """(open conversations, the first `limit` of them), or None when the file cannot answer
    (missing, locked past a moment, or a schema this code does not know): the caller then
    simply waits for the real queue."""
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.2)
    except sqlite3.Error:
        return None
    try:
        total = int(con.execute(_COUNT).fetchone()[0])
        rows = [_row(r, now) for r in con.execute(_ROWS, (limit,))]
    except (sqlite3.Error, ValueError):
        return None
    finally:
        con.close()
    return total, rows


def _row(r: tuple[object, ...], now: datetime) -> RowView:
    cid, due, warn, channel, handle, name, preview, holder, expires, status, signoff, follow = r
    expires_at = _when(expires)
    live = holder if holder is not None and expires_at is not None and expires_at > now else None
    return RowView(
        int(str(cid)),
        _when(due),
        _when(warn),
        str(channel),
        str(handle or name or ""),
        str(preview),
        None if live is None else str(live),
        str(status),
        row_flag(bool(signoff), None if follow is None else str(follow)),
    )


def _when(value: object) -> datetime | None:
    """A stored timestamp (naive UTC text, as the SQLite dialect writes it) as aware UTC."""
    if value is None:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
