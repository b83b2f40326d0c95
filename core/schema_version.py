"""Which schema revision a database is at, read without importing Alembic (start-up path)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import text

from frontdesk.core.db import Database

VERSIONS = Path(__file__).parent / "migrations" / "versions"
# Revisions are numbered and each file is named after its revision ("0005_sla_warning.py"),
# so the newest file is the head; tests/test_schema.py holds this to Alembic's own answer.
_NUMBERED = re.compile(r"^(\d{4})_\w+\.py$")


def head_revision() -> str | None:
    """The newest revision the installed code knows."""
    numbers = [m.group(1) for p in VERSIONS.iterdir() if (m := _NUMBERED.match(p.name))]
    return max(numbers) if numbers else None


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when it was never initialised."""
    with db.read() as session:
        conn = session.connection()
        if not conn.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
