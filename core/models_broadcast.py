"""The proactive-care tables: resolution broadcasts with their copies, and ideas with requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from frontdesk.core.models import VerbatimText, timestamp_type

BROADCAST_STATES = ("running", "done")
# pending: not tried yet; queued / held: final (a reply row or an approval exists);
# skipped (held by someone else, closed) and blocked (tone) are tried again on a re-run.
COPY_STATES = ("pending", "queued", "held", "skipped", "blocked")
RETRYABLE_COPY_STATES = ("pending", "skipped", "blocked")
SENT_COPY_STATES = ("queued", "held")
SENT_PREDICATE = "state IN ('queued', 'held')"
"""A copy that reached its conversation (or waits for sign-off to): one per article each."""
IDEA_STATES = ("open", "done")


class Broadcast(SQLModel, table=True):
    """One resolution sent to a set of conversations: what, to whom, by whom, how far along.

    The targets are fixed when it starts (a copy row each), so a re-run after a crash
    answers exactly the rest, whatever the filter would match by then.
    """

    id: int | None = Field(default=None, primary_key=True)
    article: str = Field(max_length=255)
    selection: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    resolve: bool = Field(default=False)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=timestamp_type())
    state: str = Field(default="running", max_length=8)
    finished_at: datetime | None = Field(default=None, sa_type=timestamp_type())


class BroadcastCopy(SQLModel, table=True):
    """One conversation's copy of a broadcast, written in the transaction that queues it."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "conversation_id", name="uq_broadcast_copy"),
        Index("ix_broadcastcopy_state", "broadcast_id", "state"),
        # Two broadcasts of one article may both target a conversation; whichever copy
        # commits second is refused here, however the two transactions interleave.
        Index(
            "uq_broadcastcopy_article_sent",
            "article",
            "conversation_id",
            unique=True,
            sqlite_where=text(SENT_PREDICATE),
            postgresql_where=text(SENT_PREDICATE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    article: str = Field(max_length=255)
    """The broadcast's article, copied here so the index above can hold it."""
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    state: str = Field(default="pending", max_length=8)
    message_id: int | None = Field(default=None)
    approval_id: int | None = Field(default=None)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=timestamp_type())


class Idea(SQLModel, table=True):
    """An idea or request heard from customers; similar wordings share one row."""

    __table_args__ = (Index("ix_idea_state", "state", "department"),)

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    normalised: str = Field(sa_column=Column(Text, nullable=False))
    department: str = Field(max_length=64)
    why: str = Field(default="", sa_column=Column(Text, nullable=False))
    """How the department was chosen: the routing rule, or the operator."""
    state: str = Field(default="open", max_length=8)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=timestamp_type())
    done_by: str | None = Field(default=None, max_length=64)
    done_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    done_article: str | None = Field(default=None, max_length=255)
    broadcast_id: int | None = Field(default=None)


class IdeaRequest(SQLModel, table=True):
    """One customer asking for an idea (counted once per customer)."""

    __table_args__ = (UniqueConstraint("idea_id", "customer_id", name="uq_idea_customer"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    customer_id: int = Field(foreign_key="customer.id")
    conversation_id: int = Field(foreign_key="conversation.id")
    message_id: int | None = Field(default=None)
    channel: str = Field(max_length=16)
    text: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=timestamp_type())
