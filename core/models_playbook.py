"""The playbook's tables: replies waiting for sign-off, and escalations to key contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from frontdesk.core.models import VerbatimText, timestamp_type

APPROVAL_STATUSES = ("pending", "approved", "rejected")


class Approval(SQLModel, table=True):
    """A reply that a sign-off rule held back until an approver decides; nothing is sent before."""

    __table_args__ = (Index("ix_approval_status", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    author: str = Field(max_length=64)
    body: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    seen_version: int = Field(default=0)
    status: str = Field(default="pending", max_length=16)
    reviewer: str | None = Field(default=None, max_length=64)
    review_note: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    message_id: int | None = Field(default=None)
    """The reply it became once approved."""
    created_at: datetime = Field(sa_type=timestamp_type())
    reviewed_at: datetime | None = Field(default=None, sa_type=timestamp_type())


class Escalation(SQLModel, table=True):
    """Who escalated a conversation, why, and to which department and contact."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    by: str = Field(max_length=64)
    department: str = Field(max_length=64)
    contact: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    created_at: datetime = Field(sa_type=timestamp_type())
