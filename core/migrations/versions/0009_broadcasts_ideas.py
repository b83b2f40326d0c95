"""Resolution broadcasts (one copy row per conversation) and ideas with their requests.

Revision: 0009, after 0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
# As models_broadcast.SENT_PREDICATE (a migration never imports the models it migrates).
SENT = "state IN ('queued', 'held')"


def upgrade() -> None:
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article", sa.String(length=255), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("resolve", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("finished_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "broadcastcopy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("article", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["broadcast_id"], ["broadcast.id"]),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "conversation_id", name="uq_broadcast_copy"),
    )
    with op.batch_alter_table("broadcastcopy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcastcopy_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index("ix_broadcastcopy_state", ["broadcast_id", "state"], unique=False)
        batch_op.create_index(
            "uq_broadcastcopy_article_sent",
            ["article", "conversation_id"],
            unique=True,
            sqlite_where=sa.text(SENT),
            postgresql_where=sa.text(SENT),
        )

    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("normalised", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", _TS, nullable=True),
        sa.Column("done_article", sa.String(length=255), nullable=True),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.create_index("ix_idea_state", ["state", "department"], unique=False)

    op.create_table(
        "idearequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["idea_id"], ["idea.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idea_id", "customer_id", name="uq_idea_customer"),
    )
    with op.batch_alter_table("idearequest", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idearequest_idea_id"), ["idea_id"], unique=False)


def downgrade() -> None:
    op.drop_table("idearequest")
    op.drop_table("idea")
    op.drop_table("broadcastcopy")
    op.drop_table("broadcast")
