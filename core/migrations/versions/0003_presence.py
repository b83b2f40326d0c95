"""Presence: who is viewing or typing in which conversation.

Revision: 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence",
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("operator"),
    )
    op.create_index(
        op.f("ix_presence_conversation_id"), "presence", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_presence_conversation_id"), table_name="presence")
    op.drop_table("presence")
