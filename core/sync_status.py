"""How the channel service stands: per account polling, limits and errors, and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from frontdesk.core import outbox
from frontdesk.core.clock import as_utc
from frontdesk.core.models_channels import ChannelState

STALE_AFTER = timedelta(minutes=10)
"""An account not polled for this long is reported as stalled (is `frontdesk sync` running?)."""


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """One account's row of `frontdesk status`."""

    account: str
    channel: str
    last_poll_at: datetime | None
    cursor: str | None
    rate_remaining: int | None
    rate_reset_at: datetime | None
    last_error: str

    def as_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "channel": self.channel,
            "last_poll_at": _iso(self.last_poll_at),
            "cursor": self.cursor,
            "rate_remaining": self.rate_remaining,
            "rate_reset_at": _iso(self.rate_reset_at),
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """Every account, and the outbox's depth."""

    accounts: list[AccountStatus]
    outbox: outbox.Depth

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts": [a.as_json() for a in self.accounts],
            "outbox": {
                "queued": self.outbox.queued,
                "sending": self.outbox.sending,
                "failed": self.outbox.failed,
                "unknown": self.outbox.unknown,
            },
        }


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def service_status(session: Session) -> ServiceStatus:
    """Read what `frontdesk sync` last recorded."""
    rows = session.exec(select(ChannelState).order_by(col(ChannelState.account))).all()
    accounts = [
        AccountStatus(
            row.account,
            row.channel,
            as_utc(row.last_poll_at) if row.last_poll_at else None,
            row.cursor.get("value"),
            row.rate_remaining,
            as_utc(row.rate_reset_at) if row.rate_reset_at else None,
            row.last_error,
        )
        for row in rows
    ]
    return ServiceStatus(accounts, outbox.depth(session))


def headline(status: ServiceStatus, now: datetime) -> str:
    """One line for the workstation's header: only what needs attention, else "channels ok"."""
    notes: list[str] = []
    for account in status.accounts:
        reset = account.rate_reset_at
        if reset is not None and account.rate_remaining == 0 and reset > now:
            notes.append(f"{account.account} rate-limited until {reset.strftime('%H:%M')}")
        elif account.last_error:
            notes.append(f"{account.account}: {account.last_error[:60]}")
        elif account.last_poll_at is None:
            notes.append(f"{account.account} never polled")
        elif now - account.last_poll_at > STALE_AFTER:
            notes.append(f"{account.account} not polled for {_ago(account.last_poll_at, now)}")
    stuck = status.outbox.failed + status.outbox.unknown
    if stuck:
        notes.append(f"{stuck} repl{'ies' if stuck > 1 else 'y'} not sent")
    if not status.accounts and not stuck:
        return ""
    return "; ".join(notes) if notes else "channels ok"


def _ago(then: datetime, now: datetime) -> str:
    minutes = int((now - then).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
