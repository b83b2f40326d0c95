"""The channel service's tables: the outbox, each channel's cursor and health, scheduled posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from frontdesk.core.models import VerbatimText, timestamp_type

OUTBOX_STATES = ("queued", "sending", "sent", "failed", "unknown")


class OutboxItem(SQLModel, table=True):
    """One reply to deliver, written in the same transaction as its message row.

    `state` moves queued → sending → sent, or to failed (safe to retry, with `next_attempt_at`)
    or unknown (the platform may have stored it: read back before any resend).
    """

    __table_args__ = (
        UniqueConstraint("message_id", name="uq_outbox_message"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id")
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    channel: str = Field(max_length=16)
    account: str | None = Field(default=None, max_length=64)
    """The sync account to send from: the conversation's. None: the channel's only account."""
    kind: str = Field(max_length=16)
    """public_reply or private_message."""
    in_reply_to: str | None = Field(default=None, max_length=255)
    """External id of the customer's message it answers (post, comment, Message-ID)."""
    recipient: str | None = Field(default=None, max_length=255)
    """For a private message: platform user id, page-scoped id or email address."""
    body: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    subject: str | None = Field(default=None, sa_column=Column(VerbatimText(), nullable=True))
    """Email: the reply's Subject ("Re: ..." of the message it answers)."""
    email_references: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Email: the reply's References header (the parent's chain plus the parent)."""
    state: str = Field(default="queued", max_length=8)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    external_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(sa_type=timestamp_type())
    updated_at: datetime = Field(sa_type=timestamp_type())


class ChannelState(SQLModel, table=True):
    """Where one configured account's polling stands, for `frontdesk status` and the header."""

    account: str = Field(primary_key=True, max_length=64)
    channel: str = Field(max_length=16)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    last_poll_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    rate_remaining: int | None = Field(default=None)
    rate_reset_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=timestamp_type())


class ScheduledPost(SQLModel, table=True):
    """A marketing post that sync publishes on time, unless the hold switch is on."""

    __table_args__ = (Index("ix_scheduled_due", "state", "publish_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64)
    body: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    publish_at: datetime = Field(sa_type=timestamp_type())
    state: str = Field(default="scheduled", max_length=12)
    external_id: str | None = Field(default=None, max_length=255)
    created_by: str = Field(max_length=64)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_type=timestamp_type())
