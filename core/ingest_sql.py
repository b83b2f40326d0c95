"""Ingest's set-based statements, run through the driver with every value converted once."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any, NamedTuple

from frontdesk.core.db import DriverStatement
from frontdesk.core.ingest_driver import Driver, Row

__all__ = ["Driver", "Key", "Row", "Stored"]

Key = tuple[str, str]


def _pairs_filter(
    drv: Driver, channel: str, key: str, pairs: Collection[Key]
) -> tuple[str, list[Any]]:
    """A SQLite filter matching the rows whose (channel, key) is in `pairs`, and a few more.

    Not a row-value IN: SQLite (3.40) answers `(a, b) IN (VALUES ...)` by scanning the whole
    (channel, key) index, or the whole message table, once per batch: seconds per batch at a
    million messages. Two plain INs are answered with index probes; callers keep only the
    rows whose pair they asked for.
    """
    on_channel, first = drv.any_of(channel, sorted({c for c, _ in pairs}))
    on_key, second = drv.any_of(key, sorted({k for _, k in pairs}))
    return f"{on_channel} AND {on_key}", first + second


# PostgreSQL looks up the exact pairs instead, one probe of the unique index each: given
# `= ANY(array)` on both columns, or a plain join, its planner hashed the whole message
# table once per batch. LIMIT 1 (the pair is unique anyway) keeps the LATERAL subquery
# from being flattened back into such a join.
_PG_PAIRS = "unnest(%s::text[], %s::text[]) AS wanted(channel, key) CROSS JOIN LATERAL"


def _pg_pairs(pairs: Collection[Key]) -> list[Any]:
    return [[c for c, _ in pairs], [k for _, k in pairs]]


def stored_threads(drv: Driver, pairs: Collection[Key]) -> dict[Key, str]:
    """The thread key of each stored message among `pairs` (channel, external id)."""
    if not pairs:
        return {}
    if drv.postgresql:
        sql = (
            f"SELECT m.channel, m.external_id, c.thread_key FROM {_PG_PAIRS}"
            " (SELECT channel, external_id, conversation_id FROM message"
            "  WHERE channel = wanted.channel AND external_id = wanted.key LIMIT 1) m"
            " JOIN conversation c ON c.id = m.conversation_id"
        )
        params = _pg_pairs(pairs)
    else:
        where, params = _pairs_filter(drv, "m.channel", "m.external_id", pairs)
        sql = (
            "SELECT m.channel, m.external_id, c.thread_key FROM message m"
            f" JOIN conversation c ON c.id = m.conversation_id WHERE {where}"
        )
    return {(ch, ext): key for ch, ext, key in drv.select(sql, params) if (ch, ext) in pairs}


class Stored(NamedTuple):
    """A stored conversation as ingest needs it: the team picks the calendar of its clock."""

    id: int
    status: str
    team: str | None


def conversations(drv: Driver, keys: Collection[Key]) -> dict[Key, Stored]:
    """The id, status and team of each stored conversation among `keys` (channel, thread key)."""
    if not keys:
        return {}
    if drv.postgresql:
        sql = (
            f"SELECT c.id, c.channel, c.thread_key, c.status, c.team FROM {_PG_PAIRS}"
            " (SELECT id, channel, thread_key, status, team FROM conversation"
            "  WHERE channel = wanted.channel AND thread_key = wanted.key LIMIT 1) c"
        )
        params = _pg_pairs(keys)
    else:
        where, params = _pairs_filter(drv, "channel", "thread_key", keys)
        sql = f"SELECT id, channel, thread_key, status, team FROM conversation WHERE {where}"
    return {
        (ch, key): Stored(cid, st, team)
        for cid, ch, key, st, team in drv.select(sql, params)
        if (ch, key) in keys
    }


_CUSTOMER_HEAD = (
    "INSERT INTO customer (channel, platform_user_id, handle, display_name, followers, tags,"
    " created_at)"
)
_CUSTOMER_TYPES = ("text", "text", "text", "text", "bigint", "json", "timestamptz")
# A message without a follower count keeps the count we already know.
_CUSTOMER_TAIL = (
    "ON CONFLICT (channel, platform_user_id) DO UPDATE SET handle = excluded.handle,"
    " display_name = excluded.display_name,"
    " followers = COALESCE(excluded.followers, customer.followers)"
    " RETURNING id, channel, platform_user_id"
)


def upsert_customers(drv: Driver, rows: list[Row]) -> dict[Key, int]:
    """Insert or refresh customers (channel, user id, handle, name, followers, created at)."""
    values = [(c, u, drv.text(h), drv.text(n), f, "[]", drv.ts(at)) for c, u, h, n, f, at in rows]
    returned = drv.insert(_CUSTOMER_HEAD, values, _CUSTOMER_TAIL, _CUSTOMER_TYPES)
    return {(channel, user): cid for cid, channel, user in returned}


_CONVERSATION_HEAD = (
    "INSERT INTO conversation (channel, visibility, thread_key, customer_id, status, priority,"
    " tags, claim_token, version, message_count, first_inbound_at, last_inbound_at,"
    " last_message_at, sla_due_at, preview, created_at, updated_at,"
    " category, team, triage, sla_warn_at, sla_clock, account)"
)
_CONVERSATION_TYPES = (
    "text", "text", "text", "bigint", "text", "integer", "json", "bigint", "integer", "integer",
    "timestamptz", "timestamptz", "timestamptz", "timestamptz", "text", "timestamptz",
    "timestamptz", "text", "text", "json", "timestamptz", "text", "text",
)  # fmt: skip
# On PostgreSQL another ingest may have created the thread meanwhile; the caller folds
# the batch into that one with the UPDATE below instead.
_CONVERSATION_TAIL = (
    "ON CONFLICT (channel, thread_key) DO NOTHING RETURNING id, channel, thread_key"
)


def insert_conversations(
    drv: Driver, rows: Iterable[Row], account: str | None = None
) -> dict[Key, int]:
    """Insert new conversations in their final form, brought in by sync's `account`.

    Each row: channel, visibility, thread key, customer id, message count, first and last
    message time, SLA due, preview, now, and the playbook's plan (None: no triage; the SLA
    due alone). They start as `new` and unclaimed.
    """
    values = [
        (ch, vis, key, cust, "new", plan.priority if plan else 0,
         json.dumps(plan.tags) if plan else "[]", 0, n, n, drv.ts(first), drv.ts(last),
         drv.ts(last), drv.ts(due), drv.text(preview), drv.ts(now), drv.ts(now),
         plan.category if plan else None, plan.team if plan else None,
         json.dumps(plan.reasons) if plan else "[]",
         drv.ts(plan.warn_at) if plan else None, "first", account)
        for ch, vis, key, cust, n, first, last, due, preview, now, plan in rows
    ]  # fmt: skip
    returned = drv.insert(_CONVERSATION_HEAD, values, _CONVERSATION_TAIL, _CONVERSATION_TYPES)
    return {(channel, key): cid for cid, channel, key in returned}


_MESSAGE_HEAD = (
    "INSERT INTO message (conversation_id, channel, direction, author, body, external_id,"
    " in_reply_to, url, created_at, recorded_at, subject, email_references)"
)
_MESSAGE_TYPES = (
    "bigint", "text", "text", "text", "text", "text", "text", "text", "timestamptz", "timestamptz",
    "text", "text",
)  # fmt: skip
_MESSAGE_TAIL = "ON CONFLICT (channel, external_id) DO NOTHING RETURNING id, channel, external_id"


def insert_messages(drv: Driver, rows: Iterable[Row]) -> dict[Key, int]:
    """Insert inbound messages (conversation id, channel, author, body, external id,
    in reply to, url, created at, now, subject, references); returns the id of each one
    stored."""
    values = [
        (cid, ch, "inbound", drv.text(author), drv.text(body), ext, reply, url, drv.ts(at),
         drv.ts(now), None if subject is None else drv.text(subject), refs)
        for cid, ch, author, body, ext, reply, url, at, now, subject, refs in rows
    ]  # fmt: skip
    returned = drv.insert(_MESSAGE_HEAD, values, _MESSAGE_TAIL, _MESSAGE_TYPES)
    return {(channel, ext): mid for mid, channel, ext in returned}


# One statement folds any number of new messages into a stored conversation; each CASE keeps
# the row right whatever order messages arrive in, and whatever an operator did meanwhile.
_UPDATE = DriverStatement(
    "UPDATE conversation SET"
    " version = version + :n, message_count = message_count + :n,"
    " status = CASE WHEN status IN ('resolved', 'closed', 'waiting') THEN 'open' ELSE status END,"
    " first_inbound_at = COALESCE(first_inbound_at, :first_at),"
    " sla_warn_at = CASE WHEN status IN ('new', 'open') AND sla_due_at IS NOT NULL"
    "   THEN sla_warn_at ELSE :warn END,"
    " sla_clock = CASE WHEN status IN ('new', 'open') AND sla_due_at IS NOT NULL"
    "   THEN sla_clock ELSE :clock END,"
    " sla_state = CASE WHEN status IN ('new', 'open') AND sla_due_at IS NOT NULL"
    "   THEN sla_state ELSE 'ok' END,"
    " sla_due_at = CASE WHEN status IN ('new', 'open') AND sla_due_at IS NOT NULL"
    "   THEN sla_due_at ELSE :due END,"
    " last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < :last_at"
    "   THEN :last_at ELSE last_inbound_at END,"
    " preview = CASE WHEN last_message_at IS NULL OR last_message_at <= :last_at"
    "   THEN :preview ELSE preview END,"
    " last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < :last_at"
    "   THEN :last_at ELSE last_message_at END,"
    " account = COALESCE(account, :account), updated_at = :now"
    " WHERE id = :id"
)


def update_conversations(drv: Driver, rows: Iterable[Row], account: str | None = None) -> None:
    """Fold new messages into stored conversations (id, message count, first and last
    message time, SLA due, warning time, clock kind, preview, now). A conversation whose
    clock is running keeps it; one that was answered or closed starts the new clock. One
    that does not record its account yet (older, or ingested by hand) takes `account`."""
    params = [
        {"id": cid, "n": n, "first_at": drv.ts(first), "last_at": drv.ts(last),
         "due": drv.ts(due), "warn": drv.ts(warn) if warn else None, "clock": clock,
         "preview": drv.text(preview), "now": drv.ts(now), "account": account}
        for cid, n, first, last, due, warn, clock, preview, now in rows
    ]  # fmt: skip
    drv.executemany(_UPDATE, params)
