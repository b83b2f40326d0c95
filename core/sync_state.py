"""Each account's health as `frontdesk sync` records it: cursor, last poll, limits, last error."""

from __future__ import annotations

from datetime import datetime

from frontdesk.core.clock import as_utc
from frontdesk.core.connectors.base import Connector
from frontdesk.core.db import Database
from frontdesk.core.models_channels import ChannelState

ERROR_CHARS = 2000


def cursor(db: Database, account: str) -> str | None:
    """Where the account's last committed poll stopped (None: never polled)."""
    with db.read() as session:
        state = session.get(ChannelState, account)
        value = state.cursor.get("value") if state is not None else None
    return str(value) if value is not None else None


def save(
    db: Database,
    account: str,
    channel: str,
    connector: Connector,
    *,
    now: datetime,
    cursor: str | None = None,
    error: str | None = None,
    polled: bool = False,
) -> None:
    """Record the account's state for `frontdesk status` and the workstation's header.

    The cursor must only be given once the messages it moves past are committed: a crash
    after this write must not skip any of them.
    """
    remaining, reset = tightest(connector, now)
    with db.write() as session:
        state = session.get(ChannelState, account) or ChannelState(
            account=account, channel=channel, updated_at=now
        )
        if cursor is not None:
            state.cursor = {"value": cursor}
        if polled:
            state.last_poll_at = now
        if error is not None:
            state.last_error = error[:ERROR_CHARS]
        state.rate_remaining = remaining
        state.rate_reset_at = reset
        state.updated_at = now
        session.add(state)


def tightest(connector: Connector, now: datetime) -> tuple[int | None, datetime | None]:
    """The account's most constrained rate-limit window: a throttled endpoint first (none
    left until it lifts), else the one with the fewest calls left."""
    blocked = [
        as_utc(w.blocked_until)
        for w in connector.rate_limits.values()
        if w.blocked_until is not None and as_utc(w.blocked_until) > now
    ]
    if blocked:
        return 0, max(blocked)
    windows = [w for w in connector.rate_limits.values() if w.remaining is not None]
    if not windows:
        return None, None
    tight = min(windows, key=lambda w: w.remaining or 0)
    return tight.remaining, tight.reset_at
