"""Listening: saved searches' state, their hourly volume, and mute rules.

Revision: 0008, after 0007.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listening_stream",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.String(length=255), nullable=True),
        sa.Column("last_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "stream_volume",
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("muted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stream", "hour"),
    )
    op.create_table(
        "stream_mute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stream", "kind", "value", name="uq_stream_mute"),
    )
    with op.batch_alter_table("stream_mute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stream_mute_stream"), ["stream"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stream_mute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stream_mute_stream"))
    op.drop_table("stream_mute")
    op.drop_table("stream_volume")
    op.drop_table("listening_stream")
