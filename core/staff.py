"""Staff care: away, break reminders after a stretch of continuous handling, and abusive
conversations flagged by an operator and spread across the team by claim_next."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import JSON, DateTime, Integer, bindparam, text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.clock import as_utc
from frontdesk.core.crisis_intake import ABUSIVE, set_tags
from frontdesk.core.db import DriverStatement, connection_of
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Conversation, Operator
from frontdesk.core.playbook.crisis import StaffConfig

RECENT_EVENTS = 50_000
"""How far back (in events) the log is read for one operator's recent activity: a bounded
walk along the primary key instead of a scan of the whole log (there is no index by actor).
A team writing more than this in one break stretch would see the stretch cut short."""
LAST_CLAIM_EVENTS = 10_000
"""How far back claim_next looks for the operator's previous claim: one older than this
many events is no longer "in a row" (and the walk stays a few milliseconds at worst)."""

_LAST_CLAIM_TAGS = (
    text(
        "SELECT tags FROM conversation WHERE id = ("
        " SELECT conversation_id FROM event WHERE kind = 'claim.taken' AND actor = :op"
        " AND id > (SELECT COALESCE(MAX(id), 0) FROM event) - :span ORDER BY id DESC LIMIT 1)"
    )
    .bindparams(bindparam("span", type_=Integer))
    .columns(tags=JSON())
)
# Asked inside every claim_next, so straight through the driver (see DriverStatement).
_AWAY = DriverStatement("SELECT away FROM operator WHERE login = :login")
_ACTIVITY = (
    text(
        "SELECT at FROM event WHERE actor = :op AND at >= :since"
        " AND id > (SELECT COALESCE(MAX(id), 0) FROM event) - :span ORDER BY id"
    )
    .bindparams(bindparam("since", type_=DateTime(timezone=True)), bindparam("span", type_=Integer))
    .columns(at=DateTime(timezone=True))
)


class Away(InvalidInput):
    """The operator is marked away and asked for work."""

    title = "away"


def is_away(session: Session | Connection, login: str) -> bool:
    row = _AWAY.run(connection_of(session), {"login": login}).fetchone()
    return bool(row and row[0])


def set_away(session: Session, *, login: str, away: bool, now: datetime) -> bool:
    """Mark the operator away (or back); returns whether anything changed. While away the
    operator counts as unavailable for routing (their teams overflow) and claim_next refuses."""
    done = session.execute(
        update(Operator)
        .where(col(Operator.login) == login, col(Operator.away) != away)
        .values(away=away)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        if session.exec(select(Operator.id).where(Operator.login == login)).first() is None:
            raise NotFound(f"no operator {login!r}")
        return False
    kind = "operator.away" if away else "operator.back"
    events.append(session, at=now, actor=login, kind=kind)
    return True


def require_present(session: Session | Connection, login: str) -> None:
    """Raises Away while the operator is marked away."""
    if is_away(session, login):
        raise Away(f"{login} is marked away; set yourself back (`frontdesk away off`) to take work")


def flag_abusive(
    session: Session, *, conversation_id: int, by: str, on: bool, now: datetime
) -> Conversation:
    """Tag (or untag) a conversation abusive by an operator's judgement.

    Raises:
        NotFound: no such conversation.
        InvalidInput: it already is (or is not) flagged.
    """
    conv = session.get(Conversation, conversation_id)
    if conv is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    if (ABUSIVE in conv.tags) == on:
        raise InvalidInput(
            f"conversation {conversation_id} is {'already' if on else 'not'} flagged abusive"
        )
    tags = [*conv.tags, ABUSIVE] if on else [t for t in conv.tags if t != ABUSIVE]
    why = f"{by} {'flagged' if on else 'unflagged'} it abusive"
    set_tags(session, conv, tags, {"rule": "abusive" if on else "override", "why": why}, now)
    events.append(
        session,
        at=now,
        actor=by,
        kind="conversation.flagged",
        conversation_id=conversation_id,
        payload={"tag": ABUSIVE, "on": on, "by": by},
    )
    session.refresh(conv)
    return conv


def last_claim_abusive(session: Session | Connection, login: str) -> bool:
    """Whether the conversation the operator claimed last is tagged abusive."""
    params = {"op": login, "span": LAST_CLAIM_EVENTS}
    row = connection_of(session).execute(_LAST_CLAIM_TAGS, params)
    tags = row.scalar()
    return isinstance(tags, list) and ABUSIVE in tags


@dataclass(frozen=True, slots=True)
class BreakStatus:
    """How long the operator has been handling without a break, and whether to remind."""

    working_since: datetime | None
    minutes: int
    due: bool


def stretch_start(times: Sequence[datetime], *, now: datetime, gap: timedelta) -> datetime | None:
    """The start of the unbroken run of activity that reaches `now` (no two neighbours, nor
    the last and `now`, `gap` or more apart); None when the operator is already resting."""
    if not times or now - times[-1] >= gap:
        return None
    start = times[-1]
    for earlier in reversed(times[:-1]):
        if start - earlier >= gap:
            break
        start = earlier
    return start


def break_status(session: Session, login: str, config: StaffConfig, now: datetime) -> BreakStatus:
    """The operator's current stretch of handling, read from their events (`now` injected)."""
    if config.break_after_minutes <= 0 or is_away(session, login):
        return BreakStatus(None, 0, False)
    after = timedelta(minutes=config.break_after_minutes)
    gap = timedelta(minutes=config.break_gap_minutes)
    since = now - after - gap * 4 - timedelta(hours=4)
    params = {"op": login, "since": since, "span": RECENT_EVENTS}
    times = [as_utc(r.at) for r in session.connection().execute(_ACTIVITY, params)]
    start = stretch_start(sorted(times), now=now, gap=gap)
    if start is None:
        return BreakStatus(None, 0, False)
    worked = now - start
    return BreakStatus(start, int(worked.total_seconds() // 60), worked >= after)
