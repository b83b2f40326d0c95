"""Create and upgrade the schema with Alembic, and compare it with the models."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String
from sqlmodel import SQLModel

from frontdesk.core import (  # noqa: F401  (registers the tables on the metadata)
    models,
    models_broadcast,
    models_channels,
    models_listening,
    models_playbook,
    models_surveys,
)
from frontdesk.core.db import Database
from frontdesk.core.models import VerbatimText

SCRIPT_LOCATION = "frontdesk.core:migrations"


def alembic_config(db: Database) -> Config:
    """An Alembic configuration for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema to `revision`; returns the revision now in force."""
    config = alembic_config(db)
    # Connection failures become one-line DatabaseErrors naming the database, as in Database.
    with db.translate_errors(), db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return current_revision(db)


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.translate_errors(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    """The newest revision the installed code knows."""
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def compare_type(
    _context: Any, _inspected: Any, _metadata: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """Compare VerbatimText columns by the type they are stored as; None defers to Alembic."""
    if isinstance(metadata_type, VerbatimText):
        same_kind = isinstance(inspected_type, String)
        return not (same_kind and getattr(inspected_type, "length", None) == metadata_type.length)
    return None


def differences(db: Database) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty when equal)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": compare_type})
        return list(compare_metadata(context, SQLModel.metadata))
