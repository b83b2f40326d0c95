"""Satisfaction surveys, follow-up reminders and "you said, we did" changes.

Revision: 0010, after 0009.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
# As models_surveys' predicates (a migration never imports the models it migrates).
OPEN_SURVEY = "answered_at IS NULL"
PENDING_REMINDER = "state = 'pending'"


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("asked_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("question_message_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", _TS, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("answer_message_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_survey_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index("ix_survey_answered", ["answered_at"], unique=False)
        batch_op.create_index(
            "ix_survey_open",
            ["conversation_id"],
            unique=False,
            sqlite_where=sa.text(OPEN_SURVEY),
            postgresql_where=sa.text(OPEN_SURVEY),
        )

    op.create_table(
        "followupreminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("due_at", _TS, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("landed_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("followupreminder", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_followupreminder_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(
            "ix_followupreminder_pending",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text(PENDING_REMINDER),
            postgresql_where=sa.text(PENDING_REMINDER),
        )

    op.create_table(
        "feedbackchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("conversations", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("feedbackchange")
    op.drop_table("followupreminder")
    op.drop_table("survey")
