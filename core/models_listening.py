"""Listening's tables: each saved search's state, its hourly volume, and its mute rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from frontdesk.core.models import VerbatimText, timestamp_type

MUTE_KINDS = ("author", "phrase")


class ListeningStream(SQLModel, table=True):
    """One stream as sync last ran it: operators never read sync's config, so the query,
    the cursor and the health they see come from here."""

    __tablename__ = "listening_stream"

    name: str = Field(primary_key=True, max_length=64)
    account: str = Field(max_length=64)
    query: str = Field(sa_column=Column(Text, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cursor: str | None = Field(default=None, max_length=255)
    """The platform's position (X: the newest post id read); moved only after ingest commits."""
    last_poll_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_type=timestamp_type())


class StreamVolume(SQLModel, table=True):
    """How many posts a stream matched in one hour (by the post's time), and how many of
    them its mutes kept out. Written in the transaction that moves the stream's cursor, so
    a post re-read after a crash is never counted twice."""

    __tablename__ = "stream_volume"

    stream: str = Field(primary_key=True, max_length=64)
    hour: datetime = Field(primary_key=True, sa_type=timestamp_type())
    matched: int = Field(default=0)
    muted: int = Field(default=0)


class StreamMute(SQLModel, table=True):
    """A rule keeping a stream's noisy matches out of the queue: an author or a phrase."""

    __tablename__ = "stream_mute"
    __table_args__ = (UniqueConstraint("stream", "kind", "value", name="uq_stream_mute"),)

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=8)
    """author (a handle or platform id) or phrase (words in the text)."""
    value: str = Field(sa_column=Column(VerbatimText(255), nullable=False))
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=timestamp_type())
