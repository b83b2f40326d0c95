"""The tables: operators, customers, conversations, messages and the append-only event log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import String, TypeDecorator
from sqlmodel import Field, SQLModel

# The enumerations are plain strings checked by core, so a later issue can add a
# status or role with a migration of data only, never of a database enum type.
ROLES = ("operator", "gatekeeper", "supervisor")
CHANNELS = ("x", "facebook", "email")
VISIBILITIES = ("public", "private")
STATUSES = ("new", "open", "waiting", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "waiting")
WORKABLE_STATUSES = ("new", "open")
DIRECTIONS = ("inbound", "outbound", "note")

# Rows that claim_next may hand out without a lease to break: the partial index keeps
# the search for the most urgent one O(log n) however many are already claimed.
READY_PREDICATE = "claimed_by IS NULL AND status IN ('new', 'open')"
CLAIMED_PREDICATE = "claimed_by IS NOT NULL"
# The live queue: its index holds open rows only, so closed conversations piling up never
# lengthen a walk through it. A query reaches it only by spelling this predicate exactly
# (core/queue.py renders the open statuses in this order, as literals).
OPEN_PREDICATE = "status IN ('new', 'open', 'waiting')"


def timestamp_type() -> Any:
    """A timezone-aware timestamp column type (shared by every table module)."""
    return DateTime(timezone=True)


_ESCAPED = "\ufdd0"  # a Unicode noncharacter: marks a value stored in escaped form


class VerbatimText(TypeDecorator[str]):
    """Text stored exactly as received on every backend.

    PostgreSQL text cannot hold NUL, which hostile customer text may contain. On
    PostgreSQL a value with a NUL (or one that happens to start with the marker) is stored
    as the marker plus its JSON encoding and decoded on the way out; everything else, and
    everything on SQLite, is stored unchanged, so SQL over ordinary text keeps working.
    """

    impl = Text
    cache_ok = True

    def __init__(self, length: int | None = None) -> None:
        super().__init__()
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(String(self.length) if self.length else Text())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or dialect.name != "postgresql":
            return value
        if "\x00" in value or value.startswith(_ESCAPED):
            return _ESCAPED + json.dumps(value)
        return value

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is not None and dialect.name == "postgresql" and value.startswith(_ESCAPED):
            decoded: str = json.loads(value[len(_ESCAPED) :])
            return decoded
        return value


class Operator(SQLModel, table=True):
    """A person who works the queue; `login` is their Unix login name."""

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=128)
    role: str = Field(default="operator", max_length=16)
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    away: bool = Field(default=False)
    created_at: datetime = Field(sa_type=timestamp_type())


class Customer(SQLModel, table=True):
    """One identity of a customer on one channel."""

    __table_args__ = (UniqueConstraint("channel", "platform_user_id", name="uq_customer_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=255)
    handle: str = Field(default="", sa_column=Column(VerbatimText(255), nullable=False))
    display_name: str = Field(default="", sa_column=Column(VerbatimText(255), nullable=False))
    followers: int | None = Field(default=None, sa_type=BigInteger)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    person_id: int | None = Field(default=None, index=True)
    """Identities of one person share this (the id of one of them), so history spans channels."""
    created_at: datetime = Field(sa_type=timestamp_type())


class Conversation(SQLModel, table=True):
    """A thread with one customer on one channel: the unit that is claimed and answered.

    The claim lives on the row itself (`claimed_by`, `claim_token`, `claim_expires_at`), so
    "at most one live claim per conversation" is structural: there is one column to hold it.
    """

    __table_args__ = (
        UniqueConstraint("channel", "thread_key", name="uq_conversation_thread"),
        Index(
            "ix_conversation_ready",
            "sla_due_at",
            sqlite_where=text(READY_PREDICATE),
            postgresql_where=text(READY_PREDICATE),
        ),
        Index(
            "ix_conversation_lease",
            "claim_expires_at",
            sqlite_where=text(CLAIMED_PREDICATE),
            postgresql_where=text(CLAIMED_PREDICATE),
        ),
        Index("ix_conversation_status_due", "status", "sla_due_at"),
        # Keyed exactly as core/queue.py orders the queue (no due time last), so any window
        # of it is read in order, never sorted.
        Index(
            "ix_conversation_urgency",
            text("(sla_due_at IS NULL)"),
            "sla_due_at",
            text("priority DESC"),
            "first_inbound_at",
            "id",
            sqlite_where=text(OPEN_PREDICATE),
            postgresql_where=text(OPEN_PREDICATE),
        ),
        # The length of a channel's view (x, facebook, email) is counted on every refresh.
        Index("ix_conversation_channel_status", "channel", "status"),
        Index("ix_conversation_holder", "claimed_by"),
        Index("ix_conversation_sla_watch", "sla_state", "sla_warn_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    visibility: str = Field(default="public", max_length=8)
    thread_key: str = Field(max_length=255)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default="new", max_length=16)
    priority: int = Field(default=0)
    category: str | None = Field(default=None, max_length=32)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    team: str | None = Field(default=None, max_length=64)
    account: str | None = Field(default=None, max_length=64)
    """The sync account (its name in sync's config) the conversation came in on; replies
    leave by it. None: not brought in by sync (or before accounts were recorded)."""
    claimed_by: str | None = Field(default=None, max_length=64)
    claim_token: int = Field(default=0, sa_type=BigInteger)
    claim_expires_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    first_inbound_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    last_inbound_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    last_message_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    sla_due_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    sla_warn_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    """When the clock's warning lead starts (a share of the target left, in running time)."""
    sla_clock: str | None = Field(default=None, max_length=8)
    """Which clock `sla_due_at` belongs to: "first" or "next" response (None: no clock runs)."""
    sla_state: str = Field(default="ok", max_length=8)
    """ok, warned or breached: each is recorded once per clock, as an event."""
    triage: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    """Why the playbook set category, tags, priority and team: one entry per rule that fired."""
    linked_id: int | None = Field(default=None)
    """The other half of a public conversation moved to a private one (both ways)."""
    follow_up: str | None = Field(default=None, max_length=8)
    """"due" while a public follow-up must still be posted after its private half resolved."""
    awaiting_signoff: bool = Field(default=False)
    first_response_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    resolved_at: datetime | None = Field(default=None, sa_type=timestamp_type())
    version: int = Field(default=0)
    message_count: int = Field(default=0)
    preview: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    created_at: datetime = Field(sa_type=timestamp_type())
    updated_at: datetime = Field(sa_type=timestamp_type())


class Message(SQLModel, table=True):
    """One message of a conversation; `body` is stored exactly as received."""

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_external"),
        Index("ix_message_conversation", "conversation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id")
    channel: str = Field(max_length=16)
    direction: str = Field(max_length=8)
    author: str = Field(default="", sa_column=Column(VerbatimText(255), nullable=False))
    body: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    external_id: str | None = Field(default=None, max_length=255)
    in_reply_to: str | None = Field(default=None, max_length=255)
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    subject: str | None = Field(default=None, sa_column=Column(VerbatimText(), nullable=True))
    """Email: the Subject, as received or as sent."""
    email_references: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """Email: the References header's Message-IDs, space-separated, as received or as sent."""
    created_at: datetime = Field(sa_type=timestamp_type())
    recorded_at: datetime = Field(sa_type=timestamp_type())


class Event(SQLModel, table=True):
    """The append-only audit log and change feed; `id` grows with commit order."""

    __table_args__ = ({"sqlite_autoincrement": True},)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=timestamp_type())
    actor: str = Field(max_length=64)
    kind: str = Field(max_length=48)
    conversation_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Proposal(SQLModel, table=True):
    """A proposed new article or edit, waiting for a gatekeeper.

    `base_digest` is the SHA-256 of the file the author edited (None for a new file), so
    approval can refuse to overwrite a change made since.
    """

    __table_args__ = (Index("ix_proposal_status", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    author: str = Field(max_length=64)
    target_path: str = Field(max_length=512)
    base_digest: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_column=Column(VerbatimText(), nullable=False))
    note: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    status: str = Field(default="pending", max_length=16)
    reviewer: str | None = Field(default=None, max_length=64)
    review_note: str = Field(default="", sa_column=Column(VerbatimText(), nullable=False))
    created_at: datetime = Field(sa_type=timestamp_type())
    reviewed_at: datetime | None = Field(default=None, sa_type=timestamp_type())


class Presence(SQLModel, table=True):
    """Who is looking at (or typing in) which conversation, until `expires_at`.

    One row per operator: an operator views one conversation at a time. Rows are
    overwritten by heartbeats and simply ignored once expired.
    """

    operator: str = Field(primary_key=True, max_length=64)
    conversation_id: int | None = Field(default=None, index=True)
    state: str = Field(default="viewing", max_length=8)
    expires_at: datetime = Field(sa_type=timestamp_type())
