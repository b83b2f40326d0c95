"""Crisis mode: switched on and off by a supervisor as events; its state is the latest of them.

While it is on, every reply needs sign-off (`engagement.send_reply` asks `is_on`), scheduled
posts are held (the scheduled-post hold, taken in the same transaction as "crisis.on", so
sync's take-for-publishing statement sees it), new conversations with a crisis keyword go to
the crisis team (`crisis_intake`), and every workstation shows the banner and the holding
statement (it follows the change feed). Switching off releases the hold crisis mode took and
sends the conversations it routed back to the team routing gave them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, or_, text, update
from sqlalchemy.orm import Session as AnySession
from sqlmodel import Session, col, select

from frontdesk.core import events, scheduled
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput
from frontdesk.core.models import OPEN_STATUSES, Conversation, Operator
from frontdesk.core.operators import require_role
from frontdesk.core.playbook.crisis import CrisisConfig

ON, OFF, ALERT = "crisis.on", "crisis.off", "crisis.alert"
HOLD_PREFIX = "crisis mode: "
"""The scheduled-post hold crisis mode takes says this first, so "off" releases only its own."""
ROUTE_RULE = "crisis mode"
"""The triage entry of a conversation crisis mode routed; it keeps the team it would have had."""

# Conversation-less events are few (operators, scheduled posts, crisis), and the event
# table's conversation_id index holds them together: the latest is found without walking
# the message events, however long the log.
_LATEST = text(
    "SELECT id, at, actor, kind, payload FROM event"
    " WHERE conversation_id IS NULL AND kind IN (:a, :b) ORDER BY id DESC LIMIT 1"
).columns(at=DateTime(timezone=True), payload=JSON())


@dataclass(frozen=True, slots=True)
class CrisisState:
    """Whether crisis mode is on, since when, who switched it and why."""

    on: bool
    since: datetime | None = None
    by: str = ""
    reason: str = ""
    event_id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "on": self.on,
            "since": self.since.isoformat() if self.since else None,
            "by": self.by,
            "reason": self.reason,
            "event_id": self.event_id,
        }


def latest(session: AnySession, *kinds: str) -> Any:
    """The newest conversation-less event of `kinds` (one or two), or None."""
    a, b = (kinds + kinds)[:2]
    return session.connection().execute(_LATEST, {"a": a, "b": b}).first()


def state(session: AnySession) -> CrisisState:
    """Crisis mode as the latest "crisis.on" / "crisis.off" event says."""
    row = latest(session, ON, OFF)
    if row is None:
        return CrisisState(False)
    payload = row.payload or {}
    return CrisisState(
        row.kind == ON, as_utc(row.at), row.actor, str(payload.get("reason", "")), int(row.id)
    )


def is_on(session: AnySession) -> bool:
    return state(session).on


def switch_on(
    session: Session,
    *,
    operator: Operator,
    reason: str,
    now: datetime,
    config: CrisisConfig | None = None,
) -> CrisisState:
    """Switch crisis mode on (supervisors only) and hold scheduled posts; with the playbook's
    `config`, unclaimed open conversations whose latest text has a crisis keyword go to the
    crisis team now (new ones do as they come in: core/crisis_intake.py).

    Raises:
        PermissionDenied: not a supervisor.
        InvalidInput: no reason, or crisis mode is on already.
    """
    require_role(operator, "supervisor", action="switch crisis mode on")
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput("say why crisis mode goes on (--reason)")
    current = state(session)
    if current.on:
        raise InvalidInput(
            f"crisis mode is already on (since {_hhmm(current.since)}, by {current.by})"
        )
    held = scheduled.hold_state(session)
    took_hold = held is None
    if took_hold:
        scheduled.hold(session, by=operator.login, reason=HOLD_PREFIX + reason, now=now)
    routed = _route_in(session, config, now) if config is not None and config.team else 0
    payload = {"reason": reason, "hold": took_hold, "routed": routed}
    events.append(session, at=now, actor=operator.login, kind=ON, payload=payload)
    return CrisisState(True, now, operator.login, reason)


def switch_off(
    session: Session, *, operator: Operator, now: datetime, team: str | None = None
) -> dict[str, int]:
    """Switch crisis mode off (supervisors only): release the hold it took, send the
    conversations it routed to `team` (the crisis team) back. Returns what was restored.

    Raises:
        PermissionDenied: not a supervisor.
        InvalidInput: crisis mode is off.
    """
    require_role(operator, "supervisor", action="switch crisis mode off")
    if not state(session).on:
        raise InvalidInput("crisis mode is not on")
    held = scheduled.hold_state(session)
    released = held is not None and held.reason.startswith(HOLD_PREFIX)
    if released:
        scheduled.release(session, operator=operator, now=now)
    rerouted = _route_back(session, team, now) if team else 0
    payload = {"released_hold": released, "rerouted": rerouted}
    events.append(session, at=now, actor=operator.login, kind=OFF, payload=payload)
    return {"released_hold": int(released), "rerouted": rerouted}


def _route_in(session: Session, config: CrisisConfig, now: datetime) -> int:
    """Unclaimed open conversations whose preview (the latest message) has a keyword go to
    the crisis team, keeping the team they had in their triage entry for the way back."""
    matcher, team = config.matcher(), config.team
    if not matcher or team is None:
        return 0
    rows = session.exec(
        select(Conversation).where(
            col(Conversation.status).in_(OPEN_STATUSES),
            col(Conversation.claimed_by).is_(None),
            or_(col(Conversation.team).is_(None), col(Conversation.team) != team),
        )
    ).all()
    moved = 0
    for conv in rows:
        words = sorted({hit.phrase for hit in matcher.finditer(conv.preview)})
        if not words:
            continue
        said = ", ".join(f'"{w}"' for w in words)
        entry = {"rule": ROUTE_RULE, "weight": 0, "team": conv.team,
                 "why": f"crisis mode: keyword {said} goes to {team}"}  # fmt: skip
        tags = sorted({*conv.tags, "crisis"})
        was = conv.team  # read first: the UPDATE below refreshes the loaded object
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conv.id)
            .values(team=team, tags=tags, triage=[*conv.triage, entry], updated_at=now)
        )
        _rerouted(session, conv, was, team, now)
        moved += 1
    return moved


def _rerouted(
    session: Session, conv: Conversation, was: str | None, to: str | None, now: datetime
) -> None:
    events.append(
        session,
        at=now,
        actor="crisis",
        kind="conversation.rerouted",
        conversation_id=conv.id,
        payload={"from": was, "to": to},
    )


def _route_back(session: Session, team: str, now: datetime) -> int:
    """Open conversations crisis mode routed to `team` go to the team routing had given them."""
    rows = session.exec(
        select(Conversation).where(
            col(Conversation.status).in_(OPEN_STATUSES), col(Conversation.team) == team
        )
    ).all()
    moved = 0
    for conv in rows:
        entry = next((r for r in conv.triage if r.get("rule") == ROUTE_RULE), None)
        if entry is None:
            continue
        back = entry.get("team")
        reasons = [r for r in conv.triage if r is not entry]
        reasons.append({"rule": "crisis over", "weight": 0, "why": f"back to {back}"})
        was = conv.team
        session.execute(
            update(Conversation)
            .where(col(Conversation.id) == conv.id)
            .values(team=back, triage=reasons, updated_at=now)
        )
        _rerouted(session, conv, was, back, now)
        moved += 1
    return moved


def _hhmm(value: datetime | None) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M UTC") if value else "?"
