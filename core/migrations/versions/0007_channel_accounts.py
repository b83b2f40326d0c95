"""Which sync account a conversation came in on (and its replies leave by), and email threading.

Revision: 0007, after 0006.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Until now sync refused two enabled accounts on one queue channel, so where the database
# knows a single account of a channel, that account brought in the channel's conversations
# and sent their replies. Recording it keeps those replies going once a second one is added.
_SOLE_ACCOUNT = (
    "UPDATE {table} SET account = (SELECT MIN(s.account) FROM channelstate s"
    " WHERE s.channel = {table}.channel)"
    " WHERE account IS NULL"
    " AND (SELECT COUNT(*) FROM channelstate s WHERE s.channel = {table}.channel) = 1"
)


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN (see 0004): no copy of the referenced tables.
    op.add_column("conversation", sa.Column("account", sa.String(length=64), nullable=True))
    op.add_column("message", sa.Column("subject", sa.Text(), nullable=True))
    op.add_column("message", sa.Column("email_references", sa.Text(), nullable=True))
    op.add_column("outboxitem", sa.Column("account", sa.String(length=64), nullable=True))
    op.add_column("outboxitem", sa.Column("subject", sa.Text(), nullable=True))
    op.add_column("outboxitem", sa.Column("email_references", sa.Text(), nullable=True))
    for table in ("conversation", "outboxitem"):
        op.execute(sa.text(_SOLE_ACCOUNT.format(table=table)))


def downgrade() -> None:
    with op.batch_alter_table("outboxitem", schema=None) as batch_op:
        batch_op.drop_column("email_references")
        batch_op.drop_column("subject")
        batch_op.drop_column("account")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("email_references")
        batch_op.drop_column("subject")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_column("account")
