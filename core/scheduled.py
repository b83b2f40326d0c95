"""Scheduled posts: the list, the hold switch that stops them all, and their states.

A post moves scheduled → publishing → published, or to failed (refused for good), or to
unknown (the platform may have it: read back before any retry); a scheduled or failed post
may be cancelled. The hold switch is a row of
the same table in state "hold", so taking a post for publishing can check it in the same
statement: a hold committed before that statement stops the post, whatever sync is doing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text, update
from sqlmodel import Session, col, select

from frontdesk.core import events
from frontdesk.core.clock import as_utc
from frontdesk.core.errors import InvalidInput, NotFound
from frontdesk.core.models import Operator
from frontdesk.core.models_channels import ChannelState, ScheduledPost
from frontdesk.core.operators import require_role
from frontdesk.kb.lint import x_length

HOLD = "hold"
WAITING = ("scheduled", "unknown")
"""States sync still has to act on (unknown: read back, then publish if absent)."""
OPEN = ("scheduled", "publishing", "unknown", "failed")
CANCELLABLE = ("scheduled", "failed")
PUBLISH_LIMITS = {"x": 280, "facebook": 63_206}
"""Channels whose connectors can publish a post that answers nobody (`Capabilities.posts`),
with their longest post: checked here, where the operator is, not only when it is due."""
PAST_GRACE = timedelta(minutes=5)

_TAKE = text(
    "UPDATE scheduledpost SET state = :new WHERE id = :id AND state = :expected"
    " AND NOT EXISTS (SELECT 1 FROM scheduledpost h WHERE h.state = 'hold')"
)


@dataclass(frozen=True, slots=True)
class Hold:
    """Who turned the hold on, when, and why."""

    by: str
    since: datetime
    reason: str


def schedule(
    session: Session, *, account: str, body: str, publish_at: datetime, by: str, now: datetime
) -> ScheduledPost:
    """Add a post for `account` (as named in sync's config) to publish at `publish_at`.

    Raises:
        InvalidInput: empty or too long, in the past, or an account sync has not polled.
    """
    if not body.strip():
        raise InvalidInput("the post is empty")
    if as_utc(publish_at) < now - PAST_GRACE:
        raise InvalidInput(f"{as_utc(publish_at):%Y-%m-%d %H:%M} UTC is in the past")
    state = session.get(ChannelState, account)
    if state is None:
        known = session.exec(select(ChannelState.account).order_by(ChannelState.account)).all()
        raise InvalidInput(
            f"frontdesk sync has never polled an account named {account!r}"
            f" (known: {', '.join(known) or 'none yet; is sync running?'})"
        )
    limit = PUBLISH_LIMITS.get(state.channel)
    if limit is None:
        raise InvalidInput(
            f"{account} is on {state.channel}; scheduled posts can only be published on"
            f" {' and '.join(PUBLISH_LIMITS)} accounts"
        )
    if state.channel == "x":
        if x_length(body) > limit:
            raise InvalidInput(
                f"the post is {x_length(body)} characters as X counts them; max {limit}"
            )
    elif len(body) > limit:
        raise InvalidInput(f"the post is {len(body)} characters; {state.channel} takes {limit}")
    post = ScheduledPost(
        account=account,
        body=body,
        publish_at=as_utc(publish_at),
        created_by=by,
        created_at=now,
    )
    session.add(post)
    session.flush()
    _event(session, post, "scheduled.added", now, by, publish_at=as_utc(publish_at).isoformat())
    return post


def posts(session: Session, *, everything: bool = False, limit: int = 200) -> list[ScheduledPost]:
    """Posts by publishing time: those still open, or (`everything`) published and
    cancelled ones too."""
    states = (*OPEN, "published", "cancelled") if everything else OPEN
    query = select(ScheduledPost).where(col(ScheduledPost.state).in_(states))
    order = (col(ScheduledPost.publish_at), col(ScheduledPost.id))
    return list(session.exec(query.order_by(*order).limit(limit)))


def hold_state(session: Session) -> Hold | None:
    """The hold in force, or None."""
    row = session.exec(
        select(ScheduledPost).where(ScheduledPost.state == HOLD).order_by(col(ScheduledPost.id))
    ).first()
    if row is None:
        return None
    return Hold(by=row.created_by, since=as_utc(row.created_at), reason=row.body)


def hold(session: Session, *, by: str, reason: str, now: datetime) -> Hold:
    """Stop every scheduled post from going out until released (any operator may: it is
    the safe direction). Holding again keeps the first hold."""
    current = hold_state(session)
    if current is not None:
        return current
    session.add(
        ScheduledPost(
            account="*",
            body=reason,
            publish_at=now,
            state=HOLD,
            created_by=by,
            created_at=now,
        )
    )
    events.append(session, at=now, actor=by, kind="scheduled.hold", payload={"reason": reason})
    return Hold(by=by, since=now, reason=reason)


def release(session: Session, *, operator: Operator, now: datetime) -> Hold | None:
    """Let scheduled posts go again; returns the hold released (None: there was none).

    Raises:
        PermissionDenied: only a supervisor may release a hold.
    """
    require_role(operator, "supervisor", action="release the hold on scheduled posts")
    current = hold_state(session)
    if current is None:
        return None
    session.execute(delete(ScheduledPost).where(col(ScheduledPost.state) == HOLD))
    events.append(
        session,
        at=now,
        actor=operator.login,
        kind="scheduled.release",
        payload={"held_by": current.by, "since": current.since.isoformat()},
    )
    return current


def cancel(session: Session, post_id: int, *, by: str, now: datetime) -> ScheduledPost:
    """Take a post off the list: one still waiting for its time, or one that failed.

    Raises:
        NotFound: no such post.
        InvalidInput: it is published, or being published or read back (it may be live).
    """
    post = session.get(ScheduledPost, post_id)
    if post is None or post.state == HOLD:
        raise NotFound(f"scheduled post {post_id} does not exist")
    done = session.execute(
        update(ScheduledPost)
        .where(col(ScheduledPost.id) == post_id, col(ScheduledPost.state).in_(CANCELLABLE))
        .values(state="cancelled")
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise InvalidInput(
            f"scheduled post {post_id} is {post.state}; only a scheduled or failed post can be"
            " cancelled"
        )
    session.refresh(post)
    _event(session, post, "scheduled.cancelled", now, by)
    return post


def due(session: Session, *, account: str, now: datetime) -> list[ScheduledPost]:
    """The account's posts whose time has come and that sync has yet to settle."""
    return list(
        session.exec(
            select(ScheduledPost)
            .where(
                col(ScheduledPost.state).in_(WAITING),
                col(ScheduledPost.publish_at) <= now,
                ScheduledPost.account == account,
            )
            .order_by(col(ScheduledPost.publish_at), col(ScheduledPost.id))
        )
    )


def take(session: Session, post_id: int, *, expected: str, new: str) -> bool:
    """Move a post from `expected` to `new` unless the hold is on or someone moved it first."""
    result = session.execute(_TAKE, {"id": post_id, "expected": expected, "new": new})
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark(
    session: Session,
    post: ScheduledPost,
    state: str,
    *,
    now: datetime,
    error: str = "",
    external_id: str | None = None,
) -> None:
    """Record an outcome: published (with the platform's id), failed, unknown, or scheduled
    again (a safe failure, retried on the next pass)."""
    assert post.id is not None
    values: dict[str, object] = {"state": state, "last_error": error}
    if external_id is not None:
        values["external_id"] = external_id
    session.execute(update(ScheduledPost).where(col(ScheduledPost.id) == post.id).values(values))
    payload: dict[str, object] = {"error": error} if error else {"external_id": external_id}
    kind = "scheduled.retry" if state == "scheduled" else f"scheduled.{state}"
    _event(session, post, kind, now, "sync", **payload)


def recover_interrupted(session: Session, *, now: datetime) -> int:
    """Posts left "publishing" by a stopped sync become unknown: read back, never resent
    blindly. Returns how many."""
    result = session.execute(
        update(ScheduledPost)
        .where(col(ScheduledPost.state) == "publishing")
        .values(state="unknown", last_error="sync stopped while publishing")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def status_of(post: ScheduledPost, hold: Hold | None) -> str:
    """The state to show: a post the hold is keeping back says "held"."""
    return "held" if hold is not None and post.state in WAITING else post.state


def _event(
    session: Session, post: ScheduledPost, kind: str, now: datetime, actor: str, **extra: object
) -> None:
    payload = {"scheduled_post": post.id, "account": post.account, **extra}
    events.append(session, at=now, actor=actor, kind=kind, payload=payload)
