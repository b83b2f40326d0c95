"""Claims: the one place where concurrency-sensitive SQL lives, and why each statement is safe.

A claim is a lease held on the conversation row itself: `claimed_by` names the holder,
`claim_token` is a fencing token that grows with every claim, and `claim_expires_at` is when
the lease lapses unless a heartbeat renews it. Every statement here decides and writes in one
conditional UPDATE, so two operators can never both win:

* On SQLite the write transaction began with BEGIN IMMEDIATE, so only one writer runs at a
  time and the WHERE clause sees the latest committed row.
* On PostgreSQL (READ COMMITTED) an UPDATE that finds its row changed by a concurrent
  commit re-evaluates its WHERE clause on the new row version, so the condition is checked
  against what is really there; claim_next picks its row FOR UPDATE SKIP LOCKED so that
  competing operators take different rows instead of queueing on the same one.

Expiry is judged against the `now` the caller passes (one host, one clock, and tests inject
it), never against a clock read separately from the decision.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from frontdesk.core import events
from frontdesk.core.clock import as_utc
from frontdesk.core.db import DriverStatement, connection_of
from frontdesk.core.errors import ClaimConflict, InvalidInput, NotFound, StaleVersion
from frontdesk.core.models import Conversation, VerbatimText

# The one urgency order: earliest SLA due, then highest priority, then oldest, then id so
# the order is total. The playbook issue refines *which* rows qualify, not this order.
URGENCY = "sla_due_at NULLS LAST, priority DESC, first_inbound_at, id"
_COLS = "id, sla_due_at, priority, first_inbound_at"
_READY = "claimed_by IS NULL AND status IN ('new', 'open')"
_LAPSED = "claimed_by IS NOT NULL AND claim_expires_at <= :now AND status IN ('new', 'open')"
# Which teams' conversations the caller may take: `:teams` is ",care,billing," (NULL: any).
# A string keeps the statement one cached text however many teams there are; a
# conversation no rule routed counts as the default team's.
_TEAMS = (
    "(CAST(:teams AS TEXT) IS NULL"
    " OR instr(CAST(:teams AS TEXT), ',' || COALESCE(team, :default_team) || ',') > 0)"
)
_TEAMS_PG = (
    "(CAST(:teams AS TEXT) IS NULL"
    " OR strpos(CAST(:teams AS TEXT), ',' || COALESCE(team, :default_team) || ',') > 0)"
)
# Spreading abusive conversations (core/staff.py decides when): with `:avoid` set to a LIKE
# pattern for the "abusive" tag, a row carrying it qualifies only once it is due; the caller
# runs the plain statement next when this one finds nothing ("only abusive ones are left").
# Each attempt is still one conditional UPDATE that picks and takes its row, so spreading
# adds a second race-free attempt, never a gap between choosing and taking.
_SPREAD = (
    "(CAST(:avoid AS TEXT) IS NULL OR CAST(tags AS TEXT) NOT LIKE CAST(:avoid AS TEXT)"
    " OR sla_due_at <= :now)"
)
_TAKE = (
    "claimed_by = :operator, claim_token = claim_token + 1, claim_expires_at = :expires, "
    "status = CASE WHEN status = 'new' THEN 'open' ELSE status END, updated_at = :now"
)
_RETURNING = "RETURNING id, claim_token, claim_expires_at"


def _stmt(sql: str, **extra: Any) -> Any:
    types: dict[str, Any] = {
        "now": DateTime(timezone=True),
        "expires": DateTime(timezone=True),
        "operator": String,
        "id": Integer,
        "token": BigInteger,
    }
    types.update(extra)
    names = [name for name in types if f":{name}" in sql]
    stmt = text(sql).bindparams(*(bindparam(n, type_=types[n]) for n in names))
    if "RETURNING" in sql and "claim_expires_at" in sql.rpartition("RETURNING")[2]:
        # Typed result columns, so SQLite's stored text comes back as a datetime.
        return stmt.columns(claim_expires_at=DateTime(timezone=True))
    return stmt


# The two arms use the partial indexes ix_conversation_ready and ix_conversation_lease,
# so finding the most urgent row costs the same with 10 or 100,000 already claimed.
# SQLite must be told so (INDEXED BY): without statistics its planner prefers the equality
# on ix_conversation_holder (claimed_by IS NULL) and ix_conversation_status_due (status IN)
# and then sorts every workable row, about 10 ms per claim at 20,000 conversations instead
# of 0.02 ms (bench/claim.py). The rows chosen are the same; only the index walked differs.
_CLAIM_NEXT_SQLITE = DriverStatement(
    f"UPDATE conversation SET {_TAKE} WHERE id = ("
    f" SELECT id FROM ("
    f"  SELECT * FROM (SELECT {_COLS} FROM conversation INDEXED BY ix_conversation_ready"
    f"   WHERE {_READY} AND {_TEAMS} AND {_SPREAD} ORDER BY {URGENCY} LIMIT 1)"
    f"  UNION ALL"
    f"  SELECT * FROM (SELECT {_COLS} FROM conversation INDEXED BY ix_conversation_lease"
    f"   WHERE {_LAPSED} AND {_TEAMS} AND {_SPREAD} ORDER BY {URGENCY} LIMIT 1)"
    f" ) ORDER BY {URGENCY} LIMIT 1"
    f") RETURNING id, claim_token, team"
)
# SKIP LOCKED lets each competing operator lock a different candidate; the outer UPDATE
# re-asserts the predicate because a row may have been claimed between snapshot and lock.
_CLAIM_NEXT_PG = DriverStatement(
    f"WITH ready AS (SELECT {_COLS} FROM conversation WHERE {_READY} AND {_TEAMS_PG} AND {_SPREAD}"
    f"   ORDER BY {URGENCY} LIMIT 1 FOR UPDATE SKIP LOCKED),"
    f" lapsed AS (SELECT {_COLS} FROM conversation WHERE {_LAPSED} AND {_TEAMS_PG} AND {_SPREAD}"
    f"   ORDER BY {URGENCY} LIMIT 1 FOR UPDATE SKIP LOCKED),"
    f" pick AS (SELECT id FROM (SELECT * FROM ready UNION ALL SELECT * FROM lapsed) c"
    f"   ORDER BY {URGENCY} LIMIT 1)"
    f" UPDATE conversation SET {_TAKE} FROM pick WHERE conversation.id = pick.id"
    f" AND (claimed_by IS NULL OR claim_expires_at <= :now) AND status IN ('new', 'open')"
    f" RETURNING conversation.id, claim_token, conversation.team"
)
# A conversation is free to claim when nobody holds it, its lease lapsed, or the caller
# already holds it (then the claim is a renewal and keeps its token).
_CLAIM_ONE = _stmt(
    "UPDATE conversation SET claimed_by = :operator,"
    " claim_token = CASE WHEN claimed_by = :operator AND claim_expires_at > :now"
    "   THEN claim_token ELSE claim_token + 1 END,"
    " claim_expires_at = :expires,"
    " status = CASE WHEN status = 'new' THEN 'open' ELSE status END, updated_at = :now"
    " WHERE id = :id AND status IN ('new', 'open', 'waiting')"
    " AND (claimed_by IS NULL OR claimed_by = :operator OR claim_expires_at <= :now)"
    f" {_RETURNING}"
)
_HEARTBEAT = _stmt(
    "UPDATE conversation SET claim_expires_at = :expires"
    " WHERE id = :id AND claimed_by = :operator AND claim_token = :token"
    " AND claim_expires_at > :now RETURNING claim_expires_at"
)
_RELEASE = _stmt(
    "UPDATE conversation SET claimed_by = NULL, claim_expires_at = NULL, updated_at = :now"
    " WHERE id = :id AND claimed_by = :operator RETURNING id"
)
_REASSIGN = _stmt(
    "UPDATE conversation SET claimed_by = :target, claim_token = claim_token + 1,"
    " claim_expires_at = :expires, updated_at = :now,"
    " status = CASE WHEN status = 'new' THEN 'open' ELSE status END"
    " WHERE id = :id AND status IN ('new', 'open', 'waiting') RETURNING id, claim_token",
    target=String,
)
# A broadcast copy's claim: as _CLAIM_ONE, but a resolved conversation may be taken too (a
# "you said, we did" reaches customers whose talk was closed), never a closed one.
_CLAIM_FOR_BROADCAST = _stmt(
    "UPDATE conversation SET claimed_by = :operator,"
    " claim_token = CASE WHEN claimed_by = :operator AND claim_expires_at > :now"
    "   THEN claim_token ELSE claim_token + 1 END,"
    " claim_expires_at = :expires, updated_at = :now"
    " WHERE id = :id AND status IN ('new', 'open', 'waiting', 'resolved')"
    " AND (claimed_by IS NULL OR claimed_by = :operator OR claim_expires_at <= :now)"
    f" {_RETURNING}"
)
# Resolving needs no claim when nobody holds the conversation, but never overrides a live
# holder, nor drops a public follow-up still due off the queue, unless a supervisor forces
# it; `seen` < 0 skips the version check (scripts). The follow-up is tested in the same
# conditional UPDATE, so one that comes due meanwhile (its private half resolved) is seen.
_RESOLVE = _stmt(
    "UPDATE conversation SET status = 'resolved', resolved_at = :now, sla_due_at = NULL,"
    " claimed_by = NULL, claim_expires_at = NULL, updated_at = :now"
    " WHERE id = :id AND status IN ('new', 'open', 'waiting')"
    " AND (claimed_by IS NULL OR claimed_by = :operator OR claim_expires_at <= :now OR :force)"
    " AND (follow_up IS NULL OR follow_up <> 'due' OR :force)"
    " AND (:seen < 0 OR version = :seen) RETURNING id",
    seen=Integer,
    force=Boolean,
)
# The fence for every customer-visible write: the sender must hold a live claim and must
# have seen the latest version. Checked and bumped in one statement so nothing can slip in.
FENCE = "claimed_by = :operator AND claim_expires_at > :now AND version = :seen"
_HOLDER = _stmt(
    "SELECT claimed_by, claim_expires_at, claim_token, version, status, follow_up"
    " FROM conversation WHERE id = :id"
).columns(claim_expires_at=DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class Claim:
    """A lease on one conversation."""

    conversation_id: int
    operator: str
    token: int
    expires_at: datetime
    reason: str | None = None
    """Why claim_next handed out another team's conversation (its overflow), else None."""


def live_holder(conversation: Conversation, now: datetime) -> str | None:
    """Who holds a live claim on `conversation` at `now` (a lapsed lease holds nothing)."""
    expires = conversation.claim_expires_at
    if conversation.claimed_by is None or expires is None or as_utc(expires) <= now:
        return None
    return conversation.claimed_by


def claim_next(
    session: Session | Connection,
    *,
    operator: str,
    now: datetime,
    lease: timedelta,
    teams: Collection[str] | None = None,
    default_team: str = "care",
    avoid_abusive: bool = False,
    reasons: Mapping[str, str] | None = None,
) -> Claim | None:
    """Claim the most urgent workable conversation of `teams` (None: of any team), or
    return None when there is none; `avoid_abusive` passes over abusive ones not yet due.
    `reasons` says why a team's conversations are offered (overflow); the claim and its
    event carry the one of the team it took from. `session` may be a bare Connection: the
    desk claims without a Session, which is most of the cost of a claim otherwise."""
    conn = connection_of(session)
    stmt = _CLAIM_NEXT_PG if conn.dialect.name == "postgresql" else _CLAIM_NEXT_SQLITE
    expires = now + lease
    params = {
        "operator": operator,
        "now": now,
        "expires": expires,
        "teams": None if teams is None else "," + ",".join(teams) + ",",
        "default_team": default_team,
        "avoid": '%"abusive"%' if avoid_abusive else None,
    }
    row = stmt.run(conn, params).fetchone()
    if row is None:
        return None
    conversation_id, token, team = row
    reason = (reasons or {}).get(team or default_team)
    claim = Claim(conversation_id, operator, token, as_utc(expires), reason)
    # Only an overflow claim says why: the usual claim's event stays as small as it was.
    extra = {"next": True} if reason is None else {"next": True, "reason": reason}
    _record(session, claim, now, "claim.taken", extra)
    return claim


def claim(
    session: Session, *, conversation_id: int, operator: str, now: datetime, lease: timedelta
) -> Claim:
    """Claim one conversation (or renew the caller's own claim on it).

    Raises:
        NotFound: no such conversation.
        ClaimConflict: someone else holds a live claim, or the conversation is closed.
    """
    params = {"id": conversation_id, "operator": operator, "now": now, "expires": now + lease}
    row = session.connection().execute(_CLAIM_ONE, params).first()
    if row is None:
        holder = _holder(session, conversation_id)
        if holder.status not in ("new", "open", "waiting"):
            raise ClaimConflict(f"conversation {conversation_id} is {holder.status}")
        raise ClaimConflict(
            f"conversation {conversation_id} is held by {holder.claimed_by} until "
            f"{_hhmm(holder.claim_expires_at)}"
        )
    result = Claim(row.id, operator, row.claim_token, as_utc(row.claim_expires_at))
    _record(session, result, now, "claim.taken", {"next": False})
    return result


def claim_for_broadcast(
    session: Session, *, conversation_id: int, operator: str, now: datetime, lease: timedelta
) -> tuple[Claim, bool]:
    """Claim one conversation for a broadcast copy; returns the claim and whether the caller
    already held it (then the caller keeps it afterwards).

    Race-free as `claim`: the free-or-mine test and the take are one conditional UPDATE, so
    a copy is never answered over a live holder; the caller sends the copy in the same
    transaction, behind the usual fence, while this claim is its own.

    Raises:
        NotFound: no such conversation.
        ClaimConflict: someone else holds a live claim, or the conversation is closed.
    """
    before = _holder(session, conversation_id)
    expires = before.claim_expires_at
    had = before.claimed_by == operator and expires is not None and as_utc(expires) > now
    params = {"id": conversation_id, "operator": operator, "now": now, "expires": now + lease}
    row = session.connection().execute(_CLAIM_FOR_BROADCAST, params).first()
    if row is None:
        holder = _holder(session, conversation_id)
        if holder.status not in ("new", "open", "waiting", "resolved"):
            raise ClaimConflict(f"conversation {conversation_id} is {holder.status}")
        raise ClaimConflict(
            f"conversation {conversation_id} is held by {holder.claimed_by} until "
            f"{_hhmm(holder.claim_expires_at)}"
        )
    result = Claim(row.id, operator, row.claim_token, as_utc(row.claim_expires_at))
    _record(session, result, now, "claim.taken", {"next": False, "broadcast": True})
    return result, had


def heartbeat(session: Session, *, claim: Claim, now: datetime, lease: timedelta) -> Claim:
    """Extend a live claim; lease renewals are not logged as events (they change no state
    anyone acts on, and a team's heartbeats would drown the log).

    Raises:
        ClaimConflict: the claim lapsed or was taken over; the caller must say so at once.
    """
    params = {
        "id": claim.conversation_id,
        "operator": claim.operator,
        "token": claim.token,
        "now": now,
        "expires": now + lease,
    }
    row = session.connection().execute(_HEARTBEAT, params).first()
    if row is None:
        raise lost_claim(session, claim.conversation_id, claim.operator, now)
    return Claim(claim.conversation_id, claim.operator, claim.token, as_utc(row.claim_expires_at))


def release(session: Session, *, conversation_id: int, operator: str, now: datetime) -> None:
    """Give a conversation back to the queue.

    Raises:
        ClaimConflict: the caller does not hold it.
    """
    params = {"id": conversation_id, "operator": operator, "now": now}
    if session.connection().execute(_RELEASE, params).first() is None:
        raise lost_claim(session, conversation_id, operator, now)
    events.append(
        session, at=now, actor=operator, kind="claim.released", conversation_id=conversation_id
    )


def reassign(
    session: Session,
    *,
    conversation_id: int,
    target: str,
    actor: str,
    now: datetime,
    lease: timedelta,
) -> Claim:
    """Hand a conversation to another operator (a supervisor's action; the caller checks)."""
    params = {"id": conversation_id, "target": target, "now": now, "expires": now + lease}
    row = session.connection().execute(_REASSIGN, params).first()
    if row is None:
        holder = _holder(session, conversation_id)
        raise ClaimConflict(f"conversation {conversation_id} is {holder.status}")
    events.append(
        session,
        at=now,
        actor=actor,
        kind="claim.reassigned",
        conversation_id=conversation_id,
        payload={"to": target, "token": row.claim_token},
    )
    return Claim(conversation_id, target, row.claim_token, now + lease)


def fenced_update(
    session: Session,
    *,
    conversation_id: int,
    operator: str,
    seen_version: int,
    now: datetime,
    assignments: str,
    params: dict[str, Any],
) -> Any:
    """Apply `assignments` only if the operator holds a live claim and saw the latest version.

    Returns the row's new `version` and its `channel`.

    Raises:
        ClaimConflict: the operator does not hold a live claim.
        StaleVersion: the conversation changed since `seen_version`.
    """
    stmt = _fenced_stmt(assignments)
    bound = {"id": conversation_id, "operator": operator, "now": now, "seen": seen_version}
    row = session.connection().execute(stmt, {**params, **bound}).first()
    if row is not None:
        return row
    holder = _holder(session, conversation_id)
    if holder.claimed_by != operator or as_utc(holder.claim_expires_at) <= now:
        raise lost_claim(session, conversation_id, operator, now)
    raise StaleVersion(
        f"conversation {conversation_id} changed since you read it "
        f"(version {seen_version}, now {holder.version})"
    )


def resolve(
    session: Session,
    *,
    conversation_id: int,
    operator: str,
    now: datetime,
    seen_version: int = -1,
    force: bool = False,
) -> None:
    """Mark a conversation resolved and free its claim.

    Raises:
        ClaimConflict: someone else holds it (and `force` is off).
        StaleVersion: a message arrived since `seen_version`.
        InvalidInput: its public follow-up is due and not posted yet (and `force` is off).
    """
    params = {
        "id": conversation_id,
        "operator": operator,
        "now": now,
        "seen": seen_version,
        "force": force,
    }
    if session.connection().execute(_RESOLVE, params).first() is not None:
        events.append(
            session,
            at=now,
            actor=operator,
            kind="conversation.resolved",
            conversation_id=conversation_id,
        )
        return
    holder = _holder(session, conversation_id)
    if holder.status not in ("new", "open", "waiting"):
        raise ClaimConflict(f"conversation {conversation_id} is already {holder.status}")
    if seen_version >= 0 and holder.version != seen_version:
        raise StaleVersion(
            f"conversation {conversation_id} changed since you read it "
            f"(version {seen_version}, now {holder.version})"
        )
    if holder.follow_up == "due" and not force:
        raise InvalidInput(
            f"post the public follow-up on conversation {conversation_id} first:"
            " resolving it now would drop the task unposted"
        )
    raise lost_claim(session, conversation_id, operator, now)


_FENCED_CACHE: dict[str, Any] = {}


def _fenced_stmt(assignments: str) -> Any:
    stmt = _FENCED_CACHE.get(assignments)
    if stmt is None:
        stmt = _stmt(
            f"UPDATE conversation SET {assignments}, version = version + 1"
            f" WHERE id = :id AND {FENCE} RETURNING version, channel",
            seen=Integer,
            preview=VerbatimText(),
        )
        _FENCED_CACHE[assignments] = stmt
    return stmt


def lost_claim(
    session: Session, conversation_id: int, operator: str, now: datetime
) -> ClaimConflict:
    """Explain why `operator` does not hold `conversation_id` right now."""
    holder = _holder(session, conversation_id)
    if holder.claimed_by is None:
        return ClaimConflict(f"you do not hold conversation {conversation_id}; claim it first")
    expires = as_utc(holder.claim_expires_at)
    if holder.claimed_by == operator and expires > now:
        return ClaimConflict(
            f"your claim on conversation {conversation_id} was renewed in another session "
            f"(token {holder.claim_token}); work on it there, or claim it again here"
        )
    if holder.claimed_by == operator:
        return ClaimConflict(
            f"your claim on conversation {conversation_id} lapsed at {_hhmm(expires)}; "
            "claim it again"
        )
    live = "until" if expires > now else "(lapsed) since"
    return ClaimConflict(
        f"conversation {conversation_id} is held by {holder.claimed_by} {live} {_hhmm(expires)}"
    )


def _holder(session: Session, conversation_id: int) -> Any:
    row = session.connection().execute(_HOLDER, {"id": conversation_id}).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return row


def _record(
    session: Session | Connection, claim: Claim, now: datetime, kind: str, extra: dict[str, Any]
) -> None:
    events.append(
        session,
        at=now,
        actor=claim.operator,
        kind=kind,
        conversation_id=claim.conversation_id,
        payload={"token": claim.token, "expires_at": claim.expires_at.isoformat(), **extra},
    )


def _hhmm(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"
