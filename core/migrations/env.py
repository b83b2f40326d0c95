"""Alembic environment: runs on a connection handed in by frontdesk.core.schema."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from frontdesk.core import (  # noqa: F401  (registers the tables on the metadata)
    models,
    models_broadcast,
    models_channels,
    models_listening,
    models_playbook,
    models_surveys,
)
from frontdesk.core.schema import compare_type

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=compare_type,
)
with context.begin_transaction():
    context.run_migrations()
