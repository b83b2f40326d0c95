"""The care-after-resolution tables: satisfaction surveys, follow-up reminders, you-said-we-did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from frontdesk.core.models import VerbatimText, timestamp_type

SURVEY_KINDS = ("csat", "nps")
OPEN_SURVEY_PREDICATE = "answered_at IS NULL"
"""A survey still waiting for its answer (whether its window is still open is a time test)."""
PENDING_REMINDER_PREDICATE = "state = 'pending'"
REMINDER_STATES = ("pending", "landed", "dropped")


class Survey(SQLModel, table=True):
    """One satisfaction question asked after a resolution, and its answer once given."""

    __table_args__ = (
        # Ingest looks up the open surveys of a batch's conversations: a small partial index.
        Index(
            "ix_survey_open",
            "conversation_id",
            sqlite_where=text(OPEN_SURVEY_PREDICATE),
            postgresql_where=text(OPEN_SURVEY_PREDICATE),
        ),
        Index("ix_survey_answered", "answered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    kind: str = Field(max_length=8)
    """csat (1-5) or nps (0-10)."""
    channel: str = Field(max_length=16)
    category: str | None = Field(default=None, max_length=32)
    asked_at: datetime = Field(sa_type=timestamp_type())
    expires_at: datetime = Field(sa_type=timestamp_type())
    """Replies after this are ordinary messages, never answers."""
    question_message_id: int | None = Field(default=None)
    answered_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    score: int | None = Field(default=None)
    comment: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    answer_message_id: int | None = Field(default=None)


class FollowUpReminder(SQLModel, table=True):
    """A "make sure they are satisfied" task that lands on the queue when it comes due."""

    __table_args__ = (
        Index(
            "ix_followupreminder_pending",
            "due_at",
            sqlite_where=text(PENDING_REMINDER_PREDICATE),
            postgresql_where=text(PENDING_REMINDER_PREDICATE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    due_at: datetime = Field(sa_type=timestamp_type())
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(default="pending", max_length=8)
    created_at: datetime = Field(sa_type=timestamp_type())
    landed_at: datetime | None = Field(default=None, sa_type=timestamp_type())


class FeedbackChange(SQLModel, table=True):
    """ "You said, we did": a change made because of what customers told us."""

    id: int | None = Field(default=None, primary_key=True)
    summary: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    conversations: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=timestamp_type())
