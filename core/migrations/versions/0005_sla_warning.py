"""The SLA clock's warning time, kept like its due time so a sweep finds what to warn about.

Revision: 0005, after 0004.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (see 0004): no copy of the conversation table.
    op.add_column("conversation", sa.Column("sla_warn_at", sa.DateTime(timezone=True)))
    op.create_index("ix_conversation_sla_watch", "conversation", ["sla_state", "sla_warn_at"])


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_sla_watch")
        batch_op.drop_column("sla_warn_at")
