"""Indexes for the live queue: its urgency order (a window is read, not sorted), channel counts.

Revision: 0006, after 0005.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out rather than imported: a migration keeps the schema of its day.
OPEN_PREDICATE = "status IN ('new', 'open', 'waiting')"


def upgrade() -> None:
    # Plain CREATE INDEX (see 0004): no copy of the conversation table.
    op.create_index(
        "ix_conversation_urgency",
        "conversation",
        [
            sa.text("(sla_due_at IS NULL)"),
            "sla_due_at",
            sa.text("priority DESC"),
            "first_inbound_at",
            "id",
        ],
        sqlite_where=sa.text(OPEN_PREDICATE),
        postgresql_where=sa.text(OPEN_PREDICATE),
    )
    op.create_index("ix_conversation_channel_status", "conversation", ["channel", "status"])


def downgrade() -> None:
    op.drop_index("ix_conversation_channel_status", table_name="conversation")
    op.drop_index("ix_conversation_urgency", table_name="conversation")
